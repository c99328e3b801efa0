"""How a patient's enrolment ends without a clinician: the programme's last day passes
(completion), or their personal data is deleted on request (forget)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlmodel import Session, col

from .. import audit, outbox
from ..errors import BadInput
from ..models import Consent, Enrolment, Patient, table_of
from ..prepared import Prepared
from .rows import _E, _P, enrolment_of, get_patient
from .states import By, Status, _move, may, refusal

# Whether any enrolment still running has ended (on the ends_at index): the hourly rules ask, and on
# all but a few hours of a programme the answer is no and the ORM query below need not run.
_ANY_FINISHED = Prepared(
    select(_E.id)
    .join_from(table_of(Enrolment), table_of(Patient), _P.id == _E.patient_id)
    .where(
        _E.ends_at <= bindparam("now"),
        _E.ended_at.is_(None),
        or_(_P.status == Status.ACTIVE.value, _P.status == Status.PAUSED.value),
    )
    .limit(1)
)


def complete_finished(session: Session, now: datetime) -> int:
    """Patients whose last programme day has ended become `completed`; nothing more is planned."""
    if _ANY_FINISHED.first(session.connection(), now=now) is None:
        return 0
    rows = session.execute(
        select(Enrolment, Patient)
        .join(Patient, col(Patient.id) == Enrolment.patient_id)
        .where(
            col(Enrolment.ends_at) <= now,
            col(Enrolment.ended_at).is_(None),
            col(Patient.status).in_((Status.ACTIVE.value, Status.PAUSED.value)),
        )
    ).all()
    for enrolment, patient in rows:
        enrolment.ended_at = now
        _move(patient, Status.COMPLETED, By.SCHEDULER, now, patient.status_reason)
        session.add_all([enrolment, patient])
        outbox.cancel_pending(session, patient.id, now, "programme completed", kinds=outbox.SCHEDULED_KINDS)
        audit.record(
            session, now, "scheduler", "patient.completed", patient_id=patient.id, clinic_id=patient.clinic_id
        )
    return len(rows)


FORGOTTEN = "(forgotten)"


def forget(session: Session, patient_id: int, now: datetime) -> None:
    """Erase what identifies the patient: a tombstone row (ids elsewhere stay meaningful), unenrolled,
    and the consent history without its evidence."""
    patient = get_patient(session, patient_id)
    if patient.status != Status.UNENROLLED and not may(patient.status, Status.UNENROLLED, By.ERASURE):
        raise BadInput(refusal(patient_id, patient.status, Status.UNENROLLED))
    session.execute(
        update(Patient)
        .where(col(Patient.id) == patient_id)
        .values(
            name=FORGOTTEN,
            phone=f"forgotten-{patient_id}",
            email=None,
            status=Status.UNENROLLED.value,
            status_reason="personal data deleted on request",
            updated_at=now,
        )
    )
    session.execute(update(Consent).where(col(Consent.patient_id) == patient_id).values(evidence=None))
    enrolment = enrolment_of(session, patient_id)
    enrolment.ended_at = enrolment.ended_at or now
    session.add(enrolment)
