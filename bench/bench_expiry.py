"""What every dispatch run pays to skip rows whose grace ran out (outbox.expire_stale), with and
without the (status, expires_at) index of migration 0005, side by side on the same database.

N patients are planned 48 h ahead, so about 6 N rows are pending; nothing has expired, which is the
usual case: the statement should find nothing quickly, not read every pending row to learn that.

Run: .venv/bin/python bench/bench_expiry.py [--patients 100000] [--db sqlite|pg] [--repeat 21]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from common import ROOT, fresh_sqlite, machine, median
from seed import seed_patients
from sqlalchemy import text

sys.path.insert(0, str(ROOT / "tests"))
import pg  # noqa: E402

from followup import migrate, outbox  # noqa: E402
from followup.db import engine_for, session_scope  # noqa: E402

NOW = datetime(2027, 3, 1, 5, 0, tzinfo=timezone.utc)


def expire_ms(url: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        with session_scope(engine_for(url)) as session:
            began = time.perf_counter()
            assert outbox.expire_stale(session, NOW) == 0
            times.append(time.perf_counter() - began)
            session.rollback()
    return median(times) * 1000


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
            planned = outbox.plan(session, NOW)
        with engine_for(url).begin() as conn:
            conn.execute(text("ANALYZE"))
        print(f"machine: {machine()}\n{args.db}: {args.patients} patients, {planned} messages pending")
        for round_ in (1, 2):  # twice each, alternating, so drift on a shared machine shows
            with_index = expire_ms(url, args.repeat)
            with engine_for(url).begin() as conn:
                conn.execute(text("DROP INDEX ix_message_expiry"))
                conn.execute(text("ANALYZE"))
            without = expire_ms(url, args.repeat)
            with engine_for(url).begin() as conn:
                conn.execute(text("CREATE INDEX ix_message_expiry ON message (status, expires_at)"))
                conn.execute(text("ANALYZE"))
            print(f"round {round_}: expire_stale median of {args.repeat}: with the index {with_index:.2f} ms, "
                  f"without {without:.2f} ms (x{without / with_index:.0f})")
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
