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

from sqlalchemy import (
    delete,
    select,
    update,
)
from sqlmodel import Session

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
from .prompts import PROMPTS, last_answerable, latest_prompt_kind, sent_since
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
