"""Logs name patients by id; they never carry phone numbers, message text or secrets."""

import logging

from channel_fixtures import LiveServer, message_sid, signed_post, twilio_env
from followup import config

PHONE, BODY = "+16175550123", "my secret symptom is pain 8"


def test_nothing_logged_while_sending_and_receiving_carries_a_number_text_or_token(followup, fake_twilio, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, at its most talkative
    followup.env = twilio_env(fake_twilio)
    followup.enrol(followup.clinic())
    followup("tick", now="2026-12-01T14:00:05Z")  # sends through the real twilio client
    settings = config.load({**twilio_env(fake_twilio), "FOLLOWUP_DATABASE_URL": followup.url,
                            "FOLLOWUP_NOW": "2026-12-01T20:00:00Z"})
    with LiveServer(settings) as server:
        response = signed_post(server, "/twilio/sms", {"From": PHONE, "Body": BODY, "MessageSid": message_sid("p")},
                               fake_twilio.auth_token, "https://followup.example")
    assert response.status_code == 200 and fake_twilio.sent()  # something really happened
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (PHONE, "6175550123", BODY, "Prone head lift", fake_twilio.auth_token):
        assert secret not in logged, f"{secret!r} was logged"
