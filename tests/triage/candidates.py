"""The testers' candidates (reviews/candidates.jsonl) as a regression table, in both directions.

Each candidate is a patient's first reply, answered by the real service on a fresh database (the
same harness as evaluate.py). A candidate fails when:
- a report (E, U, S: that tier or higher) is answered at a lower tier;
- a cry for help (RV) gets neither a review nor an escalation;
- a harmless reply (OK) is escalated or reviewed, or a denied finding (NEG) is escalated;
- a misspelt score (P3, P4) is not read as that score.

These are dev material: the testers wrote them to attack the reader, so they may be read and tuned on.

    ../../.venv/bin/python candidates.py            # the failures, one a line, and the counts
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter

import evaluate as ev

RANK = ev.RANK
TIER_OF = {"E": "emergency", "U": "urgent", "S": "soon"}


def verdict(expect: str, outcome: ev.Outcome) -> str | None:
    """Why the outcome is wrong for what the testers expected, or None when it is right."""
    tier = outcome.tier
    if expect in TIER_OF:
        if RANK[tier] < RANK[TIER_OF[expect]]:
            return f"answered {tier}, not {TIER_OF[expect]}"
        return None
    if expect == "RV":
        return None if (outcome.reviewed or tier != "none") else "not reviewed"
    if expect == "OK":
        if tier != "none":
            return f"harmless, escalated {tier}"
        return "harmless, reviewed" if outcome.alerted else None
    if expect == "NEG":
        return f"denied, escalated {tier}" if tier != "none" else None
    if expect == "NOTPLAIN":
        return "a plain thank-you" if outcome.reassured else None
    if expect in ("P3", "P4"):
        return None if outcome.pain == int(expect[1]) else f"pain read as {outcome.pain}"
    raise ValueError(f"unknown expectation {expect!r}")


def critical(expect: str, why: str) -> bool:
    """A report answered lower, or a harmless reply sent to 911: what no reader change may add."""
    return expect in ("E", "U", "S", "RV") or why.endswith("escalated emergency")


def run() -> list[tuple[dict, ev.Outcome, str | None]]:
    items = [dict(i, part="candidates") for i in ev.load("reviews/candidates.jsonl")]
    with tempfile.TemporaryDirectory(prefix="followup-candidates-") as directory:
        harness = ev.Harness(directory)
        try:
            outcomes = ev.run_singles(harness, items)
        finally:
            ev.dispose(harness.url)
    return [(o.item, o, verdict(o.item["expect"], o)) for o in outcomes]


def main() -> int:
    results = run()
    failed = [(i, o, why) for i, o, why in results if why]
    for item, outcome, why in failed:
        mark = "CRITICAL" if critical(item["expect"], why) else "wrong"
        print(f"{mark}\t{item['expect']}\t{item['group']}\t{why}\t{outcome.action}\t{item['text']}")
    counts = Counter(i["expect"] for i, _, _ in results)
    wrong = Counter(i["expect"] for i, _, why in failed)
    print(" ".join(f"{k} {counts[k] - wrong[k]}/{counts[k]}" for k in sorted(counts)))
    print(f"critical {sum(critical(i['expect'], w) for i, _, w in failed)}, wrong {len(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
