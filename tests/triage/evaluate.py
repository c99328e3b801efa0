"""Run the triage corpus through the real inbound handler and print the figures of issue 13.

Every reply goes through `followup.inbound.handle` (what `followup reply` and the webhook run) on a
migrated SQLite database: one patient per single reply, each reply that patient's first, and one
patient per multi-day scenario. Before each reply, what was due is sent through the real dispatcher
to console channels (the confirmation, the reminder, the check-in). The figures are computed from
what the patient was answered and what the clinic was given (escalations and reviews), never from
the reader's internals.

    python tests/triage/evaluate.py                 # both parts' figures
    python tests/triage/evaluate.py --failures dev  # what the dev part gets wrong (held-out: refused)
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from followup import clinics, dispatch, enrolment, inbound, migrate
from followup.channels.console import ConsoleChannel
from followup.db import dispose, engine_for, session_scope
from followup.models import Escalation, Reading
from followup.rules import RULE_TIERS

HERE = Path(__file__).resolve().parent
ZONE = ZoneInfo("America/New_York")
START = date(2026, 12, 1)
RANK = {"none": 0, "soon": 1, "urgent": 2, "emergency": 3}
BENIGN_KINDS = {"report", "done", "ack", "negated", "history"}

# The goals of issue 13, on the held-out part.
GOALS = {
    "emergency": 0.97,
    "urgent": 0.95,
    "soon": 0.90,
    "false_reassurance": 0,
    "benign_escalated": 0.03,
    "benign_reviewed": 0.05,
}


# The files whose items count in their part: the split corpus, then training material (all dev).
TRAINING = (
    "replies.jsonl",
    "train.jsonl",
    "train3.jsonl",
    "train4.jsonl",
    "train5.jsonl",
    "fresh4.jsonl",
    "train6.jsonl",
    "train7.jsonl",
    "train8.jsonl",
    "train9.jsonl",
    "train10.jsonl",
    "train11.jsonl",
    "train12.jsonl",
)
# Multi-day scenarios: the split set, then training scenarios (all dev).
SCENARIOS = ("scenarios.jsonl", "scenarios4.jsonl")
# Held-out sets of their own, each from a writer who never saw the reader, run when the reader was
# done; never listed item by item.
FRESH = ("fresh", "fresh2", "fresh3", "fresh5", "fresh6", "fresh7", "fresh8", "fresh9", "fresh10", "fresh11")


def load(name: str) -> list[dict]:
    return [
        json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@dataclass
class Outcome:
    item: dict
    tier: str  # the tier the patient was answered at ("none" when no escalation answer)
    reassured: bool  # a plain thank-you (or encouragement), nothing more
    reviewed: bool  # a REVIEW item was opened for the clinic
    alerted: bool  # any escalation (review included) was opened, so the clinic was alerted
    pain: int | None = None
    numbness: bool | None = None
    action: str = ""
    reply: str | None = None


def _tier_of(action: str) -> str:
    """The tier of the rule this reply fired. A rule already open does not fire again (the patient
    is reminded of the same advice, but nothing new reaches the clinic): that counts as none."""
    if action.startswith("escalation:") and "(already open)" not in action:
        rule = action.split(":", 1)[1].split(" ")[0]
        tier = RULE_TIERS.get(rule, "none")
        return tier if tier in RANK else "none"
    return "none"


class Harness:
    def __init__(self, directory: str):
        self.url = f"sqlite:///{directory}/triage.db"
        migrate.upgrade(self.url)
        self.engine = engine_for(self.url)
        now = datetime.combine(START, time(8, 0), ZONE)
        with session_scope(self.engine) as session:
            self.clinic_id = clinics.add_clinic(
                session,
                now,
                name="Elm Street Physio",
                phone="+16175550100",
                timezone="America/New_York",
                alert_email="alerts@elm.test",
                alert_phone="+16175550199",
            ).id
        self.phones = iter(f"+1617{n:07d}" for n in range(5551000, 5999999))
        # What the patient was sent before replying (the reminder, the check-in) is sent for real,
        # through the dispatcher to console channels: a reply's meaning can depend on its prompt.
        sink = io.StringIO()
        self.channels = {name: ConsoleChannel(name, stream=sink) for name in ("sms", "email")}
        self.sink = sink

    def enrol(self, language: str) -> str:
        phone = next(self.phones)
        now = datetime.combine(START, time(8, 0), ZONE)
        with session_scope(self.engine) as session:
            clinic = clinics.get_clinic(session, self.clinic_id)
            enrolment.enrol(
                session,
                clinic,
                [
                    (
                        "row",
                        {
                            "name": "Eval Patient",
                            "phone": phone,
                            "timezone": "America/New_York",
                            "consent": "yes",
                            "language": language,
                        },
                    )
                ],
                now,
                method="csv",
            )
        return phone

    def send_due(self, at: datetime) -> None:
        dispatch.run_once(self.engine, self.channels, "triage-eval", clock=lambda: at)
        self.sink.seek(0)
        self.sink.truncate()

    def reply(self, phone: str, text: str, at: datetime, sid: str, item: dict) -> Outcome:
        self.send_due(at - timedelta(minutes=1))
        with session_scope(self.engine) as session:
            result = inbound.handle(session, sender=phone, body=text, now=at, sid=sid)
            opened = session.execute(
                select(Escalation.rule).where(Escalation.id.in_(result.escalations))
            ).scalars()
            opened = list(opened)
            reading = session.execute(
                select(Reading.pain, Reading.numbness).where(Reading.message_id == result.inbound_id)
            ).first()
        tier = _tier_of(result.action)
        return Outcome(
            item=item,
            tier=tier,
            reassured=result.action in ("recorded", "encouragement"),
            reviewed="REVIEW" in opened,
            alerted=bool(opened),
            pain=reading.pain if reading else None,
            numbness=reading.numbness if reading else None,
            action=result.action,
            reply=result.reply,
        )


def run_singles(harness: Harness, items: list[dict]) -> list[Outcome]:
    outcomes = []
    for n, item in enumerate(items):
        phone = harness.enrol(item["lang"])
        at = datetime.combine(START, time(9, 30) if item.get("context") == "reminder" else time(19, 30), ZONE)
        outcomes.append(harness.reply(phone, item["text"], at, f"SMs{n:031d}", item))
    return outcomes


def run_scenarios(harness: Harness, scenarios: list[dict]) -> list[tuple[dict, list[Outcome]]]:
    results = []
    for n, scenario in enumerate(scenarios):
        phone = harness.enrol(scenario["lang"])
        steps = []
        for k, step in enumerate(scenario["steps"]):
            hour, minute = (int(x) for x in step["at"].split(":"))
            at = datetime.combine(START + timedelta(days=step["day"] - 1), time(hour, minute), ZONE)
            steps.append(harness.reply(phone, step["text"], at, f"SMc{n:015d}{k:016d}", step))
        results.append((scenario, steps))
    return results


@dataclass
class Figures:
    counts: dict = field(default_factory=dict)

    def line(self, key: str, hit: int, total: int) -> None:
        self.counts[key] = (hit, total)

    def rate(self, key: str) -> float:
        hit, total = self.counts[key]
        return hit / total if total else 1.0


def figures(singles: list[Outcome], scenarios: list[tuple[dict, list[Outcome]]]) -> Figures:
    f = Figures()
    for tier in ("emergency", "urgent", "soon"):
        group = [o for o in singles if o.item["tier"] == tier]
        f.line(tier, sum(RANK[o.tier] >= RANK[tier] for o in group), len(group))
        es = [o for o in group if o.item["lang"] == "es"]
        f.line(f"{tier}_es", sum(RANK[o.tier] >= RANK[tier] for o in es), len(es))
    needs_more = [o for o in singles if o.item["tier"] != "none" or o.item["kind"] in ("question", "unclear")]
    f.line("false_reassurance", sum(o.reassured for o in needs_more), len(needs_more))
    f.line(
        "false_reassurance_symptom",
        sum(o.reassured for o in needs_more if o.item["tier"] != "none"),
        sum(o.item["tier"] != "none" for o in needs_more),
    )
    missed = [o for o in singles if RANK[o.item["tier"]] >= RANK["urgent"] and o.tier == "none"]
    f.line("missed_reviewed", sum(o.reviewed for o in missed), len(missed))
    benign = [o for o in singles if o.item["tier"] == "none" and o.item["kind"] in BENIGN_KINDS]
    f.line("benign_escalated", sum(o.tier != "none" for o in benign), len(benign))
    f.line("benign_reviewed", sum(o.alerted for o in benign), len(benign))
    acks = [o for o in benign if o.item["kind"] in ("ack", "done")]
    f.line("acks_reviewed", sum(o.alerted for o in acks), len(acks))
    questions = [o for o in singles if o.item["kind"] in ("question", "unclear") and o.item["tier"] == "none"]
    f.line("questions_reviewed", sum(o.reviewed for o in questions), len(questions))
    with_pain = [o for o in singles if o.item["pain"] is not None]
    f.line("pain_read", sum(o.pain == o.item["pain"] for o in with_pain), len(with_pain))
    with_numb = [o for o in singles if o.item["numbness"] is not None]
    f.line("numbness_read", sum(o.numbness == o.item["numbness"] for o in with_numb), len(with_numb))
    f.line(
        "scenarios",
        sum(all(o.tier == o.item["tier"] for o in steps) for _, steps in scenarios),
        len(scenarios),
    )
    f.line(
        "scenario_steps",
        sum(o.tier == o.item["tier"] for _, steps in scenarios for o in steps),
        sum(len(steps) for _, steps in scenarios),
    )
    return f


LABELS = [
    ("emergency", "emergency replies answered with the emergency message"),
    ("emergency_es", "  of them Spanish"),
    ("urgent", "urgent replies answered at urgent or higher"),
    ("urgent_es", "  of them Spanish"),
    ("soon", "soon replies answered at soon or higher"),
    ("soon_es", "  of them Spanish"),
    (
        "false_reassurance",
        "false reassurance: symptom, question or unclear reply answered with a plain thank-you",
    ),
    ("false_reassurance_symptom", "  of them a symptom (tier soon or higher)"),
    ("missed_reviewed", "urgent or emergency replies answered at no tier that still reached the review"),
    ("benign_escalated", "benign replies escalated (soon or higher)"),
    ("benign_reviewed", "benign replies that open a clinic review or alert"),
    ("acks_reviewed", "  of them acknowledgements and DONEs"),
    ("questions_reviewed", "questions and unclear replies sent to the clinic's review"),
    ("pain_read", "pain score read as written"),
    ("numbness_read", "numbness answer read as written"),
    ("scenarios", "scenarios with every step answered at the expected tier"),
    ("scenario_steps", "  scenario steps"),
]


def evaluate(part: str) -> tuple[Figures, list[Outcome], list[tuple[dict, list[Outcome]]]]:
    # train.jsonl and train3.jsonl were written later, by more writers, for tuning only: never held
    # out. fresh.jsonl came last, from one more writer, and was run once, after the reader was done:
    # a second held-out set ("fresh"), with no scenarios. fresh2.jsonl, from an eighth writer, was run
    # once at the end of the second tuning round, in the same way.
    singles = [i for name in TRAINING for i in load(name) if i["part"] == part]
    if part in FRESH:
        singles = load(f"{part}.jsonl")
    scenarios = [s for name in SCENARIOS for s in load(name) if s["part"] == part]
    return run(singles, scenarios)


def run(
    singles: list[dict], scenarios: list[dict]
) -> tuple[Figures, list[Outcome], list[tuple[dict, list[Outcome]]]]:
    with tempfile.TemporaryDirectory(prefix="followup-triage-") as directory:
        harness = Harness(directory)
        try:
            single_outcomes = run_singles(harness, singles)
            scenario_outcomes = run_scenarios(harness, scenarios)
        finally:
            dispose(harness.url)
    return figures(single_outcomes, scenario_outcomes), single_outcomes, scenario_outcomes


def misses(figs: Figures) -> list[str]:
    """The goals a part misses, one line each (empty when it meets them all)."""
    out = []
    for key in ("emergency", "urgent", "soon"):
        if figs.rate(key) < GOALS[key]:
            out.append(f"{key}: {figs.rate(key):.1%} < {GOALS[key]:.0%}")
    if figs.counts["false_reassurance"][0] > GOALS["false_reassurance"]:
        out.append(f"false reassurance: {figs.counts['false_reassurance'][0]} > 0")
    for key in ("benign_escalated", "benign_reviewed"):
        if figs.rate(key) > GOALS[key]:
            out.append(f"{key}: {figs.rate(key):.1%} > {GOALS[key]:.0%}")
    hit, total = figs.counts["scenarios"]
    if hit < total:
        out.append(f"scenarios: {hit}/{total}")
    return out


def print_table(results: dict[str, Figures]) -> None:
    parts = list(results)
    print(f"{'figure':<92}" + "".join(f"{p:>18}" for p in parts))
    for key, label in LABELS:
        cells = []
        for p in parts:
            hit, total = results[p].counts[key]
            cells.append(f"{hit}/{total} ({hit / total:.1%})" if total else "-")
        print(f"{label:<92}" + "".join(f"{c:>18}" for c in cells))


def print_failures(singles: list[Outcome], scenarios: list[tuple[dict, list[Outcome]]]) -> None:
    for o in singles:
        item = o.item
        wrong = []
        if item["tier"] != "none" and RANK[o.tier] < RANK[item["tier"]]:
            wrong.append(f"under-triaged {o.tier} < {item['tier']}")
        if o.reassured and (item["tier"] != "none" or item["kind"] in ("question", "unclear")):
            wrong.append("false reassurance")
        if item["tier"] == "none" and item["kind"] in BENIGN_KINDS and o.alerted:
            wrong.append(f"benign {'escalated ' + o.tier if o.tier != 'none' else 'reviewed'}")
        if item["kind"] in ("question", "unclear") and item["tier"] == "none" and not o.reviewed:
            wrong.append("not reviewed")
        if item["pain"] is not None and o.pain != item["pain"]:
            wrong.append(f"pain {o.pain} != {item['pain']}")
        if item["numbness"] is not None and o.numbness != item["numbness"]:
            wrong.append(f"numbness {o.numbness} != {item['numbness']}")
        if wrong:
            print(
                f"{item['id']:<10} {item['tier']:<9} {item.get('rule') or '-':<4} {'; '.join(wrong):<45} "
                f"{o.action:<28} {item['text']!r}"
            )
    for scenario, steps in scenarios:
        if not all(o.tier == o.item["tier"] for o in steps):
            print(f"{scenario['id']}: {scenario['title']}")
            for o in steps:
                mark = " " if o.tier == o.item["tier"] else "x"
                print(
                    f"   {mark} day {o.item['day']} {o.item['at']} "
                    f"expected {o.item['tier']:<9} got {o.tier:<9} "
                    f"{o.action:<28} {o.item['text']!r}"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--failures", choices=["dev"], help="list what the dev part gets wrong")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    parser.add_argument(
        "--training", metavar="FILE", help="one training file's figures alone (e.g. before tuning on it)"
    )
    args = parser.parse_args(argv)
    if args.training:
        if Path(args.training).name not in TRAINING + SCENARIOS:
            parser.error(
                f"--training: {args.training} is not a training file ({', '.join(TRAINING + SCENARIOS)})"
            )
        items = [i for i in load(Path(args.training).name) if i["part"] == "dev"]
        scenario_file = "steps" in items[0] if items else False
        figs, singles, scenarios = run([] if scenario_file else items, items if scenario_file else [])
        print_failures(singles, scenarios)
        print_table({Path(args.training).stem: figs})
        return 0
    if args.failures:
        figs, singles, scenarios = evaluate("dev")
        print_failures(singles, scenarios)
        print_table({"dev": figs})
        return 0
    results = {part: evaluate(part)[0] for part in ("dev", "heldout", *FRESH)}
    missed = misses(results["heldout"])
    if args.json:
        print(
            json.dumps(
                {
                    **{p: {k: list(v) for k, v in f.counts.items()} for p, f in results.items()},
                    "heldout_goals_missed": missed,
                },
                indent=1,
            )
        )
        return 0
    print_table(results)
    print("held-out goals: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
