"""Crawl-state rows read lately, kept until a write to their URL: fewer SQLite reads on the event loop.

Why: each `CrawlState.get` in a crawl costs the event loop 35–60 µs of CPU (5–7 alone, with warm
caches), ~4 a page on nhandan.vn, and one of them reads a row the crawl has just read: the spider
middleware reads an article link's row to decide whether it is due, and the downloader middleware
reads it again when the link is fetched. With this cache the first read serves the second, and a
re-crawl's known rows are not rebuilt from SQLite either.

A cached row is exactly what a read of the database would give: every write path names the URL it
writes (`writing`) before it is queued or run, which drops the URL's row, and `written` once it is
committed (or failed); while a write to a URL is queued but not committed, a read of that URL is
not cached (it would be the row before the write), and a read that overlapped any write's start
or end is not cached either (`epoch`). A write that names no URL (a merge, `forget`) drops every
row and blocks caching until it is done. Bounded (`size` rows, the oldest dropped first): nothing
grows with the crawl (issue #25).
"""
from __future__ import annotations

import threading
from collections.abc import Iterable

MISSING = object()  # `lookup`: not cached (a cached row may be None: the URL is not in the state)


class RowCache:
    def __init__(self, size: int = 4096):
        self.size = size
        self._rows: dict[str, object] = {}
        self._pending: dict[str, int] = {}  # URL -> its writes queued or running, not yet committed
        self._all_pending = 0  # writes that may touch any row, running
        self._epoch = 0  # moves on every write's start and end
        self._lock = threading.Lock()

    def lookup(self, url: str) -> tuple[object, int]:
        """`(row or MISSING, epoch)`: pass the epoch to `store` with what the database gave. No lock:
        a row dropped by a write that is queued, not committed, is still what the database holds."""
        epoch = self._epoch  # read first: a write that starts after this moves it, and `store` refuses
        return self._rows.get(url, MISSING), epoch

    def store(self, rows: Iterable[tuple[str, object]], epoch: int) -> None:
        """Keep rows read from the database since `lookup` gave `epoch`, unless a write began or
        ended meanwhile, or one to that URL is still uncommitted."""
        with self._lock:
            if epoch != self._epoch or self._all_pending:
                return
            kept, pending = self._rows, self._pending
            for url, row in rows:
                if url not in pending:
                    kept[url] = row
            while len(kept) > self.size:
                del kept[next(iter(kept))]

    def writing(self, url: str | None) -> None:
        """A write to `url` (None: to any row) is queued or about to run."""
        with self._lock:
            self._epoch += 1
            if url is None:
                self._all_pending += 1
                self._rows.clear()
                return
            self._rows.pop(url, None)
            self._pending[url] = self._pending.get(url, 0) + 1

    def written(self, urls: Iterable[str | None]) -> None:
        """Those writes (as given to `writing`) are committed, or failed: the database holds the truth."""
        with self._lock:
            self._epoch += 1
            pending = self._pending
            for url in urls:
                if url is None:
                    self._all_pending -= 1
                    continue
                left = pending[url] - 1
                if left:
                    pending[url] = left
                else:
                    del pending[url]
