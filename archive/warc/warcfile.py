"""The WARC file a writer is filling: named `*.open` until it is finished, and locked meanwhile.

The `.open` suffix and the lock are two halves of the crash-safety invariant
(docs/crash-safety.md): a file that does not end in `.warc.gz` was never
finished, and one still locked may still grow, so no repair may cut it.
"""
from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

from archive.writable import fsync_directory

__all__ = ["OpenWarcFile", "safe_name_part"]


class OpenWarcFile:
    """The file being filled: named `*.open` until `finish()` renames it."""

    def __init__(self, directory: Path, name: str):
        self.name = name
        self.final_path = directory / name
        self.open_path = directory / (name + ".open")
        self.handle = open(self.open_path, "xb")
        # Held while the file is being written, released by the OS when the writer dies: a resume
        # (or `archive repair`) never cuts a file that an orphaned writer process is still finishing.
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.size = 0
        self.warcinfo_id: str | None = None

    def write(self, data: bytes) -> int:
        offset = self.size
        self.handle.write(data)
        self.handle.flush()  # out of user space: a killed process loses nothing written here
        self.size += len(data)
        return offset

    def sync(self) -> None:
        """On disk: a power cut loses nothing written so far."""
        os.fsync(self.handle.fileno())

    def finish(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.rename(self.open_path, self.final_path)
        fsync_directory(self.final_path.parent)

    def abandon(self) -> None:
        """Close after a failure, keeping `.open` so the file never looks complete."""
        try:
            self.handle.close()
        except OSError:
            pass


def safe_name_part(text: str) -> str:
    """`text` with every character a file name should not hold replaced by `_`."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", text) or "unknown"
