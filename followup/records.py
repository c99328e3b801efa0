"""A patient's whole record: export it (for the clinic's own files) or forget it (on request)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from . import audit, escalation, outbox, patients, readings
from .db import checkpoint_truncate
from .episodes import episodes_json
from .errors import BadInput, FollowupError
from .localtime import to_utc_z
from .models import AuditEvent, Consent
from .patients import FORGOTTEN, enrolment_of, get_patient
from .views import escalation_json, list_escalations, list_messages, message_json, patient_json, readings_json


def export(session: Session, patient_id: int) -> dict[str, Any]:
    patient = get_patient(session, patient_id)
    consent = session.execute(
        select(Consent).where(col(Consent.patient_id) == patient_id).order_by(col(Consent.id))
    ).scalars()
    messages = list_messages(session, patient_id=patient_id)
    escalations = list_escalations(session, patient_id)
    events = session.execute(
        select(AuditEvent).where(col(AuditEvent.patient_id) == patient_id).order_by(col(AuditEvent.id))
    ).scalars()
    return {
        "patient": patient_json(patient, enrolment_of(session, patient_id)),
        "consent": [
            {
                "action": c.action,
                "method": c.method,
                "wording_version": c.wording_version,
                "evidence": c.evidence,
                "at": to_utc_z(c.at),
            }
            for c in consent
        ],
        "messages": [message_json(m) for m in messages],
        "readings": readings_json(session, patient_id),
        "episodes": episodes_json(session, patient_id, enrolment_of(session, patient_id)),
        "escalations": [escalation_json(e) for e in escalations],
        "audit": [
            {
                "at": to_utc_z(e.at),
                "actor": e.actor,
                "action": e.action,
                "detail": json.loads(e.detail) if e.detail else {},
            }
            for e in events
        ],
    }


CHECKPOINT_WAIT = 30.0  # seconds: how long forget waits for another connection's read to end


def is_forgotten(session: Session, patient_id: int) -> bool:
    return get_patient(session, patient_id).name == FORGOTTEN


def forget(session: Session, patient_id: int, now: datetime, actor: str = "cli") -> dict[str, Any]:
    """Erase what identifies the patient and what they wrote; keep anonymised counts.

    Kept: the patient row as a tombstone (so ids in escalations and audit stay meaningful), the
    consent actions without evidence, escalations (rule, tier, times: no patient text), and the
    message counts by kind, direction and status in the audit trail. Each table's own module
    erases its part.
    """
    patient = get_patient(session, patient_id)
    if is_forgotten(session, patient_id):
        raise BadInput(f"patient {patient_id} was already forgotten")
    outbox.cancel_pending(session, patient_id, now, "patient data deleted")
    readings.forget(session, patient_id)
    counts = outbox.forget(session, patient_id)
    escalation.forget(session, patient_id)
    audit.forget(session, patient_id)
    patients.forget(session, patient_id, now)
    audit.record(
        session,
        now,
        actor,
        "patient.forgotten",
        patient_id=patient_id,
        clinic_id=patient.clinic_id,
        message_counts=dict(sorted(counts.items())),
    )
    return {
        "patient_id": patient_id,
        "messages_deleted": sum(counts.values()),
        "message_counts": dict(sorted(counts.items())),
    }


def erase_copies(engine: Engine, patient_id: int) -> None:
    """After `forget` has committed: leave no copy of what it deleted in SQLite's write-ahead log.

    Deleted rows are zeroed in the database file (secure_delete), but until a checkpoint the -wal
    still holds the pages as they were, name, number and messages included, for as long as any
    process keeps the database open. A TRUNCATE checkpoint copies the new pages in and empties the
    log. It waits (up to CHECKPOINT_WAIT) for reads in progress elsewhere; if one outlasts that,
    the deletion stands and this says so (exit 1), and running forget again finishes the job.
    """
    if not checkpoint_truncate(engine, CHECKPOINT_WAIT):
        raise FollowupError(
            f"patient {patient_id} is forgotten, but the SQLite write-ahead log still holds copies "
            "of the deleted "
            f"data: another connection kept a read open for {CHECKPOINT_WAIT:g} s; once it has finished, run "
            f"`followup patient forget {patient_id} --yes` again"
        )
