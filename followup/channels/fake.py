"""An in-memory channel for tests, benchmarks and `followup simulate`: records sends, fails on demand."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from .base import DeliveryError, Outgoing


@dataclass
class Sent:
    message: Outgoing
    provider_id: str
    at: float = field(default_factory=time.time)


class FakeChannel:
    def __init__(self, name: str, concurrency: int = 1, latency: float = 0.0, keep: bool = True):
        self.name = name
        self.keep = keep  # False: count only (benchmarks: a list of every message would be the memory used)
        self.count = 0
        self.concurrency = concurrency
        self.latency = latency
        self.sent: list[Sent] = []
        self._failures: list[DeliveryError] = []
        self._rule: Callable[[Outgoing], DeliveryError | None] | None = None
        self._lock = threading.Lock()

    def fail_next(self, *errors: DeliveryError) -> None:
        """The next sends raise these, in order."""
        with self._lock:
            self._failures.extend(errors)

    def fail_when(self, rule: Callable[[Outgoing], DeliveryError | None] | None) -> None:
        """Every send asks `rule` first; an error it returns is raised."""
        self._rule = rule

    def send(self, message: Outgoing) -> str:
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            error = self._failures.pop(0) if self._failures else (self._rule(message) if self._rule else None)
            if error is not None:
                raise error
            provider_id = f"FAKE{self.name.upper()}{uuid.uuid4().hex}"
            self.count += 1
            if self.keep:
                self.sent.append(Sent(message, provider_id))
        return provider_id

    def to(self, address: str) -> list[Outgoing]:
        return [s.message for s in self.sent if s.message.to == address]
