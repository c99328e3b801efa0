"""An installed wheel (not the checkout) finds its migrations and templates."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_an_installed_wheel_migrates_and_renders_from_another_directory(tmp_path):
    wheels, site, work = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    work.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = wheels.glob("followup-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")},
        "PYTHONPATH": str(site),
        "FOLLOWUP_DATABASE_URL": "sqlite:///fresh.db",
        "FOLLOWUP_NOW": "2026-12-01T14:00:00Z",
    }

    def followup(*args):
        code = (
            "import followup, sys; assert followup.__file__.startswith(sys.argv[1]); "
            "from followup.cli import main; "
            "sys.argv = ['followup'] + sys.argv[2:]; main()"
        )
        return subprocess.run(
            [sys.executable, "-c", code, str(site), *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )

    followup("db", "upgrade")
    followup("db", "upgrade")  # idempotent
    followup(
        "clinic",
        "add",
        "--name",
        "Elm",
        "--phone",
        "+16175550100",
        "--timezone",
        "America/New_York",
        "--alert-email",
        "alerts@elm.test",
    )
    followup(
        "enroll",
        "--clinic",
        "1",
        "--name",
        "Ana",
        "--phone",
        "+16175550123",
        "--timezone",
        "America/New_York",
        "--consent",
    )
    assert "Prone head lift" in followup("messages", "--kind", "reminder", "--json").stdout
    assert (work / "fresh.db").stat().st_mode & 0o077 == 0  # patient data: owner-only


def test_make_run_has_its_own_database_and_takes_a_port():
    """`make run` must not share ./followup.db (the CLI's default, where the README's fake-clock
    session lives): the next `make run` would send that session's messages on the real clock."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOLLOWUP_", "TWILIO_"))}
    planned = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", "run", "PORT=8001"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    commands = [line for line in planned.splitlines() if "followup " in line or "followup --" in line]
    assert any("--db 'sqlite:///followup-run.db' db upgrade" in line for line in commands), planned
    assert any(
        "--db 'sqlite:///followup-run.db' run --host '127.0.0.1' --port '8001'" in line for line in commands
    ), planned
    assert "followup-run-spool" in planned and "sqlite:///followup.db" not in planned
