"""Events to a clinic's webhook: a JSON POST signed per the Standard Webhooks specification.

Headers `webhook-id` (random, kept on the event's row as the second word of its subject: the same on
every retry, so a receiver can drop duplicates, and never another event's), `webhook-timestamp`
(the wall-clock time of this attempt, never the fake clock: it guards the receiver against replays)
and `webhook-signature`, made by the `standardwebhooks` package with FOLLOWUP_WEBHOOK_SECRET.
A 2xx is delivered; 408, 409, 425, 429 and 5xx, timeouts and refused connections are retried by the
outbox with back-off (no sooner than a Retry-After asks); any other answer fails the event for good.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import requests
from standardwebhooks import Webhook

from ..config import Settings
from .base import DeliveryError, Outgoing

TIMEOUT = (5.0, 10.0)  # connect, read: a receiver that hangs holds one of a handful of threads
RETRIED = {408, 409, 425, 429}
USER_AGENT = "followup-webhooks/1"


def webhook_id(message: Outgoing) -> str:
    """The id events.py stored in the subject; a row queued before it did keeps its first attempts' id."""
    words = (message.subject or "").split()
    return words[1] if len(words) == 2 else f"msg_{message.message_id}"


class WebhookChannel:
    name = "webhook"
    concurrency = 4

    def __init__(self, settings: Settings):
        self._signer = Webhook(settings.webhook_secret) if settings.webhook_secret else None
        self._local = threading.local()  # requests.Session is not shared between threads

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def send(self, message: Outgoing) -> str:
        if self._signer is None:
            # Retried, not failed: once the secret is set (and the worker restarted) they go out.
            raise DeliveryError(
                "FOLLOWUP_WEBHOOK_SECRET is not set: events cannot be signed", code="unsigned"
            )
        msg_id = webhook_id(message)
        attempt = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(attempt.timestamp())),
            "webhook-signature": self._signer.sign(msg_id, attempt, message.body),
        }
        try:
            answer = self._session().post(
                message.to,
                data=message.body.encode(),
                headers=headers,
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise DeliveryError("the webhook did not answer in time", code="timeout") from None
        except requests.RequestException as exc:
            raise DeliveryError(
                f"cannot reach the webhook ({type(exc).__name__})", code="unreachable"
            ) from None
        status = answer.status_code
        if 200 <= status < 300:
            return msg_id
        reason = f"the webhook answered HTTP {status}"
        if status in RETRIED or status >= 500:
            raise DeliveryError(reason, code=str(status), retry_after=_retry_after(answer))
        raise DeliveryError(reason, code=str(status), permanent=True)


def _retry_after(answer: requests.Response) -> float | None:
    value = answer.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
