"""Messages really leave: `followup tick` through the twilio client and through SMTP, and Twilio's
status callbacks come back through a real uvicorn."""

from channel_fixtures import LiveServer, signed_post, smtp_env, twilio_env
from sqlalchemy import select

from followup import config
from followup.db import engine_for, session_scope
from followup.models import Consent

AT_NINE = "2026-12-01T14:00:05Z"


def test_tick_sends_sms_through_twilio_and_records_the_sid(followup, fake_twilio):
    followup.env = twilio_env(fake_twilio)
    patient = followup.enrol(followup.clinic())
    followup("tick", now=AT_NINE)
    sent = {m["kind"]: m for m in followup.json("messages", "--patient", patient, "--status", "sent")}
    assert set(sent) == {"confirmation", "reminder"}
    assert {r.body for r in fake_twilio.sent()} == {m["body"] for m in sent.values()}
    assert {m["provider_id"] for m in sent.values()} == {r.sid for r in fake_twilio.sent()}
    assert all(r.to == "+16175550123" for r in fake_twilio.sent())


def test_twilio_21610_on_send_opts_the_patient_out_with_a_consent_record(followup_sqlite, fake_twilio):
    followup = followup_sqlite
    followup.env = twilio_env(fake_twilio)
    patient = followup.enrol(followup.clinic())
    fake_twilio.by_recipient["+16175550123"] = 21610
    followup("tick", now=AT_NINE)
    assert followup.json("patients")[0]["status"] == "opted_out"
    with session_scope(engine_for(followup.url)) as session:
        [record] = session.execute(select(Consent).where(Consent.action == "opted_out")).scalars()
        assert (record.method, record.patient_id) == ("carrier", patient)
    assert followup.json("messages", "--status", "pending") == []


def test_an_email_patient_gets_the_reminder_by_email(followup_sqlite, smtp_server):
    followup = followup_sqlite
    followup.env = smtp_env(smtp_server)
    followup.enrol(followup.clinic(), channel="email", email="ana@example.org")
    followup("tick", now=AT_NINE)
    subjects = sorted(m["Subject"] for _, m in smtp_server.messages)
    assert subjects == ["You are enrolled in follow-up reminders", "Your exercises for today"]
    reminder = next(m for _, m in smtp_server.messages if m["Subject"] == "Your exercises for today")
    assert "Prone head lift" in reminder.get_body(("plain",)).get_content()
    assert "Prone head lift" in reminder.get_body(("html",)).get_content()


def sent_reminder(followup, fake) -> dict:
    """Enrol one patient with Twilio configured, tick at 09:00, return the reminder as sent."""
    followup.env = twilio_env(fake)
    followup.enrol(followup.clinic())
    followup("tick", now=AT_NINE)
    return followup.json("messages", "--kind", "reminder", "--status", "sent")[0]


def status_settings(url, fake):
    return config.load({**twilio_env(fake), "FOLLOWUP_DATABASE_URL": url})


def test_status_callbacks_move_a_message_forward_only(followup, fake_twilio):
    reminder = sent_reminder(followup, fake_twilio)
    sid, token, public = reminder["provider_id"], fake_twilio.auth_token, "https://followup.example"
    with LiveServer(status_settings(followup.url, fake_twilio)) as server:
        for status in ("delivered", "sent", "queued"):
            response = signed_post(
                server, "/twilio/status", {"MessageSid": sid, "MessageStatus": status}, token, public
            )
            assert response.status_code == 204
    [after] = [m for m in followup.json("messages", "--kind", "reminder") if m["provider_id"] == sid]
    assert after["status"] == "delivered"


def test_an_undelivered_callback_records_the_reason_and_21610_opts_out(followup_sqlite, fake_twilio):
    followup = followup_sqlite
    reminder = sent_reminder(followup, fake_twilio)
    with LiveServer(status_settings(followup.url, fake_twilio)) as server:
        signed_post(
            server,
            "/twilio/status",
            {"MessageSid": reminder["provider_id"], "MessageStatus": "undelivered", "ErrorCode": "21610"},
            fake_twilio.auth_token,
            "https://followup.example",
        )
    after = [m for m in followup.json("messages") if m["id"] == reminder["id"]][0]
    assert (after["status"], after["error"]) == ("failed", "21610: recipient replied STOP (unsubscribed)")
    assert followup.json("patients")[0]["status"] == "opted_out"


def test_a_forged_or_missing_signature_is_refused_and_changes_nothing(followup_sqlite, fake_twilio):
    followup = followup_sqlite
    reminder = sent_reminder(followup, fake_twilio)
    form = {"MessageSid": reminder["provider_id"], "MessageStatus": "delivered"}
    with LiveServer(status_settings(followup.url, fake_twilio)) as server:
        assert (
            signed_post(
                server, "/twilio/status", form, "not-the-token", "https://followup.example"
            ).status_code
            == 403
        )
        assert (
            signed_post(
                server, "/twilio/status", form, fake_twilio.auth_token, "https://elsewhere.example"
            ).status_code
            == 403
        )  # signed for another URL
        assert signed_post(server, "/twilio/status", form, "", "", signature="").status_code == 403
        big = {**form, "Padding": "x" * 70_000}
        assert (
            signed_post(
                server, "/twilio/status", big, fake_twilio.auth_token, "https://followup.example"
            ).status_code
            == 413
        )
    assert followup.json("messages", "--kind", "reminder")[0]["status"] == "sent"
