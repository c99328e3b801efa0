"""Rules that fire because time passed, not because a message arrived (R1, re-alerts), and programmes
that end (patients.complete_finished). Run after every cycle."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

from . import escalation, outbox, patients, planner
from .db import one_at_a_time
from .messages import render
from .models import Clinic, ClinicRow, Enrolment, Message, Patient, PatientRow
from .prepared import Prepared
from .rules import Decision, missed_checkins_decision, rules_for_program

MISSED_AFTER = timedelta(hours=24)  # a check-in with no reply within this is missed
LOOKBACK = timedelta(minutes=30)  # rules run every minute; this tolerates a stopped scheduler for that long


def missed_checkins(session: Session, now: datetime) -> dict[str, int]:
    """R1: after N check-ins in a row without a reply, one gentle nudge; after M, a review task.

    Evaluated when a check-in becomes missed (24 h without a reply), so each check-in is looked at
    in one short window; the nudge's dedupe key and the escalation's de-duplication make a second
    look harmless.
    """
    done = {"nudged": 0, "review": 0}
    window = {"after": now - MISSED_AFTER - LOOKBACK, "until": now - MISSED_AFTER}
    if _ANY_SENT.first(session.connection(), **window) is None:
        return done  # no check-in went out in the window (most hours): none can have become missed
    became_missed = session.execute(_BECAME_MISSED, window).all()
    rule_sets = {patient.id: rules_for_program(program) for _, patient, _, program in became_missed}
    # A `both` patient has an SMS and an email row for each check-in: one slot, looked at once. The
    # slot's first row names it, so a second look (its other row sent a minute later) finds the
    # same dedupe keys.
    streaks = _missed_in_a_row(
        session, {pid: rules.review_after_missed for pid, rules in rule_sets.items()}, now - MISSED_AFTER
    )
    seen: set[int] = set()
    for checkin_id, patient_orm, clinic_orm, _ in became_missed:
        if checkin_id in seen:
            continue
        seen.add(checkin_id)
        patient, clinic = PatientRow.of(patient_orm), ClinicRow.of(clinic_orm)
        patient_id = patient.id
        rule_set = rule_sets[patient_id]
        missed = streaks[patient_id]
        verdict = missed_checkins_decision(missed, rule_set)
        if verdict == "nudge":
            for channel in planner.channels_for(patient.channel):
                text = render("nudge", channel, patient.language, clinic=escalation.clinic_context(clinic))
                outbox.queue(
                    session,
                    patient_id=patient.id,
                    clinic_id=clinic.id,
                    kind="nudge",
                    channel=channel,
                    body=text.body,
                    subject=text.subject,
                    now=now,
                    dedupe_key=f"nudge:{checkin_id}:{channel}",
                )
            done["nudged"] += 1
        elif verdict == "review":
            open_rules = escalation.recent_open(session, patient_id, now, rule_set.dedupe_days)
            if "R1" not in open_rules:
                escalation.record(
                    session,
                    patient,
                    clinic,
                    Decision("R1", "routine", f"no reply to {missed} check-ins in a row"),
                    now,
                )
                done["review"] += 1
    return done


CHUNK = 500  # patients per query: a whole zone's check-ins can become missed in the same minute


def _missed_in_a_row(session: Session, last_n: dict[int, int], before: datetime) -> dict[int, int]:
    """Patient id -> how many of their last n check-ins sent by `before` went unanswered in a row,
    newest first. A reply answers every check-in sent before it, so these are exactly the check-ins
    sent after the patient's last reply. Two queries per CHUNK patients, not a few per patient."""
    missed: dict[int, int] = {}
    ids = sorted(last_n)
    for lo in range(0, len(ids), CHUNK):
        chunk = ids[lo : lo + CHUNK]
        last_reply = dict(session.execute(_LAST_REPLY, {"ids": chunk}).all())
        recent: dict[int, list[datetime]] = {i: [] for i in chunk}
        for patient_id, sent_at in session.execute(
            _RECENT_CHECKINS, {"ids": chunk, "before": before, "n": max(last_n[i] for i in chunk)}
        ):
            recent[patient_id].append(sent_at)
        for patient_id in chunk:
            newest = sorted(recent[patient_id], reverse=True)[: last_n[patient_id]]
            replied = last_reply.get(patient_id)
            missed[patient_id] = sum(1 for sent_at in newest if replied is None or sent_at > replied)
    return missed


# Built once, with bind parameters: the rules run every minute, and building these statements
# (and their cache keys) each time would cost more than running them.
_reply = Message.__table__.alias("reply")
# Only check-ins nobody answered: most are answered, and need no look.
_slot_row = Message.__table__.alias("slot_row")
_FIRST_OF_SLOT = (
    select(func.min(_slot_row.c.id))
    .where(
        _slot_row.c.patient_id == Message.patient_id,
        _slot_row.c.direction == "out",
        _slot_row.c.kind == "checkin",
        _slot_row.c.local_date == Message.local_date,
        _slot_row.c.slot == Message.slot,
    )
    .correlate(Message.__table__)
    .scalar_subquery()
)
_BECAME_MISSED = (
    select(func.coalesce(_FIRST_OF_SLOT, Message.id), Patient, Clinic, Enrolment.program)
    .join(Patient, Patient.id == Message.patient_id)
    .join(Clinic, Clinic.id == Patient.clinic_id)
    .join(Enrolment, Enrolment.patient_id == Patient.id)
    .where(
        Message.direction == "out",
        Message.kind == "checkin",
        Message.status.in_(("sent", "delivered")),
        Message.sent_at > bindparam("after"),
        Message.sent_at <= bindparam("until"),
        Patient.status == "active",
        ~select(_reply.c.id)
        .where(
            _reply.c.patient_id == Message.patient_id,
            _reply.c.direction == "in",
            _reply.c.sent_at >= Message.sent_at,
        )
        .exists(),
    )
)
# Whether any check-in went out in the window at all, on ix_message_kind_sent_at. Check-ins go out at
# one local time a day, so most hours none did, and _BECAME_MISSED (four tables, two correlated
# subqueries, ORM entities) need not run. A superset of its check-ins: it never skips one.
_ANY_SENT = Prepared(
    select(Message.id)
    .where(
        Message.kind == "checkin",
        Message.direction == "out",
        Message.sent_at > bindparam("after"),
        Message.sent_at <= bindparam("until"),
    )
    .limit(1)
)
# One row per check-in slot (a `both` patient's SMS and email are one check-in), sent when its first
# row went out.
_slots = (
    select(Message.patient_id, func.min(Message.sent_at).label("sent_at"))
    .where(
        Message.patient_id.in_(bindparam("ids", expanding=True)),
        Message.direction == "out",
        Message.kind == "checkin",
        Message.status.in_(("sent", "delivered")),
        Message.sent_at <= bindparam("before"),
    )
    .group_by(Message.patient_id, func.coalesce(Message.local_date, Message.sent_at), Message.slot)
    .subquery()
)
_ranked = select(
    _slots.c.patient_id,
    _slots.c.sent_at,
    func.row_number()
    .over(partition_by=_slots.c.patient_id, order_by=_slots.c.sent_at.desc())
    .label("newest_first"),
).subquery()
_RECENT_CHECKINS = select(_ranked.c.patient_id, _ranked.c.sent_at).where(
    _ranked.c.newest_first <= bindparam("n")
)
_LAST_REPLY = (
    select(Message.patient_id, func.max(Message.sent_at))
    .where(Message.patient_id.in_(bindparam("ids", expanding=True)), Message.direction == "in")
    .group_by(Message.patient_id)
)


def run(session: Session, now: datetime) -> dict[str, int]:
    """Every time-based rule, in order. Returns what each did (for the tick summary)."""
    if not one_at_a_time(session, "followup.rules"):
        # Another worker is running these rules for the same minute; running them beside it could
        # open the same review twice (neither sees the other's uncommitted escalation).
        return {"completed": 0, "nudged": 0, "review": 0, "realerted": 0}
    missed = missed_checkins(session, now)
    return {
        "completed": patients.complete_finished(session, now),
        "nudged": missed["nudged"],
        "review": missed["review"],
        "realerted": escalation.realert_unacknowledged(session, now),
    }
