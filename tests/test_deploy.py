"""The shipped systemd units (deploy/systemd/) parse, and every command they run is a followup command
with options it has; the example environment file names only settings followup reads."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from followup.cli import cli

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
INSTALLED = "/opt/followup/.venv/bin/followup"  # where the README installs it


def _sections(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A unit file as systemd reads it: [Section] headers, Key=Value lines (keys may repeat), comments."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            current = sections.setdefault(header.group(1), [])
            continue
        assert current is not None and "=" in line, f"{path.name}:{number}: not Key=Value in a section"
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def test_there_is_a_unit_for_the_server_and_a_template_for_n_workers():
    assert {u.name for u in UNITS} == {"followup-serve.service", "followup-worker@.service"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_parses_and_runs_existing_followup_commands(unit):
    sections = _sections(unit)
    assert {"Unit", "Service", "Install"} <= set(sections)
    commands = [v for k, v in sections["Service"] if k in ("ExecStart", "ExecStartPre")]
    assert any(k == "ExecStart" for k, _ in sections["Service"])
    for command in commands:
        program, *args = shlex.split(command)
        assert program == INSTALLED
        # --help after the options: click refuses an unknown command or option before printing help.
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, f"{unit.name}: `followup {' '.join(args)}`: {result.output}"
    settings = dict(sections["Service"])
    assert settings["EnvironmentFile"] == "/etc/followup/followup.env"
    assert settings["KillSignal"] == "SIGTERM"  # what worker and serve stop gracefully on


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_itself_verifies_the_units(tmp_path):
    followup = Path(sys.executable).parent / "followup"  # this checkout's, in place of /opt/followup's
    paths = []
    for unit in UNITS:
        name = unit.name.replace("@.", "@1.")  # a template is verified as one of its instances
        copy = tmp_path / name
        copy.write_text(unit.read_text().replace(INSTALLED, str(followup)))
        paths.append(str(copy))
    done = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_example_environment_names_only_settings_followup_reads():
    source = (Path(__file__).resolve().parent.parent / "followup" / "config.py").read_text()
    for line in (DEPLOY / "followup.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name = line.split("=", 1)[0].removesuffix("_FILE")
            assert f'"{name}"' in source, f"{name} is not a setting"
