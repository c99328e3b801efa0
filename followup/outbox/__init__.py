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
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
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
from .inbox import Seen, record_answer, record_inbound, seen
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
