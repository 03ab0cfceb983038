"""The URLs the crawl state may hold a row for, so a read of any other URL needs no SQLite.

Why: in a crawl most `CrawlState.get` calls ask for a URL the state has never held (every new page
and page requisite is read once, by the incremental middleware, before it is fetched). Each such read
was a SQLite query on the event loop: a read transaction and a B-tree search on pages the state
writer's last commit took out of the reader's cache, 15–50 µs of CPU, two a page. This process is
the state's only writer (archive/state/store.py `StateLock`), and every write that can add a row
names its URL before it is queued (`CrawlState._write`). So the URLs in the table when it was opened,
plus every URL named by a write since, are a superset of the URLs it can hold: a URL outside them
has no row, and `get` answers None as SQLite would. A write that may touch any row (a merge) ends
that knowledge, and so does growing past `limit` URLs (the set is bounded: nothing grows with the
crawl past it, issue #25); `get` then asks SQLite for everything, as before.

Kept as the strings' hashes: a hash shared by two URLs only sends the other one to SQLite.
"""
from __future__ import annotations

from collections.abc import Iterable

LIMIT = 200_000  # URLs known at most (~60 bytes each); past it every read goes to SQLite


class KnownUrls:
    """A superset of the URLs with a row (`may_hold`), or, once given up, of every URL."""

    def __init__(self, urls: Iterable[str] | None, limit: int = LIMIT):
        self.limit = limit
        self._hashes: set[int] | None = None
        if urls is not None:
            self._hashes = set(map(hash, urls))
            self._check_size()

    @property
    def complete(self) -> bool:
        """Whether a URL outside the set is known to have no row."""
        return self._hashes is not None

    def may_hold(self, url: str) -> bool:
        hashes = self._hashes
        return hashes is None or hash(url) in hashes

    def add(self, url: str) -> None:
        """A write to `url`'s row is about to be queued (it may create the row)."""
        hashes = self._hashes
        if hashes is not None:
            hashes.add(hash(url))
            self._check_size()

    def give_up(self) -> None:
        """A write that may add any row: from now on every URL may have one."""
        self._hashes = None

    def _check_size(self) -> None:
        if self._hashes is not None and len(self._hashes) > self.limit:
            self._hashes = None
