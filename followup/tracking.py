"""Every message to a patient, tracked to its final status, and what a failed one means.

Answers to a patient's reply go back in the webhook's own TwiML, as `<Message action=
"PUBLIC_URL/twilio/status?message=ID">`: Twilio posts that message's status callbacks (its new
MessageSid, queued/sent/delivered/undelivered/failed, ErrorCode) to the action URL, and the `message`
parameter names our row, whose SID we could not know when we answered. Scheduled messages are REST
sends with a StatusCallback and their SID stored at the send. See docs/RELIABILITY.md for why TwiML.

A status that says a message did not reach the patient has consequences beyond its row:
- 21610: the patient opted out at the carrier (Twilio blocks every send to them);
- 21211, 21614, 30006 (a landline, or a carrier that cannot take SMS): the number is unusable;
- an emergency or urgent answer ("call 911", "call the clinic today") that failed or was undelivered:
  the clinic is alerted again, at any hour, so that a person calls the patient.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from . import audit, outbox
from .escalation import IMMEDIATE
from .messages import render
from .models import Clinic, Escalation, Message, Patient

log = logging.getLogger("followup.tracking")

OPTED_OUT = "21610"
UNUSABLE = {"21211", "21614", "30006"}


def action_url(public_url: str, message_id: int) -> str:
    return f"{public_url}/twilio/status?message={message_id}"


def apply_status(
    session: Session,
    sid: str,
    status: str,
    error: str | None,
    now: datetime,
    message_id: int | None = None,
) -> Message | None:
    """A status callback: the message moves forward, and a failure has its consequences.
    `message_id`: the row named by a TwiML answer's action URL (it has no SID until this callback)."""
    if message_id is not None:
        outbox.attach_provider_id(session, message_id, sid, now)
    before = session.execute(
        select(Message.status).where(Message.direction == "out", Message.provider_id == sid)
    ).scalar_one_or_none()
    message = outbox.apply_status(session, sid, status, error, now)
    if message is None or message.status != "failed" or before == "failed":
        return message
    failed(session, message, error, now)
    return message


def failed(session: Session, message: Message, error: str | None, now: datetime) -> None:
    """What a message that will never reach its patient means (once per message)."""
    from . import consent

    if message.patient_id and error == OPTED_OUT:
        consent.opt_out(
            session,
            message.patient_id,
            now,
            method="carrier",
            evidence="Twilio 21610 (status callback)",
            confirm=False,
        )
    elif message.patient_id and error in UNUSABLE and message.kind not in ("alert", "review"):
        session.execute(
            update(Patient)
            .where(Patient.id == message.patient_id)
            .values(phone_unusable=True, updated_at=now)
        )
        audit.record(
            session, now, "twilio", "patient.phone_unusable", patient_id=message.patient_id, error=error
        )
    if message.kind == "escalation":
        realert_undelivered(session, message, error, now)


def _answered_inbound(message: Message) -> int | None:
    if message.in_reply_to:
        return message.in_reply_to
    key = message.dedupe_key or ""  # an answer queued as SMS after an outage: "answer:<inbound id>"
    return int(key.split(":", 1)[1]) if key.startswith("answer:") and key[7:].isdigit() else None


def realert_undelivered(session: Session, message: Message, error: str | None, now: datetime) -> int:
    """The clinic hears at once, by every alert route, that the patient never got the emergency or
    urgent advice: the first alert told them the patient had been told."""
    inbound_id = _answered_inbound(message)
    if inbound_id is None:
        return 0
    row = session.execute(
        select(Escalation, Patient, Clinic)
        .join(Patient, Patient.id == Escalation.patient_id)
        .join(Clinic, Clinic.id == Patient.clinic_id)
        .where(Escalation.source_message_id == inbound_id, Escalation.tier.in_(IMMEDIATE))
        .order_by(Escalation.id)
        .limit(1)
    ).first()
    if row is None:
        return 0
    escalation, patient, clinic = row
    context = {
        "clinic": {"name": clinic.name, "sms_name": clinic.sms_name},
        "tier": escalation.tier,
        "rule": escalation.rule,
        "patient_id": patient.id,
        "escalation_id": escalation.id,
        "error": error or "undelivered",
        "patient_name": patient.name,
        "patient_phone": patient.phone,
        "answer": message.body,
    }
    queued = 0
    for channel, address in (("email", clinic.alert_email), ("sms", clinic.alert_phone)):
        if not address:
            continue
        rendered = render("alert_undelivered", channel, "en", **context)
        outbox.queue(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            kind="alert",
            channel=channel,
            body=rendered.body,
            subject=f"[{escalation.tier}] {rendered.subject} #{patient.id}" if channel == "email" else None,
            to_addr=address,
            now=now,
            quiet_exempt=True,
            dedupe_key=f"alert:{escalation.id}:undelivered:{channel}",
            expires_in=timedelta(hours=48),
        )
        queued += 1
    audit.record(
        session,
        now,
        "twilio",
        "escalation.answer_undelivered",
        patient_id=patient.id,
        clinic_id=clinic.id,
        escalation_id=escalation.id,
        error=error,
        alerts=queued,
    )
    log.warning(
        "the %s answer to patient %d was not delivered (%s): clinic alerted again",
        escalation.tier,
        patient.id,
        error or "no error code",
    )
    return queued
