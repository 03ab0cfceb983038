"""What both WARC writers share: their configuration, their errors, their futures and stats.

The thread writer (archive/warc/writer.py) and the process writer (archive/warc/process.py)
make the same files from the same `WarcWriterConfig` and hand out the same `RecordFuture`s;
kept here so neither imports the other for them.
"""
from __future__ import annotations

from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from pathlib import Path

from archive.warc.records import WarcInfo
from archive.writable import ensure_writable_dir

DEFAULT_MAX_SIZE = 1_000_000_000


class WarcWriteError(RuntimeError):
    """The archive cannot be written: bad directory, full disk, or an earlier failure."""


@dataclass(frozen=True, slots=True)
class WarcWriterConfig:
    """What files a writer makes and how: the same for the thread writer and the process writer
    (which pickles it to its child)."""

    directory: Path
    info: WarcInfo = field(default_factory=WarcInfo)
    prefix: str = "crawl"
    max_size: int = DEFAULT_MAX_SIZE
    payload_digest: str = "entity"
    compress_level: int = 6
    # fsync each batch before its futures resolve (see WarcWriter._settle_durably); off only for
    # benchmarks that measure the rest, and for tests of other things.
    durable: bool = True
    # Each closed file gets its CDXJ index beside it, in a thread of its own (archive/warc/cdxj.py).
    index_closed_files: bool = False

    def check_directory(self) -> None:
        """`WarcWriteError` unless the directory exists (or can be made) and is writable."""
        try:
            ensure_writable_dir(self.directory)
        except OSError as exc:
            raise WarcWriteError(f"WARC directory {self.directory} is not writable: {exc}") from exc


class RecordFuture(Future):
    """Future of a `RecordLocation` whose record id is known before it is written."""

    def __init__(self, record_id: str):
        super().__init__()
        self.record_id = record_id


@dataclass(slots=True)
class WriterStats:
    records: int = 0
    bytes: int = 0  # compressed bytes written, warcinfo included
    files: int = 0


class WriterBase:
    """What both writers (this thread one, archive.warc.process's process one) share."""

    _stats: WriterStats
    _closed: bool
    _error: WarcWriteError | None

    @property
    def stats(self) -> WriterStats:
        """A snapshot of the records and compressed bytes written so far."""
        return WriterStats(self._stats.records, self._stats.bytes, self._stats.files)

    @property
    def closed(self) -> bool:
        return self._closed

    def _refuse_if_unusable(self) -> None:
        """Called with the writer's lock held, before taking a job."""
        if self._error is not None:
            raise WarcWriteError(f"WARC writer failed earlier: {self._error}") from self._error
        if self._closed:
            raise WarcWriteError("WARC writer is closed")


def settle(future: Future, *, result=None, error: BaseException | None = None) -> None:
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:  # the caller cancelled it; the record is written regardless
        pass
