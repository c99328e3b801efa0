"""The lease heartbeat: a worker's thread that extends the leases of its claims in progress."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Engine

from . import outbox
from .db import session_scope

# Its lines are the dispatcher's, as they were before it had a module of its own.
log = logging.getLogger("followup.dispatch")


class Held(Protocol):
    """dispatch.Held as the heartbeat sees it: the claims whose outcomes are decided, not yet written."""

    def tokens(self) -> set[str]: ...


class Heartbeat:
    """Extends the leases of the claims in progress every third of a lease, on a thread of its own,
    so that no batch, however long it waits for send slots, outlives its lease."""

    def __init__(
        self, engine: Engine, owner: str, clock: Callable[[], datetime], lease: timedelta, held: Held
    ):
        self.engine, self.owner, self.clock, self.lease, self.held = engine, owner, clock, lease, held
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"lease heartbeat {owner}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def add(self, token: str) -> None:
        with self._lock:
            self._tokens.add(token)

    def discard(self, token: str) -> None:
        with self._lock:
            self._tokens.discard(token)

    def beat(self) -> None:
        with self._lock:
            tokens = set(self._tokens)
        tokens |= self.held.tokens()
        if not tokens:
            return
        try:
            with session_scope(self.engine) as session:
                outbox.heartbeat(session, self.owner, tokens, self.clock(), self.lease)
        except Exception as exc:  # the database is away: the fence before each send still decides
            log.debug("lease heartbeat failed: %s", type(exc).__name__)

    def _run(self) -> None:
        interval = max(0.2, self.lease.total_seconds() / 3)
        while not self.stopped.wait(interval):
            self.beat()
