"""The outbox: the database *is* the schedule.

plan()   writes every reminder/check-in due within a rolling horizon, keyed enrolment:kind:date:slot:channel,
         so re-planning never duplicates (a cancelled row for the same key is revived instead).
claim()  leases due rows to one worker (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE),
         under the worker's name and a fresh token. An expired lease (a worker that died or stalled)
         makes the row claimable again, with a new token.
fence()  right before each provider call: extend the lease of one row, only if it still carries this
         claim. A worker that lost its claim updates nothing and does not send.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, bindparam, func, literal, or_, select, update
from sqlmodel import Session

from .db import driver_value, one_at_a_time
from .localtime import parse_hhmm
from .messages import exercise_context, render
from .models import Clinic, Enrolment, Message, Patient
from .prepared import Prepared
from .programs import get_program
from .schedule import Plan, slots

SCHEDULED_KINDS = ("reminder", "checkin")
PATIENT_KINDS = SCHEDULED_KINDS + ("confirmation", "nudge")
HORIZON = timedelta(hours=48)
GRACE = timedelta(hours=2)  # a scheduled message not out within this is skipped, never sent late
UNSCHEDULED_EXPIRY = timedelta(hours=24)
PLAN_BATCH = 1000

M = Message.__table__.c


def channels_for(patient_channel: str) -> tuple[str, ...]:
    return ("sms", "email") if patient_channel == "both" else (patient_channel,)


_COLUMNS = (
    "patient_id",
    "clinic_id",
    "direction",
    "kind",
    "channel",
    "status",
    "dedupe_key",
    "local_date",
    "slot",
    "due_at",
    "next_attempt_at",
    "expires_at",
    "body",
    "subject",
    "to_addr",
    "attempts",
    "quiet_exempt",
    "created_at",
    "updated_at",
)
_REVIVED = (
    "due_at",
    "next_attempt_at",
    "expires_at",
    "body",
    "subject",
    "local_date",
    "slot",
    "channel",
    "updated_at",
)


@lru_cache(maxsize=4)
def _upsert_sql(dialect: str) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    revive = ", ".join(f"{c} = excluded.{c}" for c in _REVIVED)
    return (
        f"INSERT INTO message ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * len(_COLUMNS))}) "
        f"ON CONFLICT (dedupe_key) DO UPDATE SET {revive}, status = 'pending', error = NULL, attempts = 0 "
        f"WHERE message.status = 'cancelled'"
    )


def _upsert(session: Session, rows: list[dict]) -> None:
    """Insert; on a dedupe_key clash revive a cancelled row, leave any other row alone.

    The planner's hot path: one driver-level executemany with values converted once, instead of
    SQLAlchemy's per-row type processing (which cost more than half of planning time).
    """
    if not rows:
        return
    convert = driver_value(session.get_bind().dialect.name)
    _upsert_tuples(session, [tuple(convert(row.get(c)) for c in _COLUMNS) for row in rows])


def _upsert_tuples(session: Session, rows: list[tuple]) -> None:
    """Rows already in _COLUMNS order with driver values."""
    if not rows:
        return  # an empty executemany would run the statement once, with no parameters
    session.connection().exec_driver_sql(_upsert_sql(session.get_bind().dialect.name), rows)


def _plan_of(row) -> Plan:
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


_E, _P, _C = Enrolment.__table__.c, Patient.__table__.c, Clinic.__table__.c
# What planning reads of an enrolment, its patient and clinic: plain rows (loading three ORM
# entities per enrolment was a fifth of planning).
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
    .join_from(Enrolment.__table__, Patient.__table__, _P.id == _E.patient_id)
    .join(Clinic.__table__, _C.id == _P.clinic_id)
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
    session: Session, now: datetime, *, horizon: timedelta = HORIZON, enrolment_ids: list[int] | None = None
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
    bodies: dict[tuple, tuple[str, str | None]] = {}
    c = driver_value(session.get_bind().dialect.name)
    c_now = c(now)
    last_id = 0
    session.flush()  # enrolments just added in this session (enrol) are read through Core below
    connection = session.connection()
    while True:
        query = _TO_PLAN if enrolment_ids is None else _TO_PLAN.where(_E.id.in_(enrolment_ids))
        batch = connection.execute(query, {"last_id": last_id, "refresh_before": refresh_before}).all()
        if not batch:
            return written
        rows: list[tuple] = []
        for e in batch:
            for slot in slots(_plan_of(e), now, planned_until):
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
                    due = c(slot.due)
                    # In _COLUMNS order.
                    rows.append(
                        (
                            e.patient_id,
                            e.clinic_id,
                            "out",
                            slot.kind,
                            channel,
                            "pending",
                            f"{e.id}:{slot.kind}:{slot.local_date}:{slot.slot}:{channel}",
                            c(slot.local_date),
                            slot.slot,
                            due,
                            due,
                            c(slot.due + GRACE),
                            body,
                            subject,
                            None,
                            0,
                            c(False),
                            c_now,
                            c_now,
                        )
                    )
        _upsert_tuples(session, rows)
        written += len(rows)
        connection.execute(
            update(Enrolment.__table__)
            .where(_E.id.in_([e.id for e in batch]))
            .values(planned_until=planned_until)
        )
        last_id = batch[-1].id


def queue(
    session: Session,
    *,
    patient_id: int | None,
    clinic_id: int,
    kind: str,
    channel: str,
    body: str,
    to_addr: str | None = None,
    subject: str | None = None,
    now: datetime,
    dedupe_key: str | None = None,
    quiet_exempt: bool = False,
    expires_in: timedelta = UNSCHEDULED_EXPIRY,
) -> None:
    """Queue one unscheduled message (confirmation, escalation, alert ...) to go out as soon as allowed."""
    _upsert(
        session,
        [
            {
                "patient_id": patient_id,
                "clinic_id": clinic_id,
                "direction": "out",
                "kind": kind,
                "channel": channel,
                "status": "pending",
                "dedupe_key": dedupe_key,
                "local_date": None,
                "slot": None,
                "due_at": now,
                "next_attempt_at": now,
                "expires_at": now + expires_in,
                "body": body,
                "subject": subject,
                "to_addr": to_addr,
                "attempts": 0,
                "quiet_exempt": quiet_exempt,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )


def queue_confirmations(
    session: Session, clinic: Clinic, enrolled: list[tuple[Patient, Enrolment]], now: datetime
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
            queue(
                session,
                patient_id=patient.id,
                clinic_id=clinic.id,
                kind="confirmation",
                channel=channel,
                body=rendered.body,
                subject=rendered.subject,
                now=now,
                dedupe_key=f"{enrolment.id}:confirmation:{channel}",
            )


def cancel_pending(
    session: Session, patient_id: int, now: datetime, reason: str, kinds: tuple[str, ...] = PATIENT_KINDS
) -> int:
    result = session.execute(
        update(Message.__table__)
        .where(M.patient_id == patient_id, M.direction == "out", M.status == "pending", M.kind.in_(kinds))
        .values(status="cancelled", error=reason, updated_at=now)
    )
    return result.rowcount


def replan(session: Session, patient_id: int, now: datetime) -> int:
    """After a change of times, zone, channel or status: cancel what is pending and plan afresh."""
    cancel_pending(session, patient_id, now, "re-planned", kinds=SCHEDULED_KINDS)
    enrolment_id = session.execute(
        select(Enrolment.id).where(Enrolment.patient_id == patient_id)
    ).scalar_one()
    session.execute(update(Enrolment).where(Enrolment.id == enrolment_id).values(planned_until=None))
    return plan(session, now, enrolment_ids=[enrolment_id])


# Every dispatch run (once a second per worker) expires, claims and records: prepared (prepared.py).
_EXPIRE = Prepared(
    update(Message.__table__)
    .where(
        or_(M.status == "pending", and_(M.status == "sending", M.lease_until < bindparam("now"))),
        M.expires_at < bindparam("now"),
    )
    .values(
        status="skipped",
        updated_at=bindparam("now"),
        lease_until=None,
        lease_owner=None,
        lease_token=None,
        # Keep the last delivery error: "stale" alone would hide why it never went out.
        error=literal("stale: not sent within its grace after due")
        + func.coalesce(literal(" (last error: ") + M.error + literal(")"), ""),
    )
)


def expire_stale(session: Session, now: datetime) -> int:
    """Rows whose grace has run out are skipped with the reason: never sent late."""
    return _EXPIRE.run(session.connection(), now=now)


@dataclass(frozen=True)
class Claimed:
    id: int
    patient_id: int | None
    clinic_id: int | None
    kind: str
    channel: str
    body: str
    subject: str | None
    to_addr: str | None
    due_at: datetime | None
    expires_at: datetime | None
    attempts: int
    quiet_exempt: bool
    token: str  # this claim's; fence() and record() act only while the row still carries it


@lru_cache(maxsize=2)
def _claim(by_channel: bool) -> Prepared:
    now = bindparam("now")
    due = or_(
        and_(M.status == "pending", M.next_attempt_at <= now),
        and_(M.status == "sending", M.lease_until < now),
    )
    # The grace check is wrapped so that no planner picks the grace index for it: every pending row
    # is within its grace, so that index reads the whole 48-hour plan to find the few rows due now.
    # SQLite chose it once migration 0005 added one, which made every claim read ~6 rows per patient.
    within_grace = func.coalesce(M.expires_at, M.expires_at) >= now
    pick = (
        select(M.id)
        .where(due, within_grace)
        .order_by(M.next_attempt_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )  # PostgreSQL; SQLite has no FOR UPDATE (BEGIN IMMEDIATE instead)
    if by_channel:
        pick = pick.where(M.channel == bindparam("channel"))
    return Prepared(
        update(Message.__table__)
        .where(M.id.in_(pick.scalar_subquery()))
        .values(
            status="sending",
            lease_until=bindparam("lease_until"),
            lease_owner=bindparam("owner"),
            lease_token=bindparam("token"),
            attempts=M.attempts + 1,
            updated_at=now,
        )
        .returning(
            M.id,
            M.patient_id,
            M.clinic_id,
            M.kind,
            M.channel,
            M.body,
            M.subject,
            M.to_addr,
            M.due_at,
            M.expires_at,
            M.attempts,
            M.quiet_exempt,
        )
    )


def claim(
    session: Session, now: datetime, owner: str, *, limit: int, lease: timedelta, channel: str | None = None
) -> list[Claimed]:
    """Lease up to `limit` due rows to `owner`, oldest due first, under a fresh token."""
    token = uuid.uuid4().hex
    rows = _claim(channel is not None).rows(
        session.connection(),
        now=now,
        limit=limit,
        lease_until=now + lease,
        owner=owner,
        channel=channel,
        token=token,
    )
    return [Claimed(*row, token=token) for row in rows]


_FENCE = Prepared(
    update(Message.__table__)
    .where(
        M.id == bindparam("id"),
        M.lease_owner == bindparam("owner"),
        M.lease_token == bindparam("token"),
        M.status == "sending",
    )
    .values(lease_until=bindparam("lease_until"))
)


def fence(session: Session, claimed: Claimed, owner: str, now: datetime, lease: timedelta) -> bool:
    """Whether `owner` still holds this claim, extending its lease if so. Run right before the send.

    One conditional UPDATE that must hit one row: if the lease ran out while this worker was stalled
    and another worker claimed the row (new owner, new token), or it was recorded, released or
    expired meanwhile, nothing matches and the caller must not send. An expired lease that nobody
    took over is still ours: nobody else can have sent the row, and the extension keeps it so.
    """
    return (
        _FENCE.run(
            session.connection(), id=claimed.id, owner=owner, token=claimed.token, lease_until=now + lease
        )
        == 1
    )


def fence_many(
    session: Session, claimed: list[Claimed], owner: str, now: datetime, lease: timedelta
) -> set[int]:
    """fence() for several rows of one claim in one statement: the ids this worker still holds."""
    if not claimed:
        return set()
    result = session.execute(
        update(Message.__table__)
        .where(
            M.id.in_([c.id for c in claimed]),
            M.lease_owner == owner,
            M.lease_token == claimed[0].token,
            M.status == "sending",
        )
        .values(lease_until=now + lease)
        .returning(M.id)
    )
    return {row[0] for row in result}


def heartbeat(session: Session, owner: str, tokens: set[str], now: datetime, lease: timedelta) -> int:
    """Extend the leases of the claims still in progress (`tokens`): a long batch or a wait for send
    slots must not outlive its lease. Claims given up (a batch cut short) are left to expire."""
    if not tokens:
        return 0
    result = session.execute(
        update(Message.__table__)
        .where(M.status == "sending", M.lease_owner == owner, M.lease_token.in_(sorted(tokens)))
        .values(lease_until=now + lease)
    )
    return result.rowcount


def release(session: Session, owner: str, now: datetime, keep: set[int] = frozenset()) -> int:
    """Give back rows still leased to `owner` (graceful shutdown), so another worker sends them now.
    `keep`: rows whose outcome is decided but not yet recorded (sent ones among them): never handed back."""
    where = [M.status == "sending", M.lease_owner == owner]
    if keep:
        where.append(M.id.not_in(sorted(keep)))
    result = session.execute(
        update(Message.__table__)
        .where(*where)
        .values(
            status="pending",
            lease_until=None,
            lease_owner=None,
            lease_token=None,
            attempts=M.attempts - 1,
            updated_at=now,
        )
    )
    return result.rowcount


def record(session: Session, outcomes: list[dict]) -> None:
    """Write send outcomes in one round trip. Each dict: id, owner and the columns to set.

    Only a row still leased to this owner (and, when the outcome names it, under the same claim
    `token`) is updated: if our lease expired and another worker took the row over, its outcome wins.
    """
    by_shape: dict[tuple, list[dict]] = {}
    for outcome in outcomes:
        by_shape.setdefault(tuple(sorted(outcome)), []).append(outcome)
    for shape, group in by_shape.items():
        _record(shape).run_many(
            session.connection(), [{f"b_{k}": v for k, v in row.items()} for row in group]
        )


@lru_cache(maxsize=64)  # a handful of shapes: sent, retrying, skipped, failed, deferred
def _record(shape: tuple[str, ...]) -> Prepared:
    columns = [c for c in shape if c not in ("id", "owner", "token")]
    where = [M.id == _bind("id"), M.lease_owner == _bind("owner"), M.status == "sending"]
    if "token" in shape:
        where.append(M.lease_token == _bind("token"))
    return Prepared(update(Message.__table__).where(*where).values({c: _bind(c) for c in columns}))


def _bind(name: str):
    return bindparam(f"b_{name}")


# Twilio's callback statuses, in the order a message moves through them; a callback never moves back.
_PROGRESS = {
    "queued": 0,
    "accepted": 0,
    "scheduled": 0,
    "sending": 1,
    "sent": 1,
    "delivered": 2,
    "read": 2,
    "undelivered": 2,
    "failed": 2,
    "canceled": 2,
}
_OURS = {
    "sent": "sent",
    "sending": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
_RANK = {"pending": -1, "sending": 0, "sent": 1, "delivered": 2, "failed": 2, "skipped": 2, "cancelled": 2}


def attach_provider_id(session: Session, message_id: int, provider_id: str, now: datetime) -> bool:
    """Give an answer sent in TwiML the SID its first status callback reports (tracking.py). Only a
    row without one, and only a SID no other outbound row carries."""
    taken = select(M.id).where(M.direction == "out", M.provider_id == provider_id).exists()
    result = session.execute(
        update(Message.__table__)
        .where(M.id == message_id, M.direction == "out", M.provider_id.is_(None), ~taken)
        .values(provider_id=provider_id, updated_at=now)
    )
    return result.rowcount == 1


def apply_status(
    session: Session, provider_id: str, twilio_status: str, error_code: str | None, now: datetime
) -> Message | None:
    """A Twilio status callback: move the message forward, never back (delivered stays delivered)."""
    message = session.execute(
        select(Message).where(Message.direction == "out", Message.provider_id == provider_id)
    ).scalar_one_or_none()
    if message is None or twilio_status not in _OURS:
        return None
    new = _OURS[twilio_status]
    if _RANK.get(new, -1) <= _RANK.get(message.status, -1):
        return message
    message.status, message.updated_at = new, now
    if new == "failed":
        from .channels.twilio_sms import MEANINGS

        code = int(error_code) if (error_code or "").isdigit() else None
        message.error = f"{error_code}: {MEANINGS.get(code, twilio_status)}" if error_code else twilio_status
    session.add(message)
    return message
