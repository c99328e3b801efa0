"""The long-running side: APScheduler's misfire policy, and a clean stop on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from factories import add_clinic, enrol, utc
from freezegun import freeze_time
from sqlalchemy import select

from followup.db import engine_for, session_scope
from followup.models import Message
from followup.service import schedule_jobs


class CountingJobs:
    """Stands in for a Worker: counts how often APScheduler runs each job."""

    def __init__(self, fail_plan: bool = False):
        self.runs = {"plan": 0, "dispatch": 0, "rules": 0}
        self.fail_plan = fail_plan

    def plan(self):
        self.runs["plan"] += 1
        if self.fail_plan:
            raise RuntimeError("database went away")

    def dispatch(self):
        self.runs["dispatch"] += 1

    def rules(self):
        self.runs["rules"] += 1


def wait_for(predicate, timeout=5.0):
    # Counts sleeps rather than reading a clock: freezegun freezes time.monotonic too.
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        time.sleep(0.02)
    return False


def start(jobs) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()}, executors={"default": ThreadPoolExecutor(4)}, timezone="UTC"
    )
    schedule_jobs(scheduler, jobs)
    # Count finished runs (not started ones): waking the scheduler while a run is still in flight
    # would rightly be refused by max_instances=1.
    jobs.finished = {"plan": 0, "dispatch": 0, "rules": 0}
    scheduler.add_listener(
        lambda event: jobs.finished.__setitem__(event.job_id, jobs.finished[event.job_id] + 1),
        EVENT_JOB_EXECUTED | EVENT_JOB_ERROR,
    )
    scheduler.start()
    return scheduler


def test_missed_runs_are_coalesced_into_one_late_run_not_skipped_or_repeated():
    jobs = CountingJobs()
    with freeze_time("2026-12-01 14:00:00") as frozen:
        scheduler = start(jobs)
        try:
            assert wait_for(lambda: jobs.finished == {"plan": 1, "dispatch": 1, "rules": 1})
            frozen.tick(timedelta(minutes=10))  # the process was suspended: 10 plans, 600 dispatches missed
            scheduler.wakeup()
            assert wait_for(lambda: jobs.runs == {"plan": 2, "dispatch": 2, "rules": 2})
            time.sleep(0.3)
            assert jobs.runs == {"plan": 2, "dispatch": 2, "rules": 2}
        finally:
            scheduler.shutdown(wait=True)


def test_a_failing_job_runs_again_at_its_next_interval():
    jobs = CountingJobs(fail_plan=True)
    with freeze_time("2026-12-01 14:00:00") as frozen:
        scheduler = start(jobs)
        try:
            assert wait_for(lambda: jobs.finished["plan"] == 1)
            frozen.tick(timedelta(minutes=1, seconds=1))
            scheduler.wakeup()
            assert wait_for(lambda: jobs.runs["plan"] == 2)
            assert scheduler.get_job("plan") is not None
        finally:
            scheduler.shutdown(wait=True)


def test_followup_worker_sends_then_stops_cleanly_on_sigterm(sqlite_url, tmp_path):
    now = utc(2026, 12, 1, 14, 0)
    enrol(sqlite_url, add_clinic(sqlite_url, now), now, n=3)
    env = {**os.environ, "FOLLOWUP_DATABASE_URL": sqlite_url, "FOLLOWUP_NOW": "2026-12-01T14:00:00Z"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from followup.cli import main; main()", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def sent():
            with session_scope(engine_for(sqlite_url)) as session:
                return len(session.execute(select(Message.id).where(Message.status == "sent")).all())

        assert wait_for(lambda: sent() == 6, timeout=20)  # 3 confirmations + 3 reminders due at 09:00
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped; released 0 unsent claims" in err
    assert out.count("NOT SENT: console channel") == 6
    with session_scope(engine_for(sqlite_url)) as session:
        assert session.execute(select(Message.id).where(Message.status == "sending")).all() == []
