"""Prompts: the latest message sent to a patient that a reply answers, and whether a kind went out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from .table import _T, M


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
# inbound SMS asks for the latest of them, in the sender lookup's own SELECT (with_latest_prompt).
PROMPTS = ("reminder", "checkin", "nudge", "confirmation", "escalation", "staff")


class Prompt(NamedTuple):
    """The latest message sent to a patient that a reply can answer (its kind and when it went out),
    read with the sender (with_latest_prompt); a question about a shorter window than the one read
    is answered from it (kind_since): the latest in the longer window, if recent enough, is the latest
    in the shorter."""

    kind: str | None
    sent_at: datetime | None
    since: datetime  # the window it was read in: nothing sent before this is known here

    def kind_since(self, since: datetime) -> str | None:
        """The kind of the latest prompt sent after `since` (None: none was), for a `since` no earlier
        than the window read in."""
        if since < self.since:
            raise ValueError("the prompt was read in a shorter window than the one asked about")
        return self.kind if self.sent_at is not None and self.sent_at > since else None


def with_latest_prompt(query: Select[Any], patient: ColumnElement[Any]) -> Select[Any]:
    """`query` with the latest prompt of `patient` (a column of the query's) sent by the bind parameter
    `now` and after `since` outer-joined, as columns prompt_kind and prompt_sent_at (None: none): the
    inbound handler's sender lookup reads it in its own SELECT, one statement less on every reply.
    A walk of the (patient, direction, sent_at) index back from `now`, then the row by its key."""
    latest = (
        _latest_sent(patient, bindparam("now"), PROMPTS)
        .with_only_columns(M.id)
        .where(M.sent_at > bindparam("since"))
        .correlate_except(_T)
        .scalar_subquery()
    )
    prompt = _T.alias("prompt")
    return query.outerjoin(prompt, prompt.c.id == latest).add_columns(
        prompt.c.kind.label("prompt_kind"), prompt.c.sent_at.label("prompt_sent_at")
    )


def sent_since(session: Session, patient_id: int, kind: str, now: datetime, since: datetime) -> bool:
    """Whether a message of `kind` went to the patient after `since` (and by `now`)."""
    found = session.execute(
        _latest_sent(patient_id, now, (kind,)).with_only_columns(M.id).where(M.sent_at > since)
    ).first()
    return found is not None
