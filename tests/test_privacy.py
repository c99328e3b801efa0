"""Logs name patients by id; they never carry phone numbers, message text or secrets."""

import logging

from channel_fixtures import LiveServer, signed_post, twilio_env
from followup import config

PHONE, BODY = "+16175550123", "my secret symptom is pain 8"


def test_nothing_logged_while_sending_and_receiving_carries_a_number_text_or_token(followup, fake_twilio, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, at its most talkative
    followup.env = twilio_env(fake_twilio)
    followup.enrol(followup.clinic())
    followup("tick", now="2026-12-01T14:00:05Z")  # sends through the real twilio client
    settings = config.load({**twilio_env(fake_twilio), "FOLLOWUP_DATABASE_URL": followup.url,
                            "FOLLOWUP_NOW": "2026-12-01T20:00:00Z"})
    with LiveServer(settings) as server:
        response = signed_post(server, "/twilio/sms", {"From": PHONE, "Body": BODY, "MessageSid": "SMp"},
                               fake_twilio.auth_token, "https://followup.example")
    assert response.status_code == 200 and fake_twilio.sent()  # something really happened
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (PHONE, "6175550123", BODY, "Prone head lift", fake_twilio.auth_token):
        assert secret not in logged, f"{secret!r} was logged"


# --- forget leaves no copy on disk (issue 14) ------------------------------------------------------

import os  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from followup import db as followup_db  # noqa: E402

NAME, REPLY = "Zelda Quixote", "pain 3 and my left hand tingles zebrafish"
TRACES = (NAME.encode(), b"6175550123", REPLY.encode(), b"tingles zebrafish")


def _patient_with_history(followup) -> int:
    """A patient with sent messages, a reply, a reading and an alert: data in several tables."""
    patient = followup.enrol(followup.clinic(), name=NAME)
    followup("tick", now="2026-12-01T14:00:05Z")
    followup("reply", "--from", PHONE, "--body", REPLY, now="2026-12-01T15:00:00Z")
    followup("reply", "--from", PHONE, "--body", "pain 9", now="2026-12-01T15:01:00Z")  # an escalation, an alert
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


def test_forget_leaves_nothing_in_freed_pages_of_the_database_file(followup_sqlite, build_without_secure_delete):
    patient = _patient_with_history(followup_sqlite)
    followup_sqlite("patient", "forget", patient, "--yes")
    followup_db.dispose()  # the last connection closes: SQLite checkpoints and removes the -wal itself
    assert not Path(followup_sqlite.url.split("sqlite:///", 1)[1] + "-wal").exists()
    assert _traces(followup_sqlite.url) == []
