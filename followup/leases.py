"""The lease heartbeat: a worker's thread that extends the leases of its claims in progress."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Engine

from . import outbox
from .db import session_scope

# Its lines are the dispatcher's, as they were before it had a module of its own.
log = logging.getLogger("followup.dispatch")


class Held(Protocol):
    """outcomes.Held as the heartbeat sees it: the claims whose outcomes are decided, not yet written."""

    def tokens(self) -> set[str]: ...


class Heartbeat:
    """Extends the leases of the claims in progress every third of a lease, on a thread of its own,
    so that no batch, however long it waits for send slots, outlives its lease.

    One per worker, for the worker's life: dispatch runs register their claims with it (`running`,
    `add`, `discard`) rather than each starting and joining a thread of its own, which a worker that
    dispatches every second (or `simulate`, thousands of times) paid on every run. The thread starts
    with the first run and ends at `stop` (the worker's shutdown); it is a daemon, so a worker that is
    never shut down does not keep its process alive. Used as a context manager, it lives for one
    block instead (a caller of dispatch.run_once without a worker of its own)."""

    def __init__(
        self, engine: Engine, owner: str, clock: Callable[[], datetime], lease: timedelta, held: Held
    ):
        self.engine, self.owner, self.clock, self.lease, self.held = engine, owner, clock, lease, held
        self._tokens: set[str] = set()
        self._runs = 0  # dispatch runs under way: the held outcomes' claims are extended meanwhile
        self._lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the thread unless it is running (after a `stop`, a new one)."""
        with self._lock:
            if self.thread is not None and self.thread.is_alive() and not self.stopped.is_set():
                return
            previous, self.thread = self.thread, None
        if previous is not None:
            previous.join()  # a stop under way: let it end before the next thread begins
        with self._lock:
            if self.thread is None:
                self.stopped = threading.Event()
                self.thread = threading.Thread(
                    target=self._run, args=(self.stopped,), name=f"lease heartbeat {self.owner}", daemon=True
                )
                self.thread.start()

    def stop(self) -> None:
        """End the thread (the worker's shutdown); claims still registered are no longer extended."""
        with self._lock:
            thread = self.thread
            self.stopped.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def stop_soon(self) -> None:
        """Tell the thread to end without waiting for it (a worker dropped without a shutdown)."""
        self.stopped.set()

    @property
    def alive(self) -> bool:
        thread = self.thread
        return thread is not None and thread.is_alive() and not self.stopped.is_set()

    @contextmanager
    def running(self) -> Iterator[Heartbeat]:
        """One dispatch run: the thread is started if need be, and the outcomes held but not yet
        written have their claims extended while the run lasts, as when each run had its own thread."""
        self.start()
        with self._lock:
            self._runs += 1
        try:
            yield self
        finally:
            with self._lock:
                self._runs -= 1
                if not self._runs:
                    # No run under way, so no claim in progress: none is extended until the next run
                    # (a run that raised mid-batch did not discard its claim; its lease runs out).
                    self._tokens.clear()

    def add(self, token: str) -> None:
        with self._lock:
            self._tokens.add(token)

    def discard(self, token: str) -> None:
        with self._lock:
            self._tokens.discard(token)

    def beat(self) -> None:
        with self._lock:
            tokens = set(self._tokens)
            runs = self._runs
        if runs:
            tokens |= self.held.tokens()
        if not tokens:
            return
        try:
            with session_scope(self.engine) as session:
                outbox.heartbeat(session, self.owner, tokens, self.clock(), self.lease)
        except Exception as exc:  # the database is away: the fence before each send still decides
            log.debug("lease heartbeat failed: %s", type(exc).__name__)

    def _run(self, stopped: threading.Event) -> None:
        interval = max(0.2, self.lease.total_seconds() / 3)
        while not stopped.wait(interval):
            self.beat()
