"""Prompts: the latest message sent to a patient that a reply answers, and whether a kind went out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlmodel import Session

from ..prepared import Prepared
from .table import M


def _latest_sent(patient: Any, now: Any, kinds: Sequence[str]) -> Any:
    """The latest message of `kinds` sent (or delivered) to `patient` by `now`: what a reply answers."""
    return (
        select(M.id, M.kind)
        .where(
            M.patient_id == patient,
            M.direction == "out",
            or_(*(M.kind == kind for kind in kinds)),  # no IN lists in a prepared statement
            or_(M.status == "sent", M.status == "delivered"),
            M.sent_at <= now,
        )
        .order_by(M.sent_at.desc())
        .limit(1)
    )


def last_answerable(patient: Any, now: Any) -> Any:
    """The reminder or check-in a reply from `patient` at `now` answers (the latest one sent before
    it), as a scalar subquery: the reading's INSERT names it in the same statement, one round trip less
    on every reply. `patient`, `now`: the bind parameters (or values) to compare with."""
    return _latest_sent(patient, now, ("checkin", "reminder")).with_only_columns(M.id).scalar_subquery()


# Messages a reply can answer, staff's included (staff.py: a reply to staff goes to a person). Every
# inbound SMS asks this: prepared, walking the (patient, direction, sent_at) index back from now.
PROMPTS = ("reminder", "checkin", "nudge", "confirmation", "escalation", "staff")
_LATEST_PROMPT = Prepared(
    _latest_sent(bindparam("patient"), bindparam("now"), PROMPTS)
    .with_only_columns(M.kind)
    .where(M.sent_at > bindparam("since"))
)


def sent_since(session: Session, patient_id: int, kind: str, now: datetime, since: datetime) -> bool:
    """Whether a message of `kind` went to the patient after `since` (and by `now`)."""
    found = session.execute(
        _latest_sent(patient_id, now, (kind,)).with_only_columns(M.id).where(M.sent_at > since)
    ).first()
    return found is not None


def latest_prompt_kind(session: Session, patient_id: int, now: datetime, since: datetime) -> str | None:
    """The kind of the latest message sent to the patient since `since` that a reply can answer."""
    kind: str | None = _LATEST_PROMPT.scalar(session.connection(), patient=patient_id, now=now, since=since)
    return kind
