"""Signed Twilio webhooks through `followup serve` (uvicorn) on loopback (issue 5).

Each request runs keyword check + parse + rules + database writes (inbound row, reading, reply row,
audit; escalations and alerts for some). The client is an asyncio httpx loop in this process; the
server is a separate `followup serve` process. Run: .venv/bin/python bench/bench_webhook.py [--db pg]
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from common import ROOT, fresh_sqlite, machine, wait_healthy
from seed import seed_patients
from twilio.request_validator import RequestValidator

TOKEN, PUBLIC = "bench-token", "https://followup.example"
BODIES = [
    "6 N",
    "pain 3, no numbness",
    "DONE",
    "3/10 y",
    "2",
    "done x2",
    "pain 5",
    "no tingling",
    "4 N",
    "ok thanks",
]
PATIENTS = 2000
REQUESTS = 6000
CONCURRENCY = 16


async def run_load(url: str, forms: list[dict]) -> tuple[float, list[float], int]:
    validator = RequestValidator(TOKEN)
    signed = [(f, validator.compute_signature(PUBLIC + "/twilio/sms", f)) for f in forms]
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue = asyncio.Queue()
    for item in signed:
        queue.put_nowait(item)

    async def worker(client: httpx.AsyncClient):
        nonlocal errors
        while not queue.empty():
            form, signature = queue.get_nowait()
            start = time.perf_counter()
            response = await client.post(
                url + "/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
            )
            latencies.append(time.perf_counter() - start)
            errors += response.status_code != 200

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - start
    return elapsed, latencies, errors


@contextmanager
def webhook_server(now: datetime):
    """A seeded database (SQLite, or PostgreSQL with --db pg) behind `followup serve`; yields (base URL,
    label, workers). Shared by both webhook benchmarks."""
    use_pg = "--db" in sys.argv and sys.argv[sys.argv.index("--db") + 1] == "pg"
    workers = sys.argv[sys.argv.index("--workers") + 1] if "--workers" in sys.argv else "1"
    cluster = None
    if use_pg:
        sys.path.insert(0, str(ROOT / "tests"))
        import pg
        import psycopg

        from followup import migrate

        cluster = pg.Cluster().start()
        with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = cluster.url("bench")
        migrate.upgrade(url)
    else:
        url = fresh_sqlite(Path(tempfile.mkdtemp()) / "webhook.db")
    seed_patients(url, PATIENTS, now)
    port = 8300 + random.randint(0, 199)
    env = {
        **os.environ,
        "FOLLOWUP_DATABASE_URL": url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "FOLLOWUP_PUBLIC_URL": PUBLIC,
        "FOLLOWUP_NOW": now.isoformat(),
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "followup"), "serve", "--port", str(port), "--workers", workers],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base)
        time.sleep(1)  # let every worker process finish starting
        yield base, "PostgreSQL" if use_pg else "SQLite", workers
    finally:
        server.terminate()
        server.wait(timeout=10)
        if cluster:
            cluster.stop()


def main() -> None:
    now = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)
    with webhook_server(now) as (base, label, workers):
        rng = random.Random(7)
        forms = [
            {
                "From": f"+1{2000000000 + rng.randint(1, PATIENTS)}",
                "To": "+16175550100",
                "Body": rng.choice(BODIES),
                "MessageSid": f"SM{i:032x}",
                "AccountSid": "ACbench",
            }
            for i in range(REQUESTS)
        ]
        asyncio.run(run_load(base, forms[:300]))  # warm-up (and those sids are then replays: excluded)
        elapsed, latencies, errors = asyncio.run(run_load(base, forms[300:]))
    latencies.sort()
    n = len(latencies)
    print(f"machine: {machine()}")
    print(
        f"webhook, {label}, {workers} server process(es), {n} signed requests, {CONCURRENCY} concurrent, "
        f"client and server on the same 2 cores: {n / elapsed:.0f} req/s; latency p50 "
        f"{statistics.median(latencies) * 1000:.1f} ms, p99 {latencies[int(n * 0.99) - 1] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms; non-200: {errors}"
    )


if __name__ == "__main__":
    main()
