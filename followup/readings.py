"""The `reading` table: what each reply reported (pain, numbness, red flags, done), as the rules read it.

Not to be confused with reading.py, which reads the words of a reply.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import bindparam, delete, insert, or_, select
from sqlmodel import Session

from . import outbox, rules
from .models import Reading, table_of
from .prepared import Prepared

_T = table_of(Reading)
_R = _T.c
# The reading names the reminder or check-in it answers, found in the same statement.
_INSERT = Prepared(
    insert(_T).values(answers_message_id=outbox.last_answerable(bindparam("patient"), bindparam("now"))),
    keys=("patient_id", "message_id", "local_date", "at", "pain", "numbness", "done", "flags", "understood"),
)
# Only the replies that say something a rule reads (a DONE changes no decision: tests/test_rules.py);
# about half a patient's replies are DONEs.
_HISTORY = Prepared(
    select(_R.id, _R.local_date, _R.at, _R.pain, _R.numbness, _R.flags).where(
        _R.patient_id == bindparam("patient"),
        _R.understood.is_(True),
        _R.at > bindparam("since"),
        or_(_R.pain.is_not(None), _R.numbness.is_not(None), _R.flags != ""),
    )
)
_PREVIOUS = Prepared(
    select(_R.understood)
    .where(
        _R.patient_id == bindparam("patient"), _R.message_id != bindparam("id"), _R.at > bindparam("since")
    )
    .order_by(_R.at.desc(), _R.id.desc())
    .limit(1)
)


def record(
    session: Session,
    *,
    patient_id: int,
    message_id: int,
    local_date: date,
    now: datetime,
    pain: int | None,
    numbness: bool | None,
    done: int,
    flags: frozenset[str] | set[str],
    understood: bool,
) -> None:
    _INSERT.run(
        session.connection(),
        patient_id=patient_id,
        message_id=message_id,
        patient=patient_id,
        now=now,
        local_date=local_date,
        at=now,
        pain=pain,
        numbness=numbness,
        done=done,
        flags=" ".join(sorted(flags)),
        understood=understood,
    )


def history(session: Session, patient_id: int, since: datetime) -> list[rules.Reply]:
    """The patient's readings since `since` that a rule can act on."""
    return [
        rules.Reply(r.local_date, r.at, r.pain, r.numbness, _flag_set(r.flags), r.id)
        for r in _HISTORY.rows(session.connection(), patient=patient_id, since=since)
    ]


@lru_cache(maxsize=1024)
def _flag_set(flags: str) -> frozenset[str]:
    return frozenset(flags.split())  # nearly always "": one shared set instead of one per row


def previous_understood(session: Session, patient_id: int, message_id: int, since: datetime) -> bool | None:
    """Whether the patient's reply before this one (since `since`) was understood; None: there was none."""
    return _PREVIOUS.scalar(session.connection(), patient=patient_id, id=message_id, since=since)  # type: ignore[no-any-return]


def forget(session: Session, patient_id: int) -> None:
    session.execute(delete(_T).where(_R.patient_id == patient_id))
