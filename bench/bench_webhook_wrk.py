"""The webhook under wrk (Debian package `wrk`): a C load generator, so the client takes little of
the 2 cores the server needs. Requests are signed beforehand, each with its own MessageSid.

Run: apt-get install wrk; cd bench && ../.venv/bin/python bench_webhook_wrk.py [--db pg] [--workers N]
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench_webhook import BODIES, PATIENTS, PUBLIC, TOKEN, webhook_server
from common import machine
from twilio.request_validator import RequestValidator

SECONDS, CONNECTIONS, THREADS = 20, 16, 2


def lua_script(path: Path, n: int) -> None:
    validator, rng = RequestValidator(TOKEN), random.Random(7)
    lines = ["local reqs = {}"]
    for i in range(n):
        form = {
            "From": f"+1{2000000000 + rng.randint(1, PATIENTS)}",
            "To": "+16175550100",
            "Body": rng.choice(BODIES),
            "MessageSid": f"SM{i:032x}",
            "AccountSid": "ACbench",
        }
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
    script = Path(tempfile.mkdtemp()) / "requests.lua"
    lua_script(script, 40_000)
    with webhook_server(datetime(2026, 12, 2, 0, 30, tzinfo=UTC)) as (base, label, workers):
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(THREADS),
                "-c",
                str(CONNECTIONS),
                "-d",
                f"{SECONDS}s",
                "--latency",
                "-s",
                str(script),
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"machine: {machine()}")
    print(
        f"webhook under wrk, {label}, {workers} server process(es), {CONNECTIONS} connections, {SECONDS} s: "
        f"{float(rps):.0f} req/s, latency p50 {p50}, p99 {p99}, non-2xx {non2xx.group(1) if non2xx else 0}"
    )


if __name__ == "__main__":
    main()
