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
    or at once when `flush()` asks, which returns once everything queued so far is committed
    (the corpus writer calls it before it writes an article: WARC, then state, then corpus,
    docs/crash-safety.md). `flush` commits what waits on the calling thread itself: waking the
    writer and waiting to be woken back was two thread wake-ups a page, each of which makes the
    crawler's event loop hand over the GIL. Batches are taken and committed under `_commit`, so
    they reach the database in the order they were queued, whichever thread commits them.

    `flush(upto=mark())` waits only for the writes queued before `mark()` was taken: when the
    writer's own batches have committed them already (the corpus writer's case: an article reaches
    it a second or more after its page's rows were queued), it commits nothing, instead of one more
    transaction for the rows queued since (docs/performance.md, session 22)."""

    # Seconds between the writer's looks. Each commit writes every page the batch dirtied (B-tree leaves
    # of `pages`, its URL and never-extracted indexes, `requisites`) to the WAL: rows of several pages
    # share them. 0.25 s against 0.05: 8 WAL page writes a page against 19 at 25 pages/s, ~30 % less
    # CPU for the state's writes (docs/performance.md, session 22). A kill loses at most this much more
    # of uncommitted rows; the archive keeps those pages, and the resume gives them their rows
    # (archive/state/unrecorded.py).
    INTERVAL = 0.25

    def __init__(self, run_batch: Callable[[list], None]):
        self._run_batch = run_batch
        self._cond = threading.Condition(threading.Lock())  # the writer waits on it for work
        self._commit = threading.Lock()  # held from taking a batch until it is committed
        self._pending: list = []  # the writes, as `run_batch` takes them
        self._queued = 0  # writes ever queued (under _cond)
        self._done = 0  # of those, taken in batches whose transaction ended (under _commit)
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="crawl-state-writer", daemon=True)
        self._thread.start()

    def put(self, write) -> None:
        with self._cond:
            if self._closing:
                raise RuntimeError("the crawl state is closed")
            self._pending.append(write)
            self._queued += 1

    def mark(self) -> int:
        """The writes queued so far, for `flush(upto=…)`."""
        with self._cond:
            return self._queued

    def flush(self, upto: int | None = None) -> None:
        """Return once every write queued so far (`upto`: the first `upto` writes ever queued) is
        committed, committing what waits on this thread if need be."""
        # A batch the writer thread took before this call is committed once `_commit` is free.
        with self._commit:
            if upto is None or self._done < upto:
                self._commit_pending()

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
                closing = self._closing
            with self._commit:
                self._commit_pending()
            if closing:  # put() refuses once closing: nothing is left behind
                return

    def _commit_pending(self) -> None:
        """Commit what is queued now, in one transaction. Called with `_commit` held."""
        with self._cond:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            self._run_batch(batch)
        except Exception:  # the pages are fetched again next time; the crawl goes on
            logger.exception("could not write %d crawl state rows", len(batch))
        self._done += len(batch)
