"""bench/worker_jobs.py: a pool's jobs recorded as its workers ran them, and replayed."""
from __future__ import annotations

import operator

from archive.extract.process_pool import BudgetPool
from bench.worker_jobs import recorded, recording, replay


def test_jobs_are_recorded_with_each_workers_order_and_cpu_and_replay_the_same_calls(tmp_path):
    with recording(tmp_path / "jobs") as directory:
        pool = BudgetPool(1, None)
        try:
            pool.setup(operator.add, 1, 2)
            answers = [pool.submit(operator.mul, n, 3).result(timeout=60) for n in range(5)]
        finally:
            pool.close()
    assert answers == [0, 3, 6, 9, 12]  # the wrapped call's answer, unchanged

    setups, jobs, logs = recorded(directory)
    assert setups == [(operator.add, (1, 2))]
    assert [args for _, args in jobs.values()] == [(n, 3) for n in range(5)]
    (log,) = logs.values()  # one worker ran them all, in the order sent
    assert [sequence for sequence, _ in log] == sorted(jobs)
    assert all(spent >= 0 for _, spent in log)

    spent = replay(setups, [jobs[sequence] for sequence, _ in log])
    assert len(spent) == 5 and all(s >= 0 for s in spent)


def test_pools_made_after_recording_are_not_wrapped(tmp_path):
    with recording(tmp_path / "jobs"):
        pass
    pool = BudgetPool(1, None)
    try:
        assert pool.submit(operator.mul, 2, 3).result(timeout=60) == 6
    finally:
        pool.close()
    assert not list((tmp_path / "jobs").glob("worker-*.log"))
