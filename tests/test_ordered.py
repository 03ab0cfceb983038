"""OrderedExecutor: runs jobs in sequence order on one thread, whatever order they arrive in."""
import threading

import pytest

from crawler.pipelines.ordered import OrderedExecutor


def test_jobs_run_in_sequence_order_and_skips_free_their_turn():
    executor = OrderedExecutor()
    ran = []
    futures = {seq: executor.submit(seq, lambda seq=seq: ran.append(seq) or seq * 10) for seq in (3, 1, 4)}
    executor.skip(2)
    assert not any(f.done() for f in futures.values())  # 0 has not come yet
    futures[0] = executor.submit(0, lambda: ran.append(0) or 0)
    assert [futures[s].result(timeout=5) for s in (0, 1, 3, 4)] == [0, 10, 30, 40]
    assert ran == [0, 1, 3, 4]
    executor.close(timeout=5)


def test_unordered_jobs_do_not_wait_for_a_missing_turn():
    executor = OrderedExecutor()
    executor.submit(5, lambda: None)  # waits for 0..4
    assert executor.submit(None, lambda: "now").result(timeout=5) == "now"
    executor.close(timeout=5)


def test_an_exception_reaches_the_waiter_and_the_next_turn_still_runs():
    executor = OrderedExecutor()
    failing = executor.submit(0, lambda: 1 / 0)
    after = executor.submit(1, lambda: "ok")
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)
    assert after.result(timeout=5) == "ok"
    executor.close(timeout=5)


def test_close_cancels_jobs_whose_turn_never_comes_and_runs_on_one_thread():
    executor = OrderedExecutor()
    threads = set()
    done = executor.submit(0, lambda: threads.add(threading.current_thread().name))
    stranded = executor.submit(2, lambda: None)  # 1 is never submitted nor skipped
    done.result(timeout=5)
    executor.close(timeout=5)
    assert stranded.cancelled() and threads == {"ordered-writer"}
    with pytest.raises(RuntimeError):
        executor.submit(3, lambda: None)
