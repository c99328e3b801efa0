"""The audit trail: who did what to which patient, and when."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert, update
from sqlmodel import Session

from .models import AuditEvent
from .prepared import Prepared


def record(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    *,
    patient_id: int | None = None,
    clinic_id: int | None = None,
    **detail,
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
    insert(AuditEvent.__table__), keys=("at", "actor", "action", "patient_id", "clinic_id", "detail")
)


def forget(session: Session, patient_id: int) -> None:
    """Erasure: the patient's events keep who did what and when, without their details."""
    session.execute(update(AuditEvent).where(AuditEvent.patient_id == patient_id).values(detail=""))  # type: ignore[arg-type]
