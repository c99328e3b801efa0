"""The held-out half of the triage corpus (tests/triage/) as a gate, on replies the reader was never
tuned on. `make triage-eval` prints both halves' figures (docs/CLINICAL.md).

Two kinds of test: issue 13's goals, and a floor at today's figures so that no change makes the
reader worse unnoticed. A goal not met yet is an expected failure that names today's figure; when
a change meets it, the test reports XPASS and the mark comes off.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

# Held-out figures at the last change to the reader; a change that makes any of them worse fails the
# suite. Raise them when the reader gets better.
FLOOR = {
    "emergency": 238,
    "urgent": 151,
    "soon": 132,
    "false_reassurance": 4,
    "benign_escalated": 5,
    "benign_reviewed": 24,
    "scenarios": 32,
}
NOT_MET = pytest.mark.xfail(reason="issue 13 goal not met yet: see docs/CLINICAL.md", strict=False)

_SPEC = importlib.util.spec_from_file_location(
    "triage_evaluate", Path(__file__).parent / "triage" / "evaluate.py"
)
evaluate = importlib.util.module_from_spec(_SPEC)
sys.modules["triage_evaluate"] = evaluate  # its dataclasses look the module up while they are made
_SPEC.loader.exec_module(evaluate)


@pytest.fixture(scope="module")
def heldout():
    figures, _singles, _scenarios = evaluate.evaluate("heldout")
    return figures


def test_the_held_out_corpus_has_the_size_the_docs_claim():
    items = [i for i in evaluate.load("replies.jsonl") if i["part"] == "heldout"]
    assert len(items) == 901 and sum(i["lang"] == "es" for i in items) == 247
    assert sum(s["part"] == "heldout" for s in evaluate.load("scenarios.jsonl")) == 32


@NOT_MET
def test_emergencies_in_patients_own_words_get_the_emergency_answer(heldout):
    assert heldout.rate("emergency") >= evaluate.GOALS["emergency"], heldout.counts["emergency"]


def test_urgent_replies_are_answered_at_urgent_or_higher(heldout):
    assert heldout.rate("urgent") >= evaluate.GOALS["urgent"], heldout.counts["urgent"]


def test_soon_replies_are_answered_at_soon_or_higher(heldout):
    assert heldout.rate("soon") >= evaluate.GOALS["soon"], heldout.counts["soon"]


@NOT_MET
def test_no_symptom_question_or_unclear_reply_gets_a_plain_thank_you(heldout):
    assert heldout.counts["false_reassurance"][0] == 0, heldout.counts["false_reassurance"]


def test_benign_replies_are_rarely_escalated(heldout):
    assert heldout.rate("benign_escalated") <= evaluate.GOALS["benign_escalated"], heldout.counts[
        "benign_escalated"
    ]


@NOT_MET
def test_benign_replies_rarely_open_a_review_or_alert(heldout):
    assert heldout.rate("benign_reviewed") <= evaluate.GOALS["benign_reviewed"], heldout.counts[
        "benign_reviewed"
    ]


def test_every_held_out_scenario_is_answered_at_the_expected_tier_at_each_step(heldout):
    hit, total = heldout.counts["scenarios"]
    assert hit == total, heldout.counts["scenarios"]


def test_no_held_out_figure_is_worse_than_the_last_measured(heldout):
    worse = []
    for key in ("emergency", "urgent", "soon", "scenarios"):
        if heldout.counts[key][0] < FLOOR[key]:
            worse.append(f"{key} {heldout.counts[key][0]} < {FLOOR[key]}")
    for key in ("false_reassurance", "benign_escalated", "benign_reviewed"):
        if heldout.counts[key][0] > FLOOR[key]:
            worse.append(f"{key} {heldout.counts[key][0]} > {FLOOR[key]}")
    assert not worse, worse
