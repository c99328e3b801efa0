"""Clinic operations (issue 16), through the CLI on a real database, with the shipped fake Twilio,
a real SMTP server on loopback and a real uvicorn where messages or requests leave the process."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from channel_fixtures import LiveServer, message_sid, signed_post, smtp_env, twilio_env
from sqlalchemy import text

from followup import clock, config
from followup.db import engine_for

ALERT_PHONE = "+16175550199"
SECRET = "a-test-secret-of-enough-length"


def _sent_bodies(fake, to: str) -> list[str]:
    return [r.body for r in fake.requests if r.to == to and r.answered == 201]


def _sql(url: str, statement: str, **params):
    with engine_for(url).begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else None


# --- 1. message send ---------------------------------------------------------------------------------


def test_a_staff_message_waits_for_the_sending_window_then_goes_out_through_twilio(
    followup_sqlite, fake_twilio
):
    f = followup_sqlite
    f.env = twilio_env(fake_twilio)
    patient = f.enrol(f.clinic())
    f("tick")  # the confirmation and the 09:00 reminder
    late = "2026-12-02T02:30:00Z"  # 21:30 in New York: quiet hours
    queued = f.json("message", "send", patient, "--body", "Hi Ana, how are the exercises going?", now=late)
    assert [(m["kind"], m["channel"], m["status"]) for m in queued] == [("staff", "sms", "pending")]
    f("tick", now=late)
    assert not any("how are the exercises" in b for b in _sent_bodies(fake_twilio, "+16175550123"))
    f("tick", now="2026-12-02T13:00:30Z")  # 08:00 in New York: the window opens
    assert "Elm Street Physio: Hi Ana, how are the exercises going?" in _sent_bodies(
        fake_twilio, "+16175550123"
    )
    assert f.json("messages", "--kind", "staff")[0]["status"] == "sent"


def test_a_reply_to_a_staff_message_goes_to_review(followup_sqlite):
    f = followup_sqlite
    patient = f.enrol(f.clinic())
    f("message", "send", patient, "--body", "Can you come in on Thursday?")
    f("tick")
    answer = f.json("reply", "--from", "+16175550123", "--body", "yes that works", now="2026-12-01T15:00:00Z")
    assert "The clinic will read your message" in answer["reply"]
    [review] = f.json("escalations")
    assert (review["rule"], review["tier"]) == ("REVIEW", "routine")
    assert review["reason"] == "a reply to a message from the clinic's staff"


@pytest.mark.parametrize("at, to_review", [("2026-12-07T15:00:00Z", True), ("2026-12-09T15:00:00Z", False)])
def test_a_reply_goes_to_review_only_within_a_week_of_the_staff_message(followup_sqlite, at, to_review):
    """The sender lookup reads the latest prompt of the last 60 days; the staff window is a week."""
    f = followup_sqlite
    patient = f.enrol(f.clinic())
    f("message", "send", patient, "--body", "Can you come in on Thursday?")
    f("tick")
    answer = f.json("reply", "--from", "+16175550123", "--body", "yes that works", now=at)
    assert ("The clinic will read your message" in answer["reply"]) is to_review
    reasons = [e["reason"] for e in f.json("escalations")]
    assert ("a reply to a message from the clinic's staff" in reasons) is to_review


@pytest.mark.parametrize(
    "body, problem",
    [("   ", "body: the message is empty"), ("x" * 1601, "body: 1601 characters; at most 1600")],
)
def test_a_staff_message_with_a_bad_body_is_one_line_and_exit_2(followup_sqlite, body, problem):
    patient = followup_sqlite.enrol(followup_sqlite.clinic())
    result = followup_sqlite("message", "send", patient, "--body", body, expect=2)
    assert result.stderr.strip() == f"error: {problem}"
    assert followup_sqlite.json("messages", "--kind", "staff") == []


def test_a_staff_message_to_a_patient_who_opted_out_is_refused_and_nothing_is_queued(followup_sqlite):
    f = followup_sqlite
    patient = f.enrol(f.clinic())
    f("reply", "--from", "+16175550123", "--body", "STOP")
    result = f("message", "send", patient, "--body", "Please call us", expect=2)
    assert "opted out" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert f.json("messages", "--kind", "staff") == []


# --- 2. alerts that reach someone ------------------------------------------------------------------


def test_a_clinic_without_any_alert_route_is_refused_in_one_line(followup_sqlite):
    result = followup_sqlite(
        "clinic",
        "add",
        "--name",
        "Elm",
        "--phone",
        "+16175550100",
        "--timezone",
        "America/New_York",
        expect=2,
    )
    assert len(result.stderr.strip().splitlines()) == 1 and "alert route" in result.stderr
    assert followup_sqlite.json("clinic", "list") == []


def test_the_patient_hears_the_clinic_has_been_told_only_when_an_alert_was_queued(followup_sqlite):
    f = followup_sqlite
    routed = f.clinic()
    f.enrol(routed)
    told = f.json("reply", "--from", "+16175550123", "--body", "3 Y")["reply"]
    assert "contact your doctor" in told and "The clinic has been told" in told
    # A clinic from before migration 0011, with no route at all.
    legacy = f.clinic(name="Old Physio", phone="+16175550300")
    _sql(f.url, "UPDATE clinic SET alert_email = NULL, alert_phone = NULL WHERE id = :id", id=legacy)
    f.enrol(legacy, phone="+16175550124")
    untold = f.json("reply", "--from", "+16175550124", "--body", "3 Y")
    assert "contact your doctor" in untold["reply"] and "has been told" not in untold["reply"]
    [escalation] = f.json("escalations", "--patient", untold["patient_id"])
    assert escalation["alerts"] == [] and escalation["alert"] == "none"
    listed = {c["name"]: c["alert_routes"] for c in f.json("clinic", "list")}
    assert listed == {"Elm Street Physio": ["email", "phone"], "Old Physio": []}
    assert "NONE (clinic update ID --alert-…)" in f("clinic", "list").stdout


def test_an_alert_text_to_an_unreachable_handset_falls_back_to_email(
    followup_sqlite, fake_twilio, smtp_server
):
    f = followup_sqlite
    f.env = {**twilio_env(fake_twilio), **smtp_env(smtp_server)}
    fake_twilio.by_recipient[ALERT_PHONE] = 30003
    f.enrol(f.clinic())
    f("reply", "--from", "+16175550123", "--body", "pain 8")
    f("tick")
    subjects = [m["Subject"] for to, m in smtp_server.messages if to == ["alerts@elm.test"]]
    assert len(subjects) == 2 and sum("(the text alert failed)" in s for s in subjects) == 1
    fallback = [m for to, m in smtp_server.messages if "failed" in m["Subject"]][0]
    assert (
        "could not be delivered (30003: unreachable handset)" in fallback.get_body(("plain",)).get_content()
    )
    [escalation] = f.json("escalations")
    assert [(a["channel"], a["as"], a["status"]) for a in escalation["alerts"]] == [
        ("email", "first", "sent"),
        ("sms", "first", "pending"),  # still retried: the handset may come back
        ("email", "fallback", "sent"),
    ]
    assert escalation["alerts"][1]["error"].startswith("30003")


def test_an_alert_email_refused_for_good_falls_back_to_a_text(followup_sqlite, fake_twilio, smtp_server):
    f = followup_sqlite
    f.env = {**twilio_env(fake_twilio), **smtp_env(smtp_server)}
    f.enrol(f.clinic(**{"alert-email": "on-call@refused.test"}))
    f("reply", "--from", "+16175550123", "--body", "pain 8")
    f("tick")  # texts go out before emails: the fallback text goes with the next run
    f("tick", now="2026-12-01T14:01:00Z")
    texts = _sent_bodies(fake_twilio, ALERT_PHONE)
    assert len(texts) == 2 and "(The email alert to on-call@refused.test failed: 550" in texts[1]
    [escalation] = f.json("escalations")
    assert escalation["alert"] == "email failed, sms sent, sms sent (fallback)"


def test_an_alert_text_reported_undelivered_by_twilio_falls_back_to_email(
    followup_sqlite, fake_twilio, smtp_server
):
    """Twilio accepts the send, then reports 30003 on the status callback: through a real serve."""
    f = followup_sqlite
    f.env = {**twilio_env(fake_twilio), **smtp_env(smtp_server)}
    f.enrol(f.clinic())
    f("reply", "--from", "+16175550123", "--body", "pain 8")
    f("tick")
    [sms] = [m for m in f.json("messages", "--kind", "alert") if m["channel"] == "sms"]
    settings = config.load({"FOLLOWUP_DATABASE_URL": f.url, **twilio_env(fake_twilio)})
    with LiveServer(settings) as server:
        form = {"MessageSid": sms["provider_id"], "MessageStatus": "undelivered", "ErrorCode": "30003"}
        answer = signed_post(server, "/twilio/status", form, fake_twilio.auth_token, settings.public_url)
        assert answer.status_code == 204
    f("tick", now="2026-12-01T14:01:00Z")
    assert sum("(the text alert failed)" in m["Subject"] for _, m in smtp_server.messages) == 1
    [escalation] = f.json("escalations")
    assert escalation["alert"] == "email sent, sms failed, email sent (fallback)"


def test_an_alert_text_that_never_gets_out_falls_back_to_email_at_its_deadline(
    followup_sqlite, fake_twilio, smtp_server
):
    f = followup_sqlite
    f.env = {**twilio_env(fake_twilio), **smtp_env(smtp_server)}
    f.enrol(f.clinic())
    f("reply", "--from", "+16175550123", "--body", "pain 8")
    fake_twilio.outage = 20500  # Twilio answers 500 for two days: retried, never sent
    f("tick")
    f("tick", now="2026-12-03T14:01:00Z")  # past the alert's 48 h deadline
    [escalation] = f.json("escalations", now="2026-12-03T14:01:00Z")
    # (and the unacknowledged urgent alert's re-alert text, still queued behind the outage)
    assert escalation["alert"] == "email sent, sms skipped, email sent (fallback), sms pending (again)"
    assert escalation["alerts"][1]["error"].startswith("stale: not sent within its grace")
    fallback = [m for _, m in smtp_server.messages if "(the text alert failed)" in m["Subject"]]
    assert "not sent within 48 h (20500" in fallback[0].get_body(("plain",)).get_content()


# --- 3. acknowledging where the alert lands --------------------------------------------------------


def _server_settings(f, fake):
    env = {"FOLLOWUP_DATABASE_URL": f.url, **twilio_env(fake), "FOLLOWUP_ACK_SECRET": SECRET}
    return config.load(env)


def test_ack_n_texted_from_the_alert_phone_acknowledges_through_the_webhook(followup, fake_twilio):
    f = followup
    clinic = f.clinic()
    f.enrol(clinic)
    f("reply", "--from", "+16175550123", "--body", "pain 8")
    other = f.clinic(name="Oak Physio", phone="+16175550400", **{"alert-phone": "+16175550499"})
    f.enrol(other, phone="+16175550125")
    f("reply", "--from", "+16175550125", "--body", "pain 8")  # escalation 2, Oak's
    settings = _server_settings(f, fake_twilio)
    clock.pin("2026-12-01T14:07:00Z")
    with LiveServer(settings) as server:

        def text_in(body: str, n: int) -> str:
            form = {
                "From": ALERT_PHONE,
                "To": "+16175550100",
                "Body": body,
                "MessageSid": message_sid(f"ack{n}"),
            }
            answer = signed_post(server, "/twilio/sms", form, fake_twilio.auth_token, settings.public_url)
            assert answer.status_code == 200
            return re.sub(r"<[^>]+>", "", answer.text)

        assert "escalation 1 (urgent, rule U3) acknowledged by +16175550199" in text_in("ack 1", 1)
        assert "already acknowledged by +16175550199 (SMS)" in text_in("ACK 1", 2)
        assert "there is no escalation 99" in text_in("ACK 99", 3)
        assert "escalation 2 is not one of Elm Street Physio's" in text_in("ACK 2", 4)
    first, second = f.json("escalations")
    assert (first["acknowledged_by"], first["acknowledged_at"]) == (
        "+16175550199 (SMS)",
        "2026-12-01T14:07:00Z",
    )
    assert second["acknowledged_at"] is None
    report = json.loads(f("report", "--format", "json").stdout)
    assert report["clinic"]["median_minutes_to_acknowledge"] == 7.0


def test_the_alert_email_link_shows_then_acknowledges_one_escalation(
    followup_sqlite, fake_twilio, smtp_server
):
    f = followup_sqlite
    settings = _server_settings(f, fake_twilio)
    f.env = {
        **smtp_env(smtp_server),
        "FOLLOWUP_ACK_SECRET": SECRET,
        "FOLLOWUP_PUBLIC_URL": "https://followup.example",
    }
    f.enrol(f.clinic())
    f("reply", "--from", "+16175550123", "--body", "pain 8")
    f.enrol(f.clinic(name="Oak Physio", phone="+16175550400"), phone="+16175550125")
    f("reply", "--from", "+16175550125", "--body", "pain 8")
    f("tick")
    [first_alert] = [m for to, m in smtp_server.messages if m["Subject"].endswith("#1")]
    body = first_alert.get_body(("plain",)).get_content()
    path = re.search(r"https://followup\.example(/ack/\S+)", body).group(1)
    with LiveServer(settings) as server:
        clock.pin("2026-12-01T14:30:00Z")
        page = httpx.get(server.url + path)
        assert page.status_code == 200
        assert "Escalation 1: urgent, rule U3" in page.text and "<button" in page.text
        assert "Ana" not in page.text and "0123" not in page.text  # nothing of the patient's
        done = httpx.post(server.url + path, data={"by": "Dr Lee"})
        assert done.status_code == 200 and "acknowledged" in done.text
        assert httpx.post(server.url + path, data={"by": "Dr Lee"}).status_code == 409
        forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        assert httpx.get(server.url + forged).status_code == 403
        clock.pin("2026-12-08T14:01:00Z")  # 7 days and a minute after the alert
        expired = httpx.get(server.url + path)
        assert expired.status_code == 410 and "expired" in expired.text and "ACK 1" in expired.text
    first, second = f.json("escalations")
    assert first["acknowledged_by"] == "Dr Lee (alerts@elm.test, email link)"
    assert first["acknowledged_at"] == "2026-12-01T14:30:00Z"
    assert second["acknowledged_at"] is None  # the token names one escalation


def test_a_too_short_ack_secret_is_a_one_line_configuration_error(followup_sqlite):
    result = followup_sqlite("clinic", "list", env={"FOLLOWUP_ACK_SECRET": "short"}, expect=2)
    assert result.stderr.strip().startswith("error: FOLLOWUP_ACK_SECRET must be at least 16")


# --- 4. patient update and clinic update -----------------------------------------------------------


def test_patient_update_plans_pending_messages_again_and_leaves_sent_ones(followup_sqlite):
    f = followup_sqlite
    patient = f.enrol(f.clinic())
    f("tick")  # 14:00Z: the confirmation and the 09:00 reminder go out
    before = {m["id"]: m for m in f.json("messages", "--patient", patient) if m["status"] == "sent"}
    updated = f.json(
        "patient", "update", patient, "--reminder-times", "10:00,16:00", now="2026-12-01T14:30:00Z"
    )
    assert updated["enrolment"]["reminder_times"] == ["10:00", "16:00"]
    after = f.json("messages", "--patient", patient)
    assert all(after_m == before[after_m["id"]] for after_m in after if after_m["id"] in before)
    pending = [m["due_at"] for m in after if m["kind"] == "reminder" and m["status"] == "pending"]
    assert pending[:3] == ["2026-12-01T15:00:00Z", "2026-12-01T21:00:00Z", "2026-12-02T15:00:00Z"]
    record = json.loads(f("patient", "export", patient).stdout)
    [event] = [e for e in record["audit"] if e["action"] == "patient.update"]
    assert event["detail"]["changed"] == {"reminder_times": ["09:00", "10:00,16:00"]}


@pytest.mark.parametrize(
    "option, value, problem",
    [
        ("--timezone", "Mars/Base", "timezone"),
        ("--reminder-times", "22:00", "reminder_times: 22:00 is outside the sending window"),
        ("--channel", "email", "email: required for channel email"),
        ("--phone", "+16175550124", "phone: +16175550124 is already enrolled at this clinic"),
    ],
)
def test_a_bad_patient_update_is_one_line_exit_2_and_changes_nothing(followup_sqlite, option, value, problem):
    f = followup_sqlite
    clinic = f.clinic()
    patient = f.enrol(clinic)
    f.enrol(clinic, phone="+16175550124")
    before = f.json("patient", "show", patient)
    result = f("patient", "update", patient, option, value, expect=2)
    assert len(result.stderr.strip().splitlines()) == 1 and problem in result.stderr
    assert f.json("patient", "show", patient) == before


def test_clinic_update_renames_pending_messages_and_is_audited(followup_sqlite):
    f = followup_sqlite
    clinic = f.clinic()
    patient = f.enrol(clinic)
    result = f("clinic", "update", clinic, "--name", "Elm Physio", "--quiet-end", "20:00")
    assert result.stdout.strip() == f"clinic {clinic} updated; messages planned again for 1 patient"
    pending = [
        m
        for m in f.json("messages", "--patient", patient)
        if m["kind"] == "reminder" and m["status"] == "pending"
    ]
    assert pending and all(m["body"].startswith("Elm Physio:") for m in pending)
    [(detail,)] = _sql(f.url, "SELECT detail FROM audit_event WHERE action = 'clinic.update'")
    assert json.loads(detail)["changed"]["quiet_end"] == ["21:00", "20:00"]


@pytest.mark.parametrize(
    "options, problem",
    [
        (["--quiet-end", "18:00"], "would leave the times of patient 1 outside the sending window"),
        (["--alert-email", "", "--alert-phone", ""], "alert route"),
        (["--timezone", "EST"], "legacy zone"),
        (["--alert-webhook", "ftp://x"], "alert-webhook"),
    ],
)
def test_a_bad_clinic_update_is_one_line_exit_2_and_changes_nothing(followup_sqlite, options, problem):
    f = followup_sqlite
    clinic = f.clinic()
    f.enrol(clinic)
    before = f.json("clinic", "list")
    result = f("clinic", "update", clinic, *options, expect=2)
    assert len(result.stderr.strip().splitlines()) == 1 and problem in result.stderr
    assert f.json("clinic", "list") == before


# --- 5. re-enrolment -------------------------------------------------------------------------------


def test_an_unenrolled_patient_enrolled_again_is_a_new_episode_with_the_history_kept(followup):
    f = followup
    clinic = f.clinic()
    patient = f.enrol(clinic)
    f("tick")
    f("reply", "--from", "+16175550123", "--body", "pain 3", now="2026-12-01T15:00:00Z")
    f("unenroll", patient, now="2026-12-02T15:00:00Z")
    result = f(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        "Ana Diaz",
        "--phone",
        "617 555 0123",
        "--timezone",
        "America/New_York",
        "--reminder-times",
        "10:00",
        "--consent",
        now="2026-12-10T15:00:00Z",
    )
    assert int(result.stdout) == patient
    shown = f.json("patient", "show", patient, now="2026-12-10T15:01:00Z")
    assert shown["status"] == "active" and shown["enrolment"]["start"] == "2026-12-10"
    assert [(e["episode"], e["start"], e["outcome"]) for e in shown["episodes"]] == [
        (1, "2026-12-01", "unenrolled"),
        (2, "2026-12-10", None),
    ]
    kinds = [(m["kind"], m["status"]) for m in shown["messages"]]
    assert kinds.count(("confirmation", "sent")) == 1 and ("confirmation", "pending") in kinds
    assert len(shown["readings"]) == 1  # the first episode's reply is still there
    record = json.loads(f("patient", "export", patient).stdout)
    assert len(record["episodes"]) == 2 and [c["action"] for c in record["consent"]] == ["granted", "granted"]


def test_a_patient_who_opted_out_is_not_enrolled_again(followup_sqlite):
    f = followup_sqlite
    clinic = f.clinic()
    f.enrol(clinic)
    f("reply", "--from", "+16175550123", "--body", "STOP")
    result = f(
        "enroll",
        "--clinic",
        clinic,
        "--name",
        "Ana",
        "--phone",
        "+16175550123",
        "--timezone",
        "America/New_York",
        "--consent",
        expect=2,
    )
    assert "already enrolled" in result.stderr


# --- 6. data days --------------------------------------------------------------------------------


def test_report_counts_distinct_local_days_with_a_reply_in_the_last_30(followup_sqlite):
    f = followup_sqlite
    patient = f.enrol(f.clinic(), start="2026-11-01")
    for at in (
        "2026-11-01T15:00:00Z",  # 31 days before the report: outside
        "2026-11-20T15:00:00Z",
        "2026-11-25T15:00:00Z",
        "2026-11-26T03:00:00Z",  # 22:00 on the 25th in New York: the same local day
        "2026-11-30T15:00:00Z",
    ):
        f("reply", "--from", "+16175550123", "--body", "done", now=at)
    [row] = json.loads(f("report", "--format", "json", now="2026-12-02T14:00:00Z").stdout)["patients"]
    assert row["patient_id"] == patient and row["data_days_30"] == 3
    assert "DATA_DAYS_30" in f("report", now="2026-12-02T14:00:00Z").stdout
