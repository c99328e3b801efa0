"""Claims: leasing due rows to one worker under a token, fencing before each send, the heartbeat's
extension of leases in progress, and giving rows back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session

from ..prepared import Prepared
from .table import _T, M, _not_indexed, _rowcount


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
    return Prepared(lambda dialect: _claim_statement(by_channel, dialect))


def _claim_statement(by_channel: bool, dialect: str) -> Executable:
    now: BindParameter[Any] = bindparam("now")
    due = or_(
        and_(M.status == "pending", M.next_attempt_at <= now),
        and_(M.status == "sending", M.lease_until < now),
    )
    # Every pending row is within its grace, so the grace index (ix_message_grace, for expire_stale)
    # would read the whole 48-hour plan to find the few rows due now: SQLite chose it once it existed,
    # and every claim read ~6 rows per patient. The due and lease indexes find them directly.
    within_grace = _not_indexed(M.expires_at, dialect) >= now
    pick = (
        select(M.id)
        .where(due, within_grace)
        .order_by(M.next_attempt_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )  # PostgreSQL; SQLite has no FOR UPDATE (BEGIN IMMEDIATE instead)
    if by_channel:
        pick = pick.where(M.channel == bindparam("channel"))
    return (
        update(_T)
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
    return [Claimed(**row._asdict(), token=token) for row in rows]


def fence(session: Session, claimed: Claimed, owner: str, now: datetime, lease: timedelta) -> bool:
    """Whether `owner` still holds this claim, extending its lease if so. Run right before the send.

    One conditional UPDATE that must hit one row: if the lease ran out while this worker was stalled
    and another worker claimed the row (new owner, new token), or it was recorded, released or
    expired meanwhile, nothing matches and the caller must not send. An expired lease that nobody
    took over is still ours: nobody else can have sent the row, and the extension keeps it so.
    """
    return claimed.id in fence_many(session, [claimed], owner, now, lease)


def fence_many(
    session: Session, claimed: list[Claimed], owner: str, now: datetime, lease: timedelta
) -> set[int]:
    """fence() for several rows of one claim in one statement: the ids this worker still holds."""
    if not claimed:
        return set()
    ids = {f"id{i}": c.id for i, c in enumerate(claimed)}
    rows = _fence(len(claimed)).rows(
        session.connection(), **ids, owner=owner, token=claimed[0].token, lease_until=now + lease
    )
    return {row.id for row in rows}


@lru_cache(maxsize=64)  # one per group size: dispatch.FENCE_GROUP at most, and 1
def _fence(n: int) -> Prepared:
    """Prepared, with one bind per id: a fence runs every few sends."""
    return Prepared(
        update(_T)
        .where(
            M.id.in_([bindparam(f"id{i}") for i in range(n)]),
            M.lease_owner == bindparam("owner"),
            M.lease_token == bindparam("token"),
            M.status == "sending",
        )
        .values(lease_until=bindparam("lease_until"))
        .returning(M.id)
    )


def heartbeat(session: Session, owner: str, tokens: set[str], now: datetime, lease: timedelta) -> int:
    """Extend the leases of the claims still in progress (`tokens`): a long batch or a wait for send
    slots must not outlive its lease. Claims given up (a batch cut short) are left to expire."""
    if not tokens:
        return 0
    result = session.execute(
        update(_T)
        .where(M.status == "sending", M.lease_owner == owner, M.lease_token.in_(sorted(tokens)))
        .values(lease_until=now + lease)
    )
    return _rowcount(result)


def release(
    session: Session, owner: str, now: datetime, keep: frozenset[int] | set[int] = frozenset()
) -> int:
    """Give back rows still leased to `owner` (graceful shutdown), so another worker sends them now.
    `keep`: rows whose outcome is decided but not yet recorded (sent ones among them): never handed back."""
    where = [M.status == "sending", M.lease_owner == owner]
    if keep:
        where.append(M.id.not_in(sorted(keep)))
    result = session.execute(
        update(_T)
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
    return _rowcount(result)
