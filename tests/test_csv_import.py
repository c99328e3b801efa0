"""Bulk enrolment from CSV: all rows valid or nothing imported, every bad row named."""

HEADER = (
    "name,phone,email,channel,timezone,program,start,reminder_times,checkin_time,checkin_every_days,weeks,"
    "language,consent\n"
)


def write(tmp_path, text: str, name="patients.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_csv_enrols_every_row(followup, tmp_path):
    clinic = followup.clinic()
    path = write(
        tmp_path,
        HEADER
        + "Ana Diaz,617 555 0123,,sms,America/New_York,,,09:00;13:00,19:00,,6,en,yes\n"
        + "Bea Ruiz,+1 212 555 1234,bea@example.org,both,America/Chicago,upper-back,2026-12-02,"
        + "10:00 14:00,18:30,2,4,es,TRUE\n",
    )
    result = followup("enroll", "--clinic", clinic, "--csv", path)
    assert "enrolled 2 patients" in result.stdout
    ana, bea = followup.json("patients")
    assert ana["enrolment"]["reminder_times"] == ["09:00", "13:00"]
    assert (bea["channel"], bea["language"], bea["enrolment"]["checkin_every_days"]) == ("both", "es", 2)


def test_only_the_required_columns_are_needed(followup_sqlite, tmp_path):
    clinic = followup_sqlite.clinic()
    path = write(tmp_path, "name,phone,timezone,consent\nAna,6175550123,America/New_York,1\n")
    followup_sqlite("enroll", "--clinic", clinic, "--csv", path)
    assert followup_sqlite.json("patients")[0]["enrolment"]["reminder_times"] == ["09:00"]


def test_one_bad_row_imports_nothing_and_every_bad_row_is_listed_with_its_number(followup, tmp_path):
    clinic = followup.clinic()
    path = write(
        tmp_path,
        HEADER
        + "Ana Diaz,617 555 0123,,,America/New_York,,,,,,,,yes\n"
        + "Bad Phone,12345,,,America/New_York,,,,,,,,yes\n"
        + "Cy Lee,617 555 0124,,,America/New_York,,,,,,,,yes\n"
        + "No Consent,617 555 0125,,,America/New_York,,,,,,,,no\n"
        + "Bad Zone,617 555 0126,,,Moon/Base,,,,,,,,yes\n",
    )
    result = followup("enroll", "--clinic", clinic, "--csv", path, expect=2)
    assert "row 3: phone:" in result.stderr
    assert "row 5: consent:" in result.stderr
    assert "row 6: timezone:" in result.stderr
    assert "row 2" not in result.stderr and "row 4" not in result.stderr
    assert followup.json("patients") == []
    assert followup.json("messages") == []


def test_a_phone_twice_in_one_file_or_already_enrolled_is_a_bad_row(followup_sqlite, tmp_path):
    clinic = followup_sqlite.clinic()
    followup_sqlite.enrol(clinic, phone="+16175550199")
    path = write(
        tmp_path,
        "name,phone,timezone,consent\n"
        "A,617 555 0123,America/New_York,yes\nB,+16175550123,America/New_York,yes\n"
        "C,617-555-0199,America/New_York,yes\n",
    )
    result = followup_sqlite("enroll", "--clinic", clinic, "--csv", path, expect=2)
    assert "row 3: phone: +16175550123 appears twice (also row 2)" in result.stderr
    assert "row 4: phone: +16175550199 is already enrolled" in result.stderr
    assert len(followup_sqlite.json("patients")) == 1


def test_a_header_with_an_unknown_or_missing_column_is_refused(followup_sqlite, tmp_path):
    clinic = followup_sqlite.clinic()
    path = write(tmp_path, "name,phone,reminder_time,consent\nA,6175550123,09:00,yes\n")
    result = followup_sqlite("enroll", "--clinic", clinic, "--csv", path, expect=2)
    assert "unknown column 'reminder_time'" in result.stderr
    assert "missing column 'timezone'" in result.stderr


def test_a_file_that_is_not_utf8_is_refused_with_its_line(followup_sqlite, tmp_path):
    clinic = followup_sqlite.clinic()
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,phone,timezone,consent\nJosé,6175550123,America/New_York,yes\n".encode("latin-1"))
    result = followup_sqlite("enroll", "--clinic", clinic, "--csv", path, expect=2)
    assert "not UTF-8" in result.stderr and "line 2" in result.stderr


def test_an_excel_byte_order_mark_and_blank_lines_are_fine(followup_sqlite, tmp_path):
    clinic = followup_sqlite.clinic()
    path = tmp_path / "excel.csv"
    path.write_bytes(
        b"\xef\xbb\xbfname,phone,timezone,consent\r\nJos\xc3\xa9,6175550123,America/New_York,yes\r\n\r\n"
    )
    followup_sqlite("enroll", "--clinic", clinic, "--csv", path)
    assert followup_sqlite.json("patients")[0]["name"] == "José"


def test_empty_files_missing_files_and_extra_values_are_refused(followup_sqlite, tmp_path):
    clinic = followup_sqlite.clinic()
    assert (
        "empty"
        in followup_sqlite("enroll", "--clinic", clinic, "--csv", write(tmp_path, ""), expect=2).stderr
    )
    assert (
        "no patients"
        in followup_sqlite(
            "enroll", "--clinic", clinic, "--csv", write(tmp_path, "name,phone,timezone,consent\n"), expect=2
        ).stderr
    )
    assert (
        "cannot read"
        in followup_sqlite("enroll", "--clinic", clinic, "--csv", tmp_path / "nope.csv", expect=2).stderr
    )
    extra = write(tmp_path, "name,phone,timezone,consent\nA,6175550123,America/New_York,yes,surprise\n")
    assert (
        "row 2: more values than columns"
        in followup_sqlite("enroll", "--clinic", clinic, "--csv", extra, expect=2).stderr
    )


def test_csv_and_single_patient_options_do_not_mix(followup_sqlite, tmp_path):
    clinic = followup_sqlite.clinic()
    path = write(tmp_path, "name,phone,timezone,consent\nA,6175550123,America/New_York,yes\n")
    result = followup_sqlite("enroll", "--clinic", clinic, "--csv", path, "--name", "B", expect=2)
    assert "--name" in result.stderr
