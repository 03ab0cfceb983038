"""A speed probe for benchmarks on a shared machine: constant work timed in thread CPU.

The same work costs 10–20 % more CPU on this 2-core VM when other tenants are busy (docs/scale.md),
so a rise in a crawl's CPU a page means nothing unless a constant piece of work measured beside it
stayed flat. bench/scale.py and bench/default_crawl.py run one beside their crawls.
"""
from __future__ import annotations

import re
import statistics
import threading
import time
import zlib

PROBE_TEXT = " ".join(f"word{i % 1013} {i * 7919 % 104729}" for i in range(6000)).encode()


def _probe_work() -> int:
    """A fixed piece of work like a crawl's (interpreter loops and dicts, a regex, zlib), ~5 ms."""
    counts: dict[bytes, int] = {}
    for token in PROBE_TEXT.split():
        counts[token] = counts.get(token, 0) + 1
    return len(counts) + len(re.findall(rb"word1\d+", PROBE_TEXT)) + len(zlib.compress(PROBE_TEXT, 6))


def probe_ms(runs: int = 7) -> float:
    """The constant work's median CPU ms of `runs`, here and now: the probe beside a measurement
    taken in this process (bench/worker_jobs.py), where `SpeedProbe` watches a crawl."""
    spent = []
    for _ in range(runs):
        started = time.thread_time()
        _probe_work()
        spent.append(1000 * (time.thread_time() - started))
    return round(statistics.median(spent), 3)


class SpeedProbe:
    """What the machine charges for constant work, while the crawl runs: `_probe_work` once a
    half-second on a thread of this process, timed in that thread's CPU clock (other jobs taking turns
    on the cores do not count, a slower core does: another tenant of the host, its clock). If a
    window's CPU a page rises with the probe's, the crawl's work did not grow; the machine got
    slower. ~1 % of a core."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.runs = 0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="speed-probe", daemon=True)

    def __enter__(self) -> "SpeedProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            started = time.thread_time()
            _probe_work()
            self.cpu_s += time.thread_time() - started
            self.runs += 1

    def ms(self) -> float | None:
        """Mean CPU ms of one run of the constant work (None before the first run)."""
        return round(1000 * self.cpu_s / self.runs, 3) if self.runs else None
