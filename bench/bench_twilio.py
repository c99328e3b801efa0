"""Sending SMS through the real twilio client to the fake Twilio server (issue 4).

The fake runs in its own process with 200 ms latency per call and enforces 100/s itself (429 above).
followup runs the real dispatcher with FOLLOWUP_SMS_MAX_PER_SECOND=100 for 60 s; a naive sequential
sender (one call after another) is measured on the same setup.

Run: .venv/bin/python bench/bench_twilio.py [--seconds 60]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from common import ROOT, fresh_sqlite, machine
from seed import seed_patients  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from followup import clock, config, service  # noqa: E402
from followup.channels.base import Outgoing  # noqa: E402
from followup.channels.twilio_sms import TwilioSmsChannel  # noqa: E402
from followup.db import engine_for, session_scope  # noqa: E402
from followup.models import Message  # noqa: E402

SECONDS = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 60
PORT = 8199


def stats() -> dict:
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{PORT}/_fake/stats"))


def main() -> None:
    fake = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "followup.testing.fake_twilio",
            "--port",
            str(PORT),
            "--latency",
            "0.2",
            "--limit",
            "100",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    fake.stdout.readline()
    try:
        env = {
            "TWILIO_ACCOUNT_SID": "ACfake",
            "TWILIO_AUTH_TOKEN": "secret",
            "TWILIO_FROM_NUMBER": "+16175550100",
            "TWILIO_API_BASE_URL": f"http://127.0.0.1:{PORT}",
            "FOLLOWUP_SMS_MAX_PER_SECOND": "100",
        }
        settings = config.load(env)

        # The naive sender: one call after another.
        channel = TwilioSmsChannel(settings)
        start = time.perf_counter()
        for i in range(25):
            channel.send(Outgoing(i, "sms", "reminder", "+16175550123", f"naive {i}"))
        naive = 25 / (time.perf_counter() - start)

        url = fresh_sqlite(Path(tempfile.mkdtemp()) / "twilio.db")
        now = clock.now()
        seed_patients(url, 1000, now, start=now.date() + timedelta(days=30))
        n = 100 * (SECONDS + 10)
        with session_scope(engine_for(url)) as session:
            session.execute(
                insert(Message.__table__),
                [
                    {
                        "patient_id": 1 + i % 1000,
                        "clinic_id": 1,
                        "direction": "out",
                        "kind": "nudge",
                        "channel": "sms",
                        "status": "pending",
                        "dedupe_key": f"t:{i}",
                        "due_at": now,
                        "next_attempt_at": now,
                        "expires_at": now + timedelta(hours=2),
                        "body": f"bench {i}",
                        "attempts": 0,
                        "quiet_exempt": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(n)
                ],
            )
        before = stats()
        worker = service.build_worker(config.load({**env, "FOLLOWUP_DATABASE_URL": url}), engine_for(url))
        runner = threading.Thread(
            target=lambda: [worker.dispatch() for _ in range(1000) if not worker.stopping.is_set()]
        )
        start = time.perf_counter()
        runner.start()
        time.sleep(SECONDS)
        after = stats()
        worker.stopping.set()
        runner.join()
        worker.release()
        sent = after["sent"] - before["sent"]
        print(f"machine: {machine()}")
        print(f"naive sequential sender: {naive:.1f} msg/s")
        print(
            f"followup dispatch, cap 100/s, 200 ms per call, {SECONDS} s: "
            f"{sent:,} sent = {sent / SECONDS:.1f} msg/s "
            f"(x{sent / SECONDS / naive:.0f} the naive sender); max in any 1 s window counted by the fake: "
            f"{after['max_in_1s']}; 429s: {after['rejected_429'] - before['rejected_429']}"
        )
    finally:
        fake.terminate()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    main()
