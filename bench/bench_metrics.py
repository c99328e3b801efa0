"""What one `GET /metrics` scrape costs: its queries read the message and escalation tables at every
scrape (followup/metrics.py), so the cost grows with the outbox. A week of N patients is about 6 N
pending rows (48 h planned) and 21 N sent ones (two reminders and a check-in a day), a few failed or
skipped, and N/20 open escalations.

Run: .venv/bin/python bench/bench_metrics.py [--patients 10000] [--db sqlite|pg] [--repeat 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, fresh_sqlite, machine, timed
from seed import seed_patients
from sqlalchemy import func, insert, select, update

sys.path.insert(0, str(ROOT / "tests"))
import pg  # noqa: E402

from followup import metrics, migrate, outbox  # noqa: E402
from followup.db import engine_for, session_scope  # noqa: E402
from followup.models import Escalation, Message  # noqa: E402

NOW = datetime(2027, 3, 8, 5, 0, tzinfo=UTC)


def fill(url: str, patients: int) -> int:
    start = NOW - timedelta(days=7)
    seed_patients(url, patients, start, start=start.date())
    engine = engine_for(url)
    # A week already sent: plan it day by day, then mark it sent on time.
    for day in range(8):
        at = start + timedelta(days=day)
        with session_scope(engine) as session:
            outbox.plan(session, at, horizon=timedelta(days=1) if day < 7 else timedelta(hours=48))
        if day < 7:
            m = Message.__table__.c
            with session_scope(engine) as session:
                session.execute(
                    update(Message.__table__)
                    .where(m.status == "pending", m.due_at < at + timedelta(days=1))
                    .values(status="sent", sent_at=m.due_at)
                )
    with session_scope(engine) as session:
        session.execute(
            insert(Escalation.__table__),
            [
                {"patient_id": i, "rule": "U3", "tier": "urgent", "reason": "bench", "created_at": NOW}
                for i in range(1, patients + 1, 20)
            ],
        )
        return session.execute(select(func.count()).select_from(Message)).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    cluster = None
    with tempfile.TemporaryDirectory() as folder:
        if args.db == "pg":
            cluster = pg.Cluster().start()
            url = cluster.url()
            migrate.upgrade(url)
        else:
            url = fresh_sqlite(Path(folder) / "bench.db")
        try:
            rows = fill(url, args.patients)
            engine = engine_for(url)
            http = metrics.HttpMetrics()
            scrape = lambda h: metrics.render(engine, lambda: NOW, None, http, history_seconds=h)  # noqa: E731
            seconds, body = timed(lambda: scrape(0), args.repeat)  # history recomputed every time
            cached, _ = timed(lambda: scrape(3600), args.repeat)  # history from the last scrape
        finally:
            if cluster is not None:
                cluster.stop()
    print(machine())
    print(
        f"{args.db}: {args.patients} patients, {rows} message rows: one scrape {seconds * 1000:.0f} ms "
        f"(median of {args.repeat}); with the history cached {cached * 1000:.0f} ms; {len(body)} bytes"
    )


if __name__ == "__main__":
    main()
