"""The signed, expiring one-click links in alert emails (`/ack/TOKEN`): made here when an alert is
written (escalation.py, alerts.py), read by ack_pages.py through acks.py.

Tokens are itsdangerous's URL-safe timed serializer (HMAC-SHA1 over the payload and a timestamp,
with a key derived for this one purpose by its salt): a maintained, reviewed implementation of
exactly this, instead of hand-written HMAC, base64 and expiry parsing. Its timestamps follow
followup's clock, so a link made on the fake clock expires on it too. A token names one escalation
and the address it was mailed to, and lasts 7 days (CONTRACT.md). Apart from acks.py so that the
modules writing alerts need not import the one that acknowledges them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from . import clock
from .config import _get

MAX_AGE_S = 7 * 24 * 3600
SALT = "followup.ack-link"


class _ClockSigner(TimestampSigner):
    """Timestamps from followup's clock (FOLLOWUP_NOW), not the wall clock."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def secret(env: Mapping[str, str] | None = None) -> str | None:
    """FOLLOWUP_ACK_SECRET (or _FILE). Checked at start by config.load; None: no links."""
    return _get(os.environ if env is None else env, "FOLLOWUP_ACK_SECRET")


def _serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=SALT, signer=_ClockSigner)


def make_token(key: str, escalation_id: int, to: str) -> str:
    return _serializer(key).dumps({"e": escalation_id, "to": to})


def link(escalation_id: int, to: str | None) -> str | None:
    """The one-click link for an alert mailed to `to`, or None when links are off (no secret)."""
    key = secret()
    if not key or not to:
        return None
    base = (_get(os.environ, "FOLLOWUP_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/ack/{make_token(key, escalation_id, to)}"


class LinkProblem(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


def read_token(key: str | None, token: str) -> tuple[int, str]:
    """(escalation id, address) of a genuine, unexpired token; LinkProblem (with its HTTP status)
    for anything else."""
    if not key:
        raise LinkProblem(404, "Acknowledgement links are off here (FOLLOWUP_ACK_SECRET is not set).")
    serializer = _serializer(key)
    try:
        payload = serializer.loads(token, max_age=MAX_AGE_S)
    except SignatureExpired as exc:
        number = _escalation_of(serializer, exc.payload)
        raise LinkProblem(
            410,
            f"This link has expired (links work for 7 days). Acknowledge escalation {number} by "
            f"texting ACK {number} from the clinic's alert phone, or with "
            f"`followup escalations ack {number} --by NAME`.",
        ) from None
    except BadSignature:
        raise LinkProblem(
            403, "This acknowledgement link is not valid: it was changed or not made here."
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
        raise LinkProblem(403, "This acknowledgement link is not valid.")
    return payload["e"], str(payload.get("to") or "")


def _escalation_of(serializer: URLSafeTimedSerializer, raw: Any) -> str:
    try:  # the signature was good (it only expired), so the payload is ours
        return str(serializer.load_payload(raw)["e"])
    except Exception:
        return "N"
