"""Load for the multi-worker runs: queued nudges that the workers race to send, and counts of them.

Shared by tests/test_multiworker.py, tests/test_outbound_ownership.py and bench/faults_outbound.py.
Every body is `load NNNNN`, so a run can tell which messages went out, and how often, from what the
fake Twilio accepted or from the console channel's stdout.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from factories import add_clinic, enrol
from sqlalchemy import insert, text

from followup.db import engine_for, session_scope
from followup.models import Message


def seed_nudges(
    url: str,
    n: int,
    now: datetime,
    *,
    patients: int = 50,
    grace: timedelta = timedelta(hours=2),
    quiet_exempt: bool = True,
) -> None:
    """n nudges due at `now`, spread over `patients` patients whose programmes start in 30 days (so
    nothing else is due while the workers run)."""
    clinic = add_clinic(url, now)
    ids = enrol(url, clinic, now, n=patients, start=(now + timedelta(days=30)).date().isoformat())
    rows = [
        {
            "patient_id": ids[i % len(ids)],
            "clinic_id": clinic,
            "direction": "out",
            "kind": "nudge",
            "channel": "sms",
            "status": "pending",
            "dedupe_key": f"load:{i}",
            "due_at": now,
            "next_attempt_at": now,
            "expires_at": now + grace,
            "body": body(i),
            "attempts": 0,
            "quiet_exempt": quiet_exempt,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]
    with session_scope(engine_for(url)) as session:
        session.execute(insert(Message.__table__), rows)


def body(i: int) -> str:
    return f"load {i:05d}"


def scalar(url: str, sql: str) -> int:
    with session_scope(engine_for(url)) as session:
        return session.execute(text(sql)).scalar()


def count_nudges(url: str, where: str) -> int:
    return scalar(url, f"SELECT count(*) FROM message WHERE kind = 'nudge' AND {where}")


def start_worker(
    env: dict[str, str], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
) -> subprocess.Popen:
    """A real `followup worker` process, in this interpreter."""
    return subprocess.Popen(
        [sys.executable, "-c", "from followup.cli import main; main()", "worker"],
        env=env,
        stdout=stdout,
        stderr=stderr,
    )


def console_bodies(path: Path) -> list[str]:
    """The load bodies a console-channel worker printed."""
    return [line.strip() for line in path.read_text().splitlines() if line.startswith("load ")]
