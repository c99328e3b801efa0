"""One inbound SMS -> keywords, parse, rules, reply. Shared by the webhook and `followup reply`.

Stored once per Twilio MessageSid: a retried webhook gets the same reply and changes nothing.
The reply goes back in the webhook's answer (TwiML), so it is recorded as sent at once; a reply to
the patient's own message is exempt from quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from . import (
    acks,
    alerts,
    audit,
    escalation,
    events,
    keywords,
    media,
    outbox,
    patients,
    readings,
    replies,
    rules,
    staff,
    tracking,
)
from .localtime import zone
from .messages import render
from .models import ClinicRow, PatientRow, stored_id
from .phones import parse_phone
from .programs import get_program

OPT_OUT, OPT_IN, HELP, keyword = keywords.OPT_OUT, keywords.OPT_IN, keywords.HELP, keywords.keyword
HISTORY = timedelta(days=60)
# A bare Y/N answers the exercise reminder only when no check-in (which asks Y/N about numbness)
# went out this long before it: with both open, the Y may be numbness, and the higher tier wins.
CHECKIN_OPEN = timedelta(hours=12)


@dataclass(frozen=True)
class Inbound:
    id: int
    body: str
    media: tuple[media.Media, ...] = ()
    opt_out_type: str | None = None  # Twilio's, under Advanced Opt-Out: STOP | START | HELP
    twilio_answers: bool = False  # Twilio answers STOP/START/HELP itself (keywords.py)


@dataclass
class Result:
    reply: str | None
    inbound_id: int
    patient_id: int | None
    duplicate: bool = False
    action: str = ""
    escalations: list[int] = field(default_factory=list)
    to_staff: bool = False  # it answers a message from the clinic's staff: a person reads it
    answer_id: int | None = None  # the answer's row, when one went back in the webhook's TwiML

    def as_json(self) -> dict[str, Any]:
        return {
            "reply": self.reply,
            "inbound_id": self.inbound_id,
            "patient_id": self.patient_id,
            "duplicate": self.duplicate,
            "action": self.action,
            "escalations": self.escalations,
        }


def handle(
    session: Session,
    *,
    sender: str,
    body: str,
    now: datetime,
    sid: str | None = None,
    to: str | None = None,
    answered_inline: bool = True,
    attachments: tuple[media.Media, ...] = (),
    opt_out_type: str | None = None,
    twilio_answers: bool = False,
) -> Result:
    """`answered_inline=False`: the webhook could not answer with the reply (the message was spooled
    while the database was away), so the reply is queued as an outbound SMS instead."""
    body = (body or "")[:1600]
    if sid:
        earlier = outbox.seen(session, sid)
        if earlier is not None:
            return Result(
                earlier.answer,
                earlier.id,
                earlier.patient_id,
                duplicate=True,
                action="duplicate",
                answer_id=earlier.answer_id,
            )
    try:
        phone = parse_phone(sender)
    except ValueError:
        phone = (sender or "").strip()[:32]
    ack = acks.from_sms(session, phone, body, now)  # ACK N from a clinic's alert phone, else None
    found = patients.find_sender(session, phone) if ack is None else None
    patient, clinic, program = found if found else (None, None, None)
    patient_id = patient.id if patient else None
    clinic_id = ack.clinic_id if ack else clinic.id if clinic else None
    inbound = Inbound(
        id=outbox.record_inbound(
            session,
            patient_id=patient_id,
            clinic_id=clinic_id,
            body=body,
            sid=sid,
            from_addr=phone,
            to_addr=to,
            media=media.to_column(attachments),
            kind="ack" if ack else "reply",
            now=now,
        ),
        body=body,
        media=tuple(attachments),
        opt_out_type=opt_out_type,
        twilio_answers=twilio_answers,
    )
    result = Result(None, inbound.id, patient_id)
    text: str | None
    if ack is not None:
        text, kind, result.action = ack.reply, "ack", "ack" if ack.escalation_id else "ack refused"
    else:
        result.to_staff = patient is not None and staff.answers_staff(session, patient.id, now)
        text, kind = _respond(session, patient, clinic, program, inbound, now, result)
        media.review_media(session, patient, clinic, inbound, now, result)
        text = staff.review_if_answering(session, patient, clinic, inbound.id, body, now, result) or text
    if text and answered_inline:
        result.answer_id = outbox.record_answer(
            session,
            patient_id=patient_id,
            clinic_id=clinic_id,
            kind=kind,
            body=text,
            to_addr=phone,
            in_reply_to=inbound.id,
            now=now,
        )
    elif text and clinic_id is not None:
        outbox.queue(
            session,
            patient_id=patient_id,
            clinic_id=clinic_id,
            kind=kind,
            channel="sms",
            body=text,
            to_addr=phone,
            now=now,
            dedupe_key=f"answer:{inbound.id}",
            quiet_exempt=True,
        )
    result.reply = text
    # The audit trail names the patient and what happened, never the text (minimum necessary).
    audit.record(
        session,
        now,
        "sms",
        "inbound",
        patient_id=result.patient_id,
        message_id=inbound.id,
        outcome=result.action,
    )
    return result


def _respond(
    session: Session,
    patient: PatientRow | None,
    clinic: ClinicRow | None,
    program: str | None,
    inbound: Inbound,
    now: datetime,
    result: Result,
) -> tuple[str | None, str]:
    if patient is None or clinic is None or program is None:
        result.action = "unknown_sender"
        if inbound.opt_out_type or (
            inbound.twilio_answers and keyword(inbound.body) in OPT_OUT | OPT_IN | HELP
        ):
            return None, "reply"  # Twilio answered the keyword (and blocks ours after a STOP)
        return render("unknown_sender", "sms", "en").body, "reply"
    ctx = {"clinic": escalation.clinic_context(clinic)}
    lang = patient.language
    # Keywords, Twilio's OptOutType and opt-out phrases come before the reader (keywords.py).
    handled = keywords.answer(
        session,
        patient,
        clinic,
        program,
        inbound.body,
        now,
        result,
        inbound_id=inbound.id,
        opt_out_type=inbound.opt_out_type,
        twilio_answers=inbound.twilio_answers,
        read_first=lambda: _opted_out(
            session,
            patient,
            clinic,
            program,
            inbound,
            replies.parse(inbound.body, lang, get_program(program).rules),
            now,
            result,
        ),
    )
    if handled is not None:
        return handled
    if inbound.media and patient.status != "opted_out":
        photo = media.photo_only(session, patient, clinic, inbound, now, result)
        if photo is not None:
            return photo
    answer = replies.parse(inbound.body, lang, get_program(program).rules)
    if answer.depends_on_the_prompt and _answers_a_reminder(session, patient.id, now):
        answer = answer.as_reply_to_a_reminder()  # "yep" to an exercise reminder: done, not numbness
    if patient.status == "opted_out":
        return _opted_out(session, patient, clinic, program, inbound, answer, now, result)

    # Understood: it answers something, denies something, or acknowledges ("thank you for the reminder").
    understood = answer.understood
    tz = zone(patient.timezone)
    readings.record(
        session,
        patient_id=patient.id,
        message_id=inbound.id,
        local_date=now.astimezone(tz).date(),
        now=now,
        pain=answer.pain,
        numbness=answer.numbness,
        done=answer.done or 0,
        flags=answer.flags,
        understood=understood,
    )

    decisions = (
        _decide(session, patient, program, now)
        if rules.reports_anything(answer.pain, answer.numbness, answer.flags)
        else []
    )  # a DONE: no rule can fire, no history to read
    top = decisions[0] if decisions else None
    if top and top.tier in escalation.PATIENT_TEMPLATES:
        # Each rule is recorded once while it is open (CLINICAL_RULES.md): when the highest is
        # already open, the highest that is not still reaches the clinic ("7 N" on the third day,
        # with U3 open since the first, is new persistent pain, S1). The patient is answered at the
        # highest tier either way.
        new = next(
            (d for d in decisions if not d.suppressed and d.tier in escalation.PATIENT_TEMPLATES), None
        )
        if new is not None:
            created = escalation.record(
                session,
                patient,
                clinic,
                new,
                now,
                source_message_id=inbound.id,
                reply=media.described(inbound.body, inbound.media),
            )
            result.escalations.append(stored_id(created))
        result.action = f"escalation:{(new or top).rule}" + (" (already open)" if new is None else "")
        return escalation.patient_text(top, patient, clinic), "escalation"
    # Fail safe (CLINICAL_RULES.md, "Reading replies safely"): a plain thank-you only when every word
    # is accounted for; a question or words the reader could not place go to a person, and the
    # answer carries the emergency signs.
    if answer.question:
        _review(session, patient, clinic, inbound, now, result, "a question from the patient")
        result.action = "question"
        return render("question", "sms", lang, **ctx).body, "reply"
    if not understood:
        # Nothing of an answer in it ("the weather today"): ask, and a person reads it.
        return _not_understood(session, patient, clinic, inbound, now, result, ctx)
    if answer.unaccounted:
        _review(session, patient, clinic, inbound, now, result, "words the reader could not account for")
        result.action = "recorded, review"
        return render("review", "sms", lang, **ctx).body, "reply"
    if answer.chit_chat:
        # Everyday words the reader did not read as anything ("long day at work"): no review, but no
        # plain thank-you either; the answer names the emergency signs.
        result.action = "recorded, safety net"
        return render("thanks", "sms", lang, safety_net=True, **ctx).body, "reply"
    if top and top.rule == "M1":
        result.action = "encouragement"
        return render("encouragement", "sms", lang, **ctx).body, "reply"
    result.action = "recorded"
    return render("thanks", "sms", lang, **ctx).body, "reply"


def _opted_out(
    session: Session,
    patient: PatientRow,
    clinic: ClinicRow,
    program: str,
    inbound: Inbound,
    answer: replies.Answer,
    now: datetime,
    result: Result,
) -> tuple[str | None, str]:
    """Nothing goes to a patient who opted out, until START. A red flag in what they wrote still
    reaches the clinic, at its tier (CLINICAL_RULES.md)."""
    result.action = "ignored_opted_out"
    if not answer.flags and (
        answer.pain is None or answer.pain < rules.rules_for_program(program).urgent_pain
    ):
        return None, "reply"
    rule_set = rules.rules_for_program(program)
    reply = rules.Reply(
        now.astimezone(zone(patient.timezone)).date(),
        now,
        answer.pain,
        answer.numbness,
        answer.flags,
        inbound.id,
    )
    recent = escalation.recent_open(session, patient.id, now, rule_set.dedupe_days)
    decisions = [
        d
        for d in rules.evaluate([reply], rule_set, recent=recent, now=now)
        if d.tier in escalation.PATIENT_TEMPLATES
    ]
    if decisions and not decisions[0].suppressed:
        created = escalation.record(
            session,
            patient,
            clinic,
            decisions[0],
            now,
            source_message_id=inbound.id,
            reply=media.described(inbound.body, inbound.media),
        )
        result.escalations.append(stored_id(created))
        result.action = f"ignored_opted_out, clinic alerted:{decisions[0].rule}"
    return None, "reply"


def _decide(session: Session, patient: PatientRow, program: str, now: datetime) -> list[rules.Decision]:
    rule_set = rules.rules_for_program(program)
    history = readings.history(session, patient.id, now - HISTORY)
    decisions = rules.evaluate(history, rule_set, recent={}, now=now)
    if decisions and decisions[0].tier in escalation.PATIENT_TEMPLATES:
        # Only an escalation needs to know what is already open; most replies escalate nothing.
        recent = escalation.recent_open(session, patient.id, now, rule_set.dedupe_days)
        decisions = rules.evaluate(history, rule_set, recent=recent, now=now)
    return decisions


def _review(
    session: Session,
    patient: PatientRow,
    clinic: ClinicRow,
    inbound: Inbound,
    now: datetime,
    result: Result,
    why: str,
) -> None:
    why = staff.REVIEW_REASON if result.to_staff else why
    created = escalation.record(
        session,
        patient,
        clinic,
        rules.Decision(escalation.REVIEW_RULE, "routine", why),
        now,
        source_message_id=inbound.id,
        reply=media.described(inbound.body, inbound.media),
    )
    result.escalations.append(stored_id(created))


def _not_understood(
    session: Session,
    patient: PatientRow,
    clinic: ClinicRow,
    inbound: Inbound,
    now: datetime,
    result: Result,
    ctx: dict[str, Any],
) -> tuple[str | None, str]:
    """Never reassurance: queue it for a person, and ask once (not again for a second unreadable text)."""
    _review(session, patient, clinic, inbound, now, result, "reply not understood")
    if result.to_staff:  # an answer to the clinic's own words, not a check-in: no "pain 0-10?"
        result.action = "review (reply to staff)"
        return render("review", "sms", patient.language, **ctx).body, "reply"
    previous = readings.previous_understood(session, patient.id, inbound.id, now - timedelta(days=1))
    if previous is False:
        result.action = "review (no second clarification)"
        return None, "reply"
    result.action = "clarify"
    return render("clarify", "sms", patient.language, **ctx).body, "reply"


def apply_status(
    session: Session, sid: str, status: str, error: str | None, now: datetime, message_id: int | None = None
) -> None:
    """A status callback (the webhook's, or one spooled while the database was away): the message's
    status moves forward, and a failure has its consequences (tracking.py)."""
    message = tracking.apply_status(session, sid, status, error, now, message_id=message_id)
    if message is not None and message.kind == "alert" and message.status == "failed":
        alerts.fall_back(session, stored_id(message), message.error, now)  # undelivered: the other route
    events.callback_failed(session, message, now)


def _answers_a_reminder(session: Session, patient_id: int, now: datetime) -> bool:
    asked = outbox.latest_prompt_kind(session, patient_id, now, now - HISTORY)
    return asked == "reminder" and not outbox.sent_since(
        session, patient_id, "checkin", now, now - CHECKIN_OPEN
    )
