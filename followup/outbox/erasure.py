"""Erasure: a patient's messages deleted on request, counted first for the anonymised audit."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, select, update
from sqlmodel import Session

from .table import _T, M


def forget(session: Session, patient_id: int) -> Counter[str]:
    """Delete every message to or from the patient; returns how many there were by
    direction:kind:status (the anonymised counts that are kept)."""
    counts = Counter(
        f"{d}:{k}:{s}"
        for d, k, s in session.execute(
            select(M.direction, M.kind, M.status).where(M.patient_id == patient_id)
        )
    )
    session.execute(
        update(_T).where(M.in_reply_to.is_not(None), M.patient_id == patient_id).values(in_reply_to=None)
    )
    session.execute(delete(_T).where(M.patient_id == patient_id))
    return counts
