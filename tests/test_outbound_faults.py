"""Issue 14, outbound: retries run to each message's deadline, not to a count; Retry-After is
honoured; and outcomes held when the database goes away are written later, never dropped.

All through the real twilio client against the fake Twilio over HTTP, on a fake clock."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pg
import psycopg
import pytest
from channel_fixtures import twilio_env
from factories import FakeClock, add_clinic, enrol, utc
from sqlalchemy import exc, insert, select

from followup import config, migrate, outbox
from followup.channels.fake import FakeChannel
from followup.db import dispose, engine_for, session_scope
from followup.models import Message
from followup.service import Worker, build_worker

NOW = utc(2026, 12, 1, 14, 0)  # 09:00 in Boston: today's reminders are due now, with a 2 h grace


def twilio_worker(url: str, fake, clock: FakeClock):
    worker = build_worker(config.load({**twilio_env(fake), "FOLLOWUP_DATABASE_URL": url}), engine_for(url))
    worker.now = clock
    return worker


def rows(url: str) -> list[Message]:
    """The outbound messages due by NOW (planning also wrote the next two days')."""
    with session_scope(engine_for(url)) as session:
        return list(
            session.execute(
                select(Message).where(Message.direction == "out", Message.due_at <= NOW)
            ).scalars()
        )


def test_a_30_minute_twilio_outage_delays_reminders_and_the_clinic_alert_but_sends_each_once_in_grace(
    db_url, fake_twilio
):
    clinic = add_clinic(db_url, NOW)
    patients = enrol(db_url, clinic, NOW, n=20)  # a confirmation and today's 09:00 reminder each
    with session_scope(
        engine_for(db_url)
    ) as session:  # an emergency alert SMS, as escalation.alert_clinic queues it
        outbox.queue(
            session,
            patient_id=patients[0],
            clinic_id=clinic,
            kind="alert",
            channel="sms",
            body="EMERGENCY escalation #1",
            to_addr="+16175550199",
            now=NOW,
            quiet_exempt=True,
            dedupe_key="alert:1:sms",
            expires_in=timedelta(hours=48),
        )
    clock = FakeClock(NOW)
    worker = twilio_worker(db_url, fake_twilio, clock)

    # Half an hour of 500s and 503s, one dispatch every 10 s of fake time: far past the 4-8 minutes
    # that five attempts' back-off once lasted, after which every message ended `failed`.
    while clock() < NOW + timedelta(minutes=30):
        fake_twilio.outage = 20500 if clock() < NOW + timedelta(minutes=15) else 20503
        worker.dispatch()
        clock.advance(seconds=10)
    assert fake_twilio.sent() == []
    assert {m.status for m in rows(db_url)} == {"pending"}  # still trying, none given up

    fake_twilio.outage = None
    while clock() < NOW + timedelta(hours=3) and any(m.status == "pending" for m in rows(db_url)):
        worker.dispatch()
        clock.advance(seconds=10)

    out = rows(db_url)
    assert {m.status for m in out} == {"sent"}, {(m.kind, m.status, m.error) for m in out}
    assert all(m.sent_at <= m.expires_at for m in out)  # none late: each within its grace
    assert max(m.attempts for m in out) > 5
    accepted = [(r.to, r.body) for r in fake_twilio.sent()]
    assert len(accepted) == len(set(accepted)) == 41  # 20 confirmations, 20 reminders, 1 alert: once each
    assert ("+16175550199", "EMERGENCY escalation #1") in accepted


def test_retry_after_from_twilio_is_honoured(sqlite_url, fake_twilio):
    clinic = add_clinic(sqlite_url, NOW)
    enrol(sqlite_url, clinic, NOW, n=3, start="2027-01-04")  # one confirmation each
    clock = FakeClock(NOW)
    worker = twilio_worker(sqlite_url, fake_twilio, clock)
    fake_twilio.outage, fake_twilio.retry_after = 20429, 900
    worker.dispatch()
    fake_twilio.outage = None
    retries = rows(sqlite_url)
    assert {m.status for m in retries} == {"pending"}
    # Back-off alone would try again within 30 s; Twilio asked for 15 minutes.
    assert all(m.next_attempt_at >= NOW + timedelta(seconds=900) for m in retries)
    clock.advance(minutes=10)
    worker.dispatch()
    assert fake_twilio.sent() == []
    clock.advance(minutes=6)
    worker.dispatch()
    assert len(fake_twilio.sent()) == 3


def test_a_permanent_twilio_error_still_fails_at_once(sqlite_url, fake_twilio):
    clinic = add_clinic(sqlite_url, NOW)
    enrol(sqlite_url, clinic, NOW, n=1, start="2027-01-04")
    worker = twilio_worker(sqlite_url, fake_twilio, FakeClock(NOW))
    fake_twilio.outage = 21617
    worker.dispatch()
    [message] = rows(sqlite_url)
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.error.startswith("21617")


@pytest.fixture
def stoppable_url(pg_cluster):
    """A PostgreSQL cluster of this test's own: the test stops it."""
    cluster = pg.Cluster().start()
    try:
        with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE DATABASE flush")
        url = cluster.url("flush")
        migrate.upgrade(url)
        yield cluster, url
        dispose(url)
    finally:
        cluster.stop()


@pytest.mark.postgres
def test_outcomes_held_when_the_database_goes_away_mid_batch_are_written_later_and_nothing_is_sent_twice(
    stoppable_url, fake_twilio
):
    cluster, url = stoppable_url
    clinic = add_clinic(url, NOW)
    patients = enrol(url, clinic, NOW, n=5, start="2027-01-04")
    with session_scope(engine_for(url)) as session:
        session.execute(
            insert(Message.__table__),
            [
                {
                    "patient_id": patients[i % 5],
                    "clinic_id": clinic,
                    "direction": "out",
                    "kind": "nudge",
                    "channel": "sms",
                    "status": "pending",
                    "dedupe_key": f"n{i}",
                    "due_at": NOW,
                    "next_attempt_at": NOW,
                    "expires_at": NOW + timedelta(hours=24),
                    "body": f"nudge {i}",
                    "attempts": 0,
                    "quiet_exempt": True,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(15)
            ],
        )
    clock = FakeClock(NOW)
    worker = twilio_worker(url, fake_twilio, clock)
    channel, real_send = worker.channels["sms"], worker.channels["sms"].send
    sent_so_far = []

    def send_then_lose_the_database(message):
        provider_id = real_send(message)
        sent_so_far.append(message)
        if len(sent_so_far) == 3:
            cluster.pause()  # the database goes away with these outcomes not yet written
        return provider_id

    channel.send = send_then_lose_the_database
    with pytest.raises((exc.SQLAlchemyError, psycopg.Error)):
        worker.dispatch()  # the run says it failed (one log line in the service)
    accepted_during = len(fake_twilio.sent())
    assert accepted_during >= 3

    cluster.resume()
    channel.send = real_send
    worker.dispatch()  # first writes what it held, then sends the rest
    clock.advance(minutes=10)  # far past the 120 s lease of anything a second worker could take over
    twilio_worker(url, fake_twilio, clock).dispatch()
    worker.dispatch()

    accepted = [(r.to, r.body) for r in fake_twilio.sent()]
    assert len(accepted) == len(set(accepted)) == 20  # 15 nudges, 5 confirmations: nothing twice
    assert {b for _, b in accepted if b.startswith("nudge")} == {
        f"nudge {i}" for i in range(15)
    }  # nothing lost
    assert {m.status for m in rows(url)} == {"sent"}


def seed_slow(url: str, now, n: int = 12) -> None:
    """`n` nudges due at `now` for three patients, quiet-exempt, and nothing else to send."""
    clinic = add_clinic(url, now)
    patients = enrol(url, clinic, now, n=3, start=(now + timedelta(days=30)).date().isoformat())
    with session_scope(engine_for(url)) as session:
        session.execute(
            insert(Message.__table__),
            [
                {
                    "patient_id": patients[i % 3],
                    "clinic_id": clinic,
                    "direction": "out",
                    "kind": "nudge",
                    "channel": "sms",
                    "status": "pending",
                    "dedupe_key": f"slow{i}",
                    "due_at": now,
                    "next_attempt_at": now,
                    "expires_at": now + timedelta(hours=1),
                    "body": f"slow {i}",
                    "attempts": 0,
                    "quiet_exempt": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n)
            ],
        )
    with session_scope(engine_for(url)) as session:  # the confirmations are not what this is about
        session.execute(
            Message.__table__.update().where(Message.kind == "confirmation").values(status="cancelled")
        )


def heartbeat_threads(owner: str = "") -> list:
    import threading

    return [
        t for t in threading.enumerate() if t.name.startswith(f"lease heartbeat {owner}") and t.is_alive()
    ]


class SlowWorkers:
    """Worker a waits half a second for each send slot, as with many workers sharing a low cap:
    twelve sends take six seconds, two of its 3 s leases. Worker b, uncapped, polls all the while
    for rows whose lease ran out."""

    lease = timedelta(seconds=3)

    def __init__(self, url: str):
        self.sms_a, self.sms_b = FakeChannel("sms"), FakeChannel("sms")
        self.a = Worker(
            engine_for(url), {"sms": self.sms_a}, batch=100, lease=self.lease, pace=self.slow_slot
        )
        self.b = Worker(engine_for(url), {"sms": self.sms_b}, batch=100, lease=self.lease)

    @staticmethod
    def slow_slot(_channel, _segments=1):
        time.sleep(0.5)
        return True

    def race(self, each_poll=lambda: None) -> None:
        """a dispatches on a thread of its own while b dispatches every 0.2 s (then `each_poll`),
        and b once more when a is done."""
        done = threading.Event()
        thread = threading.Thread(target=lambda: (self.a.dispatch(), done.set()))
        thread.start()
        while not done.wait(0.2):
            self.b.dispatch()
            each_poll()
        thread.join()
        self.b.dispatch()


@pytest.fixture
def slow_workers(db_url):
    workers = SlowWorkers(db_url)
    yield workers
    workers.a.close()  # their heartbeat threads end with the test, whatever it asserted
    workers.b.close()


def test_a_batch_that_outlives_its_lease_keeps_its_rows_and_each_message_goes_out_once(db_url, slow_workers):
    """A worker waiting for send slots far longer than its lease (as with many workers sharing a low
    cap): its heartbeat keeps the leases, so a second worker polling all the while takes none over."""
    seed_slow(db_url, datetime.now(UTC))
    slow_workers.race()

    sent_a = [s.message.body for s in slow_workers.sms_a.sent]
    sent_b = [s.message.body for s in slow_workers.sms_b.sent]
    assert sorted(sent_a + sent_b) == sorted(f"slow {i}" for i in range(12))  # each once
    assert sent_b == []  # nothing was taken over from a worker that was still working


def test_a_long_batch_in_a_later_dispatch_run_keeps_its_lease_on_the_workers_one_heartbeat(
    db_url, slow_workers
):
    """The worker's heartbeat lives across its dispatch runs (one thread, not one a run): a batch in a
    later run that waits for send slots past its lease still keeps its rows, and no other thread beats."""
    a, b = slow_workers.a, slow_workers.b
    with a, b:
        a.dispatch()  # nothing due yet: the heartbeat starts, and stays
        (first,) = heartbeat_threads(a.owner)
        seed_slow(db_url, datetime.now(UTC))

        def the_same_thread_only():  # after each of b's polls: the same thread, the only one
            assert heartbeat_threads(a.owner) == [first]

        slow_workers.race(each_poll=the_same_thread_only)
        assert heartbeat_threads(a.owner) == [first]

    assert sorted(s.message.body for s in slow_workers.sms_a.sent) == sorted(f"slow {i}" for i in range(12))
    assert slow_workers.sms_b.sent == []  # nothing was taken over from a worker that was still working
    assert heartbeat_threads(a.owner) == heartbeat_threads(b.owner) == []  # closed: no thread left


def test_the_claims_of_a_run_that_crashed_are_not_kept_alive_by_the_workers_heartbeat(sqlite_url):
    """The heartbeat outlives each run, but a run that ends by an error (here an exception no send
    catches) takes its claims off it: their leases run out and another worker sends them."""
    import time
    from datetime import datetime

    from followup.channels.fake import FakeChannel
    from followup.service import Worker

    class Crash(BaseException):
        pass

    class Crashing(FakeChannel):
        def send(self, message):
            raise Crash

    lease = timedelta(seconds=2)
    seed_slow(sqlite_url, datetime.now(UTC), n=3)
    a = Worker(engine_for(sqlite_url), {"sms": Crashing("sms")}, lease=lease)
    sms_b = FakeChannel("sms")
    b = Worker(engine_for(sqlite_url), {"sms": sms_b}, lease=lease)
    with a, b:
        with pytest.raises(Crash):
            a.dispatch()
        assert heartbeat_threads(a.owner)  # still beating, for the worker's next runs
        b.dispatch()
        assert sms_b.sent == []  # a's claims hold for their lease
        time.sleep(3)  # more than a lease: a's heartbeat (every third of a lease) left them alone
        b.dispatch()
    assert sorted(s.message.body for s in sms_b.sent) == [f"slow {i}" for i in range(3)]


def test_no_heartbeat_thread_is_left_after_the_scheduler_stops_or_a_simulation_ends(sqlite_url):
    import time

    from followup import service
    from followup.channels.fake import FakeChannel
    from followup.simulate import simulate

    migrate.upgrade(sqlite_url)
    worker = service.Worker(engine_for(sqlite_url), {"sms": FakeChannel("sms")})
    scheduler = service.start_scheduler(worker)
    deadline = time.monotonic() + 60
    while not heartbeat_threads(worker.owner) and time.monotonic() < deadline:
        time.sleep(0.05)  # the first dispatch run starts it
    assert heartbeat_threads(worker.owner)
    service.stop_scheduler(scheduler, worker)
    assert heartbeat_threads(worker.owner) == []

    before = set(heartbeat_threads())
    simulate(patients=3, days=1, seed=1, transcript=False)
    assert set(heartbeat_threads()) - before == set()
