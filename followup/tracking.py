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

from sqlalchemy import select
from sqlmodel import Session

from . import audit, outbox, patients
from .channels import twilio_sms
from .escalation import IMMEDIATE
from .messages import render
from .models import Clinic, Escalation, Message, Patient

log = logging.getLogger("followup.tracking")


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
    ours = twilio_sms.CALLBACK_STATUS.get(status)  # Twilio's statuses as ours
    if ours is None:
        return None
    before = outbox.status_of(session, sid)
    message = outbox.apply_status(session, sid, ours, twilio_sms.callback_error(status, error), now)
    if message is None or message.status != "failed" or before == "failed":
        return message
    failed(session, message, error, now)
    return message


def failed(session: Session, message: Message, error: str | None, now: datetime) -> None:
    """What a message that will never reach its patient means (once per message): the patient's side
    through patients.carrier_refused, as for a refused send (Twilio's codes: channels/twilio_sms.py)."""
    consequence = twilio_sms.consequence_of(error)
    if message.patient_id and consequence == "opted_out":
        evidence = f"{twilio_sms.OPT_OUT_EVIDENCE} (status callback)"
        patients.carrier_refused(session, message.patient_id, "opted_out", now, evidence)
    elif message.patient_id and consequence == "unusable" and message.kind not in ("alert", "review"):
        patients.carrier_refused(session, message.patient_id, "unusable", now, error or "", actor="twilio")
    if message.kind == "escalation":
        realert_undelivered(session, message, error, now)


def expire_stale(session: Session, now: datetime) -> int:
    """outbox.expire_stale, and an emergency or urgent answer that never went out within its grace
    (a Twilio outage of a day) re-alerts the clinic like one that failed."""
    expired = outbox.expire_stale(session, now)
    for row in expired:
        if row.kind == "escalation":
            message = session.get_one(Message, row.id, populate_existing=True)  # the row as expired
            realert_undelivered(session, message, message.error, now)
    return len(expired)


def skipped_or_failed(
    session: Session, message_id: int, status: str, error: str | None, now: datetime
) -> None:
    """The dispatcher's outcome for an emergency or urgent answer that will never reach the patient
    (failed, or skipped: the number cannot take SMS, the grace ran out): the clinic hears at once."""
    if status not in ("failed", "skipped"):
        return
    code = (error or "").split(":")[0] if status == "failed" else error
    realert_undelivered(session, session.get(Message, message_id), code, now)


def _answered_inbound(message: Message) -> int | None:
    if message.in_reply_to:
        return message.in_reply_to
    key = message.dedupe_key or ""  # an answer queued as SMS after an outage: "answer:<inbound id>"
    return int(key.split(":", 1)[1]) if key.startswith("answer:") and key[7:].isdigit() else None


def realert_undelivered(session: Session, message: Message, error: str | None, now: datetime) -> int:
    """The clinic hears at once, by every alert route, that the patient never got the emergency or
    urgent advice: the first alert told them the patient had been told."""
    if message is None:
        return 0
    inbound_id = _answered_inbound(message)
    found = select(Escalation, Patient, Clinic).join(Patient, Patient.id == Escalation.patient_id)
    found = found.join(Clinic, Clinic.id == Patient.clinic_id).where(Escalation.tier.in_(IMMEDIATE))
    row = (
        session.execute(
            found.where(Escalation.source_message_id == inbound_id).order_by(Escalation.id).limit(1)
        ).first()
        if inbound_id is not None
        else None
    )
    if row is None and message.patient_id:
        # A second red flag while the first emergency is open records nothing new (the rule is
        # suppressed), yet its answer is just as urgent: the open escalation is the one to raise.
        row = session.execute(
            found.where(Escalation.patient_id == message.patient_id, Escalation.acknowledged_at.is_(None))
            .order_by(Escalation.id.desc())
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
            # Once per answer: a second SID for the same row alerts nobody twice, a second answer does.
            dedupe_key=f"alert:{escalation.id}:undelivered:{message.id}:{channel}",
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
