"""A patient's status, and the only module that changes it: one state machine, consent included.

    active ──pause (clinic)──> paused ──resume (clinic)──> active
    active, paused ──programme over (scheduler)──> completed
    any but opted_out ──STOP (patient) / 21610 (carrier)──> opted_out ──START (patient)──> active
    any but unenrolled ──unenroll (clinic) / forget (erasure)──> unenrolled

TRANSITIONS is that drawing as data: which (from, to) moves exist and who may make each. Every
change goes through `_move`, which refuses anything else; the functions below add what each move
means (the consent history, the audit trail, what is cancelled or planned again).

Owns the `patient`, `enrolment` and `consent` tables, except `enrolment.planned_until`: the planner's
bookmark of how far it has planned (planner.py), which nothing else reads or writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import bindparam, delete, or_, select, update
from sqlmodel import Session, col

from . import audit, episodes, events, outbox, planner
from .errors import BadInput, NotFound
from .messages import render
from .models import Clinic, ClinicRow, Consent, Enrolment, Patient, PatientRow, stored_id, table_of
from .prepared import Prepared

CONSENT_WORDING = "enrol-v1"  # the consent wording the clinic read out; bump when it changes


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


class Sender(NamedTuple):
    """Who wrote: the patient, their clinic and the programme's key."""

    patient: PatientRow
    clinic: ClinicRow
    program: str


_P, _C, _E = (table_of(t).c for t in (Patient, Clinic, Enrolment))
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


def get_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"patient: no patient with id {patient_id}")
    return patient


def enrolment_of(session: Session, patient_id: int) -> Enrolment:
    enrolment: Enrolment = session.execute(
        select(Enrolment).where(col(Enrolment.patient_id) == patient_id)
    ).scalar_one()
    return enrolment


# --- enrolling ------------------------------------------------------------------------------------


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


# --- a clinician's moves ----------------------------------------------------------------------------


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


# --- consent: the patient's word, or the carrier's -------------------------------------------------


def _consent(
    session: Session, patient_id: int, action: str, method: str, evidence: str, now: datetime
) -> None:
    """One entry of the consent history: granted, opted_out or opted_in, how, and under which wording."""
    session.add(
        Consent(
            patient_id=patient_id,
            action=action,
            method=method,
            wording_version=CONSENT_WORDING,
            evidence=evidence,
            at=now,
        )
    )


def opt_out(
    session: Session, patient_id: int, now: datetime, *, method: str, evidence: str, confirm: bool = True
) -> bool:
    """Opt the patient out now: cancel what is pending, and (when the patient asked) confirm once.

    `method`: "sms" (the patient's STOP) or "carrier" (Twilio's 21610). Returns False when the
    patient was already opted out (nothing is sent twice).
    """
    patient = get_patient(session, patient_id)
    if patient.status == Status.OPTED_OUT:
        return False
    previous = _move(
        patient, Status.OPTED_OUT, By.CARRIER if method == "carrier" else By.PATIENT, now, evidence
    )
    session.add(patient)
    _consent(session, patient_id, "opted_out", method, evidence, now)
    audit.record(
        session,
        now,
        method,
        "patient.opted_out",
        patient_id=patient_id,
        clinic_id=patient.clinic_id,
        previous=previous,
    )
    events.patient_opted(session, patient, "opted_out", now)
    outbox.cancel_pending(session, patient_id, now, "patient opted out")
    if confirm:
        clinic = session.get_one(Clinic, patient.clinic_id)
        text = render(
            "optout",
            "sms",
            patient.language,
            clinic={"name": clinic.name, "sms_name": clinic.sms_name, "phone": clinic.phone},
        )
        outbox.queue(
            session,
            patient_id=patient_id,
            clinic_id=patient.clinic_id,
            kind="optout",
            channel="sms",
            body=text.body,
            now=now,
            quiet_exempt=True,
        )
    session.flush()
    return True


def opt_in(session: Session, patient_id: int, now: datetime, *, method: str, evidence: str) -> bool:
    """The patient texted START/UNSTOP/YES: active again, messages planned from now."""
    patient = get_patient(session, patient_id)
    if patient.status != Status.OPTED_OUT:
        return False
    _move(patient, Status.ACTIVE, By.PATIENT, now, None)
    session.add(patient)
    _consent(session, patient_id, "opted_in", method, evidence, now)
    audit.record(session, now, method, "patient.opted_in", patient_id=patient_id, clinic_id=patient.clinic_id)
    events.patient_opted(session, patient, "opted_in", now)
    session.flush()
    planner.replan(session, patient_id, now)
    return True


def carrier_refused(
    session: Session, patient_id: int, consequence: str, now: datetime, evidence: str, actor: str = "dispatch"
) -> None:
    """What a provider's refusal means for the patient (channels.base.DeliveryError.consequence):
    "opted_out" (they replied STOP to the carrier) or "unusable" (the number cannot take SMS)."""
    if consequence == "opted_out":
        opt_out(session, patient_id, now, method="carrier", evidence=evidence, confirm=False)
    elif consequence == "unusable":
        session.execute(
            update(Patient).where(col(Patient.id) == patient_id).values(phone_unusable=True, updated_at=now)
        )
        audit.record(session, now, actor, "patient.phone_unusable", patient_id=patient_id, error=evidence)


# --- time and erasure -----------------------------------------------------------------------------


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
