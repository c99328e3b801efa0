"""The rules, with plain values: each fires when it should, not the day before, and not twice."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.errors import FollowupError
from followup.replies import FLAGS
from followup.rules import Reply, evaluate, load_rules, reports_anything

RULES = load_rules("upper-back")
DAY1 = date(2026, 12, 1)


def reply(day: int, pain=None, numb=None, flags=(), seq=0) -> Reply:
    at = datetime(2026, 12, day, 23, 0, tzinfo=UTC)
    return Reply(date(2026, 12, day), at, pain, numb, frozenset(flags), seq=seq)


def rules_fired(history, recent=None):
    now = max(r.at for r in history)
    return [(d.rule, d.suppressed) for d in evaluate(history, RULES, recent=recent or {}, now=now)]


@pytest.mark.parametrize(
    "flag, rule",
    [
        ("bladder_bowel", "E1"),
        ("both_legs", "E2"),
        ("chest_pain", "E3"),
        ("fall_accident", "E3"),
        ("weakness", "U1"),
        ("fever", "U2"),
        ("night_pain", "U2"),
        ("limb_numbness", "S3"),
        ("shooting", "S4"),
    ],
)
def test_each_red_flag_fires_its_rule(flag, rule):
    assert rules_fired([reply(1, flags=[flag])])[0] == (rule, False)


def test_the_highest_tier_comes_first():
    fired = rules_fired([reply(1, pain=8, flags=["limb_numbness", "chest_pain"])])
    assert [r for r, _ in fired] == ["E3", "U3", "S3"]


def test_pain_of_7_is_urgent_and_6_is_not():
    assert rules_fired([reply(1, pain=7)]) == [("U3", False)]
    assert rules_fired([reply(1, pain=6)]) == []


def test_persistent_pain_fires_on_the_third_day_not_the_second():
    history = [reply(1, pain=5), reply(2, pain=5)]
    assert rules_fired(history) == []
    assert rules_fired(history + [reply(3, pain=5)]) == [("S1", False)]


def test_pain_that_improved_by_two_points_is_not_persistent():
    assert rules_fired([reply(1, pain=6), reply(2, pain=5), reply(3, pain=4)]) == []


def test_a_good_day_in_between_breaks_the_run():
    assert rules_fired([reply(1, pain=5), reply(2, pain=2), reply(3, pain=5)]) == []


def test_a_reply_that_says_nothing_about_pain_neither_breaks_nor_extends_the_run():
    history = [reply(1, pain=5), reply(2, numb=False), reply(3, pain=5)]
    assert ("S1", False) in rules_fired(history)


def test_replies_count_once_per_day_the_latest_that_day():
    history = [
        reply(1, pain=5, seq=1),
        reply(2, pain=5, seq=2),
        reply(3, pain=1, seq=3),
        reply(3, pain=5, seq=4),
    ]
    assert ("S1", False) in rules_fired(history)
    history = [
        reply(1, pain=5, seq=1),
        reply(2, pain=5, seq=2),
        reply(3, pain=5, seq=3),
        reply(3, pain=2, seq=4),
    ]
    assert rules_fired(history) == [("M1", False)]


def test_a_done_sent_after_the_days_check_in_reply_does_not_hide_that_days_pain_or_numbness():
    done = dict(pain=None, numb=None)
    for answer, rule in ((dict(pain=5), "S1"), (dict(numb=True), "S2")):
        history = [
            reply(1, **answer, seq=1),
            reply(1, **done, seq=2),
            reply(2, **answer, seq=3),
            reply(2, **done, seq=4),
            reply(3, **answer, seq=5),
        ]
        assert (rule, False) in rules_fired(history)


def test_a_days_last_pain_score_counts_even_when_a_later_reply_only_mentions_numbness():
    good_day = [reply(2, pain=2, seq=2), reply(2, numb=False, seq=3)]
    assert rules_fired([reply(1, pain=5, seq=1), *good_day, reply(3, pain=5, seq=4)]) == []


def test_persistent_numbness_fires_on_the_third_day():
    history = [reply(1, numb=True), reply(2, numb=True)]
    assert rules_fired(history) == []
    assert rules_fired(history + [reply(3, numb=True)]) == [("S2", False)]
    assert rules_fired([reply(1, numb=True), reply(2, numb=False), reply(3, numb=True)]) == []


def test_pain_two_points_worse_than_the_first_reply_is_soon_below_7():
    assert rules_fired([reply(1, pain=2), reply(2, pain=4)]) == [("S5", False)]
    assert rules_fired([reply(1, pain=2), reply(2, pain=3)]) == [("M1", False)]


def test_mild_pain_with_nothing_else_gets_encouragement():
    assert rules_fired([reply(1, pain=2)]) == [("M1", False)]
    assert rules_fired([reply(1, pain=0)]) == []


def test_a_rule_open_within_seven_days_is_suppressed_and_fires_again_after():
    history = [reply(1, pain=8)]
    now = history[0].at
    assert rules_fired(history, recent={"U3": now - timedelta(days=6)}) == [("U3", True)]
    assert rules_fired(history, recent={"U3": now - timedelta(days=7, minutes=1)}) == [("U3", False)]


def test_a_rules_file_with_a_bad_threshold_or_unknown_flag_is_refused(tmp_path, monkeypatch):
    import followup.rules as rules

    good = (rules.data_dir("rules") / "upper-back.toml").read_text()
    monkeypatch.setattr(rules, "data_dir", lambda _name: tmp_path)
    (tmp_path / "bad.toml").write_text(good.replace("urgent_pain = 7", "urgent_pain = 'high'"))
    with pytest.raises(FollowupError, match="urgent_pain"):
        rules.load_rules.__wrapped__("bad")
    (tmp_path / "bad2.toml").write_text(good.replace('"shooting"]', '"shooting", "sneezing"]'))
    with pytest.raises(FollowupError, match="sneezing"):
        rules.load_rules.__wrapped__("bad2")


history_st = st.lists(
    st.tuples(
        st.integers(1, 6),
        st.sampled_from([0, 30, 600]),
        st.one_of(st.none(), st.integers(0, 10)),
        st.one_of(st.none(), st.booleans()),
        st.sets(st.sampled_from(sorted(FLAGS)), max_size=2),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(history_st, st.integers(6, 7), st.one_of(st.none(), st.just(False)))  # after every earlier reply
def test_a_latest_reply_that_reports_nothing_triggers_no_rule_whatever_came_before(earlier, day, numb):
    """inbound skips reading the history for such replies (a DONE, a plain "no numbness")."""
    history = [
        Reply(
            date(2026, 12, d),
            datetime(2026, 12, d, 12, tzinfo=UTC) + timedelta(minutes=m),
            pain,
            n,
            frozenset(flags),
            seq=i,
        )
        for i, (d, m, pain, n, flags) in enumerate(earlier)
    ]
    latest = Reply(
        date(2026, 12, day),
        datetime(2026, 12, day, 23, tzinfo=UTC),
        None,
        numb,
        frozenset(),
        seq=len(history),
    )
    assert not reports_anything(latest.pain, latest.numbness, latest.flags)
    assert evaluate(history + [latest], RULES, recent={}, now=latest.at) == []
    assert (
        reports_anything(3, None, ())
        and reports_anything(None, True, ())
        and reports_anything(None, None, {"fever"})
    )


@settings(max_examples=300, deadline=None)
@given(
    history_st,
    st.integers(6, 7),
    st.one_of(st.none(), st.integers(0, 10)),
    st.one_of(st.none(), st.booleans()),
    st.sets(st.sampled_from(sorted(FLAGS)), max_size=2),
)
def test_replies_that_say_nothing_change_no_decision(earlier, day, pain, numb, flags):
    """inbound reads only the replies that say something (pain, numbness either way, a flag)."""
    history = [
        Reply(
            date(2026, 12, d),
            datetime(2026, 12, d, 12, tzinfo=UTC) + timedelta(minutes=m),
            p,
            n,
            frozenset(f),
            seq=i,
        )
        for i, (d, m, p, n, f) in enumerate(earlier)
    ]
    history.append(
        Reply(
            date(2026, 12, day),
            datetime(2026, 12, day, 23, tzinfo=UTC),
            pain,
            numb,
            frozenset(flags),
            seq=len(history),
        )
    )
    saying = [r for r in history[:-1] if r.pain is not None or r.numbness is not None or r.flags] + history[
        -1:
    ]
    latest = history[-1]
    assert evaluate(saying, RULES, recent={}, now=latest.at) == evaluate(
        history, RULES, recent={}, now=latest.at
    )
