"""Bulk-create clinics, patients and enrolments for benchmarks (enrolment itself is benched elsewhere)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert

from followup.db import engine_for, session_scope
from followup.enrolment import programme_end
from followup.models import Clinic, Enrolment, Patient

ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Australia/Sydney"]


def seed_patients(
    url: str,
    n: int,
    now: datetime,
    *,
    start: date | None = None,
    weeks: int = 6,
    reminder_times: str = "09:00,14:00",
    checkin_time: str = "19:00",
    zones=ZONES,
) -> None:
    start = start or now.date()
    with session_scope(engine_for(url)) as session:
        session.execute(
            insert(Clinic.__table__),
            [
                {
                    "id": 1,
                    "name": "Bench Clinic",
                    "phone": "+16175550100",
                    "timezone": "America/New_York",
                    "quiet_start": "08:00",
                    "quiet_end": "21:00",
                    "emergency_number": "911",
                    "created_at": now,
                }
            ],
        )
        ends = {z: programme_end(start, weeks, z) for z in zones}
        for lo in range(0, n, 10_000):
            ids = range(lo + 1, min(n, lo + 10_000) + 1)
            session.execute(
                insert(Patient.__table__),
                [
                    {
                        "id": i,
                        "clinic_id": 1,
                        "name": f"Patient {i}",
                        "phone": f"+1{2000000000 + i}",
                        "timezone": zones[i % len(zones)],
                        "language": "en",
                        "channel": "sms",
                        "status": "active",
                        "phone_unusable": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            session.execute(
                insert(Enrolment.__table__),
                [
                    {
                        "id": i,
                        "patient_id": i,
                        "program": "upper-back",
                        "start_date": start,
                        "weeks": weeks,
                        "reminder_times": reminder_times,
                        "checkin_time": checkin_time,
                        "checkin_every_days": 1,
                        "ends_at": ends[zones[i % len(zones)]],
                        "reminders_held": False,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
