"""Outbound fault runs of issue 14: duplicates, lost and late messages under several workers, a frozen
worker and a long Twilio outage, against the shipped fake Twilio over HTTP on a throw-away PostgreSQL.

    .venv/bin/python bench/faults_outbound.py              # every run, default settings (about 6 min)
    .venv/bin/python bench/faults_outbound.py --only 3w    # one run: 3w, 4w, frozen, outage

The multi-worker runs start real `followup worker` processes with the default settings (cap 1/s
shared by all, lease 120 s) on the real clock, each run on a database and a fake Twilio of its own,
all runs at once (at 1/s they need little CPU). `frozen` SIGSTOPs one of three workers while it holds
claims, for longer than the lease, then SIGCONTs it.

The outage run compresses 30 minutes of Twilio answering 503 (with Retry-After: 60) and 500 with a
fake clock: three workers in this process share one FakeClock and dispatch in turn every 10 s of fake
time, so back-off, Retry-After and grace all run on fake time while each HTTP call is real. Its cap
is 50/s (fake time does not move while a worker waits for a send slot, so the cap only sets how long
the run takes in real time).

duplicates: messages the fake Twilio accepted more than once; lost: messages it never accepted;
late: messages recorded as sent after their deadline (expires_at).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, machine

sys.path.insert(0, str(ROOT / "tests"))
import pg  # noqa: E402
import psycopg  # noqa: E402
from factories import FakeClock, add_clinic, enrol  # noqa: E402
from load import scalar, seed_nudges, start_worker  # noqa: E402
from sqlalchemy import select  # noqa: E402

from followup import config, migrate, outbox  # noqa: E402
from followup.db import engine_for, session_scope  # noqa: E402
from followup.models import Message  # noqa: E402
from followup.service import build_worker  # noqa: E402
from followup.testing.fake_twilio import FakeTwilio  # noqa: E402

LOCK = threading.Lock()


def twilio_env(fake: FakeTwilio) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": "+16175550100",
        "TWILIO_API_BASE_URL": fake.url,
        "FOLLOWUP_PUBLIC_URL": "https://followup.example",
    }


def new_database(cluster: pg.Cluster, name: str) -> str:
    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = cluster.url(name)
    with LOCK:  # alembic's configuration is process-global
        migrate.upgrade(url)
    return url


def figures(fake: FakeTwilio, url: str, expected: set[str], prefix: str = "load ") -> dict:
    sends = Counter((r.to, r.body) for r in fake.sent() if r.body.startswith(prefix) or not prefix)
    bodies = {b for _, b in sends}
    arrivals = sorted(fake.arrivals)
    gap = max((b - a for a, b in zip(arrivals, arrivals[1:])), default=0.0)
    return {
        "accepted": sum(sends.values()),
        "duplicates": sum(k - 1 for k in sends.values()),
        "longest_gap_s": round(gap, 1),
        "lost": len(expected - bodies) if prefix else None,
        "late": scalar(url, "SELECT count(*) FROM message WHERE direction = 'out' AND sent_at > expires_at"),
    }


def workers_run(cluster: pg.Cluster, name: str, workers: int, n: int, freeze: bool, logs: Path) -> dict:
    url = new_database(cluster, name)
    seed_nudges(url, n, datetime.now(UTC))
    fake = FakeTwilio().start()
    env = {**os.environ, **twilio_env(fake), "FOLLOWUP_DATABASE_URL": url}
    for setting in ("FOLLOWUP_NOW", "FOLLOWUP_SMS_MAX_PER_SECOND", "FOLLOWUP_LEASE_SECONDS"):
        env.pop(setting, None)  # the defaults: 1/s, 120 s
    lease = config.load(env).lease_seconds
    rate = config.load(env).sms_max_per_second
    procs = [start_worker(env, stderr=(logs / f"{name}-worker{i}.log").open("w")) for i in range(workers)]
    started, held, frozen_for = time.monotonic(), 0, 0.0
    try:
        if freeze:
            victim = procs[0]
            while time.monotonic() - started < 120:
                held = scalar(
                    url,
                    "SELECT count(*) FROM message WHERE status = 'sending' "
                    f"AND lease_owner LIKE '%:{victim.pid}:%'",
                )
                if held >= 5:
                    break
                time.sleep(0.2)
            victim.send_signal(signal.SIGSTOP)
            frozen_for = lease + 10
            time.sleep(frozen_for)
            victim.send_signal(signal.SIGCONT)
        limit = started + n / rate * 1.3 + 120
        while (
            time.monotonic() < limit
            and scalar(url, "SELECT count(*) FROM message WHERE kind = 'nudge' AND status = 'sent'") < n
        ):
            time.sleep(1)
        seconds = time.monotonic() - started
    finally:
        for p in procs:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        fake.stop()
    result = figures(fake, url, {f"load {i:05d}" for i in range(n)})
    result.update(seconds=round(seconds), rate=rate, lease=lease, workers=workers, messages=n)
    if freeze:
        result.update(frozen_s=frozen_for, victim_held=held)
    return result


def outage_run(cluster: pg.Cluster, patients: int, outage_minutes: int) -> dict:
    url = new_database(cluster, "outage")
    now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 09:00 in Boston: the reminders are due
    clinic = add_clinic(url, now)
    ids = enrol(url, clinic, now, n=patients)  # a confirmation and today's reminder each
    with session_scope(
        engine_for(url)
    ) as session:  # an emergency alert SMS, queued as escalation.alert_clinic does
        outbox.queue(
            session,
            patient_id=ids[0],
            clinic_id=clinic,
            kind="alert",
            channel="sms",
            body="EMERGENCY escalation #1",
            to_addr="+16175550199",
            now=now,
            quiet_exempt=True,
            dedupe_key="alert:1:sms",
            expires_in=timedelta(hours=48),
        )
    fake = FakeTwilio(retry_after=60).start()
    clock = FakeClock(now)
    settings = config.load(
        {**twilio_env(fake), "FOLLOWUP_DATABASE_URL": url, "FOLLOWUP_SMS_MAX_PER_SECOND": "50"}
    )
    workers = [build_worker(settings, engine_for(url)) for _ in range(3)]
    for w in workers:
        w.now = clock

    def due() -> list[Message]:
        with session_scope(engine_for(url)) as session:
            return list(
                session.execute(
                    select(Message).where(Message.direction == "out", Message.due_at <= now)
                ).scalars()
            )

    back = now + timedelta(minutes=outage_minutes)
    last_sent = None
    try:
        while clock() < now + timedelta(hours=3):
            fake.outage = (
                (20503 if clock() < now + timedelta(minutes=outage_minutes / 2) else 20500)
                if clock() < back
                else None
            )
            for w in workers:
                if w.dispatch().sent:
                    last_sent = clock()
            if clock() >= back and not any(m.status in ("pending", "sending") for m in due()):
                break
            clock.advance(seconds=10)
    finally:
        fake.stop()
    rows = due()
    accepted = Counter((r.to, r.body) for r in fake.sent())
    statuses = Counter(m.status for m in rows)
    alert = next(m for m in rows if m.kind == "alert")
    return {
        "messages": len(rows),
        "accepted": sum(accepted.values()),
        "duplicates": sum(k - 1 for k in accepted.values()),
        "lost": sum(1 for m in rows if m.status != "sent"),
        "statuses": dict(statuses),
        "late": sum(1 for m in rows if m.sent_at and m.sent_at > m.expires_at),
        "max_attempts": max(m.attempts for m in rows),
        "alert": alert.status,
        "last_sent_min_after_return": round((last_sent - back).total_seconds() / 60, 1)
        if last_sent
        else None,
        "outage_min": outage_minutes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["3w", "4w", "frozen", "outage"], action="append")
    parser.add_argument("--messages", type=int, default=300, help="per multi-worker run (default 300)")
    parser.add_argument(
        "--patients", type=int, default=120, help="outage run: each a confirmation and a reminder"
    )
    parser.add_argument("--outage-minutes", type=int, default=30)
    args = parser.parse_args()
    runs = args.only or ["3w", "4w", "frozen", "outage"]
    print(machine(), flush=True)
    cluster = pg.Cluster().start()
    logs = Path(tempfile.mkdtemp(prefix="faults-outbound-"))
    print(f"worker logs in {logs}", flush=True)
    results: dict[str, dict] = {}
    try:
        jobs = {
            "3w": lambda: workers_run(cluster, "w3", 3, args.messages, False, logs),
            "4w": lambda: workers_run(cluster, "w4", 4, args.messages, False, logs),
            "frozen": lambda: workers_run(cluster, "frozen", 3, args.messages, True, logs),
            "outage": lambda: outage_run(cluster, args.patients, args.outage_minutes),
        }

        def run(name):
            try:
                results[name] = jobs[name]()
            except Exception as exc:  # report it with the others
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"{name}: {results[name]}", flush=True)

        threads = [threading.Thread(target=run, args=(name,)) for name in runs]
        [t.start() for t in threads]
        [t.join() for t in threads]
    finally:
        cluster.stop()
    print("\nrun      duplicates  lost  late")
    for name in runs:
        r = results[name]
        print(f"{name:8} {r.get('duplicates', '-'):>10}  {r.get('lost', '-'):>4}  {r.get('late', '-'):>4}")
    sys.exit(
        1
        if any(
            "error" in r or r.get("duplicates") or r.get("lost") or r.get("late") for r in results.values()
        )
        else 0
    )


if __name__ == "__main__":
    main()
