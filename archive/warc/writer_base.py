"""What both WARC writers share: their configuration, their errors, their futures and stats.

The thread writer (archive/warc/writer.py) and the process writer (archive/warc/process.py)
make the same files from the same `WarcWriterConfig` and hand out the same `RecordFuture`s;
kept here so neither imports the other for them.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, InvalidStateError
from dataclasses import dataclass, field
from pathlib import Path

from archive.warc.records import WarcInfo
from archive.writable import ensure_writable_dir

logger = logging.getLogger(__name__)

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


class RecordFuture:
    """Future of a `RecordLocation` whose record id is known before it is written.

    The interface of `concurrent.futures.Future` that record futures are used through (`done`,
    `cancelled`, `result`, `exception`, `add_done_callback`, `cancel`; `set_result` and
    `set_exception` for the writer), without its `Condition`: that is built in Python for each future
    (~3 µs) and taken again by every call, and the crawler's event loop makes three record futures a
    page and settles them. Here one C lock guards the state, and an `Event` is made only for a
    blocking wait on a future not yet done (rare: the crawler's consumers add callbacks). Not
    usable with `concurrent.futures.wait` or `asyncio.wrap_future`."""

    __slots__ = ("record_id", "_lock", "_state", "_result", "_exception", "_callbacks", "_done_event")

    def __init__(self, record_id: str):
        self.record_id = record_id
        self._lock = threading.Lock()
        self._state = _PENDING
        self._result = None
        self._exception: BaseException | None = None
        self._callbacks: list = []
        self._done_event: threading.Event | None = None

    def __repr__(self) -> str:
        return f"<RecordFuture {self.record_id} {self._state}>"

    def done(self) -> bool:
        return self._state is not _PENDING

    def cancelled(self) -> bool:
        return self._state is _CANCELLED

    def cancel(self) -> bool:
        """Cancel a future not settled yet (the record is written regardless); True once cancelled."""
        return self._finish(_CANCELLED, None, None) or self._state is _CANCELLED

    def set_result(self, result) -> None:
        if not self._finish(_FINISHED, result, None):
            raise InvalidStateError(f"{self!r} is already settled")

    def set_exception(self, exception: BaseException) -> None:
        if not self._finish(_FINISHED, None, exception):
            raise InvalidStateError(f"{self!r} is already settled")

    def add_done_callback(self, fn: Callable[[RecordFuture], object]) -> None:
        """Call `fn(self)` once settled (at once if it is), in the thread that settles it."""
        with self._lock:
            if self._state is _PENDING:
                self._callbacks.append(fn)
                return
        self._call(fn)

    def result(self, timeout: float | None = None):
        self._wait(timeout)
        if self._exception is not None:
            raise self._exception
        return self._result

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._wait(timeout)
        return self._exception

    def _wait(self, timeout: float | None) -> None:
        """Until settled (TimeoutError past `timeout`); CancelledError if cancelled."""
        if self._state is _PENDING:
            with self._lock:
                if self._state is _PENDING and self._done_event is None:
                    self._done_event = threading.Event()
                event = self._done_event
            if event is not None and not event.wait(timeout):
                raise TimeoutError(f"{self!r} not settled within {timeout} s")
        if self._state is _CANCELLED:
            raise CancelledError(self.record_id)

    def _finish(self, state: str, result, exception: BaseException | None) -> bool:
        with self._lock:
            if self._state is not _PENDING:
                return False
            self._result, self._exception, self._state = result, exception, state
            callbacks, self._callbacks = self._callbacks, []
            event = self._done_event
        if event is not None:
            event.set()
        for fn in callbacks:
            self._call(fn)
        return True

    def _call(self, fn: Callable[[RecordFuture], object]) -> None:
        try:
            fn(self)
        except Exception:  # as concurrent.futures does: one consumer's bug must not stop the settling
            logger.exception("exception calling callback for %r", self)


_PENDING, _CANCELLED, _FINISHED = "pending", "cancelled", "finished"


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


def settle(future: Future | RecordFuture, *, result=None, error: BaseException | None = None) -> None:
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:  # the caller cancelled it; the record is written regardless
        pass
