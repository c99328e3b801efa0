"""Building blocks for tests that drive followup's API directly (the CLI tests use conftest.Followup)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from followup import clinics, enrolment
from followup.channels.fake import FakeChannel
from followup.db import engine_for, session_scope
from followup.service import Worker


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime):
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw) -> datetime:
        self.t += timedelta(**kw)
        return self.t

    def set(self, t: datetime) -> datetime:
        self.t = t
        return t


def add_clinic(url: str, now: datetime, **kw) -> int:
    fields = {
        "name": "Elm Street Physio",
        "phone": "+16175550100",
        "timezone": "America/New_York",
        "alert_email": "alerts@elm.test",
        "alert_phone": "+16175550199",
        **kw,
    }
    with session_scope(engine_for(url)) as session:
        return clinics.add_clinic(session, now, **fields).id


def enrol(url: str, clinic_id: int, now: datetime, n: int = 1, **fields) -> list[int]:
    rows = []
    for i in range(n):
        raw = {
            "name": f"Patient {i}",
            "phone": f"+1617555{1000 + i:04d}",
            "timezone": "America/New_York",
            "consent": "yes",
            **{k: str(v) for k, v in fields.items()},
        }
        rows.append((f"row {i + 2}", raw))
    with session_scope(engine_for(url)) as session:
        clinic = clinics.get_clinic(session, clinic_id)
        return [p.id for p in enrolment.enrol(session, clinic, rows, now, method="csv")]


def worker(url: str, clock: FakeClock, **kw) -> tuple[Worker, FakeChannel, FakeChannel]:
    sms, email = FakeChannel("sms"), FakeChannel("email")
    return Worker(engine_for(url), {"sms": sms, "email": email}, now=clock, **kw), sms, email
