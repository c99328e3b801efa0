"""The channel interface: send one rendered message, return the provider's id, or raise DeliveryError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..errors import FollowupError


@dataclass(frozen=True)
class Outgoing:
    message_id: int
    channel: str  # sms | email
    kind: str
    to: str
    body: str
    subject: str | None = None
    html: str | None = None
    # Seconds the provider may keep it queued before it is no longer worth sending (validity.py).
    valid_for: int | None = None


class DeliveryError(FollowupError):
    """A send failed. `permanent` ones are never retried.

    `consequence` says what the failure means beyond this message: "opted_out" (the carrier says the
    recipient replied STOP) or "unusable" (the number cannot receive SMS). `retry_after`: seconds the
    provider asked us to wait before trying again (Retry-After on a 429 or 503), if it said.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        code: str | None = None,
        consequence: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code
        self.consequence = consequence
        self.retry_after = retry_after


class Channel(Protocol):
    name: str  # sms | email
    # How many sends may be in flight at once (network channels wait on I/O; console/fake do not).
    concurrency: int

    def send(self, message: Outgoing) -> str:
        """Deliver, returning the provider's id for the message; raise DeliveryError on failure."""
        ...
