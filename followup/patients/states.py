"""The state machine: a patient's statuses, who may move them, and the one function that does.

TRANSITIONS is the drawing in the package's docstring as data: which (from, to) moves exist and who
may make each. Every change of status goes through `_move`, which refuses anything else."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from ..errors import BadInput
from ..models import Patient


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    OPTED_OUT = "opted_out"
    COMPLETED = "completed"
    UNENROLLED = "unenrolled"


class By(StrEnum):
    """Who makes a change: the state machine allows each move to some of them only."""

    CLINIC = "clinic"  # a clinician (followup patient pause/resume/unenroll)
    PATIENT = "patient"  # the patient's own word by SMS (STOP, START)
    CARRIER = "carrier"  # Twilio error 21610: the number replied STOP to the carrier
    SCHEDULER = "scheduler"  # the programme's last day has ended
    ERASURE = "erasure"  # the patient's data deleted on request (records.forget)
    ENROLMENT = "enrolment"  # the clinic enrols again a patient whose programme ended (episodes.py)


_S = Status
TRANSITIONS: Mapping[tuple[Status, Status], frozenset[By]] = {
    (_S.ACTIVE, _S.PAUSED): frozenset({By.CLINIC}),
    (_S.PAUSED, _S.ACTIVE): frozenset({By.CLINIC}),
    # Only the patient opts back in (CLINICAL_RULES.md): a clinician cannot undo a STOP.
    (_S.OPTED_OUT, _S.ACTIVE): frozenset({By.PATIENT}),
    **{
        (s, _S.OPTED_OUT): frozenset({By.PATIENT, By.CARRIER})
        for s in (_S.ACTIVE, _S.PAUSED, _S.COMPLETED, _S.UNENROLLED)
    },
    **{(s, _S.COMPLETED): frozenset({By.SCHEDULER}) for s in (_S.ACTIVE, _S.PAUSED)},
    # A new episode of the same patient; `resume` cannot bring back an ended programme.
    **{(s, _S.ACTIVE): frozenset({By.ENROLMENT}) for s in (_S.COMPLETED, _S.UNENROLLED)},
    **{
        (s, _S.UNENROLLED): frozenset({By.CLINIC, By.ERASURE})
        for s in (_S.ACTIVE, _S.PAUSED, _S.OPTED_OUT, _S.COMPLETED)
    },
}


def may(current: str, target: str, by: By) -> bool:
    """Whether `by` may move a patient from `current` to `target` (a status to itself is no move)."""
    return by in TRANSITIONS.get((Status(current), Status(target)), frozenset())


def refusal(patient_id: int, current: str, target: str) -> str:
    """The one line a refused move is reported with."""
    hint = " (only the patient can opt back in, by replying START)" if current == Status.OPTED_OUT else ""
    return f"patient {patient_id} is {current}; cannot make it {target}{hint}"


def _move(patient: Patient, target: Status, by: By, now: datetime, reason: str | None) -> str:
    """Change the status if the state machine allows it; returns the status it had."""
    previous = patient.status
    if not may(previous, target, by):
        raise BadInput(refusal(patient.id or 0, previous, target))
    patient.status, patient.status_reason, patient.updated_at = target.value, reason, now
    return previous
