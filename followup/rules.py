"""Pure: a patient's replies over time -> escalation decisions (../shared/CLINICAL_RULES.md).

Thresholds are data (followup/data/rules/<programme>.toml), validated when loaded. Applying a
decision (messages, alerts, records) is escalation.py's job.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import NamedTuple

from .errors import FollowupError
from .programs import get_program
from .replies import FLAGS
from .resources import data_dir

TIER_ORDER = ("emergency", "urgent", "soon", "routine", "none")
RULE_TIERS = {
    "E1": "emergency",
    "E2": "emergency",
    "E3": "emergency",
    "U1": "urgent",
    "U2": "urgent",
    "U3": "urgent",
    "S1": "soon",
    "S2": "soon",
    "S3": "soon",
    "S4": "soon",
    "S5": "soon",
    "R1": "routine",
    "M1": "none",
}
RULE_ORDER = list(RULE_TIERS)
REASONS = {
    "E1": "new loss of bladder or bowel control, or numbness around the groin",
    "E2": "symptoms in both legs, or new difficulty walking or unsteadiness",
    "E3": "chest pain, or symptoms after a fall or accident",
    "U1": "new or worsening weakness in an arm or hand",
    "U2": "fever, or pain not eased by rest or at night",
    "U3": "severe pain",
    "S1": "persistent pain",
    "S2": "persistent numbness or tingling",
    "S3": "numbness or tingling in an arm or leg",
    "S4": "pain shooting down the spine or around the torso",
    "S5": "pain worse than at the start",
    "R1": "no reply to check-ins",
    "M1": "mild pain",
}
_INTS = (
    "urgent_pain",
    "persistent_pain",
    "persistent_days",
    "improvement",
    "worsening",
    "mild_pain_max",
    "dedupe_days",
    "nudge_after_missed",
    "review_after_missed",
)


@dataclass(frozen=True)
class Rules:
    urgent_pain: int
    persistent_pain: int
    persistent_days: int
    improvement: int
    worsening: int
    mild_pain_max: int
    dedupe_days: int
    nudge_after_missed: int
    review_after_missed: int
    flags: dict[str, tuple[str, ...]]
    realert_after: dict[str, timedelta]


@cache
def load_rules(name: str) -> Rules:
    path = data_dir("rules") / f"{name}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FollowupError(f"rules {name}: {exc}") from exc
    thresholds = raw.get("thresholds", {})
    for key in _INTS:
        value = thresholds.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 365:
            raise FollowupError(f"rules {name}: thresholds.{key} must be a whole number 0-365, got {value!r}")
    if not 1 <= thresholds["urgent_pain"] <= 10 or not 1 <= thresholds["persistent_pain"] <= 10:
        raise FollowupError(f"rules {name}: pain thresholds must be 1-10")
    flags = {}
    for rule, names in raw.get("flags", {}).items():
        if rule not in RULE_TIERS:
            raise FollowupError(f"rules {name}: flags.{rule} is not a rule ({', '.join(RULE_ORDER)})")
        unknown = [f for f in names if f not in FLAGS]
        if unknown:
            raise FollowupError(f"rules {name}: flags.{rule} names unknown flags {unknown}")
        flags[rule] = tuple(names)
    realert = {tier: timedelta(minutes=int(m)) for tier, m in raw.get("realert_after_minutes", {}).items()}
    return Rules(**{k: thresholds[k] for k in _INTS}, flags=flags, realert_after=realert)


def rules_for_program(program: str) -> Rules:
    return load_rules(get_program(program).rules)


class Reply(NamedTuple):
    """One understood reply, as the rules see it. A tuple: every reply builds a patient's whole
    history of these, and a frozen dataclass cost several times more to make."""

    local_date: date
    at: datetime
    pain: int | None
    numbness: bool | None
    flags: frozenset[str]
    seq: int = 0  # arrival order, for replies within the same instant

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.at, self.seq)


@dataclass(frozen=True)
class Decision:
    rule: str
    tier: str
    reason: str
    suppressed: bool = False  # the same rule is already open (or fired within dedupe_days)


def _daily(ordered: list[Reply], answer) -> list[Reply]:
    """Replies count once per day: the latest that day which answers the question (`answer` is not
    None). A reply that says nothing about it ("DONE" after the evening check-in) neither counts nor
    hides the day's answer: taking the day's last reply of any kind let a patient who always sends
    DONE last never reach a persistent-pain run."""
    latest: dict[date, Reply] = {}
    for reply in ordered:
        if answer(reply) is not None:
            latest[reply.local_date] = reply
    return [latest[d] for d in sorted(latest)]


def _run(days: list[Reply], qualifies) -> list[Reply]:
    """The unbroken run of qualifying days ending at the latest day."""
    run: list[Reply] = []
    for day in reversed(days):
        if not qualifies(day):
            break
        run.insert(0, day)
    return run


def reports_anything(pain: int | None, numbness: bool | None, flags) -> bool:
    """Whether a reply carries something a rule reads: a pain score, numbness, or a flag. When the
    latest reply carries none of these, evaluate() decides nothing whatever came before (tested)."""
    return pain is not None or bool(numbness) or bool(flags)


def evaluate(
    replies: list[Reply], rules: Rules, *, recent: dict[str, datetime], now: datetime
) -> list[Decision]:
    """Every rule the latest reply triggers, highest tier first. `recent`: rule -> when it last fired
    unacknowledged; such a rule is marked suppressed inside the de-duplication window."""
    if not replies:
        return []
    ordered = sorted(replies, key=lambda r: r.order)
    latest = ordered[-1]
    matched: list[tuple[str, str]] = []

    for rule, flag_names in rules.flags.items():
        hit = sorted(latest.flags & set(flag_names))
        if hit:
            matched.append((rule, f"{REASONS[rule]} ({', '.join(hit)})"))

    if latest.pain is not None and latest.pain >= rules.urgent_pain:
        # (one U3 either way: "worst pain of my life, 9" is severe by its words and by its score)
        matched = [m for m in matched if m[0] != "U3"]
        matched.append(("U3", f"{REASONS['U3']}: {latest.pain}/10"))

    span = rules.persistent_days - 1
    pain_days = _daily(ordered, lambda r: r.pain)
    pain_run = _run(pain_days, lambda d: d.pain >= rules.persistent_pain)
    if (
        latest.pain is not None
        and pain_run
        and pain_run[-1] is pain_days[-1]
        and (pain_run[-1].local_date - pain_run[0].local_date).days >= span
        and pain_run[-1].pain > pain_run[0].pain - rules.improvement
    ):
        matched.append(
            (
                "S1",
                f"{REASONS['S1']}: {pain_run[0].pain}/10 on {pain_run[0].local_date}, "
                f"{pain_run[-1].pain}/10 on {pain_run[-1].local_date}",
            )
        )

    numb_days = _daily(ordered, lambda r: r.numbness)
    numb_run = _run(numb_days, lambda d: d.numbness)
    if (
        latest.numbness
        and numb_run
        and numb_run[-1] is numb_days[-1]
        and (numb_run[-1].local_date - numb_run[0].local_date).days >= span
    ):
        matched.append(("S2", f"{REASONS['S2']} since {numb_run[0].local_date}"))

    with_pain = [r for r in ordered if r.pain is not None]
    if (
        latest.pain is not None
        and len(with_pain) > 1
        and latest.pain < rules.urgent_pain
        and latest.pain >= with_pain[0].pain + rules.worsening
    ):
        matched.append(("S5", f"{REASONS['S5']}: {with_pain[0].pain}/10 then, {latest.pain}/10 now"))

    if not matched and latest.pain is not None and 0 < latest.pain <= rules.mild_pain_max:
        matched.append(("M1", REASONS["M1"]))

    window = timedelta(days=rules.dedupe_days)
    decisions = [
        Decision(rule, RULE_TIERS[rule], reason, suppressed=rule in recent and now - recent[rule] < window)
        for rule, reason in matched
    ]
    return sorted(decisions, key=lambda d: (TIER_ORDER.index(d.tier), RULE_ORDER.index(d.rule)))


def missed_checkins_decision(missed_in_a_row: int, rules: Rules) -> str | None:
    """R1: 'nudge' after nudge_after_missed check-ins without a reply, 'review' after review_after_missed."""
    if missed_in_a_row >= rules.review_after_missed:
        return "review"
    if missed_in_a_row >= rules.nudge_after_missed:
        return "nudge"
    return None
