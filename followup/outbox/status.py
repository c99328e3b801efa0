"""Delivery status: the send outcomes a worker records, and a provider's later word on a message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col

from ..models import Message
from ..prepared import Prepared
from .table import _T, M, _rowcount


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
