"""The everyday words people text (followup/data/words/, from wordfreq): benign Spanish and English
replies with ordinary verb forms and texting words are not sent to the clinic, and no word that may
describe a symptom becomes chit-chat."""

import subprocess
import sys
from pathlib import Path

import pytest

from followup import reading
from followup.everyday import is_everyday
from followup.lexicon import load

ROOT = Path(__file__).resolve().parent.parent


def test_the_word_lists_are_what_the_generator_writes():
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "spoken_words.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "text, language",
    [
        ("1 N el gato se subio a la mesa otra vez", "es"),
        ("2 N. Mi nieta cumplió 15, hicimos fiesta", "es"),
        ("3 N, hoy fui en bici al trabajo y ya me voy a mi casa", "es"),
        ("2 N, rewatched an old sitcom with the grandkids", "en"),
    ],
)
def test_a_benign_reply_in_everyday_words_leaves_nothing_for_the_clinic(text, language):
    assert reading.read(text, language).unaccounted == ()


@pytest.mark.parametrize(
    "word, language",
    [("hormigueo", "es"), ("entumecida", "es"), ("tingly", "en"), ("numbish", "en"), ("incontinent", "en")],
)
def test_a_word_that_may_describe_a_symptom_is_never_chit_chat(word, language):
    assert not is_everyday(load("upper-back", language), word)


def test_a_word_more_frequent_in_the_other_language_is_not_taken_as_this_ones():
    spanish = load("upper-back", "es")
    assert "horse" not in spanish.spoken and "subio" in spanish.spoken
