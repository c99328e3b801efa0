"""Every channel honours one contract; Twilio and SMTP are exercised over real sockets."""

import io
from datetime import UTC

import pytest
from channel_fixtures import smtp_env, twilio_env

from followup import config
from followup.channels.base import DeliveryError, Outgoing
from followup.channels.console import ConsoleChannel
from followup.channels.fake import FakeChannel
from followup.channels.smtp_email import SmtpEmailChannel
from followup.channels.twilio_sms import TwilioSmsChannel

SMS = Outgoing(
    message_id=1, channel="sms", kind="reminder", to="+16175550123", body="Elm: time for exercises"
)
EMAIL = Outgoing(
    message_id=2,
    channel="email",
    kind="reminder",
    to="ana@example.org",
    body="Line one\nLine <two>",
    subject="Your exercises for today",
    html="<p>Line one</p><p>Line &lt;two&gt;</p>",
)


def twilio_channel(fake, **env):
    return TwilioSmsChannel(config.load({**twilio_env(fake), **env}))


@pytest.fixture(params=["console", "fake", "twilio", "smtp"])
def channel_and_message(request):
    if request.param == "console":
        return ConsoleChannel("sms", stream=io.StringIO()), SMS
    if request.param == "fake":
        return FakeChannel("sms"), SMS
    if request.param == "twilio":
        return twilio_channel(request.getfixturevalue("fake_twilio")), SMS
    return SmtpEmailChannel(config.load(smtp_env(request.getfixturevalue("smtp_server")))), EMAIL


def test_every_channel_returns_a_distinct_provider_id_for_each_send(channel_and_message):
    channel, message = channel_and_message
    first, second = channel.send(message), channel.send(message)
    assert first and second and first != second
    assert channel.name in ("sms", "email") and channel.concurrency >= 1


def test_the_console_channel_says_plainly_that_nothing_was_sent():
    stream = io.StringIO()
    ConsoleChannel("sms", stream=stream).send(SMS)
    assert "NOT SENT" in stream.getvalue() and SMS.body in stream.getvalue()


def test_twilio_gets_the_message_sender_and_status_callback(fake_twilio):
    sid = twilio_channel(fake_twilio).send(SMS)
    [request] = fake_twilio.sent()
    assert sid.startswith("SM")
    assert (request.to, request.sender, request.body) == ("+16175550123", "+16175550100", SMS.body)
    assert request.status_callback == "https://followup.example/twilio/status"


def test_a_messaging_service_can_be_the_sender(fake_twilio):
    twilio_channel(fake_twilio, TWILIO_FROM_NUMBER="", TWILIO_MESSAGING_SERVICE_SID="MGabc").send(SMS)
    assert fake_twilio.sent()[0].messaging_service_sid == "MGabc"


@pytest.mark.parametrize(
    "code, permanent, consequence",
    [
        (21610, True, "opted_out"),
        (21211, True, "unusable"),
        (21614, True, "unusable"),
        (21617, True, None),
        (20429, False, None),
        (20500, False, None),
        (30003, False, None),
    ],
)
def test_twilio_errors_are_classified_by_code(fake_twilio, code, permanent, consequence):
    fake_twilio.script.append(code)
    with pytest.raises(DeliveryError) as caught:
        twilio_channel(fake_twilio).send(SMS)
    assert (caught.value.permanent, caught.value.consequence, caught.value.code) == (
        permanent,
        consequence,
        str(code),
    )


def test_a_twilio_timeout_is_retried_not_failed(fake_twilio):
    fake_twilio.script.append("timeout")
    fake_twilio.hang_seconds = 3
    channel = twilio_channel(fake_twilio)
    channel.client.http_client.timeout = 0.3
    with pytest.raises(DeliveryError) as caught:
        channel.send(SMS)
    assert caught.value.permanent is False and "no answer" in caught.value.reason


def test_wrong_twilio_credentials_fail_permanently(fake_twilio):
    with pytest.raises(DeliveryError) as caught:
        twilio_channel(fake_twilio, TWILIO_AUTH_TOKEN="wrong").send(SMS)
    assert caught.value.permanent and caught.value.code == "20003"


def test_an_unreachable_twilio_is_a_transient_error(fake_twilio):
    url = fake_twilio.url
    fake_twilio.stop()
    with pytest.raises(DeliveryError) as caught:
        twilio_channel(fake_twilio, TWILIO_API_BASE_URL=url).send(SMS)
    assert not caught.value.permanent
    fake_twilio.start()  # the fixture stops it again


def test_email_arrives_with_subject_text_and_html_parts(smtp_server):
    SmtpEmailChannel(config.load(smtp_env(smtp_server))).send(EMAIL)
    [(recipients, received)] = smtp_server.messages
    assert recipients == ["ana@example.org"]
    assert received["Subject"] == "Your exercises for today" and received["From"] == "clinic@elm.example"
    assert received.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == "Line one\nLine <two>"
    assert "Line &lt;two&gt;" in received.get_body(("html",)).get_content()


def test_a_refused_recipient_fails_permanently_and_a_dead_server_transiently(smtp_server):
    channel = SmtpEmailChannel(config.load(smtp_env(smtp_server)))
    with pytest.raises(DeliveryError) as refused:
        channel.send(Outgoing(3, "email", "reminder", "nobody@refused.test", "x", "s"))
    assert refused.value.permanent and refused.value.code == "550"
    channel.port = 1  # nothing listens there
    with pytest.raises(DeliveryError) as dead:
        channel.send(EMAIL)
    assert not dead.value.permanent


def test_twilio_retry_after_is_read_in_seconds_or_as_an_http_date():
    from datetime import datetime

    from followup.channels.twilio_sms import retry_after_seconds

    now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Tue, 01 Dec 2026 14:10:00 GMT", now=now) == 600
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_twilio_503_with_retry_after_is_a_transient_error_that_says_how_long_to_wait(fake_twilio):
    from channel_fixtures import twilio_env

    from followup import config
    from followup.channels.base import DeliveryError, Outgoing
    from followup.channels.twilio_sms import TwilioSmsChannel

    channel = TwilioSmsChannel(config.load({**twilio_env(fake_twilio), "FOLLOWUP_DATABASE_URL": "sqlite://"}))
    fake_twilio.outage, fake_twilio.retry_after = 20503, 300
    try:
        channel.send(Outgoing(message_id=1, channel="sms", kind="nudge", to="+16175550123", body="hi"))
    except DeliveryError as exc:
        assert (exc.permanent, exc.code, exc.retry_after) == (False, "20503", 300)
    else:
        raise AssertionError("a 503 was taken for a send")
