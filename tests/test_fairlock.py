"""The SQLite writer lock lets threads in the order they came, so no webhook waits behind newcomers."""

import threading
import time

import pytest

from followup.fairlock import FairRLock


def _wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_threads_waiting_for_the_lock_get_it_in_the_order_they_came():
    lock, order = FairRLock(), []

    def take(i):
        with lock:
            order.append(i)

    threads = []
    with lock:
        for i in range(8):
            thread = threading.Thread(target=take, args=(i,))
            thread.start()
            threads.append(thread)
            _wait_until(lambda: lock.waiting == len(threads))
    for thread in threads:
        thread.join(5)
    assert order == list(range(8))


def test_the_releasing_thread_cannot_take_the_lock_back_ahead_of_a_waiter():
    lock, order = FairRLock(), []

    def waiter():
        with lock:
            order.append("waiter")

    with lock:
        thread = threading.Thread(target=waiter)
        thread.start()
        _wait_until(lambda: lock.waiting == 1)
    with lock:
        order.append("releaser again")
    thread.join(5)
    assert order == ["waiter", "releaser again"]


def test_the_holder_can_enter_again_and_others_wait_for_its_outermost_exit():
    lock, entered = FairRLock(), threading.Event()

    def other():
        with lock:
            entered.set()

    with lock:
        with lock:
            thread = threading.Thread(target=other)
            thread.start()
            _wait_until(lambda: lock.waiting == 1)
        assert not entered.wait(0.05)
    thread.join(5)
    assert entered.is_set()


def test_releasing_a_lock_this_thread_does_not_hold_is_an_error():
    with pytest.raises(RuntimeError, match="does not hold"):
        FairRLock().__exit__(None, None, None)
