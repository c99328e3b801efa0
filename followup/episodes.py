"""Re-enrolment: a patient whose enrolment ended (completed or unenrolled) is enrolled again as a
new episode of the same patient (same id), with the history kept.

The enrolment table keeps one row per patient, the current episode, so every query that joins a
patient to its enrolment still finds exactly one row. The episode that ended is copied into
enrolment_episode and its enrolment row replaced by a new one (a new id): the new programme's
messages get dedupe keys of their own, and cannot collide with the old programme's on the same days.
Messages, replies, readings, escalations, consent and audit stay with the patient, as they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from . import audit
from .localtime import to_utc_z
from .models import Enrolment, EnrolmentEpisode, Patient

ENDED = ("completed", "unenrolled")
FORGOTTEN = "(forgotten)"


def can_return(patient_status: str, name: str) -> bool:
    return patient_status in ENDED and name != FORGOTTEN


def close(session: Session, patient: Patient, now: datetime, method: str) -> int:
    """Keep the patient's ended enrolment as an episode; returns the number the new episode will
    have. The caller (patients.create) then drops the old row and creates the new enrolment."""
    old = session.execute(select(Enrolment).where(col(Enrolment.patient_id) == patient.id)).scalar_one()
    assert patient.id is not None
    number: int = (
        session.execute(
            select(func.count())
            .select_from(EnrolmentEpisode)
            .where(col(EnrolmentEpisode.patient_id) == patient.id)
        ).scalar_one()
        + 1
    )
    session.add(
        EnrolmentEpisode(
            patient_id=patient.id,
            number=number,
            enrolment_id=old.id,
            program=old.program,
            start_date=old.start_date,
            weeks=old.weeks,
            reminder_times=old.reminder_times,
            checkin_time=old.checkin_time,
            checkin_every_days=old.checkin_every_days,
            outcome=patient.status,
            created_at=old.created_at,
            ended_at=old.ended_at or now,
        )
    )
    audit.record(
        session,
        now,
        method,
        "patient.reenrol",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        previous_episode=number,
        previous_outcome=patient.status,
    )
    return number + 1


def episodes_json(session: Session, patient_id: int, current: Enrolment | None) -> list[dict[str, Any]]:
    """Every enrolment of the patient, oldest first; the last one is the current."""
    past = session.execute(
        select(EnrolmentEpisode)
        .where(col(EnrolmentEpisode.patient_id) == patient_id)
        .order_by(col(EnrolmentEpisode.number))
    ).scalars()
    rows = [
        {
            "episode": e.number,
            "program": e.program,
            "start": e.start_date.isoformat(),
            "weeks": e.weeks,
            "reminder_times": e.reminder_times.split(","),
            "checkin_time": e.checkin_time,
            "enrolled_at": to_utc_z(e.created_at),
            "ended_at": to_utc_z(e.ended_at),
            "outcome": e.outcome,
        }
        for e in past
    ]
    if current is not None:
        rows.append(
            {
                "episode": len(rows) + 1,
                "program": current.program,
                "start": current.start_date.isoformat(),
                "weeks": current.weeks,
                "reminder_times": current.reminder_times.split(","),
                "checkin_time": current.checkin_time,
                "enrolled_at": to_utc_z(current.created_at),
                "ended_at": to_utc_z(current.ended_at),
                "outcome": None if current.ended_at is None else "ended",
            }
        )
    return rows
