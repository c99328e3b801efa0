"""One inbound reply through `inbound.handle`, in process, on SQLite: the handler's own cost, without
HTTP (issue 16 added a question to every reply: does it answer a staff message?).

200 patients, 1,500 replies of ten kinds, each in its own transaction; the reader is warmed up
first. Every tree given is measured in turn, alternating, so that a machine shared with other work
slows both sides alike: the median of the rounds per tree, and the ratio to the first tree.

    .venv/bin/python bench/bench_inbound.py                       # this checkout
    .venv/bin/python bench/bench_inbound.py --tree ../main --tree .   # side by side
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import tempfile, time
from datetime import UTC, datetime, timedelta
from followup import clinics, enrolment, inbound, migrate
from followup.db import engine_for, session_scope

BODIES = ["6 N", "pain 3, no numbness", "DONE", "3/10 y", "2", "done x2", "pain 5", "no tingling", "4 N",
          "ok thanks"]
url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
migrate.upgrade(url)
now = datetime(2026, 12, 1, 14, tzinfo=UTC)
engine = engine_for(url)
with session_scope(engine) as s:
    clinic = clinics.add_clinic(s, now, name="Elm", phone="+16175550100", timezone="America/New_York",
                                alert_email="a@x.test", alert_phone="+16175550199")
    rows = [(f"row {i}", {"name": f"P{i}", "phone": f"+1617555{1000 + i:04d}",
                          "timezone": "America/New_York", "consent": "yes"}) for i in range(200)]
    enrolment.enrol(s, clinic, rows, now, method="csv")
with session_scope(engine) as s:
    inbound.handle(s, sender="+16175551000", body="DONE", now=now)  # loads the reader
n = 1500
start = time.perf_counter()
for i in range(n):
    with session_scope(engine) as s:
        inbound.handle(s, sender=f"+1617555{1000 + i % 200:04d}", body=BODIES[i % 10],
                       now=now + timedelta(seconds=i))
print((time.perf_counter() - start) / n * 1000)
"""


def measure(tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"{tree}: {done.stderr.strip().splitlines()[-1]}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", action="append", type=Path, help="a checkout to measure (repeatable)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = [t.resolve() for t in (args.tree or [Path(__file__).resolve().parent.parent])]
    times: dict[Path, list[float]] = {t: [] for t in trees}
    for _ in range(args.rounds):
        for tree in trees:
            times[tree].append(measure(tree))
    first = statistics.median(times[trees[0]])
    for tree in trees:
        m = statistics.median(times[tree])
        runs = " / ".join(f"{t:.2f}" for t in times[tree])
        print(f"{tree}: {m:.2f} ms a reply (median of {runs}); x{m / first:.2f} of the first")


if __name__ == "__main__":
    main()
