"""A rate cap shared by every worker of a deployment, kept in the database.

Instead of a token bucket (which lets a full bucket burst past the cap in any one second), workers
reserve *send slots* spaced 1/rate apart on one shared timeline: `UPDATE rate_limit SET next_free_at =
max(next_free_at, now) + k/rate ... RETURNING`, one atomic statement on SQLite and PostgreSQL. Each
send then waits for its own slot, so no window of one second ever holds more than the cap, however
many workers and threads there are. Slots are reserved a few at a time to keep database round trips
low; a reserved slot that goes unused only leaves a gap.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from sqlalchemy import func, literal, text, update
from sqlalchemy.engine import Engine

from .db import session_scope
from .models import RateLimit

R = RateLimit.__table__.c


class RateCap:
    def __init__(
        self,
        engine: Engine,
        name: str,
        per_second: float,
        *,
        margin: float = 0.965,
        block_seconds: float = 0.1,
        stop: threading.Event | None = None,
    ):
        # A small margin under the cap absorbs clock jitter between reserving a slot and the request
        # reaching the provider.
        self.engine, self.name = engine, name
        self.interval = 1.0 / (per_second * margin)
        self.block = max(1, int(block_seconds / self.interval))
        self.stop = stop
        self.late_tolerance = 0.008  # seconds
        self._slots: deque[float] = deque()
        self._lock = threading.Lock()
        with session_scope(engine) as session:
            insert = text(
                "INSERT INTO rate_limit (name, next_free_at) VALUES (:n, 0) ON CONFLICT (name) DO NOTHING"
            )
            session.execute(insert, {"n": name})

    def _reserve(self) -> None:
        now = time.time()
        greatest = func.max if self.engine.dialect.name == "sqlite" else func.greatest
        span = self.block * self.interval
        reserve = (
            update(RateLimit.__table__)
            .where(R.name == self.name)
            .values(next_free_at=greatest(R.next_free_at, literal(now)) + span)
            .returning(R.next_free_at)
        )
        if self.engine.dialect.name == "postgresql":
            # One autocommit statement: the row lock ends with the statement, on the server. In a
            # transaction of its own it lasted until our COMMIT, and a worker frozen (SIGSTOP) between
            # the UPDATE and the COMMIT stopped every worker's SMS for as long as it stayed frozen.
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                end = connection.execute(reserve).scalar_one()
        else:
            with session_scope(self.engine) as session:
                end = session.execute(reserve).scalar_one()
        start = end - span
        self._slots.extend(start + i * self.interval for i in range(self.block))

    def wait(self, _channel: str = "", segments: int = 1) -> bool:
        """Block until this caller's send slot comes: True. False if the worker is stopping meanwhile
        (the caller must then not send: the message stays claimed and is handed back).

        A caller that wakes up well past its slot (the process was busy: a claim holding the GIL)
        gives the slot up and takes a fresh one: firing late slots together is how a cap gets broken.

        `segments`: what the message costs. Twilio paces a sender by segments, not messages (a long
        code sends one segment a second), so a 2-segment reminder takes two slots: it goes at the first
        and the next message waits for the slot after its second.
        """
        while True:
            with self._lock:
                taken = []
                while len(taken) < max(1, segments):
                    if not self._slots:
                        self._reserve()
                    taken.append(self._slots.popleft())
                slot = taken[0]
            while True:
                if self.stop is not None and self.stop.is_set():
                    return False
                delay = slot - time.time()
                if delay <= 0:
                    break
                time.sleep(min(delay, 0.2))
            if -delay <= self.late_tolerance:
                return True
