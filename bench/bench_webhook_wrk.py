"""The webhook under wrk (Debian package `wrk`): a C load generator, so the client takes little of
the 2 cores the server needs. Requests are signed beforehand, each with its own MessageSid.

Run: apt-get install wrk; cd bench && ../.venv/bin/python bench_webhook_wrk.py [--db pg] [--workers N]
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from bench_webhook import BODIES, PATIENTS, PUBLIC, TOKEN
from common import ROOT, fresh_sqlite, machine
from seed import seed_patients

SECONDS, CONNECTIONS, THREADS = 20, 16, 2


def lua_script(path: Path, n: int) -> None:
    validator, rng = RequestValidator(TOKEN), random.Random(7)
    lines = ["local reqs = {}"]
    for i in range(n):
        form = {"From": f"+1{2000000000 + rng.randint(1, PATIENTS)}", "To": "+16175550100",
                "Body": rng.choice(BODIES), "MessageSid": f"SM{i:032x}", "AccountSid": "ACbench"}
        signature = validator.compute_signature(PUBLIC + "/twilio/sms", form)
        lines.append(f'reqs[{i + 1}] = {{"{signature}", "{urlencode(form)}"}}')
    lines.append(f"""
local counter, threads = 1, {THREADS}
function setup(thread) thread:set("id", counter); counter = counter + 1 end
function init(args) i = id - 1 end
function request()
  i = i + threads
  local r = reqs[(i % {n}) + 1]
  return wrk.format("POST", "/twilio/sms", {{["Content-Type"] = "application/x-www-form-urlencoded",
                    ["X-Twilio-Signature"] = r[1]}}, r[2])
end""")
    path.write_text("\n".join(lines))


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    use_pg = "--db" in sys.argv and sys.argv[sys.argv.index("--db") + 1] == "pg"
    workers = sys.argv[sys.argv.index("--workers") + 1] if "--workers" in sys.argv else "1"
    now = datetime(2026, 12, 2, 0, 30, tzinfo=timezone.utc)
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
    script = Path(tempfile.mkdtemp()) / "requests.lua"
    lua_script(script, 40_000)
    port = 8400 + random.randint(0, 99)
    env = {**os.environ, "FOLLOWUP_DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "FOLLOWUP_PUBLIC_URL": PUBLIC,
           "FOLLOWUP_NOW": now.isoformat()}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "followup"), "serve", "--port", str(port),
                               "--workers", workers], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(1)
        command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{SECONDS}s", "--latency",
                   "-s", str(script), f"http://127.0.0.1:{port}"]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
        if cluster:
            cluster.stop()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"machine: {machine()}")
    print(f"webhook under wrk, {'PostgreSQL' if use_pg else 'SQLite'}, {workers} server process(es), "
          f"{CONNECTIONS} connections, {SECONDS} s: {float(rps):.0f} req/s, latency p50 {p50}, p99 {p99}, "
          f"non-2xx {non2xx.group(1) if non2xx else 0}")


if __name__ == "__main__":
    main()
