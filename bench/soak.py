"""Soak: N patients for a simulated week on PostgreSQL, through `followup tick`, with replies flowing in.

Everything real runs in its own process: a throw-away PostgreSQL cluster, the fake Twilio API
(count-only), `followup serve` (uvicorn) for the webhook, and at each step of the fake clock
WORKERS `followup tick` processes side by side (FOLLOWUP_NOW pinned to the step). The clock steps to
the next due message, and at least every 30 minutes so the time-based rules see every check-in.
Meanwhile a replier answers about half of the check-ins sent in the last step through the signed
webhook, posting 3% of them twice, as Twilio does when it retries.

Checked at the end, and the run fails if any is not true:
- every message due before the end was sent: nothing pending, failed or skipped;
- the fake Twilio accepted exactly as many messages as the database records as sent (no duplicate);
- for a sample of patients, the reminders and check-ins sent are exactly those the pure schedule
  (followup.schedule) says, computed independently of the planner;
- every reply posted got a 200 and is stored once (the retries are not stored again);
- no patient has the same escalation rule open twice (two workers running the rules at once).

Run: .venv/bin/python bench/soak.py [--patients 100000] [--days 7] [--workers 2]   (or `make soak`)
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from common import ROOT, machine, wait_healthy
from seed import ZONES, seed_patients
from sqlalchemy import text

sys.path.insert(0, str(ROOT / "tests"))
import pg  # noqa: E402
import psycopg  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from followup import migrate, schedule  # noqa: E402
from followup.db import engine_for  # noqa: E402
from followup.localtime import parse_hhmm  # noqa: E402

START = datetime(2027, 3, 1, 5, 0, tzinfo=UTC)  # a Monday, before any zone's first reminder
TOKEN, PUBLIC = "soak-secret", "https://followup.example"
FOLLOWUP = str(ROOT / ".venv" / "bin" / "followup")
RULES_EVERY = timedelta(minutes=30)
SAMPLE = 500


def scalar(url: str, sql: str, **params):
    with engine_for(url).connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(url: str, sql: str, **params) -> list:
    with engine_for(url).connect() as conn:
        return conn.execute(text(sql), params).all()


class Replier(threading.Thread):
    """Posts signed replies to the webhook from a queue, on a few connections, while ticks run."""

    def __init__(self, base: str, threads: int = 8):
        super().__init__(daemon=True)
        self.base, self.threads = base, threads
        self.jobs: queue.Queue = queue.Queue()
        self.posted: Counter = Counter()  # sid -> times posted
        self.statuses: Counter = Counter()
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        self.validator = RequestValidator(TOKEN)

    def run(self) -> None:
        workers = [threading.Thread(target=self._work, daemon=True) for _ in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def _work(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while True:
                form = self.jobs.get()
                if form is None:
                    self.jobs.put(None)
                    return
                signature = self.validator.compute_signature(PUBLIC + "/twilio/sms", form)
                began = time.perf_counter()
                response = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
                with self.lock:
                    self.latencies.append(time.perf_counter() - began)
                    self.statuses[response.status_code] += 1
                    self.posted[form["MessageSid"]] += 1

    def finish(self) -> None:
        self.jobs.put(None)
        self.join()


def expected_sends(url: str, patient_ids: list[int], end: datetime) -> Counter:
    """(patient, kind, due) of every reminder and check-in that followup.schedule says is due."""
    expected: Counter = Counter()
    for pid, tz, start, weeks, times, checkin, every, window_start, window_end in rows(
        url,
        """
            SELECT p.id, p.timezone, e.start_date, e.weeks, e.reminder_times, e.checkin_time,
                   e.checkin_every_days,
                   c.quiet_start, c.quiet_end
            FROM patient p JOIN enrolment e ON e.patient_id = p.id JOIN clinic c ON c.id = p.clinic_id
            WHERE p.id = ANY(:ids)""",
        ids=patient_ids,
    ):
        plan = schedule.Plan(
            timezone=tz,
            start=start,
            weeks=weeks,
            reminder_times=tuple(parse_hhmm(t) for t in times.split(",")),
            checkin_time=parse_hhmm(checkin),
            checkin_every_days=every,
            window_start=parse_hhmm(window_start),
            window_end=parse_hhmm(window_end),
        )
        for slot in schedule.slots(plan, START, end):
            expected[(pid, slot.kind, slot.due)] += 1
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reply-share", type=float, default=0.5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "soak.json"))
    args = parser.parse_args()
    rng = random.Random(7)
    end = START + timedelta(days=args.days)
    started = time.perf_counter()

    cluster = pg.Cluster().start()
    procs: list[subprocess.Popen] = []
    try:
        with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE DATABASE soak")
        url = cluster.url("soak")
        migrate.upgrade(url)
        seed_patients(
            url,
            args.patients,
            START,
            start=START.date(),
            weeks=2,
            reminder_times="09:00",
            checkin_time="19:00",
            zones=ZONES[:4],
        )
        print(f"seeded {args.patients} patients in {time.perf_counter() - started:.0f} s", flush=True)

        twilio_port, web_port = pg.free_port(), pg.free_port()
        fake = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "followup.testing.fake_twilio",
                "--port",
                str(twilio_port),
                "--count-only",
                "--auth-token",
                TOKEN,
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        procs.append(fake)
        fake.stdout.readline()
        env = {
            **os.environ,
            "FOLLOWUP_DATABASE_URL": url,
            "TWILIO_ACCOUNT_SID": "ACfake",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": "+16175550100",
            "TWILIO_API_BASE_URL": f"http://127.0.0.1:{twilio_port}",
            "FOLLOWUP_SMS_MAX_PER_SECOND": "100000",
            "FOLLOWUP_PUBLIC_URL": PUBLIC,
        }
        web_env = {**env, "FOLLOWUP_NOW": START.isoformat()}
        web = subprocess.Popen(
            [FOLLOWUP, "serve", "--port", str(web_port)],
            env=web_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(web)
        base = f"http://127.0.0.1:{web_port}"
        wait_healthy(base)
        replier = Replier(base)
        replier.start()

        steps, tick_walls, step_starts = 0, [], []
        now = START
        loop_began = time.perf_counter()
        while now < end:
            step_starts.append(time.time())
            began = time.perf_counter()
            ticks = [
                subprocess.Popen(
                    [FOLLOWUP, "tick", "--json"],
                    env={**env, "FOLLOWUP_NOW": now.isoformat()},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(args.workers)
            ]
            for t in ticks:
                out, err = t.communicate()
                if t.returncode != 0:
                    raise SystemExit(f"tick at {now} failed: {err.strip()[-500:]}")
            tick_walls.append(time.perf_counter() - began)
            steps += 1
            for pid, phone in rows(
                url,
                """
                    SELECT m.patient_id, p.phone FROM message m JOIN patient p ON p.id = m.patient_id
                    WHERE m.kind = 'checkin' AND m.status = 'sent' AND m.sent_at = :now""",
                now=now,
            ):
                if rng.random() < args.reply_share:
                    form = {
                        "From": phone,
                        "To": "+16175550100",
                        "Body": rng.choice(["2 N", "3 n", "pain 2 no numbness"]),
                        "MessageSid": f"SM{pid:016x}{int(now.timestamp()):016x}",
                        "AccountSid": "ACfake",
                    }
                    replier.jobs.put(form)
                    if rng.random() < 0.03:
                        replier.jobs.put(dict(form))  # Twilio retrying the same webhook
            due = scalar(url, "SELECT min(next_attempt_at) FROM message WHERE status = 'pending'")
            now = (
                min(x for x in (due, now + RULES_EVERY, end) if x is not None and x > now)
                if due != now
                else now
            )
            if steps % 25 == 0:
                sent = scalar(url, "SELECT count(*) FROM message WHERE status = 'sent' AND direction = 'out'")
                print(
                    f"step {steps}: fake clock {now:%a %H:%M}, {sent} sent, "
                    f"{time.perf_counter() - loop_began:.0f} s",
                    flush=True,
                )
        loop_seconds = time.perf_counter() - loop_began
        replier.finish()
        web_rss = int(Path(f"/proc/{web.pid}/status").read_text().split("VmHWM:")[1].split()[0]) / 1024
        tick_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        stats = json.load(urllib.request.urlopen(f"http://127.0.0.1:{twilio_port}/_fake/stats"))
        arrivals = json.load(urllib.request.urlopen(f"http://127.0.0.1:{twilio_port}/_fake/arrivals"))[
            "arrivals"
        ]
        escalations = Counter(dict(rows(url, "SELECT rule, count(*) FROM escalation GROUP BY rule")))
        # Two workers evaluating the same rule at once must not open it twice for one patient.
        doubled = scalar(
            url,
            """SELECT count(*) FROM (SELECT patient_id, rule FROM escalation
                                 WHERE acknowledged_at IS NULL
                                 GROUP BY patient_id, rule HAVING count(*) > 1) AS d""",
        )
        by_status = Counter(
            dict(rows(url, "SELECT status, count(*) FROM message WHERE direction = 'out' GROUP BY status"))
        )
        out_kinds = Counter(
            dict(
                rows(
                    url,
                    "SELECT kind, count(*) FROM message WHERE direction = 'out' "
                    "AND status = 'sent' GROUP BY kind",
                )
            )
        )
        sent_sms = scalar(
            url,
            "SELECT count(*) FROM message WHERE direction = 'out' AND status = 'sent' "
            "AND channel = 'sms' AND provider_id IS NOT NULL",
        )
        unsent_due = scalar(
            url,
            "SELECT count(*) FROM message WHERE direction = 'out' AND due_at < :end "
            "AND status NOT IN ('sent', 'delivered', 'cancelled')",
            end=end,
        )
        stored = Counter(
            dict(
                rows(
                    url,
                    "SELECT provider_id, count(*) FROM message WHERE direction = 'in' GROUP BY provider_id",
                )
            )
        )
        sample = rng.sample(range(1, args.patients + 1), min(SAMPLE, args.patients))
        expected = expected_sends(url, sample, end)
        actual = Counter(
            (pid, kind, due)
            for pid, kind, due in rows(
                url,
                """
            SELECT patient_id, kind, due_at FROM message WHERE patient_id = ANY(:ids) AND status = 'sent'
            AND kind IN ('reminder', 'checkin')""",
                ids=sample,
            )
        )

        # Lateness: each message against the wall-clock start of the step it was due in (the fake
        # clock was pinned there), so it includes starting the tick processes.
        lateness, i = [], 0
        for arrival in sorted(arrivals):
            while i + 1 < len(step_starts) and step_starts[i + 1] <= arrival:
                i += 1
            lateness.append(arrival - step_starts[i])
        lateness.sort()
        latencies = sorted(replier.latencies)
        result = {
            "machine": machine(),
            "patients": args.patients,
            "days": args.days,
            "workers": args.workers,
            "steps": steps,
            "loop_seconds": round(loop_seconds, 1),
            "sent_by_kind": dict(out_kinds),
            "outbound_by_status": dict(by_status),
            "fake_twilio_accepted": stats["sent"],
            "db_sent_sms": sent_sms,
            "throughput_msg_per_s": round(stats["sent"] / loop_seconds, 1),
            "lateness_s": {
                "p50": round(lateness[len(lateness) // 2], 2) if lateness else None,
                "p99": round(lateness[int(len(lateness) * 0.99)], 2) if lateness else None,
                "max": round(lateness[-1], 2) if lateness else None,
            },
            "tick_wall_s": {
                "median": round(statistics.median(tick_walls), 2),
                "max": round(max(tick_walls), 2),
            },
            "replies": {
                "posted": sum(replier.posted.values()),
                "unique": len(replier.posted),
                "retried": sum(1 for n in replier.posted.values() if n > 1),
                "statuses": dict(replier.statuses),
                "stored": sum(stored.values()),
                "stored_twice": sum(1 for n in stored.values() if n > 1),
                "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
                "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
            },
            "max_rss_mib": {"tick": round(tick_rss), "serve": round(web_rss)},
            "sample": {
                "patients": len(sample),
                "expected": sum(expected.values()),
                "sent": sum(actual.values()),
                "match": expected == actual,
            },
            "unsent_due_before_end": unsent_due,
            "escalations_by_rule": dict(escalations),
            "patients_with_a_rule_open_twice": doubled,
            "total_seconds": round(time.perf_counter() - started, 1),
        }
        checks = {
            "nothing due before the end is left unsent": unsent_due == 0,
            "the fake accepted exactly what the database records as sent": stats["sent"] == sent_sms,
            "the sample matches the pure schedule exactly": expected == actual and sum(expected.values()) > 0,
            "every reply got a 200": set(replier.statuses) == {200},
            "no patient has the same escalation open twice": doubled == 0,
            "every reply is stored once": set(stored) == set(replier.posted)
            and result["replies"]["stored_twice"] == 0,
        }
        result["checks"] = checks
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2, default=str))
        print(json.dumps(result, indent=2, default=str))
        if not all(checks.values()):
            raise SystemExit("FAILED: " + ", ".join(k for k, ok in checks.items() if not ok))
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        cluster.stop()


if __name__ == "__main__":
    main()
