"""PostgreSQL stopped under a running worker and webhook: both survive, the webhook answers 503 so
Twilio retries, and once the database is back everything due goes out, once."""

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import insert

import pg
from channel_fixtures import LiveServer, signed_post
from factories import add_clinic, enrol
from followup import config, migrate
from followup.db import dispose, engine_for, session_scope
from followup.models import Message

TOKEN, PUBLIC = "outage-token", "https://followup.example"


@pytest.mark.slow
@pytest.mark.postgres
def test_a_database_outage_is_survived_and_nothing_is_lost(pg_cluster, tmp_path):
    cluster = pg.Cluster().start()  # our own: this test stops it
    try:
        with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE DATABASE outage")
        url = cluster.url("outage")
        migrate.upgrade(url)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        clinic = add_clinic(url, now)
        [patient] = enrol(url, clinic, now, start=(now + timedelta(days=30)).date().isoformat())
        with session_scope(engine_for(url)) as session:  # due while the database will be down
            session.execute(insert(Message.__table__), [{
                "patient_id": patient, "clinic_id": clinic, "direction": "out", "kind": "nudge", "channel": "sms",
                "status": "pending", "dedupe_key": f"outage:{i}", "due_at": now + timedelta(seconds=6 + i),
                "next_attempt_at": now + timedelta(seconds=6 + i), "expires_at": now + timedelta(hours=1),
                "body": f"outage message {i}", "attempts": 0, "quiet_exempt": True, "created_at": now,
                "updated_at": now} for i in range(5)])
        dispose(url)
        out, log = tmp_path / "worker.out", tmp_path / "worker.log"
        env = {**os.environ, "FOLLOWUP_DATABASE_URL": url}
        env.pop("FOLLOWUP_NOW", None)
        worker = subprocess.Popen([sys.executable, "-c", "from followup.cli import main; main()", "worker"], env=env,
                                  stdout=out.open("w"), stderr=log.open("w"))
        settings = config.load({"FOLLOWUP_DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "FOLLOWUP_PUBLIC_URL": PUBLIC})
        form = {"From": "+16175551000", "Body": "HELP", "MessageSid": "SMoutage"}
        with LiveServer(settings) as server:
            time.sleep(3)  # the worker is up and has sent the confirmation
            cluster.pause()
            assert signed_post(server, "/twilio/sms", form, TOKEN, PUBLIC).status_code == 503
            time.sleep(20)  # the nudges fall due while the database is away
            assert worker.poll() is None, "the worker died with the database"
            cluster.resume()
            for _ in range(100):
                response = signed_post(server, "/twilio/sms", form, TOKEN, PUBLIC)
                if response.status_code == 200:
                    break
                time.sleep(0.2)
            else:
                raise AssertionError("the webhook never recovered")
            for _ in range(150):
                if out.read_text().count("outage message") == 5:
                    break
                time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        err = log.read_text()
        sent = [line for line in out.read_text().splitlines() if line.startswith("outage message")]
        assert sorted(sent) == [f"outage message {i}" for i in range(5)]  # each once, none lost
        assert "database error (connection" in err and "dispatch recovered" in err  # noticed, and ridden out
        assert err.count("Traceback") == 0  # one line per failed run, not a traceback a second
        dispose(url)
    finally:
        cluster.stop()
