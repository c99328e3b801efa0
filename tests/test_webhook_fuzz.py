"""Hypothesis throws hostile and malformed requests at the webhooks under a real uvicorn, on both
databases: none gets a 5xx, and every genuine reply is stored once, as sent."""

import socket
import uuid

import httpx
import pytest
from channel_fixtures import LiveServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from followup import config
from followup.db import engine_for, session_scope
from followup.models import Message

TOKEN, PUBLIC = "fuzz-secret", "https://followup.example"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

hostile = st.one_of(
    st.text(max_size=400),  # any Unicode, NUL and control characters, emoji
    st.sampled_from(
        [
            "'; DROP TABLE message; --",
            "{{7*7}}",
            "{% raw %}",
            "<Response><Redirect/>",
            "😀" * 800,
            "PAIN 11",
            "STOP" * 500,
            "\x00",
            "a\r\nX-Injected: 1",
            "%00%ff",
            "+1617555" * 40,
        ]
    ),
)
phones = st.one_of(st.sampled_from(["+16175551000", "+16175559999", "6175551000", "", " "]), hostile)
sids = st.from_regex(r"\ASM[0-9a-f]{32}\Z")


@pytest.fixture
def live(followup):
    followup.clinic()
    followup.enrol(1)  # +16175551000
    settings_ = config.load(
        {
            "FOLLOWUP_DATABASE_URL": followup.url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "FOLLOWUP_PUBLIC_URL": PUBLIC,
            "FOLLOWUP_NOW": "2026-12-02T15:00:00Z",
        }
    )
    with LiveServer(settings_) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, followup.url


def _post(client, path: str, form: dict, sign: bool = True) -> httpx.Response:
    headers = (
        {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)} if sign else {}
    )
    return client.post(path, data=form, headers=headers)


@FUZZ
@given(sender=phones, body=hostile, extra=st.dictionaries(hostile, hostile, max_size=3))
def test_any_signed_reply_is_answered_and_stored_exactly_as_sent(live, sender, body, extra):
    client, url = live
    sid = "SM" + uuid.uuid4().hex  # examples share one database
    form = {**extra, "From": sender, "Body": body, "MessageSid": sid, "To": "+16175550100"}
    first, again = _post(client, "/twilio/sms", form), _post(client, "/twilio/sms", form)
    assert first.status_code in (200, 400), first.text
    assert again.status_code == first.status_code and again.text == first.text  # a retry changes nothing
    with session_scope(engine_for(url)) as session:
        stored = (
            session.execute(select(Message.body).where(Message.direction == "in", Message.provider_id == sid))
            .scalars()
            .all()
        )
    if first.status_code == 400:
        # only a missing sender, or one longer than any address Twilio sends, is refused
        assert (not sender.strip() or len(sender) > 128) and stored == []
    else:
        assert stored == [
            body.replace("\x00", "\ufffd")[:1600]
        ]  # verbatim (NUL cannot be stored in PostgreSQL)


@FUZZ
@given(
    raw=st.binary(max_size=2000),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "application/json",
            "text/plain; charset=utf-16",
            "",
            "application/x-www-form-urlencoded; charset=latin-1",
        ]
    ),
    path=st.sampled_from(["/twilio/sms", "/twilio/status"]),
    signature=st.sampled_from(["", "bogus", "=" * 28]),
)
def test_malformed_bodies_and_signatures_never_get_a_server_error(live, raw, content_type, path, signature):
    client, _ = live
    response = client.post(
        path, content=raw, headers={"Content-Type": content_type, "X-Twilio-Signature": signature}
    )
    assert response.status_code in (400, 403, 413, 422), (response.status_code, response.text)


@FUZZ
@given(
    sid=st.one_of(sids, hostile),
    status=st.one_of(
        st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read"]), hostile
    ),
    error=hostile,
)
def test_any_signed_status_callback_is_accepted_or_refused_cleanly(live, sid, status, error):
    client, _ = live
    response = _post(
        client, "/twilio/status", {"MessageSid": sid, "MessageStatus": status, "ErrorCode": error}
    )
    assert response.status_code in (204, 400), response.text


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "99999999999999999999"])
def test_a_malformed_or_huge_content_length_is_refused_not_crashed(live, length):
    client, _ = live
    host, port = client.base_url.host, client.base_url.port
    with socket.create_connection((host, port), timeout=10) as raw:
        raw.sendall(
            f"POST /twilio/sms HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded"
            f"\r\nContent-Length: {length}\r\nConnection: close\r\n\r\nFrom=x".encode()
        )
        status_line = raw.recv(200).split(b"\r\n")[0].decode()
    assert status_line.split()[1] in ("400", "413"), status_line
