"""Rules that fire because time passed, not because a message arrived. Run after every cycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from . import audit, outbox
from .models import Enrolment, Patient


def complete_finished(session: Session, now: datetime) -> int:
    """Patients whose last programme day has ended become `completed`; nothing more is planned."""
    rows = session.execute(
        select(Enrolment, Patient).join(Patient, Patient.id == Enrolment.patient_id)
        .where(Enrolment.ends_at <= now, Enrolment.ended_at.is_(None), Patient.status.in_(("active", "paused")))
    ).all()
    for enrolment, patient in rows:
        enrolment.ended_at = now
        patient.status, patient.updated_at = "completed", now
        session.add_all([enrolment, patient])
        outbox.cancel_pending(session, patient.id, now, "programme completed", kinds=outbox.SCHEDULED_KINDS)
        audit.record(session, now, "scheduler", "patient.completed", patient_id=patient.id,
                     clinic_id=patient.clinic_id)
    return len(rows)


def run(session: Session, now: datetime) -> dict[str, int]:
    """Every time-based rule, in order. Returns what each did (for the tick summary)."""
    return {"completed": complete_finished(session, now)}
