"""Acknowledging an escalation from where its alert lands: a text `ACK N` from the clinic's alert
phone, or the signed one-click link in the alert email (`GET`/`POST /ack/TOKEN` on `followup serve`).

Tokens are itsdangerous's URL-safe timed serializer (HMAC-SHA1 over the payload and a timestamp,
with a key derived for this one purpose by its salt): a maintained, reviewed implementation of
exactly this, instead of hand-written HMAC, base64 and expiry parsing. Its timestamps follow
followup's clock, so a link made on the fake clock expires on it too. A token names one escalation
and the address it was mailed to, and lasts 7 days (CONTRACT.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlmodel import Session, col

from . import clock
from .config import _get
from .errors import BadInput
from .localtime import zone
from .models import Clinic, Escalation, Patient

MAX_AGE_S = 7 * 24 * 3600
MIN_SECRET = 16
SALT = "followup.ack-link"
ACK = re.compile(r"\s*ack\s*#?\s*(\d{1,12})\s*[.!]?\s*", re.IGNORECASE)


# --- ACK N by SMS ----------------------------------------------------------------------------------


class SmsAck(NamedTuple):
    clinic_id: int
    reply: str
    escalation_id: int | None  # the one acknowledged, if any


def from_sms(session: Session, phone: str, body: str, now: datetime) -> SmsAck | None:
    """`ACK N` (any case) from a clinic's alert phone: acknowledge that clinic's escalation N, or say
    why not. None when the text is not that (a patient's reply, or ACK from any other number)."""
    match = ACK.fullmatch(body or "")
    if match is None:
        return None
    clinics = list(session.execute(select(Clinic).where(col(Clinic.alert_phone) == phone)).scalars())
    if not clinics:
        return None
    number = int(match.group(1))
    found = session.execute(
        select(Escalation, col(Patient.clinic_id))
        .join(Patient, col(Patient.id) == Escalation.patient_id)
        .where(col(Escalation.id) == number)
    ).first()
    ours = {c.id: c for c in clinics}
    if found is None:
        return SmsAck(
            clinics[0].id,
            f"followup: there is no escalation {number}. Reply ACK and the number from the alert, "
            f"e.g. ACK 12.",
            None,
        )
    escalation, clinic_id = found
    if clinic_id not in ours:
        names = " or ".join(c.name for c in clinics)
        return SmsAck(
            clinics[0].id,
            f"followup: escalation {number} is not one of {names}'s; nothing was acknowledged.",
            None,
        )
    clinic = ours[clinic_id]
    if escalation.acknowledged_at is not None:
        return SmsAck(
            clinic.id,
            f"followup: escalation {number} was already acknowledged by {escalation.acknowledged_by} "
            f"at {_local(escalation.acknowledged_at, clinic)}.",
            None,
        )
    acknowledge(session, escalation.id, f"{phone} (SMS)", now)
    return SmsAck(
        clinic.id,
        f"followup: escalation {number} ({escalation.tier}, rule {escalation.rule}) acknowledged by "
        f"{phone} at {_local(now, clinic)}. Thank you.",
        escalation.id,
    )


def acknowledge(session: Session, escalation_id: int, by: str, now: datetime) -> Escalation:
    from .escalation import acknowledge as record_acknowledgement  # the one place that writes it

    return record_acknowledgement(session, escalation_id, by, None, now)


def _local(at: datetime, clinic: Clinic) -> str:
    return at.astimezone(zone(clinic.timezone)).strftime("%a %d %b %H:%M")


# --- signed links ----------------------------------------------------------------------------------


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


def page(session: Session, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise LinkProblem(404, "This escalation no longer exists.")
    return escalation


def by_link(session: Session, escalation_id: int, to: str, name: str | None, now: datetime) -> Escalation:
    """POST /ack/TOKEN: who is the name typed on the page (if any) and the address the link went to."""
    escalation = page(session, escalation_id)
    if escalation.acknowledged_at is not None:
        raise LinkProblem(
            409,
            f"Escalation {escalation.id} was already acknowledged by {escalation.acknowledged_by} at "
            f"{escalation.acknowledged_at:%Y-%m-%d %H:%M} UTC.",
        )
    name = re.sub(r"[\x00-\x1f\x7f]", "", (name or "")).strip()[:100]
    who = f"{name} ({to}, email link)" if name else f"{to or 'unknown'} (email link)"
    try:
        return acknowledge(session, escalation_id, who, now)
    except BadInput as exc:
        raise LinkProblem(409, str(exc)) from None
