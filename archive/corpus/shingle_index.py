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

A file re-indexed gets a new id (AUTOINCREMENT: ids are never reused);
postings of the old id are left behind and ignored (only ids in `files`
count), so re-indexing never scans the postings table.
No Scrapy here: the archive library must not depend on the crawler.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Iterable

__all__ = ["ShingleIndex", "INDEX_NAME"]

LOG = logging.getLogger(__name__)

INDEX_NAME = ".dedupe-index.sqlite"
SCHEMA_VERSION = "1"
_CACHE_KIB = 16 * 1024  # SQLite page cache: bounded, whatever the corpus size
_QUERY_CHUNK = 900  # bound parameters per statement (SQLite's limit is higher; stay well inside it)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL,
                                  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS postings (h INTEGER NOT NULL, file INTEGER NOT NULL,
                                     PRIMARY KEY (h, file)) WITHOUT ROWID;
"""


def _key(h: int) -> int:
    """A sample hash as a SQLite integer: signed 64-bit, so fold the unsigned range into it."""
    return h - (1 << 63) if h >= 1 << 63 else h


class ShingleIndex:
    """Postings of shingle-sample hashes per corpus file name. Thread-safe."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._mutex = threading.Lock()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            LOG.warning("dedupe index %s is unreadable (%s); rebuilding it from the corpus files", self.path, exc)
            self.path.unlink(missing_ok=True)
            self._db = self._open()
        self._files: dict[str, tuple[int, int, int]] = {
            name: (fid, size, mtime) for fid, name, size, mtime in
            self._db.execute("SELECT id, name, size, mtime_ns FROM files")}
        self._live = {fid for fid, _, _ in self._files.values()}

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # a commit appends to the log: no journal file per add
            db.execute("PRAGMA synchronous=OFF")
            db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
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

    def file_id(self, name: str, size: int, mtime_ns: int) -> int | None:
        """The id under which `name` is indexed, if it was indexed with this size and mtime."""
        known = self._files.get(name)
        return known[0] if known is not None and known[1:] == (size, mtime_ns) else None

    def add_file(self, name: str, size: int, mtime_ns: int, sample: Iterable[int]) -> int:
        """Index (or re-index) a corpus file's sample; returns its file id."""
        with self._mutex, self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM files WHERE name = ?", (name,))
            fid = self._db.execute("INSERT INTO files (name, size, mtime_ns) VALUES (?, ?, ?)",
                                   (name, size, mtime_ns)).lastrowid
            self._db.executemany("INSERT OR IGNORE INTO postings VALUES (?, ?)",
                                 ((_key(h), fid) for h in sample))
        old = self._files.get(name)
        if old is not None:
            self._live.discard(old[0])
        self._files[name] = (fid, size, mtime_ns)
        self._live.add(fid)
        return fid

    def add_postings(self, fid: int, sample: Iterable[int]) -> None:
        """More hashes for an indexed file (e.g. the extracted text that matched a seed's raw dump)."""
        with self._mutex, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO postings VALUES (?, ?)", ((_key(h), fid) for h in sample))

    def forget(self, keep: set[str]) -> None:
        """Drop files not in `keep` (gone from the corpus); their postings are then ignored."""
        gone = [name for name in self._files if name not in keep]
        if not gone:
            return
        with self._mutex, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM files WHERE name = ?", ((name,) for name in gone))
        for name in gone:
            self._live.discard(self._files.pop(name)[0])

    def hits(self, sample: Iterable[int]) -> Counter[int]:
        """For each indexed file's id: how many of `sample`'s hashes it holds."""
        keys = [_key(h) for h in sample]
        counts: Counter[int] = Counter()
        with self._mutex:
            for start in range(0, len(keys), _QUERY_CHUNK):
                chunk = keys[start:start + _QUERY_CHUNK]
                rows = self._db.execute(
                    f"SELECT file FROM postings WHERE h IN ({','.join('?' * len(chunk))})", chunk)
                counts.update(fid for (fid,) in rows if fid in self._live)
        return counts

    def close(self) -> None:
        with self._mutex:
            self._db.close()
