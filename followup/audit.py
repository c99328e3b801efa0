"""The audit trail: who did what to which patient, and when."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col

from .models import AuditEvent, table_of
from .prepared import Prepared


def record(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    *,
    patient_id: int | None = None,
    clinic_id: int | None = None,
    **detail: Any,
) -> None:
    # Prepared: audit rows are written on hot paths (every inbound SMS), and a SQLModel object would
    # be validated by pydantic for nothing.
    _INSERT.run(
        session.connection(),
        at=at,
        actor=actor,
        action=action,
        patient_id=patient_id,
        clinic_id=clinic_id,
        detail=json.dumps(detail, default=str, sort_keys=True) if detail else "",
    )


_INSERT = Prepared(
    insert(table_of(AuditEvent)), keys=("at", "actor", "action", "patient_id", "clinic_id", "detail")
)


def forget(session: Session, patient_id: int) -> None:
    """Erasure: the patient's events keep who did what and when, without their details."""
    session.execute(update(AuditEvent).where(col(AuditEvent.patient_id) == patient_id).values(detail=""))
