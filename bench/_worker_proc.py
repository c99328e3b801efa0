"""One benchmark worker process: drain everything due through the real dispatcher and a fake channel.

Usage: _worker_proc.py URL NOW_ISO [PLAN_AT_ISO]  — plans first (at PLAN_AT) when given;
prints JSON {planned, sent, seconds, maxrss_kb}.
"""

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from followup.channels.fake import FakeChannel  # noqa: E402
from followup.clock import parse_instant  # noqa: E402
from followup.db import engine_for  # noqa: E402
from followup.service import Worker  # noqa: E402

url, now = sys.argv[1], parse_instant(sys.argv[2])
start = time.perf_counter()
planned = 0
if len(sys.argv) > 3:
    planned = Worker(engine_for(url), {}, now=lambda: parse_instant(sys.argv[3])).plan()
report = Worker(engine_for(url), {"sms": FakeChannel("sms", keep=False)}, now=lambda: now).dispatch()
print(
    json.dumps(
        {
            "planned": planned,
            "sent": report.sent,
            "seconds": time.perf_counter() - start,
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    )
)
