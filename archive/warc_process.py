"""A `WarcWriter` in a child process: the caller only pickles each exchange and sends it.

Why a process and not only the writer thread: the thread spends most of its
time in zlib, hashlib and file I/O with the GIL released, yet a crawl with
capture on ran 20-28 % slower than without, while that work measured alone
was ~5 % of a page's cost. The rest was the GIL: every time the writer
thread came back from zlib or a write it had to take the interpreter from
the reactor thread. In a child process the writer has an interpreter of its
own.

Why batches: sent one by one, each exchange cost the reactor thread a pickle
and a pipe write that woke the child (~200 µs a page measured in a crawl,
most of the capture cost), and each answer woke a receiver thread that took
the GIL back from the reactor. Now a call only appends the exchange to an
outbox; a sender thread pickles the outbox and writes it to the pipe in one
go every `flush_delay` seconds (sooner once it holds `_FLUSH_BYTES`), the
child writes the batch and answers it with one message. A caller that
outruns the child (outbox past `_OUTBOX_LIMIT`) sends itself, so it waits
instead of filling memory.

Same interface as `WarcWriter` (write_exchange / write_revisit /
write_metadata return `RecordFuture`s whose record id is known at once;
`close`, `stats`, `closed`, `builder`). Failure modes:

* the child cannot start (directory not writable): `WarcWriteError` at once;
* a write fails in the child: its future fails, later writes raise, as in
  `WarcWriter`;
* the child dies: pending futures fail and writes raise `WarcWriteError`;
* the parent dies (even SIGKILL): the child sees end-of-file on its pipe,
  writes what it received, fsyncs and renames the file, and exits. What was
  still in the outbox (at most `flush_delay` seconds of records) is lost;
  its futures never resolved, so nothing (crawl state, corpus) points at
  it. The child ignores SIGINT/SIGTERM sent to the whole process group (Ctrl-C, `timeout`):
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

_PIPE_BYTES = 1 << 20  # Linux F_SETPIPE_SZ: room for a few batches, so a send rarely waits for the child
_FLUSH_DELAY = 0.02  # seconds an exchange may wait in the outbox before the sender thread sends it
_FLUSH_BYTES = 256 << 10  # an outbox this large is sent at once
_OUTBOX_LIMIT = 8 << 20  # past this, the caller sends the outbox itself: backpressure, not memory
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
        flush_delay: float = _FLUSH_DELAY,
    ):
        self.directory = Path(directory)
        self.flush_delay = flush_delay
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
        self._wake = threading.Condition(self._lock)  # the sender waits on it for work
        self._send_lock = threading.Lock()  # one batch on the pipe at a time, in order
        self._outbox: list[tuple] = []
        self._outbox_bytes = 0
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
        self._sender = threading.Thread(target=self._send_batches, name="warc-sender", daemon=True)
        self._sender.start()
        atexit.register(self.close)

    # --- caller side (any thread) ---

    def write_exchange(self, exchange: Exchange) -> RecordFuture:
        _check_exchange(exchange)
        record_id = self.builder.make_record_id()
        return self._send(record_id, ("exchange", record_id, exchange), _size(exchange))

    def write_revisit(self, exchange: Exchange, *, profile: RevisitProfile, refers_to_uri: str,
                      refers_to_date: datetime | str, refers_to_record_id: str | None = None) -> RecordFuture:
        _check_exchange(exchange)
        record_id = self.builder.make_record_id()
        options = {"profile": profile, "refers_to_uri": refers_to_uri, "refers_to_date": refers_to_date,
                   "refers_to_record_id": refers_to_record_id}
        return self._send(record_id, ("revisit", record_id, exchange, options), _size(exchange))

    def write_metadata(self, target_uri: str, fields: Mapping[str, str] | Iterable[tuple[str, str]], *,
                       concurrent_to: str | None = None, date: datetime | None = None) -> RecordFuture:
        record_id = self.builder.make_record_id()
        fields = list(fields.items() if isinstance(fields, Mapping) else fields)
        options = {"concurrent_to": concurrent_to, "date": date or self.builder.clock()}
        size = sum(len(name) + len(value) for name, value in fields)
        return self._send(record_id, ("metadata", record_id, target_uri, fields, options), size)

    def close(self) -> None:
        """Send what is in the outbox, let the child write it, fsync and rename its file, and
        exit. Idempotent.

        Returns once the file is renamed; the child then finishes the file's CDXJ index
        and exits (`join` waits for that; interpreter exit does too).

        Raises `WarcWriteError` (once) if any write failed or the child died."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._wake.notify_all()
        atexit.unregister(self.close)
        self._sender.join()  # it sends the outbox before it ends
        with self._send_lock:
            try:
                self._jobs.send(("close",))
            except OSError:
                pass  # the child is gone already; the receiver has recorded why
        self._finished.wait()  # the file is renamed; the child may still be indexing it
        self._jobs.close()
        if self._error is not None:
            raise WarcWriteError(f"WARC writer failed: {self._error}") from self._error

    def flush(self) -> None:
        """Send the outbox to the child now (the sender thread does it every `flush_delay`)."""
        with self._send_lock:
            with self._lock:
                batch, self._outbox, self._outbox_bytes = self._outbox, [], 0
            if not batch:
                return
            try:
                self._jobs.send(("jobs", batch))
            except Exception as exc:  # the child is gone (OSError), or a job would not pickle
                self._fail_batch(batch, exc)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the child to exit (after `close`: until the index of the last file is written)."""
        self._process.join(timeout)

    def _send(self, record_id: str, message: tuple, size: int) -> RecordFuture:
        future = RecordFuture(record_id)
        with self._lock:
            self._refuse_if_unusable()
            self._futures[record_id] = future  # before sending: the answer may come at once
            self._outbox.append(message)
            self._outbox_bytes += size
            backlog = self._outbox_bytes
            if len(self._outbox) == 1 or backlog - size < _FLUSH_BYTES <= backlog:
                self._wake.notify()  # a new batch to time, or one that is ready now
        if backlog >= _OUTBOX_LIMIT:
            self.flush()
        return future

    def _fail_batch(self, batch: list[tuple], exc: Exception) -> None:
        fatal = isinstance(exc, OSError)
        error: Exception = WarcWriteError(f"the WARC writer process is gone: {exc!r}") if fatal else exc
        with self._lock:
            if fatal and self._error is None:
                self._error = error
            failed = [self._futures.pop(message[1], None) for message in batch]
        for future in failed:
            if future is not None:
                _settle(future, error=error)

    # --- sender thread ---

    def _send_batches(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})  # as in _receive
        while True:
            with self._lock:
                while not self._outbox and not self._closed:
                    self._wake.wait()
                if self._closed and not self._outbox:
                    return
                # Let the batch grow for flush_delay unless it is big enough already.
                self._wake.wait_for(lambda: self._closed or self._outbox_bytes >= _FLUSH_BYTES,
                                    timeout=self.flush_delay)
            self.flush()

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
        if kind == "answers":
            _, answers, stats = message
            self._stats = WriterStats(*stats)
            for answer in answers:
                self._settle_answer(answer)
        elif kind == "error":
            self._settle_answer(message)
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

    def _settle_answer(self, answer: tuple) -> None:
        """("done", record id, location) or ("error", record id, fatal, text)."""
        if answer[0] == "done":
            with self._lock:
                future = self._futures.pop(answer[1], None)
            if future is not None:
                _settle(future, result=answer[2])
            return
        _, record_id, fatal, text = answer
        error: Exception = WarcWriteError(text) if fatal else ValueError(text)
        with self._lock:
            future = self._futures.pop(record_id, None)
            if fatal and self._error is None:
                self._error = error
        if future is not None:
            _settle(future, error=error)


def _size(exchange: Exchange) -> int:
    """Bytes an exchange adds to the outbox (the body once when payload and block are one object)."""
    same = exchange.payload is exchange.response_block_body
    return len(exchange.response_block_body) + (0 if same else len(exchange.payload)) + len(exchange.response_head)


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

    def start(message: tuple) -> RecordFuture | tuple:
        """Queue one job with the writer: its future, or at once the error that refused it."""
        kind, record_id = message[0], message[1]
        try:
            if kind == "exchange":
                return writer.write_exchange(message[2], record_id=record_id)
            if kind == "revisit":
                return writer.write_revisit(message[2], record_id=record_id, **message[3])
            if kind == "metadata":
                return writer.write_metadata(message[2], message[3], record_id=record_id, **message[4])
            raise ValueError(f"unknown job {kind!r}")
        except Exception as exc:
            return ("error", record_id, isinstance(exc, WarcWriteError), str(exc))

    def answer(started: RecordFuture | tuple) -> tuple:
        if isinstance(started, tuple):
            return started
        error = started.exception()  # waits for the writer thread
        if error is None:
            return ("done", started.record_id, started.result())
        return ("error", started.record_id, isinstance(error, WarcWriteError), str(error))

    try:
        while True:
            try:
                message = jobs.recv()
            except (EOFError, OSError):
                break  # the parent died: write what arrived, then close below
            if message[0] == "close":
                break
            # The whole batch goes to the writer thread first, then one message answers it.
            answers = [answer(started) for started in [start(job) for job in message[1]]]
            stats = writer.stats
            send(("answers", answers, (stats.records, stats.bytes, stats.files)))
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
