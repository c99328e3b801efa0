"""A clinician's moves: pause, resume, unenrol, and holding exercise reminders after an escalation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from .. import audit, outbox, planner
from ..errors import BadInput
from ..models import Enrolment, Patient
from .rows import enrolment_of, get_patient
from .states import By, Status, _move


def _by_clinic(
    session: Session, patient_id: int, target: Status, now: datetime, reason: str | None, actor: str
) -> Patient:
    patient = get_patient(session, patient_id)
    if patient.status == target:
        return patient
    previous = _move(patient, target, By.CLINIC, now, reason)
    session.add(patient)
    audit.record(
        session,
        now,
        actor,
        f"patient.{target}",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        previous=previous,
        reason=reason,
    )
    return patient


def pause(
    session: Session, patient_id: int, now: datetime, reason: str | None = None, actor: str = "cli"
) -> Patient:
    patient = _by_clinic(session, patient_id, Status.PAUSED, now, reason, actor)
    outbox.cancel_pending(session, patient_id, now, "patient paused", kinds=outbox.SCHEDULED_KINDS)
    return patient


def resume(
    session: Session, patient_id: int, now: datetime, reason: str | None = None, actor: str = "cli"
) -> Patient:
    """Resume a paused patient, or release exercise reminders held after an escalation."""
    enrolment = enrolment_of(session, patient_id)
    held = enrolment.reminders_held
    if get_patient(session, patient_id).status == Status.ACTIVE and not held:
        raise BadInput(f"patient {patient_id} is active and nothing is held; nothing to resume")
    patient = _by_clinic(session, patient_id, Status.ACTIVE, now, reason, actor)
    if held:
        enrolment.reminders_held = False
        session.add(enrolment)
        audit.record(session, now, actor, "patient.reminders_released", patient_id=patient_id, reason=reason)
    session.flush()
    planner.replan(session, patient_id, now)
    return patient


def unenroll(
    session: Session, patient_id: int, now: datetime, reason: str | None = None, actor: str = "cli"
) -> Patient:
    patient = _by_clinic(session, patient_id, Status.UNENROLLED, now, reason, actor)
    enrolment = enrolment_of(session, patient_id)
    enrolment.ended_at = now
    session.add(enrolment)
    outbox.cancel_pending(session, patient_id, now, "patient unenrolled", kinds=outbox.PATIENT_KINDS)
    return patient


def hold_reminders(session: Session, patient_id: int, now: datetime) -> None:
    """After an emergency/urgent escalation: exercise reminders stop (check-ins go on) until a
    clinician runs `followup resume`. The status does not change."""
    session.execute(
        update(Enrolment).where(col(Enrolment.patient_id) == patient_id).values(reminders_held=True)
    )
    outbox.cancel_pending(session, patient_id, now, "reminders held after an escalation", kinds=("reminder",))
