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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlmodel import Session

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
from .status import apply_status, attach_provider_id, get, record, status_of
from .table import _T, M

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
