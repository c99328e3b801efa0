"""`GET /metrics`: Prometheus text exposition, every family named `followup_…`.

Two sources, chosen so that every figure stays right however many workers and servers run:

- **the database, at scrape time** (a Collector whose collect() queries it): the outbox (messages
  pending by kind and channel; sends by outcome and error code; lateness), escalations (open by tier,
  the age of the oldest unacknowledged one). Whatever process is scraped, it reads the same rows, so N
  workers and M servers need no coordination. Counters derived from rows are monotonic except when
  `patient forget` deletes a patient's messages (Prometheus then sees a counter reset, which rate()
  handles). The queries are a few GROUP BYs over the message and escalation tables; they run in the
  webhook's worker threads, never on the event loop, bounded like every other database call there.
  The history (sends, lateness) reads every sent row, so it is recomputed at most every
  HISTORY_SECONDS per process; the gauges are read at every scrape.
- **this server's own HTTP requests** (prometheus-client Counter and Histogram): requests and
  latency per route. A single process keeps them in memory; `serve --workers N` sets
  PROMETHEUS_MULTIPROC_DIR before the worker processes start, and a scrape (which lands on any one of
  them) sums all of them through prometheus-client's multiprocess mode.
- **the spool directory**: replies waiting there while the database was away, counted at scrape time.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection, Engine

from .models import TIERS, Escalation, Message

# Seconds between due and sent (scheduled messages): most go out within a dispatch run; the grace is 2 h.
LATENESS_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

M = Message.__table__.c  # type: ignore[attr-defined]
E = Escalation.__table__.c  # type: ignore[attr-defined]
_CODE = re.compile(r"[^a-z0-9 _.-]+")


def error_code(error: str | None) -> str:
    """The error's code as a label: Twilio's number ("30003"), or the reason's first words ("stale",
    "patient opted out"). Never text from a message: errors are written by followup and providers."""
    if not error:
        return ""
    return _CODE.sub("", error.split(":", 1)[0].strip().lower())[:40]


def _seconds_between(dialect: str, later: Any, earlier: Any) -> Any:
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


# The history (sends, lateness, event delivery) reads every sent row: 0.2 to 1 s per 100,000 rows on
# SQLite (docs/PERFORMANCE.md). It is recomputed at most this often per server process, whatever the
# scrape interval; the gauges (queue, escalations, spool) are read at every scrape.
HISTORY_SECONDS = 30.0
_history: dict[str, tuple[float, list[Metric]]] = {}
_history_lock = threading.Lock()


class DatabaseCollector(Collector):
    """Everything the database knows, read at scrape time."""

    def __init__(self, engine: Engine, now: Callable[[], datetime], history_seconds: float = HISTORY_SECONDS):
        self.engine, self.now, self.history_seconds = engine, now, history_seconds

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as conn:
            yield from self._pending(conn)
            yield from self._recent_history(conn)
            yield from self._escalations(conn)

    def _recent_history(self, conn: Connection) -> list[Metric]:
        key = str(self.engine.url)
        with _history_lock:
            cached = _history.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.history_seconds:
            return cached[1]
        families = list(self._history(conn))
        with _history_lock:
            _history[key] = (time.monotonic(), families)
        return families

    def _pending(self, conn: Connection) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "followup_messages_pending",
            "Outbound messages waiting to go out (pending or being sent), by kind and channel.",
            labels=["kind", "channel"],
        )
        counts: dict[tuple[str, str], int] = {}
        # One status a query, each through its partial index (migration 0007): SQLite would otherwise
        # walk ix_message_kind_sent_at for the GROUP BY's order, reading every row ever sent.
        for status, index in (("pending", "ix_message_due"), ("sending", "ix_message_lease")):
            query = select(M.kind, M.channel, func.count()).where(M.status == status)
            query = query.with_hint(M.kind.table, f"INDEXED BY {index}", "sqlite")
            for kind, channel, count in conn.execute(query.group_by(M.kind, M.channel)):
                counts[kind, channel] = counts.get((kind, channel), 0) + count
        for (kind, channel), count in sorted(counts.items()):
            pending.add_metric([kind, channel], count)
        yield pending

    def _history(self, conn: Connection) -> Iterator[Metric]:
        sends = CounterMetricFamily(
            "followup_sends",
            "Outbound messages by outcome: sent (handed to the provider or the webhook), delivered (its "
            "receipt), failed, skipped (never sent: why in error_code); channel sms, email or webhook.",
            labels=["outcome", "error_code", "channel"],
        )
        for channel, count in conn.execute(
            select(M.channel, func.count())
            .where(M.direction == "out", M.sent_at.is_not(None))
            .group_by(M.channel)
        ):
            sends.add_metric(["sent", "", channel], count)
        totals: dict[tuple[str, str, str], int] = {}
        rows = conn.execute(
            select(M.status, M.error, M.channel, func.count())
            .where(M.direction == "out", M.status.in_(("delivered", "failed", "skipped")))
            .group_by(M.status, M.error, M.channel)
        )
        for status, error, channel, count in rows:
            key = (status, error_code(error) if status != "delivered" else "", channel)
            totals[key] = totals.get(key, 0) + count
        for labels, count in sorted(totals.items()):
            sends.add_metric(list(labels), count)
        yield sends

        yield _histogram(
            conn,
            "followup_send_lateness_seconds",
            "Seconds from a reminder's or check-in's due time to its send.",
            M.due_at,
            and_(M.direction == "out", M.kind.in_(("reminder", "checkin")), M.sent_at.is_not(None)),
            LATENESS_BUCKETS,
        )
        yield _histogram(
            conn,
            "followup_event_delivery_seconds",
            "Seconds from an event (escalation.opened, ...) to its acceptance by the clinic's webhook, "
            "retries included.",
            M.created_at,
            and_(M.direction == "out", M.kind == "event", M.sent_at.is_not(None)),
            LATENESS_BUCKETS,
        )

    def _escalations(self, conn: Connection) -> Iterator[Metric]:
        open_now = GaugeMetricFamily(
            "followup_escalations_open", "Escalations not yet acknowledged, by tier.", labels=["tier"]
        )
        counts: dict[str, int] = dict(
            conn.execute(
                select(E.tier, func.count()).where(E.acknowledged_at.is_(None)).group_by(E.tier)
            ).all()
        )
        for tier in TIERS:
            open_now.add_metric([tier], counts.get(tier, 0))
        yield open_now
        oldest = conn.execute(select(func.min(E.created_at)).where(E.acknowledged_at.is_(None))).scalar()
        age = GaugeMetricFamily(
            "followup_oldest_unacknowledged_escalation_age_seconds",
            "How long the oldest unacknowledged escalation has waited (0 when none is open).",
        )
        age.add_metric([], max(0.0, (self.now() - oldest).total_seconds()) if oldest else 0.0)
        yield age


def _histogram(
    conn: Connection, name: str, documentation: str, since: Any, where: Any, buckets: tuple[float, ...]
) -> HistogramMetricFamily:
    """A histogram of sent_at - `since` over the rows `where` selects: one CASE per row names its
    bucket, one GROUP BY counts them (a SUM per bucket cost four times as much on SQLite)."""
    seconds = _seconds_between(conn.dialect.name, M.sent_at, since).label("seconds")
    rows = select(seconds).where(where).subquery()
    bucket = case(*((rows.c.seconds <= le, i) for i, le in enumerate(buckets)), else_=len(buckets))
    counts = [0] * (len(buckets) + 1)
    total = 0.0
    for index, count, summed in conn.execute(
        select(bucket, func.count(), func.coalesce(func.sum(rows.c.seconds), 0.0)).group_by(bucket)
    ):
        counts[index] += count
        total += float(summed)
    cumulative, running = [], 0
    for le, count in zip([*map(floatToGoString, buckets), "+Inf"], counts):
        running += count
        cumulative.append((le, running))
    return HistogramMetricFamily(name, documentation, buckets=cumulative, sum_value=total)


class SpoolCollector(Collector):
    def __init__(self, directory: str | None):
        self.directory = directory

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "followup_spool_depth",
            "Webhook requests kept in the spool while the database was away: waiting, or set aside as "
            "unprocessable.",
            labels=["state"],
        )
        folder = Path(self.directory) if self.directory else None
        waiting = failed = 0
        if folder is not None and folder.is_dir():
            waiting = sum(1 for _ in folder.glob("*.json")) + sum(1 for _ in folder.glob("*.claimed"))
            failed = sum(1 for _ in folder.glob("*.failed"))
        depth.add_metric(["waiting"], waiting)
        depth.add_metric(["failed"], failed)
        yield depth


# --- this server's HTTP requests ----------------------------------------------------------------------


class HttpMetrics:
    """One server's request counters (a registry of its own: servers started and stopped in one
    process, as in the tests, do not add up each other's requests)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "followup_webhook_requests",
            "HTTP requests answered by this server, by route and status code.",
            ["path", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "followup_webhook_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["path"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )


class RequestMetrics:
    """ASGI middleware: counts and times every request by its route's template (`/twilio/sms`), never
    by its raw path (which may carry a token)."""

    def __init__(self, app: Any, http: HttpMetrics):
        self.app, self.http = app, http

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = getattr(scope.get("route"), "path", None) or "unmatched"
            self.http.requests.labels(path, str(status[0])).inc()
            self.http.duration.labels(path).observe(time.perf_counter() - started)


def render(
    engine: Engine,
    now: Callable[[], datetime],
    spool_dir: str | None,
    http: HttpMetrics,
    history_seconds: float = HISTORY_SECONDS,
) -> bytes:
    """One scrape: runs the database queries, so call it off the event loop."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine, now, history_seconds))
    registry.register(SpoolCollector(spool_dir))
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        # Every server process's files, summed.
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(http.registry)
    return generate_latest(registry)
