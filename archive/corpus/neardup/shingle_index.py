"""The corpus's containment index, on disk: shingle-sample hash → corpus files holding it.

Why on disk: every corpus file contributes its 1-in-8 sample of shingle
hashes (a few hundred for a news article). Held in a Python dict, 20,000
articles made it most of a long crawl's memory growth, and peak RSS must stay
flat as a crawl grows (issue #9). SQLite keeps the postings in a B-tree with
a bounded page cache, and the same file spares a reopened corpus from
re-reading and re-hashing every article (it replaces the old
`.shingle-samples.jsonl` cache).

It is derived data: a missing, unreadable or corrupt index is rebuilt from
the corpus files, and a file whose size or mtime changed since it was
indexed is indexed again. Durability is traded for speed (`synchronous=OFF`):
a killed process loses nothing (the OS has the pages), and after a power cut
a corrupt index is simply rebuilt.

Each write is committed at once, or with `batched=True` (a crawl's corpus)
after `COMMIT_EVERY` writes, at a checkpoint (`commit(older_than=COMMIT_AGE)`,
the corpus's `sync`) that finds the transaction that old, and at close: each
file adds ~190 postings at random places in the B-tree, and a commit per file
wrote ~170 pages to the WAL. Alone (the postings of a 2,000-article crawl
replayed with its look-ups, machine loaded), a file cost 2.8 ms committed on
its own, 1.3 in batches of 16, 1.0 in batches of 64; in a crawl the corpus
writer's threads' CPU went down by ~0.35 ms a page (docs/performance.md,
session 11). Look-ups run on the same connection, so they see the uncommitted
files: dedupe answers are the same. A process killed meanwhile loses those
files' postings, which the next open puts back (a file not in `files` is
indexed again from its text), as after a power cut. A write that fails is
undone alone, the batch's earlier writes kept (`_write`, `_undo_failed`).
Only the crawl writes a crawl's corpus; another process opening it meanwhile
would wait for the commit (SQLite's busy timeout, 5 s) before it could index
a file.

A file re-indexed gets a new id (AUTOINCREMENT: ids are never reused);
postings of the old id are left behind and ignored (only ids in `files`
count), so re-indexing never scans the postings table.

Why the lookup costs the same whatever the corpus size (issue #25): some
shingles are in a large share of all articles (a recurring caption, "Theo
TTXVN", a standard disclaimer), so fetching every posting of every sampled
hash cost O(corpus) a page. `hits` reads at most `stop_df + 1` postings of a
hash; a hash with more is a *stop* hash, and its postings serve only to
verify candidates found otherwise. That is prefix filtering: a file holding at
least `at_least` of the sample's hashes holds at least one non-stop hash
whenever fewer than `at_least` of them are stop hashes, so the candidates are
complete and their counts exact. Per page that is at most
|sample| x (stop_df + 1) postings read, plus point look-ups (hash, candidate)
for the stop hashes, all independent of the corpus size. When the stop
hashes alone could reach `at_least` (a text mostly made of boilerplate), a
file sharing only stop hashes is found only among the newest `stop_df`
holders of each: the one case that is not exhaustive, and bounded like the rest.

Most hashes of a new article's sample have no posting at all; a Bloom filter of the hashes that
do (archive/corpus/neardup/key_filter.py, filled by the first look-up and kept in step with every insert) spares
the look-up a B-tree seek for each of the others. It never says "no" for a hash with a posting, so
the answers are the same (docs/performance.md, session 19).

No Scrapy here: the archive library must not depend on the crawler.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import Counter
from itertools import repeat
from pathlib import Path
from typing import Any, Callable, Iterable

from archive.corpus.neardup.key_filter import KeyFilter

__all__ = ["ShingleIndex", "INDEX_NAME", "STOP_DF"]

LOG = logging.getLogger(__name__)

INDEX_NAME = ".dedupe-index.sqlite"
SCHEMA_VERSION = "1"
# SQLite page cache: bounded, whatever the corpus size. 8 MB, not 16: the index outgrows either past
# ~2,500 articles (66 MB at 20,000), the pages it misses come from the OS's file cache, and a look-up
# plus an add cost the same thread CPU with 8 MB as with 16; 64 gained nothing (docs/performance.md,
# sessions 13 and 17).
_CACHE_KIB = 8 * 1024
_QUERY_CHUNK = 900  # bound parameters per statement (SQLite's limit is higher; stay well inside it)
# A hash held by more corpus files than this is a stop hash (see the module docstring). Near-duplicate
# copies are not indexed (they become aliases), so a hash of an article's own text is in one file or
# a few; only boilerplate and stock phrases reach dozens.
STOP_DF = 64
# Stop hashes remembered in memory (a hash's postings are never deleted, so once a stop hash, always
# one): a look-up then skips reading their `stop_df + 1` postings. Bounded: at most this many hashes
# (~50 bytes each); past it the others are found on disk as before.
STOP_MEMO = 200_000
_LOAD_BATCH = 65536  # rows read at a time when the key filter is filled from disk
COMMIT_EVERY = 64  # writes in one transaction at most, batched
COMMIT_AGE = 5.0  # seconds: a checkpoint commits a transaction this old
# The newest holders of a stop hash (ids grow with time): candidates when stop hashes dominate a sample.
_NEWEST = "SELECT file FROM postings WHERE h = ? ORDER BY file DESC LIMIT ?"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL,
                                  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS postings (h INTEGER NOT NULL, file INTEGER NOT NULL,
                                     PRIMARY KEY (h, file)) WITHOUT ROWID;
"""


_SIGNED_END = 1 << 63


def _key(h: int) -> int:
    """A sample hash as a SQLite integer: signed 64-bit, so fold the unsigned range into it."""
    return h - _SIGNED_END if h >= _SIGNED_END else h


def _keys(sample: Iterable[int]) -> list[int]:
    """`_key` of each hash, in `sample`'s order: the fold written out, not called ~190 times a file."""
    return [h - _SIGNED_END if h >= _SIGNED_END else h for h in sample]


class ShingleIndex:
    """Postings of shingle-sample hashes per corpus file name. Thread-safe.

    Nothing here is held in memory per file: the file table and the postings
    are read from SQLite when needed (its page cache is bounded, `_CACHE_KIB`),
    so the process does not grow with the corpus.
    """

    def __init__(self, path: str | Path, *, stop_df: int = STOP_DF, batched: bool = False):
        self.path = Path(path)
        self.stop_df = stop_df
        self.batched = batched
        self._stop_memo: set[int] = set()  # known stop hashes (STOP_MEMO at most)
        self._mutex = threading.Lock()
        # The writes in the open transaction, in order, each with what it returned: run again, they
        # give the same rows and ids (`_undo_failed`).
        self._uncommitted: list[tuple[Callable[[], Any], Any]] = []
        self._began = 0.0  # its time.monotonic() start
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            LOG.warning("dedupe index %s is unreadable (%s); rebuilding it from the corpus files", self.path, exc)
            self.path.unlink(missing_ok=True)
            self._db = self._open()
        self._json_each = _has_json_each(self._db)
        # Every hash with a posting, so a look-up asks SQLite only about those (key_filter.py). Filled
        # by the first look-up, not here: reading a 20,000-article index's postings takes ~1 s, which
        # would hold back a crawl's start (the corpus opens before the first request); the first
        # look-up runs on the corpus writer's thread, beside the fetches.
        self._held_keys = KeyFilter()
        self._data_version = None  # PRAGMA data_version when the filter was filled; None: not yet

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # a commit appends to the log: no journal file per add
            db.execute("PRAGMA synchronous=OFF")
            db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            # Each write's savepoint copies every page it touches (~190 leaves a file) to a sub-journal,
            # which SQLite keeps in memory only up to 64 KiB and otherwise spills to a temporary file:
            # one created, written page by page and deleted each file. In memory it is ~800 KB for the
            # length of one write (docs/performance.md, session 19).
            db.execute("PRAGMA temp_store=MEMORY")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"schema version {row[0]}, expected {SCHEMA_VERSION}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _load_held_keys(self) -> None:
        """Fill the filter from the postings (at the first look-up, and again when another connection
        has committed since: `PRAGMA data_version`; this connection's own uncommitted rows are read
        too). Called with the lock held."""
        self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
        self._held_keys.clear()
        rows = self._db.execute("SELECT DISTINCT h FROM postings")
        while batch := rows.fetchmany(_LOAD_BATCH):
            self._held_keys.add(h for (h,) in batch)

    def _postings_writer(self, sample: Iterable[int]) -> Callable[[int], None]:
        """What puts `sample`'s postings under a file id: the keys folded and checked now, before
        anything is written (a hash SQLite cannot hold is refused here, as binding it would be), so
        the write can also run again (`_undo_failed`)."""
        keys = _keys(sample)
        if keys and self._json_each and set(map(type, keys)) == {int}:
            if max(keys) >= _SIGNED_END or min(keys) < -_SIGNED_END:
                raise OverflowError("Python int too large to convert to SQLite INTEGER")
            # One statement reading the keys from one JSON array, in its order: bound row by row
            # through `executemany`, the ~190 rows of a file cost a third more (docs/performance.md,
            # session 19). The same rows: JSON integers in range are SQLite integers.
            array = json.dumps(keys)

            def insert(fid: int) -> None:
                self._db.execute("INSERT OR IGNORE INTO postings SELECT value, ? FROM json_each(?)", (fid, array))
        else:  # (not integers: bound as they are, as before; or an SQLite without JSON functions)
            def insert(fid: int) -> None:
                self._db.executemany("INSERT OR IGNORE INTO postings VALUES (?, ?)", zip(keys, repeat(fid)))

        def write(fid: int) -> None:
            insert(fid)
            if self._data_version is not None:  # (else the first look-up's fill reads these rows too)
                self._held_keys.add(keys)
        return write

    def file_id(self, name: str, size: int, mtime_ns: int) -> int | None:
        """The id under which `name` is indexed, if it was indexed with this size and mtime."""
        with self._mutex:
            row = self._db.execute("SELECT id FROM files WHERE name = ? AND size = ? AND mtime_ns = ?",
                                   (name, size, mtime_ns)).fetchone()
        return row[0] if row else None

    def add_file(self, name: str, size: int, mtime_ns: int, sample: Iterable[int]) -> int:
        """Index (or re-index) a corpus file's sample; returns its file id."""
        insert_postings = self._postings_writer(sample)

        def write() -> int:
            self._db.execute("DELETE FROM files WHERE name = ?", (name,))
            fid = self._db.execute("INSERT INTO files (name, size, mtime_ns) VALUES (?, ?, ?)",
                                   (name, size, mtime_ns)).lastrowid
            insert_postings(fid)
            return fid
        return self._write(write)

    def add_postings(self, fid: int, sample: Iterable[int]) -> None:
        """More hashes for an indexed file (e.g. the extracted text that matched a seed's raw dump)."""
        insert_postings = self._postings_writer(sample)
        self._write(lambda: insert_postings(fid))

    def forget(self, keep: set[str]) -> None:
        """Drop files not in `keep` (gone from the corpus); their postings are then ignored."""
        with self._mutex:
            gone = [name for (name,) in self._db.execute("SELECT name FROM files") if name not in keep]
        if gone:
            def write() -> None:
                self._db.executemany("DELETE FROM files WHERE name = ?", ((name,) for name in gone))
            self._write(write)

    def _write(self, write: Callable[[], Any]) -> Any:
        """Run `write` in the open transaction (begun if none), all or nothing (`_undo_failed`);
        commit unless `batched` (then at `COMMIT_EVERY` writes, or at `commit`).

        The transaction is the savepoint `batch`, not one savepoint a write: SQLite copies every page
        a savepoint's write touches to its undo journal first (~190 leaves a file, a quarter of a
        write's CPU), but not for the savepoint that began the transaction (docs/performance.md,
        session 21)."""
        with self._mutex:
            if not self._db.in_transaction:
                self._db.execute("SAVEPOINT batch")
                self._uncommitted, self._began = [], time.monotonic()
            try:
                result = write()
            except BaseException:
                self._undo_failed()
                raise
            self._uncommitted.append((write, result))
            if not self.batched or len(self._uncommitted) >= COMMIT_EVERY:
                self._commit()
        return result

    def _undo_failed(self) -> None:
        """Undo a write that failed, and it alone: the transaction goes back to its start (`ROLLBACK
        TO batch` keeps it open and its write lock held, so no other connection writes meanwhile)
        and its earlier writes run again, in order, giving the same rows and ids (AUTOINCREMENT's
        counter went back too); a write answering otherwise than the first time is an error. Where
        SQLite rolled the whole transaction back itself (it does on some errors), or running the
        writes again fails, they are lost, as after a kill: the next open indexes those files again.
        Called with the lock held."""
        done, self._uncommitted = self._uncommitted, []
        if not self._db.in_transaction:
            return
        self._db.execute("ROLLBACK TO batch")
        try:
            for write, result in done:
                if write() != result:
                    raise sqlite3.DatabaseError("a dedupe index write gave another answer when run again")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK TO batch")
            raise
        self._uncommitted = done

    def _commit(self) -> None:
        """Commit the open transaction (releasing the savepoint that began it). Called with the lock held."""
        self._db.execute("RELEASE batch")
        self._uncommitted = []

    def commit(self, older_than: float = 0.0) -> None:
        """Commit the writes batched so far (`batched`) if their transaction began `older_than`
        seconds ago or more."""
        with self._mutex:
            if self._db.in_transaction and time.monotonic() - self._began >= older_than:
                self._commit()

    def hits(self, sample: Iterable[int], at_least: int = 1) -> Counter[int]:
        """Each indexed file holding at least `at_least` of `sample`'s hashes, with how many it holds.

        The counts are exact. The files are all of them unless `at_least` or more of the
        hashes are stop hashes (see the module docstring); cost per call is bounded by the
        sample's size and `stop_df`, not by the corpus.
        """
        keys = list({h - _SIGNED_END if h >= _SIGNED_END else h for h in sample})  # `_key` of each, inline
        at_least = max(at_least, 1)
        if len(keys) < at_least:
            return Counter()
        with self._mutex:
            if self._db.execute("PRAGMA data_version").fetchone()[0] != self._data_version:
                self._load_held_keys()  # the first look-up, or another connection wrote postings since
            stop, present = self._stop_hashes(keys)
            if len(present) + len(stop) < at_least:
                # No file can hold `at_least` of the hashes: of those with postings, a file holds at
                # most each one. Most look-ups end here (a new article's sample has a few hashes with
                # postings): the same empty answer, without reading the holders (docs/performance.md,
                # session 21).
                return Counter()
            counts: Counter[int] = Counter()  # from the hashes whose postings are all read
            light = [key for key in keys if key not in stop]
            for start in range(0, len(light), _QUERY_CHUNK):
                # Only the keys with postings (`present`) are looked up again; the chunks stay those of
                # all the light keys, so the files come back in the same order as when every one was.
                chunk = [key for key in light[start:start + _QUERY_CHUNK] if key in present]
                if chunk:
                    counts.update(fid for (fid,) in self._db.execute(
                        f"SELECT file FROM postings WHERE h IN ({_marks(chunk)})", chunk))
            # A file needs `at_least - len(stop)` non-stop hashes; none, only when the stop hashes
            # alone could make up `at_least`: then the newest holders of each are candidates too.
            if len(stop) >= at_least:
                for key in stop:
                    for (fid,) in self._db.execute(_NEWEST, (key, self.stop_df)):
                        counts.setdefault(fid, 0)
            candidates = [fid for fid, n in counts.items() if n + len(stop) >= at_least]
            if stop and candidates:
                counts.update(self._held(list(stop), candidates))
            found = [fid for fid in candidates if counts[fid] >= at_least]
            live = self._live(found)
        return Counter({fid: counts[fid] for fid in found if fid in live})

    def _stop_hashes(self, keys: list[int]) -> tuple[set[int], set[int]]:
        """Those of `keys` held by more than `stop_df` files (stop hashes), and those held by 1 to
        `stop_df` files: postings counted up to `stop_df + 1` (one seek a key), none for a stop hash
        already met (`STOP_MEMO`). Most hashes of a new article are in no file: only those the filter
        says may have a posting are asked about (the others have none: neither stop nor present), and
        the keys with no posting are not looked up again."""
        memo = self._stop_memo
        stop = {key for key in keys if key in memo}
        unknown = self._held_keys.maybe_held([key for key in keys if key not in memo])
        present: set[int] = set()
        for start in range(0, len(unknown), _QUERY_CHUNK):
            chunk = unknown[start:start + _QUERY_CHUNK]
            rows = self._db.execute(
                f"WITH k(h) AS (VALUES {','.join(['(?)'] * len(chunk))}) SELECT k.h, "
                "(SELECT count(*) FROM (SELECT 1 FROM postings WHERE h = k.h LIMIT ?)) AS n FROM k WHERE n",
                [*chunk, self.stop_df + 1])
            found = []
            for key, n in rows:
                if n > self.stop_df:
                    found.append(key)
                else:
                    present.add(key)
            stop.update(found)
            memo.update(found[:max(0, STOP_MEMO - len(memo))])
        return stop, present

    def _held(self, keys: list[int], files: list[int]) -> Counter[int]:
        """How many of `keys` each of `files` holds: point look-ups on the (hash, file) key."""
        held: Counter[int] = Counter()
        step = _QUERY_CHUNK // 2
        for k in range(0, len(keys), step):
            some_keys = keys[k:k + step]
            for f in range(0, len(files), step):
                some_files = files[f:f + step]
                held.update(dict(self._db.execute(
                    f"SELECT file, count(*) FROM postings WHERE h IN ({_marks(some_keys)}) "
                    f"AND file IN ({_marks(some_files)}) GROUP BY file", some_keys + some_files)))
        return held

    def _live(self, files: list[int]) -> set[int]:
        """Those of `files` still in the corpus (postings of re-indexed and forgotten ids stay behind)."""
        live: set[int] = set()
        for start in range(0, len(files), _QUERY_CHUNK):
            chunk = files[start:start + _QUERY_CHUNK]
            live.update(fid for (fid,) in self._db.execute(
                f"SELECT id FROM files WHERE id IN ({_marks(chunk)})", chunk))
        return live

    def close(self) -> None:
        self.commit()
        with self._mutex:
            self._db.close()


def _has_json_each(db: sqlite3.Connection) -> bool:
    """SQLite's JSON functions are built in since 3.38; before, only when compiled with them."""
    try:
        db.execute("SELECT value FROM json_each('[1]')").fetchall()
    except sqlite3.OperationalError:
        return False
    return True


def _marks(values: list) -> str:
    return ",".join("?" * len(values))
