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


def test_twilio_is_chosen_when_an_account_sid_is_set():
    settings = config.load({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+1"})
    assert settings.sms_backend == "twilio"


def test_a_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    settings = config.load({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN_FILE": str(secret),
                            "TWILIO_MESSAGING_SERVICE_SID": "MG1"})
    assert settings.twilio_auth_token == "s3cret"
    assert "s3cret" not in repr(settings)


def test_smtp_starttls_defaults_on_when_a_username_is_set():
    base = {"FOLLOWUP_SMTP_HOST": "mail", "FOLLOWUP_EMAIL_FROM": "a@b.c"}
    assert config.load(base).smtp_starttls is False
    assert config.load({**base, "FOLLOWUP_SMTP_USERNAME": "u"}).smtp_starttls is True


def test_plain_postgresql_urls_get_the_psycopg_driver():
    assert config.load({"FOLLOWUP_DATABASE_URL": "postgresql://u@h/db"}).database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("env, message", [
    ({"FOLLOWUP_SMS_BACKEND": "pigeon"}, "FOLLOWUP_SMS_BACKEND must be one of twilio, console"),
    ({"FOLLOWUP_SMS_BACKEND": "twilio"}, "needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
    ({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, "needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"),
    ({"FOLLOWUP_SMS_MAX_PER_SECOND": "fast"}, "FOLLOWUP_SMS_MAX_PER_SECOND must be a number"),
    ({"FOLLOWUP_SMS_MAX_PER_SECOND": "0"}, "must be greater than 0"),
    ({"FOLLOWUP_SMTP_HOST": "mail"}, "needs FOLLOWUP_EMAIL_FROM"),
    ({"FOLLOWUP_SMTP_HOST": "m", "FOLLOWUP_EMAIL_FROM": "a@b.c", "FOLLOWUP_SMTP_PORT": "99999"}, "FOLLOWUP_SMTP_PORT"),
    ({"FOLLOWUP_SMTP_HOST": "m", "FOLLOWUP_EMAIL_FROM": "a@b.c", "FOLLOWUP_SMTP_STARTTLS": "maybe"}, "FOLLOWUP_SMTP_STARTTLS"),
    ({"FOLLOWUP_PUBLIC_URL": "example.org"}, "FOLLOWUP_PUBLIC_URL must be an absolute"),
    ({"FOLLOWUP_NOW": "2026-12-01 14:00"}, "needs an offset"),
    ({"FOLLOWUP_DATABASE_URL": "mysql://x"}, "FOLLOWUP_DATABASE_URL must be"),
    ({"TWILIO_AUTH_TOKEN_FILE": "/nonexistent/token"}, "TWILIO_AUTH_TOKEN_FILE: cannot read"),
])
def test_a_bad_setting_is_one_clear_error(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        config.load(env)


def test_the_cli_reports_a_bad_setting_as_one_line_with_exit_2(followup_sqlite):
    result = followup_sqlite("patients", expect=2, env={"FOLLOWUP_SMS_MAX_PER_SECOND": "lots"})
    assert result.stderr.strip().count("\n") == 0
    assert "FOLLOWUP_SMS_MAX_PER_SECOND" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_on_a_database_that_was_never_migrated_say_how_to_fix_it(tmp_path):
    from conftest import Followup

    result = Followup(f"sqlite:///{tmp_path / 'new.db'}")("patients", expect=1)
    assert "run `followup db upgrade`" in result.stderr
