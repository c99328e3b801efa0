"""One inbound SMS -> keywords, parse, rules, reply. Shared by the webhook and `followup reply`.

Stored once per Twilio MessageSid: a retried webhook gets the same reply and changes nothing.
The reply goes back in the webhook's answer (TwiML), so it is recorded as sent at once; a reply to
the patient's own message is exempt from quiet hours.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, or_, select
from sqlmodel import Session

from . import audit, escalation, events, keywords, media, outbox, replies, rules, tracking
from .localtime import zone
from .messages import render
from .models import Clinic, Enrolment, Message, Patient, Reading
from .phones import parse_phone
from .prepared import Prepared
from .programs import get_program

OPT_OUT, OPT_IN, HELP, keyword = keywords.OPT_OUT, keywords.OPT_IN, keywords.HELP, keywords.keyword
HISTORY = timedelta(days=60)
# Every inbound SMS runs these: prepared, they skip SQLAlchemy's per-statement machinery (prepared.py).
_M, _R = Message.__table__.c, Reading.__table__.c
_MESSAGE_KEYS = (
    "patient_id",
    "clinic_id",
    "direction",
    "kind",
    "channel",
    "status",
    "body",
    "provider_id",
    "from_addr",
    "to_addr",
    "sent_at",
    "created_at",
    "updated_at",
    "attempts",
    "quiet_exempt",
    "media",
)
_INSERT_INBOUND = Prepared(insert(Message.__table__).returning(_M.id), keys=_MESSAGE_KEYS)
# The answer's id names it in the TwiML's action URL, where Twilio reports its delivery (tracking.py).
_INSERT_ANSWER = Prepared(
    insert(Message.__table__).returning(_M.id), keys=_MESSAGE_KEYS + ("due_at", "in_reply_to")
)
_SEEN = Prepared(select(_M.id, _M.patient_id).where(_M.direction == "in", _M.provider_id == bindparam("sid")))
_ANSWER_TO = Prepared(
    select(_M.body, _M.id).where(_M.in_reply_to == bindparam("id"), _M.direction == "out").limit(1)
)
_SENDER = Prepared(
    select(*Patient.__table__.c, *Clinic.__table__.c, Enrolment.__table__.c.program)
    .join_from(Patient.__table__, Clinic.__table__, Clinic.__table__.c.id == Patient.__table__.c.clinic_id)
    .join(Enrolment.__table__, Enrolment.__table__.c.patient_id == Patient.__table__.c.id)
    .where(Patient.__table__.c.phone == bindparam("phone"))
)
_ANSWERED = (
    select(_M.id)
    .where(
        _M.patient_id == bindparam("patient"),
        _M.direction == "out",
        or_(_M.kind == "checkin", _M.kind == "reminder"),
        or_(_M.status == "sent", _M.status == "delivered"),
        _M.sent_at <= bindparam("now"),
    )
    .order_by(_M.sent_at.desc())
    .limit(1)
)
# The reading names the reminder or check-in it answers (the latest one sent before it), found in
# the same statement: one round trip less on every reply.
_INSERT_READING = Prepared(
    insert(Reading.__table__).values(answers_message_id=_ANSWERED.scalar_subquery()),
    keys=("patient_id", "message_id", "local_date", "at", "pain", "numbness", "done", "flags", "understood"),
)
# Only the replies that say something a rule reads (a DONE changes no decision: tests/test_rules.py);
# about half a patient's replies are DONEs.
_HISTORY = Prepared(
    select(_R.id, _R.local_date, _R.at, _R.pain, _R.numbness, _R.flags).where(
        _R.patient_id == bindparam("patient"),
        _R.understood.is_(True),
        _R.at > bindparam("since"),
        or_(_R.pain.is_not(None), _R.numbness.is_not(None), _R.flags != ""),
    )
)
_PREVIOUS = Prepared(
    select(_R.understood)
    .where(
        _R.patient_id == bindparam("patient"), _R.message_id != bindparam("id"), _R.at > bindparam("since")
    )
    .order_by(_R.at.desc(), _R.id.desc())
    .limit(1)
)


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
    answer_id: int | None = None  # the answer's row, when one went back in the webhook's TwiML

    def as_json(self) -> dict:
        return {
            "reply": self.reply,
            "inbound_id": self.inbound_id,
            "patient_id": self.patient_id,
            "duplicate": self.duplicate,
            "action": self.action,
            "escalations": self.escalations,
        }


class Sender(NamedTuple):
    """Who wrote: read-only views of the patient and their clinic, and the programme's key. Plain
    rows, not ORM objects: loading two entities was a fifth of the time of every inbound SMS."""

    patient: Any
    clinic: Any
    program: str


_PatientRow = namedtuple("_PatientRow", Patient.__table__.c.keys())
_ClinicRow = namedtuple("_ClinicRow", Clinic.__table__.c.keys())
_RANK = {"active": 0, "paused": 1, "opted_out": 2, "completed": 3, "unenrolled": 4}


def _find_sender(connection, phone: str) -> Sender | None:
    """The patient with this number; an active one first when several clinics know it."""
    rows = _SENDER.rows(connection, phone=phone)
    if not rows:
        return None
    n = len(_PatientRow._fields)
    senders = [Sender(_PatientRow(*row[:n]), _ClinicRow(*row[n:-1]), row[-1]) for row in rows]
    return min(senders, key=lambda s: (_RANK.get(s.patient.status, 9), -s.patient.id))


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
    connection = session.connection()
    if sid:
        seen = _SEEN.first(connection, sid=sid)
        if seen is not None:
            seen_id, seen_patient = seen
            answer = _ANSWER_TO.first(connection, id=seen_id)
            return Result(
                answer[0] if answer else None,
                seen_id,
                seen_patient,
                duplicate=True,
                action="duplicate",
                answer_id=answer[1] if answer else None,
            )
    try:
        phone = parse_phone(sender)
    except ValueError:
        phone = (sender or "").strip()[:32]
    sender_row = _find_sender(connection, phone)
    patient, clinic, program = sender_row if sender_row else (None, None, None)
    # No SQLModel objects on this hot path: each would cost a pydantic validation.
    row = {
        "patient_id": patient.id if patient else None,
        "clinic_id": clinic.id if clinic else None,
        "direction": "in",
        "kind": "reply",
        "channel": "sms",
        "status": "received",
        "body": body,
        "provider_id": sid,
        "from_addr": phone,
        "to_addr": to,
        "sent_at": now,
        "created_at": now,
        "updated_at": now,
        "attempts": 0,
        "quiet_exempt": False,
        "media": media.to_column(attachments),
    }
    inbound = Inbound(
        id=_INSERT_INBOUND.scalar(connection, **row),
        body=body,
        media=tuple(attachments),
        opt_out_type=opt_out_type,
        twilio_answers=twilio_answers,
    )
    result = Result(None, inbound.id, row["patient_id"])
    text, kind = _respond(session, patient, clinic, program, inbound, now, result)
    media.review_media(session, patient, clinic, inbound, now, result)
    if text and answered_inline:
        result.answer_id = _INSERT_ANSWER.scalar(
            connection,
            **{
                **row,
                "direction": "out",
                "kind": kind,
                "status": "sent",
                "body": text,
                "provider_id": None,
                "from_addr": None,
                "to_addr": phone,
                "due_at": now,
                "quiet_exempt": True,
                "in_reply_to": inbound.id,
                "media": None,
            },
        )
    elif text and clinic is not None:
        outbox.queue(
            session,
            patient_id=row["patient_id"],
            clinic_id=clinic.id,
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
    session: Session, patient, clinic, program: str | None, inbound: Inbound, now: datetime, result: Result
) -> tuple[str | None, str]:
    if patient is None:
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
    )
    if handled is not None:
        return handled
    if inbound.media and patient.status != "opted_out":
        photo = media.photo_only(session, patient, clinic, inbound, now, result)
        if photo is not None:
            return photo
    answer = replies.parse(inbound.body, lang, get_program(program).rules)
    if patient.status == "opted_out":
        return _opted_out(session, patient, clinic, program, inbound, answer, now, result)

    # Understood: it answers something, denies something, or acknowledges ("thank you for the reminder").
    understood = answer.understood
    tz = zone(patient.timezone)
    _INSERT_READING.run(
        session.connection(),
        **dict(
            patient_id=patient.id,
            message_id=inbound.id,
            patient=patient.id,
            now=now,
            local_date=now.astimezone(tz).date(),
            at=now,
            pain=answer.pain,
            numbness=answer.numbness,
            done=answer.done or 0,
            flags=" ".join(sorted(answer.flags)),
            understood=understood,
        ),
    )

    decisions = (
        _decide(session, patient, program, now)
        if rules.reports_anything(answer.pain, answer.numbness, answer.flags)
        else []
    )  # a DONE: no rule can fire, no history to read
    top = decisions[0] if decisions else None
    if top and top.tier in escalation.PATIENT_TEMPLATES:
        if not top.suppressed:
            created = escalation.record(
                session,
                patient,
                clinic,
                top,
                now,
                source_message_id=inbound.id,
                reply=media.described(inbound.body, inbound.media),
            )
            result.escalations.append(created.id)
        result.action = f"escalation:{top.rule}" + (" (already open)" if top.suppressed else "")
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
    patient,
    clinic,
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
        result.escalations.append(created.id)
        result.action = f"ignored_opted_out, clinic alerted:{decisions[0].rule}"
    return None, "reply"


def _decide(session: Session, patient, program: str, now: datetime) -> list[rules.Decision]:
    rule_set = rules.rules_for_program(program)
    history = _history(session, patient, now)
    decisions = rules.evaluate(history, rule_set, recent={}, now=now)
    if decisions and decisions[0].tier in escalation.PATIENT_TEMPLATES:
        # Only an escalation needs to know what is already open; most replies escalate nothing.
        recent = escalation.recent_open(session, patient.id, now, rule_set.dedupe_days)
        decisions = rules.evaluate(history, rule_set, recent=recent, now=now)
    return decisions


def _review(
    session: Session, patient, clinic, inbound: Inbound, now: datetime, result: Result, why: str
) -> None:
    created = escalation.record(
        session,
        patient,
        clinic,
        rules.Decision(escalation.REVIEW_RULE, "routine", why),
        now,
        source_message_id=inbound.id,
        reply=media.described(inbound.body, inbound.media),
    )
    result.escalations.append(created.id)


def _not_understood(session, patient, clinic, inbound, now, result, ctx) -> tuple[str | None, str]:
    """Never reassurance: queue it for a person, and ask once (not again for a second unreadable text)."""
    _review(session, patient, clinic, inbound, now, result, "reply not understood")
    previous = _PREVIOUS.scalar(
        session.connection(), patient=patient.id, id=inbound.id, since=now - timedelta(days=1)
    )
    if previous is False:
        result.action = "review (no second clarification)"
        return None, "reply"
    result.action = "clarify"
    return render("clarify", "sms", patient.language, **ctx).body, "reply"


def _history(session: Session, patient, now: datetime) -> list[rules.Reply]:
    rows = _HISTORY.rows(session.connection(), patient=patient.id, since=now - HISTORY)
    return [
        rules.Reply(local_date, at, pain, numbness, _flag_set(flags), id_)
        for id_, local_date, at, pain, numbness, flags in rows
    ]


@lru_cache(maxsize=1024)
def _flag_set(flags: str) -> frozenset[str]:
    return frozenset(flags.split())  # nearly always "": one shared set instead of one per row


def apply_status(
    session: Session, sid: str, status: str, error: str | None, now: datetime, message_id: int | None = None
) -> None:
    """A status callback (the webhook's, or one spooled while the database was away): the message's
    status moves forward, and a failure has its consequences (tracking.py)."""
    message = tracking.apply_status(session, sid, status, error, now, message_id=message_id)
    events.callback_failed(session, message, now)
