"""What every dispatch run pays to skip rows whose grace ran out (outbox.expire_stale) and to claim
what is due (outbox.claim), with and without the grace index (pending rows by expires_at, migrations
0005 and 0007), side by side on the same database. The index should make the first fast and leave
the second alone.

N patients are planned 48 h ahead, so about 6 N rows are pending; nothing has expired, which is the
usual case: the statement should find nothing quickly, not read every pending row to learn that.

Run: .venv/bin/python bench/bench_expiry.py [--patients 100000] [--db sqlite|pg] [--repeat 21]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, fresh_sqlite, machine, median
from seed import seed_patients
from sqlalchemy import text

sys.path.insert(0, str(ROOT / "tests"))
import pg  # noqa: E402

from followup import migrate, outbox, planner  # noqa: E402
from followup.db import engine_for, session_scope  # noqa: E402

NOW = datetime(2027, 3, 1, 5, 0, tzinfo=UTC)


def median_ms(url: str, repeat: int, step) -> float:
    times = []
    for _ in range(repeat):
        with session_scope(engine_for(url)) as session:
            began = time.perf_counter()
            step(session)
            times.append(time.perf_counter() - began)
            session.rollback()
    return median(times) * 1000


def expire(session) -> None:
    assert outbox.expire_stale(session, NOW) == []


def claim(session) -> None:
    # A minute before the first wave: nothing is due, the usual case for a once-a-second claim.
    assert outbox.claim(session, NOW, "bench", limit=50, lease=timedelta(minutes=5), channel="sms") == []


def timings(url: str, repeat: int) -> tuple[float, float]:
    return median_ms(url, repeat, expire), median_ms(url, repeat, claim)


def analyse(url: str) -> None:
    """PostgreSQL's autovacuum keeps statistics; an SQLite file has none unless someone runs ANALYZE,
    and with only pending rows its statistics would say a status narrows nothing."""
    if url.startswith("postgresql"):
        with engine_for(url).begin() as conn:
            conn.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    cluster = None
    if args.db == "pg":
        cluster = pg.Cluster().start()
        url = cluster.url()
        migrate.upgrade(url)
    else:
        url = fresh_sqlite(Path(tempfile.mkdtemp()) / "expiry.db")
    try:
        seed_patients(url, args.patients, NOW, start=NOW.date(), weeks=2)
        with session_scope(engine_for(url)) as session:
            planned = planner.plan(session, NOW)
        analyse(url)
        print(f"machine: {machine()}\n{args.db}: {args.patients} patients, {planned} messages pending")
        for round_ in (1, 2):  # twice each, alternating, so drift on a shared machine shows
            with_index = timings(url, args.repeat)
            with engine_for(url).begin() as conn:
                conn.execute(text("DROP INDEX ix_message_grace"))
            analyse(url)
            without = timings(url, args.repeat)
            with engine_for(url).begin() as conn:
                conn.execute(
                    text("CREATE INDEX ix_message_grace ON message (expires_at) WHERE status = 'pending'")
                )
            analyse(url)
            print(
                f"round {round_}, median of {args.repeat}: "
                f"expire_stale with the index {with_index[0]:.2f} ms, "
                f"without {without[0]:.2f} ms (x{without[0] / with_index[0]:.0f}); claim with the index "
                f"{with_index[1]:.2f} ms, without {without[1]:.2f} ms"
            )
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
