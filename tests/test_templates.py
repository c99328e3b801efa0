"""Every SMS template, in every language: plain GSM-7, at most two segments (three for those that
carry the safety-netting), names the clinic, says how to opt out, and carries no diagnosis or
medication name."""

import re

import pytest

from followup.messages import LANGUAGES, exercise_context, render, sms_shape
from followup.programs import get_program

CLINIC = {"name": "Elm Street Physiotherapy Clinic", "phone": "+16175550100", "emergency_number": "911"}
CONTEXT = {
    "clinic": CLINIC,
    "exercises": exercise_context(get_program("upper-back"), "en"),
    "weeks": 6,
    "appointment": True,
}
KINDS = [
    "reminder",
    "checkin",
    "confirmation",
    "optout",
    "optin",
    "help",
    "nudge",
    "escalation_emergency",
    "escalation_urgent",
    "escalation_soon",
    "encouragement",
    "thanks",
    "clarify",
    "question",
    "review",
    "optout_hint",
]
# The safety-netting (CLINICAL_RULES.md) costs a segment: the confirmation, the weekly check-in and
# every answer to a reply the reader could not fully account for name the emergency signs.
SAFETY_NET = {"confirmation", "clarify", "question", "review"}
SEGMENTS = {
    "en": {
        "confirmation": 3,
        "clarify": 3,
        "question": 2,
        "review": 2,
        "checkin-weekly": 3,
        "thanks-safety": 2,
    },
    "es": {
        "confirmation": 3,
        "clarify": 3,
        "question": 2,
        "review": 2,
        "checkin-weekly": 3,
        "thanks-safety": 2,
    },
}
# Every SMS says how to stop, except the confirmation of a STOP, which says how to come back.
KEYWORD = {
    "optout": "START",
    "escalation_emergency": "911",
    "escalation_urgent": "+16175550100",
    "clarify": "911",
    "question": "911",
    "review": "911",
}  # the rest: STOP
FORBIDDEN = re.compile(
    r"pinched|nerve|radicul|diagnos|ibuprofen|naproxen|gabapentin|steroid|opioid|nervio", re.IGNORECASE
)


def rendered(kind, language, **extra):
    context = {**CONTEXT, "exercises": exercise_context(get_program("upper-back"), language), **extra}
    return render(kind, "sms", language, **context).body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_sms_text_is_gsm7_short_named_and_minimal(kind, language):
    text = rendered(kind, language)
    shape = sms_shape(text)
    assert shape.encoding == "GSM-7", f"non-GSM characters {shape.non_gsm} in {kind}/{language}"
    assert shape.segments <= (3 if kind in SAFETY_NET else 2), (
        f"{kind}/{language} is {shape.segments} segments"
    )
    assert text.startswith(CLINIC["name"])
    assert KEYWORD.get(kind, "STOP") in text
    assert not FORBIDDEN.search(text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_safety_net_names_the_emergency_signs_and_its_segment_cost_is_as_documented(language):
    signs = {
        "en": [
            "bladder or bowel",
            "between the legs",
            "both legs",
            "chest pain",
            "call 911 now",
            "Do not text",
        ],
        "es": ["orina o las heces", "entre las piernas", "ambas piernas", "dolor de pecho", "llame al 911"],
    }
    texts = {kind: rendered(kind, language) for kind in SAFETY_NET}
    texts["checkin-weekly"] = rendered("checkin", language, safety_net=True)
    texts["thanks-safety"] = rendered("thanks", language, safety_net=True)
    for kind, text in texts.items():
        assert all(sign in text for sign in signs[language]), kind
        shape = sms_shape(text)
        assert shape.encoding == "GSM-7", kind
        assert shape.segments == SEGMENTS[language][kind], (
            f"{kind}: {shape.segments} segments (docs/CLINICAL.md)"
        )
    assert "bladder" not in rendered("checkin", language) and "orina" not in rendered("checkin", language)


# A bare HELP may be a cry for help (CLINICAL_RULES.md, "Reading replies safely"): the HELP answer
# carries a short emergency line and is still a HELP answer (programme, the clinic's phone, STOP),
# within the two segments of a template that carries no safety-netting (docs/CLINICAL.md).
EMERGENCY_LINE = {
    "en": "Emergency? Call 911 now. Do not text.",
    "es": "Emergencia? Llame al 911 ahora. No envie mensajes.",
}
HELP_SEGMENTS = {"en": 1, "es": 2}  # 1 and 1 before the emergency line
LONG_CLINIC = {
    **CLINIC,
    "name": "Elm Street Physiotherapy and Sports Rehabilitation Clinic",
    "phone": "+441632960961",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_help_answer_carries_the_emergency_line_and_stays_within_two_segments(language):
    text = rendered("help", language)
    assert EMERGENCY_LINE[language] in text
    assert text.startswith(CLINIC["name"]) and CLINIC["phone"] in text and "STOP" in text
    programme = {"en": "exercise reminders and check-ins", "es": "recordatorios de ejercicios y controles"}
    assert programme[language] in text
    shape = sms_shape(text)
    assert (shape.encoding, shape.segments) == ("GSM-7", HELP_SEGMENTS[language])
    long = sms_shape(rendered("help", language, clinic=LONG_CLINIC))
    assert long.encoding == "GSM-7" and long.segments <= 2, long
    other = rendered("help", language, clinic={**CLINIC, "emergency_number": "112"})
    assert EMERGENCY_LINE[language].replace("911", "112") in other  # the clinic's emergency number


def test_segment_counting_follows_gsm7_and_ucs2_rules():
    assert sms_shape("a" * 160).segments == 1 and sms_shape("a" * 161).segments == 2
    assert sms_shape("€" * 80).units == 160  # extension characters cost two septets
    curly = sms_shape("It’s time")  # a curly quote slips in and the whole SMS becomes UCS-2
    assert (curly.encoding, curly.non_gsm) == ("UCS-2", ("’",))
    assert sms_shape("x" * 70).segments == 1 and sms_shape("ó" * 71).segments == 2
    assert sms_shape("a\u00a0b").non_gsm == ("\u00a0",)  # a non-breaking space


def test_the_soon_tier_says_contact_your_doctor_in_english():
    assert "contact your doctor" in rendered("escalation_soon", "en")


# Real clinics' names (issue 15, finding 7). Every SMS starts with the name, so one letter outside
# GSM-7 ("í", "ú", "ô") makes every text UCS-2; é, è, ñ, ü and Ç are GSM-7 and cost nothing.
GSM_NAMES = [
    "Elm Street Physiotherapy Clinic",
    "Fisioterapia Peñalver",
    "Physiothérapie Saint-Rémi",
    "Müller Physio & Reha",
]
UCS2_NAMES = ["Clínica San José", "Fisioterapia Núñez", "Physio Côte-des-Neiges"]


@pytest.mark.parametrize("name", GSM_NAMES + UCS2_NAMES)
def test_every_template_with_a_real_clinic_name_and_its_sms_name_stays_gsm7_and_short(name):
    from followup.segments import gsm_spelling, name_warning

    warned = name_warning(name)
    assert (warned is not None) == (name in UCS2_NAMES)
    clinic = {**CLINIC, "name": name, "sms_name": gsm_spelling(name) if warned else None}
    for language in LANGUAGES:
        for kind in KINDS:
            text = rendered(kind, language, clinic=clinic)
            shape = sms_shape(text)
            assert shape.encoding == "GSM-7", (name, kind, language, shape.non_gsm)
            assert shape.segments <= (3 if kind in SAFETY_NET else 2), (name, kind, language)
            assert text.startswith(clinic["sms_name"] or name)
        weekly = sms_shape(rendered("checkin", language, clinic=clinic, safety_net=True))
        assert weekly.encoding == "GSM-7" and weekly.segments <= 3  # the weekly safety-netting


def test_a_name_outside_gsm7_costs_what_docs_clinical_says():
    clinic = {**CLINIC, "name": "Clínica San José"}
    cost = {
        (kind, language): sms_shape(
            rendered(kind.split("-")[0], language, clinic=clinic, safety_net="-" in kind)
        )
        for kind in ("reminder", "checkin", "checkin-weekly", "confirmation")
        for language in LANGUAGES
    }
    assert {k: (v.encoding, v.segments) for k, v in cost.items()} == {
        ("reminder", "en"): ("UCS-2", 4),
        ("reminder", "es"): ("UCS-2", 4),
        ("checkin", "en"): ("UCS-2", 3),
        ("checkin", "es"): ("UCS-2", 3),
        ("checkin-weekly", "en"): ("UCS-2", 5),
        ("checkin-weekly", "es"): ("UCS-2", 6),
        ("confirmation", "en"): ("UCS-2", 5),
        ("confirmation", "es"): ("UCS-2", 6),
    }


def test_a_text_rendered_again_with_other_values_is_rendered_anew():
    from followup.messages import render

    ctx = {"name": "A Clinic", "sms_name": None, "phone": "+16175550100", "emergency_number": None}
    first = render("thanks", "sms", "en", clinic=ctx)
    assert render("thanks", "sms", "en", clinic=ctx) == first
    assert "B Clinic" in render("thanks", "sms", "en", clinic={**ctx, "name": "B Clinic"}).body
    assert render("thanks", "sms", "en", clinic=ctx, safety_net=True) != first
    assert (
        render("thanks", "sms", "en", clinic=ctx, safety_net=True).body
        != render("thanks", "sms", "es", clinic=ctx, safety_net=True).body
    )
