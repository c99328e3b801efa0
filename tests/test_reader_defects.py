"""Defects of the reader an independent tester found (issue 13), each through `followup reply`: what
the patient is answered and what the clinic is given. The texts are written for these tests, not
taken from the triage corpus."""

import pytest

from followup import replies

PHONE = "+16175550123"
EVENING = "2026-12-02T00:30:00Z"  # 19:30 on 1 December in New York


def answer(followup, body: str, language: str = "en") -> tuple[dict, list[dict]]:
    """The patient's first reply: what `followup reply` did, and the escalations it opened."""
    followup.enrol(followup.clinic(), language=language)
    result = followup.json("reply", "--from", PHONE, "--body", body, now=EVENING)
    return result, followup.json("escalations", "--open")


def es(text: str):
    return pytest.param(text, "es", id=f"es:{text}")


def en(text: str):
    return pytest.param(text, "en", id=text)


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N zero sensation down below"),
        en("less feeling down below"),
        en("3 N reduced sensation around my bum"),
        en("3 N hardly any feeling in my groin"),
        es("3 N cero sensibilidad ahí abajo"),
        es("3 N menos sensibilidad en la entrepierna"),
    ],
)
def test_no_or_less_feeling_down_below_is_saddle_numbness_and_an_emergency(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:E1" and "911" in result["reply"]
    assert [e["rule"] for e in opened] == ["E1"]


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N help"),
        en("3 N please help"),
        en("3 N help me"),
        en("3 N HELP!!"),
        en("3 N somebody help"),
        en("3 N helppp"),
        en("3 N hlep"),
        en("3 N I need help"),
        en("3 N sos"),
        en("please help me"),
        es("3 N auxilio"),
        es("3 N ayúdenme"),
        es("3 N ayuda por favor"),
        es("3 N socorro"),
        es("3 N necesito ayuda"),
        es("3 N help"),
        en("3 N auxilio"),
    ],
)
def test_a_cry_for_help_is_never_a_plain_thank_you_it_names_the_emergency_signs_and_is_reviewed(
    followup_sqlite, body, language
):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] not in ("recorded", "encouragement", "recorded, safety net")
    assert "911" in result["reply"]
    assert "REVIEW" in {e["rule"] for e in opened}


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N dont need help"),
        en("3 N no help needed"),
        en("3 N stretching helps"),
        en("3 N the heat helped a lot"),
        en("3 N, thanks for your help"),
        en("I can walk fine, not unstable"),
        en("3 N not lightheaded"),
        es("3 N no necesito ayuda"),
        es("3 N el calor me ayuda"),
        es("2 N, voy mejorando pasito a pasito"),
    ],
)
def test_saying_help_is_not_needed_or_helps_is_no_escalation(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation")
    assert {e["rule"] for e in opened} <= {"REVIEW"}


@pytest.mark.parametrize(
    "body, language, rule",
    [
        ("3 N unbalanced", "en", "E2"),
        ("3 N imbalanced", "en", "E2"),
        ("3 N feeling a bit unbalanced today", "en", "E2"),
        ("3 N unstable on my feet", "en", "E2"),
        ("3 N very unstable", "en", "E2"),
        ("3 N not steady on my feet", "en", "E2"),
        ("3 N can only take small steps", "en", "E2"),
        ("3 N went without knowing", "en", "E1"),
        ("3 N didnt make it to the toilet in time this morning", "en", "E1"),
        ("3 N couldnt make it in time to the bathroom", "en", "E1"),
        ("3 N no llegué al baño a tiempo", "es", "E1"),
        ("3 N pasos cortos", "es", "E2"),
        ("3 N doy pasitos", "es", "E2"),
        ("3 N cojera", "es", "E2"),
        ("3 N ando cojeando", "es", "E2"),
        ("3 N can only walk with help", "en", "E2"),
        ("3 N camino con ayuda", "es", "E2"),
    ],
)
def test_unsteadiness_small_steps_or_not_making_it_in_time_are_emergencies(
    followup_sqlite, body, language, rule
):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] == f"escalation:{rule}" and "911" in result["reply"]


@pytest.mark.parametrize(
    "body",
    [
        "3 N didnt make it in time for the bus",
        "3 N the wifi is unstable",
        "3 N baby steps with the exercises",
    ],
)
def test_everyday_senses_of_those_words_are_no_emergency(followup_sqlite, body):
    result, _ = answer(followup_sqlite, body)
    assert not result["action"].startswith("escalation:E")


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N the shelf is unstable"),
        en("3 N my diet is unbalanced lol"),
        en("3 N feeling emotionally unstable lately"),
        en("3 N unstable housing situation"),
        en("3 N walked with help of google maps lol"),
        en("3 N less feeling of pain in my bum"),
        en("3 N less feeling sore"),
        en("3 N no numbness except my hands are cold"),
        en("3 N no numbness except my bottom is sore"),
        en("3 N no numbness in my groin, except some back pain"),
        en("3 N went without knowing why lol"),
        es("3 N pasos cortos en el baile jaja"),
        es("3 N me levanto temprano con ayuda del despertador"),
    ],
)
def test_a_shelf_a_diet_or_another_feeling_in_those_words_is_not_sent_to_911(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:"), result["action"]
    assert not any(e["rule"].startswith(("E", "U", "S")) for e in opened)


@pytest.mark.parametrize(
    "body",
    ["3 N didnt make it in time", "3 N didnt make it in time, missed the train"],
)
def test_not_making_it_in_time_with_nothing_to_say_where_is_read_by_the_clinic(followup_sqlite, body):
    """It may be the toilet or the train: no 911 page for the clinic, but a review, and the answer
    names the emergency signs (with a toilet it is E1, above)."""
    result, opened = answer(followup_sqlite, body)
    assert result["action"] == "recorded, review" and "911" in result["reply"]
    assert [e["rule"] for e in opened] == ["REVIEW"]


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N my husband needs help"),
        en("3 N my mom needs help"),
        es("3 N mi esposo necesita ayuda"),
        es("3 N mi mamá necesita ayuda"),
    ],
)
def test_a_cry_for_help_for_someone_else_is_read_by_the_clinic(followup_sqlite, body, language):
    """A relative may be the patient, or may be writing from the patient's phone."""
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] == "recorded, review" and "911" in result["reply"]
    assert [e["rule"] for e in opened] == ["REVIEW"]


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N lightheaded"),
        en("3 N light headed"),
        en("3 N a bit woozy"),
        en("3 N palpitations"),
        en("3 N stiff legs"),
        en("3 N my legs are stiff"),
        en("3 N not right"),
        en("3 N something's not right"),
        es("3 N palpitaciones"),
        es("3 N me siento aturdido"),
        es("3 N molestia nueva"),
        es("3 N un dolor nuevo"),
    ],
)
def test_what_is_felt_but_no_rule_names_is_reviewed_with_the_emergency_signs(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] not in ("recorded", "encouragement", "recorded, safety net")
    assert "911" in result["reply"]
    assert opened  # a review or an escalation: a person reads it


@pytest.mark.parametrize("body", ["3 N palpitations", "3 N having palpitations tonight"])
def test_palpitations_are_read_as_the_heart_racing(followup_sqlite, body):
    result, _ = answer(followup_sqlite, body)
    assert result["action"] == "escalation:E3"


@pytest.mark.parametrize(
    "body, language",
    [
        en("less feeling in my fingers"),
        en("3 N reduced feeling in my left hand"),
        es("menos sensibilidad en los dedos"),
    ],
)
def test_less_feeling_in_the_fingers_is_numbness_in_an_arm(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:S3"
    assert [e["rule"] for e in opened] == ["S3"]


@pytest.mark.parametrize(
    "body", ["3 N molestia nueva", "3 N una molestia nueva en la espalda", "dolor nuevo"]
)
def test_a_new_discomfort_invents_no_pain_score(body):
    assert replies.parse(body, "es").pain in (None, 3)


@pytest.mark.parametrize(
    "body, language, rule",
    [
        ("no numbness apart from my groin", "en", "E1"),
        ("3 N no numbness except my groin", "en", "E1"),
        ("no tingling other than around my bum", "en", "E1"),
        ("no numbness aside from my left hand", "en", "S3"),
        ("sin hormigueo salvo en la ingle", "es", "E1"),
    ],
)
def test_numbness_denied_except_in_one_place_is_numbness_there(followup_sqlite, body, language, rule):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == f"escalation:{rule}"


@pytest.mark.parametrize("body", ["legs not ok", "3 N legs not good", "my legs arent right"])
def test_legs_said_not_to_be_ok_are_symptoms_in_both_legs(followup_sqlite, body):
    result, _ = answer(followup_sqlite, body)
    assert result["action"] == "escalation:E2"


def test_a_device_running_hot_and_so_am_i_is_a_fever(followup_sqlite):
    result, _ = answer(followup_sqlite, "laptop running hot and so am I")
    assert result["action"] == "escalation:U2"


def test_a_device_running_hot_alone_is_no_fever(followup_sqlite):
    result, opened = answer(followup_sqlite, "3 N my laptop is running hot")
    assert not result["action"].startswith("escalation") and opened == []


# The eighth round (tests/triage/reviews/13h.md and the misses both readers shared).


@pytest.mark.parametrize(
    "body, language, rule",
    [
        ("3 N no numbness, only between my legs", "en", "E1"),
        ("3 N nothing numb but my saddle area", "en", "E1"),
        ("3 N none apart from my groin", "en", "E1"),
        ("3 N no numbness save my groin", "en", "E1"),
        ("3 N down below feels dull", "en", "E1"),
        ("3 N the feeling in my groin is reduced", "en", "E1"),
        ("3 N siento menos ahí abajo", "es", "E1"),
        ("3 N couldnt hold it", "en", "E1"),
        ("3 N leaked a little", "en", "E1"),
        ("3 N went w/o knowing", "en", "E1"),
        ("3 N limping", "en", "E2"),
        ("3 N my son has to hold me up to walk", "en", "E2"),
        ("3 N using crutches to get around now", "en", "E2"),
        ("3 N need help getting to the bathroom", "en", "E2"),
        ("3 N irregular heartbeat", "en", "E3"),
        ("3 N heart beating fast", "en", "E3"),
    ],
)
def test_a_place_left_by_a_denial_dulled_feeling_a_limp_or_a_skipping_heart_are_emergencies(
    followup_sqlite, body, language, rule
):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] == f"escalation:{rule}" and "911" in result["reply"]
    assert rule in {e["rule"] for e in opened}


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N my fingertips feel dull"),
        en("3 N my hand feels muffled"),
        es("3 N sin adormecimiento excepto en los dedos"),
        es("3 N siento menos los dedos"),
        es("3 N el pie lo siento como de trapo"),
    ],
)
def test_dull_or_muffled_feeling_in_a_hand_or_foot_is_numbness(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:S3"


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N someone please come"),
        en("3 N send someone"),
        en("3 N get me a doctor"),
        en("3 N S O S"),
        en("3 N pleasehelp"),
        es("3 N alguien venga por favor"),
        es("3 N llamen a alguien"),
    ],
)
def test_sending_for_someone_is_a_cry_for_help(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert "911" in result["reply"]
    assert "REVIEW" in {e["rule"] for e in opened}


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N feeling a bit unbalanced emotionally but back is good"),
        en("3 N the ladder was unsteady so I didnt climb it"),
        en("3 N used a walking stick on the hike for fun"),
        en("3 N my toddler had an accident on the potty"),
        en("3 N my heart races watching football lol"),
        en("2 N tree fell in the yard lol"),
        en("3 N sensation down below is fine"),
        en("3 N full feeling in both legs"),
        en("3 N less feeling of heaviness in my legs, improving"),
        en("3 N less sensation of pressure in my butt when sitting"),
        en("3 N my coffee is hot and so am I"),
        en("3 N no numbness except when I sleep on my arm wrong, goes right away"),
        en("3 N didnt make it in time to say goodbye to my cat"),
        es("3 N el internet está inestable"),
        es("3 N el clima está inestable"),
    ],
)
def test_emotions_ladders_hikes_toddlers_and_football_are_not_sent_to_911(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:"), result["action"]
    assert not any(e["rule"].startswith(("E", "U", "S")) for e in opened)


@pytest.mark.parametrize(
    "body",
    ["3 N kids have a fever and now so do I", "3 N my laptop is hot and so am I"],
)
def test_so_do_i_after_a_fever_or_a_hot_device_is_the_patients_fever(followup_sqlite, body):
    result, _ = answer(followup_sqlite, body)
    assert result["action"] == "escalation:U2"


@pytest.mark.parametrize(
    "body",
    ["3 N someone come fix my heating lol", "3 N they will send someone to fix the boiler"],
)
def test_someone_coming_to_fix_something_is_no_cry_for_help(followup_sqlite, body):
    _, opened = answer(followup_sqlite, body)
    assert opened == []


# The ninth round (tests/triage/reviews/13j.md: what both readers missed).


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N worst pain of my life"),
        en("pain through the roof"),
        en("3 N my back is in agony"),
        es("el peor dolor de mi vida"),
        es("dolor insoportable"),
    ],
)
def test_pain_said_to_be_at_its_worst_is_severe_pain_whatever_the_score(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:U3"


@pytest.mark.parametrize(
    "body, language",
    [
        en("2 N last week the pain was unbearable but now much better"),
        en("3 N prices are through the roof lol"),
        en("2 N the worst is over"),
    ],
)
def test_pain_that_was_at_its_worst_or_prices_through_the_roof_are_not_severe_pain(
    followup_sqlite, body, language
):
    result, _ = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:")


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N chest pain? nope"),
        en("fever - none"),
        es("fiebre no"),
        en("no fever, temp was normal"),
    ],
)
def test_a_finding_answered_no_right_after_it_is_denied(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:")


@pytest.mark.parametrize(
    "body, language, rule",
    [
        ("fiebre no se me quita", "es", "U2"),
        ("3, chest pain, no", "en", "E3"),
        ("8 chest pain no", "en", "E3"),
    ],
)
def test_a_no_that_may_answer_another_question_or_go_on_denies_nothing(followup_sqlite, body, language, rule):
    """ "chest pain, no" may answer the numbness question; "fiebre no se me quita" is a fever."""
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == f"escalation:{rule}"


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N I have used a cane for years"),
        en("3 N I've always walked with a cane"),
        en("3 N walk with help of my cane as usual, nothing new"),
        es("3 N siempre he caminado con bastón"),
        es("3 N ya camino sin ayuda"),
    ],
)
def test_a_walking_aid_long_used_is_no_new_difficulty_walking(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:")


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N I've always walked with a cane"),
        en("3 N same cane as before"),
        en("2 N same cane I've had since 2015"),
        es("2 N uso el mismo bastón de siempre"),
    ],
)
def test_a_walking_aid_long_used_is_read_and_thanked_not_left_for_review(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"].startswith("recorded")
    assert opened == []


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N used a cane for years but now I need a walker"),
        en("3 N cant walk, always had a cane"),
        es("3 N ahora camino con bastón"),
    ],
)
def test_a_walking_aid_that_is_new_or_a_walk_that_is_worse_is_an_emergency(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:E2"


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N my jaw hurts"),
        en("3 N i feel really off today"),
        en("5 N no better after a week"),
        en("please call me"),
        en("my vision went blurry for a bit"),
        es("vomité dos veces"),
        en("3 N cant move"),
    ],
)
def test_what_no_rule_names_but_a_clinician_should_see_is_reviewed(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert "911" in result["reply"]
    assert "REVIEW" in {e["rule"] for e in opened}


@pytest.mark.parametrize(
    "body",
    [
        "3 N stocks fell again, ugh",
        "3 N saw a fender bender on the way home, nobody hurt",
        "3 N did both legs of the stretch routine",
        "3 N chilly today",
    ],
)
def test_markets_other_peoples_crashes_stretches_and_weather_are_no_red_flag(followup_sqlite, body):
    result, _ = answer(followup_sqlite, body)
    assert not result["action"].startswith("escalation:")


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N chest pain - no, wait, yes a little"),
        en("3 N chest pain? no. actually it is there a bit"),
        es("3 N dolor de pecho - no, bueno sí un poco"),
        en("chest pain not gone"),
    ],
)
def test_a_no_taken_back_or_a_pain_not_gone_is_still_chest_pain(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:E3"


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N the traffic was agony lol"),
        en("3 N happiness through the roof today!"),
        es("3 N la renta está por las nubes"),
        es("3 N el peor dolor fue la semana pasada, ahora mucho mejor"),
        en("3 N these exercises are killing me lol"),
        en("1 N the wait at the pharmacy was unbearable, otherwise good"),
        es("1 N el calor es insoportable pero ya casi sin dolor"),
    ],
)
def test_agony_and_through_the_roof_without_a_pain_are_idioms_not_severe_pain(
    followup_sqlite, body, language
):
    result, _ = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:")


@pytest.mark.parametrize(
    "body, language",
    [
        en("I'm in agony"),
        en("3 N i am in agony since lunch"),
        es("un dolor atroz"),
        es("4 N tengo un dolor de espalda atroz"),
    ],
)
def test_agony_said_of_oneself_or_an_atrocious_pain_is_urgent_whatever_the_score(
    followup_sqlite, body, language
):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:U3"
    assert [e["rule"] for e in opened] == ["U3"]


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N bladder ok? yes. chest pain? none"),
        en("2 N any bladder problems? no"),
        en("numb? no"),
        en("numbness? nope. pain about a 3"),
        es("1 N fiebre? nop"),
        es("2 N problemas de vejiga? no"),
        es("ya se fue la fiebre, 2 N"),
    ],
)
def test_a_finding_answered_on_the_spot_as_on_a_form_or_gone_is_no_question_and_no_red_flag(
    followup_sqlite, body, language
):
    result, opened = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:") and result["action"] != "question"
    assert opened == []


@pytest.mark.parametrize(
    "body, language",
    [
        en("bladder ok? no"),
        en("2 N bladder problems? yes"),
        en("bladder ok? yes but i leaked a bit"),
        es("se me fueron las piernas, 4"),
        es("las piernas se me fueron en la cocina"),
    ],
)
def test_a_form_answered_yes_to_a_problem_or_legs_that_went_from_under_one_is_an_emergency(
    followup_sqlite, body, language
):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] in ("escalation:E1", "escalation:E2")


@pytest.mark.parametrize(
    "body, language",
    [
        en("my grandson turned 7 today, 2 N"),
        es("mi nieto cumplió 7 años hoy, dolor 2"),
        es("se cayó la bolsa de valores, 2 N"),
        en("did the leg stretch on both sides, 2 N"),
        en("all done, 10 head lifts and 2 sets of the shoulder squeezes"),
        en("4 N, just a dull ache between the shoulder blades, nothing sharp"),
        en("3 N dont worry im fine"),
    ],
)
def test_ages_markets_stretches_exercise_names_and_what_is_not_there_are_no_finding(
    followup_sqlite, body, language
):
    result, opened = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:")
    assert [e for e in opened if e["rule"] != "REVIEW"] == []


@pytest.mark.parametrize(
    "body, language",
    [
        es("oiga es normal no sentir cuando me limpio? 3 N"),
        es("perdí el control para ir del cuerpo esta mañana, dolor 5"),
        es("ayer y hoy amaneció sucio y él ni cuenta se dio, escribe su hija"),
        en("its a 6. N. i havent peed since last night and i dont even feel the need"),
        es("Me desvanecí en la cocina, mi esposo me encontró en el piso. Dolor 5 N"),
        es("2 N. me dieron un llegue en el carro saliendo del trabajo, solo adolorida"),
        es("ya no puedo ir a la tienda sin agarrarme de las paredes. Dolor 6 N"),
        es("lo dormido de las piernas ya se fue pero ahora no me sostienen, 4"),
    ],
)
def test_emergencies_in_lay_spanish_and_a_retention_said_twice_get_the_emergency_answer(
    followup_sqlite, body, language
):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] in ("escalation:E1", "escalation:E2", "escalation:E3")
    assert "911" in result["reply"]


@pytest.mark.parametrize(
    "body, language",
    [
        es("camino sin bastón, 2 N"),
        es("camino sin agarrarme de las paredes, 2 N"),
        es("Calentura no tengo, hormigueo tampoco, dolor un 3"),
        es("dolor 2. Brazos y piernas sin nada raro."),
        es("2 N. Del pecho, nada, gracias a Dios"),
        es("Del baño todo normal, ni accidentes ni nada. 3 N"),
        es("2 N. Me muero de calor en esta oficina sin aire"),
        es("3 N, bailé toda la noche en los quince de mi sobrina"),
        es("ya los hice, estoy a full"),
        en("No accidents, bladder's behaving. 3 N"),
        en("Nothing's numb. 2"),
        en("3 N my daughter has a fever of 102 so I've been up with her, she's ok now"),
        en("2 N. heat wave, 104 in the shade, staying in with the fan"),
        en("4 N. Sitting in the school pickup line for 40 min is not it"),
        en("4 N its freezing here, minus 10 this morning"),
        en("carried the laundry basket down to the basement and back up, 2 N"),
        en("3 N, shooting hoops with my nephew, just free throws"),
        en("3 N. Just needed to get something off my chest"),
        en("4 N honestly the kids are killing me more than my back lol"),
    ],
)
def test_walking_unaided_denials_after_the_word_and_everyday_heat_are_no_red_flag(
    followup_sqlite, body, language
):
    result, opened = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:")
    assert [e for e in opened if e["rule"] != "REVIEW"] == []


@pytest.mark.parametrize(
    "body, language",
    [
        es("no puedo caminar sin bastón"),
        es("no puedo ni caminar"),
        es("mi esposo tiene fiebre de 101 y le duele la espalda"),
        en("mom fell out of bed last night, she says her back is a 5 now"),
        en("Dad keeps dropping his fork at dinner"),
        en("2 N but i have to use my husband's cane today to walk, legs are weak"),
    ],
)
def test_a_needed_aid_a_relatives_relay_and_a_borrowed_cane_stay_the_patients_finding(
    followup_sqlite, body, language
):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] in ("escalation:E2", "escalation:E3", "escalation:U1", "escalation:U2")


@pytest.mark.parametrize(
    "body, language",
    [
        en("2 n walked to the pharmacy and back, picked up my usual blood pressure pill"),
        en("3 N. dropped the kids at school then went back to bed"),
        en("Finished! 10 head lifts and the shoulder pinches"),
        en("3 N took the kids to the new Pixar, worst movie ever lol"),
        en("2 N. had a nap in the recliner, best sleep I've had in ages"),
        es("3 N, ya me tomé la pastilla de la presión como todos los días"),
        es("listo, aunque este bochorno no deja ni respirar"),
    ],
)
def test_everyday_senses_of_back_bed_pills_sleep_and_worst_are_thanked_without_a_review(
    followup_sqlite, body, language
):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"].startswith("recorded") or result["action"] == "encouragement"
    assert opened == []


@pytest.mark.parametrize(
    "body, language",
    [
        en("slid down the stairs on my backside this morning. 3 N"),
        en("wet the bed last night"),
        en("fell off my bike today"),
        es("no puedo respirar, me aprieta el pecho"),
        es("ni con la pastilla se me quita, 6"),
    ],
)
def test_the_same_words_in_a_finding_still_escalate(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] in ("escalation:E1", "escalation:E3", "escalation:U2")


@pytest.mark.parametrize(
    "body, language",
    [
        es("ya ni siento las piernas"),
        es("ni puedo caminar, 6"),
        es("no camino sin agarrarme de la pared, 5"),
        es("no me puedo levantar sin ayuda, 6"),
        es("me fui del cuerpo, 6"),
        es("mi hija me encontró tirada en el suelo, 6"),
        es("se me durmió todo allí abajo, 5"),
        es("amanecí orinada en la cama y yo nunca me orino, 5"),
        es("me azoté en el piso mojado, 7"),
        es("mi esposo no siente las piernas, escribe su esposa"),
        en("without being able to feel my legs, 5"),
        en("went to the bathroom without feeling it, 6"),
        en("my son found me on the floor, 5"),
    ],
)
def test_tester_13m_emergencies_in_lay_words_get_the_emergency_answer(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] in ("escalation:E1", "escalation:E2", "escalation:E3")


@pytest.mark.parametrize(
    "body, language",
    [
        en("my husband has a fever of 101 and his back hurts, 5"),
        es("mi esposo tiene fiebre de 101 y le duele la espalda, 5"),
        en("can't go a day without tylenol for the fever, 4"),
        es("me estoy muriendo del dolor"),
    ],
)
def test_a_relatives_fever_with_the_programmes_pain_and_a_fever_never_without_pills_are_urgent(
    followup_sqlite, body, language
):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] in ("escalation:U2", "escalation:U3")


@pytest.mark.parametrize(
    "body, language",
    [
        en("my husband's cane broke lol, 2 N"),
        es("el bastón de mi esposo se rompió jaja, 2 N"),
        en("did my stretches leaning on the wall, 2 N"),
        es("me apoyé en la pared para el estiramiento, 2 N"),
        en("the walls need painting lol 2 N"),
        en("chest pain? nope 3 N"),
        en("numbness? not anymore"),
        es("entumecimiento ninguno"),
        es("de fiebre cero"),
        en("its 39 degrees and raining"),
        en("bird dog and dead bug done"),
    ],
)
def test_tester_13m_harmless_replies_and_denials_are_not_escalated(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:")


@pytest.mark.parametrize(
    "body, language",
    [
        en("daughter here - found mom on the bathroom floor this am, shes confused and sore"),
        es("escribe la esposa: lo encontré en el piso del baño esta mañana"),
    ],
)
def test_a_relative_who_found_the_patient_on_the_floor_reports_a_fall(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:E3"


@pytest.mark.parametrize(
    "body, language",
    [
        en("leaned on the wall doing my stretches, fine 2 N"),
        en("numb fingers? not today. 2 N"),
        es("caí rendida anoche, dormí rico 2 N"),
        es("choqué los cinco con mi nieto jaja 2 N"),
        es("caídas ninguna gracias a dios 2 N"),
        es("el pecho no me duele para nada 3 N"),
    ],
)
def test_tester_13n_idioms_and_denials_are_not_escalated(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:")


def test_an_object_that_slips_from_the_hand_is_weakness_not_a_fall(followup_sqlite):
    result, _ = answer(followup_sqlite, "no puedo agarrar la cuchara bien, se me resbala", "es")
    assert result["action"] == "escalation:U1"


@pytest.mark.parametrize(
    "body, language",
    [en("i cant take this anymore i just want it to be over"), es("quiero morirme, ya no aguanto más")],
)
def test_a_wish_to_die_is_never_thanked_and_reaches_a_person(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("recorded") and result["action"] != "encouragement"
    assert "REVIEW" in {e["rule"] for e in opened}


@pytest.mark.parametrize(
    "body, language",
    [en("3 N weak arm? no, both arms"), es("3 N dolor en el pecho no para")],
)
def test_a_no_that_goes_on_or_says_both_keeps_the_finding(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] in ("escalation:U1", "escalation:E2", "escalation:E3")


@pytest.mark.parametrize(
    "body, language",
    [
        en("my son has a fever so im home with him, me 2 N"),
        en("my mom fell at her house last week, shes ok. me 2 N"),
        es("mi hijo tiene calentura pero yo bien 2 N"),
        es("mi mamá se cayó la semana pasada en su casa, yo estoy bien 2 N"),
    ],
)
def test_someone_elses_news_beside_the_patients_own_answer_needs_no_review(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"].startswith("recorded")
    assert opened == []


@pytest.mark.parametrize(
    "body, language",
    [
        en("my son fell down the stairs"),
        es("mi papá dice que le duele el pecho"),
        en("my husband fell, she says 6"),
    ],
)
def test_someone_elses_red_flag_without_the_patients_own_answer_still_reaches_a_person(
    followup_sqlite, body, language
):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"].startswith("escalation:") or "REVIEW" in {e["rule"] for e in opened}


def test_a_walk_the_rain_prevented_is_no_difficulty_walking(followup_sqlite):
    result, _ = answer(followup_sqlite, "no pude caminar al parque porque llovió, 2 N", "es")
    assert not result["action"].startswith("escalation:")


@pytest.mark.parametrize(
    "body, language",
    [en("couldnt walk because of the pain"), es("no puedo caminar porque me duelen las piernas")],
)
def test_a_walk_the_pain_or_the_legs_prevented_is_still_an_emergency(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:E2"


@pytest.mark.parametrize(
    "body, language, action",
    [
        pytest.param("doneee", "en", "recorded", id="en:doneee"),
        pytest.param(
            "3 N sorrry for the late reply",
            "en",
            "recorded, safety net",
            id="en:3 N sorrry for the late reply",
        ),
        pytest.param("numbbb between my legs", "en", "escalation:E1", id="en:numbbb between my legs"),
        pytest.param("listooo", "es", "recorded", id="es:listooo"),
    ],
)
def test_a_word_typed_with_a_letter_held_down_is_read_as_the_word(followup_sqlite, body, language, action):
    followup_sqlite.enrol(followup_sqlite.clinic(), language=language)
    result = followup_sqlite.json("reply", "--from", PHONE, "--body", body, now="2026-12-02T14:30:00Z")
    assert result["action"] == action


@pytest.mark.parametrize("body, language", [en("kkkkkk"), en("jjjjkkkk"), es("jjjjjj")])
def test_a_keysmash_is_not_read_as_a_short_word_and_reaches_a_person(followup_sqlite, body, language):
    result, opened = answer(followup_sqlite, body, language)
    assert result["action"] == "clarify" and "REVIEW" in {e["rule"] for e in opened}


@pytest.mark.parametrize(
    "body, language",
    [
        en("3 N, work was busy but i rememberd to take breaks"),
        en("2 N, chemestry homework with my son tonight"),
        es("Es un 2 y nada de cosquilleo"),
        es("3 N, estuve en el jardín sembrando chiles"),
        es("N 3, jugué dominó con los panas hasta tarde, gané yo"),
        en("1 N. Fishing trip was a bust, caught nothing"),
        en("3 N, freezing here, -10 this morning"),
        en("pain 4 N, both legs are fine, no weakness"),
        en("3 N my sister is visiting and she won't stop talking lol"),
        es("4 N, no paró de llover en todo el día"),
        es("2 N, se me cayó el alma a los pies cuando vi el recibo de la luz"),
        es("3 N, a mi suegra le dio un infarto el martes, está en el hospital. yo bien"),
    ],
)
def test_everyday_typos_other_languages_words_idioms_and_others_news_need_no_review(
    followup_sqlite, body, language
):
    result, opened = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:") and opened == []


@pytest.mark.parametrize(
    "body, language, action",
    [
        pytest.param("3 N, numbnes in my groin", "en", "escalation:E1", id="en:3 N, numbnes in my groin"),
        pytest.param("the pain wont stop", "en", "escalation:U2", id="en:the pain wont stop"),
        pytest.param("el dolor no para de doler", "es", "escalation:U2", id="es:el dolor no para de doler"),
        pytest.param("are my legs ok?", "en", "question", id="en:are my legs ok?"),
        pytest.param(
            "pain 3, temp 38.5 this morning", "en", "escalation:U2", id="en:pain 3, temp 38.5 this morning"
        ),
    ],
)
def test_the_same_shapes_with_a_symptom_still_escalate_or_reach_a_person(
    followup_sqlite, body, language, action
):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == action


@pytest.mark.parametrize(
    "body, language",
    [
        en("Pain 3. I had a bladder problem after my second baby, 20 years ago, nothing since. No tingling."),
        es("Dolor 3. Se me escapaba la orina tras el parto, hace muchos años, nada desde entonces."),
    ],
)
def test_a_history_said_in_a_clause_of_its_own_dates_the_past_finding_just_before_it(
    followup_sqlite, body, language
):
    result, _ = answer(followup_sqlite, body, language)
    assert not result["action"].startswith("escalation:")


@pytest.mark.parametrize(
    "body, language",
    [
        en("20 years ago, after my baby, i wet myself, and now it happened again. 3"),
        en("I wet myself, years ago that was my problem too"),
        es("Hace muchos años, se me escapaba la orina, y hoy otra vez"),
    ],
)
def test_a_history_beside_a_finding_of_now_keeps_the_emergency(followup_sqlite, body, language):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == "escalation:E1"


@pytest.mark.parametrize(
    "body, language, action",
    [
        pytest.param("N 3 i have a crawling feeling on my arm", "en", "escalation:S3", id="crawling feeling"),
        pytest.param("crawled to bed last night, my legs wouldnt work", "en", "escalation:E2", id="crawled"),
        pytest.param(
            "ended up on the bathroom floor this morning, not sure how", "en", "escalation:E3", id="floor"
        ),
        pytest.param("my bottom feels like it isnt there", "en", "escalation:E1", id="bottom not there"),
        pytest.param("3 N, my legs feel weird", "en", "escalation:E2", id="legs weird"),
    ],
)
def test_lay_words_for_a_tingle_a_fall_saddle_numbness_and_odd_legs_get_their_tier(
    followup_sqlite, body, language, action
):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == action


@pytest.mark.parametrize("word", ["weekness", "trembleing", "stagerring", "numbnes", "tinglng"])
def test_a_mistyped_symptom_word_is_never_taken_for_an_everyday_one(word):
    reading = replies.parse(f"3 N {word}", "en")
    assert reading.flags or word in reading.unaccounted


@pytest.mark.parametrize(
    "body, language, action",
    [
        # tester 13o: a history before a finding says nothing of when the finding is
        pytest.param(
            "10 years ago, same thing happened, cant feel my legs", "en", "escalation:E2", id="r8 en E2"
        ),
        pytest.param(
            "Years ago, I had surgery, my hands are weak and clumsy", "en", "escalation:U1", id="r8 en U1"
        ),
        pytest.param("Hace muchos años, tuve esto, tengo fiebre", "es", "escalation:U2", id="r8 es U2"),
        pytest.param("cant feel my legs, 10 years ago", "en", "escalation:E2", id="r8 no past verb"),
        # a dash after a pain word, or with no word of the cold, is no minus sign
        pytest.param("pain -10 this morning", "en", "escalation:U3", id="r5 pain -10"),
        pytest.param("dolor -9 esta mañana", "es", "escalation:U3", id="r5 dolor -9"),
        # a judged score is a question
        pytest.param("is a 4 normal after the exercises", "en", "question", id="r4 en"),
        pytest.param("es un 3 normal despues de los ejercicios", "es", "question", id="r4 es"),
        # the reply's own language corrects its typos, whatever the other language has
        pytest.param("I have the chiles and feel hot", "en", "escalation:U2", id="r3 chiles en"),
        pytest.param("tengo el brazo derecho muy devil", "es", "escalation:U1", id="r3 devil es"),
        # a part said to be fine, and a symptom beside it
        pytest.param("both legs are fine except the tingling", "en", "escalation:E2", id="r6 except"),
        pytest.param(
            "both legs are far from fine, numb since last night", "en", "escalation:E2", id="r6 far from"
        ),
        pytest.param(
            "both legs are fine I guess, just numb and heavy", "en", "escalation:E2", id="r6 just numb"
        ),
    ],
)
def test_tester_13o_findings_against_the_new_rules_keep_their_tier(followup_sqlite, body, language, action):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == action


@pytest.mark.parametrize(
    "body, language, action",
    [
        pytest.param("cant control my bowls", "en", "escalation:E1", id="bowls"),
        pytest.param("pain in my pecho", "en", "escalation:E3", id="pecho"),
        pytest.param("had to wear a pañal last night", "en", "escalation:E1", id="panal"),
        pytest.param("no paro de orinarme", "es", "escalation:E1", id="no paro de orinarme"),
        pytest.param("todo bien salvo que me duele el pecho", "es", "escalation:E3", id="salvo"),
    ],
)
def test_tester_13o_open_misses_both_trees_shared_are_mended(followup_sqlite, body, language, action):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == action


def test_a_denial_with_no_fine_in_it_is_not_undone_by_a_symptom_elsewhere(followup_sqlite):
    result, _ = answer(followup_sqlite, "las piernas ya no se me duermen, ninguna, 1", "es")
    assert not result["action"].startswith("escalation:E2")


@pytest.mark.parametrize(
    "body, language, action",
    [
        # tester 13p, against d90894c
        pytest.param("is a 2 now, was a 8 last night", "en", "question", id="r4 two numbers"),
        pytest.param("ambas piernas bien excepto que se me duermen", "es", "escalation:E2", id="r6 excepto"),
        pytest.param("las dos piernas bien, pero hormigueo en ambas", "es", "escalation:E2", id="r6 pero"),
        pytest.param("no para el hormigueo en la mano", "es", "escalation:U2", id="no para el hormigueo"),
        pytest.param(
            "I had a car accident, last month, neck worse since", "en", "escalation:E3", id="r8 worse"
        ),
    ],
)
def test_tester_13p_findings_keep_their_tier(followup_sqlite, body, language, action):
    result, _ = answer(followup_sqlite, body, language)
    assert result["action"] == action


def test_a_diaper_bought_is_no_incontinence_but_one_worn_is(followup_sqlite):
    result, _ = answer(followup_sqlite, "buying pañales for the baby, 2 N")
    assert not result["action"].startswith("escalation:")
