"""Two processes on one SQLite file (a worker and the webhook, say): they queue for the write lock,
and "database is locked" never reaches anyone."""

import subprocess
import sys

from factories import add_clinic, enrol, utc
from sqlalchemy import func, select

from followup.db import engine_for, session_scope
from followup.models import Message

PROCESS = """
import sys
from datetime import datetime, timedelta, timezone
from followup import inbound
from followup.channels.fake import FakeChannel
from followup.db import engine_for, session_scope
from followup.service import Worker

url, phone, ticks = sys.argv[1], sys.argv[2], sys.argv[3] == "ticks"
engine = engine_for(url)
now = datetime(2026, 12, 1, 20, tzinfo=timezone.utc)
worker = Worker(engine, {"sms": FakeChannel("sms", keep=False), "email": FakeChannel("email", keep=False)},
                now=lambda: now)
for i in range(80):
    with session_scope(engine) as session:
        at = now + timedelta(seconds=i)
        inbound.handle(session, sender=phone, body=f"{i % 10} N", sid=f"{phone}-{i}", now=at)
    if ticks and i % 8 == 0:
        worker.tick()
print("ok")
"""


def test_two_processes_writing_one_sqlite_file_never_see_database_is_locked(sqlite_url):
    now = utc(2026, 12, 1, 14)
    enrol(sqlite_url, add_clinic(sqlite_url, now), now, n=2)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS, sqlite_url, phone, mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for phone, mode in (("+16175551000", "ticks"), ("+16175551001", "replies"))
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for (out, err), proc in zip(results, procs):
        assert proc.returncode == 0 and out.strip() == "ok", err[-2000:]
        assert "locked" not in err
    with session_scope(engine_for(sqlite_url)) as session:
        assert session.execute(select(func.count()).where(Message.direction == "in")).scalar() == 160
