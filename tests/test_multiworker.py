"""`followup worker` processes on one PostgreSQL database: four of them send 20,000 messages, each
once, and a worker killed with SIGKILL mid-batch, even ten times in a row, loses nothing (its rows
go out when the lease expires), with duplicates only from what it had sent but not yet recorded."""

import os
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta

import load
import pytest
from factories import utc
from load import console_bodies, count_nudges, seed_nudges

from followup.outcomes import RECORD_MAX

N = 20_000
NOW = utc(2026, 12, 1, 14, 0)


def seed(url: str, n: int = N) -> None:
    # Not quiet-exempt: 09:00 in Boston is inside the window, so the workers' quiet-hours check runs too.
    seed_nudges(url, n, NOW, patients=200, grace=timedelta(hours=24), quiet_exempt=False)


def count(url: str, where: str) -> int:
    return count_nudges(url, where)


def start_worker(env: dict, out) -> subprocess.Popen:
    return load.start_worker(env, stdout=out.open("w"))


sent_bodies = console_bodies


@pytest.mark.slow
@pytest.mark.postgres
def test_four_workers_send_every_message_once_and_a_killed_worker_loses_nothing(pg_url, tmp_path):
    seed(pg_url)
    env = {
        **os.environ,
        "FOLLOWUP_DATABASE_URL": pg_url,
        "FOLLOWUP_NOW": "2026-12-01T14:00:00Z",
        "FOLLOWUP_LEASE_SECONDS": "10",
    }
    outputs = [tmp_path / f"worker{i}.out" for i in range(4)]
    procs = [start_worker(env, out) for out in outputs]
    victim = procs[0]
    killed_with_claims = 0
    try:
        # Freeze the victim while it holds claims, then kill it: a crash in the middle of a batch.
        deadline = time.monotonic() + 30  # generous: on a loaded machine the victim may be slow to claim
        while time.monotonic() < deadline:
            if len(sent_bodies(outputs[0])) >= 200:
                victim.send_signal(signal.SIGSTOP)
                killed_with_claims = count(
                    pg_url, f"status = 'sending' AND lease_owner LIKE '%:{victim.pid}:%'"
                )
                if killed_with_claims:
                    victim.kill()
                    break
                victim.send_signal(signal.SIGCONT)
            time.sleep(0.01)
        assert killed_with_claims, "the victim never held a claim: nothing was tested"

        for _ in range(1200):
            if count(pg_url, "status = 'sent'") == N:
                break
            time.sleep(0.1)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    sends = Counter(body for out in outputs for body in sent_bodies(out))
    assert count(pg_url, "status = 'sent'") == N
    assert set(sends) == {f"load {i:05d}" for i in range(N)}  # nothing lost
    duplicates = sum(n - 1 for n in sends.values())
    # A duplicate can only be a row the victim had sent but not yet recorded when it died,
    # and outcomes are recorded at least every RECORD_MAX sends.
    assert duplicates <= min(killed_with_claims, RECORD_MAX)
    assert all(p.returncode == 0 for p in procs[1:])
    assert len(set(sent_bodies(outputs[1])) | set(sent_bodies(outputs[2])) | set(sent_bodies(outputs[3]))) > 0
    print(
        f"\n{N} messages, 4 workers, victim killed holding {killed_with_claims} claims; "
        f"duplicates at the channel: {duplicates}"
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_killed_mid_batch_ten_times_in_a_row_loses_nothing(pg_url, tmp_path):
    n = 8_000
    seed(pg_url, n)
    env = {
        **os.environ,
        "FOLLOWUP_DATABASE_URL": pg_url,
        "FOLLOWUP_NOW": "2026-12-01T14:00:00Z",
        "FOLLOWUP_LEASE_SECONDS": "10",
    }
    outputs, kills = [], []
    for life in range(10):  # each life sends a few hundred messages and is killed without warning
        out = tmp_path / f"life{life}.out"
        outputs.append(out)
        proc = start_worker(env, out)
        for _ in range(3000):
            if len(sent_bodies(out)) >= 150 + 40 * life:
                break
            time.sleep(0.005)
        proc.kill()
        proc.wait()
        kills.append(len(sent_bodies(out)))
    assert count(pg_url, "status = 'sent'") < n, (
        "everything went out before the last kill: nothing was tested"
    )

    outputs.append(tmp_path / "survivor.out")
    survivor = start_worker(env, outputs[-1])
    try:
        for _ in range(600):
            if count(pg_url, "status = 'sent'") == n:
                break
            time.sleep(0.1)
    finally:
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=20) == 0

    sends = Counter(body for out in outputs for body in sent_bodies(out))
    assert set(sends) == {f"load {i:05d}" for i in range(n)}  # nothing lost
    duplicates = sum(k - 1 for k in sends.values())
    assert duplicates <= 10 * RECORD_MAX  # per kill, at most what was sent since the last record
    print(
        f"\n{n} messages, a worker SIGKILLed 10 times after {kills} sends; duplicates at the channel: "
        f"{duplicates} ({duplicates / 10:.1f} per kill)"
    )
