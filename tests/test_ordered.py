"""KeyOrderedWriter: runs jobs in key order on one thread, only below the bound it was given."""
import threading

import pytest

from crawler.pipelines.ordered import KeyOrderedWriter

A, B, C = ("2026-01-01T00:00:01.000000Z", "u"), ("2026-01-01T00:00:02.000000Z", "u"), ("2026-01-01T00:00:03.000000Z", "a")


def test_jobs_wait_for_the_bound_and_run_smallest_key_first():
    writer = KeyOrderedWriter()
    ran = []
    futures = {key: writer.submit(key, lambda key=key: ran.append(key) or key[0][-9:]) for key in (C, A, B)}
    assert not any(f.done() for f in futures.values())  # no bound yet
    writer.advance((B[0], ""))  # below B's date: only A
    assert futures[A].result(timeout=5) == A[0][-9:]
    assert not futures[B].done()
    writer.advance((A[0], ""))  # a bound never moves back
    writer.advance(("2026-01-01T00:00:09.000000Z", ""))
    assert [futures[k].result(timeout=5) for k in (B, C)] == [B[0][-9:], C[0][-9:]]
    assert ran == [A, B, C]
    writer.close(timeout=5)


def test_an_exception_reaches_the_waiter_and_the_next_key_still_runs():
    writer = KeyOrderedWriter()
    failing = writer.submit(A, lambda: 1 / 0)
    after = writer.submit(B, lambda: "ok")
    writer.advance(C)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)
    assert after.result(timeout=5) == "ok"
    writer.close(timeout=5)


def test_close_runs_what_waits_in_order_on_one_thread():
    writer = KeyOrderedWriter()
    threads, ran = set(), []
    for key in (C, A, B):
        writer.submit(key, lambda key=key: threads.add(threading.current_thread().name) or ran.append(key))
    writer.close(timeout=5)  # no bound was ever given: close writes everything, in order
    assert ran == [A, B, C] and threads == {"ordered-writer"}
    with pytest.raises(RuntimeError):
        writer.submit(A, lambda: None)
