"""STOP, START and HELP, and who answers them: Twilio, or followup.

On a long code Twilio answers STOP/START/HELP itself (its default handling) and, under Advanced
Opt-Out, the keywords a Messaging Service adds (ARRET, cancelar ...), reporting which with an
`OptOutType` of STOP, START or HELP. It then blocks every message to an opted-out number (21610),
the answer in our TwiML included. So, with FOLLOWUP_KEYWORD_ANSWERS=twilio (the default with the
twilio backend), followup records the change and answers nothing; with `followup` (its own handling:
Twilio's turned off, or the console backend) it sends the one confirmation. Either way exactly one
confirmation reaches the patient, and a second STOP gets none.

Opt-out in ordinary words ("please stop texting me", "no más mensajes") is not a keyword to Twilio:
followup opts the patient out and confirms itself (optout.py). A phrase that might mean it gets one
"Reply STOP to stop all messages" and a review.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from . import escalation, optout, patients, replies, rules
from .messages import render
from .models import Escalation
from .programs import get_program

OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN = {"START", "UNSTOP", "YES"}
HELP = {"HELP", "INFO"}
RESUBSCRIBE = {"START", "UNSTOP"}  # "YES" is also an answer to "numbness Y/N?": only with OptOutType
OPT_OUT_TYPES = {"STOP", "START", "HELP"}  # Twilio's OptOutType values
ANSWERED_BY = ("twilio", "followup")
HINT_REASON = "possible opt-out request"
HELP_REASON = "HELP: may be a cry for help"


def keyword(body: str) -> str | None:
    """The body as a single keyword (any case, stray punctuation ignored), or None."""
    words = re.findall(r"[A-Za-z]+", body or "")
    if len(words) != 1 or re.sub(r"[\s.!]", "", body) != words[0]:
        return None
    return words[0].upper()


def answer(
    session: Session,
    patient,
    clinic,
    program: str | None,
    body: str,
    now: datetime,
    result,
    *,
    inbound_id: int,
    opt_out_type: str | None = None,
    twilio_answers: bool = False,
    read_first: Callable[[], object] | None = None,
) -> tuple[str | None, str] | None:
    """(reply text or None, kind) when the message is a keyword or an opt-out phrase; None for the reader.

    `read_first`: reads the message and alerts the clinic at its tier as for an opted-out patient
    (inbound._opted_out). Only a bare keyword has nothing else in it; an opt-out phrase may sit beside
    a red flag ("stop texting me, I wet myself"), so it is read before the patient is opted out."""
    ctx = {"clinic": escalation.clinic_context(clinic)}
    lang = patient.language
    word = keyword(body)
    kind = (opt_out_type or "").upper() if (opt_out_type or "").upper() in OPT_OUT_TYPES else None
    # Twilio answered when it says so (OptOutType), or when it handles its standard words itself. For
    # an opt-out without OptOutType only the bare word is taken as Twilio's ("Stop!" might not be):
    # followup confirms anything else, and if Twilio had opted the number out after all it refuses
    # that answer (21610), so exactly one confirmation arrives either way.
    twilio_answered = kind is not None or (
        twilio_answers and (word in OPT_IN | HELP or (word in OPT_OUT and body.strip().upper() == word))
    )
    if kind is None:
        if word in OPT_OUT:
            kind = "STOP"
        elif word in OPT_IN and patient.status == "opted_out":
            kind = "START"
        elif word in HELP:
            kind = "HELP"
    # The consent method says who recognised the request: Twilio's OptOutType, or followup's reading.
    method = f"twilio:{kind}" if opt_out_type and kind else "sms"
    evidence = word or body.strip()[:60]
    if kind == "STOP":
        changed = patients.opt_out(session, patient.id, now, method=method, evidence=evidence, confirm=False)
        result.action = "opted_out" if changed else "already opted out"
        if not changed or twilio_answered:
            return None, "optout"  # never a second confirmation; Twilio's own is the one
        return render("optout", "sms", lang, **ctx).body, "optout"
    if kind == "START" or (kind is None and word in RESUBSCRIBE):
        if patient.status != "opted_out" and (opt_out_type or word in RESUBSCRIBE):
            # Nothing to change: Twilio answered its START (and "YES" with OptOutType=START is that
            # keyword, not a numbness answer); a bare START from a subscribed patient needs no answer.
            result.action = "already subscribed"
            return None, "optin"
        changed = patient.status == "opted_out" and patients.opt_in(
            session, patient.id, now, method=method, evidence=evidence
        )
        if not changed:
            return None  # an active patient's "YES" after Twilio's START: the reader takes it
        result.action = "opted_in"
        return (None if twilio_answered else render("optin", "sms", lang, **ctx).body), "optin"
    if kind == "HELP":
        result.action = "help"
        if word == "HELP":
            # The carriers' keyword, but also what a patient in trouble may send: a person reads it
            # (CLINICAL_RULES.md, "When in doubt"), whoever answers it. INFO is only the keyword.
            _review(session, patient, clinic, HELP_REASON, body, now, result, inbound_id)
            result.action = "help, review"
        return (None if twilio_answered else render("help", "sms", lang, **ctx).body), "help"
    if patient.status == "opted_out":
        return None  # nothing more to stop; a red flag still reaches the clinic through the reader
    verdict = optout.classify(body)
    if verdict == optout.STOP:
        if read_first is not None:
            read_first()
        alerted = result.action if result.action.startswith("ignored_opted_out, clinic alerted") else ""
        patients.opt_out(
            session, patient.id, now, method="sms", evidence=f"phrase: {evidence}", confirm=False
        )
        result.action = "opted_out (phrase)" + (alerted and ", " + alerted.split(", ", 1)[1])
        return render("optout", "sms", lang, **ctx).body, "optout"
    if verdict == optout.AMBIGUOUS:
        parsed = replies.parse(body, lang, get_program(program).rules)
        if parsed.flags or parsed.pain is not None or parsed.numbness is not None:
            return None  # it reports something: the reader and the rules come first
        return _hint(session, patient, clinic, body, now, result, inbound_id, ctx)
    return None


def _hint(session, patient, clinic, body, now, result, inbound_id, ctx) -> tuple[str | None, str]:
    """One "Reply STOP to stop all messages" a day, and a person reads every such message."""
    earlier = session.execute(
        select(Escalation.id)
        .where(
            Escalation.patient_id == patient.id,
            Escalation.reason == HINT_REASON,
            Escalation.created_at > now - timedelta(days=1),
        )
        .limit(1)
    ).first()
    _review(session, patient, clinic, HINT_REASON, body, now, result, inbound_id)
    if earlier:
        result.action = "possible opt-out, review (no second hint)"
        return None, "reply"
    result.action = "possible opt-out, review"
    return render("optout_hint", "sms", patient.language, **ctx).body, "reply"


def _review(session, patient, clinic, reason, body, now, result, inbound_id) -> None:
    """A routine review of the keyword message, for a person to read."""
    created = escalation.record(
        session,
        patient,
        clinic,
        rules.Decision(escalation.REVIEW_RULE, "routine", reason),
        now,
        source_message_id=inbound_id,
        reply=body,
    )
    result.escalations.append(created.id)
