"""`followup simulate`: the whole system on a fake clock with scripted patients, deterministic."""

import json
import tempfile

from click.testing import CliRunner

from followup.cli import cli


def simulate(*args):
    result = CliRunner().invoke(cli, ["simulate", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_a_small_simulation_prints_a_transcript_where_each_scripted_patient_does_what_it_should():
    data = json.loads(simulate("--patients", "5", "--days", "6", "--seed", "3", "--json"))
    summary, transcript = data["summary"], "\n".join(data["transcript"])
    assert summary["behaviours"] == {
        "adherent": 1,
        "forgetful": 1,
        "worsening": 1,
        "red flag": 1,
        "opts out": 1,
    }
    assert summary["escalations"].get("E1") == 1  # the red-flag patient
    assert summary["patient_status"] == {"active": 4, "opted_out": 1}
    assert (
        summary["sent"]["optout"] == 1 and summary["sent"]["reminder"] > 0 and summary["sent"]["checkin"] > 0
    )
    assert "Call 911" in transcript and "← STOP" in transcript and "contact your doctor" in transcript


def run(seed: str) -> tuple:
    data = json.loads(simulate("--patients", "4", "--days", "4", "--seed", seed, "--json"))
    return data["summary"], data["transcript"]  # the temporary database's path differs, of course


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    first = run("11")
    assert run("11") == first
    assert run("12") != first


def test_a_larger_simulation_prints_a_summary_not_a_transcript():
    out = simulate("--patients", "12", "--days", "3", "--seed", "2")
    assert "patient 1 " not in out and "12 patients, 3 days, seed 2" in out and "sent:" in out


def test_a_simulation_leaves_nothing_in_the_temporary_folder(tmp_path, monkeypatch):
    # A temporary folder of its own: other test processes run simulations in the shared one.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = json.loads(simulate("--patients", "2", "--days", "2", "--json"))
    assert list(tmp_path.iterdir()) == [] and data["database"] is None
    assert "explore it" not in simulate("--patients", "2", "--days", "2")


def test_keep_keeps_the_database_to_explore(tmp_path):
    import os

    kept = tmp_path / "sim.db"
    data = json.loads(simulate("--patients", "2", "--days", "2", "--keep", str(kept), "--json"))
    assert (
        data["database"] == f"sqlite:///{kept}" and kept.exists() and (os.stat(kept).st_mode & 0o777) == 0o600
    )
    result = CliRunner().invoke(
        cli, ["--db", data["database"], "--now", "2026-12-03T12:00:00Z", "patients", "--json"]
    )
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 2


def test_the_summary_reads_as_text_not_python():
    out = simulate("--patients", "1", "--days", "1")
    summary = out.split("\n\n", 1)[1] if "\n\n" in out else out
    assert "1 patient, 1 day, seed 1" in out
    assert "{" not in summary and "'" not in summary
