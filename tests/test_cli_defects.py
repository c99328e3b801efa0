"""Defects found on the way (issue 16), each through the CLI."""

import json

import pytest


def test_enroll_json_names_the_programme(followup_sqlite):
    clinic = followup_sqlite.clinic()
    data = followup_sqlite.json(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        "Ana",
        "--phone",
        "+1 617 555 0123",
        "--timezone",
        "America/New_York",
        "--program",
        "upper-back",
        "--consent",
    )
    assert data["program"] == "upper-back"


@pytest.mark.parametrize("command", [["resume", "999"], ["pause", "999"], ["unenroll", "999"]])
def test_a_status_change_for_an_unknown_patient_is_one_line_and_exit_2(followup_sqlite, command):
    result = followup_sqlite(*command, expect=2)
    assert result.stderr.strip() == "error: patient: no patient with id 999"


@pytest.mark.parametrize(
    "args", [["report", "--out", "/missing/dir/x"], ["patient", "export", "1", "--out", "/missing/x"]]
)
def test_an_out_path_that_cannot_be_written_is_one_line_and_exit_2(followup_sqlite, args):
    followup_sqlite.enrol(followup_sqlite.clinic())
    result = followup_sqlite(*args, expect=2)
    assert len(result.stderr.strip().splitlines()) == 1 and "--out" in result.stderr


def test_tick_json_is_one_json_document_even_when_console_channels_print(followup_sqlite):
    followup_sqlite.enrol(followup_sqlite.clinic())
    result = followup_sqlite("tick", "--json")  # the opt-in confirmation goes out on the console channel
    data = json.loads(result.stdout)
    assert data["sent"] >= 1
    assert "NOT SENT: console channel" in result.stderr


def test_reply_from_a_national_number_finds_the_patient(followup_sqlite):
    patient = followup_sqlite.enrol(followup_sqlite.clinic())
    data = followup_sqlite.json("reply", "--from", "617 555 0123", "--body", "pain 3")
    assert data["patient_id"] == patient


def test_reply_from_a_national_number_tries_each_clinics_country(followup_sqlite):
    followup_sqlite.clinic()
    london = followup_sqlite.clinic(name="Thames Physio", phone="+44 20 7946 0000", timezone="Europe/London")
    patient = followup_sqlite.enrol(london, phone="+44 7400 123456", timezone="Europe/London")
    data = followup_sqlite.json("reply", "--from", "07400 123456", "--body", "pain 3")
    assert data["patient_id"] == patient


def _history(followup):
    patient = followup.enrol(followup.clinic())
    followup("tick")  # the confirmation goes out
    followup("reply", "--from", "+1 617 555 0123", "--body", "pain 3", now="2026-12-01T15:00:00Z")
    return patient


def test_messages_are_listed_in_time_order_with_replies_in_place(followup_sqlite):
    _history(followup_sqlite)
    listed = followup_sqlite.json("messages")
    times = [m["due_at"] or m["sent_at"] for m in listed]
    assert times == sorted(times)
    inbound = next(i for i, m in enumerate(listed) if m["direction"] == "in")
    assert listed[inbound]["sent_at"] == "2026-12-01T15:00:00Z"
    assert listed[-1]["direction"] == "out" and listed[-1]["status"] == "pending"  # not the reply, as before


def test_messages_limit_keeps_the_newest(followup_sqlite):
    _history(followup_sqlite)
    everything = followup_sqlite.json("messages")
    assert followup_sqlite.json("messages", "--limit", 2) == everything[-2:]


def test_messages_filter_by_channel(followup_sqlite):
    clinic = followup_sqlite.clinic()
    followup_sqlite.enrol(clinic, channel="both", email="ana@example.test")
    emails = followup_sqlite.json("messages", "--channel", "email")
    assert emails and {m["channel"] for m in emails} == {"email"}
    assert len(followup_sqlite.json("messages")) > len(emails)


@pytest.mark.parametrize(
    "args, named",
    [
        (["--status", "bogus"], "--status"),
        (["--kind", "bogus"], "--kind"),
        (["--channel", "pigeon"], "--channel"),
        (["--patient", "999"], "no patient with id 999"),
    ],
)
def test_messages_refuse_an_unknown_filter_with_exit_2(followup_sqlite, args, named):
    result = followup_sqlite("messages", *args, expect=2)
    assert named in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_legacy_fixed_offset_zone_is_refused_naming_the_field(followup_sqlite):
    clinic = followup_sqlite.clinic()
    result = followup_sqlite(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        "Ana",
        "--phone",
        "+1 617 555 0123",
        "--timezone",
        "EST",
        "--consent",
        expect=2,
    )
    assert "timezone: 'EST'" in result.stderr
    assert followup_sqlite.json("patients") == []


def test_the_quiet_hours_error_names_the_sending_window(followup_sqlite):
    clinic = followup_sqlite.clinic()
    result = followup_sqlite(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        "Ana",
        "--phone",
        "+1 617 555 0123",
        "--timezone",
        "America/New_York",
        "--reminder-times",
        "21:30",
        "--consent",
        expect=2,
    )
    assert "reminder_times: 21:30 is outside the sending window 08:00-21:00" in result.stderr


def test_enrolling_one_csv_row_says_one_patient_and_one_id(followup_sqlite, tmp_path):
    clinic = followup_sqlite.clinic()
    path = tmp_path / "one.csv"
    path.write_text("name,phone,timezone,consent\nAna,+1 617 555 0123,America/New_York,yes\n")
    out = followup_sqlite("enroll", "--clinic", clinic, "--csv", path).stdout
    assert out.strip() == "enrolled 1 patient (id 1)"


def test_weeks_is_typed_as_a_whole_number(followup_sqlite):
    result = followup_sqlite("enroll", "--help")
    assert "--weeks INTEGER" in result.stdout
    clinic = followup_sqlite.clinic()
    followup_sqlite(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        "Ana",
        "--phone",
        "+1 617 555 0123",
        "--timezone",
        "America/New_York",
        "--weeks",
        "six",
        "--consent",
        expect=2,
    )


def _commands(group, prefix=()):
    import click

    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_every_option_has_help_and_no_one_liner_is_cut_off(followup_sqlite):
    import click

    from followup.cli import cli

    missing, cut = [], []
    for path, command in _commands(cli):
        for param in command.params:
            if isinstance(param, click.Option) and not param.help and param.name != "help":
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    for path in [()] + [p for p, c in _commands(cli) if isinstance(c, click.Group)]:
        text = followup_sqlite(*path, "--help").stdout
        cut += [
            f"{' '.join(path)}: {line.strip()}"
            for line in text.splitlines()
            if line.rstrip().endswith("...") and not line.startswith("Usage:")
        ]
    assert missing == [] and cut == []


def _silent_both_patient(followup, days):
    patient = followup.enrol(followup.clinic(), channel="both", email="ana@example.test")
    seen = {}
    for (
        day
    ) in days:  # check-ins at 19:00 New York (00:00 UTC); each tick sends one, R1 looks at the day before
        followup("tick", now=f"2026-12-{day:02d}T00:00:10Z")
        seen[day] = (
            [m for m in followup.json("messages", "--kind", "nudge")],
            [e for e in followup.json("escalations") if e["rule"] == "R1"],
        )
    return patient, seen


def test_a_both_patient_is_nudged_once_per_channel_after_two_missed_check_ins_not_one(followup):
    patient, seen = _silent_both_patient(followup, (2, 3, 4))
    assert seen[3] == ([], [])  # one check-in missed (its SMS and its email): nothing yet
    nudges, reviews = seen[4]
    assert sorted(m["channel"] for m in nudges) == ["email", "sms"] and reviews == []
    sms, email = sorted(nudges, key=lambda m: m["channel"] != "sms")
    assert "STOP" in sms["body"] and email["body"]  # the email rendered from the email template...
    from sqlalchemy import create_engine, text

    engine = create_engine(followup.url)
    with engine.connect() as connection:
        subject = connection.execute(
            text("SELECT subject FROM message WHERE id = :id"), {"id": email["id"]}
        ).scalar()
    engine.dispose()
    assert subject  # ...and a subject


def test_a_both_patient_gets_the_review_after_three_missed_check_ins(followup):
    patient, seen = _silent_both_patient(followup, (2, 3, 4, 5))
    assert seen[4][1] == []
    assert [e["patient_id"] for e in seen[5][1]] == [patient]
    assert len(seen[5][0]) == 2  # still the one nudge, per channel


def test_report_counts_a_both_patients_reminder_and_check_in_once(followup):
    followup.enrol(followup.clinic(), channel="both", email="ana@example.test")
    followup("tick", now="2026-12-01T14:00:05Z")  # the day's reminder, by SMS and by email
    followup("reply", "--from", "+16175550123", "--body", "DONE", now="2026-12-01T15:00:00Z")
    followup("tick", now="2026-12-02T00:00:05Z")  # the check-in, by SMS and by email
    followup("reply", "--from", "+16175550123", "--body", "3 N", now="2026-12-02T00:30:00Z")
    report = json.loads(followup("report", "--format", "json").stdout)
    [row] = report["patients"]
    assert (row["reminders_sent"], row["adherence"], row["checkins_sent"], row["response_rate"]) == (
        1,
        1.0,
        1,
        1.0,
    )
    assert (report["clinic"]["adherence"], report["clinic"]["response_rate"]) == (1.0, 1.0)


def test_forget_removes_the_readings_quoted_in_escalation_reasons(followup_sqlite):
    patient = followup_sqlite.enrol(followup_sqlite.clinic())
    followup_sqlite("reply", "--from", "+16175550123", "--body", "pain 9")
    [before] = followup_sqlite.json("escalations")
    assert "9/10" in before["reason"]
    followup_sqlite("patient", "forget", patient, "--yes")
    [after] = followup_sqlite.json("escalations")
    assert after["reason"] == "severe pain" and (after["rule"], after["tier"]) == (
        before["rule"],
        before["tier"],
    )


@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_busy_port_is_one_line_and_exit_2(sqlite_url, command):
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FOLLOWUP_", "TWILIO_"))}
        done = subprocess.run(
            [str(Path(sys.executable).parent / "followup"), "--db", sqlite_url, command, "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: --port {port}: 127.0.0.1:{port} is already in use (another followup serve or run? "
        f"choose another with --port)"
    ]


def test_a_read_only_command_on_a_mistyped_sqlite_path_creates_nothing(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from followup.cli import cli

    monkeypatch.chdir(tmp_path)
    for url in (f"sqlite:///{tmp_path}/typo.db", "sqlite:////missing/dir/x.db"):
        result = CliRunner().invoke(cli, ["--db", url, "patients"])
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_the_readme_day_in_the_clinic_is_real_output(tmp_path, monkeypatch):
    """Every command of README's "A week in the clinic", run in a fresh directory, prints exactly what
    the README shows (stdout and stderr as a terminal shows them, console blocks included)."""
    import shlex
    from pathlib import Path

    from click.testing import CliRunner

    from followup import db
    from followup.cli import cli

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## A week in the clinic", 1)[1].split("```text\n", 1)[1].split("\n```", 1)[0]
    steps = [step.split("\n", 1) for step in section.split("$ followup ")[1:]]
    assert len(steps) > 10 and "--- console email to alerts@elm.example" in section
    monkeypatch.chdir(tmp_path)
    try:
        for command, shown in steps:
            result = CliRunner().invoke(cli, shlex.split(command))
            assert result.exit_code == 0, (command, result.output)
            assert result.output.rstrip("\n") == shown.rstrip("\n"), command
    finally:
        db.dispose("sqlite:///followup.db")


def test_the_service_log_has_no_python_reprs(caplog):
    import logging

    from followup import dispatch, service

    def dispatch_job():
        return dispatch.Report(sent=1, errors={"timeout": 2})

    def rules():
        return {"completed": 0, "nudged": 1}

    with caplog.at_level(logging.INFO, logger="followup.service"):
        service._logged(dispatch_job)()
        service._logged(rules)()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "dispatch_job: sent 1, failed 0, retrying 0, skipped 0, deferred 0, stale 0, errors timeout 2",
        "rules: completed 0, nudged 1",
    ]


def test_a_clinic_with_a_legacy_fixed_offset_zone_is_refused_naming_the_field(followup):
    result = followup(
        "clinic",
        "add",
        "--name",
        "Elm",
        "--phone",
        "+16175550100",
        "--timezone",
        "EST",
        "--alert-email",
        "a@elm.test",
        expect=2,
    )
    assert "timezone" in result.output and "legacy zone" in result.output
    assert followup.json("clinic", "list") == []
