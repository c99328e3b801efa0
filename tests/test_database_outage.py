"""PostgreSQL stopped for 20 s under a running worker and webhook: both survive, a reply that arrives
meanwhile is kept in the spool and answered, and once the database is back everything due goes out,
once, and the reply is processed once."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pg
import psycopg
import pytest
from channel_fixtures import LiveServer, message_sid, signed_post
from factories import add_clinic, enrol
from sqlalchemy import insert, select

from followup import config, migrate
from followup.db import dispose, engine_for, session_scope
from followup.models import Message

TOKEN, PUBLIC = "outage-token", "https://followup.example"


@pytest.fixture
def stoppable(pg_cluster):
    """A PostgreSQL cluster of our own (these tests stop it), migrated, with one clinic and one enrolled
    patient, on the real clock."""
    cluster = pg.Cluster().start()
    try:
        with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE DATABASE outage")
        url = cluster.url("outage")
        migrate.upgrade(url)
        now = datetime.now(UTC).replace(microsecond=0)
        clinic = add_clinic(
            url, now, quiet_start="00:00", quiet_end="23:59"
        )  # real time: any hour may be now
        [patient] = enrol(url, clinic, now, start=(now + timedelta(days=30)).date().isoformat())
        yield SimpleNamespace(cluster=cluster, url=url, now=now, clinic=clinic, patient=patient)
        dispose(url)
    finally:
        cluster.stop()


def start_worker(url: str, tmp_path) -> tuple[subprocess.Popen, object, object]:
    out, log = tmp_path / "worker.out", tmp_path / "worker.log"
    env = {**os.environ, "FOLLOWUP_DATABASE_URL": url}
    env.pop("FOLLOWUP_NOW", None)
    worker = subprocess.Popen(
        [sys.executable, "-c", "from followup.cli import main; main()", "worker"],
        env=env,
        stdout=out.open("w"),
        stderr=log.open("w"),
    )
    return worker, out, log


def wait_for_confirmation(out, failure: str) -> None:
    for _ in range(300):  # the worker sends the opt-in confirmation first; slow on a busy machine
        if "you are enrolled" in out.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(failure)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_database_outage_is_survived_and_nothing_is_lost(stoppable, tmp_path):
    cluster, url, now = stoppable.cluster, stoppable.url, stoppable.now
    with session_scope(engine_for(url)) as session:  # due while the database will be down
        session.execute(
            insert(Message.__table__),
            [
                {
                    "patient_id": stoppable.patient,
                    "clinic_id": stoppable.clinic,
                    "direction": "out",
                    "kind": "nudge",
                    "channel": "sms",
                    "status": "pending",
                    "dedupe_key": f"outage:{i}",
                    "due_at": now + timedelta(seconds=6 + i),
                    "next_attempt_at": now + timedelta(seconds=6 + i),
                    "expires_at": now + timedelta(hours=1),
                    "body": f"outage message {i}",
                    "attempts": 0,
                    "quiet_exempt": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(5)
            ],
        )
    dispose(url)
    worker, out, log = start_worker(url, tmp_path)
    try:
        settings = config.load(
            {
                "FOLLOWUP_DATABASE_URL": url,
                "TWILIO_AUTH_TOKEN": TOKEN,
                "FOLLOWUP_PUBLIC_URL": PUBLIC,
                "FOLLOWUP_SPOOL_DIR": str(tmp_path / "spool"),
            }
        )
        form = {"From": "+16175551000", "Body": "HELP", "MessageSid": message_sid("outage")}
        help_text = "Elm Street Physio: exercise reminders and check-ins."
        with LiveServer(settings, lifespan="on") as server:  # its spool drainer runs in the lifespan
            wait_for_confirmation(out, "the worker never started")
            cluster.pause()
            # Longer than Twilio's retries last (15 s at most): the reply must not depend on them.
            during = signed_post(server, "/twilio/sms", form, TOKEN, PUBLIC)
            assert during.status_code == 200 and "We received your message" in during.text
            time.sleep(20)  # the nudges fall due while the database is away
            assert worker.poll() is None, "the worker died with the database"
            assert httpx.get(server.url + "/healthz").status_code == 503
            cluster.resume()
            for _ in range(150):
                if out.read_text().count("outage message") == 5 and help_text in out.read_text():
                    break
                time.sleep(0.2)
            again = signed_post(server, "/twilio/sms", form, TOKEN, PUBLIC)  # Twilio retrying it after all
            assert again.status_code == 200 and help_text not in again.text  # already answered by SMS
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        err = log.read_text()
        sent = [line for line in out.read_text().splitlines() if line.startswith("outage message")]
        assert sorted(sent) == [f"outage message {i}" for i in range(5)]  # each once, none lost
        assert out.read_text().count(help_text) == 1  # the spooled reply was answered once, by SMS
        assert not list((tmp_path / "spool").glob("*.json"))
        with session_scope(engine_for(url)) as session:
            stored = session.execute(select(Message.id).where(Message.direction == "in")).all()
        assert len(stored) == 1  # stored once, although it arrived twice
        assert "database error (connection" in err and "dispatch recovered" in err  # noticed, and ridden out
        assert err.count("Traceback") == 0  # one line per failed run, not a traceback a second
    finally:
        if worker.poll() is None:
            worker.kill()  # a failed assertion above must not leave it running


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_started_while_the_database_is_down_waits_for_it_then_works(stoppable, tmp_path):
    dispose(stoppable.url)
    stoppable.cluster.pause()
    worker, out, log = start_worker(stoppable.url, tmp_path)
    try:
        # On a loaded machine the process may take seconds to start: wait for its first word, then
        # for three of its 2 s retries.
        for _ in range(600):
            if "waiting for it" in log.read_text() or worker.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(6)
        assert worker.poll() is None, f"the worker gave up: {log.read_text()}"
        assert log.read_text().count("waiting for it") == 1  # said once, not every 2 s
        stoppable.cluster.resume()
        wait_for_confirmation(out, "the worker never sent the confirmation")
        assert "database available; starting" in log.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_hung_database_is_an_outage_the_webhook_answers_within_twilios_15_s_and_spools_through(
    stoppable, tmp_path
):
    """SIGSTOP, not a refusal: the server's kernel still accepts connections and acknowledges data, and
    nothing ever answers. Replies, status callbacks and /healthz must still be answered in time."""
    import threading

    cluster, url, now = stoppable.cluster, stoppable.url, stoppable.now
    reminder_sid = message_sid("hung reminder")
    with session_scope(engine_for(url)) as session:  # a sent reminder, whose delivery Twilio reports
        session.execute(
            insert(Message.__table__),
            [
                {
                    "patient_id": stoppable.patient,
                    "clinic_id": stoppable.clinic,
                    "direction": "out",
                    "kind": "reminder",
                    "channel": "sms",
                    "status": "sent",
                    "dedupe_key": "hung:reminder",
                    "due_at": now,
                    "sent_at": now,
                    "next_attempt_at": now,
                    "expires_at": now + timedelta(hours=1),
                    "body": "a reminder",
                    "provider_id": reminder_sid,
                    "attempts": 1,
                    "quiet_exempt": True,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
    dispose(url)
    settings = config.load(
        {
            "FOLLOWUP_DATABASE_URL": url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "FOLLOWUP_PUBLIC_URL": PUBLIC,
            "FOLLOWUP_SPOOL_DIR": str(tmp_path / "spool"),
        }
    )
    help_text = "Elm Street Physio: exercise reminders and check-ins."
    sender = "+16175551000"
    with LiveServer(settings, lifespan="on") as server:
        before = signed_post(
            server,
            "/twilio/sms",
            {"From": sender, "Body": "HELP", "MessageSid": message_sid("up")},
            TOKEN,
            PUBLIC,
        )
        assert before.status_code == 200 and help_text in before.text  # the pool now holds live connections
        answers = {}

        def post(name, path, form):
            began = time.monotonic()
            try:
                response = signed_post(server, path, form, TOKEN, PUBLIC, timeout=30)
                answers[name] = (response.status_code, response.text, time.monotonic() - began)
            except httpx.HTTPError as exc:
                answers[name] = (None, repr(exc), time.monotonic() - began)

        requests = [
            (
                f"help{i}",
                "/twilio/sms",
                {"From": sender, "Body": "HELP", "MessageSid": message_sid(f"hung{i}")},
            )
            for i in range(3)
        ]
        requests += [
            (
                "pain",
                "/twilio/sms",
                {"From": sender, "Body": "pain 8", "MessageSid": message_sid("hung pain")},
            ),
            ("status", "/twilio/status", {"MessageSid": reminder_sid, "MessageStatus": "delivered"}),
        ]
        cluster.freeze()
        try:
            threads = [threading.Thread(target=post, args=r) for r in requests]
            for t in threads:
                t.start()
            began = time.monotonic()
            health = httpx.get(server.url + "/healthz", timeout=30)
            health_took = time.monotonic() - began
            for t in threads:
                t.join()
        finally:
            cluster.thaw()
        for name, (status, text, took) in answers.items():
            assert took < 15, f"{name} answered after {took:.1f} s: Twilio had given up at 15 s"
            if name == "status":
                assert status == 204, text
            else:
                assert status == 200 and "We received your message" in text, (name, status, text)
        assert health.status_code == 503 and health_took < 15
        assert len(list((tmp_path / "spool").glob("*.json"))) == 5  # every one of them kept
        for _ in range(300):  # the drainer takes them once the server wakes
            if not list((tmp_path / "spool").glob("*.json")):
                break
            time.sleep(0.2)
    assert not list((tmp_path / "spool").iterdir())  # nothing set aside, nothing left
    with session_scope(engine_for(url)) as session:
        inbound = (
            session.execute(select(Message.provider_id).where(Message.direction == "in")).scalars().all()
        )
        queued = session.execute(
            select(Message.kind, Message.body).where(
                Message.direction == "out", Message.to_addr == sender, Message.status == "pending"
            )
        ).all()
        reminder = session.execute(
            select(Message.status).where(Message.provider_id == reminder_sid)
        ).scalar_one()
    assert sorted(inbound) == sorted(
        [message_sid("up"), message_sid("hung pain")] + [message_sid(f"hung{i}") for i in range(3)]
    )  # each stored once
    assert sorted(kind for kind, _ in queued) == [
        "escalation",
        "help",
        "help",
        "help",
    ]  # each answered once, by SMS
    assert reminder == "delivered"  # the status callback was not lost
