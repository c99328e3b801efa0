"""Recipients: the patient and clinic rows of a claimed batch, read in two statements for the send loop."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from . import outbox
from .models import Clinic, Patient, table_of
from .prepared import Prepared

_PATIENTS, _CLINICS = table_of(Patient).c, table_of(Clinic).c
# What dispatch._prepare reads of each: no more (a timestamp column costs a conversion per row).
_WHO = {
    "patient": (
        _PATIENTS.id,
        _PATIENTS.status,
        _PATIENTS.phone_unusable,
        _PATIENTS.phone,
        _PATIENTS.email,
        _PATIENTS.timezone,
        _PATIENTS.language,
    ),
    "clinic": (_CLINICS.id, _CLINICS.timezone, _CLINICS.quiet_start, _CLINICS.quiet_end, _CLINICS.name),
}


@lru_cache(maxsize=32)
def _by_ids(what: str, n: int) -> Prepared:
    """Prepared, with n binds for ids: a claim's ids are padded up to a power of two, so a handful of
    statements serve every batch size (Core's IN list was built and compiled at each claim)."""
    columns = _WHO[what]
    return Prepared(select(*columns).where(columns[0].in_([bindparam(f"id{i}") for i in range(n)])))


def _rows_by_id(connection: Connection, what: str, ids: set[int]) -> dict[int | None, Any]:
    """The rows of `ids`, by id (a message without a patient or clinic looks up None: no row)."""
    if not ids:
        return {}
    ordered = sorted(ids)
    n = 1 << (len(ordered) - 1).bit_length()
    padded = {f"id{i}": ordered[min(i, len(ordered) - 1)] for i in range(n)}
    return {row.id: row for row in _by_ids(what, n).rows(connection, **padded)}


def load(session: Session, claimed: list[outbox.Claimed]) -> dict[int, tuple[Any, Any]]:
    """Read-only rows of each claimed message's patient and clinic (None when there is none).
    Plain rows, not ORM objects, which cost more than the send on a fake channel (docs/PERFORMANCE.md)."""
    connection = session.connection()
    patients = _rows_by_id(connection, "patient", {c.patient_id for c in claimed if c.patient_id})
    clinics = _rows_by_id(connection, "clinic", {c.clinic_id for c in claimed if c.clinic_id})
    return {c.id: (patients.get(c.patient_id), clinics.get(c.clinic_id)) for c in claimed}
