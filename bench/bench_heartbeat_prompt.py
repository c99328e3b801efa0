"""What a dispatch run pays for its lease heartbeat, and a reply for its sender and latest prompt.

In-process, on a simulated database (1,000 patients x 20 days, made once): a Heartbeat of the run's
own (a thread started and joined) against the worker's long-lived one; and the sender lookup with
the latest prompt. Runs the tree on PYTHONPATH, so another tree (before one heartbeat a worker, or
with the folded prompt of c19227a, since reverted) can be timed the same way:
PYTHONPATH=/path/to/tree python bench/bench_heartbeat_prompt.py

Run: .venv/bin/python bench/bench_heartbeat_prompt.py [--db simulated.db]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from followup import dispatch, leases, outbox, patients
from followup.db import engine_for, session_scope
from followup.simulate import START, simulate

RUNS = 3000


def heartbeat(engine) -> None:
    held = dispatch.Held()

    def own():
        with leases.Heartbeat(engine, "bench", lambda: START, dispatch.LEASE, held) as heart:
            with heart.running() if hasattr(heart, "running") else contextlib.nullcontext():
                pass

    began, wall = time.process_time(), time.perf_counter()
    for _ in range(RUNS):
        own()
    print(
        f"heartbeat of the run's own: {(time.process_time() - began) / RUNS * 1e6:.0f} us CPU, "
        f"{(time.perf_counter() - wall) / RUNS * 1e6:.0f} us wall a run"
    )
    shared = leases.Heartbeat(engine, "bench", lambda: START, dispatch.LEASE, held)
    if not hasattr(shared, "running"):
        return
    began, wall = time.process_time(), time.perf_counter()
    for _ in range(RUNS):
        with shared.running():
            pass
    shared.stop()
    print(
        f"the worker's heartbeat: {(time.process_time() - began) / RUNS * 1e6:.1f} us CPU, "
        f"{(time.perf_counter() - wall) / RUNS * 1e6:.1f} us wall a run"
    )


def sender(engine) -> None:
    now = START + timedelta(days=20)
    phones = [f"+1617555{2000 + i:04d}" for i in range(1000)] * 3
    # The fold (c19227a) was reverted; a tree that has it (no latest_prompt_kind) is timed its own way.
    folded = not hasattr(outbox, "latest_prompt_kind")
    with session_scope(engine) as session:
        for _ in range(3):
            began = time.process_time()
            for phone in phones:
                if folded:
                    found = patients.find_sender(session, phone, now, now - timedelta(days=60))
                    found.prompt.kind_since(now - timedelta(days=7))
                else:  # two statements
                    found = patients.find_sender(session, phone)
                    outbox.latest_prompt_kind(session, found.patient.id, now, now - timedelta(days=7))
            each = (time.process_time() - began) / len(phones)
            print(f"sender + latest prompt: {each * 1e6:.0f} us CPU a reply")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="a database `followup simulate --keep` left (made if absent)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    try:
        if args.db and Path(args.db).exists():
            shutil.copy(args.db, work / "sim.db")  # the lookups only read, but a copy leaves it as it was
        else:
            simulate(patients=1000, days=20, seed=1, transcript=False, keep=str(work / "sim.db"))
            if args.db:
                shutil.copy(work / "sim.db", args.db)
        engine = engine_for(f"sqlite:///{work / 'sim.db'}")
        heartbeat(engine)
        sender(engine)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
