"""Crawl-state rows read lately, kept until a write to their URL: fewer SQLite reads on the event loop.

Why: each `CrawlState.get` in a crawl costs the event loop 35–60 µs of CPU (6.5–11 alone: `sqlite3`
hands the GIL to the crawler's other threads around every statement), ~4 a page on nhandan.vn.
Two of them read a row the crawl had just read, or could have read in one statement with others:
the spider middleware reads an article link's row to decide whether it is due and the downloader
middleware reads it again when the link is fetched; a page's requisites are each read when
fetched, though their URLs were known (and written to the state) together. With this cache the
first read (or one `prefetch` of a page's requisites) serves the later one.

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
        """`(row or MISSING, epoch)`: pass the epoch to `store` with what the database gave."""
        with self._lock:
            return self._rows.get(url, MISSING), self._epoch

    def epoch_if_missing(self, urls: Iterable[str]) -> int | None:
        """The epoch to `store` with if some of `urls` are not cached; None: all are."""
        with self._lock:
            rows = self._rows
            return None if all(url in rows for url in urls) else self._epoch

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
