"""Signed Twilio webhooks through `followup serve` (uvicorn) on loopback (issue 5).

Each request runs keyword check + parse + rules + database writes (inbound row, reading, reply row,
audit; escalations and alerts for some). The server is a separate `followup serve` process. Two
clients take turns on the same server, each with its own MessageSids:
- `raw`: asyncio streams writing prebuilt HTTP/1.1 requests on keep-alive connections, a few µs of
  client work per request, so the figure is the server's (what wrk measures, without installing wrk);
- `httpx`: an asyncio httpx client, which takes a good part of the 2 cores and adds its own
  event-loop delays to every latency; kept as the earlier figures' measure.
Run: .venv/bin/python bench/bench_webhook.py [--db pg] [--workers N]
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
from collections import deque
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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


async def run_raw_load(url: str, forms: list[dict]) -> tuple[float, list[float], int]:
    """The same requests as `run_load`, written as bytes on CONCURRENCY keep-alive connections."""
    validator = RequestValidator(TOKEN)
    where = urlsplit(url)
    pending = deque()
    for form in forms:
        body = urlencode(form).encode()
        head = (
            f"POST /twilio/sms HTTP/1.1\r\nHost: {where.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {validator.compute_signature(PUBLIC + '/twilio/sms', form)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        pending.append(head.encode() + body)
    latencies: list[float] = []
    errors = 0

    async def worker():
        nonlocal errors
        reader, writer = await asyncio.open_connection(where.hostname, where.port)
        while pending:
            request = pending.popleft()
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            errors += head[9:12] != b"200"
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - start, latencies, errors


def report(label: str, elapsed: float, latencies: list[float], errors: int) -> str:
    latencies = sorted(latencies)
    n = len(latencies)
    return (
        f"{label}: {n} signed requests, {n / elapsed:.0f} req/s; latency p50 "
        f"{statistics.median(latencies) * 1000:.1f} ms, p99 {latencies[int(n * 0.99) - 1] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms; non-200: {errors}"
    )


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
            for i in range(2 * REQUESTS)
        ]
        asyncio.run(run_load(base, forms[:300]))  # warm-up (and those sids are then replays: excluded)
        raw = asyncio.run(run_raw_load(base, forms[300:REQUESTS]))
        client = asyncio.run(run_load(base, forms[REQUESTS + 300 :]))
    print(f"machine: {machine()}")
    print(
        f"webhook, {label}, {workers} server process(es), {CONCURRENCY} concurrent, "
        "client and server on the same 2 cores"
    )
    print(report("  raw client  ", *raw))
    print(report("  httpx client", *client))


if __name__ == "__main__":
    main()
