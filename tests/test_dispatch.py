"""Sending what is due: exactly once, retried with back-off, never late, never in quiet hours."""

import random
import threading
from datetime import timedelta

import pytest
from factories import FakeClock, add_clinic, enrol, utc, worker
from sqlalchemy import select, text

from followup import dispatch, outbox, planner
from followup.channels.base import DeliveryError
from followup.db import engine_for, session_scope
from followup.models import Message, Patient

START = utc(2026, 12, 1, 13, 30)  # 08:30 in New York


def messages(url, **where):
    with session_scope(engine_for(url)) as session:
        query = select(Message).order_by(Message.id)
        for key, value in where.items():
            query = query.where(getattr(Message, key) == value)
        return list(session.execute(query).scalars())


def the_reminder(url):
    return next(m for m in messages(url, kind="reminder") if m.local_date.day == 1)


def test_a_due_message_is_sent_once_and_recorded_with_the_provider_id(db_url):
    clock = FakeClock(START)
    [patient] = enrol(db_url, add_clinic(db_url, clock()), clock())
    w, sms, _ = worker(db_url, clock)
    w.tick()
    clock.set(utc(2026, 12, 1, 14, 0, 30))
    report = w.tick()
    w.tick()

    assert report.dispatch.sent == 1
    reminder = the_reminder(db_url)
    assert reminder.status == "sent" and reminder.sent_at == utc(2026, 12, 1, 14, 0, 30)
    assert [s.provider_id for s in sms.sent if s.message.kind == "reminder"] == [reminder.provider_id]
    assert sms.sent[-1].message.to == "+16175551000"


def test_a_transient_failure_is_retried_with_backoff_and_then_sent(db_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(db_url, add_clinic(db_url, clock()), clock())
    w, sms, _ = worker(db_url, clock)
    sms.fail_next(DeliveryError("Twilio 503", code="503"), DeliveryError("Twilio 503", code="503"))
    w.tick()  # confirmation and reminder both fail once... the first two sends
    retrying = [m for m in messages(db_url) if m.status == "pending" and m.error]
    assert len(retrying) == 2 and all(m.next_attempt_at > clock() for m in retrying)
    assert all("503" in m.error for m in retrying)

    clock.advance(seconds=31)
    w.tick()
    sent = messages(db_url, status="sent")
    assert {m.kind for m in sent} == {"confirmation", "reminder"}
    assert all(m.attempts == 2 and m.error is None for m in sent)


def test_a_permanent_failure_fails_at_once_with_its_reason(sqlite_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(sqlite_url, add_clinic(sqlite_url, clock()), clock())
    w, sms, _ = worker(sqlite_url, clock)
    sms.fail_when(
        lambda m: (
            DeliveryError("message body rejected", permanent=True, code="21617")
            if m.kind == "reminder"
            else None
        )
    )
    w.tick()
    clock.advance(hours=1)
    w.tick()
    reminder = the_reminder(sqlite_url)
    assert (reminder.status, reminder.error, reminder.attempts) == (
        "failed",
        "21617: message body rejected",
        1,
    )


def test_retries_run_to_the_end_of_the_grace_not_to_a_count_and_say_why(sqlite_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(sqlite_url, add_clinic(sqlite_url, clock()), clock())
    w, sms, _ = worker(sqlite_url, clock)
    sms.fail_when(lambda m: DeliveryError("timed out"))
    for _ in range(12):  # an hour of failures: once this gave up after 5 attempts
        w.tick()
        clock.advance(minutes=5)
    assert the_reminder(sqlite_url).status == "pending"
    for _ in range(14):  # past the 2 h grace
        w.tick()
        clock.advance(minutes=5)
    reminder = the_reminder(sqlite_url)
    assert reminder.status == "skipped"
    assert reminder.error == "stale: not sent within its grace after due (last error: timed out)"
    assert reminder.attempts > 5


def test_the_last_retry_comes_just_before_the_deadline_and_never_sooner_than_retry_after():
    now = utc(2026, 12, 1, 15, 50)
    claimed = outbox.Claimed(
        id=1,
        patient_id=1,
        clinic_id=1,
        kind="reminder",
        channel="sms",
        body="",
        subject=None,
        to_addr=None,
        due_at=utc(2026, 12, 1, 14, 0),
        expires_at=utc(2026, 12, 1, 16, 0),
        attempts=7,
        quiet_exempt=False,
        token="t",
    )
    rng = random.Random(1)
    assert dispatch.retry_at(claimed, now, DeliveryError("busy"), rng) == utc(2026, 12, 1, 15, 59)
    early = dispatch.retry_at(claimed, utc(2026, 12, 1, 14, 1), DeliveryError("busy", retry_after=600), rng)
    assert early >= utc(2026, 12, 1, 14, 11)


def test_a_message_not_sent_within_its_grace_is_skipped_never_sent_late(db_url):
    clock = FakeClock(utc(2026, 12, 1, 13, 0))
    enrol(db_url, add_clinic(db_url, clock()), clock())
    w, sms, _ = worker(db_url, clock)
    clock.set(utc(2026, 12, 1, 16, 1))  # the 09:00 reminder is 2 h 1 min late: the worker was down
    report = w.tick()
    reminder = the_reminder(db_url)
    assert reminder.status == "skipped" and reminder.error.startswith("stale")
    assert report.dispatch.stale >= 1
    assert all(s.message.kind != "reminder" for s in sms.sent)


def test_a_message_queued_in_quiet_hours_waits_for_the_window(db_url):
    clock = FakeClock(utc(2026, 12, 2, 3, 30))  # 22:30 in New York
    enrol(db_url, add_clinic(db_url, clock()), clock())
    w, sms, _ = worker(db_url, clock)
    report = w.tick()
    assert report.dispatch.deferred == 1 and sms.sent == []
    confirmation = messages(db_url, kind="confirmation")[0]
    assert confirmation.status == "pending" and confirmation.next_attempt_at == utc(2026, 12, 2, 13, 0)

    clock.set(utc(2026, 12, 2, 13, 0, 5))
    w.tick()
    assert [s.message.kind for s in sms.sent][:1] == ["confirmation"]


def test_a_message_whose_window_opens_after_its_grace_is_skipped(sqlite_url):
    clock = FakeClock(utc(2026, 12, 2, 3, 30))
    clinic = add_clinic(sqlite_url, clock())
    [patient] = enrol(sqlite_url, clinic, clock())
    with session_scope(engine_for(sqlite_url)) as session:
        outbox.queue(
            session,
            patient_id=patient,
            clinic_id=clinic,
            kind="nudge",
            channel="sms",
            body="hello",
            now=clock(),
            expires_in=timedelta(hours=1),
        )
    w, sms, _ = worker(sqlite_url, clock)
    w.tick()
    nudge = messages(sqlite_url, kind="nudge")[0]
    assert nudge.status == "skipped" and nudge.error.startswith("quiet hours")


def test_an_expired_lease_is_claimed_again_and_the_dead_workers_late_outcome_is_ignored(db_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(db_url, add_clinic(db_url, clock()), clock())
    engine = engine_for(db_url)
    with session_scope(engine) as session:
        dead = outbox.claim(session, clock(), "dead-worker", limit=10, lease=timedelta(seconds=60))
    assert len(dead) == 2  # confirmation + today's reminder

    w, sms, _ = worker(db_url, clock)
    assert w.tick().dispatch.sent == 0  # leased: nobody else may send it yet
    clock.advance(seconds=61)
    assert w.tick().dispatch.sent == 2
    with session_scope(engine) as session:  # the "dead" worker wakes up and reports
        outbox.record(
            session, [{"id": c.id, "owner": "dead-worker", "status": "failed", "error": "late"} for c in dead]
        )
    assert {m.status for m in messages(db_url) if m.id in {c.id for c in dead}} == {"sent"}


def test_stopping_a_worker_hands_its_unsent_claims_back(sqlite_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(sqlite_url, add_clinic(sqlite_url, clock()), clock())
    w, sms, _ = worker(sqlite_url, clock)
    with session_scope(engine_for(sqlite_url)) as session:
        outbox.claim(session, clock(), w.owner, limit=10, lease=timedelta(minutes=5))
    assert w.release() == 2
    assert w.tick().dispatch.sent == 2  # immediately, not after the lease


def test_twilio_21610_opts_the_patient_out_and_cancels_what_is_pending(db_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    [patient] = enrol(db_url, add_clinic(db_url, clock()), clock())
    w, sms, _ = worker(db_url, clock)
    sms.fail_when(
        lambda m: DeliveryError(
            "Attempt to send to unsubscribed recipient", permanent=True, code="21610", consequence="opted_out"
        )
    )
    w.tick()
    with session_scope(engine_for(db_url)) as session:
        assert session.get(Patient, patient).status == "opted_out"
    assert messages(db_url, status="pending") == []
    today, *later = messages(db_url, kind="reminder")
    assert (today.status, today.error) == ("skipped", "patient opted out")  # same batch as the 21610
    assert {m.status for m in later} == {"cancelled"}
    assert len(sms.sent) == 0


def test_a_number_that_cannot_receive_sms_is_marked_and_not_tried_again(sqlite_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    [patient] = enrol(sqlite_url, add_clinic(sqlite_url, clock()), clock())
    w, sms, _ = worker(sqlite_url, clock)
    sms.fail_next(DeliveryError("not a mobile number", permanent=True, code="21614", consequence="unusable"))
    w.tick()
    with session_scope(engine_for(sqlite_url)) as session:
        assert session.get(Patient, patient).phone_unusable is True
    assert len(sms.sent) == 0
    assert messages(sqlite_url, kind="reminder")[0].error == "phone number cannot receive SMS"
    clock.advance(days=1)
    w.tick()
    assert len(sms.sent) == 0


def test_replanning_never_duplicates_a_message(db_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    [patient] = enrol(db_url, add_clinic(db_url, clock()), clock())
    before = len(messages(db_url))
    with session_scope(engine_for(db_url)) as session:
        assert planner.plan(session, clock()) == 0  # planned at enrolment; nothing to do
        planner.replan(session, patient, clock())
        planner.replan(session, patient, clock())
    rows = messages(db_url)
    assert len(rows) == before
    assert len({m.dedupe_key for m in rows}) == len(rows)
    assert sum(m.status == "pending" for m in rows if m.kind in ("reminder", "checkin")) == 4


@pytest.mark.postgres
def test_a_second_worker_skips_planning_while_another_plans_instead_of_waiting_on_it(pg_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(pg_url, add_clinic(pg_url, clock()), clock(), n=20)
    later = clock.advance(days=1, hours=12)  # the first 48 h are half used up: time to plan again
    with session_scope(engine_for(pg_url)) as first:
        assert planner.plan(first, later) > 0  # still uncommitted
        with session_scope(engine_for(pg_url)) as second:
            second.execute(text("SET LOCAL lock_timeout = '2s'"))  # without the fix: a lock error, not a hang
            assert planner.plan(second, later) == 0
    with session_scope(engine_for(pg_url)) as third:
        assert planner.plan(third, later) == 0  # the first one's work is done and committed


@pytest.mark.postgres
def test_two_workers_running_the_time_based_rules_at_once_open_one_review_not_two(pg_url):
    from followup import timerules
    from followup.models import Escalation

    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(pg_url, add_clinic(pg_url, clock()), clock())
    w, _, _ = worker(pg_url, clock)
    for day in (2, 3, 4):  # three 19:00 check-ins in New York, none answered
        clock.set(utc(2026, 12, day, 0, 0, 10))
        w.tick()
    clock.set(utc(2026, 12, 5, 0, 0, 10))  # the third is missed: time for the review
    with session_scope(engine_for(pg_url)) as first:
        assert timerules.run(first, clock())["review"] == 1  # still uncommitted
        with session_scope(engine_for(pg_url)) as second:
            assert timerules.run(second, clock())["review"] == 0  # skipped: the first is at it
    with session_scope(engine_for(pg_url)) as session:
        assert [e.rule for e in session.execute(select(Escalation)).scalars()] == ["R1"]


def test_two_workers_claiming_at_once_never_get_the_same_row(db_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(db_url, add_clinic(db_url, clock()), clock(), n=60)
    engine = engine_for(db_url)
    got: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def grab(owner):
        barrier.wait()
        while True:
            with session_scope(engine) as session:
                claimed = outbox.claim(session, clock(), owner, limit=7, lease=timedelta(minutes=5))
            if not claimed:
                return
            got[owner].extend(c.id for c in claimed)

    threads = [threading.Thread(target=grab, args=(o,)) for o in got]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(got["a"]) + len(got["b"]) == 120  # 60 confirmations + 60 reminders due now
    assert not set(got["a"]) & set(got["b"])
