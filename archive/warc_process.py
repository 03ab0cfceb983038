"""A `WarcWriter` in a child process: the caller only pickles each exchange and sends it.

Why a process and not only the writer thread: the thread spends most of its
time in zlib, hashlib and file I/O with the GIL released, yet a crawl with
capture on ran 20-28 % slower than without, while that work measured alone
was ~5 % of a page's cost. The rest was the GIL: every time the writer
thread came back from zlib or a write it had to take the interpreter from
the reactor thread. In a child process the writer has an interpreter of its
own; the reactor thread pays for a pickle (a memcpy of the body) and a pipe
write, and a receiver thread settles the futures.

Same interface as `WarcWriter` (write_exchange / write_revisit /
write_metadata return `RecordFuture`s whose record id is known at once;
`close`, `stats`, `closed`, `builder`). Failure modes:

* the child cannot start (directory not writable): `WarcWriteError` at once;
* a write fails in the child: its future fails, later writes raise, as in
  `WarcWriter`;
* the child dies: pending futures fail and writes raise `WarcWriteError`;
* the parent dies (even SIGKILL): the child sees end-of-file on its pipe,
  writes what it received, fsyncs and renames the file, and exits. The child
  ignores SIGINT/SIGTERM sent to the whole process group (Ctrl-C, `timeout`):
  the parent's orderly close, or its death, is what ends it, so a signal can
  never cut a record in half.
"""
from __future__ import annotations

import atexit
import fcntl
import logging
import multiprocessing
import signal
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from .warc import (
    DEFAULT_MAX_SIZE,
    Exchange,
    RecordBuilder,
    RecordFuture,
    RevisitProfile,
    WarcInfo,
    WarcWriteError,
    WarcWriter,
    WriterStats,
    _WriterBase,
    _check_exchange,
    _settle,
)
from .writable import ensure_writable_dir

__all__ = ["WarcWriterProcess"]

logger = logging.getLogger(__name__)

_PIPE_BYTES = 1 << 20  # Linux F_SETPIPE_SZ: room for a dozen pages, so a send rarely waits for the child
_F_SETPIPE_SZ = 1031
_START_TIMEOUT = 60.0


def _grow_pipe(connection) -> None:
    try:
        fcntl.fcntl(connection.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:  # not Linux, or above /proc/sys/fs/pipe-max-size: the default 64 KB works, slower
        pass


class WarcWriterProcess(_WriterBase):
    """Writes WARC records from a child process; see the module docstring. `stats` are as of
    the last record the child reported written."""

    def __init__(
        self,
        directory: str | Path,
        *,
        info: WarcInfo | None = None,
        prefix: str = "crawl",
        max_size: int = DEFAULT_MAX_SIZE,
        payload_digest: str = "entity",
        compress_level: int = 6,
        index_closed_files: bool = False,
    ):
        self.directory = Path(directory)
        # The caller's copy: revisit decisions need the same payload digest the child writes.
        self.builder = RecordBuilder(payload_digest=payload_digest)
        try:
            ensure_writable_dir(self.directory)
        except OSError as exc:
            raise WarcWriteError(f"WARC directory {self.directory} is not writable: {exc}") from exc
        config = {"directory": str(self.directory), "info": info or WarcInfo(), "prefix": prefix,
                  "max_size": max_size, "payload_digest": payload_digest, "compress_level": compress_level,
                  "index_closed_files": index_closed_files}
        context = multiprocessing.get_context("forkserver")  # never fork a threaded process
        jobs_out, self._jobs = context.Pipe(duplex=False)
        self._results, results_in = context.Pipe(duplex=False)
        _grow_pipe(self._jobs)
        self._process = context.Process(target=_child_main, args=(jobs_out, results_in, config),
                                        name="warc-writer", daemon=False)
        self._process.start()
        jobs_out.close()
        results_in.close()
        self._lock = threading.Lock()
        self._futures: dict[str, RecordFuture] = {}
        self._stats = WriterStats()
        self._error: WarcWriteError | None = None
        self._closed = False
        self._started = threading.Event()
        self._finished = threading.Event()
        self._start_error: str | None = None
        self._finished_cleanly = False  # the child said goodbye ("closed"/"failed") before its pipe closed
        self._receiver = threading.Thread(target=self._receive, name="warc-results", daemon=True)
        self._receiver.start()
        if not self._started.wait(_START_TIMEOUT) or self._start_error or self._error:
            self._closed = True
            self._process.join(5)
            raise WarcWriteError(self._start_error or str(self._error or "the WARC writer process did not start"))
        atexit.register(self.close)

    # --- caller side (any thread) ---

    def write_exchange(self, exchange: Exchange) -> RecordFuture:
        _check_exchange(exchange)
        record_id = self.builder.make_record_id()
        return self._send(record_id, ("exchange", record_id, exchange))

    def write_revisit(self, exchange: Exchange, *, profile: RevisitProfile, refers_to_uri: str,
                      refers_to_date: datetime | str, refers_to_record_id: str | None = None) -> RecordFuture:
        _check_exchange(exchange)
        record_id = self.builder.make_record_id()
        options = {"profile": profile, "refers_to_uri": refers_to_uri, "refers_to_date": refers_to_date,
                   "refers_to_record_id": refers_to_record_id}
        return self._send(record_id, ("revisit", record_id, exchange, options))

    def write_metadata(self, target_uri: str, fields: Mapping[str, str] | Iterable[tuple[str, str]], *,
                       concurrent_to: str | None = None, date: datetime | None = None) -> RecordFuture:
        record_id = self.builder.make_record_id()
        fields = list(fields.items() if isinstance(fields, Mapping) else fields)
        options = {"concurrent_to": concurrent_to, "date": date or self.builder.clock()}
        return self._send(record_id, ("metadata", record_id, target_uri, fields, options))

    def close(self) -> None:
        """Let the child write what it has, fsync and rename its file, and exit. Idempotent.

        Returns once the file is renamed; the child then finishes the file's CDXJ index
        and exits (`join` waits for that; interpreter exit does too).

        Raises `WarcWriteError` (once) if any write failed or the child died."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._jobs.send(("close",))
            except OSError:
                pass  # the child is gone already; the receiver has recorded why
        atexit.unregister(self.close)
        self._finished.wait()  # the file is renamed; the child may still be indexing it
        self._jobs.close()
        if self._error is not None:
            raise WarcWriteError(f"WARC writer failed: {self._error}") from self._error

    def join(self, timeout: float | None = None) -> None:
        """Wait for the child to exit (after `close`: until the index of the last file is written)."""
        self._process.join(timeout)

    def _send(self, record_id: str, message: tuple) -> RecordFuture:
        future = RecordFuture(record_id)
        with self._lock:
            self._refuse_if_unusable()
            self._futures[record_id] = future  # before sending: the answer may come at once
            try:
                self._jobs.send(message)
            except OSError as exc:
                del self._futures[record_id]
                self._error = WarcWriteError(f"the WARC writer process is gone: {exc!r}")
                raise self._error from exc
        return future

    # --- receiver thread ---

    def _receive(self) -> None:
        # Ctrl-C/SIGTERM must reach the main thread, which runs the handlers: delivered to this
        # thread instead, they would wait for the main thread's next bytecode, and two signals
        # in quick succession (Scrapy's "twice = force") could merge into one.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            while True:
                try:
                    message = self._results.recv()
                except (EOFError, OSError):
                    break
                if self._handle(message):
                    break
        finally:
            with self._lock:
                if self._error is None and not self._finished_cleanly:
                    code = self._process.exitcode if not self._process.is_alive() else None
                    self._error = WarcWriteError(f"the WARC writer process exited unexpectedly (exit code {code})")
                pending, self._futures = list(self._futures.values()), {}
            for future in pending:
                _settle(future, error=self._error or WarcWriteError("the WARC writer process has stopped"))
            self._results.close()
            self._started.set()
            self._finished.set()

    def _handle(self, message: tuple) -> bool:
        """Settle one answer from the child; True when the child is done."""
        kind = message[0]
        if kind == "done":
            _, record_id, location, stats = message
            self._stats = WriterStats(*stats)
            with self._lock:
                future = self._futures.pop(record_id, None)
            if future is not None:
                _settle(future, result=location)
        elif kind == "error":
            _, record_id, fatal, text = message
            error: Exception = WarcWriteError(text) if fatal else ValueError(text)
            with self._lock:
                future = self._futures.pop(record_id, None)
                if fatal and self._error is None:
                    self._error = error
            if future is not None:
                _settle(future, error=error)
        elif kind == "ready":
            self._started.set()
        elif kind == "failed":
            self._start_error = message[1]
            self._finished_cleanly = True
            return True
        elif kind == "closed":
            _, stats, text = message
            self._stats = WriterStats(*stats)
            with self._lock:
                if text and self._error is None:
                    self._error = WarcWriteError(text)
            self._finished_cleanly = True
            return True
        return False


# --- child process -------------------------------------------------------------------


def _child_main(jobs, results, config: dict[str, Any]) -> None:
    """The writer process: receive jobs until told to close or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    send_lock = threading.Lock()

    def send(message: tuple) -> None:
        try:
            with send_lock:
                results.send(message)
        except OSError:  # the parent is gone; the archive is still finished properly
            pass

    on_file_closed = None
    indexing: list[threading.Thread] = []
    if config.pop("index_closed_files"):
        from .index import index_in_background

        def on_file_closed(path: Path) -> None:
            indexing.append(index_in_background(path))
    try:
        writer = WarcWriter(config.pop("directory"), builder=RecordBuilder(payload_digest=config.pop("payload_digest")),
                            on_file_closed=on_file_closed, **config)
    except Exception as exc:
        send(("failed", f"cannot start the WARC writer: {exc}"))
        return
    send(("ready",))

    def answer(future: RecordFuture) -> None:
        error = future.exception()
        if error is None:
            stats = writer.stats
            send(("done", future.record_id, future.result(), (stats.records, stats.bytes, stats.files)))
        else:
            send(("error", future.record_id, isinstance(error, WarcWriteError), str(error)))

    try:
        while True:
            try:
                message = jobs.recv()
            except (EOFError, OSError):
                break  # the parent died: write what arrived, then close below
            kind, record_id = message[0], message[1] if len(message) > 1 else None
            if kind == "close":
                break
            try:
                if kind == "exchange":
                    future = writer.write_exchange(message[2], record_id=record_id)
                elif kind == "revisit":
                    future = writer.write_revisit(message[2], record_id=record_id, **message[3])
                elif kind == "metadata":
                    future = writer.write_metadata(message[2], message[3], record_id=record_id, **message[4])
                else:
                    raise ValueError(f"unknown job {kind!r}")
            except Exception as exc:
                send(("error", record_id, isinstance(exc, WarcWriteError), str(exc)))
                continue
            future.add_done_callback(answer)
    finally:
        text = None
        try:
            writer.close()
        except WarcWriteError as exc:
            text = str(exc)
        stats = writer.stats
        send(("closed", (stats.records, stats.bytes, stats.files), text))
        results.close()
        # A forkserver child ends with os._exit, which would not wait for these threads.
        for thread in indexing:
            thread.join()
