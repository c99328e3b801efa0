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
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(ROOT)], check=True, capture_output=True)
    [wheel] = wheels.glob("followup-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, capture_output=True)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")},
           "PYTHONPATH": str(site), "FOLLOWUP_DATABASE_URL": "sqlite:///fresh.db",
           "FOLLOWUP_NOW": "2026-12-01T14:00:00Z"}

    def followup(*args):
        code = "import followup, sys; assert followup.__file__.startswith(sys.argv[1]); from followup.cli import main; " \
               "sys.argv = ['followup'] + sys.argv[2:]; main()"
        return subprocess.run([sys.executable, "-c", code, str(site), *args], cwd=work, env=env,
                              capture_output=True, text=True, check=True)

    followup("db", "upgrade")
    followup("db", "upgrade")  # idempotent
    followup("clinic", "add", "--name", "Elm", "--phone", "+16175550100", "--timezone", "America/New_York")
    followup("enroll", "--clinic", "1", "--name", "Ana", "--phone", "+16175550123", "--timezone",
             "America/New_York", "--consent")
    assert "Prone head lift" in followup("messages", "--kind", "reminder", "--json").stdout
    assert (work / "fresh.db").stat().st_mode & 0o077 == 0  # patient data: owner-only
