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

One set a state file and process, shared by every `CrawlState` open on it here (`shared`), so a write
through any of them reaches it; only an instance holding the state's lock answers from it (one without
the lock, here or in another process, asks SQLite: the writer may be elsewhere). Kept as the strings'
hashes: a hash shared by two URLs only sends the other one to SQLite.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

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


_SHARED: dict[str, list] = {}  # resolved state path -> [its KnownUrls, the CrawlStates using it]
_GUARD = threading.Lock()


def shared(path: str, load: Callable[[], KnownUrls]) -> KnownUrls:
    """The process's `KnownUrls` of the state at `path`, made by `load` for its first user; pair with `release`."""
    with _GUARD:
        entry = _SHARED.get(path)
        if entry is None:
            entry = _SHARED[path] = [load(), 0]
        entry[1] += 1
        return entry[0]


def release(path: str) -> None:
    with _GUARD:
        entry = _SHARED.get(path)
        if entry is not None:
            entry[1] -= 1
            if not entry[1]:
                del _SHARED[path]


def known_here(path: str) -> KnownUrls | None:
    """The set writes to the state at `path` must reach: None when no instance here uses one."""
    entry = _SHARED.get(path)
    return entry[0] if entry is not None else None
