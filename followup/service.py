"""One scheduler cycle (`tick`), and APScheduler wiring for `run` and `worker`.

APScheduler only fires a few fixed-id periodic jobs; the database is the schedule, so any number of
workers can share it. Misfire policy: coalesce (a backlog of missed runs runs once) and no grace
limit (a late run still runs): every job is idempotent and catches up on its own.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from . import channels as channel_registry
from . import clock, dispatch, leases, outbox, planner, timerules
from .channels.base import Channel
from .db import error_reason, session_scope
from .ratecap import RateCap

log = logging.getLogger("followup.service")

PLAN_EVERY = timedelta(minutes=1)
DISPATCH_EVERY = timedelta(seconds=1)
RULES_EVERY = timedelta(minutes=1)
SMS_BATCH_MAX = 3000
# A rate-capped channel claims what the whole deployment's cap lets out in this long: just in time,
# so rows do not sit claimed by one worker while others are idle (leases are extended meanwhile).
CLAIM_AHEAD_SECONDS = 10


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class TickReport:
    planned: int = 0
    dispatch: dispatch.Report = field(default_factory=dispatch.Report)
    rules: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"planned": self.planned, **asdict(self.dispatch), **self.rules}

    def summary(self) -> str:
        d = self.dispatch
        parts = [
            f"planned {self.planned}",
            f"sent {d.sent}",
            f"failed {d.failed}",
            f"retrying {d.retrying}",
            f"skipped {d.skipped}",
            f"stale {d.stale}",
            f"deferred {d.deferred}",
        ]
        parts += [f"{k} {v}" for k, v in self.rules.items()]
        return ", ".join(parts)


class Worker:
    """The three jobs of a scheduler process, callable one at a time (tick) or from APScheduler."""

    def __init__(
        self,
        engine: Engine,
        channels: dict[str, Channel],
        *,
        now: Callable = clock.now,
        batch: int | dict[str, int] = dispatch.BATCH,
        lease: timedelta = dispatch.LEASE,
        pace: Callable[..., bool] | None = None,  # (channel, segments) -> False when stopping
    ):
        self.engine, self.channels, self.now = engine, channels, now
        self.batch, self.lease, self.pace = batch, lease, pace
        self.owner = worker_id()
        self.stopping = threading.Event()
        self.held = dispatch.Held()  # outcomes decided but not yet written: kept across runs
        self._heart: leases.Heartbeat | None = None  # one for the worker's life: see heartbeat()

    def heartbeat(self) -> leases.Heartbeat:
        """The worker's lease heartbeat, which every dispatch run's claims register with: one thread
        for the worker's life (until `close`), not one started and joined on each run."""
        heart = self._heart
        if heart is None or (heart.engine, heart.clock, heart.lease) != (self.engine, self.now, self.lease):
            if heart is not None:  # the worker's lease or clock was changed since: a heartbeat for it
                heart.stop()
            heart = self._heart = leases.Heartbeat(self.engine, self.owner, self.now, self.lease, self.held)
            # A worker dropped without `close` (a test, a script) still ends its thread.
            weakref.finalize(self, heart.stop_soon)
        return heart

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the lease heartbeat's thread (the worker's shutdown; release() ends with it). A later
        dispatch starts it again."""
        if self._heart is not None:
            self._heart.stop()

    def plan(self) -> int:
        with session_scope(self.engine) as session:
            return planner.plan(session, self.now())

    def dispatch(self) -> dispatch.Report:
        return dispatch.run_once(
            self.engine,
            self.channels,
            self.owner,
            clock=self.now,
            batch=self.batch,
            lease=self.lease,
            stop=self.stopping,
            pace=self.pace,
            held=self.held,
            heart=self.heartbeat(),
        )

    def rules(self) -> dict[str, int]:
        with session_scope(self.engine) as session:
            return timerules.run(session, self.now())

    def tick(self) -> TickReport:
        planned = self.plan()
        sent = self.dispatch()
        return TickReport(planned=planned, dispatch=sent, rules=self.rules())

    def release(self) -> int:
        """Hand back rows this worker had claimed but not sent (graceful shutdown). Outcomes still
        held are written first; rows whose outcome cannot be written are not handed back (their lease
        runs out instead), since a sent one among them would go out again."""
        try:
            if self.held:
                try:
                    dispatch.run_once(
                        self.engine,
                        {},
                        self.owner,
                        clock=self.now,
                        lease=self.lease,
                        held=self.held,
                        heart=self.heartbeat(),
                    )
                except Exception as exc:
                    log.warning(
                        "could not record %d outcomes before stopping: %s",
                        len(self.held.jobs),
                        error_reason(exc),
                    )
            with session_scope(self.engine) as session:
                return outbox.release(session, self.owner, self.now(), keep=self.held.ids())
        finally:
            self.close()  # the worker is stopping: no thread of it is left behind


def build_worker(settings, engine: Engine, channels: dict[str, Channel] | None = None) -> Worker:
    """A Worker as configured: real channels, the deployment-wide SMS cap, batches sized to the lease."""
    channels = channels if channels is not None else channel_registry.build(settings)
    lease = timedelta(seconds=settings.lease_seconds)
    worker = Worker(engine, channels, lease=lease)
    if settings.sms_backend == "twilio":
        # Per sender, as Twilio paces them: one timeline for the number (or Messaging Service) we send from.
        sender = settings.twilio_messaging_service_sid or settings.twilio_from_number
        cap = RateCap(engine, f"sms:{sender}", settings.sms_max_per_second, stop=worker.stopping)
        worker.pace = lambda channel, segments=1: cap.wait(channel, segments) if channel == "sms" else True
        # The cap is shared: N workers each claiming what it lets out in a lease once held N times that
        # (issue 14), and rows outlived their leases. Claim just in time instead: what the whole cap
        # lets out in a few seconds. The heartbeat and the fence before each send make a longer wait
        # safe, so this is about fairness and lateness, not correctness. Large caps still claim large
        # batches: the last sends of a batch are in flight when the next claim starts, and each
        # boundary loses that much of the cap.
        ahead = min(CLAIM_AHEAD_SECONDS, settings.lease_seconds / 4)
        worker.batch = {
            "sms": max(1, min(SMS_BATCH_MAX, int(settings.sms_max_per_second * ahead))),
            "email": dispatch.BATCH,
        }
    return worker


def schedule_jobs(scheduler: BaseScheduler, worker: Worker) -> None:
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None, "replace_existing": True}
    for name, every in (("plan", PLAN_EVERY), ("dispatch", DISPATCH_EVERY), ("rules", RULES_EVERY)):
        scheduler.add_job(
            _logged(getattr(worker, name)),
            "interval",
            seconds=every.total_seconds(),
            id=name,
            name=name,
            next_run_time=datetime.now(UTC),
            **common,
        )


def _plain(result) -> str:
    """A job's result as a log reads it: "sent 1, failed 0", not "Report(sent=1, ...)" or "{'sent': 1}"."""
    if is_dataclass(result):
        result = asdict(result)
    if isinstance(result, dict):
        return ", ".join(
            f"{k} {_plain(v) if isinstance(v, dict) else v}"
            for k, v in result.items()
            if not (isinstance(v, dict) and not v)
        )
    return str(result)


def _logged(job: Callable) -> Callable:
    failing = False

    def run():
        nonlocal failing
        try:
            result = job()
        except OperationalError as exc:
            # The database is away (restart, failover, network) or full. One line, not a traceback a
            # second: an outage must not flood the log, and a log nobody drains must not stall the jobs.
            log.warning(
                "%s failed: database error (%s); it runs again at its next interval",
                job.__name__,
                error_reason(exc),
            )
            failing = True
            return None
        except Exception:  # one failed cycle must not stop the scheduler
            log.exception("%s failed; it runs again at its next interval", job.__name__)
            failing = True
            return None
        if failing:
            log.warning("%s recovered", job.__name__)
            failing = False
        if result and (not isinstance(result, dict) or any(result.values())):
            log.info("%s: %s", job.__name__, _plain(result))
        return result

    run.__name__ = job.__name__
    return run


def start_scheduler(worker: Worker) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()}, executors={"default": ThreadPoolExecutor(4)}, timezone="UTC"
    )
    schedule_jobs(scheduler, worker)
    scheduler.start()
    log.info("scheduler %s started", worker.owner)
    return scheduler


def stop_scheduler(scheduler: BackgroundScheduler, worker: Worker) -> int:
    """Stop claiming, let the jobs under way finish, then hand back whatever is still claimed.

    The order matters: releasing before a running send records its outcome would send it twice.
    """
    worker.stopping.set()
    scheduler.shutdown(wait=True)
    released = worker.release()
    log.info("scheduler %s stopped; released %d unsent claims", worker.owner, released)
    return released


def run_worker(worker: Worker) -> int:
    """`followup worker`: blocks until SIGINT/SIGTERM, then stops gracefully."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stop.set())
    scheduler = start_scheduler(worker)
    while not stop.wait(0.5):
        pass
    log.info("stop requested: finishing the jobs under way")
    return stop_scheduler(scheduler, worker)
