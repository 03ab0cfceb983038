"""Corpus files created atomically, never replaced, and made durable now or at the caller's `sync()`.

Why a deferred fsync: a crawl serialises corpus writes, and three fsyncs per
article inside that serial section capped a whole crawl at the disk's fsync
rate. With `deferred=True` the writes only note their paths, and `sync()`
(called outside the serial section) fsyncs them and their directories;
concurrent syncs share the work.
"""
from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from archive.writable import fsync_directory, fsync_file

__all__ = ["DurableFiles"]


class DurableFiles:
    """Atomic file creation in one directory and the fsyncs it owes (OSError to the caller)."""

    def __init__(self, directory: Path, *, deferred: bool):
        self.directory = directory
        self.deferred = deferred
        self._unsynced: list[Path] = []  # files (and the manifest) written since the last sync()
        self._list_lock = threading.Lock()
        self._sync_lock = threading.Lock()

    def note(self, path: Path) -> None:
        """`path` was written and awaits its fsync (deferred mode)."""
        with self._list_lock:
            self._unsynced.append(path)

    def create(self, path: Path, data: bytes, *, sync: bool = False) -> bool:
        """Create `path` with `data` all at once; False if `path` already exists (never replaced).
        `sync`: fsync now even when deferred."""
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".txt", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), 0o644)  # mkstemp makes 0600; corpus files are for sharing
                fh.write(data)
                fh.flush()
                if sync or not self.deferred:
                    os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # fails if `path` exists: no overwrite, even in a race
            except FileExistsError:
                return False
            except OSError:
                # Filesystems without hard links: rename, after a last existence check.
                if path.exists():
                    return False
                os.rename(tmp, path)
            if self.deferred:
                self.note(path)
            else:
                fsync_directory(path.parent)
            return True
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def sync(self) -> None:
        """Make every file noted so far durable, with its directory entry."""
        with self._sync_lock:
            with self._list_lock:
                pending, self._unsynced = self._unsynced, []
            for path in dict.fromkeys(pending):
                try:
                    fsync_file(path)
                except FileNotFoundError:  # moved aside since (a superseded copy, fsynced before)
                    continue
            for directory in dict.fromkeys(p.parent for p in pending):
                fsync_directory(directory)
