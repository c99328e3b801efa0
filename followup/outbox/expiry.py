"""Rows whose grace has run out: which they are (alerts fall back before they go), and skipping them."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, or_, select, update
from sqlmodel import Session

from ..prepared import Prepared
from .table import _T, M, _not_indexed

# Every dispatch run (once a second per worker) expires, claims and records: prepared (prepared.py).
_EXPIRE = Prepared(
    update(_T)
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
    .returning(M.id, M.kind)  # what expired: tracking re-alerts for an emergency answer among them
)


def expire_stale(session: Session, now: datetime) -> list[Any]:
    """Rows whose grace has run out are skipped with the reason: never sent late. Returns them
    (row.id, row.kind)."""
    return _EXPIRE.rows(session.connection(), now=now)


@lru_cache(maxsize=4)
def _expiring(kinds: tuple[str, ...]) -> Prepared:
    return Prepared(
        lambda dialect: select(M.id, M.error).where(
            M.status == "pending",
            M.expires_at < bindparam("now"),
            # Through the grace index, which finds the few rows past their grace: SQLite would
            # otherwise take the kind index and read every message of these kinds ever queued.
            or_(*(_not_indexed(M.kind, dialect) == kind for kind in kinds)),
        )
    )


def expiring(session: Session, now: datetime, kinds: tuple[str, ...]) -> list[Any]:
    """Pending messages of `kinds` whose grace has run out (row.id, row.error): the next
    expire_stale skips them. Every dispatch run asks this, for alerts (alerts.before_expiry)."""
    return _expiring(kinds).rows(session.connection(), now=now)
