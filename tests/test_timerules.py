"""Rules that fire because time passed: R1 counts each patient's unanswered check-ins in a row."""

from datetime import timedelta

from factories import FakeClock, add_clinic, enrol, utc, worker
from sqlalchemy import select

from followup import inbound
from followup.db import engine_for, session_scope
from followup.models import Escalation, Message, Patient


def test_missed_check_ins_in_a_row_are_counted_per_patient_since_their_last_reply(db_url):
    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    ids = enrol(db_url, add_clinic(db_url, clock()), clock(), n=4)  # check-ins at 19:00 New York, 00:00 UTC
    answers = {0: (2, 3), 1: (), 2: (2,), 3: (2, 3, 4)}  # patient -> the days whose check-in they answer
    w, _, _ = worker(db_url, clock)
    engine = engine_for(db_url)
    for day in (2, 3, 4, 5):
        clock.set(utc(2026, 12, day, 0, 0, 10))
        w.tick()  # sends this evening's check-in; R1 looks at yesterday's, now 24 h old
        with session_scope(engine) as session:
            phones = dict(session.execute(select(Patient.id, Patient.phone)).all())
            for i, days in answers.items():
                if day in days:
                    inbound.handle(
                        session, sender=phones[ids[i]], body="3 N", now=clock() + timedelta(hours=1)
                    )
    with session_scope(engine) as session:
        nudged = [p for (p,) in session.execute(select(Message.patient_id).where(Message.kind == "nudge"))]
        reviewed = [
            p for (p,) in session.execute(select(Escalation.patient_id).where(Escalation.rule == "R1"))
        ]
    # 0 missed only the last one; 1 never answered: a nudge after two, a review after three;
    # 2 answered the first only: two in a row by now, a nudge; 3 answered them all.
    assert sorted(nudged) == sorted([ids[1], ids[2]])
    assert reviewed == [ids[1]]


def test_hourly_rules_that_find_no_check_in_in_their_window_still_nudge_and_review_on_time(db_url):
    # The rules run every hour; in most hours no check-in went out 24 h earlier, and they look no
    # further. The hours that matter still find each missed check-in: a nudge after two in a row, a
    # review after three, each once, and none for the patient who answers.
    clock = FakeClock(utc(2026, 12, 1, 14, 0, 10))
    ids = enrol(db_url, add_clinic(db_url, clock()), clock(), n=2)  # check-ins at 00:00 UTC
    w, _, _ = worker(db_url, clock)
    engine = engine_for(db_url)
    nudged_at, reviewed_at = {}, {}
    while clock() < utc(2026, 12, 5, 3, 0):
        report = w.tick()
        if report.rules["nudged"]:
            nudged_at[clock()] = report.rules["nudged"]
        if report.rules["review"]:
            reviewed_at[clock()] = report.rules["review"]
        if clock().hour == 1:  # the second patient answers each check-in within the hour
            with session_scope(engine) as session:
                phone = session.get(Patient, ids[1]).phone
                inbound.handle(session, sender=phone, body="3 N", now=clock())
        clock.set(clock() + timedelta(hours=1))
    assert nudged_at == {utc(2026, 12, 4, 0, 0, 10): 1}
    assert reviewed_at == {utc(2026, 12, 5, 0, 0, 10): 1}
    with session_scope(engine) as session:
        assert session.execute(select(Escalation.patient_id)).scalars().all() == [ids[0]]
