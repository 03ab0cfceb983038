"""Run corpus writes on one thread in (WARC-Date, URL) order, whatever order pages arrive in.

Why: the corpus must be a pure function of the archive (docs/corpus-determinism.md),
so its numbering and which copy of a syndicated article it keeps cannot follow
worker or network timing. Each write is submitted with its order key and runs
only once the caller has said no smaller key can still come (`advance`), in
key order; `close()` runs everything left, in order. The corpus pipeline
(crawler/pipelines/corpus.py) computes that bound from the requests still in
flight. One thread, so writes never need the reactor between them (a chain of
reactor round trips once capped a crawl at ~45 articles/s).
"""
from __future__ import annotations

import heapq
import itertools
import threading
from concurrent.futures import Future
from typing import Any, Callable

__all__ = ["KeyOrderedWriter"]

Key = tuple[str, str]


class KeyOrderedWriter:
    """`submit(key, fn)` runs `fn` once `advance(bound)` was called with `bound > key`, smallest key first."""

    def __init__(self, name: str = "ordered-writer"):
        self._cond = threading.Condition()
        self._heap: list[tuple[Key, int, Callable[[], Any], Future]] = []
        self._serial = itertools.count()  # equal keys (the same page twice) run in submission order
        self._bound: Key | None = None  # keys below it may run; None: none yet
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, key: Key, fn: Callable[[], Any]) -> Future:
        future: Future = Future()
        with self._cond:
            if self._closing:
                raise RuntimeError("KeyOrderedWriter is closed")
            heapq.heappush(self._heap, (key, next(self._serial), fn, future))
            if self._runnable():
                self._cond.notify()
        return future

    def advance(self, bound: Key) -> None:
        """No key below `bound` will be submitted from now on: those waiting may run."""
        with self._cond:
            if self._bound is None or bound > self._bound:
                self._bound = bound
                if self._runnable():
                    self._cond.notify()

    def _runnable(self) -> bool:
        """Can the writer run a job now? Only then is it woken: each wake-up of another thread
        costs the reactor its hold on the GIL (measured: a notify per submit and per advance was
        ~8 % of the reactor's time). Called with the lock held."""
        return bool(self._heap) and self._bound is not None and self._heap[0][0] < self._bound

    def waiting(self) -> int:
        with self._cond:
            return len(self._heap)

    def close(self, timeout: float | None = None) -> None:
        """Run everything submitted, in key order, then stop."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)

    def _take(self) -> tuple[Callable[[], Any], Future] | None:
        """The next runnable job (None: stop), waiting for one. Called with the lock held."""
        while True:
            if self._heap and (self._closing or (self._bound is not None and self._heap[0][0] < self._bound)):
                _, _, fn, future = heapq.heappop(self._heap)
                return fn, future
            if self._closing:
                return None
            self._cond.wait()

    def _run(self) -> None:
        while True:
            with self._cond:
                job = self._take()
            if job is None:
                return
            fn, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn()
            except BaseException as exc:  # handed to the waiter, like an executor does
                future.set_exception(exc)
            else:
                future.set_result(result)
