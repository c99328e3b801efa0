"""Issue 14, outbound: `followup worker` processes on one PostgreSQL database, talking to the fake
Twilio over HTTP through the real client and the deployment-wide rate cap.

Three workers at the default claim sizing once sent 59 of 300 messages twice with no fault at all:
each claimed what the shared cap lets out in half a lease, so together they held three times that,
and rows outlived their leases while still queued for a send slot. A worker frozen past its lease
and resumed sent its whole claim again. Now every send is fenced (the row must still carry this
worker's claim right before the provider call) and leases are extended while work is in progress.

Default settings are a cap of 1/s and a lease of 120 s, which would take five minutes for 300
messages. Both are scaled by ten (10/s, and the smallest lease config accepts, 10 s) so the run
takes half a minute; the ratio that made the bug (what a worker claimed against what it could send
within its lease) is the same as at the defaults. bench/faults_outbound.py runs the defaults.
"""

import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from channel_fixtures import twilio_env
from load import count_nudges, seed_nudges, start_worker

from followup.channels.twilio_sms import CONCURRENCY


def seed(url: str, n: int) -> None:
    seed_nudges(url, n, datetime.now(UTC))  # the workers run on the real clock


count = count_nudges


def start_workers(url: str, fake, tmp_path, n: int, rate: str, lease: str) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        **twilio_env(fake),
        "FOLLOWUP_DATABASE_URL": url,
        "FOLLOWUP_SMS_MAX_PER_SECOND": rate,
        "FOLLOWUP_LEASE_SECONDS": lease,
    }
    env.pop("FOLLOWUP_NOW", None)
    return [start_worker(env, stderr=(tmp_path / f"worker{i}.log").open("w")) for i in range(n)]


def wait_all_sent(url: str, n: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and count(url, "status = 'sent'") < n:
        time.sleep(0.25)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def accepted(fake) -> Counter:
    return Counter(r.body for r in fake.sent() if r.body.startswith("load "))


@pytest.mark.slow
@pytest.mark.postgres
def test_three_workers_sharing_the_cap_send_every_message_once(pg_url, fake_twilio, tmp_path):
    # 300 messages at 20/s take 15 s, longer than the 10 s lease: before the fence each worker claimed
    # 20 x 10 / 2 = 100, the three of them all 300, and the last third went out twice.
    n = 300
    seed(pg_url, n)
    procs = start_workers(pg_url, fake_twilio, tmp_path, 3, rate="20", lease="10")
    try:
        wait_all_sent(pg_url, n, 120)
    finally:
        stop(procs)
    sends = accepted(fake_twilio)
    duplicates = sum(k - 1 for k in sends.values())
    print(f"\n{n} messages, 3 workers, cap 20/s, lease 10 s: {len(sends)} delivered, {duplicates} duplicates")
    assert set(sends) == {f"load {i:05d}" for i in range(n)}  # nothing lost
    assert duplicates == 0
    assert count(pg_url, "status = 'sent'") == n
    assert all(p.returncode == 0 for p in procs)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_frozen_past_its_lease_sends_again_at_most_what_it_had_in_flight(
    pg_url, fake_twilio, tmp_path
):
    n, lease = 600, 10
    seed(pg_url, n)
    procs = start_workers(pg_url, fake_twilio, tmp_path, 3, rate="20", lease=str(lease))
    victim = procs[0]
    held = 0
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # freeze it while it holds claims it has not sent yet
            held = count(pg_url, f"status = 'sending' AND lease_owner LIKE '%:{victim.pid}:%'")
            if held >= 10:
                victim.send_signal(signal.SIGSTOP)
                break
            time.sleep(0.05)
        assert held, "the victim never held a claim: nothing was tested"
        time.sleep(lease * 1.5)  # its leases run out; the others take its rows over and send them
        victim.send_signal(signal.SIGCONT)
        wait_all_sent(pg_url, n, 120)
    finally:
        stop(procs)
    sends = accepted(fake_twilio)
    duplicates = sum(k - 1 for k in sends.values())
    print(
        f"\n{n} messages, 3 workers, one frozen {lease * 1.5:g} s holding {held} claims: "
        f"{len(sends)} delivered, {duplicates} duplicates"
    )
    assert set(sends) == {f"load {i:05d}" for i in range(n)}  # nothing lost
    # Only what the victim had in flight past its fence (paced at 20/s, a couple) or had sent but not
    # yet recorded (at most a 0.5 s record interval's worth, about 11 here) can go out twice; the
    # 32 Twilio calls a worker may have in flight bound both. Before the fence, the victim sent its
    # whole claim again (50 duplicates in one run).
    assert duplicates <= CONCURRENCY
    assert count(pg_url, "status = 'sent'") == n
