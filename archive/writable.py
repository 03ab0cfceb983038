"""What every writer needs from the filesystem: a directory that takes new files, durable renames."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def ensure_writable_dir(directory: str | os.PathLike) -> Path:
    """Create `directory` if needed and prove a file can be created there; raise OSError if not.

    Asking os.access is not enough (read-only mounts, full disks, ACLs): only
    creating a file proves it.
    """
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".probe-", dir=path)
    os.close(fd)
    os.unlink(probe)
    return path


def fsync_directory(directory: str | os.PathLike) -> None:
    """Make a rename or new file in `directory` durable; a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to the descriptor `fd` (os.write may take only part of it); raises OSError."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def fsync_file(path: str | os.PathLike) -> None:
    """Flush a file written earlier (and closed) to disk; raises OSError."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def staged_file(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside `target` that replaces `target` only if the block succeeds.

    Readers never see a half-written file, and a failure leaves `target` as it
    was: the temporary file is removed. Made readable by all (mkstemp gives 0600).
    """
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    staged = Path(name)
    try:
        yield staged
        os.chmod(staged, 0o644)
        fsync_file(staged)
        os.replace(staged, target)
        fsync_directory(target.parent)
    finally:
        staged.unlink(missing_ok=True)
