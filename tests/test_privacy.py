"""Logs name patients by id; they never carry phone numbers, message text or secrets."""

import logging

from channel_fixtures import LiveServer, message_sid, signed_post, twilio_env

from followup import config

PHONE, BODY = "+16175550123", "my secret symptom is pain 8"


def test_nothing_logged_while_sending_and_receiving_carries_a_number_text_or_token(
    followup, fake_twilio, caplog
):
    caplog.set_level(logging.DEBUG)  # every logger, at its most talkative
    followup.env = twilio_env(fake_twilio)
    followup.enrol(followup.clinic())
    followup("tick", now="2026-12-01T14:00:05Z")  # sends through the real twilio client
    settings = config.load(
        {
            **twilio_env(fake_twilio),
            "FOLLOWUP_DATABASE_URL": followup.url,
            "FOLLOWUP_NOW": "2026-12-01T20:00:00Z",
        }
    )
    with LiveServer(settings) as server:
        response = signed_post(
            server,
            "/twilio/sms",
            {"From": PHONE, "Body": BODY, "MessageSid": message_sid("p")},
            fake_twilio.auth_token,
            "https://followup.example",
        )
    assert response.status_code == 200 and fake_twilio.sent()  # something really happened
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (PHONE, "6175550123", BODY, "Prone head lift", fake_twilio.auth_token):
        assert secret not in logged, f"{secret!r} was logged"


# --- forget leaves no copy on disk (issue 14) ------------------------------------------------------

import os  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from followup import db as followup_db  # noqa: E402
from followup import spool  # noqa: E402

NAME, REPLY = "Zelda Quixote", "pain 3 and my left hand tingles zebrafish"
TRACES = (NAME.encode(), b"6175550123", REPLY.encode(), b"tingles zebrafish")


def _patient_with_history(followup) -> int:
    """A patient with sent messages, a reply, a reading and an alert: data in several tables."""
    patient = followup.enrol(followup.clinic(), name=NAME)
    followup("tick", now="2026-12-01T14:00:05Z")
    followup("reply", "--from", PHONE, "--body", REPLY, now="2026-12-01T15:00:00Z")
    followup(
        "reply", "--from", PHONE, "--body", "pain 9", now="2026-12-01T15:01:00Z"
    )  # an escalation, an alert
    followup("tick", now="2026-12-01T15:02:00Z")
    assert any(trace in _database_bytes(followup.url) for trace in TRACES)
    return patient


def _database_bytes(url: str) -> bytes:
    """The database file and its write-ahead log as they are on disk now (nothing is closed)."""
    path = Path(url.split("sqlite:///", 1)[1])
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _traces(url: str) -> list[bytes]:
    data = _database_bytes(url)
    return [trace for trace in TRACES if trace in data]


@pytest.fixture
def build_without_secure_delete(monkeypatch):
    """Every new SQLite connection starts with secure_delete off, as in a build compiled without
    SQLITE_SECURE_DELETE (this machine's has it on by default, which would hide the bug)."""
    connect = sqlite3.dbapi2.connect

    def off(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=OFF")
        return conn

    monkeypatch.setattr(sqlite3.dbapi2, "connect", off)
    followup_db.dispose()  # no pooled connection made before the patch


def test_every_sqlite_connection_has_secure_delete_on(sqlite_url, build_without_secure_delete):
    with followup_db.engine_for(sqlite_url).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_forget_leaves_nothing_in_freed_pages_of_the_database_file(
    followup_sqlite, build_without_secure_delete
):
    patient = _patient_with_history(followup_sqlite)
    followup_sqlite("patient", "forget", patient, "--yes")
    followup_db.dispose()  # the last connection closes: SQLite checkpoints and removes the -wal itself
    assert not Path(followup_sqlite.url.split("sqlite:///", 1)[1] + "-wal").exists()
    assert _traces(followup_sqlite.url) == []


def _serve(url: str, tmp_path) -> subprocess.Popen:
    import httpx
    from pg import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from followup.cli import main; main()", "serve", "--port", str(port)],
        env={
            **os.environ,
            "FOLLOWUP_DATABASE_URL": url,
            "FOLLOWUP_ALLOW_UNSIGNED": "1",
            "FOLLOWUP_SPOOL_DIR": str(tmp_path / "spool"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Generous: a cold start imports FastAPI and the reader, which took over 30 s on a shared 2-core
    # machine at load 8. A server that exits fails at once.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"followup serve did not come up (exit code {proc.poll()})")


def test_forget_under_a_running_service_leaves_no_copy_in_the_wal_or_the_database(followup_sqlite, tmp_path):
    patient = _patient_with_history(followup_sqlite)
    server = _serve(followup_sqlite.url, tmp_path)  # holds its own connections to the database
    try:
        assert _traces(followup_sqlite.url)
        followup_sqlite("patient", "forget", patient, "--yes")
        assert _traces(followup_sqlite.url) == []  # while the service still has the database open
        assert os.path.getsize(followup_sqlite.url.split("sqlite:///", 1)[1] + "-wal") == 0
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=20)


READER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN")
conn.execute("SELECT count(*) FROM patient").fetchall()  # a read snapshot, held until told
print("reading", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
print("idle", flush=True)
sys.stdin.readline()  # stays connected, idle
"""


class Reader:
    """Another process with the database open in the middle of a read (a snapshot from before forget)."""

    def __init__(self, url: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", READER, url.split("sqlite:///", 1)[1]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline() == "reading\n"

    def finish_read(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "idle\n"

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def test_forget_waits_for_a_read_in_progress_elsewhere_then_leaves_no_copy(followup_sqlite):
    patient = _patient_with_history(followup_sqlite)
    reader = Reader(followup_sqlite.url)
    try:
        timer = threading.Timer(2.0, reader.finish_read)
        timer.start()
        started = time.monotonic()
        followup_sqlite("patient", "forget", patient, "--yes")
        waited = time.monotonic() - started
        timer.join()
        assert waited >= 1.5  # its snapshot still showed the patient: the log could not be reset under it
        assert _traces(followup_sqlite.url) == []  # the reader is still connected
    finally:
        reader.close()


def test_a_read_that_outlasts_the_wait_is_one_line_exit_1_and_a_repeat_finishes_the_job(
    followup_sqlite, monkeypatch
):
    from followup import records

    monkeypatch.setattr(records, "CHECKPOINT_WAIT", 1.0)
    patient = _patient_with_history(followup_sqlite)
    reader = Reader(followup_sqlite.url)
    try:
        result = followup_sqlite("patient", "forget", patient, "--yes", expect=1)
        assert result.stderr.count("\n") == 1
        assert "write-ahead log still holds copies" in result.stderr
        assert f"followup patient forget {patient} --yes` again" in result.stderr
        assert (
            followup_sqlite.json("patient", "show", patient)["name"] == "(forgotten)"
        )  # the deletion stands
        reader.finish_read()
        again = followup_sqlite("patient", "forget", patient, "--yes", expect=2)
        assert "already forgotten" in again.stderr
        assert _traces(followup_sqlite.url) == []
    finally:
        reader.close()


# --- every file the CLI writes is owner-only (CONTRACT.md) ------------------------------------------


@pytest.fixture
def permissive_umask():
    previous = os.umask(0o022)  # the usual default: without care, files come out world-readable
    yield
    os.umask(previous)


def _mode(path) -> int:
    return os.stat(path).st_mode & 0o777


def _files(directory) -> list[str]:
    """What is in the test's directory besides the database and its -wal/-shm."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("followup.db"))


@pytest.mark.parametrize(
    "command",
    [
        ["patient", "export", "1"],
        ["report"],
        ["report", "--format", "html"],
        ["report", "--format", "csv"],
        ["report", "--format", "json"],
    ],
)
def test_files_written_with_out_are_owner_only(followup_sqlite, tmp_path, permissive_umask, command):
    followup_sqlite.enrol(followup_sqlite.clinic())
    fresh, replaced = tmp_path / "fresh.out", tmp_path / "replaced.out"
    replaced.write_text("an older export\n")
    os.chmod(replaced, 0o644)
    for target in (fresh, replaced):
        followup_sqlite(*command, "--out", target)
        assert _mode(target) == 0o600, target
        assert "Ana Diaz" in target.read_text() and "older" not in target.read_text()
    assert _files(tmp_path) == ["fresh.out", "replaced.out"]  # no temporary file left behind


def test_the_database_and_its_wal_files_are_owner_only(tmp_path, permissive_umask):
    from conftest import Followup

    url = f"sqlite:///{tmp_path / 'new.db'}"
    Followup(url)("db", "upgrade")
    cli = Followup(url)
    cli.enrol(cli.clinic())
    files = sorted(tmp_path.glob("new.db*"))
    assert [p.name for p in files] == ["new.db", "new.db-shm", "new.db-wal"]
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    followup_db.dispose(url)


@pytest.mark.parametrize("command", [["patient", "export", "1"], ["report", "--format", "html"]])
def test_an_out_path_in_a_missing_directory_is_one_line_exit_2_and_writes_nothing(
    followup_sqlite, tmp_path, command
):
    followup_sqlite.enrol(followup_sqlite.clinic())
    target = tmp_path / "no-such-dir" / "record.out"
    result = followup_sqlite(*command, "--out", target, expect=2)
    assert result.stderr == (
        f"error: --out {target}: cannot write it: the directory {target.parent} does not exist\n"
    )
    assert result.stdout == ""
    assert _files(tmp_path) == []


@pytest.mark.parametrize("command", [["patient", "export", "1"], ["report"]])
def test_an_out_path_that_is_a_directory_or_under_a_file_is_one_line_exit_2(
    followup_sqlite, tmp_path, command
):
    followup_sqlite.enrol(followup_sqlite.clinic())
    (tmp_path / "a-file").write_text("")
    for target in (tmp_path, tmp_path / "a-file" / "record.out"):
        result = followup_sqlite(*command, "--out", target, expect=2)
        assert (
            result.stderr.startswith(f"error: --out {target}: cannot write it: ")
            and result.stderr.count("\n") == 1
        )
        assert result.stdout == ""
    assert _files(tmp_path) == ["a-file"]
    assert (tmp_path / "a-file").read_text() == ""


def test_an_out_path_in_a_read_only_directory_is_exit_2(followup_sqlite, read_only_dir):
    followup_sqlite.enrol(followup_sqlite.clinic())
    target = read_only_dir / "r.txt"
    result = followup_sqlite("report", "--out", target, expect=2)
    assert result.stderr == f"error: --out {target}: cannot write it: permission denied\n"
    assert list(read_only_dir.iterdir()) == []


def test_forget_also_deletes_the_replies_the_spool_kept_for_that_patient(followup_sqlite, tmp_path):
    followup = followup_sqlite
    folder = tmp_path / "spool"
    followup.env = {**followup.env, "FOLLOWUP_SPOOL_DIR": str(folder)}
    patient = followup.enrol(followup.clinic(), name=NAME)
    at = datetime(2026, 12, 1, 15, tzinfo=UTC)
    mine = spool.save(str(folder), {"From": PHONE, "Body": REPLY, "MessageSid": message_sid("mine")}, at)
    set_aside = mine.with_suffix(".failed")
    os.replace(mine, set_aside)  # a poison entry set aside, still holding the text
    other = spool.save(
        str(folder), {"From": "+16175550999", "Body": "3 N", "MessageSid": message_sid("other")}, at
    )
    followup("patient", "forget", str(patient), "--yes")
    assert not set_aside.exists() and other.exists()
    assert not any(REPLY.encode() in p.read_bytes() for p in folder.iterdir())


def test_a_spool_directory_left_readable_by_others_is_made_owner_only_at_start(tmp_path):
    folder = tmp_path / "spool"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    config.check_spool_dir(
        config.load(
            {"FOLLOWUP_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "FOLLOWUP_SPOOL_DIR": str(folder)}
        )
    )
    assert folder.stat().st_mode & 0o777 == 0o700


# --- FOLLOWUP_LOG_FORMAT=json (issue 18) -----------------------------------------------------------


def test_json_logs_of_a_real_run_are_one_object_a_line_uvicorns_included_with_ids_and_no_number_or_text(
    followup_sqlite, tmp_path
):
    import json

    import httpx
    from pg import free_port

    patient = followup_sqlite.enrol(followup_sqlite.clinic())
    port, token = free_port(), "json-log-token"
    stderr = tmp_path / "stderr.log"
    with open(stderr, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from followup.cli import main; main()", "run", "--port", str(port)],
            env={
                **os.environ,
                "FOLLOWUP_DATABASE_URL": followup_sqlite.url,
                "FOLLOWUP_NOW": "2026-12-01T14:00:00Z",  # 09:00 in New York: the reminder goes out
                "FOLLOWUP_LOG_FORMAT": "json",
                "TWILIO_AUTH_TOKEN": token,
                "FOLLOWUP_PUBLIC_URL": "https://followup.example",
                "FOLLOWUP_SPOOL_DIR": str(tmp_path / "spool"),
            },
            stdout=subprocess.DEVNULL,  # the console channel prints the messages themselves there
            stderr=err,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        httpx.get(f"{url}/healthz", params={"to": PHONE, "body": "my pain is bad"})  # logged as the path
        httpx.get(f"{url}/ack/a-bearer-token")  # an acknowledgement link: its path is the token
        from twilio.request_validator import RequestValidator

        form = {"From": PHONE, "Body": BODY, "MessageSid": message_sid("json log")}
        signature = RequestValidator(token).compute_signature("https://followup.example/twilio/sms", form)
        answer = httpx.post(f"{url}/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200
        for _ in range(100):  # the scheduler's first dispatch logs what it sent
            if '"followup.service"' in stderr.read_text() and "dispatch" in stderr.read_text():
                break
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    text = stderr.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line: one object
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access", "followup.service", "followup.web"} <= loggers
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    [inbound] = [line for line in lines if line["message"].startswith("inbound SMS")]
    assert inbound["patient_id"] == patient
    assert any('"GET /healthz HTTP/1.1"' in line["message"] for line in lines)
    for secret in (PHONE, "6175550123", BODY, "Prone head lift", "Ana Diaz", token, "my+pain", "a-bearer"):
        assert secret not in text, f"{secret!r} was logged"


def test_an_unknown_log_format_is_one_line_exit_2(followup_sqlite):
    result = followup_sqlite("worker", env={"FOLLOWUP_LOG_FORMAT": "yaml"}, expect=2)
    assert "FOLLOWUP_LOG_FORMAT must be one of text, json" in result.stderr


def test_with_json_logs_a_commands_error_is_one_json_object_on_stderr(followup_sqlite):
    import json

    result = followup_sqlite("patient", "show", "99", env={"FOLLOWUP_LOG_FORMAT": "json"}, expect=2)
    [line] = result.stderr.splitlines()
    error = json.loads(line)
    assert error["level"] == "error" and "no patient with id 99" in error["message"]


def test_with_json_logs_db_upgrade_and_usage_errors_are_one_json_object_a_line(followup_sqlite):
    import json

    json_logs = {"FOLLOWUP_LOG_FORMAT": "json"}
    [line] = followup_sqlite("db", "upgrade", env=json_logs).stderr.splitlines()
    assert json.loads(line)["message"].startswith("database at revision ")
    for args, problem in (
        (("patient", "export", "1", "--format", "xml"), "'xml' is not one of"),
        (("clinic", "add", "--name", "X", "--alert-webhook-format", "teams"), "teams"),
        (("no-such-command",), "No such command"),
    ):
        result = followup_sqlite(*args, env=json_logs, expect=2)
        [line] = result.stderr.splitlines()
        error = json.loads(line)
        assert error["level"] == "error" and problem in error["message"], args
    text = followup_sqlite("patient", "export", "1", "--format", "xml", expect=2).stderr
    assert text.startswith("Usage:")  # in text mode, click's own usage help as before
