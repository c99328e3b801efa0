"""What waits to go out: the planner's rows, queued messages, cancelling them, and when the next is due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TypedDict

from sqlalchemy import func, literal_column, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.base import Executable
from sqlmodel import Session

from ..prepared import Prepared
from .table import _T, M, _rowcount

SCHEDULED_KINDS = ("reminder", "checkin")
PATIENT_KINDS = SCHEDULED_KINDS + ("confirmation", "nudge")
UNSCHEDULED_EXPIRY = timedelta(hours=24)


class Planned(TypedDict):
    """One scheduled reminder or check-in, as the planner writes it."""

    patient_id: int
    clinic_id: int
    kind: str
    channel: str
    dedupe_key: str
    local_date: date
    slot: str
    due_at: datetime
    expires_at: datetime
    body: str
    subject: str | None


_UPSERT_KEYS = (
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
# What a re-plan may change in a row it revives.
_REVIVED = ("due_at", "next_attempt_at", "expires_at", "body", "subject", "local_date", "slot", "channel")


def _upsert_statement(dialect: str) -> Executable:
    """Insert; on a dedupe_key clash revive a cancelled row, leave any other row alone."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_T)
    return statement.on_conflict_do_update(
        index_elements=[M.dedupe_key],
        set_={
            **{c: statement.excluded[c] for c in _REVIVED + ("updated_at",)},
            # Constants written into the SQL, as the rest of the statement's are (prepared.py).
            "status": literal_column("'pending'"),
            "error": null(),
            "attempts": literal_column("0"),
        },
        where=M.status == "cancelled",
    )


_UPSERT = Prepared(_upsert_statement, keys=_UPSERT_KEYS)
_PLANNED_COMMON = {
    "direction": "out",
    "status": "pending",
    "to_addr": None,
    "attempts": 0,
    "quiet_exempt": False,
}


def write_planned(session: Session, rows: Sequence[Planned], now: datetime) -> None:
    """The planner's rows, in one executemany (its hot path). Each is first due at its due_at."""
    for row in rows:
        row["next_attempt_at"] = row["due_at"]  # type: ignore[typeddict-unknown-key]
    _UPSERT.run_many(session.connection(), rows, **_PLANNED_COMMON, created_at=now, updated_at=now)


def queue(
    session: Session,
    *,
    patient_id: int | None,
    clinic_id: int | None,
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
    _UPSERT.run(
        session.connection(),
        patient_id=patient_id,
        clinic_id=clinic_id,
        direction="out",
        kind=kind,
        channel=channel,
        status="pending",
        dedupe_key=dedupe_key,
        local_date=None,
        slot=None,
        due_at=now,
        next_attempt_at=now,
        expires_at=now + expires_in,
        body=body,
        subject=subject,
        to_addr=to_addr,
        attempts=0,
        quiet_exempt=quiet_exempt,
        created_at=now,
        updated_at=now,
    )


def cancel_pending(
    session: Session, patient_id: int, now: datetime, reason: str, kinds: tuple[str, ...] = PATIENT_KINDS
) -> int:
    result = session.execute(
        update(_T)
        .where(M.patient_id == patient_id, M.direction == "out", M.status == "pending", M.kind.in_(kinds))
        .values(status="cancelled", error=reason, updated_at=now)
    )
    return _rowcount(result)


_NEXT_DUE = Prepared(select(func.min(M.next_attempt_at)).where(M.status == "pending"))


def next_due(connection: Connection) -> datetime | None:
    """When the earliest pending message is next due (None: nothing is pending). `followup simulate`
    jumps its clock there."""
    return _NEXT_DUE.scalar(connection)  # type: ignore[no-any-return]
