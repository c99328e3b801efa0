"""Creating patients and changing what they enrolled with (both validated by enrolment.py and
updates.py first), and making way for a new episode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete
from sqlmodel import Session, col

from .. import audit, episodes, planner
from ..models import Clinic, Enrolment, Patient, stored_id, table_of
from .consent import _consent
from .rows import enrolment_of
from .states import By, Status, _move


@dataclass(frozen=True)
class Programme:
    """What an enrolment starts with (validated by enrolment.py)."""

    program: str
    start_date: date
    weeks: int
    reminder_times: str  # "09:00,13:00" patient-local
    checkin_time: str  # "19:00" patient-local
    checkin_every_days: int
    ends_at: datetime


@dataclass(frozen=True)
class Person:
    name: str
    phone: str
    email: str | None
    timezone: str
    language: str
    channel: str


def create(
    session: Session,
    clinic: Clinic,
    people: list[tuple[Person, Programme]],
    now: datetime,
    method: str,
    returning: Mapping[str, Patient] | None = None,
) -> list[tuple[Patient, Enrolment]]:
    """New active patients with their enrolment and consent granted; confirmations queued and the
    first two days planned. A phone in `returning` is that ended patient enrolled again: the same
    patient, a new episode (episodes.py keeps the one that ended)."""
    returning = returning or {}
    patients = [
        _return(session, returning[p.phone], p, now, method)
        if p.phone in returning
        else Patient(
            clinic_id=stored_id(clinic),
            name=p.name,
            phone=p.phone,
            email=p.email,
            timezone=p.timezone,
            language=p.language,
            channel=p.channel,
            status=Status.ACTIVE.value,
            created_at=now,
            updated_at=now,
        )
        for p, _ in people
    ]
    session.add_all(patients)
    session.flush()
    enrolments = []
    for patient, (_, programme) in zip(patients, people):
        enrolment = Enrolment(
            patient_id=stored_id(patient),
            program=programme.program,
            start_date=programme.start_date,
            weeks=programme.weeks,
            reminder_times=programme.reminder_times,
            checkin_time=programme.checkin_time,
            checkin_every_days=programme.checkin_every_days,
            created_at=now,
            ends_at=programme.ends_at,
        )
        enrolments.append(enrolment)
        session.add(enrolment)
        evidence = "--consent" if method == "cli" else "consent column"
        _consent(session, stored_id(patient), "granted", method, evidence, now)
        audit.record(session, now, method, "patient.enrol", patient_id=patient.id, clinic_id=clinic.id)
    session.flush()
    enrolled = list(zip(patients, enrolments))
    planner.queue_confirmations(session, clinic, enrolled, now)
    planner.plan(session, now, enrolment_ids=[e.id for e in enrolments if e.id is not None])
    return enrolled


def _return(session: Session, patient: Patient, person: Person, now: datetime, method: str) -> Patient:
    episodes.close(session, patient, now, method)  # kept as an episode: its row makes way
    drop_enrolment(session, stored_id(enrolment_of(session, stored_id(patient))))
    _move(patient, Status.ACTIVE, By.ENROLMENT, now, None)
    patient.name, patient.email, patient.channel = person.name, person.email, person.channel
    patient.timezone, patient.language, patient.phone_unusable = person.timezone, person.language, False
    return patient


def change(
    session: Session,
    patient: Patient,
    enrolment: Enrolment,
    changes: Mapping[str, object],
    ends_at: datetime | None,
    now: datetime,
) -> None:
    """`patient update`'s new values (validated by updates.py), written to the patient and its
    enrolment; a status is never among them: statuses move only through the state machine."""
    assert "status" not in changes
    patient_fields = set(table_of(Patient).c.keys())
    for name, value in changes.items():
        setattr(patient if name in patient_fields else enrolment, name, value)
    if "phone" in changes:
        patient.phone_unusable = False  # a new number has not failed yet
    if ends_at is not None:
        enrolment.ends_at = ends_at
    patient.updated_at = now
    session.add_all([patient, enrolment])


def drop_enrolment(session: Session, enrolment_id: int) -> None:
    """An ended enrolment's row, once episodes.py has kept it as an episode."""
    session.execute(delete(Enrolment).where(col(Enrolment.id) == enrolment_id))
