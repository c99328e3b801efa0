"""`followup simulate` and `followup report --format html` at clinic scale (issue 6).

Times `followup simulate --patients N --days D --seed 1` as a whole command, then the HTML report of
the database it leaves behind (median of 3). With `--baseline REV`, the same simulation also runs
from a git worktree of REV, side by side in the same run, for a ratio that machine noise does not fake.

Run: .venv/bin/python bench/bench_simulate.py [--patients 1000] [--days 30] [--baseline 07991c4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine, median


def simulate(source: Path, patients: int, days: int, keep: str | None = None) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("FOLLOWUP_NOW", None)
    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from followup.cli import main; main()",
            "simulate",
            "--patients",
            str(patients),
            "--days",
            str(days),
            "--seed",
            "1",
            "--json",
            *(["--keep", keep] if keep else []),
        ],
        env=env,
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - began, json.loads(done.stdout)


def report_seconds(database: str, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp()) / "report.html"
        began = time.perf_counter()
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "followup"),
                "--db",
                database,
                "--now",
                "2026-12-31T12:00:00Z",
                "report",
                "--format",
                "html",
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - began)
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--baseline", help="a git revision to run side by side")
    parser.add_argument("--rounds", type=int, default=3, help="with --baseline: alternating runs of each")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    seconds, result = simulate(
        ROOT, args.patients, args.days, keep=str(Path(tempfile.mkdtemp()) / "simulation.db")
    )
    summary = result["summary"]
    print(
        f"simulate {args.patients} patients x {args.days} days: {seconds:.1f} s "
        f"({summary['replies_received']} replies in, {sum(summary['sent'].values())} messages out)"
    )
    print(f"report --format html on it: {report_seconds(result['database']):.2f} s (median of 3)")
    if not args.baseline:
        return
    worktree = Path(tempfile.mkdtemp()) / "baseline"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(worktree), args.baseline],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        now, then, same = [seconds], [], True
        for round_ in range(args.rounds):  # alternating, so a machine that slows down slows both
            old, old_result = simulate(worktree, args.patients, args.days)
            then.append(old)
            same = same and old_result["summary"] == summary
            if round_ < args.rounds - 1:
                now.append(simulate(ROOT, args.patients, args.days)[0])
        print(
            f"now {', '.join(f'{t:.1f}' for t in now)} s; baseline {args.baseline} "
            f"{', '.join(f'{t:.1f}' for t in then)} s"
        )
        print(
            f"medians: now {median(now):.1f} s, baseline {median(then):.1f} s: "
            f"x{median(then) / median(now):.2f} faster ({'identical' if same else 'DIFFERENT'} summary)"
        )
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
