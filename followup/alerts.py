"""Whether a clinic's alert reached someone: the fallback to the other route when one fails for
good, and what `followup escalations` shows of each escalation's alerts.

An alert's outbox row is keyed alert:<escalation id>:<channel>[:again|:fallback] (escalation.py),
so the escalation it serves is read from its key; nothing else needs to link them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from . import ack_links, audit, outbox
from .messages import render
from .models import Clinic, Escalation, Message, Patient

_KEY = re.compile(r"alert:(\d+):(sms|email)(?::(again|fallback))?")
# The webhook's alert is the escalation.opened event (events.py keys it so).
_EVENT_KEY = re.compile(r"event:escalation\.opened:(\d+)")
# Twilio codes that mean the alert phone itself cannot be reached now: worth retrying, but on-call
# must not wait for that (30003 unreachable, 30005 unknown, 30006 landline, 30007 filtered).
HANDSET = ("30003", "30005", "30006", "30007")
OTHER = {"sms": "email", "email": "sms"}
# An event that cannot go out for now: unsigned (FOLLOWUP_WEBHOOK_SECRET is not set). Still retried,
# but on-call hears of the escalation by the clinic's other route meanwhile.
WEBHOOK_HELD = ("unsigned",)


def alerted(clinic: Any) -> bool:  # a Clinic, or inbound's read-only row of one
    """Whether escalation.alert_clinic queues an alert for this clinic (an email, an SMS, or the
    webhook's escalation.opened event): only then is the patient told that the clinic has been told."""
    return bool(clinic.alert_email or clinic.alert_phone or clinic.alert_webhook)


def is_lost(status: str, error: str | None) -> bool:
    """A failure that calls for the other route: a permanent one, or the handset out of reach (that
    one is still retried, but on-call hears of the escalation by the other route meanwhile)."""
    return status == "failed" or (status == "pending" and (error or "").split(":")[0] in HANDSET)


def after_outcomes(
    session: Session, outcomes: list[tuple[int, str, dict[str, Any] | None]], now: datetime
) -> int:
    """Dispatch's recorded outcomes (message id, kind, outcome): a lost alert falls back."""
    return sum(
        fall_back(session, message_id, outcome.get("error"), now)
        for message_id, kind, outcome in outcomes
        if outcome
        and (
            (kind == "alert" and is_lost(outcome["status"], outcome.get("error")))
            or (kind == "event" and _event_lost(outcome["status"], outcome.get("error")))
        )
    )


def _event_lost(status: str, error: str | None) -> bool:
    """An event refused for good (a 4xx but 408/409/425/429: a mistyped URL) or held unsigned."""
    return status == "failed" or (status == "pending" and (error or "").split(":")[0] in WEBHOOK_HELD)


def before_expiry(session: Session, now: datetime) -> int:
    """Alerts about to be skipped as stale (retried until their 48 h deadline, never sent): each
    falls back before it goes. Nearly always nothing to do."""
    rows = outbox.expiring(session, now, ("alert", "event"))
    return sum(
        fall_back(session, message_id, f"not sent within 48 h ({error or 'no answer'})", now)
        for message_id, error in rows
    )


def fall_back(session: Session, message_id: int, error: str | None, now: datetime) -> bool:
    """The alert `message_id` failed for good: queue it on the clinic's other route (once per
    escalation), or record that no other route exists. Returns whether a fallback was queued."""
    row = session.execute(
        select(
            col(Message.dedupe_key), col(Message.kind), col(Message.to_addr), col(Message.quiet_exempt)
        ).where(col(Message.id) == message_id)
    ).first()
    if row is not None and row.kind == "event":  # the webhook's escalation.opened
        event = _EVENT_KEY.fullmatch(row.dedupe_key or "")
        if event is None:
            return False  # another event: no alert of its own to fall back from
        escalation_id, failed_channel = int(event.group(1)), "webhook"
    else:
        match = _KEY.fullmatch(row.dedupe_key or "") if row is not None and row.kind == "alert" else None
        if row is None or match is None or match.group(3) == "fallback":
            return False  # not an alert, or already the fallback: the first route is the one that failed
        escalation_id, failed_channel = int(match.group(1)), match.group(2)
    found = session.execute(
        select(Escalation, Patient, Clinic)
        .join(Patient, col(Patient.id) == Escalation.patient_id)
        .join(Clinic, col(Clinic.id) == Patient.clinic_id)
        .where(col(Escalation.id) == escalation_id)
    ).first()
    if found is None:
        return False
    escalation, patient, clinic = found
    if failed_channel == "webhook":  # the email has the details; a text if that is all there is
        channel = "email" if clinic.alert_email else "sms"
    else:
        channel = OTHER[failed_channel]
    key = f"alert:{escalation.id}:{channel}:fallback"
    if session.execute(select(col(Message.id)).where(col(Message.dedupe_key) == key)).first():
        return False  # fallen back already (a retried alert that failed again)
    to = clinic.alert_email if channel == "email" else clinic.alert_phone
    if not to and failed_channel == "webhook" and (error or "").startswith(WEBHOOK_HELD):
        return False  # held unsigned, retried, and no other route: tick/worker/run say so at start
    what = {"sms": "text", "email": "email", "webhook": "webhook"}[failed_channel]
    # A webhook's URL may hold its token in the path (Slack's do): name only its host.
    failed_to = urlsplit(row.to_addr or "").hostname if failed_channel == "webhook" else row.to_addr
    audit.record(
        session,
        now,
        "dispatch",
        "escalation.alert_failed",
        patient_id=patient.id,
        clinic_id=clinic.id,
        escalation_id=escalation.id,
        channel=failed_channel,
        error=error,
        fallback=channel if to else None,
    )
    if not to:
        return False
    context = {
        "clinic": {"name": clinic.name},
        "tier": escalation.tier,
        "rule": escalation.rule,
        "patient_id": patient.id,
        "escalation_id": escalation.id,
        "reason": escalation.reason,
        "patient_name": patient.name,
        "patient_phone": patient.phone,
        "reply": None,
        "ack_url": ack_links.link(escalation.id, to) if channel == "email" else None,
        "failed": {"what": what, "to": failed_to, "error": error or "failed"},
    }
    rendered = render("alert", channel, "en", **context)
    outbox.queue(
        session,
        patient_id=patient.id,
        clinic_id=clinic.id,
        kind="alert",
        channel=channel,
        body=rendered.body,
        subject=f"[{escalation.tier}] {rendered.subject} #{patient.id} (the {what} alert failed)"
        if channel == "email"
        else None,
        to_addr=to,
        now=now,
        quiet_exempt=True,  # it is late already: the first route failed
        dedupe_key=key,
        expires_in=timedelta(hours=48),
    )
    return True


def summaries(session: Session, escalation_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """escalation id -> its alerts, oldest first: channel, to, status, error, and which they were."""
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in escalation_ids}
    if not escalation_ids:
        return found
    rows = session.execute(
        select(
            col(Message.dedupe_key),
            col(Message.channel),
            col(Message.to_addr),
            col(Message.status),
            col(Message.error),
        )
        .where(
            or_(
                and_(col(Message.kind) == "alert", col(Message.dedupe_key).like("alert:%")),
                and_(col(Message.kind) == "event", col(Message.dedupe_key).like("event:escalation.opened:%")),
            )
        )
        .where(
            col(Message.patient_id).in_(
                select(col(Escalation.patient_id)).where(col(Escalation.id).in_(escalation_ids))
            )
        )
        .order_by(col(Message.id))
    ).all()
    for key, channel, to, status, error in rows:
        match = _KEY.fullmatch(key or "") or _EVENT_KEY.fullmatch(key or "")
        if match and int(match.group(1)) in found:
            found[int(match.group(1))].append(
                {
                    "channel": channel,
                    "to": to,
                    "status": status,
                    "error": error,
                    "as": (match.group(3) if match.re is _KEY else None) or "first",
                }
            )
    return found


def in_words(alerts: list[dict[str, Any]]) -> str:
    """One column of `escalations`: 'sms sent, email failed', 'email sent (fallback)', 'none'."""
    if not alerts:
        return "none"
    return ", ".join(
        f"{a['channel']} {a['status']}" + (f" ({a['as']})" if a["as"] != "first" else "") for a in alerts
    )
