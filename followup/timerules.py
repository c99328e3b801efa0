"""Rules that fire because time passed, not because a message arrived. Run after every cycle."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlmodel import Session

from . import audit, outbox
from .db import one_at_a_time
from .models import Clinic, Enrolment, Message, Patient


def complete_finished(session: Session, now: datetime) -> int:
    """Patients whose last programme day has ended become `completed`; nothing more is planned."""
    rows = session.execute(
        select(Enrolment, Patient).join(Patient, Patient.id == Enrolment.patient_id)
        .where(Enrolment.ends_at <= now, Enrolment.ended_at.is_(None), Patient.status.in_(("active", "paused")))
    ).all()
    for enrolment, patient in rows:
        enrolment.ended_at = now
        patient.status, patient.updated_at = "completed", now
        session.add_all([enrolment, patient])
        outbox.cancel_pending(session, patient.id, now, "programme completed", kinds=outbox.SCHEDULED_KINDS)
        audit.record(session, now, "scheduler", "patient.completed", patient_id=patient.id,
                     clinic_id=patient.clinic_id)
    return len(rows)


MISSED_AFTER = timedelta(hours=24)  # a check-in with no reply within this is missed
LOOKBACK = timedelta(minutes=30)  # rules run every minute; this tolerates a stopped scheduler for that long


def missed_checkins(session: Session, now: datetime) -> dict[str, int]:
    """R1: after N check-ins in a row without a reply, one gentle nudge; after M, a review task.

    Evaluated when a check-in becomes missed (24 h without a reply), so each check-in is looked at
    in one short window; the nudge's dedupe key and the escalation's de-duplication make a second
    look harmless.
    """
    from . import escalation
    from .messages import render
    from .rules import Decision, missed_checkins_decision, rules_for_program

    became_missed = session.execute(_BECAME_MISSED, {"after": now - MISSED_AFTER - LOOKBACK,
                                                      "until": now - MISSED_AFTER}).all()
    done = {"nudged": 0, "review": 0}
    for checkin_id, patient, clinic, program in became_missed:
        patient_id = patient.id
        rule_set = rules_for_program(program)
        recent = _last_checkins(session, patient_id, now - MISSED_AFTER, rule_set.review_after_missed)
        missed = 0
        for sent_at in recent:  # newest first; stop at the first one that got a reply
            if _replied_since(session, patient_id, sent_at):
                break
            missed += 1
        verdict = missed_checkins_decision(missed, rule_set)
        if verdict == "nudge":
            text = render("nudge", "sms" if patient.channel != "email" else "email", patient.language,
                          clinic=escalation.clinic_context(clinic))
            for channel in outbox.channels_for(patient.channel):
                outbox.queue(session, patient_id=patient.id, clinic_id=clinic.id, kind="nudge", channel=channel,
                             body=text.body, subject=text.subject, now=now,
                             dedupe_key=f"nudge:{checkin_id}:{channel}")
            done["nudged"] += 1
        elif verdict == "review":
            open_rules = escalation.recent_open(session, patient_id, now, rule_set.dedupe_days)
            if "R1" not in open_rules:
                escalation.record(session, patient, clinic, Decision("R1", "routine",
                                  f"no reply to {missed} check-ins in a row"), now)
                done["review"] += 1
    return done


def _last_checkins(session: Session, patient_id: int, before: datetime, n: int) -> list[datetime]:
    """When the patient's last n check-ins before `before` were sent, newest first."""
    return list(session.execute(_LAST_CHECKINS, {"patient": patient_id, "before": before, "n": n}).scalars())


def _replied_since(session: Session, patient_id: int, since: datetime) -> bool:
    return session.execute(_REPLIED_SINCE, {"patient": patient_id, "since": since}).first() is not None


# Built once, with bind parameters: the rules run every minute, and building these statements
# (and their cache keys) each time cost more than running them.
_reply = Message.__table__.alias("reply")
# Only check-ins nobody answered: most are answered, and looking at each one cost a query or four.
_BECAME_MISSED = (
    select(Message.id, Patient, Clinic, Enrolment.program).join(Patient, Patient.id == Message.patient_id)
    .join(Clinic, Clinic.id == Patient.clinic_id).join(Enrolment, Enrolment.patient_id == Patient.id)
    .where(Message.direction == "out", Message.kind == "checkin", Message.status.in_(("sent", "delivered")),
           Message.sent_at > bindparam("after"), Message.sent_at <= bindparam("until"), Patient.status == "active",
           ~select(_reply.c.id).where(_reply.c.patient_id == Message.patient_id, _reply.c.direction == "in",
                                      _reply.c.sent_at >= Message.sent_at).exists()))
_LAST_CHECKINS = (select(Message.sent_at).where(Message.patient_id == bindparam("patient"), Message.direction == "out",
                                                Message.kind == "checkin", Message.status.in_(("sent", "delivered")),
                                                Message.sent_at <= bindparam("before"))
                  .order_by(Message.sent_at.desc()).limit(bindparam("n")))
_REPLIED_SINCE = select(Message.id).where(Message.patient_id == bindparam("patient"), Message.direction == "in",
                                          Message.sent_at >= bindparam("since")).limit(1)


def run(session: Session, now: datetime) -> dict[str, int]:
    """Every time-based rule, in order. Returns what each did (for the tick summary)."""
    from .escalation import realert_unacknowledged

    if not one_at_a_time(session, "followup.rules"):
        # Another worker is running these rules for the same minute; running them beside it could
        # open the same review twice (neither sees the other's uncommitted escalation).
        return {"completed": 0, "nudged": 0, "review": 0, "realerted": 0}
    missed = missed_checkins(session, now)
    return {"completed": complete_finished(session, now), "nudged": missed["nudged"], "review": missed["review"],
            "realerted": realert_unacknowledged(session, now)}
