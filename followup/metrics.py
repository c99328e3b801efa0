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

import asyncio
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import and_, case, create_engine, event, func, or_, select
from sqlalchemy.engine import Connection, Engine, make_url

from .db import BOUNDED_POOL_TIMEOUT_S, BOUNDED_STATEMENT_TIMEOUT_MS, CONNECT_TIMEOUT_S, error_reason
from .models import TIERS, Escalation, Message

log = logging.getLogger("followup.web")

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


class Flight:
    """One computation at a time (single flight), its result kept `max_age` seconds.

    Scrapes that arrive while it runs share its result instead of starting their own: 20 scrapes on a
    cold cache are one read of the outbox, not 20 (which held the webhook's threads and database for
    seconds). A failed computation keeps the previous result.
    """

    def __init__(self, compute: Callable[[], list[Metric]], max_age: float):
        self.compute, self.max_age = compute, max_age
        self._lock = threading.Lock()
        self._running: Future[list[Metric]] | None = None
        self._last: tuple[float, list[Metric]] | None = None

    @property
    def last(self) -> list[Metric] | None:
        with self._lock:
            return self._last[1] if self._last else None

    def submit(self, executor: Executor | None = None) -> Future[list[Metric]]:
        """The computation under way, or a result young enough, or a new one (in `executor`, or at
        once in this thread when there is none)."""
        with self._lock:
            if self._running is not None and not self._running.done():
                return self._running
            if self._last is not None and time.monotonic() - self._last[0] < self.max_age:
                done: Future[list[Metric]] = Future()
                done.set_result(self._last[1])
                return done
            if executor is not None:
                self._running = executor.submit(self._run)
                return self._running
            self._running = Future()
            running = self._running
        try:
            running.set_result(self._run())
        except BaseException as exc:
            running.set_exception(exc)
        return running

    def _run(self) -> list[Metric]:
        families = self.compute()
        with self._lock:
            self._last = (time.monotonic(), families)
        return families


class DatabaseCollector(Collector):
    """Everything the database knows, read at scrape time."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]):
        self.engine, self.now = engine, now

    def gauges(self) -> list[Metric]:
        with self.engine.connect() as conn:
            return [*self._pending(conn), *self._escalations(conn)]

    def history(self) -> list[Metric]:
        with self.engine.connect() as conn:
            return list(self._history(conn))

    def collect(self) -> Iterator[Metric]:
        yield from self.gauges()
        yield from self.history()

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
        totals: dict[tuple[str, str, str], int] = {}
        # One scan for both: every outbound row that was sent or came to an end (the table's bulk).
        was_sent = M.sent_at.is_not(None).label("was_sent")
        rows = conn.execute(
            select(was_sent, M.status, M.error, M.channel, func.count())
            .where(
                M.direction == "out",
                or_(M.sent_at.is_not(None), M.status.in_(("delivered", "failed", "skipped"))),
            )
            .group_by(was_sent, M.status, M.error, M.channel)
        )
        for sent, status, error, channel, count in rows:
            if sent:
                totals["sent", "", channel] = totals.get(("sent", "", channel), 0) + count
            if status in ("delivered", "failed", "skipped"):
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


class _Families(Collector):
    def __init__(self, families: list[Metric]):
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _database_up(up: bool) -> Metric:
    gauge = GaugeMetricFamily(
        "followup_database_up",
        "1 when this scrape read the database; 0 when it could not (then the figures read from it are "
        "left out, and the spool and request figures are still reported).",
    )
    gauge.add_metric([], 1.0 if up else 0.0)
    return gauge


def _expose(families: list[Metric], spool_dir: str | None, http: HttpMetrics) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    registry.register(SpoolCollector(spool_dir))  # the filesystem: there with the database away too
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        # Every server process's files, summed.
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(http.registry)
    return generate_latest(registry)


_flights: dict[tuple[str, float], Flight] = {}
_flights_lock = threading.Lock()


def render(
    engine: Engine,
    now: Callable[[], datetime],
    spool_dir: str | None,
    http: HttpMetrics,
    history_seconds: float = HISTORY_SECONDS,
) -> bytes:
    """One scrape in this thread (the bench, tests): the database's figures, the spool, the requests."""
    collector = DatabaseCollector(engine, now)
    with _flights_lock:
        flight = _flights.setdefault((str(engine.url), history_seconds), Flight(collector.history, 0))
    flight.max_age = history_seconds
    return _expose([*collector.gauges(), *flight.submit().result(), _database_up(True)], spool_dir, http)


class Scraper:
    """The server's /metrics: its own two threads and connections, apart from the webhook's, so a
    scrape never takes what a patient's reply needs.

    At most one gauge read and one history read run at a time, whatever the number of concurrent
    scrapes (Flight). A scrape waits for the gauges; the history is served from its last read while a
    new one runs in the background (on the very first scrape it waits for it). A database that does
    not answer is `followup_database_up 0` with the spool and the request figures, so an alert on the
    spool can fire while the database is away (a 503 would make Prometheus drop them all).
    """

    def __init__(
        self, database_url: str, now: Callable[[], datetime], spool_dir: str | None, http: HttpMetrics
    ):
        self.engine = reading_engine(database_url)
        self.spool_dir, self.http = spool_dir, http
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="followup-metrics")
        collector = DatabaseCollector(self.engine, now)
        self.gauges = Flight(collector.gauges, 0.0)
        self.history = Flight(collector.history, HISTORY_SECONDS)

    async def scrape(self, deadline: float) -> bytes:
        started = time.monotonic()
        gauges = self.gauges.submit(self.executor)
        history = self.history.submit(self.executor)
        families: list[Metric] = []
        try:
            families += await _wait(gauges, deadline)
        except Exception as exc:  # unreachable, or no answer within the deadline
            log.warning("metrics: database unavailable (%s)", _reason(exc))
            return _expose([_database_up(False)], self.spool_dir, self.http)
        last = self.history.last
        if history.done() or last is None:
            try:
                last = await _wait(history, max(0.1, deadline - (time.monotonic() - started)))
            except Exception as exc:
                log.warning("metrics: history not read (%s)", _reason(exc))
        families += last or []
        return _expose([*families, _database_up(True)], self.spool_dir, self.http)

    def close(self) -> None:
        self.executor.shutdown(wait=False)
        self.engine.dispose()


async def _wait(future: Future[list[Metric]], seconds: float) -> list[Metric]:
    # shield: a scrape that gives up does not cancel the read other scrapes share
    return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), seconds)


def _reason(exc: BaseException) -> str:
    return "no answer in time" if isinstance(exc, TimeoutError) else error_reason(exc)


def reading_engine(url: str) -> Engine:
    """Metrics' own small pool, read-only. On SQLite a plain (deferred) BEGIN: a read in WAL mode
    never takes the write lock, where the shared engine's BEGIN IMMEDIATE made every scrape wait for
    (and then hold up) the writers, replies included. On PostgreSQL two connections at most, with the
    webhook's connect and statement bounds."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 5},
            hide_parameters=True,
            pool_size=2,
            max_overflow=0,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # BEGIN below, not the driver's
            dbapi_conn.execute("PRAGMA query_only=ON")

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")  # deferred: a snapshot to read, no lock on writers

        return engine
    own = make_url(url).query.get("options") or ""
    own = own if isinstance(own, str) else " ".join(own)
    statement_timeout = BOUNDED_STATEMENT_TIMEOUT_MS * 2  # the history's GROUP BYs over the outbox
    options = f"-c statement_timeout={statement_timeout} -c default_transaction_read_only=on {own}".strip()
    return create_engine(
        url,
        pool_size=2,
        max_overflow=0,
        pool_timeout=BOUNDED_POOL_TIMEOUT_S,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "options": options},
    )
