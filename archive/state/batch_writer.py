"""The crawl state's writes on one thread, batched in transactions (archive/state/store.py uses it)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class BatchWriter:
    """Runs the state's writes on one thread, whatever queued meanwhile in one transaction.

    Why: a crawl records two or three rows a page; one autocommitted statement at a time on the
    crawler's event loop cost it ~1 ms a page. `put` wakes nobody (every wake-up of another
    thread makes the event loop hand over the GIL): the writer looks every `INTERVAL` seconds,
    or at once when `flush()` asks, which waits until everything queued so far is committed
    (the corpus writer calls it before it writes an article: WARC, then state, then corpus,
    docs/crash-safety.md)."""

    INTERVAL = 0.05

    def __init__(self, run_batch: Callable[[list[Callable[[], None]]], None]):
        self._run_batch = run_batch
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # the writer waits on it for work
        self._done = threading.Condition(lock)  # flush() waits on it for commits
        self._pending: list[Callable[[], None]] = []
        self._queued = self._committed = 0
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="crawl-state-writer", daemon=True)
        self._thread.start()

    def put(self, write: Callable[[], None]) -> None:
        with self._cond:
            if self._closing:
                raise RuntimeError("the crawl state is closed")
            self._pending.append(write)
            self._queued += 1

    def flush(self) -> None:
        with self._cond:
            target = self._queued
            if self._committed < target:
                self._cond.notify()
            while self._committed < target and self._thread.is_alive():
                self._done.wait(1.0)

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closing:
                    self._cond.wait(self.INTERVAL)
                    if self._pending:
                        break
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
            try:
                self._run_batch(batch)
            except Exception:  # the pages are fetched again next time; the crawl goes on
                logger.exception("could not write %d crawl state rows", len(batch))
            with self._cond:
                self._committed += len(batch)
                self._done.notify_all()
