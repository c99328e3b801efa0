"""The deployment-wide cap: however many threads share it, no one-second window exceeds it."""

import threading
import time

from sqlalchemy import text

from followup.db import engine_for, session_scope
from followup.ratecap import RateCap


def max_in_any_second(times):
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_two_caps_on_one_database_share_one_schedule_of_slots(db_url):
    engine = engine_for(db_url)
    caps = [RateCap(engine, "sms", 20), RateCap(engine, "sms", 20)]  # two workers of one deployment
    stamps, lock = [], threading.Lock()

    def send(cap):
        for _ in range(15):
            assert cap.wait()
            with lock:
                stamps.append(time.time())

    threads = [threading.Thread(target=send, args=(cap,)) for cap in caps for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(stamps) == 60
    assert max_in_any_second(stamps) <= 20
    with session_scope(engine) as session:
        assert session.execute(text("SELECT count(*) FROM rate_limit")).scalar() == 1


def test_a_stopping_worker_stops_waiting_and_does_not_send(sqlite_url):
    stop = threading.Event()
    cap = RateCap(engine_for(sqlite_url), "sms", 1, stop=stop)
    assert cap.wait()  # the first slot is now
    stop.set()
    assert cap.wait() is False
