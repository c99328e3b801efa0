"""The reader on each kind of failure issue 13 listed, one test per kind (plain values, no database).

These are examples of each kind, written for these tests; the corpus in tests/triage/ measures how
well the reader does on replies it was not written for.
"""

import pytest

from followup import lexicon
from followup.errors import FollowupError
from followup.lexicon import load
from followup.replies import parse


def flags(text, language="en"):
    return parse(text, language).flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("I wet myself this afternoon", "bladder_bowel"),
        ("numb down there since this morning", "saddle_numbness"),
        ("my legs keep giving way", "both_legs"),
        ("my chest feels heavy", "chest_pain"),
        ("took a tumble on the stairs", "fall_accident"),
        ("my hand won't work properly", "weakness"),
        ("temp 38 tonight", "fever"),
        ("my fingers are asleep", "limb_numbness"),
        ("tengo los dedos dormidos", "limb_numbness"),
    ],
)
def test_lay_words_for_each_red_flag_are_read(text, flag):
    assert flag in flags(text, "es" if "dedos" in text else "en")


def test_word_order_does_not_matter():
    assert "saddle_numbness" in flags("my groin is numb") and "saddle_numbness" in flags("numb in my groin")
    assert "limb_numbness" in flags("my left arm is numb") and "limb_numbness" in flags(
        "numbness in my left arm"
    )


@pytest.mark.parametrize("text", ["tinglig in my fngers", "my hand is numbb", "both legz are numb"])
def test_typos_and_inflections_still_match(text):
    assert parse(text).numbness is True and parse(text).flags


@pytest.mark.parametrize(
    "text",
    [
        "dont have any numbness",
        "isn't numb anymore",
        "the tingling is gone",
        "neither numb nor tingly",
        "no numbness at all",
    ],
)
def test_negation_before_or_after_and_without_its_apostrophe_denies_numbness(text):
    reading = parse(text)
    assert reading.numbness is False and not reading.flags


def test_a_negated_red_flag_does_not_fire():
    assert flags("I haven't had any chest pain") == frozenset()
    assert flags("no tengo dolor de pecho", "es") == frozenset()


def test_history_hypotheticals_and_other_people_do_not_fire_but_uncertainty_does():
    assert flags("I fell last year") == frozenset()
    assert flags("what should I do if I lose bladder control?") == frozenset()
    assert flags("my wife has a fever") == frozenset()
    assert "bladder_bowel" in flags("I think I wet myself")


def test_number_words_are_read_apart_from_the_text_so_both_legs_in_spanish_still_match():
    reading = parse("las dos piernas dormidas, dolor cinco", "es")
    assert "both_legs" in reading.flags and reading.pain == 5


def test_a_word_containing_a_symptom_word_is_not_that_symptom():
    assert parse("wrong number").numbness is None and not flags("wrong number")


def test_a_score_with_a_red_flag_keeps_the_red_flag():
    reading = parse("5 N but I fell on the stairs today")
    assert reading.pain == 5 and "fall_accident" in reading.flags


def test_a_plain_y_to_the_check_in_is_a_first_report_of_limb_numbness():
    assert parse("Y").flags == {"limb_numbness"} and parse("4 S", "es").flags == {"limb_numbness"}


@pytest.mark.parametrize(
    "text, language", [("no pain", "en"), ("pain free today", "en"), ("sin dolor", "es")]
)
def test_no_pain_is_a_pain_of_zero(text, language):
    assert parse(text, language).pain == 0


def test_a_trailing_n_after_words_still_answers_the_numbness_question():
    assert parse("3 N feeling better").numbness is False


def test_the_current_score_is_read_from_a_change():
    assert parse("my pain went from 7 to 3").pain == 3
    assert parse("el dolor bajo de 6 a 3", "es").pain == 3


def test_words_nobody_accounts_for_are_returned_and_everyday_chit_chat_is_not_among_them():
    assert "zorbled" in parse("3 N my hand zorbled").unaccounted
    reading = parse("3 N, long shift at work")
    assert reading.unaccounted == () and reading.chit_chat


def test_a_question_is_marked_as_one():
    assert parse("is tingling normal?").question and parse("es normal el hormigueo?", "es").question


def test_a_malformed_lexicon_names_the_file_and_the_concept(tmp_path, monkeypatch):
    (tmp_path / "lexicons" / "broken").mkdir(parents=True)
    (tmp_path / "lexicons" / "broken" / "en.toml").write_text(
        '[concepts.fever]\npatterns = ["fever + @NOPE"]\n'
    )
    monkeypatch.setattr(lexicon, "data_dir", lambda name: tmp_path / name)
    with pytest.raises(FollowupError, match=r"lexicon broken/en: concepts.fever: unknown macro @NOPE"):
        lexicon.load.__wrapped__("broken", "en")


def test_the_shipped_lexicons_load_in_both_languages():
    for language in ("en", "es"):
        assert {"bladder_bowel", "numbness", "ack"} <= set(load("upper-back", language).concepts)
