"""Events to a clinic's webhook: escalation.opened, escalation.acknowledged, patient.opted_out,
patient.opted_in, message.failed.

An event is queued in the outbox, in the same transaction as what it reports, as a message of kind
`event` on the `webhook` channel (channels/webhook.py signs and posts it). So it is delivered at least
once, retried with the outbox's back-off until its deadline, and its `webhook-id` is the same on every
retry. That id is random and kept on the row (its subject is "<type> <webhook-id>"), not the row's id:
SQLite hands a deleted top rowid out again (after `patient forget`), and so does any database restored
from an older backup, and a receiver that drops duplicates by webhook-id would drop the new event.
Nothing is queued for a clinic without `--alert-webhook`.

The body holds ids, tier, rule and the clinic's id, never a name, a number or a message's text
(minimum necessary): `{"type", "timestamp", "data"}` (Standard Webhooks' shape), or for a clinic whose
format is `slack`, `{"text": …}` with the ids and tier only, which Slack's (and Teams' and
Mattermost's) incoming webhooks post as it is.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from . import outbox
from .config import Settings
from .localtime import to_utc_z
from .metrics import error_code
from .models import Clinic, ClinicRow, Escalation, EscalationRow, Message, Patient

KIND, CHANNEL = "event", "webhook"
FORMATS = ("standard", "slack")
# How long an event is retried (the outbox's back-off reaches 20 min between attempts): a receiver
# down for a weekend still gets Monday's events, none later than this.
DEADLINE = timedelta(days=3)


def unsigned(session: Session, settings: Settings) -> str | None:
    """What `tick`, `worker` and `run` say at start when events would wait unsigned, or None."""
    if settings.webhook_secret:
        return None
    clinics = session.execute(
        select(col(Clinic.id)).where(col(Clinic.alert_webhook).is_not(None), col(Clinic.alert_webhook) != "")
    ).scalars()
    ids = ", ".join(str(i) for i in clinics)
    if not ids:
        return None
    waiting = session.execute(
        select(func.count()).where(col(Message.kind) == KIND, col(Message.status) == "pending")
    ).scalar_one()
    return (
        f"FOLLOWUP_WEBHOOK_SECRET is not set: events to the webhook of clinic {ids} cannot be signed "
        f"and wait in the outbox ({waiting} now); set it and restart"
    )


def escalation_opened(
    session: Session, clinic: Clinic | ClinicRow, escalation: Escalation | EscalationRow, now: datetime
) -> None:
    _emit(session, clinic, "escalation.opened", now, _escalation(escalation), f"{escalation.id}")


def escalation_acknowledged(session: Session, escalation: Escalation, now: datetime) -> None:
    patient = session.get(Patient, escalation.patient_id)
    clinic = session.get(Clinic, patient.clinic_id) if patient else None
    if clinic is not None:
        _emit(session, clinic, "escalation.acknowledged", now, _escalation(escalation), f"{escalation.id}")


def patient_opted(session: Session, patient: Patient, opted: str, now: datetime) -> None:
    """`opted`: "opted_out" or "opted_in"."""
    clinic = session.get(Clinic, patient.clinic_id)
    if clinic is not None:
        _emit(session, clinic, f"patient.{opted}", now, {"patient_id": patient.id}, None)


def sends_failed(session: Session, outcomes: list[tuple[Any, dict[str, Any] | None]], now: datetime) -> None:
    """dispatch: the claimed messages (outbox.Claimed) whose send outcome is `failed`."""
    for claimed, outcome in outcomes:
        if outcome is not None and outcome["status"] == "failed":
            message_failed(
                session,
                message_id=claimed.id,
                clinic_id=claimed.clinic_id,
                patient_id=claimed.patient_id,
                kind=claimed.kind,
                channel=claimed.channel,
                error=outcome.get("error"),
                now=now,
            )


def callback_failed(session: Session, message: Message | None, now: datetime) -> None:
    """A status callback moved `message` (if any) to failed; a repeated callback is one event."""
    if message is not None and message.status == "failed" and message.id is not None:
        message_failed(
            session,
            message_id=message.id,
            clinic_id=message.clinic_id,
            patient_id=message.patient_id,
            kind=message.kind,
            channel=message.channel,
            error=message.error,
            now=now,
        )


def message_failed(
    session: Session,
    *,
    message_id: int,
    clinic_id: int | None,
    patient_id: int | None,
    kind: str,
    channel: str,
    error: str | None,
    now: datetime,
) -> None:
    if kind == KIND or clinic_id is None:
        return  # an event that could not be delivered is not reported by another event
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        return
    data = {
        "message_id": message_id,
        "patient_id": patient_id,
        "kind": kind,
        "channel": channel,
        "error_code": error_code(error),
    }
    _emit(session, clinic, "message.failed", now, data, f"{message_id}")


def _escalation(e: Escalation | EscalationRow) -> dict[str, Any]:
    return {"escalation_id": e.id, "patient_id": e.patient_id, "tier": e.tier, "rule": e.rule}


def body(event_type: str, timestamp: datetime, data: dict[str, Any], fmt: str) -> str:
    if fmt == "slack":
        ids = ", ".join(f"{k.removesuffix('_id')} {v}" for k, v in data.items() if k.endswith("_id"))
        tier = f" ({data['tier']})" if "tier" in data else ""
        return json.dumps({"text": f"followup: {event_type}{tier}: {ids}"})
    return json.dumps({"type": event_type, "timestamp": to_utc_z(timestamp), "data": data}, sort_keys=True)


def _emit(
    session: Session,
    clinic: Clinic | ClinicRow,
    event_type: str,
    now: datetime,
    data: dict[str, Any],
    once_key: str | None,
) -> None:
    if not clinic.alert_webhook or clinic.id is None:
        return
    data = {**data, "clinic_id": clinic.id}
    outbox.queue(
        session,
        patient_id=data.get("patient_id"),
        clinic_id=clinic.id,
        kind=KIND,
        channel=CHANNEL,
        body=body(event_type, now, data, clinic.alert_webhook_format or "standard"),
        subject=f"{event_type} msg_{uuid.uuid4().hex}",  # the webhook-id: channels/webhook.py
        to_addr=clinic.alert_webhook,
        now=now,
        # One event per fact: a status callback repeated by Twilio does not report a failure twice.
        dedupe_key=f"event:{event_type}:{once_key}" if once_key else None,
        quiet_exempt=True,  # machines have no quiet hours
        expires_in=DEADLINE,
    )
