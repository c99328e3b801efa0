"""Signed events to a clinic's webhook, through the outbox and a real `followup tick`, received by a
real HTTP server on loopback that verifies each one with the `standardwebhooks` package, as a
clinic's receiver would."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from channel_fixtures import twilio_env
from standardwebhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
PHONE, NAME = "+16175550123", "Ana Diaz"


class Receiver:
    """An HTTP server that keeps every POST (headers and body) and answers from a script."""

    def __init__(self):
        self.posts: list[tuple[dict, bytes]] = []
        self.script: list[int] = []  # next answers' status codes; then 204
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.script.pop(0) if receiver.script else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/followup"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verified(self) -> list[dict]:
        """Every POST as the receiver's library reads it: raises if any signature is wrong."""
        return [Webhook(SECRET).verify(body, headers) for headers, body in self.posts]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def _clinic(followup, receiver, **options) -> int:
    followup.env = {**followup.env, "FOLLOWUP_WEBHOOK_SECRET": SECRET}
    return followup.clinic(**{"alert-webhook": receiver.url, **options})


def test_escalations_opt_outs_and_failed_messages_reach_the_webhook_signed_and_without_personal_data(
    followup, receiver, fake_twilio
):
    clinic = _clinic(followup, receiver)
    followup.env = {**followup.env, **twilio_env(fake_twilio)}
    patient = followup.enrol(clinic, name=NAME)
    other = followup.enrol(clinic, name="Bo Li", phone="+1 617 555 0124")
    fake_twilio.by_recipient["+16175550124"] = 21211  # Bo's messages fail for good
    followup("tick", now="2026-12-01T14:00:05Z")
    followup("reply", "--from", PHONE, "--body", "pain 7", now="2026-12-01T15:00:00Z")
    followup("escalations", "ack", "1", "--by", "Dr Lee", now="2026-12-01T15:10:00Z")
    followup("reply", "--from", PHONE, "--body", "STOP", now="2026-12-01T15:20:00Z")
    followup("reply", "--from", PHONE, "--body", "START", now="2026-12-01T15:30:00Z")
    followup("tick", now="2026-12-01T15:31:00Z")
    events = receiver.verified()
    by_type = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert by_type["escalation.opened"][0]["data"] == {
        "escalation_id": 1,
        "patient_id": patient,
        "tier": "urgent",
        "rule": "U3",
        "clinic_id": clinic,
    }
    assert by_type["escalation.opened"][0]["timestamp"] == "2026-12-01T15:00:00Z"  # followup's clock
    assert by_type["escalation.acknowledged"][0]["data"]["escalation_id"] == 1
    assert [e["data"] for e in by_type["patient.opted_out"]] == [{"patient_id": patient, "clinic_id": clinic}]
    assert [e["data"]["patient_id"] for e in by_type["patient.opted_in"]] == [patient]
    failed = by_type["message.failed"]
    assert {e["data"]["patient_id"] for e in failed} == {other}
    assert {e["data"]["error_code"] for e in failed} == {"21211"}
    raw = b"".join(body for _, body in receiver.posts).decode()
    for personal in (PHONE, "6175550123", "6175550124", NAME, "Bo Li", "pain 7", "Dr Lee"):
        assert personal not in raw
    headers = receiver.posts[0][0]
    assert headers["webhook-id"].startswith("msg_") and headers["content-type"] == "application/json"
    assert len({h["webhook-id"] for h, _ in receiver.posts}) == len(receiver.posts)  # one id per event


def test_an_event_the_receiver_refused_is_retried_with_back_off_under_the_same_webhook_id(
    followup_sqlite, receiver
):
    followup = followup_sqlite
    clinic = _clinic(followup, receiver)
    followup.enrol(clinic)
    receiver.script = [503, 500]
    followup("reply", "--from", PHONE, "--body", "STOP", now="2026-12-01T15:00:00Z")
    followup("tick", now="2026-12-01T15:00:01Z")  # refused: 503
    followup("tick", now="2026-12-01T15:00:02Z")  # backing off: not tried again yet
    assert len(receiver.posts) == 1
    followup("tick", now="2026-12-01T15:01:00Z")  # refused again: 500
    followup("tick", now="2026-12-01T15:05:00Z")  # accepted
    assert len(receiver.posts) == 3
    assert len({headers["webhook-id"] for headers, _ in receiver.posts}) == 1  # the same event each time
    assert [e["type"] for e in receiver.verified()] == ["patient.opted_out"] * 3
    followup("tick", now="2026-12-01T16:00:00Z")
    assert len(receiver.posts) == 3  # delivered: never again
    [event] = followup.json("messages", "--kind", "event")
    assert event["status"] == "sent" and event["channel"] == "webhook"
    from followup import clock, metrics
    from followup.db import engine_for

    scraped = metrics.render(engine_for(followup.url), clock.now, None, metrics.HttpMetrics()).decode()
    assert "followup_event_delivery_seconds_count 1.0" in scraped  # refused twice, then accepted:
    assert 'followup_event_delivery_seconds_bucket{le="300.0"} 1.0' in scraped  # 15:00:00 -> 15:05:00
    assert 'followup_event_delivery_seconds_bucket{le="120.0"} 0.0' in scraped


def test_a_tampered_event_fails_verification_as_a_receiver_would_see_it(followup_sqlite, receiver):
    followup = followup_sqlite
    followup.enrol(_clinic(followup, receiver))
    followup("reply", "--from", PHONE, "--body", "STOP", now="2026-12-01T15:00:00Z")
    followup("tick", now="2026-12-01T15:00:01Z")
    [(headers, body)] = receiver.posts
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"opted_out", b"opted_in"), headers)
    other_key = "whsec_" + base64.b64encode(b"another key, 24 bytes or more").decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other_key).verify(body, headers)


def test_a_slack_clinic_gets_a_text_body_with_ids_and_tier_only(followup_sqlite, receiver):
    followup = followup_sqlite
    clinic = _clinic(followup, receiver, **{"alert-webhook-format": "slack"})
    followup.enrol(clinic, name=NAME)
    followup("reply", "--from", PHONE, "--body", "pain 7", now="2026-12-01T15:00:00Z")
    followup("tick", now="2026-12-01T15:00:01Z")
    [message] = receiver.verified()
    assert set(message) == {"text"}
    assert "escalation.opened (urgent)" in message["text"] and "patient 1" in message["text"]
    assert NAME not in message["text"] and "pain" not in message["text"]


def test_events_without_a_secret_wait_and_go_out_once_it_is_set(followup_sqlite, receiver):
    followup = followup_sqlite
    followup.enrol(_clinic(followup, receiver))
    followup.env = {k: v for k, v in followup.env.items() if k != "FOLLOWUP_WEBHOOK_SECRET"}
    followup("reply", "--from", PHONE, "--body", "STOP", now="2026-12-01T15:00:00Z")
    followup("tick", now="2026-12-01T15:00:01Z")
    assert receiver.posts == []
    [event] = followup.json("messages", "--kind", "event")
    assert event["status"] == "pending" and "FOLLOWUP_WEBHOOK_SECRET" in event["error"]
    followup("tick", now="2026-12-01T15:30:00Z", env={"FOLLOWUP_WEBHOOK_SECRET": SECRET})
    assert [e["type"] for e in receiver.verified()] == ["patient.opted_out"]


@pytest.mark.parametrize(
    "option, problem",
    [
        (["--alert-webhook", "http://hooks.example.org/x"], "is not an https URL"),
        (["--alert-webhook", "ftp://127.0.0.1/x"], "is not an https URL"),
        (["--alert-webhook", "https://h.example:99999/x"], "port"),
        (["--alert-webhook", "https://h.example/x", "--alert-webhook-format", "teams"], "teams"),
        (["--alert-webhook", "https://user:pw@h.example/x"], "user name or password"),
        (["--alert-webhook", "http://127.0.0.1:9901/h k"], "has a space in it"),
    ],
)
def test_a_bad_webhook_url_or_format_is_exit_2_and_adds_no_clinic(followup_sqlite, option, problem):
    result = followup_sqlite(
        "clinic",
        "add",
        "--name",
        "X",
        "--phone",
        "+16175550100",
        "--timezone",
        "America/New_York",
        *option,
        expect=2,
    )
    assert problem in result.stderr and "pw@" not in result.stderr
    if option[0] == "--alert-webhook" and len(option) == 2:  # ours, not click's usage error
        assert len(result.stderr.splitlines()) == 1  # one problem, one line
    assert followup_sqlite.json("clinic", "list") == []


def test_a_bad_webhook_secret_is_one_line_exit_2(followup_sqlite):
    result = followup_sqlite("tick", env={"FOLLOWUP_WEBHOOK_SECRET": "not-a-secret"}, expect=2)
    assert "FOLLOWUP_WEBHOOK_SECRET must be whsec_" in result.stderr
    result = followup_sqlite("tick", env={"FOLLOWUP_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, expect=2)
    assert "5 bytes" in result.stderr


def test_a_delivery_failure_reported_by_twilios_status_callback_is_one_message_failed_event(
    followup_sqlite, receiver, fake_twilio
):
    from channel_fixtures import LiveServer, signed_post

    from followup import config

    followup = followup_sqlite
    clinic = _clinic(followup, receiver)
    followup.env = {**followup.env, **twilio_env(fake_twilio)}
    patient = followup.enrol(clinic)
    followup("tick", now="2026-12-01T14:00:05Z")
    sid = fake_twilio.sent()[0].sid
    settings = config.load({**twilio_env(fake_twilio), "FOLLOWUP_DATABASE_URL": followup.url})
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30005"}
    with LiveServer(settings) as server:
        for _ in range(2):  # Twilio may call back twice
            answer = signed_post(server, "/twilio/status", form, fake_twilio.auth_token, settings.public_url)
            assert answer.status_code == 204
    followup("tick", now="2026-12-01T14:01:00Z")
    [event] = [e for e in receiver.verified() if e["type"] == "message.failed"]
    assert event["data"]["patient_id"] == patient and event["data"]["error_code"] == "30005"


def test_a_webhook_id_is_never_reused_for_another_event_once_the_rows_ids_are_handed_out_again(
    followup_sqlite, receiver
):
    # SQLite hands out a deleted top rowid again: after `patient forget` the next events get the
    # message ids the forgotten patient's events had. A receiver deduplicating by webhook-id must
    # still see two events.
    followup = followup_sqlite
    clinic = _clinic(followup, receiver)
    first = followup.enrol(clinic)
    for body, at in (("STOP", "15:00"), ("START", "15:10")):
        followup("reply", "--from", PHONE, "--body", body, now=f"2026-12-01T{at}:00Z")
    followup("tick", now="2026-12-01T15:11:00Z")
    followup("patient", "forget", first, "--yes", now="2026-12-01T15:20:00Z")
    followup.enrol(clinic, phone="+1 617 555 0103", name="Cy Ode")
    for body, at in (("STOP", "15:30"), ("START", "15:40")):
        followup("reply", "--from", "+16175550103", "--body", body, now=f"2026-12-01T{at}:00Z")
    followup("tick", now="2026-12-01T15:41:00Z")
    assert len(receiver.verified()) == 4
    assert len({headers["webhook-id"] for headers, _ in receiver.posts}) == 4


def test_a_webhook_without_a_secret_is_refused_at_clinic_add_and_tick_warns_of_events_waiting_unsigned(
    followup_sqlite, receiver
):
    followup = followup_sqlite
    result = followup("clinic", "add", "--name", "T", "--phone", "+1 617 555 0300", "--timezone",
                      "America/New_York", "--alert-webhook", receiver.url, expect=2)  # fmt: skip
    [line] = result.stderr.splitlines()
    assert "FOLLOWUP_WEBHOOK_SECRET is not set" in line
    assert followup.json("clinic", "list") == []
    followup.enrol(_clinic(followup, receiver))  # added with the secret; the workers run without it
    followup.env = {}
    result = followup("clinic", "update", "1", "--alert-webhook", receiver.url + "/other", expect=2)
    assert "FOLLOWUP_WEBHOOK_SECRET is not set" in result.stderr.splitlines()[-1]
    assert followup.json("clinic", "list")[0]["alert_webhook"] == receiver.url  # unchanged
    followup("reply", "--from", PHONE, "--body", "I can't control my bowels", now="2026-12-01T15:00:00Z")
    result = followup("tick", now="2026-12-01T15:00:05Z")
    assert "FOLLOWUP_WEBHOOK_SECRET is not set: events to the webhook of clinic 1 cannot be signed" in (
        result.stderr
    )
    assert "wait in the outbox (1 now)" in result.stderr


def test_tick_counts_as_realerted_only_the_re_alerts_it_queued(followup_sqlite, receiver):
    followup = followup_sqlite
    followup.env = {"FOLLOWUP_WEBHOOK_SECRET": SECRET}
    webhook_only = int(
        followup(
            "clinic",
            "add",
            "--name",
            "T",
            "--phone",
            "+1 617 555 0300",
            "--timezone",
            "America/New_York",
            "--alert-webhook",
            receiver.url,
        ).stdout  # fmt: skip
    )
    followup.enrol(webhook_only)
    followup("reply", "--from", PHONE, "--body", "chest pain", now="2026-12-01T18:00:00Z")
    followup("tick", now="2026-12-01T18:00:05Z")
    report = followup.json("tick", now="2026-12-01T18:30:00Z")  # past the 15 minutes
    assert report["realerted"] == 0
    assert [e["type"] for e in receiver.verified()] == ["escalation.opened"]


def test_an_escalation_the_webhook_refuses_for_good_falls_back_to_the_clinics_email_and_shows_in_escalations(
    followup_sqlite, receiver
):
    followup = followup_sqlite
    followup.env = {"FOLLOWUP_WEBHOOK_SECRET": SECRET}
    clinic = int(
        followup(
            "clinic",
            "add",
            "--name",
            "T",
            "--phone",
            "+1 617 555 0300",
            "--timezone",
            "America/New_York",
            "--alert-webhook",
            receiver.url + "/mistyped",
            "--alert-email",
            "oncall@t.example",
        ).stdout  # fmt: skip
    )
    followup.enrol(clinic)
    receiver.script = [404]  # a mistyped URL: refused for good
    followup("reply", "--from", PHONE, "--body", "chest pain", now="2026-12-01T18:00:00Z")
    followup("tick", now="2026-12-01T18:00:05Z")
    followup("tick", now="2026-12-01T18:00:10Z")
    [escalation] = followup.json("escalations")
    alerts = sorted((a["channel"], a["status"], a["as"]) for a in escalation["alerts"])
    assert alerts == [
        ("email", "sent", "fallback"),
        ("email", "sent", "first"),
        ("webhook", "failed", "first"),
    ]
    assert "webhook failed" in followup("escalations").stdout
    [fallback] = [m for m in followup.json("messages", "--kind", "alert") if "webhook alert" in m["body"]]
    assert "127.0.0.1" in fallback["body"] and "/mistyped" not in fallback["body"]  # its host only


def test_clinic_update_refuses_a_webhook_without_the_secret(followup_sqlite):
    followup = followup_sqlite
    clinic = followup.clinic()
    result = followup("clinic", "update", clinic, "--alert-webhook", "https://hooks.example/x", expect=2)
    [line] = result.stderr.splitlines()
    assert "FOLLOWUP_WEBHOOK_SECRET is not set" in line
    assert followup.json("clinic", "list")[0].get("alert_webhook") in (None, "")
