"""The outbox and the inbox: the only package that reads or writes the `message` table.

The database *is* the schedule. Rows arrive three ways: planned (planner.py, through write_planned),
queued (confirmations, alerts, answers that could not go back inline: queue), and inbound replies
with their inline answers (record_inbound, record_answer). Then:

claim()  leases due rows to one worker (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE),
         under the worker's name and a fresh token. An expired lease (a worker that died or stalled)
         makes the row claimable again, with a new token.
fence()  right before each provider call: extend the lease of one row, only if it still carries this
         claim. A worker that lost its claim updates nothing and does not send.
record() the send outcomes; apply_status() a provider's later word on delivery.

One module a room; callers import the package (`outbox.claim(...)`), which hands on their names:
pending  what waits to go out: write_planned, queue, cancel_pending, next_due
expiry   rows past their grace: expire_stale, expiring
claims   claim, fence, fence_many, heartbeat, release (and Claimed, what they pass)
status   record, apply_status, attach_provider_id, status_of, get
inbox    seen, record_inbound, record_answer
prompts  which message a reply answers: last_answerable, latest_prompt_kind, sent_since
erasure  forget
table    the table's columns (M) and the SQL helpers the rooms share
"""

from __future__ import annotations

from .claims import Claimed, claim, fence, fence_many, heartbeat, release
from .claims import _claim as _claim  # tests read its SQL
from .erasure import forget
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
from .table import M

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
