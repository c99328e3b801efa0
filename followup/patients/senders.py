"""Who wrote an inbound SMS: the patient with the number, their clinic and programme."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlmodel import Session

from ..models import Clinic, ClinicRow, Enrolment, Patient, PatientRow, table_of
from ..prepared import Prepared
from .rows import _C, _E, _P
from .states import Status


class Sender(NamedTuple):
    """Who wrote: the patient, their clinic and the programme's key."""

    patient: PatientRow
    clinic: ClinicRow
    program: str


# Every inbound SMS runs this. Columns labelled patient_*, clinic_*: each row type takes its own by name.
_SENDER = Prepared(
    select(
        *(_P[name].label(f"patient_{name}") for name in PatientRow._fields),
        *(_C[name].label(f"clinic_{name}") for name in ClinicRow._fields),
        _E.program,
    )
    .join_from(table_of(Patient), table_of(Clinic), _C.id == _P.clinic_id)
    .join(table_of(Enrolment), _E.patient_id == _P.id)
    .where(_P.phone == bindparam("phone"))
)
# Which of several patients with one number (one per clinic) a message is from: an active one first.
_RANK = {Status.ACTIVE: 0, Status.PAUSED: 1, Status.OPTED_OUT: 2, Status.COMPLETED: 3, Status.UNENROLLED: 4}


def find_sender(session: Session, phone: str) -> Sender | None:
    """The patient with this number; an active one first when several clinics know it."""
    rows = _SENDER.rows(session.connection(), phone=phone)
    if not rows:
        return None
    senders = [
        Sender(PatientRow.of(row, "patient_"), ClinicRow.of(row, "clinic_"), row.program) for row in rows
    ]
    return min(senders, key=lambda s: (_RANK.get(s.patient.status, 9), -s.patient.id))  # type: ignore[call-overload]
