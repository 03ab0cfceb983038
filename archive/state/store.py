"""Crawl state for incremental crawls: one SQLite file beside the archive.

Per canonical URL it keeps what the last fetch saw (time, status, ETag,
Last-Modified, payload digest, the sitemap/feed `lastmod`), the WARC record of
the last *full* capture (the target of later revisit records), whether
extraction found an article, and its publication date. The crawler writes a
row only after the WARC record it describes is on disk, so a killed crawl
never leaves state that points at a record that does not exist.

Concurrency: WAL mode for readers, and an exclusive OS file lock
(`fcntl.flock`) on `<state>.lock` for the one writer: a second run started on
the same state gets `StateLockedError` (the crawl command turns it into a
clear message and exit code 3) instead of interleaving with the first. The
lock is per process: every `CrawlState` a process opens on one path shares it,
and it vanishes with the process, so a SIGKILL never leaves a stale lock.

No Scrapy here: the archive library must not depend on the crawler.
"""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from archive.state.batch_writer import BatchWriter
from archive.state import known_urls
from archive.state.known_urls import LIMIT as KNOWN_URLS_LIMIT, KnownUrls
from archive.state.row_cache import MISSING, RowCache
from archive.vietnam_time import parse_iso as _parse_iso

logger = logging.getLogger(__name__)

__all__ = ["CrawlState", "PageState", "StateLockedError", "StateLock", "SCHEMA_VERSION", "parse_duration"]

# 2: pages.lastmod; 3: pages.record_* (the latest fetch's own record, for resume reconciliation);
# 4: the requisites table (archive/state/requisites.py); 5: pages.extracted_record (the fetch the crawl
# last read to the end: pages archived but never extracted are the others, `never_extracted`).
# Older files are migrated in place when opened.
SCHEMA_VERSION = 5
LOCK_SUFFIX = ".lock"
EXIT_STATE_LOCKED = 3
_NO_ROW = object()  # `_write`: a write that touches no row of `pages` (requisites, meta)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,          -- canonical URL (archive.urls.canonical_url)
    fetch_url TEXT,                -- the URL as last fetched
    first_seen REAL NOT NULL,      -- epoch seconds, UTC
    fetched_at REAL,               -- last fetch that reached the archive
    status INTEGER,                -- HTTP status of that fetch
    etag TEXT,
    last_modified TEXT,
    payload_digest TEXT,           -- WARC-Payload-Digest of the last full capture
    capture_uri TEXT,              -- WARC-Target-URI, WARC-Date, WARC-Record-ID of that capture
    capture_date TEXT,
    capture_record_id TEXT,
    capture_file TEXT,
    outcome TEXT,                  -- new | changed | unchanged | not-modified | gone | error
    changes INTEGER NOT NULL DEFAULT 0,  -- how often the payload changed after the first capture
    is_article INTEGER,            -- NULL: not extracted yet; 0/1 after extraction
    extracted_at REAL,
    published TEXT,                -- ISO 8601, from extraction or a sitemap/feed
    lastmod TEXT,                  -- ISO 8601: the site's own lastmod (sitemap/feed) when last fetched
    record_id TEXT,                -- the latest fetch's own record (response or revisit) and where it is:
    record_file TEXT,              --   a resume checks these against the archive (archive/corpus/consistency.py)
    record_offset INTEGER,
    extracted_record TEXT          -- the record_id of the fetch the crawl last read to the end (extracted, or
                                   --   judged no article: a listing, off topic, not text); not this row's
                                   --   record_id: archived but never extracted (`never_extracted`)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS requisites (  -- page requisites pending until archived (archive/state/requisites.py)
    url TEXT PRIMARY KEY,          -- canonical URL
    fetch_url TEXT NOT NULL,       -- the URL as requested
    kind TEXT NOT NULL,            -- image | style | script | font | media
    depth INTEGER NOT NULL,        -- 0: a page embeds it; +1 per stylesheet level
    crawl INTEGER NOT NULL,        -- the crawl (meta requisites_crawl) that last asked for it
    outcome TEXT                   -- NULL: pending; archived | refused:<reason>
);
"""

# One statement a write (an upsert), not an INSERT OR IGNORE and one or two UPDATEs: the same row
# either way (a new row gets what the updates would have set on the bare one), and a third of the
# statements on the state's writer thread, which shares the crawler's GIL with the event loop.
# A fetch without a full capture (?19 false) keeps the reference capture and its validators.
_RECORD_FETCH = """
INSERT INTO pages (url, first_seen, fetch_url, fetched_at, status, outcome, etag, last_modified, changes, lastmod,
                   record_id, record_file, record_offset,
                   payload_digest, capture_uri, capture_date, capture_record_id, capture_file)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 = 'changed', ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
ON CONFLICT(url) DO UPDATE SET
    fetch_url = excluded.fetch_url, fetched_at = excluded.fetched_at, status = excluded.status,
    outcome = excluded.outcome,
    etag = COALESCE(excluded.etag, CASE WHEN ?19 THEN NULL ELSE pages.etag END),
    last_modified = COALESCE(excluded.last_modified, CASE WHEN ?19 THEN NULL ELSE pages.last_modified END),
    changes = pages.changes + excluded.changes, lastmod = COALESCE(excluded.lastmod, pages.lastmod),
    record_id = excluded.record_id, record_file = excluded.record_file, record_offset = excluded.record_offset,
    payload_digest = CASE WHEN ?19 THEN excluded.payload_digest ELSE pages.payload_digest END,
    capture_uri = CASE WHEN ?19 THEN excluded.capture_uri ELSE pages.capture_uri END,
    capture_date = CASE WHEN ?19 THEN excluded.capture_date ELSE pages.capture_date END,
    capture_record_id = CASE WHEN ?19 THEN excluded.capture_record_id ELSE pages.capture_record_id END,
    capture_file = CASE WHEN ?19 THEN excluded.capture_file ELSE pages.capture_file END
"""
_RECORD_EXTRACTION = """
INSERT INTO pages (url, first_seen, is_article, extracted_at, published, extracted_record) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT(url) DO UPDATE SET is_article = excluded.is_article, extracted_at = excluded.extracted_at,
    published = COALESCE(excluded.published, pages.published),
    extracted_record = COALESCE(excluded.extracted_record, pages.extracted_record)
"""
# An upsert: the page's fetch row may be written after this (its record's future resolves later).
_RECORD_READ = """
INSERT INTO pages (url, first_seen, extracted_at, extracted_record) VALUES (?1, ?2, ?2, ?3)
ON CONFLICT(url) DO UPDATE SET extracted_at = excluded.extracted_at, extracted_record = excluded.extracted_record
"""
# The rows `_NEVER_EXTRACTED` looks for (one `_PENDING_TERMS` text for both, so SQLite uses it): a run's look, and the start-up
# check that there is nothing to look for, read the pages pending, not the whole state. A row enters it
# when its page is fetched and leaves it when extracted: one index entry a page on the state's writer.
_PENDING_TERMS = """status = 200 AND record_id IS NOT NULL AND record_id IS NOT extracted_record
  AND (is_article IS NULL OR outcome IN ('new', 'changed')) AND url NOT LIKE '%/robots.txt'"""
_NEVER_EXTRACTED_INDEX = f"CREATE INDEX IF NOT EXISTS pages_never_extracted ON pages (url) WHERE {_PENDING_TERMS}"
# Pages archived but never extracted: a 200 whose record the crawl never read to the end (its extraction
# failed, timed out, or the run was killed or stopped first), either never extracted at all or a new or
# changed capture of an article extracted before. Not requisites (never extracted), not robots.txt (read by
# its middleware, never by the spider), not a revisit of what was extracted, not redirects, errors or robots
# refusals (no 200 record). Fetched before `?3` (not by the
# running crawl, whose pages are on their way); in URL order after `?1`, `?2` rows at most.
_NEVER_EXTRACTED = f"""
SELECT url, fetch_url, record_file, record_offset, record_id FROM pages
WHERE {_PENDING_TERMS}
  AND url > ?1 AND fetched_at < ?3
  AND NOT EXISTS (SELECT 1 FROM requisites WHERE requisites.url = pages.url)
ORDER BY url LIMIT ?2
"""


class StateLockedError(RuntimeError):
    """Another process holds the crawl state."""


@dataclass(frozen=True)
class PageState:
    url: str
    fetch_url: str | None
    first_seen: float
    fetched_at: float | None
    status: int | None
    etag: str | None
    last_modified: str | None
    payload_digest: str | None
    capture_uri: str | None
    capture_date: str | None
    capture_record_id: str | None
    capture_file: str | None
    outcome: str | None
    changes: int
    is_article: bool | None
    extracted_at: float | None
    published: str | None
    lastmod: str | None = None
    record_id: str | None = None  # the latest fetch's own record and where it lies
    record_file: str | None = None
    record_offset: int | None = None
    extracted_record: str | None = None  # the record_id of the fetch last read to the end

    @property
    def capture(self) -> dict | None:
        """The last full capture as `warc_revisit_of` wants it, or None."""
        if not (self.capture_uri and self.capture_date):
            return None
        return {"uri": self.capture_uri, "date": self.capture_date,
                "record_id": self.capture_record_id, "payload_digest": self.payload_digest}

    @property
    def never_extracted(self) -> bool:
        """Archived but never extracted (`CrawlState.never_extracted` says why, in SQL; requisites aside)."""
        return (self.status == 200 and self.record_id is not None and self.record_id != self.extracted_record
                and (self.is_article is None or self.outcome in ("new", "changed")))

    @property
    def published_at(self) -> datetime | None:
        return parse_iso(self.published)


def parse_iso(value: str | None) -> datetime | None:
    """A time the crawl wrote itself (always with an offset): a naive one is UTC."""
    return _parse_iso(value, timezone.utc)


class StateLock:
    """An exclusive, non-blocking `flock` on `<state>.lock`, shared by everything in this process."""

    _held: dict[str, list] = {}  # path -> [fd, refcount]
    _guard = threading.Lock()

    def __init__(self, state_path: str | Path):
        self.path = str(Path(state_path).resolve()) + LOCK_SUFFIX
        self._acquired = False

    def acquire(self) -> "StateLock":
        with self._guard:
            held = self._held.get(self.path)
            if held is not None:
                held[1] += 1
                self._acquired = True
                return self
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise StateLockedError(
                    f"crawl state {self.path[:-len(LOCK_SUFFIX)]} is in use by another crawl "
                    f"(pid {other}); wait for it to finish or use another CRAWL_STATE") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self._held[self.path] = [fd, 1]
            self._acquired = True
            return self

    def release(self) -> None:
        with self._guard:
            if not self._acquired:
                return
            self._acquired = False
            held = self._held.get(self.path)
            if held is None:
                return
            held[1] -= 1
            if held[1] == 0:
                del self._held[self.path]
                fcntl.flock(held[0], fcntl.LOCK_UN)
                os.close(held[0])

    def __enter__(self) -> "StateLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class CrawlState:
    """The state database. Thread-safe: the WARC writer thread records fetches through it.

    `batched`: writes go to a writer thread and are committed in transactions (`flush` waits
    for them); reads see what is committed."""

    def __init__(self, path: str | Path, *, lock: bool = True, batched: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = StateLock(self.path).acquire() if lock else None
        self._mutex = threading.Lock()
        try:
            # Autocommit: each record is durable on its own, so a SIGKILL loses at most the one in flight.
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._migrate()
        except Exception:
            if self._lock:
                self._lock.release()
            raise
        self._writer = None
        # Rows the event loop read lately (archive/state/row_cache.py); every write to `pages` names its row.
        self._rows = RowCache()
        # The URLs that may have a row (archive/state/known_urls.py): a `get` of another needs no query.
        # Only while this process holds the state's lock (the only writer); shared by its instances.
        self._known_key = str(self.path.resolve())
        self._known = known_urls.shared(self._known_key, self._known_urls) if self._lock else None
        self._reader = self._db  # `get`'s connection
        self._read_mutex = self._mutex
        if batched:
            # `get` (the event loop's reads, ~3 a page) on a connection of its own: in WAL mode it reads
            # the last commit without waiting for the writer thread's transaction to end.
            self._reader = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._read_mutex = threading.Lock()
            self._writer = BatchWriter(self._write_batch)

    def _known_urls(self) -> KnownUrls:
        """The URLs in `pages` now, when they are few enough to keep; else none known (all may have a row)."""
        with self._mutex:
            count = self._db.execute("SELECT count(*) FROM pages").fetchone()[0]
            if count > KNOWN_URLS_LIMIT:
                return KnownUrls(None)
            return KnownUrls(url for url, in self._db.execute("SELECT url FROM pages"))

    def _write(self, write: Callable[[], None], url: str | None | object = _NO_ROW) -> None:
        """Run `write` (statements on `self._db`) now, or queue it for the batch writer. `url`: the
        `pages` row it writes (None: any row; left out: none), dropped from the rows read lately."""
        if url is not _NO_ROW:
            known = known_urls.known_here(self._known_key)  # any instance's write reaches the shared set
            if known is not None and url is None:
                known.give_up()
            elif known is not None:
                known.add(url)  # before the write is queued: from now on a `get` of it asks SQLite
            self._rows.writing(url)
        if self._writer is not None:
            self._writer.put((write, url))
            return
        try:
            with self._mutex:
                write()
        finally:
            if url is not _NO_ROW:
                self._rows.written((url,))

    def _write_batch(self, batch: list[tuple[Callable[[], None], object]]) -> None:
        try:
            with self._mutex:
                self._db.execute("BEGIN")
                try:
                    for write, _ in batch:
                        try:
                            write()
                        except sqlite3.Error:
                            logger.exception("could not write a crawl state row")
                finally:
                    self._db.execute("COMMIT")
        finally:  # committed, or not written at all: either way the database holds the truth now
            self._rows.written([url for _, url in batch if url is not _NO_ROW])

    def rows_changing(self, adds_rows: bool = True):
        """Context for a write to any `pages` row made outside `_write` (archive/state/merge.py); `adds_rows`
        False: it only deletes or updates rows."""
        known = known_urls.known_here(self._known_key)
        if adds_rows and known is not None:
            known.give_up()  # rows of URLs never named here may appear
        return _AnyRowWrite(self._rows)

    def flush(self, upto: int | None = None) -> None:
        """Wait until every write queued so far (`upto`: before `write_mark()` gave it) is committed
        (no-op unless `batched`)."""
        if self._writer is not None:
            self._writer.flush(upto)

    def write_mark(self) -> int | None:
        """A mark of the writes queued so far, for `flush(upto=…)` (None unless `batched`)."""
        return self._writer.mark() if self._writer is not None else None

    def _migrate(self) -> None:
        """Bring a state file written by an older version up to SCHEMA_VERSION, keeping its rows."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(pages)")}
        if "lastmod" not in columns:  # v1
            self._db.execute("ALTER TABLE pages ADD COLUMN lastmod TEXT")
        for column, kind in (("record_id", "TEXT"), ("record_file", "TEXT"), ("record_offset", "INTEGER")):
            if column not in columns:  # v2
                self._db.execute(f"ALTER TABLE pages ADD COLUMN {column} {kind}")
        if "extracted_record" not in columns:  # v4: what was extracted is taken as read to the end
            self._db.execute("ALTER TABLE pages ADD COLUMN extracted_record TEXT")
            self._db.execute("UPDATE pages SET extracted_record = record_id WHERE is_article IS NOT NULL")
        self._db.execute(_NEVER_EXTRACTED_INDEX)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version' AND CAST(value AS INTEGER) < ?",
                         (str(SCHEMA_VERSION), SCHEMA_VERSION))

    # ----------------------------------------------------------------- reads
    # Per page (issue #25 audit): one or two `get`s (a primary-key B-tree search, O(log pages), in
    # SQLite's default 2 MB page cache) and a few small writes; in memory only the last 4,096 rows read
    # (archive/state/row_cache.py: the spider middleware's read of a link serves the fetch's).
    def get(self, url: str) -> PageState | None:
        page, epoch = self._rows.lookup(url)
        if page is not MISSING:
            return page
        if self._known is not None and not self._known.may_hold(url):
            return None  # never in the table, never written since: no row (archive/state/known_urls.py)
        with self._read_mutex:
            row = self._reader.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()
        page = self._page(row) if row else None
        self._rows.store(((url, page),), epoch)
        return page

    def pages(self) -> list[PageState]:
        with self._mutex:
            rows = self._db.execute("SELECT * FROM pages ORDER BY url").fetchall()
        return [self._page(r) for r in rows]

    def __len__(self) -> int:
        with self._mutex:
            return self._db.execute("SELECT count(*) FROM pages").fetchone()[0]

    def never_extracted(self, after: str = "", limit: int = 256, *,
                        fetched_before: float = float("inf")) -> list[tuple[str, str, str, int, str]]:
        """Up to `limit` pages archived but never extracted, in URL order after the canonical URL `after`:
        `(url, fetch_url, record_file, record_offset, record_id)` of their latest fetch, made before
        `fetched_before`. Page by page, so a state with many of them is never read at once; reads what
        is committed (the reader's connection)."""
        with self._read_mutex:
            return self._reader.execute(_NEVER_EXTRACTED, (after, limit, fetched_before)).fetchall()

    # ----------------------------------------------------------------- writes
    def record_fetch(self, url: str, *, fetch_url: str, status: int | None, outcome: str,
                     fetched_at: float | None = None, etag: str | None = None,
                     last_modified: str | None = None, capture: dict | None = None,
                     capture_file: str | None = None, lastmod: str | None = None,
                     record: tuple[str, str, int] | None = None) -> None:
        """One fetch reached the archive. `capture` (uri, date, record_id, payload_digest) is
        given only for a full response record: revisits keep pointing at the original.
        `lastmod` is the sitemap/feed date the request carried; a fetch without one (e.g. from
        a listing) keeps the stored one, which still describes the content we hold.
        `record` (record id, WARC file name, offset) is this fetch's own record, full or revisit."""
        now = fetched_at if fetched_at is not None else _now()
        full = (capture.get("payload_digest"), capture["uri"], capture["date"], capture.get("record_id"),
                capture_file) if capture is not None else (None,) * 5
        values = (url, now, fetch_url, now, status, outcome, etag, last_modified, outcome, lastmod,
                  *(record or (None, None, None)), *full, capture is not None)
        self._write(lambda: self._db.execute(_RECORD_FETCH, values), url)

    def record_extraction(self, url: str, *, is_article: bool, published: str | None = None,
                          record_id: str | None = None) -> None:
        """The pipeline is done with this page: whether it is an article, and when it was published.
        `record_id`: the record it was extracted from (the fetch's own, or the archived one it was read from)."""
        now = _now()
        values = (url, now, int(is_article), now, published, record_id)
        self._write(lambda: self._db.execute(_RECORD_EXTRACTION, values), url)

    def record_read(self, url: str, record_id: str) -> None:
        """The crawl read the fetch archived as `record_id` to the end and made no article of it (a
        listing, a page off topic, not text): not \"never extracted\", and its revisit policy unchanged."""
        values = (url, _now(), record_id)
        self._write(lambda: self._db.execute(_RECORD_READ, values), url)

    def record_published_hint(self, url: str, published: str) -> None:
        """A date from a sitemap or feed, kept until extraction gives the page's own."""
        self._write(lambda: self._db.execute("UPDATE pages SET published = ? WHERE url = ? AND published IS NULL",
                                             (published, url)), url)

    # ----------------------------------------------------------------- reconciliation
    def rows_fetched_since(self, moment: float) -> list[PageState]:
        """Rows whose last fetch is newer than `moment`: the ones a crash may have left ahead of the archive."""
        self.flush()
        with self._mutex:
            rows = self._db.execute("SELECT * FROM pages WHERE fetched_at >= ? ORDER BY url", (moment,)).fetchall()
        return [self._page(r) for r in rows]

    def forget(self, urls) -> int:
        """Delete the rows of `urls` (canonical): those pages are unknown, so due, again. Returns how many."""
        # A requisite whose record is gone is pending again, so the resumed crawl asks for it.
        return self._each_url(urls, "DELETE FROM pages WHERE url = ?",
                              "UPDATE requisites SET outcome = NULL WHERE url = ? AND outcome = 'archived'")

    def reopen(self, urls) -> int:
        """Mark the rows of `urls` (canonical) \"never extracted\" again, their fetch kept: pages whose
        corpus entry was rolled back while their record is still archived. Returns how many."""
        return self._each_url(urls, "UPDATE pages SET is_article = NULL, extracted_record = NULL WHERE url = ?")

    def _each_url(self, urls, statement: str, *more: str) -> int:
        """Run `statement` (then `more`) for each of `urls` in one transaction, after what is queued;
        returns how many rows `statement` touched."""
        params = [(u,) for u in urls]
        if not params:
            return 0
        self.flush()
        with self.rows_changing(adds_rows=False), self._mutex:
            self._db.execute("BEGIN")
            cursor = self._db.executemany(statement, params)
            for other in more:
                self._db.executemany(other, params)
            self._db.execute("COMMIT")
        return cursor.rowcount if cursor.rowcount is not None and cursor.rowcount >= 0 else 0

    def verified_until(self) -> float:
        """Rows fetched before this moment were checked against the archive (0: never)."""
        with self._mutex:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'verified_until'").fetchone()
        return float(row[0]) if row else 0.0

    def mark_verified(self, moment: float | None = None) -> None:
        """Every row so far agrees with the archive (after a reconciliation, or a clean close whose
        WARC files are fsynced): make that durable, so the next resume checks only newer rows."""
        moment = _now() if moment is None else moment
        self.flush()
        with self._mutex:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('verified_until', ?)", (repr(moment),))
            try:
                self._db.execute("PRAGMA wal_checkpoint(FULL)")
            except sqlite3.Error:
                pass

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()  # commits what is queued first
            self._writer = None
        with self._read_mutex:
            if self._reader is not self._db:
                self._reader.close()
        with self._mutex:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._db.close()
        if self._known is not None:
            known_urls.release(self._known_key)
            self._known = None
        if self._lock:
            self._lock.release()
            self._lock = None

    @staticmethod
    def _page(row: tuple) -> PageState:
        values = list(row)
        values[14] = None if values[14] is None else bool(values[14])
        return PageState(*values)


class _AnyRowWrite:
    def __init__(self, rows: RowCache):
        self._rows = rows

    def __enter__(self) -> None:
        self._rows.writing(None)

    def __exit__(self, *exc) -> None:
        self._rows.written((None,))


def _now() -> float:
    return datetime.now(timezone.utc).timestamp()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(raw: str | float | int) -> float:
    """Seconds in `raw`: a number of seconds, or `<n><s|m|h|d|w>` (e.g. `6h`, `30d`)."""
    text = str(raw).strip().lower()
    try:
        if text and text[-1] in _UNITS:
            value = float(text[:-1]) * _UNITS[text[-1]]
        else:
            value = float(text)
    except ValueError:
        raise ValueError(f"{raw!r} is not a duration (e.g. 3600, 90m, 6h, 2d, 1w)") from None
    if value < 0:
        raise ValueError(f"{raw!r}: a duration cannot be negative")
    return value
