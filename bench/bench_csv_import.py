"""`followup enroll --csv` with 1,000 rows on a fresh SQLite file, as a user runs it (a subprocess).

Target (issue 2): under 5 s. Run: .venv/bin/python bench/bench_csv_import.py
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

from common import followup_cmd, fresh_sqlite, machine, median

ROWS = 1000


def write_csv(path: Path, rows: int) -> None:
    zones = [
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "Europe/London",
        "Australia/Sydney",
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "phone", "timezone", "reminder_times", "checkin_time", "consent"])
        for i in range(rows):
            writer.writerow(
                [f"Patient {i}", f"+1617555{i:04d}", zones[i % len(zones)], "09:00;14:00", "19:00", "yes"]
            )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="followup-bench-"))
    csv_path = work / "patients.csv"
    write_csv(csv_path, ROWS)
    times = []
    for run in range(3):
        url = fresh_sqlite(work / f"run{run}.db")
        env = {"FOLLOWUP_DATABASE_URL": url, "FOLLOWUP_NOW": "2026-12-01T14:00:00Z"}
        followup_cmd(
            "clinic",
            "add",
            "--name",
            "Bench",
            "--phone",
            "+16175550100",
            "--timezone",
            "America/New_York",
            env=env,
        )
        start = time.perf_counter()
        out = followup_cmd("enroll", "--clinic", "1", "--csv", str(csv_path), env=env)
        times.append(time.perf_counter() - start)
        assert f"enrolled {ROWS} patients" in out.stdout, out.stdout + out.stderr
    print(f"machine: {machine()}")
    print(
        f"csv import, {ROWS} rows, SQLite, whole command incl. interpreter start: "
        f"median {median(times):.2f} s over 3 runs "
        f"(runs: {', '.join(f'{t:.2f}' for t in times)}); target < 5 s"
    )


if __name__ == "__main__":
    main()
