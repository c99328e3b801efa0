"""The reply parser: a table of real-world-style replies with the expected reading, and fuzzing."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.replies import parse

TABLE = Path(__file__).with_name("replies_table.txt")


def rows():
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "|" not in line:
            continue
        text, pain, numb, done, flags = (part.strip() for part in line.split("|"))
        yield pytest.param(
            text,
            None if pain == "-" else int(pain),
            {"Y": True, "N": False, "-": None}[numb],
            None if done == "-" else int(done),
            frozenset(f for f in flags.split(",") if f),
            id=text or "(empty)",
        )


CASES = list(rows())


def test_the_table_has_at_least_150_replies():
    assert len(CASES) >= 150


@pytest.mark.parametrize("text, pain, numbness, done, flags", CASES)
def test_each_reply_reads_as_expected(text, pain, numbness, done, flags):
    answer = parse(text)
    assert (answer.pain, answer.numbness, answer.done, answer.flags) == (pain, numbness, done, flags)
    assert answer.understood == (
        any(v is not None for v in (pain, numbness, done))
        or bool(flags)
        or answer.acknowledged
        or answer.denied
    )


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_the_parser_never_crashes_and_pain_stays_in_range(text):
    answer = parse(text)
    assert answer.pain is None or 0 <= answer.pain <= 10
    assert answer.done is None or 0 <= answer.done <= 10


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "pain",
                "no",
                "numb",
                "6",
                "/10",
                "done",
                "x2",
                "arm",
                "not",
                "chest",
                "ñ",
                "é",
                ",",
                ".",
                "yes",
                "tingling",
                "🙂",
                "\u00a0",
                "’",
            ]
        ),
        max_size=20,
    )
)
def test_word_salad_from_the_vocabulary_never_crashes(words):
    parse(" ".join(words))
