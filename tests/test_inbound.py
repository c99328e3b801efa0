"""Replies end to end through `followup reply` and `followup tick`, on a fake clock."""

import pytest

PHONE = "+16175550123"
DAY1_EVENING = "2026-12-02T00:30:00Z"  # 19:30 on 1 December in New York


def evening(day: int) -> str:
    return f"2026-12-{day + 1:02d}T00:30:00Z"


@pytest.fixture
def clinic_and_patient(followup):
    clinic = followup.clinic()
    return clinic, followup.enrol(clinic)


def reply(followup, body, now=DAY1_EVENING, **kw):
    return followup.json("reply", "--from", PHONE, "--body", body, now=now, **kw)


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Stop.", "STOPALL", "unsubscribe", "CANCEL", "end", "QUIT", "REVOKE", "OptOut"]
)
def test_any_stop_word_opts_out_at_once_with_one_confirmation(followup_sqlite, word):
    followup = followup_sqlite
    followup.enrol(followup.clinic())
    result = reply(followup, word)
    assert "unsubscribed" in result["reply"] and "START" in result["reply"]
    assert followup.json("patients")[0]["status"] == "opted_out"
    assert followup.json("messages", "--status", "pending") == []
    assert reply(followup, "6 N")["reply"] is None  # nothing more until START
    assert (
        followup.json("messages", "--kind", "optout")
        and len(followup.json("messages", "--kind", "optout")) == 1
    )


def test_start_after_stop_opts_back_in_and_plans_again(followup, clinic_and_patient):
    reply(followup, "STOP")
    result = reply(followup, "start")
    assert "subscribed again" in result["reply"]
    assert followup.json("patients")[0]["status"] == "active"
    assert followup.json("messages", "--status", "pending", "--kind", "reminder")


def test_help_gives_the_clinic_name_and_phone(followup, clinic_and_patient):
    text = reply(followup, "HELP")["reply"]
    assert "Elm Street Physio" in text and "+16175550100" in text


# A bare HELP is the carriers' keyword, but a patient in trouble may send it too: the answer says
# what to do in an emergency, in the patient's language, and is still the HELP answer.
@pytest.mark.parametrize(
    "language, emergency",
    [
        ("en", "Emergency? Call 911 now. Do not text."),
        ("es", "Emergencia? Llame al 911 ahora. No envie mensajes."),
    ],
)
@pytest.mark.parametrize("word", ["HELP", "help", "Help!"])
def test_a_patient_who_texts_help_is_told_to_call_911(followup_sqlite, language, emergency, word):
    from followup.segments import sms_shape

    followup = followup_sqlite
    followup.enrol(followup.clinic(), language=language)
    result = reply(followup, word)
    text = result["reply"]
    assert emergency in text
    assert text.startswith("Elm Street Physio") and "+16175550100" in text and "STOP" in text
    assert [m["body"] for m in followup.json("messages", "--kind", "help")] == [text]
    assert sms_shape(text).segments <= 2
    assert followup.json("patients")[0]["status"] == "active"


def test_a_bare_help_is_also_read_by_a_person_whoever_answers_it(followup, clinic_and_patient):
    # The clinic sees it as a review (it may be a cry for help), also when Twilio sends the answer.
    assert "Emergency?" in reply(followup, "HELP")["reply"]
    twilio = reply(followup, "help", now="2026-12-02T00:40:00Z", env={"FOLLOWUP_KEYWORD_ANSWERS": "twilio"})
    assert twilio["reply"] is None  # Twilio answered it: its HELP response (README)
    reviews = followup.json("escalations", "--open")
    assert [(e["rule"], e["tier"], e["reason"]) for e in reviews] == [
        ("REVIEW", "routine", "HELP: may be a cry for help")
    ] * 2
    assert "Emergency?" in reply(followup, "INFO", now="2026-12-02T00:45:00Z")["reply"]
    assert len(followup.json("escalations")) == 2  # INFO asks for information only: no review


def test_an_unknown_sender_gets_a_polite_generic_reply_that_reveals_nothing(followup, clinic_and_patient):
    result = followup.json("reply", "--from", "+12125550100", "--body", "6 N", now=DAY1_EVENING)
    assert "could not match your number" in result["reply"]
    assert "Elm" not in result["reply"] and result["patient_id"] is None
    assert followup.json("messages", "--direction", "in")[0]["body"] == "6 N"


def test_an_unreadable_reply_gets_one_clarification_and_a_review_item_never_reassurance(
    followup, clinic_and_patient
):
    first = reply(followup, "the weather today")
    second = reply(followup, "hmm", now="2026-12-02T00:35:00Z")
    assert "could not read that" in first["reply"] and "thank" not in first["reply"].lower()
    assert second["reply"] is None
    reviews = followup.json("escalations", "--open")
    assert [(e["rule"], e["tier"]) for e in reviews] == [("REVIEW", "routine"), ("REVIEW", "routine")]


def test_a_check_in_answer_is_recorded_and_thanked(followup, clinic_and_patient):
    assert "thank you" in reply(followup, "2 N")["reply"].lower()
    assert followup.json("escalations") == []


def test_an_emergency_tells_the_patient_to_call_911_alerts_the_clinic_and_holds_reminders(
    followup, clinic_and_patient
):
    _, patient = clinic_and_patient
    result = reply(followup, "I can't control my bladder since this morning")
    assert "Call 911" in result["reply"]
    [escalation] = followup.json("escalations", "--open")
    assert (escalation["rule"], escalation["tier"], escalation["patient_id"]) == ("E1", "emergency", patient)
    alerts = followup.json("messages", "--kind", "alert")
    assert {a["channel"] for a in alerts} == {"email", "sms"} and all(
        a["patient_id"] == patient for a in alerts
    )
    assert "bladder" not in next(a for a in alerts if a["channel"] == "sms")["body"]  # minimum necessary
    pending = {m["kind"] for m in followup.json("messages", "--status", "pending", "--patient", patient)}
    assert "reminder" not in pending and "checkin" in pending  # check-ins go on

    followup("tick", now="2026-12-02T00:31:00Z")  # 19:31: alerts go out at once, quiet hours or not
    assert {a["status"] for a in followup.json("messages", "--kind", "alert")} == {"sent"}

    followup("resume", patient, now="2026-12-02T15:00:00Z")
    assert followup.json("messages", "--status", "pending", "--kind", "reminder", "--patient", patient)


def test_the_same_rule_does_not_fire_twice_while_open_and_fires_again_after_ack(followup, clinic_and_patient):
    reply(followup, "pain 8")
    reply(followup, "pain 9", now="2026-12-02T00:40:00Z")
    assert [e["rule"] for e in followup.json("escalations")] == ["U3"]
    followup("escalations", "ack", "1", "--by", "Dr Lee", "--note", "called her")
    assert followup.json("escalations", "--open") == []
    reply(followup, "pain 8", now=evening(2))
    assert [e["rule"] for e in followup.json("escalations")] == ["U3", "U3"]


def test_a_bare_yes_to_an_exercise_reminder_is_done_and_to_a_check_in_is_numbness(
    followup, clinic_and_patient
):
    followup("tick", now="2026-12-01T14:00:00Z")  # 09:00 in New York: the exercise reminder
    answer = reply(followup, "yep", now="2026-12-01T14:30:00Z")
    assert "contact your doctor" not in answer["reply"]
    assert followup.json("escalations") == []
    followup("tick", now="2026-12-02T00:00:00Z")  # 19:00: the check-in asks about numbness
    assert "contact your doctor" in reply(followup, "Y", now=DAY1_EVENING)["reply"]
    assert [e["rule"] for e in followup.json("escalations")] == ["S3"]


@pytest.mark.parametrize(
    "body",
    ["done, managed 8 head lifts not 10", "done, I can hold the full 10 now", "did 8 of the 10 head lifts"],
)
def test_the_numbers_of_an_exercise_report_after_a_reminder_are_no_pain_score(
    followup, clinic_and_patient, body
):
    followup("tick", now="2026-12-01T14:00:00Z")  # 09:00 in New York: the exercise reminder
    answer = reply(followup, body, now="2026-12-01T14:30:00Z")
    assert "call the clinic" not in answer["reply"]
    assert followup.json("escalations") == []


@pytest.mark.parametrize(
    "body", ["done, pain 8", "did them. 8 N", "did them, 8/10", "did them, 9", "hice los ejercicios, 9"]
)
def test_a_score_said_as_one_after_a_reminder_still_escalates(followup, clinic_and_patient, body):
    followup("tick", now="2026-12-01T14:00:00Z")
    assert "call the clinic today" in reply(followup, body, now="2026-12-01T14:30:00Z")["reply"]
    assert [e["rule"] for e in followup.json("escalations")] == ["U3"]


def test_a_bare_number_beside_done_at_a_check_in_is_still_read_as_pain(followup, clinic_and_patient):
    followup("tick", now="2026-12-02T00:00:00Z")  # 19:00: the check-in asks for a score
    assert "call the clinic today" in reply(followup, "done them, 8 today", now=DAY1_EVENING)["reply"]


def test_a_bare_yes_after_a_reminder_that_follows_a_check_in_closely_is_still_numbness(followup):
    clinic = followup.clinic()
    followup.enrol(clinic, **{"reminder-times": "09:00,19:30", "checkin-time": "19:00"})
    followup("tick", now="2026-12-02T00:00:00Z")  # 19:00: the check-in
    followup("tick", now="2026-12-02T00:30:00Z")  # 19:30: an exercise reminder after it
    assert "contact your doctor" in reply(followup, "yes", now="2026-12-02T00:40:00Z")["reply"]


def test_persistent_pain_reaches_the_clinic_even_while_an_urgent_escalation_is_open(
    followup, clinic_and_patient
):
    reply(followup, "7 N", now=evening(1))
    reply(followup, "7 N", now=evening(2))
    third = reply(followup, "7 N", now=evening(3))
    assert "call the clinic today" in third["reply"]  # answered at the highest tier, as before
    assert [e["rule"] for e in followup.json("escalations")] == ["U3", "S1"]
    reply(followup, "7 N", now=evening(4))  # both open now: nothing new for the clinic
    assert len(followup.json("escalations")) == 2


def test_persistent_pain_tells_the_patient_to_contact_their_doctor_on_the_third_day(
    followup, clinic_and_patient
):
    assert "contact your doctor" not in reply(followup, "5 N", now=evening(1))["reply"]
    assert "contact your doctor" not in reply(followup, "5 N", now=evening(2))["reply"]
    assert "contact your doctor" in reply(followup, "5 N", now=evening(3))["reply"]
    assert [(e["rule"], e["tier"]) for e in followup.json("escalations")] == [("S1", "soon")]
    reply(followup, "5 N", now=evening(4))
    assert len(followup.json("escalations")) == 1


def test_persistent_pain_is_noticed_when_the_patient_texts_done_after_each_check_in(
    followup, clinic_and_patient
):
    for day in (1, 2):
        reply(followup, "5 N", now=evening(day))
        reply(followup, "DONE", now=f"2026-12-{day + 1:02d}T02:00:00Z")  # 21:00 in New York
    assert "contact your doctor" in reply(followup, "5 N", now=evening(3))["reply"]
    assert [e["rule"] for e in followup.json("escalations")] == ["S1"]


def test_shooting_pain_asks_for_an_appointment(followup_sqlite):
    followup_sqlite.enrol(followup_sqlite.clinic())
    text = reply(followup_sqlite, "pain 3, shooting down my spine")["reply"]
    assert "contact your doctor to make an appointment" in text


def test_a_retried_message_sid_is_processed_once(followup, clinic_and_patient):
    first = followup.json("reply", "--from", PHONE, "--body", "pain 8", "--sid", "SM1", now=DAY1_EVENING)
    again = followup.json("reply", "--from", PHONE, "--body", "pain 8", "--sid", "SM1", now=DAY1_EVENING)
    assert again["duplicate"] and again["reply"] == first["reply"]
    assert len(followup.json("messages", "--direction", "in")) == 1 and len(followup.json("escalations")) == 1


def test_no_reply_to_two_checkins_nudges_and_to_three_opens_a_review(followup_sqlite):
    followup = followup_sqlite
    followup.enrol(followup.clinic())
    for day in range(1, 6):  # tick at each day's 19:00 check-in, then a little past it
        for hour in ("00:00:10", "00:30:00"):
            followup("tick", now=f"2026-12-{day + 1:02d}T{hour}Z")
    nudges = followup.json("messages", "--kind", "nudge")
    reviews = [e for e in followup.json("escalations") if e["rule"] == "R1"]
    # A check-in is missed once 24 h pass without a reply: the second is missed at 19:00 on day 3.
    assert len(nudges) == 1 and nudges[0]["due_at"] == "2026-12-04T00:00:10Z"
    assert len(reviews) == 1 and reviews[0]["created_at"] == "2026-12-05T00:00:10Z"  # the third


def test_a_reply_resets_the_count_of_missed_checkins(followup_sqlite):
    followup = followup_sqlite
    followup.enrol(followup.clinic())
    for day in range(1, 5):
        for hour in ("00:00:10", "00:30:00"):
            followup("tick", now=f"2026-12-{day + 1:02d}T{hour}Z")
        reply(followup, "2 N", now=f"2026-12-{day + 1:02d}T01:00:00Z")
    assert followup.json("messages", "--kind", "nudge") == []


def test_an_unacknowledged_emergency_is_realerted_once_after_15_minutes(followup_sqlite):
    followup = followup_sqlite
    followup.enrol(followup.clinic())
    reply(followup, "chest pain", now="2026-12-01T18:00:00Z")
    followup("tick", now="2026-12-01T18:10:00Z")
    assert len(followup.json("messages", "--kind", "alert")) == 2  # email and SMS
    followup("tick", now="2026-12-01T18:16:00Z")
    followup("tick", now="2026-12-01T18:40:00Z")
    sms_alerts = [m for m in followup.json("messages", "--kind", "alert") if m["channel"] == "sms"]
    assert len(sms_alerts) == 2


def test_hourly_rules_realert_each_tier_once_at_the_first_run_past_its_window(followup_sqlite):
    # Urgent after 4 h, emergency after 15 min: the hourly runs before a window ends find nothing due
    # and look no further; the first run past it re-alerts, once.
    followup = followup_sqlite
    followup.enrol(followup.clinic())
    reply(followup, "pain 8, numb yes", now="2026-12-01T18:00:00Z")  # urgent (U3)
    realerted = {}
    for hour in range(18, 24):
        at = f"2026-12-01T{hour}:30:00Z"
        if hour == 19:
            reply(followup, "chest pain", now="2026-12-01T19:20:00Z")  # emergency (E1), 10 min before
        realerted[hour] = followup.json("tick", now=at)["realerted"]
    assert realerted == {18: 0, 19: 0, 20: 1, 21: 0, 22: 1, 23: 0}
    sms = [m for m in followup.json("messages", "--kind", "alert") if m["channel"] == "sms"]
    assert len(sms) == 4  # each escalation's first alert and its one re-alert


def test_acknowledging_twice_or_without_a_name_is_refused(followup_sqlite):
    followup_sqlite.enrol(followup_sqlite.clinic())
    reply(followup_sqlite, "pain 9")
    assert "already acknowledged" not in followup_sqlite("escalations", "ack", "1", "--by", "A").stderr
    assert (
        "already acknowledged by A"
        in followup_sqlite("escalations", "ack", "1", "--by", "B", expect=2).stderr
    )
    assert (
        "no escalation with id 9" in followup_sqlite("escalations", "ack", "9", "--by", "B", expect=2).stderr
    )


def test_patient_show_tells_the_story_of_replies_readings_and_escalations(followup, clinic_and_patient):
    _, patient = clinic_and_patient
    reply(followup, "pain 8, numb yes")
    followup("escalations", "ack", "1", "--by", "Dr Lee", now="2026-12-02T01:00:00Z")
    shown = followup.json("patient", "show", patient)
    assert [(r["pain"], r["numbness"]) for r in shown["readings"]] == [(8, True)]
    assert [(e["rule"], e["acknowledged_by"]) for e in shown["escalations"]] == [("U3", "Dr Lee")]
    text = followup("patient", "show", patient).stdout
    assert '"pain 8, numb yes" -> pain 8, numbness yes' in text
    assert "escalation 1 U3 (urgent): severe pain: 8/10" in text
    assert "Tue 2026-12-01 20:00 ✓ escalation 1 acknowledged by Dr Lee" in text  # local time


def _reviews(followup):
    return [e for e in followup.json("escalations", "--open") if e["rule"] == "REVIEW"]


def test_a_question_goes_to_the_clinic_and_the_answer_names_the_emergency_signs(followup, clinic_and_patient):
    result = reply(followup, "should I still do the exercises when it hurts?")
    assert "A clinician will read your message" in result["reply"] and "call 911 now" in result["reply"]
    assert [e["reason"] for e in _reviews(followup)] == ["a question from the patient"]


def test_words_the_reader_cannot_place_are_reviewed_never_thanked_plainly(followup, clinic_and_patient):
    result = reply(followup, "3 N, my hand zorbled again")
    assert "call 911 now" in result["reply"] and "The clinic will read your message" in result["reply"]
    assert [e["reason"] for e in _reviews(followup)] == ["words the reader could not account for"]


def test_everyday_chit_chat_beside_an_answer_gets_the_emergency_signs_but_no_review(
    followup, clinic_and_patient
):
    result = reply(followup, "3 N, long shift at work today")
    assert "thank you, your answer is recorded" in result["reply"] and "call 911 now" in result["reply"]
    assert followup.json("escalations") == []


def test_a_fully_read_answer_gets_a_plain_thank_you_and_no_review(followup, clinic_and_patient):
    assert "call 911" not in reply(followup, "3 N, no chest pain")["reply"]
    assert followup.json("escalations") == []


def test_a_red_flag_from_a_patient_who_opted_out_alerts_the_clinic_and_tells_the_patient_nothing(
    followup, clinic_and_patient
):
    reply(followup, "STOP")
    result = reply(followup, "I wet myself and my legs are numb", now="2026-12-02T01:00:00Z")
    assert result["reply"] is None
    [escalation] = followup.json("escalations", "--open")
    assert (escalation["rule"], escalation["tier"]) == ("E1", "emergency")
    assert followup.json("messages", "--kind", "alert")
    assert [
        m["kind"] for m in followup.json("messages", "--direction", "out") if m["kind"] == "escalation"
    ] == []
