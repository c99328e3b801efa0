"""Answers tracked through Twilio, and the cap paid in segments (issue 15).

    .venv/bin/python bench/bench_twilio_layer.py [latency|rest|segments]   (default: all three)

latency   signed webhooks through `followup serve` (as bench_webhook.py: 2,000 patients, 16 concurrent),
          a tenth of them red flags: the time from the POST until Twilio holds the answer, which with a
          TwiML <Message action=...> answer is the webhook's own response time. Every answer must carry
          its action URL (the tracking).
rest      the alternative: the same answers queued and sent by a worker as REST Messages.create calls
          (with StatusCallback) through the real twilio client to the fake Twilio (50 ms a call),
          under the deployment's SMS cap: the time from the reply until Twilio has the answer.
segments  2-segment reminders through a worker and the real twilio client to the fake Twilio under a
          cap of 10 a second: segments per second as Twilio counts them, paid in segments (as shipped)
          and in messages (as before).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

from common import fresh_sqlite, machine
from seed import seed_patients

RED_FLAGS = ["I can't control my bladder", "pain 9 and both legs are numb", "pain 8"]


def segments(text: str) -> int:
    from followup.segments import segments as count

    return count(text)


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * q) - 1)]


def latency() -> None:
    import bench_webhook
    from bench_webhook import BODIES, PATIENTS, run_load, webhook_server

    bench_webhook.REQUESTS = 3000
    now = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)
    with webhook_server(now) as (base, label, workers):
        rng = random.Random(15)
        forms = [
            {
                "From": f"+1{2000000000 + rng.randint(1, PATIENTS)}",
                "To": "+16175550100",
                "Body": rng.choice(RED_FLAGS) if i % 10 == 0 else rng.choice(BODIES),
                "MessageSid": f"SM{i:032x}",
                "AccountSid": "ACbench",
            }
            for i in range(3300)
        ]
        asyncio.run(run_load(base, forms[:300]))  # warm-up
        cpu_before = _server_cpu(base)
        elapsed, latencies, errors = asyncio.run(run_load(base, forms[300:]))
        cpu = (
            _server_cpu(base) - cpu_before
        )  # the server's own CPU: steadier than wall time on a busy machine
        # The tracking: every answer carries its action URL. Checked on a sample of fresh replies.
        import httpx
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(bench_webhook.TOKEN)
        tracked = answered = 0
        for i, form in enumerate(forms[:100]):
            form = {**form, "MessageSid": f"SM{10**6 + i:032x}"}
            signature = validator.compute_signature(bench_webhook.PUBLIC + "/twilio/sms", form)
            text = httpx.post(base + "/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}).text
            node = ElementTree.fromstring(text).find("Message")
            answered += node is not None
            tracked += node is not None and "/twilio/status?message=" in (node.get("action") or "")
    n = len(latencies)
    print(
        f"latency, TwiML answer with action, {label}, {n} signed webhooks, 16 concurrent, a tenth red flags: "
        f"{n / elapsed:.0f} req/s; webhook -> Twilio holds the answer: p50 "
        f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p(latencies, 0.99) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms; non-200 {errors}; server CPU {cpu / n * 1000:.2f} ms a "
        f"request; answers tracked {tracked}/{answered}"
    )


def _server_cpu(base: str) -> float:
    """User + system CPU seconds of the `followup serve` process listening at `base`."""
    import os

    port = base.rsplit(":", 1)[1]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"serve" in cmdline and port.encode() in cmdline:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return float("nan")


def _worker(url: str, fake, per_second: float):
    from followup import config
    from followup.db import engine_for
    from followup.service import build_worker

    settings = config.load(
        {
            "FOLLOWUP_DATABASE_URL": url,
            "TWILIO_ACCOUNT_SID": fake.account_sid,
            "TWILIO_AUTH_TOKEN": fake.auth_token,
            "TWILIO_FROM_NUMBER": "+16175550100",
            "TWILIO_API_BASE_URL": fake.url,
            "FOLLOWUP_SMS_MAX_PER_SECOND": str(per_second),
            "FOLLOWUP_PUBLIC_URL": "https://followup.example",
        }
    )
    return build_worker(settings, engine_for(url))


def rest() -> None:
    """The answers to 100 replies that arrive together (the minutes after a 19:00 check-in), sent as
    REST calls by a worker polling every second (DISPATCH_EVERY) under a cap of 50 segments a second."""
    from followup import outbox
    from followup.db import engine_for, session_scope
    from followup.messages import render
    from followup.testing.fake_twilio import FakeTwilio

    url = fresh_sqlite(Path(tempfile.mkdtemp()) / "rest.db")
    now = datetime.now(UTC)
    seed_patients(url, 100, now)
    answer = render("thanks", "sms", "en", clinic={"name": "Bench Clinic", "emergency_number": "911"}).body
    with FakeTwilio(latency=0.05) as fake:
        worker = _worker(url, fake, 50)
        worker.now = lambda: datetime.now(UTC)
        queued_at = time.time()
        with session_scope(engine_for(url)) as session:
            for patient_id in range(1, 101):
                outbox.queue(
                    session, patient_id=patient_id, clinic_id=1, kind="reply", channel="sms", body=answer,
                    now=datetime.now(UTC), quiet_exempt=True, dedupe_key=f"answer:{patient_id}",
                )  # fmt: skip
        poll = random.Random(1).random()  # where in its 1 s dispatch interval the worker happens to be
        time.sleep(poll)
        while len(fake.arrivals) < 100:
            worker.dispatch()
            time.sleep(0.05)
        waits = [t - queued_at for t in fake.arrivals]
    print(
        f"rest, the same answers by REST (worker, cap 50/s, fake Twilio 50 ms a call), 100 replies at once, "
        f"{segments(answer)} segments each: reply -> Twilio holds the answer p50 "
        f"{statistics.median(waits) * 1000:.0f} ms, p99 {p(waits, 0.99) * 1000:.0f} ms "
        f"(the worker's poll offset {poll * 1000:.0f} ms included; at the default cap of 1/s the last "
        f"would wait about {100 * segments(answer)} s)"
    )


def seg_rate() -> None:
    from followup import planner
    from followup.db import engine_for, session_scope
    from followup.testing.fake_twilio import FakeTwilio

    results = {}
    for label, per_message in (("paid in segments (as shipped)", False), ("paid in messages (before)", True)):
        url = fresh_sqlite(Path(tempfile.mkdtemp()) / f"seg{per_message}.db")
        now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
        seed_patients(url, 60, now, reminder_times="09:00", zones=["America/New_York"])
        with FakeTwilio() as fake:
            worker = _worker(url, fake, 10)
            worker.now = lambda at=now: at
            if per_message:
                worker.pace = lambda channel, _segments=1, paced=worker.pace: paced(channel, 1)
            with session_scope(engine_for(url)) as session:
                planner.plan(session, now, horizon=timedelta(minutes=5))
            worker.dispatch()
            sent = [r for r in fake.sent() if "time for your exercises" in r.body]
        times = [r.at for r in sent]
        elapsed = max(times) - min(times)
        parts = sum(segments(r.body) for r in sent)
        busiest = _max_segments_in_a_second(times, [segments(r.body) for r in sent])
        results[label] = (len(sent), parts, elapsed, busiest)
    for label, (count, parts, elapsed, busiest) in results.items():
        print(
            f"segments, cap 10/s, {count} reminders of {parts // count} segments, {label}: "
            f"{parts / elapsed:.1f} segments/s over {elapsed:.1f} s, busiest second {busiest} segments"
        )


def _max_segments_in_a_second(times: list[float], sizes: list[int]) -> int:
    pairs = sorted(zip(times, sizes, strict=True))
    best, lo, total = 0, 0, 0
    for t, size in pairs:
        total += size
        while t - pairs[lo][0] >= 1.0:
            total -= pairs[lo][1]
            lo += 1
        best = max(best, total)
    return best


def main() -> None:
    which = sys.argv[1:] or ["latency", "rest", "segments"]
    print(f"machine: {machine()}")
    for name in which:
        {"latency": latency, "rest": rest, "segments": seg_rate}[name]()


if __name__ == "__main__":
    main()
