"""Twilio answering 500, then 429, then nothing at all for a minute, through the real twilio client:
nothing is sent twice, nothing is lost, and what outlived its grace says so."""

from datetime import timedelta

from channel_fixtures import twilio_env
from factories import FakeClock, add_clinic, enrol, utc
from sqlalchemy import insert, select

from followup import config
from followup.db import engine_for, session_scope
from followup.models import Message
from followup.service import build_worker

NOW = utc(2026, 12, 1, 16, 0)  # 11:00 in Boston: inside the sending window


def test_a_minute_of_twilio_errors_and_timeouts_delays_messages_but_sends_each_exactly_once(
    db_url, fake_twilio
):
    clinic = add_clinic(db_url, NOW)
    patients = enrol(db_url, clinic, NOW, n=20, start="2027-01-04")  # each gets its opt-in confirmation now
    with session_scope(engine_for(db_url)) as session:  # and one message that may not go out late
        session.execute(
            insert(Message.__table__),
            {
                "patient_id": patients[0],
                "clinic_id": clinic,
                "direction": "out",
                "kind": "nudge",
                "channel": "sms",
                "status": "pending",
                "dedupe_key": "short-grace",
                "due_at": NOW,
                "next_attempt_at": NOW,
                "expires_at": NOW + timedelta(seconds=45),
                "body": "short grace",
                "attempts": 0,
                "quiet_exempt": False,
                "created_at": NOW,
                "updated_at": NOW,
            },
        )
    clock = FakeClock(NOW)
    worker = build_worker(
        config.load({**twilio_env(fake_twilio), "FOLLOWUP_DATABASE_URL": db_url}), engine_for(db_url)
    )
    worker.now = clock
    worker.channels[
        "sms"
    ].client.http_client.timeout = 0.3  # the client's own timeout, shortened for the test
    fake_twilio.hang_seconds = 1

    met = set()
    # A minute and a half of trouble, one dispatch every 5 s of fake time. The phases follow the
    # back-off so that every kind is met whatever the jitter: first attempts at 0 s meet 500s, second
    # attempts (15-30 s after) meet 429s, third ones (30-60 s after those) meet timeouts. With a
    # minute, the third attempts could all fall after it (the test failed about once in fifty).
    for second in range(0, 91, 5):
        fake_twilio.outage = 20500 if second < 15 else 20429 if second < 35 else "timeout"
        met |= set(worker.dispatch().errors)
        clock.advance(seconds=5)
    assert fake_twilio.sent() == []
    assert {"20500", "20429", "no answer from Twilio within 0.3 s"} <= met, (
        met
    )  # each kind of trouble was met

    fake_twilio.outage = None
    for _ in range(240):  # Twilio is back: keep dispatching as the scheduler would
        worker.dispatch()
        if not _pending(db_url):
            break
        clock.advance(seconds=30)

    recipients, bodies = [r.to for r in fake_twilio.sent()], [r.body for r in fake_twilio.sent()]
    assert len(recipients) == 20 == len(set(recipients))  # every patient's confirmation, once
    with session_scope(engine_for(db_url)) as session:
        rows = {r.dedupe_key: r for r in session.execute(select(Message)).scalars()}
    late = rows.pop("short-grace")
    assert late.status == "skipped" and "grace" in late.error and "short grace" not in bodies
    assert {r.status for r in rows.values()} == {"sent"}
    assert all(r.attempts > 1 and r.provider_id for r in rows.values())


def _pending(url: str) -> int:
    with session_scope(engine_for(url)) as session:
        return len(session.execute(select(Message.id).where(Message.status == "pending")).all())
