"""The planner: which reminders and check-ins are due within a rolling horizon, written to the outbox.

plan()    writes every reminder/check-in due within the horizon, keyed enrolment:kind:date:slot:channel,
          so re-planning never duplicates (a cancelled row for the same key is revived instead).
replan()  after a change of times, zone, channel or status: cancel what is pending and plan afresh.
queue_confirmations()  the opt-in confirmation of a new enrolment.

The rows go through outbox.write_planned (the outbox owns the `message` table). The planner keeps
one bookmark of its own, `enrolment.planned_until`: how far each enrolment is planned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Row
from sqlmodel import Session

from . import outbox
from .db import one_at_a_time
from .localtime import parse_hhmm
from .messages import exercise_context, render
from .models import Clinic, Enrolment, Patient, table_of
from .programs import get_program
from .schedule import Plan, slots

HORIZON = timedelta(hours=48)
GRACE = timedelta(hours=2)  # a scheduled message not out within this is skipped, never sent late
PLAN_BATCH = 1000


def channels_for(patient_channel: str) -> tuple[str, ...]:
    return ("sms", "email") if patient_channel == "both" else (patient_channel,)


def _plan_of(row: Row[Any]) -> Plan:
    return Plan(
        timezone=row.timezone,
        start=row.start_date,
        weeks=row.weeks,
        reminder_times=tuple(parse_hhmm(t) for t in row.reminder_times.split(",")),
        checkin_time=parse_hhmm(row.checkin_time),
        checkin_every_days=row.checkin_every_days,
        window_start=parse_hhmm(row.quiet_start),
        window_end=parse_hhmm(row.quiet_end),
    )


_E, _P, _C = table_of(Enrolment).c, table_of(Patient).c, table_of(Clinic).c
# What planning reads of an enrolment, its patient and clinic: plain rows, not three ORM entities.
_TO_PLAN = (
    select(
        _E.id,
        _E.program,
        _E.start_date,
        _E.weeks,
        _E.reminder_times,
        _E.checkin_time,
        _E.checkin_every_days,
        _E.reminders_held,
        _P.id.label("patient_id"),
        _P.timezone,
        _P.channel,
        _P.language,
        _C.id.label("clinic_id"),
        _C.name.label("clinic_name"),
        _C.sms_name.label("clinic_sms_name"),
        _C.quiet_start,
        _C.quiet_end,
        _C.emergency_number,
    )
    .join_from(table_of(Enrolment), table_of(Patient), _P.id == _E.patient_id)
    .join(table_of(Clinic), _C.id == _P.clinic_id)
    .where(
        _P.status == "active",
        _E.ended_at.is_(None),
        _E.id > bindparam("last_id"),
        or_(_E.planned_until.is_(None), _E.planned_until < bindparam("refresh_before")),
    )
    .order_by(_E.id)
    .limit(PLAN_BATCH)
)


def plan(
    session: Session,
    now: datetime,
    *,
    horizon: timedelta = HORIZON,
    enrolment_ids: Sequence[int] | None = None,
) -> int:
    """Write the messages due in [now, now + horizon) for enrolments that need it. Returns rows written.

    Each enrolment remembers how far it is planned; only those within half a horizon of running out
    are visited, so a re-plan with nothing new is one indexed query.
    """
    if enrolment_ids is None and not one_at_a_time(session, "followup.plan"):
        # Another worker is planning the same enrolments right now; waiting on its upserts gains nothing.
        return 0
    written = 0
    refresh_before = now + horizon / 2
    planned_until = now + horizon
    bodies: dict[tuple[Any, ...], tuple[str, str | None]] = {}
    last_id = 0
    session.flush()  # enrolments just added in this session (enrol) are read through Core below
    connection = session.connection()
    while True:
        query = _TO_PLAN if enrolment_ids is None else _TO_PLAN.where(_E.id.in_(enrolment_ids))
        batch = connection.execute(query, {"last_id": last_id, "refresh_before": refresh_before}).all()
        if not batch:
            return written
        rows: list[outbox.Planned] = []
        for e in batch:
            for slot in slots(_plan_of(e), now, planned_until):  # type: ignore[arg-type]
                if slot.kind == "reminder" and e.reminders_held:
                    continue  # held after an emergency/urgent escalation until a clinician resumes
                # The first check-in of each programme week names the emergency signs (safety-netting,
                # CLINICAL_RULES.md); the others stay one short question.
                safety_net = (
                    slot.kind == "checkin"
                    and (slot.local_date - e.start_date).days % 7 < e.checkin_every_days
                )
                for channel in channels_for(e.channel):
                    key = (slot.kind, channel, e.language, e.clinic_id, e.program, safety_net)
                    if key not in bodies:
                        rendered = render(
                            slot.kind,
                            channel,
                            e.language,
                            safety_net=safety_net,
                            clinic={
                                "name": e.clinic_name,
                                "sms_name": e.clinic_sms_name,
                                "emergency_number": e.emergency_number,
                            },
                            exercises=exercise_context(get_program(e.program), e.language),
                        )
                        bodies[key] = (rendered.body, rendered.subject)
                    body, subject = bodies[key]
                    rows.append(
                        outbox.Planned(
                            patient_id=e.patient_id,
                            clinic_id=e.clinic_id,
                            kind=slot.kind,
                            channel=channel,
                            dedupe_key=f"{e.id}:{slot.kind}:{slot.local_date}:{slot.slot}:{channel}",
                            local_date=slot.local_date,
                            slot=slot.slot,
                            due_at=slot.due,
                            expires_at=slot.due + GRACE,
                            body=body,
                            subject=subject,
                        )
                    )
        outbox.write_planned(session, rows, now)
        written += len(rows)
        connection.execute(
            update(table_of(Enrolment))
            .where(_E.id.in_([e.id for e in batch]))
            .values(planned_until=planned_until)
        )
        last_id = batch[-1].id


def replan(session: Session, patient_id: int, now: datetime) -> int:
    """After a change of times, zone, channel or status: cancel what is pending and plan afresh."""
    outbox.cancel_pending(session, patient_id, now, "re-planned", kinds=outbox.SCHEDULED_KINDS)
    enrolment_id = session.execute(select(_E.id).where(_E.patient_id == patient_id)).scalar_one()
    session.execute(update(table_of(Enrolment)).where(_E.id == enrolment_id).values(planned_until=None))
    return plan(session, now, enrolment_ids=[enrolment_id])


def queue_confirmations(
    session: Session, clinic: Clinic, enrolled: Sequence[tuple[Patient, Enrolment]], now: datetime
) -> None:
    for patient, enrolment in enrolled:
        for channel in channels_for(patient.channel):
            rendered = render(
                "confirmation",
                channel,
                patient.language,
                weeks=enrolment.weeks,
                clinic={
                    "name": clinic.name,
                    "sms_name": clinic.sms_name,
                    "emergency_number": clinic.emergency_number,
                },
            )
            outbox.queue(
                session,
                patient_id=patient.id,
                clinic_id=clinic.id or 0,
                kind="confirmation",
                channel=channel,
                body=rendered.body,
                subject=rendered.subject,
                now=now,
                dedupe_key=f"{enrolment.id}:confirmation:{channel}",
            )
