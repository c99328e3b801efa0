"""Working with Twilio's messaging layer (issue 15), through a real `followup serve` (uvicorn) and the
shipped fake Twilio, with real Twilio bodies.

The webhook bodies are nyaruka/courier's Twilio handler test fixtures (source: github.com/nyaruka/
courier, handlers/twiml/handlers_test.go at 350e935007fd7e7cab689feee5ce97e326d49099: `receiveValid`,
`receiveMedia`, `statusStop`), with our numbers and SIDs put in; the status callbacks are those the
fake plays the way Twilio's status-callback guide describes them (MessageSid, MessageStatus, ErrorCode).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import pytest
from channel_fixtures import LiveServer, message_sid, signed_post, twilio_env
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from followup import config, replies
from followup.channels.base import DeliveryError
from followup.db import engine_for, session_scope
from followup.models import Consent, Message, Patient
from followup.segments import sms_shape

# courier, handlers/twiml/handlers_test.go (see the module docstring)
COURIER_RECEIVE_VALID = (
    "ToCountry=US&ToState=District+Of+Columbia&SmsMessageSid=SMe287d7109a5a925f182f0e07fe5b223b&NumMedia=0"
    "&ToCity=&FromZip=01022&SmsSid=SMe287d7109a5a925f182f0e07fe5b223b&FromState=MA&SmsStatus=received"
    "&FromCity=CHICOPEE&Body=Msg&FromCountry=US&To=%2B12028831111&ToZip=&NumSegments=1"
    "&MessageSid=SMe287d7109a5a925f182f0e07fe5b223b&AccountSid=acctid&From=%2B14133881111"
    "&ApiVersion=2010-04-01"
)
COURIER_RECEIVE_MEDIA = (  # no Body field at all
    "ToCountry=US&ToState=District+Of+Columbia&SmsMessageSid=SMe287d7109a5a925f182f0e07fe5b223b&NumMedia=2"
    "&ToCity=&FromZip=01022&SmsSid=SMe287d7109a5a925f182f0e07fe5b223b&FromState=MA&SmsStatus=received"
    "&FromCity=CHICOPEE&FromCountry=US&To=%2B12028831111&ToZip=&NumSegments=1"
    "&MessageSid=SMe287d7109a5a925f182f0e07fe5b223b&AccountSid=acctid&From=%2B14133881111"
    "&ApiVersion=2010-04-01&MediaUrl0=cat.jpg&MediaUrl1=dog.jpg"
)
COURIER_STATUS_STOP = (
    "ErrorCode=21610&MessageSid=SMe287d7109a5a925f182f0e07fe5b223b&MessageStatus=failed&To=%2B12028831111"
)
PATIENT, CLINIC_NUMBER, PUBLIC = "+16175550123", "+16175550100", "https://followup.example"
NIGHT = "2026-12-02T00:30:00Z"  # 19:30 in New York: inside the sending window


def courier(body: str, label: str, **changes) -> dict:
    """A courier fixture with our patient, our number and a SID of its own."""
    form = dict(parse_qsl(body, keep_blank_values=True))
    sid = message_sid(label)
    form.update(From=PATIENT, To=CLINIC_NUMBER, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    form.update(changes)
    return form


def serve(followup, fake, **env):
    # The reader loads its models on first use (seconds): not inside a webhook's 5 s deadline here.
    replies.parse("warm up 3 N", "en")
    replies.parse("el dolor", "es")
    settings = config.load(
        {"FOLLOWUP_DATABASE_URL": followup.url, "FOLLOWUP_NOW": NIGHT, **twilio_env(fake), **env}
    )
    return LiveServer(settings)


@pytest.fixture(autouse=True)
def patient_deadline(monkeypatch):
    """On a machine shared with other test runs, a first request can outlast the 5 s database deadline
    and be spooled; these tests are about what Twilio sees, not about the deadline (test_spool.py)."""
    monkeypatch.setattr("followup.web.DEADLINE_S", 30.0)


@pytest.fixture
def patient(followup):
    followup.clinic()
    return followup.enrol(1)


@pytest.fixture
def live(followup, patient, fake_twilio):
    with serve(followup, fake_twilio) as server:
        yield server


def post(live, form, path="/twilio/sms", token="secret", public=PUBLIC):
    return signed_post(live, path, form, token, public)


def said(response) -> str | None:
    node = ElementTree.fromstring(response.text).find("Message")
    return None if node is None else node.text


def consent_history(url: str, patient_id: int) -> list[tuple[str, str, str | None]]:
    with session_scope(engine_for(url)) as session:
        rows = session.execute(
            select(Consent.action, Consent.method, Consent.evidence)
            .where(Consent.patient_id == patient_id)
            .order_by(Consent.id)
        )
        return [tuple(r) for r in rows]


# --- 1. every answer is tracked; an undelivered emergency answer reaches the clinic ---------------


def test_an_undelivered_emergency_answer_is_tracked_to_failed_and_alerts_the_clinic_again(
    followup, live, fake_twilio
):
    response = post(live, courier(COURIER_RECEIVE_VALID, "e1", Body="I can't control my bladder"))
    assert "Call 911" in said(response)
    [answer] = fake_twilio.accept_twiml(response.text, to=PATIENT)  # Twilio takes the TwiML answer
    assert answer.status_callback.startswith(f"{PUBLIC}/twilio/status?message=")
    alerts_before = followup.json("messages", "--kind", "alert")
    assert fake_twilio.report(answer, "sent", server=live.url) == 204
    assert fake_twilio.report(answer, "undelivered", 30007, server=live.url) == 204
    [row] = [m for m in followup.json("messages", "--direction", "out") if m["kind"] == "escalation"]
    assert (row["status"], row["provider_id"]) == ("failed", answer.sid)
    assert row["error"].startswith("30007")
    again = [a for a in followup.json("messages", "--kind", "alert") if a not in alerts_before]
    assert {a["channel"] for a in again} == {"sms", "email"}
    assert all("not delivered" in a["body"].lower() for a in again)
    # A repeat of the same callback alerts nobody a third time.
    fake_twilio.report(answer, "undelivered", 30007, server=live.url)
    assert len(followup.json("messages", "--kind", "alert")) == len(alerts_before) + 2


def test_a_delivered_answer_is_delivered_and_alerts_nobody_again(followup, live, fake_twilio):
    response = post(live, courier(COURIER_RECEIVE_VALID, "u1", Body="pain 8"))
    [answer] = fake_twilio.accept_twiml(response.text, to=PATIENT)
    alerts = followup.json("messages", "--kind", "alert")
    assert fake_twilio.report(answer, "delivered", server=live.url) == 204
    [row] = [m for m in followup.json("messages", "--direction", "out") if m["kind"] == "escalation"]
    assert row["status"] == "delivered"
    assert followup.json("messages", "--kind", "alert") == alerts


def test_a_status_callback_naming_no_message_id_is_refused(live):
    form = dict(parse_qsl(COURIER_STATUS_STOP))
    assert post(live, form, path="/twilio/status?message=abc").status_code == 400


# --- 2. and 3. OptOutType and who answers keywords ------------------------------------------------


def test_an_advanced_opt_out_keyword_opts_out_records_optouttype_and_gets_no_second_answer(
    followup, live, patient
):
    form = courier(COURIER_RECEIVE_VALID, "arret", Body="ARRET", OptOutType="STOP")
    response = post(live, form)
    assert response.status_code == 200 and said(response) is None  # Twilio sent its own confirmation
    assert followup.json("patients")[0]["status"] == "opted_out"
    assert consent_history(followup.url, patient)[-1] == ("opted_out", "twilio:STOP", "ARRET")
    assert followup.json("escalations") == []  # not "could not read"
    assert [m for m in followup.json("messages", "--status", "pending")] == []  # nothing scheduled
    back = post(live, courier(COURIER_RECEIVE_VALID, "volver", Body="volver", OptOutType="START"))
    assert said(back) is None and followup.json("patients")[0]["status"] == "active"
    assert consent_history(followup.url, patient)[-1][:2] == ("opted_in", "twilio:START")


def test_with_twilio_answering_keywords_followup_sends_no_confirmation_of_its_own(followup, live):
    assert said(post(live, courier(COURIER_RECEIVE_VALID, "s1", Body="STOP"))) is None
    assert said(post(live, courier(COURIER_RECEIVE_VALID, "h1", Body="HELP"))) is None
    assert followup.json("patients")[0]["status"] == "opted_out"


def test_with_twilio_answering_keywords_a_stop_with_punctuation_is_confirmed_by_followup(followup, live):
    # Without OptOutType, "Stop!" may or may not be Twilio's keyword: followup's confirmation is sent,
    # and Twilio refuses it (21610) if it did opt the number out, so one confirmation arrives either way.
    assert "unsubscribed" in said(post(live, courier(COURIER_RECEIVE_VALID, "s!", Body="Stop!")))
    assert followup.json("patients")[0]["status"] == "opted_out"


def test_with_followup_answering_keywords_one_confirmation_and_none_for_a_second_stop(
    followup, patient, fake_twilio
):
    with serve(followup, fake_twilio, FOLLOWUP_KEYWORD_ANSWERS="followup") as live:
        first = said(post(live, courier(COURIER_RECEIVE_VALID, "s1", Body="STOP")))
        second = said(post(live, courier(COURIER_RECEIVE_VALID, "s2", Body="stop")))
    assert "unsubscribed" in first and second is None
    assert [c[0] for c in consent_history(followup.url, patient)] == ["granted", "opted_out"]


# --- 4. opt-out in ordinary words ------------------------------------------------------------------


def test_opt_out_in_ordinary_words_opts_out_and_confirms_once(followup, live, patient):
    response = post(live, courier(COURIER_RECEIVE_VALID, "p1", Body="Please stop texting me"))
    assert "unsubscribed" in said(response)  # Twilio does not know the phrase: followup confirms
    assert followup.json("patients")[0]["status"] == "opted_out"
    assert consent_history(followup.url, patient)[-1][:2] == ("opted_out", "sms")
    assert said(post(live, courier(COURIER_RECEIVE_VALID, "p2", Body="opt out"))) is None


def test_the_pain_wont_stop_opts_nobody_out(followup, live):
    response = post(live, courier(COURIER_RECEIVE_VALID, "n1", Body="the pain won't stop"))
    assert "unsubscribed" not in (said(response) or "")
    assert followup.json("patients")[0]["status"] == "active"


def test_an_ambiguous_phrase_gets_one_stop_hint_and_a_review(followup, live):
    first = said(post(live, courier(COURIER_RECEIVE_VALID, "a1", Body="can you stop")))
    second = said(post(live, courier(COURIER_RECEIVE_VALID, "a2", Body="I want to quit")))
    assert "Reply STOP to stop all messages" in first and second is None
    reviews = followup.json("escalations")
    assert [e["reason"] for e in reviews] == ["possible opt-out request"] * 2
    assert followup.json("patients")[0]["status"] == "active"


def test_an_opt_out_phrase_beside_a_red_flag_opts_out_and_still_alerts_the_clinic_at_its_tier(
    followup, live, patient
):
    body = "stop texting me, I can't feel my legs and wet myself"
    response = post(live, courier(COURIER_RECEIVE_VALID, "p-e1", Body=body))
    assert "unsubscribed" in said(response)  # the one confirmation; nothing else goes to them
    assert followup.json("patients")[0]["status"] == "opted_out"
    [alarm] = followup.json("escalations")
    assert alarm["tier"] == "emergency" and alarm["rule"].startswith("E")
    alerts = followup.json("messages", "--kind", "alert")
    assert {a["channel"] for a in alerts} == {"sms", "email"}
    assert [m for m in followup.json("messages", "--kind", "escalation")] == []  # the patient opted out


def test_ordinary_replies_naming_a_list_a_time_or_a_session_keep_the_patient_and_their_pain_score(
    followup, patient, fake_twilio
):
    bodies = {
        "take me off the 3pm appointment, pain 2": 2,
        "Please remove me from Thursday's class list, pain 3 N": 3,
        "I will opt out of the group session, pain 4 N": 4,
        "don't text me before 9, pain 3": 3,
    }
    with serve(followup, fake_twilio, FOLLOWUP_KEYWORD_ANSWERS="followup") as live:
        answers = [
            said(post(live, courier(COURIER_RECEIVE_VALID, f"o{i}", Body=b))) for i, b in enumerate(bodies)
        ]
    assert not any("unsubscribed" in (a or "") for a in answers)
    assert followup.json("patients")[0]["status"] == "active"
    shown = followup.json("patient", "show", patient)
    assert [r["pain"] for r in shown["readings"]] == list(bodies.values())


def test_start_from_a_subscribed_patient_gets_twilios_answer_only_and_yes_is_not_numbness(followup, live):
    for label, body, opt_out_type in (
        ("st1", "START", "START"),
        ("st2", "YES", "START"),
        ("st3", "start", None),
    ):
        form = courier(COURIER_RECEIVE_VALID, label, Body=body)
        if opt_out_type:
            form["OptOutType"] = opt_out_type
        assert said(post(live, form)) is None  # Twilio sent its own re-subscribe text
    assert followup.json("escalations") == []  # no "could not read", no S3 numbness
    assert followup.json("messages", "--kind", "alert") == []
    assert followup.json("patients")[0]["status"] == "active"


def test_a_photo_from_a_patient_who_opted_out_reaches_the_clinics_review(followup, live, patient):
    assert said(post(live, courier(COURIER_RECEIVE_VALID, "ph-stop", Body="STOP"))) is None
    form = courier(
        COURIER_RECEIVE_MEDIA,
        "ph-in",
        MessageSid="MM" + message_sid("ph-in")[2:],
        Body="see photo, my arm is swollen and red",
        MediaContentType0="image/jpeg",
    )
    assert said(post(live, form)) is None  # nothing goes to a patient who opted out
    [review] = followup.json("escalations")
    assert review["reason"] == "photo received"
    [email] = [a for a in followup.json("messages", "--kind", "alert") if a["channel"] == "email"]
    assert "cat.jpg (image/jpeg)" in email["body"]


def test_serve_loads_the_reader_of_every_language_before_it_accepts_the_first_reply(
    followup, patient, fake_twilio
):
    from followup import context, lexicon
    from followup.messages import LANGUAGES

    context.context_for.cache_clear()  # as in a fresh process: nothing of the reader loaded yet
    lexicon.load.cache_clear()
    settings = config.load(
        {"FOLLOWUP_DATABASE_URL": followup.url, "FOLLOWUP_NOW": NIGHT, **twilio_env(fake_twilio)}
    )
    with LiveServer(settings, lifespan="on") as live:
        # Up, and not one request yet: the ConText pipeline of every language is already built.
        assert context.context_for.cache_info().currsize == len(LANGUAGES)
        assert lexicon.load.cache_info().currsize >= len(LANGUAGES)
        response = post(
            live, courier(COURIER_RECEIVE_VALID, "first", Body="I wet myself and can't feel my legs")
        )
    assert "Call 911" in said(response)


# --- 5. and 6. ValidityPeriod and segments ---------------------------------------------------------


def test_twilio_is_given_the_seconds_left_in_the_grace_or_until_quiet_hours(followup, fake_twilio):
    followup.env = twilio_env(fake_twilio)
    clinic = followup.clinic()
    followup.enrol(clinic, **{"checkin-time": "20:15"})
    followup("tick", now="2026-12-01T14:00:00Z")  # 09:00 in New York: the reminder, due now
    followup("tick", now="2026-12-02T01:15:00Z")  # 20:15: the check-in, 45 min before quiet hours
    sent = fake_twilio.sent()
    reminder = next(r for r in sent if "time for your exercises" in r.body)
    checkin = next(r for r in sent if "check-in:" in r.body)
    assert reminder.validity_period == 2 * 3600  # the reminder: its whole 2 h grace
    assert checkin.validity_period == 45 * 60  # the check-in: until 21:00, not 22:15
    assert all(r.status_callback == f"{PUBLIC}/twilio/status" for r in fake_twilio.sent())


def test_the_rate_cap_is_paid_in_segments(sqlite_url):
    from factories import FakeClock, add_clinic, enrol, utc, worker

    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(sqlite_url, add_clinic(sqlite_url, clock()), clock(), n=2)
    paid: list[tuple[str, int]] = []
    w, sms, _ = worker(
        sqlite_url, clock, pace=lambda channel, segments=1: paid.append((channel, segments)) or True
    )
    w.tick()
    sms_paid = [n for channel, n in paid if channel == "sms"]
    cost = {s.message.kind: n for s, n in zip(sms.sent, sms_paid, strict=True)}
    assert cost["reminder"] == 2  # the reminder is two segments, and pays for two


def test_a_two_segment_message_takes_two_send_slots(sqlite_url):
    import time

    from test_ratecap import max_in_any_second

    from followup.ratecap import RateCap

    cap, stamps = RateCap(engine_for(sqlite_url), "sms:+16175550100", 40), []
    for _ in range(30):  # 60 segments at 40 a second: 1.5 s
        assert cap.wait("sms", 2)
        stamps.append(time.time())
    assert max_in_any_second(stamps) <= 20  # messages; 40 segments


# --- 7. the clinic's name and UCS-2 -----------------------------------------------------------------


def test_clinic_add_warns_when_the_name_forces_ucs2_and_the_sms_name_keeps_texts_gsm7(followup, fake_twilio):
    added = followup("clinic", "add", "--name", "Clínica San José", "--phone", "+16175550100",
                     "--timezone", "America/New_York", "--alert-email", "a@b.test")  # fmt: skip
    assert "outside GSM-7 (í)" in added.stderr and "--sms-name 'Clinica San José'" in added.stderr
    named = followup("clinic", "add", "--name", "Clínica San José", "--sms-name", "Clinica San Jose",
                     "--phone", "+16175550101", "--timezone", "America/New_York", "--alert-email", "a@b.test",
                     "--json")  # fmt: skip
    assert json.loads(named.stdout)["sms_name"] == "Clinica San Jose" and "warning" not in named.stderr
    followup.env = twilio_env(fake_twilio)
    followup.enrol(2, language="es")
    followup("tick")
    texts = [r.body for r in fake_twilio.sent()]  # the confirmation and the 09:00 reminder
    assert len(texts) == 2 and all(t.startswith("Clinica San Jose") for t in texts)
    assert all(sms_shape(t).encoding == "GSM-7" for t in texts)
    bad = followup("clinic", "add", "--name", "X", "--sms-name", "Clínica", "--phone", "+16175550102",
                   "--timezone", "America/New_York", expect=2)  # fmt: skip
    assert "sms-name" in bad.stderr and followup.json("clinic", "list")[-1]["id"] == 2


@pytest.mark.parametrize(
    "name", ["診療所", "Ελληνική Κλινική", "Fisioterapia y Rehabilitación Integral de la Comunidad"]
)
def test_the_sms_name_clinic_add_suggests_is_one_it_accepts_or_it_says_to_choose_one(followup_sqlite, name):
    import re

    added = followup_sqlite(
        "clinic", "add", "--name", name, "--phone", "+16175550100", "--timezone", "America/New_York",
        "--alert-email", "oncall@clinic.example",
    )  # fmt: skip
    offered = re.search(r"--sms-name '([^']*)'", added.stderr)
    if offered is None:
        assert "choose one in Latin letters by hand" in added.stderr
        return
    sms_name = offered.group(1)
    followup_sqlite("clinic", "add", "--name", name, "--sms-name", sms_name, "--phone", "+16175550101",
                    "--timezone", "America/New_York", "--alert-email", "oncall@clinic.example")  # fmt: skip


# --- 8. MMS ----------------------------------------------------------------------------------------


def test_a_photo_without_words_is_stored_reviewed_and_shown_without_a_clarifying_answer(
    followup, live, patient
):
    form = courier(
        COURIER_RECEIVE_MEDIA,
        "mms",
        MessageSid="MM" + message_sid("mms")[2:],
        MediaContentType0="image/jpeg",
        MediaContentType1="image/jpeg",
    )
    response = post(live, form)
    assert response.status_code == 200  # no Body field (courier: 200)
    assert "could not read" not in said(response) and "will read your message" in said(response)
    [review] = followup.json("escalations")
    assert review["reason"] == "photo received"
    [inbound] = followup.json("messages", "--direction", "in")
    assert inbound["media"] == [
        {"url": "cat.jpg", "type": "image/jpeg"},
        {"url": "dog.jpg", "type": "image/jpeg"},
    ]
    assert "cat.jpg" in followup("patient", "show", patient).stdout
    exported = json.loads(followup("patient", "export", patient).stdout)
    assert [m["media"] for m in exported["messages"] if m["direction"] == "in"] == [inbound["media"]]
    [email] = [a for a in followup.json("messages", "--kind", "alert") if a["channel"] == "email"]
    assert "cat.jpg (image/jpeg)" in email["body"]
    fhir = json.loads(followup("patient", "export", patient, "--format", "fhir").stdout)
    Bundle.model_validate(fhir)
    [photo] = [
        e["resource"]
        for e in fhir["entry"]
        if e["resource"]["resourceType"] == "Communication" and e["resource"]["sender"]["type"] == "Patient"
    ]
    assert photo["payload"] == [
        {"contentAttachment": {"url": "cat.jpg", "contentType": "image/jpeg"}},
        {"contentAttachment": {"url": "dog.jpg", "contentType": "image/jpeg"}},
    ]


def test_media_fields_twilio_never_sends_are_refused_and_nothing_is_stored(followup, live):
    for i, field in enumerate(
        [
            {"MediaContentType0": "image/" + "x" * 30_000},
            {"MediaContentType0": "<script>"},
            {"MediaUrl0": "javascript:alert(1)"},
            {"MediaUrl0": "file:///etc/passwd"},
        ]
    ):
        form = courier(
            COURIER_RECEIVE_MEDIA, f"bad{i}", MessageSid="MM" + message_sid(f"bad{i}")[2:], **field
        )
        assert post(live, form).status_code == 400, field
    assert followup.json("messages", "--direction", "in") == []


# --- 9. the smaller mismatches ---------------------------------------------------------------------


def test_a_public_url_with_credentials_is_checked_as_twilio_signs_it(followup, patient, fake_twilio):
    with serve(followup, fake_twilio, FOLLOWUP_PUBLIC_URL="https://user:pass@followup.example") as live:
        response = post(live, courier(COURIER_RECEIVE_VALID, "c1", Body="6 N"), public=PUBLIC)
        forged = post(live, courier(COURIER_RECEIVE_VALID, "c2", Body="6 N"), token="guessed")
    assert response.status_code == 200 and forged.status_code == 403


def test_a_landline_30006_marks_the_number_unusable(followup, patient, fake_twilio):
    followup.env = twilio_env(fake_twilio)
    followup("tick", now="2026-12-01T14:00:00Z")
    reminder = next(r for r in fake_twilio.sent() if "time for your exercises" in r.body)
    with serve(followup, fake_twilio) as live:
        assert fake_twilio.report(reminder, "undelivered", 30006, server=live.url) == 204
    with session_scope(engine_for(followup.url)) as session:
        assert session.get(Patient, patient).phone_unusable is True
        row = session.execute(select(Message).where(Message.provider_id == reminder.sid)).scalar_one()
        assert row.status == "failed" and row.error.startswith("30006")


# --- the same through the spool (the database was away) ---------------------------------------------


def test_a_spooled_advanced_opt_out_and_photo_keep_their_meaning(followup, patient, tmp_path):
    from datetime import UTC, datetime

    from followup import spool

    arrived = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)
    arret = courier(COURIER_RECEIVE_VALID, "sp-arret", Body="ARRET", OptOutType="STOP")
    photo = courier(COURIER_RECEIVE_MEDIA, "sp-photo", MessageSid="MM" + message_sid("sp-photo")[2:])
    spool.save(str(tmp_path), photo, arrived)
    spool.save(str(tmp_path), arret, arrived)
    assert spool.drain(engine_for(followup.url), str(tmp_path), twilio_answers=True) == 2
    assert followup.json("patients")[0]["status"] == "opted_out"
    assert consent_history(followup.url, patient)[-1][:2] == ("opted_out", "twilio:STOP")
    media = [m["media"] for m in followup.json("messages", "--direction", "in") if m["media"]]
    assert media == [[{"url": "cat.jpg", "type": None}, {"url": "dog.jpg", "type": None}]]
    # No confirmation queued: Twilio sent its own (and would refuse ours with 21610).
    assert [m for m in followup.json("messages", "--kind", "optout")] == []


def test_an_emergency_answer_sent_by_sms_after_an_outage_that_fails_alerts_the_clinic_again(sqlite_url):
    from factories import FakeClock, add_clinic, enrol, utc, worker

    from followup import inbound
    from followup.channels.base import DeliveryError

    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    enrol(sqlite_url, add_clinic(sqlite_url, clock()), clock())
    with session_scope(engine_for(sqlite_url)) as session:  # drained from the spool: answered by SMS
        inbound.handle(
            session,
            sender="+16175551000",
            body="I can't control my bladder",
            now=clock(),
            answered_inline=False,
        )
    w, sms, _ = worker(sqlite_url, clock)
    sms.fail_when(
        lambda m: (
            DeliveryError("unreachable", permanent=True, code="30005") if m.kind == "escalation" else None
        )
    )
    w.tick()
    w.tick()  # the new alerts go out
    again = [s.message for s in sms.sent if "NOT delivered" in s.message.body]
    assert [m.to for m in again] == ["+16175550199"]


@pytest.mark.parametrize("why", ["phone unusable", "stale"])
def test_an_emergency_answer_queued_after_an_outage_that_is_never_sent_alerts_the_clinic_again(
    sqlite_url, why
):
    from datetime import timedelta

    from factories import FakeClock, add_clinic, enrol, utc, worker
    from sqlalchemy import update

    from followup import inbound

    clock = FakeClock(utc(2026, 12, 1, 14, 0))
    [patient_id] = enrol(sqlite_url, add_clinic(sqlite_url, clock()), clock())
    with session_scope(engine_for(sqlite_url)) as session:  # drained from the spool: answered by SMS
        inbound.handle(
            session, sender="+16175551000", body="I wet myself", now=clock(), answered_inline=False
        )
        if why == "phone unusable":
            session.execute(update(Patient).where(Patient.id == patient_id).values(phone_unusable=True))
    w, sms, _ = worker(sqlite_url, clock)
    if why == "stale":
        sms.fail_when(lambda m: DeliveryError("outage", permanent=False) if m.kind == "escalation" else None)
        w.tick()
        clock.t += timedelta(hours=25)  # a day of Twilio outage: past the answer's grace
        sms.fail_when(lambda m: None)
    w.tick()
    w.tick()  # the new alerts go out
    with session_scope(engine_for(sqlite_url)) as session:
        answer = session.execute(select(Message).where(Message.kind == "escalation")).scalar_one()
        assert answer.status == "skipped"
    again = [s.message for s in sms.sent if "NOT delivered" in s.message.body]
    assert [m.to for m in again] == ["+16175550199"]


def test_the_answer_to_a_second_red_flag_while_the_first_is_open_alerts_the_clinic_when_undelivered(
    followup, live, fake_twilio
):
    first = post(live, courier(COURIER_RECEIVE_VALID, "e1a", Body="I wet myself"))
    [one] = fake_twilio.accept_twiml(first.text, to=PATIENT)
    assert fake_twilio.report(one, "undelivered", 30007, server=live.url) == 204
    alerts = followup.json("messages", "--kind", "alert")
    second = post(live, courier(COURIER_RECEIVE_VALID, "e1b", Body="I wet myself again"))
    assert "Call 911" in said(second)
    assert len(followup.json("escalations")) == 1  # E1 is open: nothing new recorded
    [two] = fake_twilio.accept_twiml(second.text, to=PATIENT)
    assert fake_twilio.report(two, "undelivered", 30005, server=live.url) == 204
    again = [a for a in followup.json("messages", "--kind", "alert") if a not in alerts]
    assert {a["channel"] for a in again} == {"sms", "email"}
    assert all("not delivered" in a["body"].lower() for a in again)


def test_a_message_whose_window_closes_while_it_waits_for_its_send_slot_is_not_sent_in_quiet_hours(
    sqlite_url,
):
    from factories import FakeClock, add_clinic, enrol, utc, worker

    clock = FakeClock(utc(2026, 12, 2, 1, 58))  # 20:58 in New York, the check-in's time
    enrol(sqlite_url, add_clinic(sqlite_url, clock()), clock(), checkin_time="20:58")
    # The cap keeps it waiting five minutes: by its turn it is 21:03, inside quiet hours.
    w, sms, _ = worker(sqlite_url, clock, pace=lambda channel, segments=1: clock.advance(minutes=5) and True)
    w.tick()
    assert sms.sent == []  # neither the check-in nor the enrolment confirmation went out at 21:03
    with session_scope(engine_for(sqlite_url)) as session:
        rows: dict[str, Message] = {}
        for m in session.execute(select(Message).order_by(Message.due_at)).scalars():
            rows.setdefault(m.kind, m)  # each kind's first: today's check-in
    assert (rows["checkin"].status, rows["checkin"].error) == (
        "skipped",
        "quiet hours: the sending window opens after the message's grace",
    )
    confirmation = rows["confirmation"]  # a day's grace: it waits for 08:00
    assert (confirmation.status, confirmation.next_attempt_at) == ("pending", utc(2026, 12, 2, 13, 0))
