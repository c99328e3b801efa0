"""POST /twilio/sms through a real uvicorn on loopback, signed as Twilio signs it."""

import json
import time
from xml.etree import ElementTree

import httpx
import pytest
from channel_fixtures import LiveServer, message_sid, signed_post

from followup import config

TOKEN, PUBLIC = "webhook-secret", "https://followup.example"


@pytest.fixture
def server(followup):
    followup.clinic()
    followup.enrol(1)
    settings = config.load(
        {
            "FOLLOWUP_DATABASE_URL": followup.url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "FOLLOWUP_PUBLIC_URL": PUBLIC,
            "FOLLOWUP_NOW": "2026-12-02T00:30:00Z",
        }
    )
    with LiveServer(settings) as live:
        yield live


def sms(server, body, sid="0001", sender="+16175550123", **kw):
    return signed_post(
        server,
        "/twilio/sms",
        {
            "From": sender,
            "To": "+16175550100",
            "Body": body,
            "MessageSid": message_sid(sid),
            "AccountSid": "AC1",
            "NumMedia": "0",
        },
        kw.pop("token", TOKEN),
        kw.pop("public", PUBLIC),
        **kw,
    )


def message_text(response) -> str | None:
    node = ElementTree.fromstring(response.text).find("Message")
    return None if node is None else node.text


def test_a_signed_reply_is_answered_with_twiml(server, followup):
    response = sms(server, "pain 8")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    assert "call the clinic today" in message_text(response)
    assert [e["rule"] for e in followup.json("escalations")] == ["U3"]


def test_a_replayed_message_sid_gets_the_same_answer_and_is_stored_once(server, followup):
    first, again = sms(server, "pain 8", sid="dup"), sms(server, "pain 8", sid="dup")
    assert message_text(first) == message_text(again)
    assert len(followup.json("messages", "--direction", "in")) == 1 and len(followup.json("escalations")) == 1


def test_a_forged_or_missing_signature_is_403_and_stores_nothing(server, followup):
    assert sms(server, "STOP", token="guessed").status_code == 403
    assert sms(server, "STOP", public="http://127.0.0.1:8000").status_code == 403
    assert sms(server, "STOP", signature="").status_code == 403
    assert followup.json("messages", "--direction", "in") == []
    assert followup.json("patients")[0]["status"] == "active"


def test_stop_by_webhook_opts_out_and_confirms_in_twiml(server, followup):
    assert "unsubscribed" in message_text(sms(server, "STOP"))
    assert followup.json("patients")[0]["status"] == "opted_out"


def test_an_empty_answer_is_an_empty_response_element(server, followup):
    sms(server, "STOP", sid="a")
    response = sms(server, "6 N", sid="b")
    assert response.status_code == 200 and message_text(response) is None
    assert ElementTree.fromstring(response.text).tag == "Response"


def test_oversized_and_incomplete_requests_are_refused(server, followup):
    assert sms(server, "x" * 70_000).status_code == 413
    response = signed_post(server, "/twilio/sms", {"From": "+16175550123", "Body": "hi"}, TOKEN, PUBLIC)
    assert response.status_code == 400
    assert followup.json("messages", "--direction", "in") == []


def test_template_looking_and_markup_text_is_stored_verbatim_and_escaped_in_twiml(server, followup):
    response = sms(server, "{{7*7}} <b>&</b>")
    assert response.status_code == 200
    ElementTree.fromstring(response.text)  # well-formed
    assert followup.json("messages", "--direction", "in")[0]["body"] == "{{7*7}} <b>&</b>"


def test_allow_unsigned_accepts_unsigned_webhooks_and_says_so_loudly(followup_sqlite, caplog):
    import httpx

    followup_sqlite.clinic()
    followup_sqlite.enrol(1)
    settings = config.load(
        {
            "FOLLOWUP_DATABASE_URL": followup_sqlite.url,
            "FOLLOWUP_ALLOW_UNSIGNED": "1",
            "FOLLOWUP_NOW": "2026-12-02T00:30:00Z",
        }
    )
    with LiveServer(settings) as live:
        response = httpx.post(
            live.url + "/twilio/sms",
            data={"From": "+16175550123", "Body": "HELP", "MessageSid": message_sid("u")},
        )
    assert response.status_code == 200 and "Elm Street Physio" in response.text
    assert any("NOT checked" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_a_reply_while_the_database_is_unreachable_is_kept_in_the_spool_and_answered(tmp_path):
    from pg import free_port

    settings = config.load(
        {
            "FOLLOWUP_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "FOLLOWUP_PUBLIC_URL": PUBLIC,
            "FOLLOWUP_SPOOL_DIR": str(tmp_path / "spool"),
        }
    )
    with LiveServer(settings) as live:
        response = sms(live, "I fell and cannot feel my legs", sid="spooled1")
        assert response.status_code == 200 and "emergency" in message_text(response)
        assert httpx.get(live.url + "/healthz").status_code == 503
    [kept] = (tmp_path / "spool").glob("*.json")
    assert kept.name == message_sid("spooled1") + ".json" and oct(kept.stat().st_mode & 0o777) == "0o600"
    assert json.loads(kept.read_text())["body"] == "I fell and cannot feel my legs"


@pytest.mark.parametrize("spool", ["off", "/proc/no-such-place"])
def test_without_a_usable_spool_an_unreachable_database_gets_503_so_twilio_retries(spool):
    from pg import free_port

    settings = config.load(
        {
            "FOLLOWUP_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "FOLLOWUP_PUBLIC_URL": PUBLIC,
            "FOLLOWUP_SPOOL_DIR": spool,
        }
    )
    with LiveServer(settings) as live:
        assert sms(live, "6 N").status_code == 503


def _unreachable(tmp_path, spool="spool") -> config.Settings:
    from pg import free_port

    return config.load(
        {
            "FOLLOWUP_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "FOLLOWUP_PUBLIC_URL": PUBLIC,
            "FOLLOWUP_SPOOL_DIR": str(tmp_path / spool),
        }
    )


def test_a_status_callback_while_the_database_is_unreachable_is_kept_and_answered_without_a_traceback(
    tmp_path, capfd
):
    sid = message_sid("outbound reminder")
    with LiveServer(_unreachable(tmp_path)) as live:
        response = signed_post(
            live,
            "/twilio/status",
            {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "21610"},
            TOKEN,
            PUBLIC,
        )
    assert response.status_code == 204  # taken: Twilio need not retry, and nothing is lost
    [kept] = (tmp_path / "spool").glob("*.json")
    assert (
        json.loads(kept.read_text())["status"] == "undelivered"
        and oct(kept.stat().st_mode & 0o777) == "0o600"
    )
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(
    "field, value",
    [
        ("MessageSid", "SM" + "a1b2" * 1000),
        ("MessageSid", "SM0001"),
        ("From", "+1" + "6" * 200),
        ("Body", "x" * 5000),
    ],
)
def test_a_reply_no_twilio_sends_is_refused_in_one_line_and_neither_stored_nor_spooled(
    followup, tmp_path, field, value
):
    followup.enrol(followup.clinic())
    settings = config.load(
        {
            "FOLLOWUP_DATABASE_URL": followup.url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "FOLLOWUP_PUBLIC_URL": PUBLIC,
            "FOLLOWUP_NOW": "2026-12-02T00:30:00Z",
            "FOLLOWUP_SPOOL_DIR": str(tmp_path / "spool"),
        }
    )
    form = {
        "From": "+16175550123",
        "To": "+16175550100",
        "Body": "6 N",
        "MessageSid": message_sid("ok"),
        field: value,
    }
    with LiveServer(settings, lifespan="on") as live:
        response = signed_post(live, "/twilio/sms", form, TOKEN, PUBLIC)
    assert response.status_code == 400 and "\n" not in response.text.strip() and field in response.text
    assert followup.json("messages", "--direction", "in") == []
    assert not (tmp_path / "spool").exists() or not list((tmp_path / "spool").iterdir())


def test_a_status_callback_stuck_on_the_database_does_not_hold_up_other_requests(followup_sqlite, tmp_path):
    import sqlite3
    import threading

    from sqlalchemy.engine import make_url

    followup_sqlite.enrol(followup_sqlite.clinic())
    settings = config.load(
        {
            "FOLLOWUP_DATABASE_URL": followup_sqlite.url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "FOLLOWUP_PUBLIC_URL": PUBLIC,
            "FOLLOWUP_SPOOL_DIR": str(tmp_path / "spool"),
        }
    )
    other = sqlite3.connect(make_url(followup_sqlite.url).database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock (a frozen worker, say)
    answered = {}
    with LiveServer(settings) as live:
        stuck = threading.Thread(
            target=lambda: answered.setdefault(
                "status",
                signed_post(
                    live,
                    "/twilio/status",
                    {"MessageSid": message_sid("x"), "MessageStatus": "delivered"},
                    TOKEN,
                    PUBLIC,
                    timeout=60,
                ),
            )
        )
        stuck.start()
        time.sleep(0.5)  # it is waiting for the lock now
        forged = sms(live, "6 N", token="guessed")
        still_waiting = stuck.is_alive()
        other.execute("ROLLBACK")
        stuck.join()
    assert forged.status_code == 403
    assert still_waiting, "the other request was only answered once the status callback was done"
    assert answered["status"].status_code == 204
