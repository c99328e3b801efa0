"""What a dispatch run decided for each claimed message, held until written, and what it adds up to.

A job (_Job) is one claimed message: what is to be sent, then its outcome. Outcomes are written in
batches, every RECORD_MAX or RECORD_SECONDS, with what follows from them (tracking, a carrier's
refusal, alert fallbacks, events), and kept until a write succeeds, across runs (Held): a database
that goes away mid-batch loses none of them. dispatch.py is the send loop that decides them; the
Report is what a run's written outcomes count to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from . import alerts, events, outbox, patients, tracking
from .channels.base import Outgoing
from .db import session_scope

RECORD_MAX = 200
RECORD_SECONDS = 0.5


@dataclass
class Report:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    deferred: int = 0
    stale: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any((self.sent, self.failed, self.retrying, self.skipped, self.deferred, self.stale))

    def add(self, other: Report) -> None:
        for name in ("sent", "failed", "retrying", "skipped", "deferred", "stale"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, count in other.errors.items():
            self.errors[key] = self.errors.get(key, 0) + count


@dataclass
class _Job:
    claimed: outbox.Claimed
    outgoing: Outgoing | None = None
    outcome: dict | None = None
    # ("opted_out" | "unusable", patient_id, the provider's word for it): patients.carrier_refused
    consequence: tuple[str, int, str] | None = None
    quiet: tuple | None = None  # (zone, window start, window end) when it respects quiet hours


def _apply_consequences(session: Session, jobs: list[_Job], now: datetime) -> None:
    for job in jobs:
        if job.claimed.kind == "escalation" and job.outcome:
            tracking.skipped_or_failed(
                session, job.claimed.id, job.outcome["status"], job.outcome.get("error"), now
            )
        if job.consequence:
            what, patient_id, evidence = job.consequence
            patients.carrier_refused(session, patient_id, what, now, evidence)


def _tally(report: Report, jobs: list[_Job]) -> None:
    for job in jobs:
        status = job.outcome["status"]
        if status == "sent":
            report.sent += 1
        elif status == "failed":
            report.failed += 1
        elif status == "skipped":
            report.skipped += 1
        elif job.outgoing is None:
            report.deferred += 1
        else:
            report.retrying += 1
        if status in ("failed", "skipped") or (status == "pending" and job.outgoing is not None):
            key = (job.outcome.get("error") or "").split(":")[0]
            report.errors[key] = report.errors.get(key, 0) + 1


class Held:
    """Outcomes decided but not yet written, kept across dispatch runs (one per worker).

    A write that fails (the database went away mid-batch) leaves them here; the next write retries
    them, and the next run writes them before it claims anything. Dropping them would send the
    messages again once their leases ran out."""

    def __init__(self):
        self.jobs: list[_Job] = []
        self.lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.jobs)

    def ids(self) -> set[int]:
        with self.lock:
            return {j.claimed.id for j in self.jobs}

    def tokens(self) -> set[str]:
        with self.lock:
            return {j.claimed.token for j in self.jobs}


class _Flusher:
    """Collects decided outcomes and writes them every RECORD_MAX or RECORD_SECONDS.

    A failed write keeps its outcomes (in `held`) for the next one; it does not interrupt the sends
    under way, whose own outcomes must be kept too."""

    def __init__(self, engine: Engine, report: Report, clock: Callable[[], datetime], held: Held):
        self.engine, self.report, self.clock, self.held = engine, report, clock, held
        self.since = time.monotonic()
        self.error: Exception | None = None

    def add(self, jobs: list[_Job]) -> None:
        with self.held.lock:
            self.held.jobs += [j for j in jobs if j.outcome is not None]
            due = len(self.held.jobs) >= RECORD_MAX or time.monotonic() - self.since >= RECORD_SECONDS
        if due:
            self.flush()

    def flush(self) -> bool:
        """Write what is held: True when nothing is left held."""
        self.since = time.monotonic()
        with self.held.lock:
            jobs = list(self.held.jobs)
        if not jobs:
            return True
        try:
            with session_scope(self.engine) as session:
                outbox.record(session, [j.outcome for j in jobs])
                _apply_consequences(session, jobs, self.clock())
                alerts.after_outcomes(
                    session, [(j.claimed.id, j.claimed.kind, j.outcome) for j in jobs], self.clock()
                )
                events.sends_failed(session, [(j.claimed, j.outcome) for j in jobs], self.clock())
        except Exception as exc:  # kept, and retried by the next write
            self.error = exc
            return False
        with self.held.lock:
            written = {id(j) for j in jobs}
            self.held.jobs = [j for j in self.held.jobs if id(j) not in written]
        _tally(self.report, jobs)
        self.error = None
        return True
