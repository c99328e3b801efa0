"""`make bench`: every benchmark that needs nothing beyond the virtualenv, one after another.

Not included: bench_webhook_wrk.py (needs `apt-get install wrk`) and soak.py (`make soak`, about
about 70 minutes for 100,000 patients). Figures and their history are in docs/PERFORMANCE.md.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "bench_csv_import.py",
    "bench_scheduler.py",
    "bench_expiry.py",
    "bench_twilio.py",
    "bench_webhook.py",
    "bench_simulate.py",
    "bench_twilio_layer.py",
]

failed = []
for name in BENCHES:
    print(f"\n=== {name} ===", flush=True)
    if subprocess.run([sys.executable, str(HERE / name)], cwd=HERE).returncode != 0:
        failed.append(name)
sys.exit(f"failed: {', '.join(failed)}" if failed else 0)
