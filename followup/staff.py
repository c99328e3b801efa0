"""A message from the clinic's staff to one patient (`followup message send`), and what happens to
the answer: a reply to a staff message goes to a person (review), whatever else it says.

Staff messages go through the outbox like any other, so the scheduler sends them within the
patient's sending window (quiet hours), on the patient's channels, and never to a patient who opted
out: refused here, and skipped by dispatch should the patient opt out before it goes.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from . import audit, outbox, planner
from .errors import BadInput
from .messages import render
from .models import Clinic, Message

MAX_BODY = 1600  # Twilio's limit for one SMS body
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# How far back a reply may answer a message (outbox.PROMPTS: the latest of them sent decides).
ANSWER_WINDOW = timedelta(days=7)
# Answers that are about the patient's own state or a keyword, already handled or sent to a person.
_HANDLED = ("opted_out", "opted_in", "help", "ignored_opted_out", "unknown_sender", "duplicate")


def send(session: Session, patient_id: int, body: str, now: datetime, actor: str = "cli") -> list[Message]:
    from .patients import get_patient

    patient = get_patient(session, patient_id)
    text = (body or "").strip()
    if not text:
        raise BadInput("body: the message is empty")
    if _CONTROL.search(text):
        raise BadInput("body: contains control characters")
    if len(text) > MAX_BODY:
        raise BadInput(f"body: {len(text)} characters; at most {MAX_BODY}")
    if patient.status == "opted_out":
        raise BadInput(
            f"patient {patient_id} opted out (replied STOP): nothing can be sent until they reply START"
        )
    if patient.status == "unenrolled":
        raise BadInput(f"patient {patient_id} is unenrolled: enrol them again first")
    clinic = session.get(Clinic, patient.clinic_id)
    assert clinic is not None and clinic.id is not None  # a patient's clinic (foreign key)
    ids = []
    batch = uuid.uuid4().hex[:12]
    for channel in planner.channels_for(patient.channel):
        rendered = render("staff", channel, patient.language, clinic={"name": clinic.name}, body=text)
        key = f"staff:{patient.id}:{batch}:{channel}"
        outbox.queue(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            kind="staff",
            channel=channel,
            body=rendered.body,
            subject=rendered.subject,
            now=now,
            dedupe_key=key,
        )
        ids.append(key)
    # The text is the clinic's words to the patient: kept in the message log, not in the audit trail.
    audit.record(
        session, now, actor, "message.staff", patient_id=patient.id, clinic_id=clinic.id, channels=len(ids)
    )
    session.flush()
    return list(
        session.execute(
            select(Message).where(col(Message.dedupe_key).in_(ids)).order_by(col(Message.id))
        ).scalars()
    )


REVIEW_REASON = "a reply to a message from the clinic's staff"


REVIEW_REASON = "a reply to a message from the clinic's staff"


def answers_staff(session: Session, patient_id: int, now: datetime) -> bool:
    """Whether the latest message sent to the patient (of those a reply can answer) is from staff."""
    return outbox.latest_prompt_kind(session, patient_id, now, now - ANSWER_WINDOW) == "staff"


def review_if_answering(
    session: Session, patient: Any, clinic: Any, inbound_id: int, body: str, now: datetime, result: Any
) -> str | None:
    """A reply to a staff message that nothing else sent to a person: queue it for review, and
    return the answer that says so. None: leave the answer as it was. `patient`, `clinic`: inbound's
    read-only rows; `result`: its Result."""
    if (
        not result.to_staff
        or result.escalations
        or result.action in _HANDLED
        or result.action.startswith("escalation:")
    ):
        return None
    from . import escalation
    from .rules import Decision

    created = escalation.record(
        session,
        patient,
        clinic,
        Decision(escalation.REVIEW_RULE, "routine", REVIEW_REASON),
        now,
        source_message_id=inbound_id,
        reply=body,
    )
    result.escalations.append(created.id)
    result.action = f"{result.action}, review (reply to staff)"
    return render("review", "sms", patient.language, clinic=escalation.clinic_context(clinic)).body
