"""The inbox: replies as they arrive, and the answers given inline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlmodel import Session

from ..prepared import Prepared
from .table import _T, M

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
    return _insert_sms(
        _INSERT_INBOUND,
        session,
        patient_id,
        clinic_id,
        body,
        now,
        direction="in",
        kind=kind,
        status="received",
        provider_id=sid,
        from_addr=from_addr,
        to_addr=to_addr,
        quiet_exempt=False,
        media=media,
    )


def _insert_sms(
    statement: Prepared,
    session: Session,
    patient_id: int | None,
    clinic_id: int | None,
    body: str,
    now: datetime,
    **columns: Any,
) -> int:
    """Insert a reply or its inline answer; returns its id. What the two have alike (one SMS, handled
    at once) is set here, the rest is `columns`."""
    return statement.scalar(  # type: ignore[no-any-return]
        session.connection(),
        patient_id=patient_id,
        clinic_id=clinic_id,
        channel="sms",
        body=body,
        sent_at=now,
        created_at=now,
        updated_at=now,
        attempts=0,
        **columns,
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
    return _insert_sms(
        _INSERT_ANSWER,
        session,
        patient_id,
        clinic_id,
        body,
        now,
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
