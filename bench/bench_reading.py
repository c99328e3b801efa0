"""How long one reply takes to read (issue 13: <= 0.5 ms median), on the triage corpus's texts.

Three figures, each a median over every reply of tests/triage/ (3,062 texts, both languages):
- cold: the first time a text is read in a process, its words never seen before (the worst case:
  every token's stems and typo look-ups are computed);
- warm words: a new text made of words the process has seen (a running service); also each text's
  fastest of four such reads, steadier on a shared machine;
- cached: a text read before (replies.parse caches readings by text: "DONE", "3 N").
The baseline is the regex parser of 5d675ba, loaded from git, on the same texts in the same run.

    .venv/bin/python bench/bench_reading.py
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine

from followup import reading, replies


def texts() -> list[tuple[str, str]]:
    out = []
    for name in ("replies.jsonl", "train.jsonl"):
        for line in (ROOT / "tests" / "triage" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                out.append((item["text"], item["lang"]))
    return out


def per_call(fn, items) -> list[float]:
    times = []
    for text, lang in items:
        start = time.perf_counter()
        fn(text, lang)
        times.append((time.perf_counter() - start) * 1000)
    return times


def baseline_parser():
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", "5d675ba:followup/replies.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_replies.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_replies", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_replies"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return lambda text, _lang: module.parse(text)


def main() -> None:
    items = texts()
    reading.read("warm up the pipelines", "en")
    reading.read("calentar", "es")
    cold = per_call(reading.read, items)
    warm = per_call(lambda t, lang: reading.read(t + " .", lang), items)  # new texts, known words
    # The same, each text's fastest of four new variants: a shared machine's pauses land in one
    # read and not the other three, so this median moves less from run to run.
    rounds = [per_call(lambda t, lang, k=k: reading.read(t + " ." * (k + 2), lang), items) for k in range(4)]
    best = [min(times) for times in zip(*rounds)]
    for text, lang in items:
        replies.parse(text, lang)
    cached = per_call(replies.parse, items)
    old = per_call(baseline_parser(), items)
    p = lambda xs, q: statistics.quantiles(xs, n=100)[q - 1]  # noqa: E731
    print(f"machine: {machine()}")
    print(f"{len(items)} replies from tests/triage/")
    for name, xs in (
        ("cold", cold),
        ("warm words", warm),
        ("warm, best of 4", best),
        ("cached", cached),
        ("baseline 5d675ba", old),
    ):
        print(
            f"{name:<18} median {statistics.median(xs):.3f} ms   "
            f"p90 {p(xs, 90):.3f} ms   p99 {p(xs, 99):.3f} ms"
        )
    print(f"warm/baseline median ratio: x{statistics.median(warm) / statistics.median(old):.1f}")


if __name__ == "__main__":
    sys.exit(main())
