"""The outbox and the inbox: the only module that reads or writes the `message` table.

The database *is* the schedule. Rows arrive three ways: planned (planner.py, through write_planned),
queued (confirmations, alerts, answers that could not go back inline: queue), and inbound replies
with their inline answers (record_inbound, record_answer). Then:

claim()  leases due rows to one worker (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE),
         under the worker's name and a fresh token. An expired lease (a worker that died or stalled)
         makes the row claimable again, with a new token.
fence()  right before each provider call: extend the lease of one row, only if it still carries this
         claim. A worker that lost its claim updates nothing and does not send.
record() the send outcomes; apply_status() a provider's later word on delivery.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col

from ..models import Message
from ..prepared import Prepared
from .claims import Claimed, claim, fence, fence_many, heartbeat, release
from .claims import _claim as _claim  # tests read its SQL
from .expiry import _expiring as _expiring  # tests read its SQL
from .expiry import expire_stale, expiring
from .pending import (
    PATIENT_KINDS,
    SCHEDULED_KINDS,
    UNSCHEDULED_EXPIRY,
    Planned,
    cancel_pending,
    next_due,
    queue,
    write_planned,
)
from .table import _T, M, _rowcount

# What callers use, as when the outbox was one module: `from followup import outbox; outbox.claim(...)`.
__all__ = [
    "SCHEDULED_KINDS",
    "PATIENT_KINDS",
    "UNSCHEDULED_EXPIRY",
    "M",
    "Planned",
    "write_planned",
    "queue",
    "cancel_pending",
    "next_due",
    "expire_stale",
    "expiring",
    "Claimed",
    "claim",
    "fence",
    "fence_many",
    "heartbeat",
    "release",
    "record",
    "get",
    "status_of",
    "attach_provider_id",
    "apply_status",
    "Seen",
    "seen",
    "record_inbound",
    "record_answer",
    "last_answerable",
    "PROMPTS",
    "sent_since",
    "latest_prompt_kind",
    "forget",
]


def record(session: Session, outcomes: Sequence[Mapping[str, Any]]) -> None:
    """Write send outcomes in one round trip. Each dict: id, owner and the columns to set.

    Only a row still leased to this owner (and, when the outcome names it, under the same claim
    `token`) is updated: if our lease expired and another worker took the row over, its outcome wins.
    """
    by_shape: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
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
    return Prepared(update(_T).where(*where).values({c: _bind(c) for c in columns}))


def _bind(name: str) -> BindParameter[Any]:
    return bindparam(f"b_{name}")


# How far along each of our statuses is: a provider's callback moves a message forward, never back.
_RANK = {"pending": -1, "sending": 0, "sent": 1, "delivered": 2, "failed": 2, "skipped": 2, "cancelled": 2}


def get(session: Session, message_id: int) -> Message:
    """One message, as an ORM row (for code that reads many of its columns)."""
    return session.get_one(Message, message_id)


def status_of(session: Session, provider_id: str) -> str | None:
    """The status of the outbound message with this provider id (None: there is none)."""
    status: str | None = session.execute(
        select(M.status).where(M.direction == "out", M.provider_id == provider_id)
    ).scalar_one_or_none()
    return status


def attach_provider_id(session: Session, message_id: int, provider_id: str, now: datetime) -> bool:
    """Give an answer sent in TwiML the SID its first status callback reports (tracking.py). Only a
    row without one, and only a SID no other outbound row carries."""
    taken = select(M.id).where(M.direction == "out", M.provider_id == provider_id).exists()
    result = session.execute(
        update(_T)
        .where(M.id == message_id, M.direction == "out", M.provider_id.is_(None), ~taken)
        .values(provider_id=provider_id, updated_at=now)
    )
    return _rowcount(result) == 1


def apply_status(
    session: Session, provider_id: str, status: str, error: str | None, now: datetime
) -> Message | None:
    """A provider's later word on a message it accepted (status: one of ours, sent/delivered/failed;
    error: why, for a failure). The message moves forward, never back (delivered stays delivered).
    Returns the message (None: no outbound message has that provider id)."""
    message: Message | None = session.execute(
        select(Message).where(col(Message.direction) == "out", col(Message.provider_id) == provider_id)
    ).scalar_one_or_none()
    if message is None:
        return None
    if _RANK.get(status, -1) > _RANK.get(message.status, -1):
        message.status, message.updated_at = status, now
        if status == "failed":
            message.error = error
        session.add(message)
    return message


# --- the inbox: replies as they arrive, and the answers given inline ----------------------------------

_INBOUND_KEYS = (
    "patient_id",
    "clinic_id",
    "direction",
    "kind",
    "channel",
    "status",
    "body",
    "provider_id",
    "from_addr",
    "to_addr",
    "sent_at",
    "created_at",
    "updated_at",
    "attempts",
    "quiet_exempt",
    "media",
)
# Every inbound SMS runs these. The answer's id names it in the TwiML's action URL, where Twilio
# reports its delivery (tracking.py).
_INSERT_INBOUND = Prepared(insert(_T).returning(M.id), keys=_INBOUND_KEYS)
_INSERT_ANSWER = Prepared(insert(_T).returning(M.id), keys=_INBOUND_KEYS + ("due_at", "in_reply_to"))
_SEEN = Prepared(select(M.id, M.patient_id).where(M.direction == "in", M.provider_id == bindparam("sid")))
_ANSWER_TO = Prepared(
    select(M.body, M.id).where(M.in_reply_to == bindparam("id"), M.direction == "out").limit(1)
)


@dataclass(frozen=True)
class Seen:
    """An inbound message already stored under this provider id (a retried webhook)."""

    id: int
    patient_id: int | None
    answer: str | None  # what it was answered, inline
    answer_id: int | None  # that answer's row


def seen(session: Session, sid: str) -> Seen | None:
    connection = session.connection()
    row = _SEEN.first(connection, sid=sid)
    if row is None:
        return None
    answer = _ANSWER_TO.first(connection, id=row.id)
    return Seen(row.id, row.patient_id, answer.body if answer else None, answer.id if answer else None)


def record_inbound(
    session: Session,
    *,
    patient_id: int | None,
    clinic_id: int | None,
    body: str,
    sid: str | None,
    from_addr: str,
    to_addr: str | None,
    media: str | None = None,
    kind: str = "reply",
    now: datetime,
) -> int:
    """Store one reply as received; returns its id. `media`: an MMS's attachments (media.to_column);
    `kind`: "ack" for a clinic's ACK N text (acks.py)."""
    return _INSERT_INBOUND.scalar(  # type: ignore[no-any-return]
        session.connection(),
        **_sms_row(patient_id, clinic_id, body, now),
        direction="in",
        kind=kind,
        status="received",
        provider_id=sid,
        from_addr=from_addr,
        to_addr=to_addr,
        quiet_exempt=False,
        media=media,
    )


def _sms_row(patient_id: int | None, clinic_id: int | None, body: str, now: datetime) -> dict[str, Any]:
    """What a reply and its inline answer have alike: one SMS, handled at once."""
    return dict(
        patient_id=patient_id,
        clinic_id=clinic_id,
        channel="sms",
        body=body,
        sent_at=now,
        created_at=now,
        updated_at=now,
        attempts=0,
    )


def record_answer(
    session: Session,
    *,
    patient_id: int | None,
    clinic_id: int | None,
    kind: str,
    body: str,
    to_addr: str,
    in_reply_to: int,
    now: datetime,
) -> int:
    """The answer that went back in the webhook's own response (TwiML): sent at once, and exempt from
    quiet hours (the patient just wrote)."""
    return _INSERT_ANSWER.scalar(  # type: ignore[no-any-return]
        session.connection(),
        **_sms_row(patient_id, clinic_id, body, now),
        direction="out",
        kind=kind,
        status="sent",
        provider_id=None,
        from_addr=None,
        to_addr=to_addr,
        quiet_exempt=True,
        due_at=now,
        in_reply_to=in_reply_to,
        media=None,
    )


def _latest_sent(patient: Any, now: Any, kinds: Sequence[str]) -> Any:
    """The latest message of `kinds` sent (or delivered) to `patient` by `now`: what a reply answers."""
    return (
        select(M.id, M.kind)
        .where(
            M.patient_id == patient,
            M.direction == "out",
            or_(*(M.kind == kind for kind in kinds)),  # no IN lists in a prepared statement
            or_(M.status == "sent", M.status == "delivered"),
            M.sent_at <= now,
        )
        .order_by(M.sent_at.desc())
        .limit(1)
    )


def last_answerable(patient: Any, now: Any) -> Any:
    """The reminder or check-in a reply from `patient` at `now` answers (the latest one sent before
    it), as a scalar subquery: the reading's INSERT names it in the same statement, one round trip less
    on every reply. `patient`, `now`: the bind parameters (or values) to compare with."""
    return _latest_sent(patient, now, ("checkin", "reminder")).with_only_columns(M.id).scalar_subquery()


# Messages a reply can answer, staff's included (staff.py: a reply to staff goes to a person). Every
# inbound SMS asks this: prepared, walking the (patient, direction, sent_at) index back from now.
PROMPTS = ("reminder", "checkin", "nudge", "confirmation", "escalation", "staff")
_LATEST_PROMPT = Prepared(
    _latest_sent(bindparam("patient"), bindparam("now"), PROMPTS)
    .with_only_columns(M.kind)
    .where(M.sent_at > bindparam("since"))
)


def sent_since(session: Session, patient_id: int, kind: str, now: datetime, since: datetime) -> bool:
    """Whether a message of `kind` went to the patient after `since` (and by `now`)."""
    found = session.execute(
        _latest_sent(patient_id, now, (kind,)).with_only_columns(M.id).where(M.sent_at > since)
    ).first()
    return found is not None


def latest_prompt_kind(session: Session, patient_id: int, now: datetime, since: datetime) -> str | None:
    """The kind of the latest message sent to the patient since `since` that a reply can answer."""
    kind: str | None = _LATEST_PROMPT.scalar(session.connection(), patient=patient_id, now=now, since=since)
    return kind


# --- erasure --------------------------------------------------------------------------------------


def forget(session: Session, patient_id: int) -> Counter[str]:
    """Delete every message to or from the patient; returns how many there were by
    direction:kind:status (the anonymised counts that are kept)."""
    counts = Counter(
        f"{d}:{k}:{s}"
        for d, k, s in session.execute(
            select(M.direction, M.kind, M.status).where(M.patient_id == patient_id)
        )
    )
    session.execute(
        update(_T).where(M.in_reply_to.is_not(None), M.patient_id == patient_id).values(in_reply_to=None)
    )
    session.execute(delete(_T).where(M.patient_id == patient_id))
    return counts
