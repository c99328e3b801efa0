"""Escalations, the one door: record the escalation, alert the clinic through the outbox, hold exercise
reminders on emergency/urgent, acknowledge, and re-alert once when nobody acknowledges in time.
The only module that writes the `escalation` table. Whoever decided (inbound replies, the R1 time
rule), the patient and clinic come as read-only rows (models.PatientRow, ClinicRow)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlmodel import Session, col

from . import ack_links, alerts, audit, events, outbox, patients
from .errors import BadInput, NotFound
from .messages import render
from .models import (
    Clinic,
    ClinicRow,
    Enrolment,
    Escalation,
    EscalationRow,
    Patient,
    PatientRow,
    stored_id,
    table_of,
)
from .prepared import Prepared
from .programs import all_programs
from .rules import REASONS, Decision, rules_for_program

PATIENT_TEMPLATES = {
    "emergency": "escalation_emergency",
    "urgent": "escalation_urgent",
    "soon": "escalation_soon",
}
IMMEDIATE = ("emergency", "urgent")
REVIEW_RULE = "REVIEW"  # a reply nobody could read, queued for a person


def clinic_context(clinic: ClinicRow) -> dict[str, str | None]:
    return {
        "name": clinic.name,
        "sms_name": clinic.sms_name,
        "phone": clinic.phone,
        "emergency_number": clinic.emergency_number,
    }


def patient_text(decision: Decision, patient: PatientRow, clinic: ClinicRow) -> str:
    return render(
        PATIENT_TEMPLATES[decision.tier],
        "sms",
        patient.language,
        clinic=clinic_context(clinic),
        appointment=decision.rule == "S4",
        told=alerts.alerted(clinic),  # only when an alert was queued (alert_clinic)
    ).body


_E = table_of(Escalation).c
# Prepared: an escalation is written on the hot path (a red flag in a reply), and an ORM entity's
# validation and flush cost more than the row (docs/PERFORMANCE.md).
_INSERT_KEYS = EscalationRow._fields[1:]
_INSERT = Prepared(insert(table_of(Escalation)).returning(_E.id), keys=_INSERT_KEYS)
_RECENT_OPEN = Prepared(  # every reply whose reading a rule would act on
    select(_E.rule, _E.created_at).where(
        _E.patient_id == bindparam("patient"),
        _E.acknowledged_at.is_(None),
        _E.created_at > bindparam("since"),
    )
)


def recent_open(session: Session, patient_id: int, now: datetime, dedupe_days: int) -> dict[str, datetime]:
    """rule -> when it last fired, for escalations still unacknowledged within the de-dup window."""
    rows = _RECENT_OPEN.rows(
        session.connection(), patient=patient_id, since=now - timedelta(days=dedupe_days)
    )
    found: dict[str, datetime] = {}
    for rule, at in rows:
        found[rule] = max(at, found.get(rule, at))
    return found


def record(
    session: Session,
    patient: PatientRow,
    clinic: ClinicRow,
    decision: Decision,
    now: datetime,
    *,
    source_message_id: int | None = None,
    reply: str | None = None,
) -> EscalationRow:
    session.flush()  # what the session holds goes first, as it did when this row was an ORM entity
    row = (patient.id, decision.rule, decision.tier, decision.reason, source_message_id, now)
    escalation_id = _INSERT.scalar(session.connection(), **dict(zip(_INSERT_KEYS, row)))
    escalation = EscalationRow(escalation_id, *row)
    audit.record(
        session,
        now,
        "rules",
        "escalation.created",
        patient_id=patient.id,
        clinic_id=clinic.id,
        escalation_id=escalation.id,
        rule=decision.rule,
        tier=decision.tier,
    )
    if decision.tier in IMMEDIATE:
        patients.hold_reminders(session, patient.id, now)
    alert_clinic(session, patient, clinic, escalation, now, reply=reply)
    events.escalation_opened(session, clinic, escalation, now)
    return escalation


def alert_clinic(
    session: Session,
    patient: PatientRow,
    clinic: ClinicRow,
    escalation: Escalation | EscalationRow,
    now: datetime,
    *,
    reply: str | None = None,
    again: bool = False,
) -> int:
    """Queue the clinic's alert: email with details, SMS with the minimum (ids, tier, rule)."""
    immediate = escalation.tier in IMMEDIATE
    context = {
        "clinic": {"name": clinic.name, "sms_name": clinic.sms_name},
        "tier": escalation.tier,
        "rule": escalation.rule,
        "patient_id": patient.id,
        "escalation_id": escalation.id,
        "reason": escalation.reason,
        "patient_name": patient.name,
        "patient_phone": patient.phone,
        "reply": reply,
        "ack_url": ack_links.link(stored_id(escalation), clinic.alert_email),
    }
    queued = 0
    if clinic.alert_email and not again:
        email = render("alert", "email", "en", **context)
        outbox.queue(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            kind="alert",
            channel="email",
            body=email.body,
            subject=f"[{escalation.tier}] {email.subject} #{patient.id}",
            to_addr=clinic.alert_email,
            now=now,
            quiet_exempt=immediate,
            dedupe_key=f"alert:{escalation.id}:email",
            expires_in=timedelta(hours=48),
        )
        queued += 1
    if clinic.alert_webhook:
        queued += 1  # the escalation.opened event (events.py) is this route's alert
    if clinic.alert_phone:
        outbox.queue(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            kind="alert",
            channel="sms",
            body=render("alert", "sms", "en", **context).body,
            to_addr=clinic.alert_phone,
            now=now,
            quiet_exempt=immediate,
            dedupe_key=f"alert:{escalation.id}:sms{':again' if again else ''}",
            expires_in=timedelta(hours=48),
        )
        queued += 1
    if not queued:
        audit.record(
            session,
            now,
            "rules",
            "escalation.no_alert_address",
            patient_id=patient.id,
            clinic_id=clinic.id,
            escalation_id=escalation.id,
        )
    return queued


def acknowledge(session: Session, escalation_id: int, by: str, note: str | None, now: datetime) -> Escalation:
    if not by or not by.strip():
        raise BadInput("by: say who acknowledges (--by NAME)")
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound(f"escalation: no escalation with id {escalation_id}")
    if escalation.acknowledged_at is not None:
        raise BadInput(
            f"escalation {escalation_id} was already acknowledged by {escalation.acknowledged_by} "
            f"at {escalation.acknowledged_at:%Y-%m-%d %H:%M} UTC"
        )
    escalation.acknowledged_at, escalation.acknowledged_by, escalation.note = now, by.strip(), note
    session.add(escalation)
    audit.record(
        session,
        now,
        by.strip(),
        "escalation.acknowledged",
        patient_id=escalation.patient_id,
        escalation_id=escalation.id,
    )
    events.escalation_acknowledged(session, escalation, now)
    return escalation


_REALERTED_TIERS = ("emergency", "urgent", "soon")
# Unacknowledged, not yet re-alerted, and past the shortest window of their tier in any programme
# (`<tier>_due`: created by then; None for a tier without one, which then matches nothing): the rest
# (a day's "soon" ones, every hour) cannot be due yet. Built once: the rules run every minute.
_PAST_DUE = (
    _E.acknowledged_at.is_(None),
    _E.realerted_at.is_(None),
    or_(*(and_(_E.tier == tier, _E.created_at <= bindparam(f"{tier}_due")) for tier in _REALERTED_TIERS)),
    _E.created_at > bindparam("week_ago"),
)
_ANY_PAST_DUE = Prepared(select(_E.id).where(*_PAST_DUE).limit(1))
_PAST_DUE_WITH_PATIENTS = (
    select(Escalation, Patient, Clinic, col(Enrolment.program))
    .join(Patient, col(Patient.id) == Escalation.patient_id)
    .join(Clinic, col(Clinic.id) == Patient.clinic_id)
    .join(Enrolment, col(Enrolment.patient_id) == Patient.id)
    .where(*_PAST_DUE)
)


def realert_unacknowledged(session: Session, now: datetime) -> int:
    """Alerts nobody acknowledged within their tier's window are re-sent once to the alert phone."""
    shortest: dict[str, timedelta] = {}
    for program in all_programs():
        for tier, after in rules_for_program(program).realert_after.items():
            shortest[tier] = min(after, shortest.get(tier, after))
    bounds: dict[str, datetime | None] = {
        f"{tier}_due": now - shortest[tier] if tier in shortest else None for tier in _REALERTED_TIERS
    }
    bounds["week_ago"] = now - timedelta(days=7)
    # Most hours nothing is past due: one indexless look at the (small) escalation table, not the
    # four-table ORM query below.
    if _ANY_PAST_DUE.first(session.connection(), **bounds) is None:
        return 0
    rows = session.execute(_PAST_DUE_WITH_PATIENTS, bounds).all()
    count = 0
    for escalation, patient, clinic, program in rows:
        window = rules_for_program(program).realert_after.get(escalation.tier)
        if window is None or escalation.created_at + window > now:
            continue
        escalation.realerted_at = now
        session.add(escalation)
        if clinic.alert_phone:
            alert_clinic(session, PatientRow.of(patient), ClinicRow.of(clinic), escalation, now, again=True)
            count += 1  # re-alerts queued: a clinic without an alert phone gets none, and tick says so
    return count


def forget(session: Session, patient_id: int) -> None:
    """Erasure: a reason quotes readings ("persistent pain: 6/10 on 2026-12-03, ..."); keep the rule's
    own words, and no note. The rows stay (rule, tier, times: no patient text)."""
    for escalation_id, rule in session.execute(
        select(col(Escalation.id), col(Escalation.rule)).where(col(Escalation.patient_id) == patient_id)
    ).all():
        session.execute(
            update(Escalation)
            .where(col(Escalation.id) == escalation_id)
            .values(note=None, reason=REASONS.get(rule, "reason deleted with the patient's data"))
        )
