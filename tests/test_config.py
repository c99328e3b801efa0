"""Settings: defaults, NAME_FILE secrets, and one clear line for every bad value."""

import pytest

from followup import config
from followup.errors import ConfigError


def test_defaults_use_sqlite_and_console_channels():
    settings = config.load({})
    assert settings.database_url == "sqlite:///followup.db"
    assert (settings.sms_backend, settings.email_backend) == ("console", "console")
    assert settings.sms_max_per_second == 1.0
    assert settings.public_url == "http://127.0.0.1:8000"


SID = "AC" + "0123456789abcdef" * 2  # the shape of a real Account SID
SERVICE_SID = "MG" + "fedcba9876543210" * 2


def test_twilio_is_chosen_when_an_account_sid_is_set():
    settings = config.load(
        {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+16175550100"}
    )
    assert settings.sms_backend == "twilio"


def test_a_short_fake_sid_is_accepted_only_against_a_fake_twilio_api():
    fake = {"TWILIO_ACCOUNT_SID": "ACfake", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+16175550100"}
    assert (
        config.load({**fake, "TWILIO_API_BASE_URL": "http://127.0.0.1:8099"}).twilio_account_sid == "ACfake"
    )
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits"):
        config.load(fake)  # against api.twilio.com it could only fail at the first send
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID must be AC followed by letters or digits"):
        config.load({**fake, "TWILIO_ACCOUNT_SID": "xyz", "TWILIO_API_BASE_URL": "http://127.0.0.1:8099"})


def test_the_sender_may_be_an_e164_number_or_a_short_code():
    base = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t"}
    assert config.load({**base, "TWILIO_FROM_NUMBER": "+447700900123"}).twilio_from_number == "+447700900123"
    assert config.load({**base, "TWILIO_FROM_NUMBER": "89361"}).twilio_from_number == "89361"


def test_the_bounds_themselves_are_accepted():
    settings = config.load({"FOLLOWUP_SMS_MAX_PER_SECOND": "0.01", "FOLLOWUP_LEASE_SECONDS": "10"})
    assert (settings.sms_max_per_second, settings.lease_seconds) == (0.01, 10)
    settings = config.load({"FOLLOWUP_SMS_MAX_PER_SECOND": "100000", "FOLLOWUP_LEASE_SECONDS": "3600"})
    assert (settings.sms_max_per_second, settings.lease_seconds) == (100000, 3600)


def test_a_named_sender_address_is_accepted():
    settings = config.load(
        {"FOLLOWUP_SMTP_HOST": "mail", "FOLLOWUP_EMAIL_FROM": "Elm Street Physio <clinic@elm.example>"}
    )
    assert settings.email_from == "Elm Street Physio <clinic@elm.example>"


def test_a_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    settings = config.load(
        {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN_FILE": str(secret),
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        }
    )
    assert settings.twilio_auth_token == "s3cret"
    assert "s3cret" not in repr(settings)


def test_smtp_starttls_defaults_on_when_a_username_is_set():
    base = {"FOLLOWUP_SMTP_HOST": "mail", "FOLLOWUP_EMAIL_FROM": "a@b.c"}
    assert config.load(base).smtp_starttls is False
    assert config.load({**base, "FOLLOWUP_SMTP_USERNAME": "u"}).smtp_starttls is True


def test_plain_postgresql_urls_get_the_psycopg_driver():
    assert (
        config.load({"FOLLOWUP_DATABASE_URL": "postgresql://u@h/db"}).database_url
        == "postgresql+psycopg://u@h/db"
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({"FOLLOWUP_SMS_BACKEND": "pigeon"}, "FOLLOWUP_SMS_BACKEND must be one of twilio, console"),
        ({"FOLLOWUP_SMS_BACKEND": "twilio"}, "needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
        (
            {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t"},
            "needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID",
        ),
        (
            {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_MESSAGING_SERVICE_SID": "MG1"},
            "TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hex digits",
        ),
        ({"FOLLOWUP_SMS_MAX_PER_SECOND": "fast"}, "FOLLOWUP_SMS_MAX_PER_SECOND must be a number"),
        ({"FOLLOWUP_SMS_MAX_PER_SECOND": "0"}, "must be at least 0.01"),
        ({"FOLLOWUP_SMTP_HOST": "mail"}, "needs FOLLOWUP_EMAIL_FROM"),
        (
            {"FOLLOWUP_SMTP_HOST": "m", "FOLLOWUP_EMAIL_FROM": "a@b.c", "FOLLOWUP_SMTP_PORT": "99999"},
            "FOLLOWUP_SMTP_PORT",
        ),
        (
            {"FOLLOWUP_SMTP_HOST": "m", "FOLLOWUP_EMAIL_FROM": "a@b.c", "FOLLOWUP_SMTP_STARTTLS": "maybe"},
            "FOLLOWUP_SMTP_STARTTLS",
        ),
        ({"FOLLOWUP_PUBLIC_URL": "example.org"}, "FOLLOWUP_PUBLIC_URL must be an absolute"),
        (
            {"FOLLOWUP_PUBLIC_URL": "https://followup.example:443x"},
            "FOLLOWUP_PUBLIC_URL: the port must be a number",
        ),
        ({"TWILIO_API_BASE_URL": "http://127.0.0.1:99999"}, "TWILIO_API_BASE_URL: the port must be a number"),
        ({"FOLLOWUP_NOW": "2026-12-01 14:00"}, "needs an offset"),
        ({"FOLLOWUP_DATABASE_URL": "mysql://x"}, "FOLLOWUP_DATABASE_URL must be"),
        ({"TWILIO_AUTH_TOKEN_FILE": "/nonexistent/token"}, "TWILIO_AUTH_TOKEN_FILE: cannot read"),
    ],
)
def test_a_bad_setting_is_one_clear_error(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        config.load(env)


def test_the_cli_reports_a_bad_setting_as_one_line_with_exit_2(followup_sqlite):
    result = followup_sqlite("patients", expect=2, env={"FOLLOWUP_SMS_MAX_PER_SECOND": "lots"})
    assert result.stderr.strip().count("\n") == 0
    assert "FOLLOWUP_SMS_MAX_PER_SECOND" in result.stderr
    assert "Traceback" not in result.stderr


CLINIC = [
    "clinic",
    "add",
    "--name",
    "Elm",
    "--phone",
    "+1 617 555 0100",
    "--timezone",
    "America/New_York",
    "--alert-email",
    "alerts@elm.test",
]
TWILIO = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+16175550100"}


@pytest.mark.parametrize(
    "env, setting",
    [
        (
            {"FOLLOWUP_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:five432/followup"},
            "FOLLOWUP_DATABASE_URL",
        ),
        (
            {"FOLLOWUP_DATABASE_URL": "postgresql://postgres@127.0.0.1:70000/followup"},
            "FOLLOWUP_DATABASE_URL",
        ),
        ({"FOLLOWUP_SMS_MAX_PER_SECOND": "nan"}, "FOLLOWUP_SMS_MAX_PER_SECOND"),
        ({"FOLLOWUP_SMS_MAX_PER_SECOND": "inf"}, "FOLLOWUP_SMS_MAX_PER_SECOND"),
        ({"FOLLOWUP_SMS_MAX_PER_SECOND": "1e-9"}, "FOLLOWUP_SMS_MAX_PER_SECOND"),
        ({"FOLLOWUP_SMS_MAX_PER_SECOND": "1e9"}, "FOLLOWUP_SMS_MAX_PER_SECOND"),
        ({"FOLLOWUP_LEASE_SECONDS": "nan"}, "FOLLOWUP_LEASE_SECONDS"),
        ({"FOLLOWUP_LEASE_SECONDS": "inf"}, "FOLLOWUP_LEASE_SECONDS"),
        ({"FOLLOWUP_LEASE_SECONDS": "0.001"}, "FOLLOWUP_LEASE_SECONDS"),
        ({"FOLLOWUP_LEASE_SECONDS": "9.9"}, "FOLLOWUP_LEASE_SECONDS"),
        ({**TWILIO, "TWILIO_ACCOUNT_SID": "xyz"}, "TWILIO_ACCOUNT_SID"),
        ({**TWILIO, "TWILIO_FROM_NUMBER": "hello"}, "TWILIO_FROM_NUMBER"),
        ({"FOLLOWUP_SMTP_HOST": "mail", "FOLLOWUP_EMAIL_FROM": "clinic at elm"}, "FOLLOWUP_EMAIL_FROM"),
        (
            {"FOLLOWUP_SMTP_HOST": "mail", "FOLLOWUP_EMAIL_FROM": "clinic@elm.example\nBcc: x@y.z"},
            "FOLLOWUP_EMAIL_FROM",
        ),
        ({"FOLLOWUP_PUBLIC_URL": "https://followup.example:https"}, "FOLLOWUP_PUBLIC_URL"),
    ],
)
def test_each_bad_setting_through_the_cli_is_one_line_exit_2_and_changes_nothing(
    followup_sqlite, env, setting
):
    result = followup_sqlite(*CLINIC, expect=2, env=env)  # a traceback would be raised here, and fail
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {setting}"), result.stderr
    assert result.stdout == ""
    assert followup_sqlite.json("clinic", "list") == []  # nothing was added


def test_a_missing_sqlite_directory_is_one_line_exit_2(tmp_path):
    from conftest import Followup

    result = Followup(f"sqlite:///{tmp_path / 'nowhere' / 'followup.db'}")(*CLINIC, expect=2)
    assert (
        result.stderr
        == f"error: FOLLOWUP_DATABASE_URL: the directory {tmp_path / 'nowhere'} does not exist\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_database_file_that_does_not_exist_is_exit_2_and_not_created(tmp_path):
    from conftest import Followup

    result = Followup(f"sqlite:///{tmp_path / 'new.db'}")("patients", expect=2)
    assert result.stderr.count("\n") == 1 and "run `followup db upgrade`" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_commands_on_a_database_that_was_never_migrated_say_how_to_fix_it_with_exit_2(tmp_path):
    import sqlite3

    from conftest import Followup

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    result = Followup(f"sqlite:///{path}")(*CLINIC, expect=2)
    assert result.stderr.count("\n") == 1 and "run `followup db upgrade`" in result.stderr
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]
    conn.close()


def _start(args: list[str], env: dict, timeout: float = 30):
    """`followup ARGS` in its own process; a service that starts instead of refusing is stopped and fails."""
    import os
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", "from followup.cli import main; main()", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"followup {' '.join(args)} was still running after {timeout} s: {err[-500:]}")
    return proc.returncode, out, err


def test_serve_with_a_spool_it_cannot_write_refuses_to_start(sqlite_url, tmp_path):
    from pg import free_port

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    spool = blocker / "spool"
    code, out, err = _start(
        ["serve", "--port", str(free_port())],
        {"FOLLOWUP_DATABASE_URL": sqlite_url, "FOLLOWUP_SPOOL_DIR": str(spool)},
    )
    assert code == 2
    assert (
        err == f"error: FOLLOWUP_SPOOL_DIR: cannot write to {spool}: Not a directory "
        "(set it to a writable directory, or to off)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["followup.db", "not-a-directory"]


def test_serve_with_a_read_only_spool_directory_refuses_to_start(sqlite_url, read_only_dir):
    from pg import free_port

    code, _out, err = _start(
        ["serve", "--port", str(free_port())],
        {"FOLLOWUP_DATABASE_URL": sqlite_url, "FOLLOWUP_SPOOL_DIR": str(read_only_dir)},
    )
    assert code == 2 and err.startswith(f"error: FOLLOWUP_SPOOL_DIR: cannot write to {read_only_dir}: ")
    assert err.count("\n") == 1
    assert list(read_only_dir.iterdir()) == []


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"], ["patients"]])
def test_a_postgresql_database_that_does_not_exist_is_a_setting_to_fix_not_an_outage(pg_cluster, command):
    import psycopg

    if command[0] == "serve":
        from pg import free_port

        command = ["serve", "--port", str(free_port())]
    code, _out, err = _start(command, {"FOLLOWUP_DATABASE_URL": pg_cluster.url("no_such_db")})
    assert code == 2
    assert err == 'error: FOLLOWUP_DATABASE_URL: database "no_such_db" does not exist\n'
    with psycopg.connect(pg_cluster.url().replace("+psycopg", "")) as conn:  # nothing was created
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'no_such_db'").fetchone() == (
            0,
        )
