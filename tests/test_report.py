"""`followup report`: adherence, response and pain trends, as table, CSV, JSON and one HTML file."""

import csv
import io
import json
import re
import shutil
import subprocess

import pytest

from followup import reports

PHONE = "+16175550123"


@pytest.fixture
def clinic_with_history(followup):
    clinic = followup.clinic()
    followup.enrol(clinic, name="<script>alert(1)</script> Ana")
    followup("tick", now="2026-12-01T14:00:05Z")  # reminder day 1
    followup("reply", "--from", PHONE, "--body", "DONE", now="2026-12-01T15:00:00Z")
    followup("tick", now="2026-12-02T00:00:05Z")  # check-in day 1
    followup("reply", "--from", PHONE, "--body", "5 N", now="2026-12-02T00:30:00Z")
    followup("tick", now="2026-12-02T14:00:05Z")  # reminder day 2, not done
    followup("tick", now="2026-12-03T00:00:05Z")  # check-in day 2
    followup("reply", "--from", PHONE, "--body", "pain 8, numb yes", now="2026-12-03T00:20:00Z")
    followup("escalations", "ack", "1", "--by", "Dr Lee", now="2026-12-03T01:20:00Z")
    return followup


def test_json_gives_adherence_response_rate_pain_trend_and_escalations(clinic_with_history):
    report = json.loads(clinic_with_history("report", "--format", "json").stdout)
    [patient] = report["patients"]
    assert (patient["reminders_sent"], patient["done_replies"], patient["adherence"]) == (2, 1, 0.5)
    assert (patient["checkins_sent"], patient["checkins_answered"], patient["response_rate"]) == (2, 2, 1.0)
    assert [(d["date"], d["pain"], d["numbness"]) for d in patient["pain_trend"]] == [
        ("2026-12-01", 5, False),
        ("2026-12-02", 8, True),
    ]
    assert report["clinic"]["escalations_by_tier"] == {"urgent": 1}
    assert report["clinic"]["median_minutes_to_acknowledge"] == 60.0


def test_csv_has_one_row_per_patient(clinic_with_history):
    rows = list(csv.DictReader(io.StringIO(clinic_with_history("report", "--format", "csv").stdout)))
    assert len(rows) == 1 and rows[0]["adherence"] == "0.5" and rows[0]["escalations"] == "urgent:1"


def test_the_table_summarises_the_clinic_first(clinic_with_history):
    text = clinic_with_history("report").stdout
    assert text.startswith("1 patient; reminder adherence 50%; check-in response 100%")
    assert "{" not in text.splitlines()[0]  # no Python dict repr


def test_html_is_one_self_contained_file_with_a_chart_per_patient_and_names_escaped(
    clinic_with_history, tmp_path
):
    out = tmp_path / "report.html"
    clinic_with_history("report", "--format", "html", "--out", out)
    html = out.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert not re.search(r"(src|href)=\"https?:", html)  # nothing fetched from the network
    assert html.count('aria-label="pain trend of patient') == 1 and "<polyline" in html


def test_an_unknown_clinic_or_patient_is_bad_input(followup_sqlite):
    assert "no clinic with id 4" in followup_sqlite("report", "--clinic", "4", expect=2).stderr
    assert "no patient with id 4" in followup_sqlite("report", "--patient", "4", expect=2).stderr


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed")
def test_headless_chromium_renders_the_html_report(clinic_with_history, tmp_path):
    out, shot = tmp_path / "report.html", tmp_path / "report.png"
    clinic_with_history("report", "--format", "html", "--out", out)
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1000,800",
            f"--screenshot={shot}",
            out.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000  # a real page, not a blank one


def test_the_html_report_gives_the_time_to_acknowledge_in_a_unit_a_person_reads():
    report = {
        "generated_at": "2026-12-03T00:00:00Z",
        "clinic_id": None,
        "patient_id": None,
        "patients": [],
        "clinic": {
            "patients": 0,
            "adherence": None,
            "response_rate": None,
            "escalations_by_tier": {},
            "open_escalations": 0,
            "median_minutes_to_acknowledge": 3034.9,
        },
    }
    html = reports.as_html(report)
    assert "2.1 days" in html and "3034.9" not in html
