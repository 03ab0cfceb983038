"""Every way an extraction job can fail settles its future, and fails that job alone while the pool
can go on (archive/extract/process_pool.py; docs/crash-safety.md, session 19). Each test sends
small jobs through a real pool; the crawl-level behaviour of the same failures is in
tests/test_pool_failures_crawl.py."""
import logging
import os
import signal
import sys
import threading
from concurrent.futures import CancelledError, wait

import pytest

from archive.extract.process_pool import (AnswerUnreadable, BudgetPool, JobInterrupted, PoolBroken, WorkerDied,
                                          _Worker)

SETTLE = 60  # seconds any future may take to settle on a loaded machine; a pending one fails the test


class _FailsToLoad:
    """Pickles anywhere, raises where it is loaded (`int("not a number")`)."""

    def __reduce__(self):
        return int, ("not a number",)


def answer_the_crawler_cannot_load():
    """In a worker: an answer that pickles there and cannot be loaded by the pool's process."""
    return _FailsToLoad()


@pytest.fixture
def pool():
    made = BudgetPool(1, None)
    yield made
    made.close()


def test_a_job_that_cannot_be_pickled_fails_alone(pool):
    worker = pool.submit(os.getpid).result(timeout=SETTLE)
    with pytest.raises(TypeError, match="cannot pickle"):
        pool.submit(len, threading.Lock()).result(timeout=SETTLE)
    assert pool.submit(os.getpid).result(timeout=SETTLE) == worker


class _SlowToRefuse:
    """Takes the dispatcher 0.1 s to find it cannot be pickled: jobs submitted meanwhile wait."""

    def __reduce__(self):
        import time

        time.sleep(0.1)
        raise TypeError("cannot pickle this one")


def test_jobs_behind_jobs_that_cannot_be_pickled_are_sent(pool):
    """Before: the jobs refused took their worker's places for that round, and with no other job
    in flight nothing woke the dispatcher again: the jobs behind them waited for ever (a crawl
    at its end, with nothing more to submit, never ended)."""
    pool.submit(os.getpid).result(timeout=SETTLE)  # the worker is up and idle
    refused = [pool.submit(len, _SlowToRefuse()) for _ in range(4)]
    behind = pool.submit(os.getpid)
    assert behind.result(timeout=SETTLE)
    assert all(isinstance(f.exception(timeout=SETTLE), TypeError) for f in refused)


def test_jobs_behind_cancelled_jobs_are_sent(pool):
    """A cancelled job took its place in the round that met it, as a job that cannot be pickled."""
    pool.submit(os.getpid).result(timeout=SETTLE)
    busy = [pool.submit(_sleep_then_pid, 0.3) for _ in range(2)]  # running, and waiting in the pipe
    cancelled = [pool.submit(os.getpid) for _ in range(3)]
    behind = pool.submit(os.getpid)
    assert all(f.cancel() for f in cancelled)
    assert behind.result(timeout=SETTLE) and all(f.result(timeout=SETTLE) for f in busy)


def test_an_answer_that_cannot_be_pickled_fails_alone(pool):
    worker = pool.submit(os.getpid).result(timeout=SETTLE)
    with pytest.raises(TypeError, match="cannot pickle"):
        pool.submit(threading.Lock).result(timeout=SETTLE)
    assert pool.submit(os.getpid).result(timeout=SETTLE) == worker


def test_an_answer_the_pool_cannot_load_fails_its_job_alone(pool):
    """Before: the dispatcher thread raised, and every job of the pool failed from then on."""
    worker = pool.submit(os.getpid).result(timeout=SETTLE)
    unreadable, behind = pool.submit(answer_the_crawler_cannot_load), pool.submit(os.getpid)
    with pytest.raises(AnswerUnreadable, match="not a number"):
        unreadable.result(timeout=SETTLE)
    assert behind.result(timeout=SETTLE) == worker  # the job queued behind it, on the same worker
    assert not pool.failed.done()


def test_a_large_answer_arrives_whole(pool):
    assert pool.submit(bytes, 48 << 20).result(timeout=SETTLE) == bytes(48 << 20)
    assert pool.submit(divmod, 7, 2).result(timeout=SETTLE) == (3, 1)


def test_a_worker_dying_mid_job_fails_that_job_and_the_one_queued_behind_it_runs(pool):
    died, behind = pool.submit(os._exit, 3), pool.submit(os.getpid)
    with pytest.raises(WorkerDied, match=r"exited \(3\)"):
        died.result(timeout=SETTLE)
    assert behind.result(timeout=SETTLE) != os.getpid()  # given to the replacement
    assert pool.replaced == 1


def test_a_job_that_raises_system_exit_or_keyboard_interrupt_fails_with_job_interrupted(pool):
    """Raised in the caller, a worker's KeyboardInterrupt stopped a crawl's event loop mid-crawl
    and the process then hung at exit (Ctrl-C reaches the workers too)."""
    exiting = pool.submit(sys.exit, 3)
    interrupted = pool.submit(_raise, KeyboardInterrupt("in the job"))
    assert isinstance(exiting.exception(timeout=SETTLE), JobInterrupted)
    assert "SystemExit(3)" in str(exiting.exception())
    assert isinstance(interrupted.exception(timeout=SETTLE), JobInterrupted)
    assert pool.submit(divmod, 7, 2).result(timeout=SETTLE) == (3, 1)


def _raise(exc: BaseException):
    raise exc


def test_a_worker_ignores_ctrl_c_sent_to_the_process_group(pool):
    """SIGINT is the pool owner's to act on (a crawl shuts down and closes the pool): a worker that
    took it mid-job answered KeyboardInterrupt, and an idle one died."""
    worker = pool.submit(os.getpid).result(timeout=SETTLE)
    assert pool.submit(signal.raise_signal, signal.SIGINT).exception(timeout=SETTLE) is None
    assert pool.submit(os.getpid).result(timeout=SETTLE) == worker


def test_a_dispatcher_failure_settles_every_future_and_refuses_later_jobs(monkeypatch):
    """Before: the jobs taken for sending in the round that failed were in neither the queue nor a
    worker, and their futures stayed pending for ever (a crawl waiting on one never ends)."""
    sent, original = [], _Worker.send

    def send(self, *args):
        sent.append(1)
        if len(sent) == 2:
            raise RuntimeError("a bug in the dispatcher")
        return original(self, *args)

    monkeypatch.setattr(_Worker, "send", send)
    pool = BudgetPool(2, None)
    try:
        futures = [pool.submit(divmod, n, 2) for n in range(6)]
        done, pending = wait(futures, timeout=SETTLE)
        assert not pending
        assert {type(f.exception()) for f in futures} - {type(None)} == {PoolBroken}
        assert isinstance(pool.failed.exception(timeout=SETTLE), PoolBroken)
        assert "a bug in the dispatcher" in str(pool.failed.exception())
        with pytest.raises(PoolBroken, match="a bug in the dispatcher"):
            pool.submit(divmod, 7, 2)
    finally:
        pool.close()


def test_closing_with_jobs_waiting_settles_every_future():
    pool = BudgetPool(1, None)
    pool.submit(os.getpid).result(timeout=SETTLE)  # the worker is up
    running = [pool.submit(_sleep_then_pid, 0.5) for _ in range(4)]
    wait(running[:1], timeout=0.2)  # (the first two are sent at once: one runs, one waits in the pipe)
    pool.close()
    outcomes = [f.exception(timeout=SETTLE) if not f.cancelled() else CancelledError() for f in running]
    assert all(f.done() for f in running)
    assert outcomes[0] is None  # sent before the close: it finished
    assert any(isinstance(outcome, CancelledError) for outcome in outcomes)  # not sent: cancelled
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(os.getpid)
    assert not pool.failed.done()  # a clean close is no failure


def _sleep_then_pid(seconds: float) -> int:
    import time

    time.sleep(seconds)
    return os.getpid()


def test_a_setup_call_that_cannot_be_pickled_raises_to_its_caller(pool):
    """Before: it failed on the dispatcher, unseen, and every job ran without it."""
    with pytest.raises(TypeError, match="cannot pickle"):
        pool.setup(len, threading.Lock())
    assert pool.submit(divmod, 7, 2).result(timeout=SETTLE) == (3, 1)


def test_a_setup_call_that_raises_in_a_worker_is_logged(pool, caplog):
    caplog.set_level(logging.ERROR, logger="archive.extract.process_pool")
    pool.setup(int, "not a number")
    assert pool.submit(divmod, 7, 2).result(timeout=SETTLE) == (3, 1)  # the setup ran before this job
    assert "setup call int failed" in caplog.text and "not a number" in caplog.text
