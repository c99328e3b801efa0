"""Progress bars on long work (CSV import, simulate, large reports) appear on a terminal, and never
in a pipe or under --json, where they would corrupt what a script reads."""

import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from seed import seed_patients  # noqa: E402

from followup import migrate  # noqa: E402
from followup.db import dispose  # noqa: E402

FOLLOWUP = [sys.executable, "-c", "from followup.cli import main; main()"]


def on_a_terminal(*args: str, env: dict) -> str:
    """Run followup with stdout and stderr on a pseudo-terminal; everything it wrote there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*FOLLOWUP, *args], stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


@pytest.fixture
def many_patients(tmp_path):
    url = f"sqlite:///{tmp_path / 'many.db'}"
    migrate.upgrade(url)
    seed_patients(url, 600, datetime(2026, 12, 1, 12, tzinfo=UTC))
    dispose(url)
    return {**os.environ, "FOLLOWUP_DATABASE_URL": url, "FOLLOWUP_NOW": "2026-12-10T12:00:00Z"}


def test_a_large_report_shows_a_progress_bar_on_a_terminal_only(many_patients, tmp_path):
    out = tmp_path / "r.html"
    assert "building the report" in on_a_terminal(
        "report", "--format", "html", "--out", str(out), env=many_patients
    )
    piped = subprocess.run(
        [*FOLLOWUP, "report", "--format", "csv"], env=many_patients, capture_output=True, text=True
    )
    assert "building the report" not in piped.stderr and piped.stdout.startswith("patient_id,")


def test_simulate_shows_progress_on_a_terminal_and_none_under_json(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    assert "simulating days" in on_a_terminal("simulate", "--patients", "3", "--days", "2", env=env)
    quiet = on_a_terminal("simulate", "--patients", "3", "--days", "2", "--json", env=env)
    assert "simulating days" not in quiet and quiet.lstrip().startswith("{")


def test_a_large_csv_import_shows_progress_on_a_terminal(tmp_path):
    env = {
        **os.environ,
        "FOLLOWUP_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}",
        "FOLLOWUP_NOW": "2026-12-01T14:00:00Z",
    }
    subprocess.run([*FOLLOWUP, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [
            *FOLLOWUP,
            "clinic",
            "add",
            "--name",
            "Elm",
            "--phone",
            "+1 617 555 0100",
            "--timezone",
            "America/New_York",
            "--alert-email",
            "alerts@elm.test",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    csv = tmp_path / "p.csv"
    csv.write_text(
        "name,phone,timezone,consent\n"
        + "".join(f"P {i},+1617557{i:04d},America/New_York,yes\n" for i in range(60))
    )
    assert "validating and enrolling" in on_a_terminal("enroll", "--clinic", "1", "--csv", str(csv), env=env)
