"""A reentrant lock that lets its waiters in the order they came.

threading.RLock wakes no one in particular: the thread that releases it can take it straight back,
and a waiter can lose to newcomers again and again. Under the webhook's 16 concurrent requests on
SQLite that gave a few requests several times the others' wait (p99 85-93 ms, max 150-170 ms,
against 51 and 58 ms with this lock; docs/PERFORMANCE.md). Here the releasing thread hands the lock
to the oldest waiter, so a request waits for those ahead of it and no more.
"""

from __future__ import annotations

import threading
from collections import deque


class FairRLock:
    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiters: deque[tuple[int, threading.Lock]] = deque()

    def __enter__(self) -> FairRLock:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return self
            if self._owner is None:
                self._owner, self._depth = me, 1
                return self
            gate = threading.Lock()
            gate.acquire()
            self._waiters.append((me, gate))
        gate.acquire()  # released by the owner, who has already made this thread the owner
        return self

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            if self._owner != threading.get_ident():
                raise RuntimeError("cannot release a lock this thread does not hold")
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner, gate = self._waiters.popleft()
                self._depth = 1
                gate.release()
            else:
                self._owner = None

    @property
    def waiting(self) -> int:
        """How many threads wait for the lock."""
        return len(self._waiters)
