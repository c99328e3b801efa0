"""Changing an enrolment or a clinic after the fact (`patient update`, `clinic update`).

Both validate exactly as enrolment and `clinic add` do (the same functions), change nothing unless
every value is good, plan the pending messages again at once (sent ones are history and stay as
they were), and leave an audit event naming what changed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from . import audit, clinics, patients, planner
from .clinics import NO_ROUTE, ROUTES, check_fields, get_clinic
from .enrolment import clinic_today, programme_end, validate
from .errors import BadInput
from .localtime import format_hhmm, in_window, parse_hhmm
from .models import Clinic, Enrolment, Patient
from .patients import enrolment_of, get_patient

PATIENT_FIELDS = ("name", "phone", "email", "channel", "timezone", "language")
ENROLMENT_FIELDS = ("reminder_times", "checkin_time", "checkin_every_days", "weeks")
# Named in the audit trail by field only: the trail must not become a second copy of who the patient
# is (forget erases the patient row, not every audit detail).
PERSONAL = ("name", "phone", "email")


def _one_line(problems: list[str], what: str) -> BadInput:
    return BadInput(problems[0]) if len(problems) == 1 else BadInput(what, problems)


def update_patient(
    session: Session, patient_id: int, now: datetime, actor: str = "cli", **options: object
) -> Patient:
    """`options`: what the user passed (None: not given), validated as text like a CSV row."""
    given: dict[str, str | None] = {k: str(v) for k, v in options.items() if v is not None}
    patient = get_patient(session, patient_id)
    if not given:
        raise BadInput(f"patient {patient_id}: nothing to change (give at least one option)")
    if patient.name == "(forgotten)":
        raise BadInput(f"patient {patient_id} was forgotten; there is nothing to update")
    enrolment = enrolment_of(session, patient_id)
    clinic = get_clinic(session, patient.clinic_id)
    current = {
        "name": patient.name,
        "phone": patient.phone,
        "email": patient.email,
        "channel": patient.channel,
        "timezone": patient.timezone,
        "language": patient.language,
        "program": enrolment.program,
        "start": enrolment.start_date.isoformat(),
        "reminder_times": enrolment.reminder_times,
        "checkin_time": enrolment.checkin_time,
        "checkin_every_days": str(enrolment.checkin_every_days),
        "weeks": str(enrolment.weeks),
        "consent": "yes",
    }
    # A programme already over is no reason to refuse a new phone number; only a change of length
    # that would end it in the past is (validate's "already ended" check looks at `today`).
    today = clinic_today(clinic, now) if "weeks" in given else enrolment.start_date
    item, problems = validate({**current, **given}, clinic, today)
    problems = [
        p.replace("start: a", "weeks: a", 1).replace("has already ended", "would already have ended")
        for p in problems
    ]
    if item is not None and item.phone != patient.phone:
        other = session.execute(
            select(col(Patient.id)).where(
                col(Patient.clinic_id) == clinic.id,
                col(Patient.phone) == item.phone,
                col(Patient.id) != patient.id,
            )
        ).scalar()
        if other is not None:
            problems.append(f"phone: {item.phone} is already enrolled at this clinic (patient {other})")
    if problems or item is None:
        raise _one_line(problems, f"patient {patient_id} not updated")
    new: dict[str, object] = {
        "name": item.name,
        "phone": item.phone,
        "email": item.email,
        "channel": item.channel,
        "timezone": item.timezone,
        "language": item.language,
        "reminder_times": ",".join(format_hhmm(t) for t in item.reminder_times),
        "checkin_time": format_hhmm(item.checkin_time),
        "checkin_every_days": item.checkin_every_days,
        "weeks": item.weeks,
    }
    old = {
        **{f: getattr(patient, f) for f in PATIENT_FIELDS},
        **{f: getattr(enrolment, f) for f in ENROLMENT_FIELDS},
    }
    changed = [f for f in new if new[f] != old[f]]
    if not changed:
        raise BadInput(f"patient {patient_id}: nothing to change (the values given are the current ones)")
    ends_at = None
    if "weeks" in changed or "timezone" in changed:
        ends_at = programme_end(enrolment.start_date, item.weeks, item.timezone)
    patients.change(session, patient, enrolment, {f: new[f] for f in changed}, ends_at, now)
    audit.record(
        session,
        now,
        actor,
        "patient.update",
        patient_id=patient.id,
        clinic_id=clinic.id,
        changed={f: ("changed" if f in PERSONAL else [old[f], new[f]]) for f in changed},
    )
    session.flush()
    if patient.status == "active":
        planner.replan(session, patient_id, now)
    return patient


CLINIC_FIELDS = (
    "name",
    "phone",
    "email",
    "alert_email",
    "alert_phone",
    "alert_webhook",
    "alert_webhook_format",
    "timezone",
    "quiet_start",
    "quiet_end",
    "emergency_number",
    "sms_name",
)
# What pending messages depend on: their sending window, and the clinic's name and emergency number
# in their text.
REPLAN_ON = ("timezone", "quiet_start", "quiet_end", "name", "emergency_number", "sms_name")


def update_clinic(
    session: Session, clinic_id: int, now: datetime, actor: str = "cli", **given: str | None
) -> tuple[Clinic, int]:
    """`given`: the options passed (None: not given; "" clears an optional field). Returns the clinic
    and how many patients' messages were planned again."""
    clinic = get_clinic(session, clinic_id)
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        raise BadInput(f"clinic {clinic_id}: nothing to change (give at least one option)")
    problems: list[str] = []
    fields = check_fields(given, problems)
    merged = {f: getattr(clinic, f) for f in CLINIC_FIELDS} | fields
    if not problems and parse_hhmm(merged["quiet_start"]) == parse_hhmm(merged["quiet_end"]):
        problems.append("quiet-end: the sending window is empty (quiet-start equals quiet-end)")
    if not problems and not any(merged[r] for r in ROUTES):
        problems.append(NO_ROUTE)
    if not problems and ("quiet_start" in fields or "quiet_end" in fields):
        outside = _outside_window(session, clinic_id, merged["quiet_start"], merged["quiet_end"])
        if outside:
            problems.append(
                f"quiet hours: {merged['quiet_start']}-{merged['quiet_end']} would leave the times of "
                f"patient{'s' if len(outside) > 1 else ''} {', '.join(map(str, outside[:10]))}"
                f"{' and more' if len(outside) > 10 else ''} outside the sending window: "
                f"change their times first (patient update ID --reminder-times/--checkin-time)"
            )
    if problems:
        raise _one_line(problems, f"clinic {clinic_id} not updated")
    changed = [f for f in fields if fields[f] != getattr(clinic, f)]
    if not changed:
        raise BadInput(f"clinic {clinic_id}: nothing to change (the values given are the current ones)")
    old = {f: getattr(clinic, f) for f in changed}
    clinics.change(session, clinic, {f: fields[f] for f in changed})
    audit.record(
        session,
        now,
        actor,
        "clinic.update",
        clinic_id=clinic.id,
        changed={f: [old[f], fields[f]] for f in changed},
    )
    session.flush()
    replanned = 0
    if any(f in REPLAN_ON for f in changed):
        active = session.execute(
            select(col(Patient.id)).where(
                col(Patient.clinic_id) == clinic_id, col(Patient.status) == "active"
            )
        ).scalars()
        for patient_id in list(active):
            planner.replan(session, patient_id, now)
            replanned += 1
    return clinic, replanned


def _outside_window(session: Session, clinic_id: int, start: str, end: str) -> list[int]:
    """Patients (not ended) of the clinic with a reminder or check-in time outside start-end."""
    window = parse_hhmm(start), parse_hhmm(end)
    rows = session.execute(
        select(col(Patient.id), col(Enrolment.reminder_times), col(Enrolment.checkin_time))
        .join(Enrolment, col(Enrolment.patient_id) == Patient.id)
        .where(
            col(Patient.clinic_id) == clinic_id, col(Patient.status).in_(("active", "paused", "opted_out"))
        )
        .order_by(col(Patient.id))
    ).all()
    return [
        pid
        for pid, reminders, checkin in rows
        if any(not in_window(parse_hhmm(t), *window) for t in [*reminders.split(","), checkin])
    ]
