"""Corpus files created atomically, never replaced, and made durable now or at the caller's `sync()`.

Why a deferred fsync: a crawl serialises corpus writes, and three fsyncs per
article inside that serial section capped a whole crawl at the disk's fsync
rate. With `deferred=True` the writes only note their paths, and `sync()`
(called outside the serial section) makes them durable; concurrent syncs
share the work.

Why one `syncfs` for a batch (issue #25): a crawl calls `sync()` once per
checkpoint for all the articles written since (crawler/pipelines/corpus.py),
and an fsync per file and directory was a quarter of a long crawl's CPU
samples. When two or more files wait and all are on the corpus directory's
file system, one Linux `syncfs(2)` flushes them, their directory entries and
the manifest together: the same durability, one call. (It also flushes other
dirty data of that file system; elsewhere, or if it fails, each file is
fsynced as before.) `fsyncs` counts the calls made.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import os
import threading
from typing import NamedTuple
from pathlib import Path

from archive.writable import fsync_directory, fsync_file, write_all

__all__ = ["DurableFiles"]


class _Temporary(NamedTuple):
    name: str
    fd: int


def _load_syncfs():
    """libc's syncfs(int fd), or None where there is none (not Linux)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes, syncfs.restype = [ctypes.c_int], ctypes.c_int
    return syncfs


_SYNCFS = _load_syncfs()


class DurableFiles:
    """Atomic file creation in one directory and the fsyncs it owes (OSError to the caller)."""

    def __init__(self, directory: Path, *, deferred: bool):
        self.directory = directory
        self.deferred = deferred
        self._unsynced: list[Path] = []  # files (and the manifest) written since the last sync()
        self._list_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self.fsyncs = 0  # fsync and syncfs calls so far
        self._serial = itertools.count()  # temporary file names

    def note(self, path: Path) -> None:
        """`path` was written and awaits its fsync (deferred mode)."""
        with self._list_lock:
            self._unsynced.append(path)

    def create(self, path: Path, data: bytes, *, sync: bool = False) -> bool:
        """Create `path` with `data` all at once; False if `path` already exists (never replaced).
        `sync`: fsync now even when deferred."""
        tmp = self._temporary()
        try:
            try:
                os.fchmod(tmp.fd, 0o644)  # made 0600; corpus files are for sharing, whatever the umask
                write_all(tmp.fd, data)
                if sync or not self.deferred:
                    os.fsync(tmp.fd)
            finally:
                os.close(tmp.fd)
            try:
                os.link(tmp.name, path)  # fails if `path` exists: no overwrite, even in a race
            except FileExistsError:
                return False
            except OSError:
                # Filesystems without hard links: rename, after a last existence check.
                if path.exists():
                    return False
                os.rename(tmp.name, path)
            if self.deferred:
                self.note(path)
            else:
                fsync_directory(path.parent)
            return True
        finally:
            try:
                os.unlink(tmp.name)
            except FileNotFoundError:  # renamed
                pass

    def _temporary(self) -> _Temporary:
        """A new, empty temporary file beside the corpus files (`.tmp-*.txt`: removed on the next open if
        left by a crash). Named by process and a counter, not by `tempfile.mkstemp`, whose random names
        and buffered file object were a third of a write's CPU (docs/performance.md, session 19);
        O_EXCL still refuses a name that exists (one left by an earlier process of the same id)."""
        while True:
            name = os.path.join(self.directory, f".tmp-{os.getpid()}-{next(self._serial)}.txt")
            try:
                return _Temporary(name, os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
            except FileExistsError:
                continue

    def sync(self) -> None:
        """Make every file noted so far durable, with its directory entry."""
        with self._sync_lock:
            with self._list_lock:
                pending, self._unsynced = self._unsynced, []
            paths = list(dict.fromkeys(pending))
            if len(paths) > 1 and self._sync_file_system(paths):
                return
            for path in paths:
                try:
                    fsync_file(path)
                except FileNotFoundError:  # moved aside since (a superseded copy, fsynced before)
                    continue
                self.fsyncs += 1
            for directory in dict.fromkeys(p.parent for p in paths):
                fsync_directory(directory)
                self.fsyncs += 1

    def _sync_file_system(self, paths: list[Path]) -> bool:
        """One syncfs for `paths` if they are all on the directory's file system; False if not done."""
        if _SYNCFS is None:
            return False
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            device = os.fstat(fd).st_dev
            for path in paths:
                try:
                    if path.stat().st_dev != device:
                        return False
                except FileNotFoundError:
                    continue  # moved aside since (a superseded copy, fsynced before)
            self.fsyncs += 1
            return _SYNCFS(fd) == 0
        finally:
            os.close(fd)
