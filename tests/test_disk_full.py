"""The disk under a SQLite database fills up: a clear error, nothing half-written, no corruption,
and everything works again once there is room."""

import sqlite3
import subprocess

import pytest

from followup.db import dispose


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs: a disk that really fills up (needs root; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    dispose()
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk, leave_bytes: int) -> None:
    free = subprocess.run(["df", "-B1", "--output=avail", str(disk)], capture_output=True, text=True).stdout
    with open(disk / "filler", "wb") as filler:
        filler.write(b"\0" * max(0, int(free.split()[-1]) - leave_bytes))


def test_a_full_disk_refuses_the_import_cleanly_and_keeps_the_database_intact(small_disk, tmp_path):
    from conftest import Followup

    followup = Followup(f"sqlite:///{small_disk / 'followup.db'}")
    followup("db", "upgrade")
    clinic = followup.clinic()
    first = followup.enrol(clinic)
    csv = tmp_path / "many.csv"
    csv.write_text(
        "name,phone,timezone,consent\n"
        + "".join(f"Patient {i},+1617556{i:04d},America/New_York,yes\n" for i in range(600))
    )

    fill(small_disk, leave_bytes=48 * 1024)
    result = followup("enroll", "--clinic", clinic, "--csv", str(csv), expect=1)
    assert result.stderr.strip() == (
        "error: database: database or disk is full (the change under way was rolled back)"
    )
    assert [p["id"] for p in followup.json("patients")] == [first]  # nothing half-imported
    dispose()
    with sqlite3.connect(small_disk / "followup.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    (small_disk / "filler").unlink()  # room again: the same file imports in full
    followup("enroll", "--clinic", clinic, "--csv", str(csv))
    assert len(followup.json("patients")) == 601
