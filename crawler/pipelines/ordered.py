"""Run callables on one thread in sequence-number order, whatever order they arrive in.

Why: corpus numbering must follow the order the spider emitted pages
(dense and repeatable for a given archive), while extractions finish in any
order. Taking turns through the reactor (a Deferred per turn, then a thread
hop per write) put two reactor round trips between consecutive writes; with
the reactor busy parsing pages, that chain, not the CPU, capped a crawl at
~45 articles/s. Here the next write starts on the writer thread the moment
its predecessor is done or skipped.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, Callable

__all__ = ["OrderedExecutor"]


class OrderedExecutor:
    """`submit(seq, fn)` runs `fn` after every lower seq was run or `skip`ped; `seq=None` runs unordered.

    Sequence numbers start at 0 and each must be submitted or skipped exactly
    once, else later ones wait (as they must: their number is not yet known).
    """

    def __init__(self, name: str = "ordered-writer"):
        self._cond = threading.Condition()
        self._next = 0
        self._ready: dict[int, tuple[Callable[[], Any], Future]] = {}
        self._skipped: set[int] = set()
        self._unordered: list[tuple[Callable[[], Any], Future]] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, seq: int | None, fn: Callable[[], Any]) -> Future:
        future: Future = Future()
        with self._cond:
            if self._closing:
                raise RuntimeError("OrderedExecutor is closed")
            if seq is None:
                self._unordered.append((fn, future))
            else:
                self._ready[seq] = (fn, future)
            self._cond.notify()
        return future

    def skip(self, seq: int | None) -> None:
        """`seq` will never be submitted (its page left the pipeline early)."""
        if seq is None:
            return
        with self._cond:
            if seq >= self._next and seq not in self._ready:
                self._skipped.add(seq)
                self._cond.notify()

    def close(self, timeout: float | None = None) -> None:
        """Run what can still run, then stop; submissions waiting on a missing seq are cancelled."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)

    def _take(self) -> tuple[Callable[[], Any], Future] | None:
        """The next runnable job (None: stop), waiting for one. Called with the lock held."""
        while True:
            while self._next in self._skipped:
                self._skipped.discard(self._next)
                self._next += 1
            if self._unordered:
                return self._unordered.pop(0)
            if self._next in self._ready:
                job = self._ready.pop(self._next)
                self._next += 1
                return job
            if self._closing:
                for _, future in self._ready.values():
                    future.cancel()
                self._ready.clear()
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
