"""Acknowledging an escalation from where its alert lands: a text `ACK N` from the clinic's alert
phone, or the signed one-click link in the alert email (`GET`/`POST /ack/TOKEN` on `followup serve`).

Tokens are itsdangerous's URL-safe timed serializer (HMAC-SHA1 over the payload and a timestamp,
with a key derived for this one purpose by its salt): a maintained, reviewed implementation of
exactly this, instead of hand-written HMAC, base64 and expiry parsing. Its timestamps follow
followup's clock, so a link made on the fake clock expires on it too. A token names one escalation
and the address it was mailed to, and lasts 7 days (CONTRACT.md).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlmodel import Session, col

from . import escalation
from .ack_links import LinkProblem
from .errors import BadInput
from .localtime import zone
from .models import Clinic, Escalation, Patient

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
    return escalation.acknowledge(session, escalation_id, by, None, now)  # the one place that writes it


def _local(at: datetime, clinic: Clinic) -> str:
    return at.astimezone(zone(clinic.timezone)).strftime("%a %d %b %H:%M")


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
