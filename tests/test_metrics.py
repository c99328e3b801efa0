"""GET /metrics: Prometheus text exposition computed from the database at scrape time (so right for any
number of workers), plus the server's own request counts, read here by prometheus-client's parser as
Prometheus would."""

from datetime import UTC, datetime

import httpx
from channel_fixtures import LiveServer, twilio_env
from prometheus_client.parser import text_string_to_metric_families

from followup import clock, config, spool


def _scrape(server) -> dict:
    response = httpx.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = list(text_string_to_metric_families(response.text))
    assert all(f.name.startswith("followup_") for f in families)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_metrics_count_the_queue_the_sends_by_outcome_lateness_escalations_and_the_spool(
    followup, fake_twilio, tmp_path
):
    followup.env = twilio_env(fake_twilio)
    clinic = followup.clinic()
    followup.enrol(clinic)
    followup.enrol(clinic, name="Bo Li", phone="+1 617 555 0124")
    fake_twilio.by_recipient["+16175550124"] = 21211  # not a valid number: fails at once, permanently
    followup("tick", now="2026-12-01T14:00:05Z")  # confirmations and the 09:00 reminders, 5 s late
    followup("reply", "--from", "+16175550123", "--body", "pain 7", now="2026-12-01T15:00:00Z")
    folder = tmp_path / "spool"
    spool.save(
        str(folder), {"From": "+16175550999", "Body": "x", "MessageSid": "SM" + "0" * 32}, datetime.now(UTC)
    )
    settings = config.load(
        {
            **twilio_env(fake_twilio),
            "FOLLOWUP_DATABASE_URL": followup.url,
            "FOLLOWUP_NOW": "2026-12-01T15:30:00Z",
            "FOLLOWUP_SPOOL_DIR": str(folder),
        }
    )
    clock.pin(settings.now)  # as `followup serve` does (the CLI calls above pinned it to their own)
    with LiveServer(settings) as server:
        httpx.get(f"{server.url}/healthz")
        values = _scrape(server)
        again = _scrape(server)
    assert values[("followup_escalations_open", (("tier", "urgent"),))] == 1
    assert values[("followup_escalations_open", (("tier", "emergency"),))] == 0
    age = values[("followup_oldest_unacknowledged_escalation_age_seconds", ())]
    assert age == 1800  # raised at 15:00 by the fake clock, scraped at 15:30
    assert (
        values[("followup_messages_pending", (("channel", "sms"), ("kind", "checkin")))] == 4
    )  # tonight's and tomorrow's, both patients
    # Ana's confirmation and reminder, and the answer to her reply; Bo's two were refused by Twilio.
    assert (
        values[("followup_sends_total", (("channel", "sms"), ("error_code", ""), ("outcome", "sent")))] == 3
    )
    assert (
        values[("followup_sends_total", (("channel", "sms"), ("error_code", "21211"), ("outcome", "failed")))]
        == 2
    )
    # The urgent escalation's alerts are queued, not sent yet.
    assert values[("followup_messages_pending", (("channel", "sms"), ("kind", "alert")))] == 1
    assert values[("followup_send_lateness_seconds_count", ())] == 1  # only scheduled kinds count
    assert values[("followup_send_lateness_seconds_bucket", (("le", "1.0"),))] == 0
    assert values[("followup_send_lateness_seconds_bucket", (("le", "5.0"),))] == 1
    assert 4.9 < values[("followup_send_lateness_seconds_sum", ())] < 5.1
    assert values[("followup_spool_depth", (("state", "waiting"),))] == 1
    assert values[("followup_webhook_requests_total", (("path", "/healthz"), ("status", "200")))] == 1
    metrics_seen = ("followup_webhook_requests_total", (("path", "/metrics"), ("status", "200")))
    assert again[metrics_seen] == values.get(metrics_seen, 0) + 1  # the first scrape, counted by the second
    assert again[("followup_webhook_request_duration_seconds_count", (("path", "/healthz"),))] == 1


def test_with_the_database_away_metrics_still_report_the_spool_and_that_the_database_is_down(
    sqlite_url, tmp_path
):
    # A 503 would make Prometheus drop every family, the spool's too: the README's spool alert could
    # never fire while the database is away, which is when it matters.
    import os

    folder = tmp_path / "s"
    spool.save(str(folder), {"From": "+16175550999", "Body": "x", "MessageSid": "SM" + "0" * 32}, clock.now())
    settings = config.load({"FOLLOWUP_DATABASE_URL": sqlite_url, "FOLLOWUP_SPOOL_DIR": str(folder)})
    os.unlink(sqlite_url.split("sqlite:///", 1)[1])  # the tables are gone: every query fails
    from followup import db

    db.dispose(sqlite_url)
    with LiveServer(settings) as server:
        values = _scrape(server)
    assert values[("followup_database_up", ())] == 0
    assert values[("followup_spool_depth", (("state", "waiting"),))] == 1
    assert not any(name == "followup_escalations_open" for name, _ in values)  # no figures, not wrong ones


def test_a_scrape_while_a_worker_holds_the_sqlite_write_lock_answers_at_once(followup_sqlite, tmp_path):
    # A read needs no write lock in WAL mode: scrapes neither wait for a worker's transaction nor,
    # in turn, hold up the replies' writes (they took BEGIN IMMEDIATE, and answered 503 after 5 s).
    import sqlite3

    followup = followup_sqlite
    followup.enrol(followup.clinic())
    settings = config.load({"FOLLOWUP_DATABASE_URL": followup.url})
    worker = sqlite3.connect(followup.url.split("sqlite:///", 1)[1], isolation_level=None)
    worker.execute("BEGIN IMMEDIATE")  # a tick's transaction, under way
    try:
        with LiveServer(settings) as server:
            values = _scrape(server)
    finally:
        worker.execute("ROLLBACK")
        worker.close()
    assert values[("followup_database_up", ())] == 1
    assert values[("followup_messages_pending", (("channel", "sms"), ("kind", "confirmation")))] == 1


def test_concurrent_scrapes_on_a_slow_database_share_one_read_of_the_history(followup):
    import threading
    import time

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    followup.enrol(followup.clinic())
    followup("tick", now="2026-12-01T14:00:05Z")
    reads = []

    def slow_disk(conn, cursor, statement, *args):
        if "CASE" in statement and "due_at" in statement:  # the lateness histogram
            reads.append(statement)
            time.sleep(0.3)

    settings = config.load({"FOLLOWUP_DATABASE_URL": followup.url})
    event.listen(Engine, "before_cursor_execute", slow_disk)
    try:
        with LiveServer(settings) as server:
            scrapes = [threading.Thread(target=_scrape, args=(server,)) for _ in range(8)]
            for scrape in scrapes:
                scrape.start()
            for scrape in scrapes:
                scrape.join()
            _scrape(server)  # within 30 s of the last read: served from it
    finally:
        event.remove(Engine, "before_cursor_execute", slow_disk)
    assert len(reads) == 1


def test_with_several_server_processes_every_scrape_counts_the_requests_of_all_of_them(sqlite_url, tmp_path):
    """`serve --workers 2`: the kernel hands each connection to either process; whichever answers
    /metrics reports the requests both answered (prometheus-client's multiprocess files)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from pg import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from followup.cli import main; main()", "serve", "--port", str(port)]
        + ["--workers", "2"],
        env={
            **os.environ,
            "FOLLOWUP_DATABASE_URL": sqlite_url,
            "FOLLOWUP_SPOOL_DIR": str(tmp_path / "spool"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(2)  # the second process too
        for _ in range(30):
            httpx.get(f"{url}/healthz", headers={"Connection": "close"})  # a new connection each time
        counts = set()
        for _ in range(6):
            text = httpx.get(f"{url}/metrics", headers={"Connection": "close"}).text
            [line] = [
                ln
                for ln in text.splitlines()
                if ln.startswith('followup_webhook_requests_total{path="/healthz"')
            ]
            counts.add(float(line.split()[-1]))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert len(counts) == 1 and counts.pop() >= 31  # the same total from either process
