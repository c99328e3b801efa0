"""The scheduling engine against the baseline of one APScheduler job per message (issue 3).

Run: .venv/bin/python bench/bench_scheduler.py [--quick]
Everything is measured in this one run, side by side; medians of 3 where repeated.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, fresh_sqlite, machine, median

sys.path.insert(0, str(ROOT / "tests"))
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # noqa: E402
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402
from seed import seed_patients  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from followup import planner, service  # noqa: E402
from followup.channels.fake import FakeChannel  # noqa: E402
from followup.db import dispose, engine_for, session_scope  # noqa: E402
from followup.models import Message  # noqa: E402

NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 08:00 New York
WORK = Path(tempfile.mkdtemp(prefix="followup-bench-"))
QUICK = "--quick" in sys.argv


def _noop():
    pass


_FIRED = threading.Semaphore(0)


def _fired():
    _FIRED.release()


def baseline_add(n: int) -> tuple[float, float]:
    """APScheduler 3 with a SQLAlchemy job store on SQLite: add n date jobs, then fire n due jobs."""
    path = WORK / f"aps{time.perf_counter_ns()}.db"
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")})
    scheduler.start(paused=True)
    far = datetime.now(UTC) + timedelta(days=1)
    start = time.perf_counter()
    for i in range(n):
        scheduler.add_job(_noop, "date", run_date=far + timedelta(seconds=i), id=f"m{i}")
    add_rate = n / (time.perf_counter() - start)
    scheduler.remove_all_jobs()
    due = datetime.now(UTC) + timedelta(seconds=1)
    for i in range(n):
        scheduler.add_job(_fired, "date", run_date=due, id=f"f{i}", misfire_grace_time=None)
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
    start = time.perf_counter()
    scheduler.resume()
    for _ in range(n):
        _FIRED.acquire()
    fire_rate = n / (time.perf_counter() - start)
    scheduler.shutdown(wait=False)
    return add_rate, fire_rate


def plan_rate(patients: int) -> tuple[float, int, float]:
    url = fresh_sqlite(WORK / f"plan{time.perf_counter_ns()}.db")
    seed_patients(url, patients, NOW)
    start = time.perf_counter()
    with session_scope(engine_for(url)) as session:
        written = planner.plan(session, NOW)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    with session_scope(engine_for(url)) as session:
        again = planner.plan(session, NOW + timedelta(minutes=1))
    replan = time.perf_counter() - start
    assert again == 0
    dispose(url)
    return written / seconds, written, seconds, replan


def due_messages(url: str, n: int, due, spread: timedelta = timedelta(0)) -> None:
    with session_scope(engine_for(url)) as session:
        session.execute(
            insert(Message.__table__),
            [
                {
                    "patient_id": 1 + i % 1000,
                    "clinic_id": 1,
                    "direction": "out",
                    "kind": "nudge",
                    "channel": "sms",
                    "status": "pending",
                    "dedupe_key": f"b:{i}",
                    "due_at": due + spread * (i / n),
                    "next_attempt_at": due + spread * (i / n),
                    "expires_at": due + timedelta(hours=2),
                    "body": f"m{i}",
                    "attempts": 0,
                    "quiet_exempt": True,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(n)
            ],
        )


def dispatch_rate_sqlite(n: int) -> float:
    url = fresh_sqlite(WORK / f"disp{time.perf_counter_ns()}.db")
    seed_patients(url, 1000, NOW, start=NOW.date() + timedelta(days=30))
    due_messages(url, n, NOW)
    worker = service.Worker(
        engine_for(url), {"sms": FakeChannel("sms")}, now=lambda: NOW + timedelta(seconds=1)
    )
    start = time.perf_counter()
    report = worker.dispatch()
    seconds = time.perf_counter() - start
    assert report.sent == n, report
    dispose(url)
    return n / seconds


def lateness_sqlite(n: int) -> tuple[float, float, float]:
    """n messages due over one real minute; the real APScheduler-driven worker on the real clock."""
    url = fresh_sqlite(WORK / f"late{time.perf_counter_ns()}.db")
    seed_patients(url, 1000, NOW, start=NOW.date() + timedelta(days=30))
    t0 = datetime.now(UTC) + timedelta(seconds=2)
    due_messages(url, n, t0, spread=timedelta(seconds=60))
    worker = service.Worker(engine_for(url), {"sms": FakeChannel("sms")})
    scheduler = service.start_scheduler(worker)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_scope(engine_for(url)) as session:
                left = session.execute(text("SELECT count(*) FROM message WHERE status != 'sent'")).scalar()
            if not left:
                break
            time.sleep(1)
    finally:
        service.stop_scheduler(scheduler, worker)
    with session_scope(engine_for(url)) as session:
        rows = session.execute(text("SELECT sent_at, due_at FROM message")).all()
    late = sorted((datetime.fromisoformat(s) - datetime.fromisoformat(d)).total_seconds() for s, d in rows)
    dispose(url)
    return late[len(late) // 2], late[int(len(late) * 0.99) - 1], late[-1]


def postgres_workers(n: int, workers: int, cluster) -> float:
    import psycopg

    name = f"bench{time.perf_counter_ns()}"
    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = cluster.url(name)
    from followup import migrate

    migrate.upgrade(url)
    seed_patients(url, 1000, NOW, start=NOW.date() + timedelta(days=30))
    due_messages(url, n, NOW)
    dispose(url)
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "_worker_proc.py"),
                url,
                (NOW + timedelta(seconds=1)).isoformat(),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    sent = sum(json.loads(p.communicate()[0])["sent"] for p in procs)
    seconds = time.perf_counter() - start
    assert sent == n, sent
    return n / seconds


def worker_rss(patients: int) -> dict:
    url = fresh_sqlite(WORK / f"rss{patients}.db")
    seed_patients(url, patients, NOW, reminder_times="09:00,14:00", zones=["America/New_York"])
    dispose(url)
    # Plan 48 h for everyone, then send the 09:00 reminders of all patients: one process, peak RSS.
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "_worker_proc.py"),
            url,
            (NOW + timedelta(hours=1, seconds=1)).isoformat(),
            NOW.isoformat(),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    print(f"machine: {machine()}")
    n_base = 1000 if QUICK else 3000
    runs = []
    for _ in range(3):
        add, fire = baseline_add(n_base)
        rate, written, seconds, _ = plan_rate(2000 if QUICK else 10_000)
        runs.append((add, fire, rate))
    add, fire, rate = (median(r[i] for r in runs) for i in range(3))
    print(
        f"plan into SQLite: followup {rate:,.0f} msg/s vs baseline APScheduler add_job {add:,.0f} jobs/s "
        f"(x{rate / add:,.0f}); baseline fires {fire:,.0f} jobs/s  [median of 3]"
    )

    big = 20_000 if QUICK else 100_000
    rate, written, seconds, replan = plan_rate(big)
    print(
        f"plan {big:,} patients for 48 h: {written:,} messages in {seconds:.1f} s ({rate:,.0f}/s); "
        f"re-plan with nothing new: {replan:.3f} s"
    )

    rates = [dispatch_rate_sqlite(10_000) for _ in range(3)]
    print(
        f"dispatch, SQLite, 1 worker, in-process fake channel: {median(rates):,.0f} msg/s [median of 3: "
        f"{', '.join(f'{r:,.0f}' for r in rates)}] vs baseline fire {fire:,.0f}/s"
    )

    if not QUICK:
        p50, p99, worst = lateness_sqlite(10_000)
        print(
            f"lateness (sent - due), 10,000 due over one minute, APScheduler-driven worker, real clock: "
            f"p50 {p50:.2f} s, p99 {p99:.2f} s, max {worst:.2f} s"
        )

    sys.path.insert(0, str(ROOT / "tests"))
    import pg

    if pg.binaries():
        cluster = pg.Cluster().start()
        try:
            one, two = [], []
            for _ in range(3):
                one.append(postgres_workers(20_000, 1, cluster))
                two.append(postgres_workers(20_000, 2, cluster))
            print(
                f"dispatch, PostgreSQL, 20,000 due: 1 worker {median(one):,.0f} msg/s, 2 worker processes "
                f"{median(two):,.0f} msg/s (x{median(two) / median(one):.2f}) [medians of 3, interleaved]"
            )
        finally:
            cluster.stop()

    small, large = worker_rss(10_000), worker_rss(20_000 if QUICK else 100_000)
    print(
        f"worker peak RSS, one process planning 48 h then sending the 09:00 reminders: "
        f"{small['planned']:,} planned + {small['sent']:,} sent -> {small['maxrss_kb'] / 1024:.0f} MiB; "
        f"{large['planned']:,} planned + {large['sent']:,} sent -> {large['maxrss_kb'] / 1024:.0f} MiB; "
        f"ratio {large['maxrss_kb'] / small['maxrss_kb']:.2f}"
    )


if __name__ == "__main__":
    main()
