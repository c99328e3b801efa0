"""Enrolling one patient from the CLI, and every way it can be refused."""

import html

import pytest


def test_enrolling_a_patient_prints_the_id_and_stores_a_normalised_profile(followup):
    clinic = followup.clinic()
    patient_id = followup.enrol(clinic, phone="(617) 555-0123")

    [patient] = followup.json("patients")
    assert patient["id"] == patient_id
    assert patient["phone"] == "+16175550123"  # national form, region taken from the clinic's phone
    assert patient["status"] == "active"
    assert (patient["channel"], patient["language"], patient["program"]) == ("sms", "en", "upper-back")
    enrolment = followup.json("patient", "show", patient_id)["enrolment"]
    assert enrolment == {
        "start": "2026-12-01",
        "weeks": 6,
        "reminder_times": ["09:00"],
        "checkin_time": "19:00",
        "checkin_every_days": 1,
    }


def test_enrolment_queues_an_opt_in_confirmation_and_plans_the_next_two_days(followup):
    patient_id = followup.enrol(followup.clinic())
    outgoing = followup.json("messages", "--patient", patient_id)
    kinds = [(m["kind"], m["due_at"]) for m in outgoing]
    assert kinds[0] == ("confirmation", "2026-12-01T14:00:00Z")
    assert ("reminder", "2026-12-02T14:00:00Z") in kinds  # 09:00 EST
    assert ("checkin", "2026-12-02T00:00:00Z") in kinds  # 19:00 EST on the 1st
    assert "STOP" in outgoing[0]["body"] and "HELP" in outgoing[0]["body"]


def test_reminders_name_each_exercise_with_its_dosage(followup):
    patient_id = followup.enrol(followup.clinic())
    reminder = next(m for m in followup.json("messages", "--patient", patient_id) if m["kind"] == "reminder")
    assert "Prone head lift: hold 5 s, rest 5 s, up to 10 times a day" in reminder["body"]
    assert "Scapular retraction: hold 10 s, 5 reps, 2 sets a day" in reminder["body"]


@pytest.mark.parametrize(
    "option, value, named",
    [
        ("phone", "555", "phone"),
        ("phone", "+1 617 555 01234567", "phone"),
        ("phone", "not a number", "phone"),
        ("timezone", "Mars/Olympus_Mons", "timezone"),
        ("timezone", "EST5", "timezone"),
        ("reminder-times", "9am", "reminder_times"),
        ("reminder-times", "09:00,24:00", "reminder_times"),
        ("reminder-times", "07:30", "outside the sending window 08:00-21:00"),
        ("checkin-time", "22:00", "outside the sending window 08:00-21:00"),
        ("program", "lower-back", "program"),
        ("channel", "pigeon", "channel"),
        ("channel", "email", "email: required"),
        ("email", "ana@", "email"),
        ("language", "fr", "language"),
        ("weeks", "0", "weeks"),
        ("checkin-every-days", "often", "checkin-every-days"),
        ("timezone", "EST", "timezone"),
        ("start", "2026-13-01", "start"),
        ("start", "2025-01-01", "already ended"),
    ],
)
def test_bad_input_is_refused_with_exit_2_naming_the_field_and_changes_nothing(
    followup_sqlite, option, value, named
):
    followup = followup_sqlite
    clinic = followup.clinic()
    result = followup(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        "Ana",
        "--phone",
        "+1 617 555 0123",
        "--timezone",
        "America/New_York",
        f"--{option}",
        value,
        "--consent",
        expect=2,
    )
    assert named in result.stderr
    assert followup.json("patients") == []
    assert followup.json("messages") == []


def test_enrolment_without_express_consent_is_refused(followup):
    clinic = followup.clinic()
    result = followup(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        "Ana",
        "--phone",
        "+1 617 555 0123",
        "--timezone",
        "America/New_York",
        expect=2,
    )
    assert "consent: express consent is required" in result.stderr
    assert followup.json("patients") == []


def test_the_same_phone_cannot_be_enrolled_twice_at_one_clinic(followup):
    clinic = followup.clinic()
    first = followup.enrol(clinic)
    result = followup(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        "Someone Else",
        "--phone",
        "+16175550123",
        "--timezone",
        "America/New_York",
        "--consent",
        expect=2,
    )
    assert f"already enrolled at this clinic (patient {first})" in result.stderr
    assert len(followup.json("patients")) == 1


def test_an_unknown_clinic_is_bad_input(followup_sqlite):
    result = followup_sqlite(
        "enroll",
        "--clinic",
        99,
        "--name",
        "A",
        "--phone",
        "+16175550123",
        "--timezone",
        "America/New_York",
        "--consent",
        expect=2,
    )
    assert "no clinic with id 99" in result.stderr


def test_every_problem_is_listed_at_once(followup_sqlite):
    clinic = followup_sqlite.clinic()
    result = followup_sqlite(
        "enroll", "--clinic", clinic, "--name", "A", "--phone", "12", "--timezone", "Nowhere", expect=2
    )
    for field in ("phone", "timezone", "consent"):
        assert f"  {field}:" in result.stderr


def test_pause_cancels_pending_reminders_and_resume_plans_them_again(followup):
    patient_id = followup.enrol(followup.clinic())
    followup("pause", patient_id, "--reason", "on holiday")
    statuses = {(m["kind"], m["status"]) for m in followup.json("messages", "--patient", patient_id)}
    assert ("reminder", "pending") not in statuses and ("reminder", "cancelled") in statuses
    assert followup.json("patients")[0]["status"] == "paused"

    followup("resume", patient_id, now="2026-12-02T15:00:00Z")
    pending = [
        m
        for m in followup.json("messages", "--patient", patient_id, "--status", "pending")
        if m["kind"] == "reminder"
    ]
    assert [m["due_at"] for m in pending] == ["2026-12-03T14:00:00Z", "2026-12-04T14:00:00Z"]


def test_unenrolling_cancels_everything_pending_for_the_patient(followup):
    patient_id = followup.enrol(followup.clinic())
    followup("unenroll", patient_id)
    assert followup.json("messages", "--patient", patient_id, "--status", "pending") == []
    assert followup.json("patients", "--status", "unenrolled")[0]["id"] == patient_id


def test_a_clinician_cannot_resume_a_patient_who_opted_out(followup_sqlite):
    followup = followup_sqlite
    patient_id = followup.enrol(followup.clinic())
    followup("unenroll", patient_id)
    result = followup("resume", patient_id, expect=2)
    assert "unenrolled" in result.stderr


def test_clinic_add_refuses_a_bad_phone_zone_and_window(followup_sqlite):
    result = followup_sqlite(
        "clinic",
        "add",
        "--name",
        "X",
        "--phone",
        "617",
        "--timezone",
        "Nowhere/Land",
        "--quiet-start",
        "21:00",
        "--quiet-end",
        "21:00",
        expect=2,
    )
    assert "phone:" in result.stderr and "timezone:" in result.stderr
    assert followup_sqlite.json("clinic", "list") == []


def test_clinic_list_shows_the_sending_window(followup_sqlite):
    followup_sqlite.clinic(**{"quiet-start": "09:00", "quiet-end": "20:00"})
    [clinic] = followup_sqlite.json("clinic", "list")
    assert (clinic["quiet_start"], clinic["quiet_end"], clinic["phone"]) == ("09:00", "20:00", "+16175550100")


def test_programs_show_lists_the_upper_back_exercises_with_dosage(followup_sqlite):
    text = followup_sqlite("programs", "show", "upper-back").stdout
    assert "Prone head lift: hold 5 s, rest 5 s, up to 10 times a day" in text
    assert "Scapular retraction: hold 10 s, 5 reps, 2 sets a day" in text
    assert [p["key"] for p in followup_sqlite.json("programs")] == ["upper-back"]
    assert "unknown programme" in followup_sqlite("programs", "show", "nope", expect=2).stderr


def test_listing_commands_print_only_json_under_json(followup_sqlite):
    followup_sqlite.enrol(followup_sqlite.clinic())
    for command in (["patients"], ["clinic", "list"], ["messages"], ["programs"], ["patient", "show", "1"]):
        result = followup_sqlite(*command, "--json")
        import json

        json.loads(result.stdout)


def test_a_patients_full_record_can_be_exported_as_json(followup, tmp_path):
    patient = followup.enrol(followup.clinic())
    followup("reply", "--from", "+16175550123", "--body", "pain 8", now="2026-12-01T20:00:00Z")
    out = tmp_path / "record.json"
    followup("patient", "export", patient, "--out", out)
    import json

    record = json.loads(out.read_text())
    assert record["patient"]["phone"] == "+16175550123"
    assert [c["action"] for c in record["consent"]] == ["granted"]
    assert {m["kind"] for m in record["messages"]} >= {
        "confirmation",
        "reminder",
        "reply",
        "escalation",
        "alert",
    }
    assert record["readings"][0]["pain"] == 8 and record["escalations"][0]["rule"] == "U3"
    assert any(e["action"] == "patient.enrol" for e in record["audit"])


def test_forgetting_a_patient_erases_personal_data_and_keeps_anonymised_counts(followup):
    patient = followup.enrol(followup.clinic())
    followup(
        "reply", "--from", "+16175550123", "--body", "still numb in my left arm", now="2026-12-01T20:00:00Z"
    )
    assert "cannot be undone: add --yes" in followup("patient", "forget", patient, expect=2).stderr
    assert followup.json("patients")[0]["name"] == "Ana Diaz"  # nothing happened without --yes

    assert "messages deleted, counts kept" in followup("patient", "forget", patient, "--yes").stdout
    record = followup.json("patient", "show", patient)
    assert (record["name"], record["email"], record["status"]) == ("(forgotten)", None, "unenrolled")
    assert "6175550123" not in record["phone"]
    assert record["messages"] == [] and record["readings"] == []
    assert [e["rule"] for e in record["escalations"]] == ["S3"]  # kept, with no patient text
    assert followup.json("messages", "--patient", patient) == []
    # The same number can be enrolled again as a new patient.
    followup.enrol(1)
    assert "already forgotten" in followup("patient", "forget", patient, "--yes", expect=2).stderr


@pytest.mark.parametrize(
    "name",
    [
        "Robert'); DROP TABLE patient;--",
        "{{7*7}} {% if 1 %}x{% endif %}",
        "Zoë 😀 O'Brien-Müller",
        "<script>alert(1)</script>",
        "x" * 200,
    ],
)
def test_hostile_or_unusual_names_are_stored_and_shown_exactly_as_typed(followup, name):
    clinic = followup.clinic()
    patient = followup.enrol(clinic, name=name)
    assert followup.json("patient", "show", str(patient))["name"] == name
    assert [p["name"] for p in followup.json("patients")] == [name]  # and the table is still there
    report = followup("report", "--format", "html").stdout
    assert name in html.unescape(report) and "<script>alert" not in report  # text, never markup


@pytest.mark.parametrize(
    "name, problem", [("x" * 201, "longer than 200"), ("Ana\x1b[2J", "contains control characters")]
)
def test_an_overlong_name_or_one_with_control_characters_is_refused(followup_sqlite, name, problem):
    clinic = followup_sqlite.clinic()
    result = followup_sqlite(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        name,
        "--phone",
        "+1 617 555 0123",
        "--timezone",
        "America/New_York",
        "--consent",
        expect=2,
    )
    assert f"name: {problem}" in result.stderr
    assert followup_sqlite.json("patients") == []
