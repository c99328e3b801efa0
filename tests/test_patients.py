"""A patient's status: every move the state machine allows, every one it refuses, and who may make it."""

from datetime import timedelta
from itertools import product

import pytest
from factories import add_clinic, enrol, utc
from sqlalchemy import select, update

from followup import patients
from followup.db import engine_for, session_scope
from followup.errors import BadInput
from followup.models import Clinic, ClinicRow, Consent, Enrolment, Patient, PatientRow
from followup.patients import By

STATUSES = ("active", "paused", "opted_out", "completed", "unenrolled")
# The moves as CLINICAL_RULES.md and the README describe them, written out one by one.
ALLOWED = {
    ("active", "paused", "clinic"),
    ("paused", "active", "clinic"),
    ("opted_out", "active", "patient"),  # only the patient's START undoes a STOP
    *(
        (s, "opted_out", who)
        for s in ("active", "paused", "completed", "unenrolled")
        for who in ("patient", "carrier")
    ),
    ("completed", "active", "enrolment"),  # enrolled again: a new episode of the same patient
    ("unenrolled", "active", "enrolment"),
    ("active", "completed", "scheduler"),
    ("paused", "completed", "scheduler"),
    *(
        (s, "unenrolled", who)
        for s in ("active", "paused", "opted_out", "completed")
        for who in ("clinic", "erasure")
    ),
}
EVERY_MOVE = list(product(STATUSES, STATUSES, [b.value for b in By]))


@pytest.mark.parametrize("current, target, by", EVERY_MOVE, ids=lambda v: v)
def test_a_move_is_allowed_exactly_when_the_rules_list_it_for_whoever_makes_it(current, target, by):
    assert patients.may(current, target, By(by)) == ((current, target, by) in ALLOWED)


def test_a_refusal_says_what_the_patient_is_and_who_can_undo_an_opt_out():
    assert patients.refusal(7, "completed", "paused") == "patient 7 is completed; cannot make it paused"
    assert patients.refusal(7, "opted_out", "active").endswith(
        "(only the patient can opt back in, by replying START)"
    )


NOW = utc(2026, 12, 1, 15, 0)


def _patient_in(url: str, status: str) -> int:
    [patient_id] = enrol(url, add_clinic(url, NOW), NOW)
    with session_scope(engine_for(url)) as session:
        session.execute(update(Patient).where(Patient.id == patient_id).values(status=status))
    return patient_id


def _status(url: str, patient_id: int) -> str:
    with session_scope(engine_for(url)) as session:
        return session.get(Patient, patient_id).status


CLINIC_MOVES = {"paused": patients.pause, "active": patients.resume, "unenrolled": patients.unenroll}


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", sorted(CLINIC_MOVES))
def test_a_clinician_moves_a_patient_only_where_the_state_machine_allows(sqlite_url, current, target):
    patient_id = _patient_in(sqlite_url, current)
    move = CLINIC_MOVES[target]
    if current == target == "active":
        expected = "nothing to resume"  # resume of an active patient with nothing held
    elif current == target or (current, target, "clinic") in ALLOWED:
        expected = None
    else:
        expected = f"patient {patient_id} is {current}; cannot make it {target}"
    if expected is None:
        with session_scope(engine_for(sqlite_url)) as session:
            move(session, patient_id, NOW)
        assert _status(sqlite_url, patient_id) == target
    else:
        with pytest.raises(BadInput, match=expected):
            with session_scope(engine_for(sqlite_url)) as session:
                move(session, patient_id, NOW)
        assert _status(sqlite_url, patient_id) == current  # nothing changed


@pytest.mark.parametrize("current", STATUSES)
def test_stop_opts_out_from_any_status_once_and_start_undoes_only_an_opt_out(sqlite_url, current):
    patient_id = _patient_in(sqlite_url, current)
    with session_scope(engine_for(sqlite_url)) as session:
        changed = patients.opt_out(session, patient_id, NOW, method="sms", evidence="STOP", confirm=False)
    assert changed == (current != "opted_out")
    assert _status(sqlite_url, patient_id) == "opted_out"
    with session_scope(engine_for(sqlite_url)) as session:
        assert patients.opt_in(session, patient_id, NOW, method="sms", evidence="START") is True
        assert patients.opt_in(session, patient_id, NOW, method="sms", evidence="START") is False
    assert _status(sqlite_url, patient_id) == "active"
    with session_scope(engine_for(sqlite_url)) as session:
        actions = list(session.scalars(select(Consent.action).where(Consent.patient_id == patient_id)))
    assert actions == ["granted"] + (["opted_out"] if current != "opted_out" else []) + ["opted_in"]


def test_a_finished_programme_completes_active_and_paused_patients_only(sqlite_url):
    by_status = {status: _patient_in(sqlite_url, status) for status in STATUSES}
    after_the_programme = utc(2027, 1, 20, 15, 0)
    with session_scope(engine_for(sqlite_url)) as session:
        assert patients.complete_finished(session, after_the_programme) == 2
    assert {s: _status(sqlite_url, p) for s, p in by_status.items()} == {
        "active": "completed",
        "paused": "completed",
        "opted_out": "opted_out",
        "completed": "completed",
        "unenrolled": "unenrolled",
    }


def test_the_read_only_rows_carry_every_column_of_their_tables():
    # A column added to a table without its row type would be silently missing where replies are read.
    assert PatientRow._fields == tuple(Patient.__table__.c.keys())
    assert ClinicRow._fields == tuple(Clinic.__table__.c.keys())


def test_the_hourly_rules_complete_a_finished_programme_at_their_first_run_after_its_end(sqlite_url):
    # Before the end the rules find nothing to complete and look no further; the first run after it
    # completes the patient, once.
    patient_id = _patient_in(sqlite_url, "active")
    with session_scope(engine_for(sqlite_url)) as session:
        ends_at = session.execute(
            select(Enrolment.ends_at).where(Enrolment.patient_id == patient_id)
        ).scalar()
    completed = {}
    for hours in range(-3, 3):
        at = ends_at + timedelta(hours=hours, minutes=30)
        with session_scope(engine_for(sqlite_url)) as session:
            completed[hours] = patients.complete_finished(session, at)
    assert completed == {-3: 0, -2: 0, -1: 0, 0: 1, 1: 0, 2: 0}
    assert _status(sqlite_url, patient_id) == "completed"
