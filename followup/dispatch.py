"""Send what is due: claim a batch, resolve recipients, send through a channel, record the outcome.

Claims and outcomes are short transactions of their own; no database lock is held while a provider
is on the wire. Ownership is checked at the moment of sending, not assumed from the claim: right
before each provider call, outbox.fence() extends the row's lease only if it still carries this
worker's claim, and a heartbeat extends the leases of every claim in progress. A worker that stalled
past its lease and lost its rows to another worker sends none of them. (The recipients are read by
recipients.py, the heartbeat beats in leases.py, outcomes are held and written by outcomes.py:
this module is the send loop.)

Transient failures retry with exponential back-off and jitter (never sooner than a Retry-After
asks) until the message's deadline, its expires_at: the grace of a scheduled message, a day or two
for the rest. Permanent ones fail at once. Nothing goes out after its deadline (outbox.expire_stale).

Outcomes are never dropped: a write that fails (the database is away) is kept, and retried before
this worker claims anything else; the rows stay leased to it meanwhile.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from . import alerts, leases, outbox, recipients, tracking
from .channels.base import Channel, DeliveryError, Outgoing
from .db import session_scope
from .localtime import in_window, next_window_open, parse_hhmm, zone
from .messages import html_email
from .outcomes import Held, Report, _Flusher, _Job
from .segments import segments
from .validity import validity_seconds

log = logging.getLogger("followup.dispatch")

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=20)
BATCH = 500
LEASE = timedelta(seconds=120)
# A channel that sends one message at a time with no pacing (console, fakes: no network) fences this
# many rows in one statement before sending them, instead of one statement per send (docs/PERFORMANCE.md).
# A worker frozen among them may send that many again.
FENCE_GROUP = 16
# A retry that back-off would put past the deadline is moved to this long before it: a last chance.
LAST_CALL = timedelta(minutes=1)
DEFAULT_DEADLINE = timedelta(hours=24)  # a row without expires_at (none are written so, today)

# What a patient who is not active may still receive.
ALWAYS_ALLOWED = {
    "opted_out": {"optout"},
    "paused": {"optout", "optin", "help", "escalation", "reply", "confirmation", "staff"},
    "completed": {"optout", "optin", "help", "escalation", "reply", "staff"},
    "unenrolled": {"optout", "help", "reply"},
}
CLINIC_KINDS = ("alert", "review", "event")  # to the clinic (events: its webhook), not to the patient


def backoff(attempts: int, rng: random.Random = random) -> timedelta:
    """Exponential with 'equal jitter': half fixed, half random, so retries from many rows spread out."""
    ceiling = min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_MAX)
    return ceiling / 2 + ceiling / 2 * rng.random()


def _prepare(job: _Job, patient: Any, clinic: Any, now: datetime, owner: str) -> None:
    """Decide, without sending, whether the claimed row may go now: fills job.outgoing or job.outcome."""
    c = job.claimed
    base = {
        "id": c.id,
        "owner": owner,
        "token": c.token,
        "lease_until": None,
        "lease_owner": None,
        "lease_token": None,
        "updated_at": now,
    }

    def finish(status: str, error: str) -> None:
        job.outcome = {**base, "status": status, "error": error}

    to = c.to_addr
    if c.kind not in CLINIC_KINDS:
        if patient is None:
            return finish("skipped", "no patient")
        if patient.status != "active" and c.kind not in ALWAYS_ALLOWED.get(patient.status, set()):
            return finish("skipped", f"patient {patient.status.replace('_', ' ')}")
        if c.channel == "sms" and patient.phone_unusable:
            return finish("skipped", "phone number cannot receive SMS")
        to = to or (patient.phone if c.channel == "sms" else patient.email)
    if not to:
        return finish("skipped", f"no {'phone number' if c.channel == 'sms' else 'email address'}")
    if not c.quiet_exempt and clinic is not None:
        # Alerts follow the clinic's clock; everything else the patient's.
        tz = zone(clinic.timezone if c.kind in CLINIC_KINDS or patient is None else patient.timezone)
        start, end = parse_hhmm(clinic.quiet_start), parse_hhmm(clinic.quiet_end)
        job.quiet = (tz, start, end)
        if not in_window(now.astimezone(tz).time(), start, end):
            opens = next_window_open(now, tz, start, end)
            if c.expires_at is not None and opens > c.expires_at:
                return finish("skipped", "quiet hours: the sending window opens after the message's grace")
            # Not an attempt: give the count back and wait for the window.
            job.outcome = {
                **base,
                "status": "pending",
                "next_attempt_at": opens,
                "attempts": c.attempts - 1,
                "error": None,
            }
            return
    html = None
    if c.channel == "email":
        html = html_email(
            c.body, c.subject, patient.language if patient else "en", clinic.name if clinic else ""
        )
    job.outgoing = Outgoing(
        message_id=c.id, channel=c.channel, kind=c.kind, to=to, body=c.body, subject=c.subject, html=html
    )


_BLOCKED_REASON = {"opted_out": "patient opted out", "unusable": "phone number cannot receive SMS"}


def retry_at(c: outbox.Claimed, now: datetime, exc: DeliveryError | None, rng: random.Random) -> datetime:
    """When to try a transiently failed message again: back-off, never sooner than the provider's
    Retry-After, and moved up to a last attempt just before the message's deadline rather than past
    it. A time past the deadline means none is left: outbox.expire_stale then skips the row with its
    last error."""
    deadline = c.expires_at or (c.due_at or now) + DEFAULT_DEADLINE
    at = now + backoff(c.attempts, rng)
    if at > deadline - LAST_CALL and deadline - LAST_CALL > now:
        at = deadline - LAST_CALL
    if exc is not None and exc.retry_after:
        at = max(at, now + timedelta(seconds=exc.retry_after))
    return at


def _send(
    job: _Job,
    channel: Channel,
    owner: str,
    clock: Callable[[], datetime],
    rng: random.Random,
    pace: Callable[..., bool] | None,
    blocked: dict[int, str],
    fence: Callable[[_Job], bool],
) -> None:
    c = job.claimed
    base = {
        "id": c.id,
        "owner": owner,
        "token": c.token,
        "lease_until": None,
        "lease_owner": None,
        "lease_token": None,
    }
    if c.patient_id in blocked and c.kind not in CLINIC_KINDS:
        # An earlier send in this batch learned the patient cannot or must not get SMS.
        job.outcome = {
            **base,
            "status": "skipped",
            "error": _BLOCKED_REASON[blocked[c.patient_id]],
            "updated_at": clock(),
        }
        return
    # The cap counts segments, as Twilio's queue does: a 2-segment reminder takes two send slots.
    if pace and pace(channel.name, segments(job.outgoing.body)) is False:
        return  # stopping while waiting for a send slot: not sent, not recorded, handed back
    now = clock()
    if c.expires_at is not None and now > c.expires_at:
        # It waited for a send slot past its deadline: never late.
        job.outcome = {
            **base,
            "status": "skipped",
            "error": "stale: not sent within its grace after due",
            "updated_at": now,
        }
        return
    # Twilio may hold a queued message for hours: it is told when this one stops being worth sending.
    valid_for = validity_seconds(now, c.expires_at, job.quiet)
    if valid_for is None:  # quiet hours began while it waited for its turn: as _prepare would decide
        opens = next_window_open(now, *job.quiet)
        if c.expires_at is not None and opens > c.expires_at:
            job.outcome = {
                **base,
                "status": "skipped",
                "error": "quiet hours: the sending window opens after the message's grace",
                "updated_at": now,
            }
        else:
            job.outcome = {
                **base,
                "status": "pending",
                "next_attempt_at": opens,
                "attempts": c.attempts - 1,
                "error": None,
                "updated_at": now,
            }
        job.outgoing = None  # not sent, and not an attempt: counted as deferred
        return
    job.outgoing = replace(job.outgoing, valid_for=valid_for)
    if not fence(job):
        return  # not ours any more (or the database is away): another worker sends it, or we do later
    try:
        provider_id = channel.send(job.outgoing)
    except DeliveryError as exc:
        now = clock()
        reason = f"{exc.code}: {exc.reason}" if exc.code else exc.reason
        if exc.consequence and c.patient_id:
            job.consequence = (exc.consequence, c.patient_id, exc.evidence or reason)
            blocked[c.patient_id] = exc.consequence
        if exc.permanent:
            job.outcome = {**base, "status": "failed", "error": reason, "updated_at": now}
        else:
            job.outcome = {
                **base,
                "status": "pending",
                "error": reason,
                "updated_at": now,
                "next_attempt_at": retry_at(c, now, exc, rng),
            }
        return
    except Exception as exc:  # a bug or an unexpected library error must not lose the row: retry it
        now = clock()
        job.outcome = {
            **base,
            "status": "pending",
            "error": f"unexpected: {type(exc).__name__}: {exc}",
            "updated_at": now,
            "next_attempt_at": retry_at(c, now, None, rng),
        }
        return
    now = clock()
    job.outcome = {
        **base,
        "status": "sent",
        "sent_at": now,
        "provider_id": provider_id,
        "error": None,
        "to_addr": job.outgoing.to,
        "updated_at": now,
    }


def run_once(
    engine: Engine,
    channels: dict[str, Channel],
    owner: str,
    *,
    clock: Callable[[], datetime],
    batch: int | dict[str, int] = BATCH,
    lease: timedelta = LEASE,
    stop: threading.Event | None = None,
    rng: random.Random | None = None,
    pace: Callable[..., bool] | None = None,
    held: Held | None = None,
    heart: leases.Heartbeat | None = None,
) -> Report:
    """Drain everything due now.

    `batch` may differ per channel: a rate-capped channel should claim about what it can send soon.
    `pace(channel, segments)` blocks until a send of that many segments is allowed (False: stop).
    `held`: this worker's outcomes not yet written (kept across runs); without it, a run that cannot
    write its outcomes raises after keeping them in a Held of its own, which is then lost with the run.
    `heart`: this worker's long-lived lease heartbeat (for `owner`, `lease` and `held`), which the
    run's claims register with; without it, the run starts a heartbeat thread of its own and joins it.
    """
    rng = rng or random.Random()
    if heart is not None:
        if heart.owner != owner or heart.engine is not engine or heart.lease != lease:
            raise ValueError("the heartbeat given is another worker's (owner, engine or lease differ)")
        if held is not None and held is not heart.held:
            raise ValueError("the heartbeat given extends the claims of another Held")
        held = heart.held
    held = held if held is not None else Held()
    report = Report()
    flusher = _Flusher(engine, report, clock, held)
    if not flusher.flush():
        raise flusher.error  # nothing new is claimed while earlier outcomes cannot be written
    with session_scope(engine) as session:
        alerts.before_expiry(session, clock())  # an alert that never got out falls back first
        report.stale += tracking.expire_stale(session, clock())
    trouble: list[Exception] = []  # a fence that met a database error: the run stops claiming
    with ExitStack() as scope:
        if heart is None:  # no worker's heartbeat: one for this run only
            heart = scope.enter_context(leases.Heartbeat(engine, owner, clock, lease, held))
        scope.enter_context(heart.running())
        for name, channel in channels.items():
            _drain(
                engine, name, channel, owner, clock, batch, lease, stop, rng, pace, flusher, heart, trouble
            )
            if flusher.error is not None or trouble:
                break
    if not flusher.flush():
        raise flusher.error
    if trouble:
        raise trouble[0]
    return report


def _drain(
    engine: Engine,
    name: str,
    channel: Channel,
    owner: str,
    clock: Callable[[], datetime],
    batch: int | dict[str, int],
    lease: timedelta,
    stop: threading.Event | None,
    rng: random.Random,
    pace: Callable[..., bool] | None,
    flusher: _Flusher,
    heart: leases.Heartbeat,
    trouble: list,
) -> None:
    limit = batch.get(name, BATCH) if isinstance(batch, dict) else batch
    pool = ThreadPoolExecutor(max_workers=channel.concurrency) if channel.concurrency > 1 else None
    fenced_out = []

    def fence(job: _Job) -> bool:
        try:
            with session_scope(engine) as session:
                if outbox.fence(session, job.claimed, owner, clock(), lease):
                    return True
        except Exception as exc:  # the database is away: not sent; the row stays claimed until its lease ends
            trouble.append(exc)
            return False
        fenced_out.append(job.claimed.id)
        return False

    def fence_group(group: list[_Job]) -> Callable[[_Job], bool]:
        try:
            with session_scope(engine) as session:
                held = outbox.fence_many(session, [j.claimed for j in group], owner, clock(), lease)
        except Exception as exc:
            trouble.append(exc)
            held = set()
        fenced_out.extend(j.claimed.id for j in group if j.claimed.id not in held and not trouble)
        return lambda job: job.claimed.id in held

    try:
        while not (stop and stop.is_set()) and flusher.error is None and not trouble:
            now = clock()
            with session_scope(engine) as session:
                claimed = outbox.claim(session, now, owner, limit=limit, lease=lease, channel=name)
                if not claimed:
                    break
                who = recipients.load(session, claimed)
            token = claimed[0].token
            heart.add(token)
            jobs = [_Job(c) for c in claimed]
            for job in jobs:
                _prepare(job, *who[job.claimed.id], now, owner)
            blocked: dict[int, str] = {}
            send = lambda j, f=fence, b=blocked: _send(j, channel, owner, clock, rng, pace, b, f)  # noqa: E731
            # Outcomes are written every RECORD_MAX sends or RECORD_SECONDS, whichever comes first,
            # not once a batch: a worker that dies re-sends (at-least-once) only what it sent
            # since its last record.
            flusher.add([j for j in jobs if j.outgoing is None])  # decided without sending
            to_send = [j for j in jobs if j.outgoing is not None]
            if pool:
                futures = {pool.submit(send, j): j for j in to_send}  # sends stay in flight continuously
                for future in as_completed(futures):
                    if (stop and stop.is_set()) or flusher.error is not None or trouble:
                        for pending in futures:
                            pending.cancel()  # not started: stays claimed, handed back on stop
                    if not future.cancelled():
                        flusher.add([futures[future]])
            else:
                step = FENCE_GROUP if pace is None else 1
                for start in range(0, len(to_send), step):
                    group = to_send[start : start + step]
                    if (stop and stop.is_set()) or flusher.error is not None or trouble:
                        break
                    fenced = fence_group(group) if step > 1 else fence
                    for job in group:
                        send(job, fenced)
                        flusher.add([job])
            flusher.flush()
            heart.discard(token)  # what is left unsent under it is handed back or left to expire
            if fenced_out:
                log.warning(
                    "%d claimed messages were no longer this worker's when their turn came (its lease ran "
                    "out and another worker took them over, or they expired): not sent by this worker",
                    len(fenced_out),
                )
                fenced_out.clear()
            if len(claimed) < limit:
                break
    finally:
        if pool:
            pool.shutdown(wait=True)
