"""A `WarcWriter` in a child process: the caller only pickles each exchange and sends it.

Why a process: a writer thread's every return from zlib or a write took the
GIL back from the reactor, and capture cost 20-28 % of a crawl although its
work is ~5 %. Why batches and no thread woken per record: each wake-up of
another thread of this process makes the reactor hand the GIL over (measured
figures: docs/performance.md). A call only appends the exchange to an outbox;
the outbox goes to the child as one frame (archive/warc/pipe.py) and the child
answers each batch with one message (archive/warc/process_child.py). Who
sends and settles:

* `io_thread=True` (default, for any caller): an I/O thread wakes every
  `flush_delay` seconds, settles the answers that arrived and sends the
  outbox. A future resolves within about two `flush_delay`s of its write.
* `io_thread=False` (the crawler, from its event loop): no thread at all.
  The caller calls `pump()` every few tens of milliseconds (Scrapy: a
  LoopingCall), which settles answers and writes the outbox to the pipe
  without blocking, once it is worth a batch (`_MIN_BATCH`, `_MAX_WAIT`);
  a write also pumps once the outbox holds `_PUMP_BYTES`.
  A caller that blocks on a future's `result()`/`exception()` would wait
  for a pump that cannot come: the first such wait starts the I/O thread,
  and the writer works as with `io_thread=True` from then on.

Either way a caller that outruns the child (more than `_OUTBOX_LIMIT` bytes
not yet in the pipe) waits for the pipe, instead of filling memory. No lock is
shared with the I/O thread on the way of a record (a thread holding a lock
while it waits for the GIL makes the reactor wait for both: a lock convoy):
the outbox is a deque, the futures a dict, whose single operations are atomic;
`_lock` is taken by callers, and by the I/O thread on the rare paths only.

Same interface as `WarcWriter` (write_exchange / write_revisit /
write_metadata return `RecordFuture`s whose record id is known at once;
`close`, `stats`, `closed`, `builder`). Failure modes:

* the child cannot start (directory not writable): `WarcWriteError` at once;
* a write fails in the child: its future fails, later writes raise, as in
  `WarcWriter`;
* the child dies: pending futures fail and writes raise `WarcWriteError`;
* the parent dies (even SIGKILL): the child sees end-of-file on its pipe,
  writes what it received, fsyncs and renames the file, and exits. What was
  still in the outbox (at most `flush_delay` seconds of records; caller-driven,
  up to `_MAX_WAIT`) is lost;
  its futures never resolved, so nothing (crawl state, corpus) points at
  it. The child ignores SIGINT/SIGTERM sent to the whole process group (Ctrl-C, `timeout`):
  the parent's orderly close, or its death, is what ends it, so a signal can
  never cut a record in half.
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from archive.warc.exchange import Exchange
from archive.warc.pipe import FrameSender, frame, grow_pipe
from archive.warc.process_child import child_main
from archive.warc.records import RecordBuilder, RevisitProfile, WarcInfo, check_exchange
from archive.warc.writer_base import (
    DEFAULT_MAX_SIZE,
    RecordFuture,
    WarcWriteError,
    WarcWriterConfig,
    WriterBase,
    WriterStats,
    settle,
)

__all__ = ["WarcWriterProcess"]

logger = logging.getLogger(__name__)

_FLUSH_DELAY = 0.02  # seconds between pumps (I/O thread or caller): sends the outbox, settles answers
# Caller-driven: a pump sends the outbox once it holds _MIN_BATCH records, or its oldest has waited
# _MAX_WAIT s (or it holds _PUMP_BYTES). Each batch costs the caller's event loop a frame, a pipe
# write that wakes the child and an answer to settle, whatever its size: sent every 20 ms, a crawl
# of ~20 pages/s (three records a page) sent batches of one record, ~0.3 ms of loop CPU each. And the
# child a wake-up of two threads and an fsync: fed at 110 pages/s, batches of 8 (every other pump)
# cost it 0.52-0.55 ms a page against 0.61-0.66 with 4, the pumps 0.040-0.046 against 0.054-0.080
# (docs/performance.md, session 14).
_MIN_BATCH = 8
_MAX_WAIT = 0.1
_PUMP_BYTES = 256 << 10  # caller-driven: a write that brings the outbox to this size pumps
_OUTBOX_LIMIT = 8 << 20  # bytes not yet in the pipe past which a caller waits: backpressure, not memory
_START_TIMEOUT = 60.0


class WarcWriterProcess(WriterBase):
    """Writes WARC records from a child process; see the module docstring. `stats` are as of
    the last answer settled."""

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
        io_thread: bool = True,
        flush_delay: float = _FLUSH_DELAY,
        durable: bool = True,
    ):
        self._start(WarcWriterConfig(Path(directory), info or WarcInfo(), prefix, max_size, payload_digest,
                                     compress_level, durable, index_closed_files), io_thread, flush_delay)

    @classmethod
    def from_config(cls, config: WarcWriterConfig, *, io_thread: bool = True,
                    flush_delay: float = _FLUSH_DELAY) -> "WarcWriterProcess":
        """A writer process for the files `config` describes."""
        writer = cls.__new__(cls)
        writer._start(config, io_thread, flush_delay)
        return writer

    def _start(self, config: WarcWriterConfig, io_thread: bool, flush_delay: float) -> None:
        self.config = config
        self.directory = config.directory
        self.flush_delay = flush_delay
        # The caller's copy: revisit decisions need the same payload digest the child writes.
        self.builder = RecordBuilder(payload_digest=config.payload_digest)
        config.check_directory()
        context = multiprocessing.get_context("forkserver")  # never fork a threaded process
        jobs_out, self._jobs = context.Pipe(duplex=False)
        self._results, results_in = context.Pipe(duplex=False)
        grow_pipe(self._jobs)
        self._process = context.Process(target=child_main, args=(jobs_out, results_in, config),
                                        name="warc-writer", daemon=False)
        self._process.start()
        jobs_out.close()
        results_in.close()
        self._lock = threading.Lock()  # callers' lock; see the module docstring
        self._send_lock = threading.Lock()  # one writer of the pipe at a time, frames in order
        self._outbox: deque[tuple[tuple, int]] = deque()  # (job, bytes)
        self._outbox_since = 0.0  # when the oldest job in the outbox was queued (time.monotonic)
        self._queued_bytes = 0  # written by callers only (under _lock)
        self._framed_bytes = 0  # of those, taken out of the outbox (under _send_lock)
        self._futures: dict[str, RecordFuture] = {}
        self._answers_lock = threading.Lock()  # one reader of the answer pipe at a time
        self._ended = False
        self._stats = WriterStats()
        self._error: WarcWriteError | None = None
        self._closed = False
        self._finished = threading.Event()
        self._finished_cleanly = False  # the child said goodbye ("closed"/"failed") before its pipe closed
        start_error = self._wait_until_ready()
        if start_error:
            self._closed = True
            self._results.close()
            self._process.join(5)
            raise WarcWriteError(start_error)
        os.set_blocking(self._jobs.fileno(), False)  # _write_unsent waits itself when it must
        self._sender = FrameSender(self._jobs.fileno())  # framed, not yet in the pipe (under _send_lock)
        self._stop_io = threading.Event()
        self._io: threading.Thread | None = None
        if io_thread:
            self._start_io_thread()
        atexit.register(self.close)

    # --- caller side ---

    def write_exchange(self, exchange: Exchange) -> RecordFuture:
        check_exchange(exchange)
        record_id = self.builder.make_record_id()
        return self._queue(record_id, ("exchange", record_id, exchange), _size(exchange))

    def write_revisit(self, exchange: Exchange, *, profile: RevisitProfile, refers_to_uri: str,
                      refers_to_date: datetime | str, refers_to_record_id: str | None = None) -> RecordFuture:
        check_exchange(exchange)
        record_id = self.builder.make_record_id()
        options = {"profile": profile, "refers_to_uri": refers_to_uri, "refers_to_date": refers_to_date,
                   "refers_to_record_id": refers_to_record_id}
        return self._queue(record_id, ("revisit", record_id, exchange, options), _size(exchange))

    def write_metadata(self, target_uri: str, fields: Mapping[str, str] | Iterable[tuple[str, str]], *,
                       concurrent_to: str | None = None, date: datetime | None = None) -> RecordFuture:
        record_id = self.builder.make_record_id()
        fields = list(fields.items() if isinstance(fields, Mapping) else fields)
        options = {"concurrent_to": concurrent_to, "date": date or self.builder.clock()}
        size = sum(len(name) + len(value) for name, value in fields)
        return self._queue(record_id, ("metadata", record_id, target_uri, fields, options), size)

    def pump(self) -> None:
        """Settle the answers that arrived and write the outbox to the pipe, without blocking
        (unless past `_OUTBOX_LIMIT`). For `io_thread=False`: call it every few tens of ms.
        Does nothing once an I/O thread runs."""
        if self._io is not None or self._finished.is_set():
            return
        if not self._answers_lock.acquire(blocking=False):
            return  # another thread is reading answers right now
        try:
            alive = self._take_answers(block=False)
        finally:
            self._answers_lock.release()
        if not alive:
            self._end()
            return
        if self._sender.unsent or self._outbox_due():
            self._write_out(block=False)

    def _outbox_due(self) -> bool:
        """Is the outbox worth a batch (`_MIN_BATCH`, `_MAX_WAIT`, `_PUMP_BYTES`)?"""
        waiting = len(self._outbox)
        return bool(waiting) and (waiting >= _MIN_BATCH or self._queued_bytes - self._framed_bytes >= _PUMP_BYTES
                                  or time.monotonic() - self._outbox_since >= _MAX_WAIT)

    def flush(self) -> None:
        """Send the whole outbox to the child now, waiting for room in the pipe if need be."""
        self._write_out(block=True)

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
        atexit.unregister(self.close)
        if self._io is not None:
            self._stop_io.set()
            self._io.join()  # it does what _finish does, in its own thread
        else:
            try:
                self._finish()
            finally:
                self._end()
        self._jobs.close()
        if self._error is not None:
            raise WarcWriteError(f"WARC writer failed: {self._error}") from self._error

    def join(self, timeout: float | None = None) -> None:
        """Wait for the child to exit (after `close`: until the index of the last file is written)."""
        self._process.join(timeout)

    def _queue(self, record_id: str, message: tuple, size: int) -> RecordFuture:
        future = RecordFuture(record_id) if self._io is not None else _PumpedFuture(record_id, self)
        with self._lock:
            self._refuse_if_unusable()
            self._futures[record_id] = future  # before sending: the answer may come at once
            if not self._outbox:
                self._outbox_since = time.monotonic()
            self._outbox.append((message, size))
            self._queued_bytes += size
            backlog = self._queued_bytes - self._framed_bytes + self._sender.unsent_bytes
        if backlog >= _OUTBOX_LIMIT:
            self._write_out(block=True)
        elif self._io is None and backlog >= _PUMP_BYTES:
            # Not on every answer that waits: that made batches of ~1.6 pages in a crawl, and a
            # pipe write per batch. Answers wait for the next pump (every flush_delay) instead.
            self.pump()
        return future

    # --- the pipe to the child ---

    def _write_out(self, *, block: bool) -> None:
        """Frame the outbox as one batch and write what the pipe takes (all of it, if `block`)."""
        with self._send_lock:
            batch, size = [], 0
            while True:
                try:
                    job, job_size = self._outbox.popleft()
                except IndexError:
                    break
                batch.append(job)
                size += job_size
            if batch:
                try:
                    self._sender.add(frame(("jobs", batch)))
                except Exception as exc:  # a job that would not pickle: it fails, the archive goes on
                    self._fail_jobs(batch, exc)
                self._framed_bytes += size
            self._write_unsent(block=block or self._sender.unsent_bytes >= _OUTBOX_LIMIT)

    def _write_unsent(self, *, block: bool) -> None:
        """Called with _send_lock held."""
        try:
            self._sender.write(block=block)
        except OSError as exc:  # EPIPE: the child is gone
            with self._lock:
                if self._error is None:
                    self._error = WarcWriteError(f"the WARC writer process is gone: {exc!r}")
            self._fail_pending()

    def _fail_jobs(self, batch: list[tuple], exc: Exception) -> None:
        """These jobs failed on their own (they would not pickle); the archive goes on."""
        for job in batch:
            future = self._futures.pop(job[1], None)
            if future is not None:
                settle(future, error=exc)

    def _fail_pending(self) -> None:
        """Fail every future not answered yet, with the writer's error."""
        with self._lock:
            pending, self._futures = list(self._futures.values()), {}
        for future in pending:
            settle(future, error=self._error or WarcWriteError("the WARC writer process has stopped"))

    def _wait_until_ready(self) -> str | None:
        """The child's first word: None when it is ready, else why it could not start."""
        try:
            if not self._results.poll(_START_TIMEOUT):
                return "the WARC writer process did not start"
            message = self._results.recv()
        except (EOFError, OSError):
            return f"the WARC writer process exited at start (exit code {self._process.exitcode})"
        return message[1] if message[0] == "failed" else None

    def _finish(self) -> None:
        """Send the rest and "close", then settle answers until the child has renamed its file."""
        self._write_out(block=True)
        with self._send_lock:
            if self._error is not None:
                return  # the child is gone
            self._sender.add(frame(("close",)))
            self._write_unsent(block=True)
        with self._answers_lock:
            self._take_answers(block=True)

    # --- I/O thread (io_thread=True, or since the first blocking wait) ---

    def _start_io_thread(self) -> None:
        with self._lock:
            if self._io is not None or self._closed:
                return
            self._io = threading.Thread(target=self._run_io, name="warc-io", daemon=True)
            self._io.start()

    def _run_io(self) -> None:
        # Ctrl-C/SIGTERM must reach the main thread, which runs the handlers: delivered to this
        # thread instead, they would wait for the main thread's next bytecode, and two signals
        # in quick succession (Scrapy's "twice = force") could merge into one.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            while not self._stop_io.wait(self.flush_delay):
                with self._answers_lock:
                    alive = self._take_answers(block=False)
                if not alive:
                    return  # the child is gone
                self._write_out(block=True)
            self._finish()  # close(): callers write no more (_closed)
        finally:
            self._end()

    # --- answers from the child ---

    def _take_answers(self, *, block: bool) -> bool:
        """Settle what the child has answered (all of it until it closes, if `block`).
        False once the child is done or gone. Called with _answers_lock held."""
        try:
            while block or self._answers_waiting():
                if self._handle(self._results.recv()):
                    return False
        except (EOFError, OSError):
            return False
        return True

    def _answers_waiting(self) -> bool:
        # select() on the fd, not Connection.poll(), which builds a selector each call (~10 µs):
        # this runs on every write of a caller-driven writer.
        return bool(select.select([self._results.fileno()], [], [], 0)[0])

    def _end(self) -> None:
        """The child is done or gone: fail what it never answered, and let close() return."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
            if self._error is None and not self._finished_cleanly:
                code = self._process.exitcode if not self._process.is_alive() else None
                self._error = WarcWriteError(f"the WARC writer process exited unexpectedly (exit code {code})")
        self._fail_pending()
        self._results.close()
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
            future = self._futures.pop(answer[1], None)
            if future is not None:
                settle(future, result=answer[2])
            return
        _, record_id, fatal, text = answer
        error: Exception = WarcWriteError(text) if fatal else ValueError(text)
        with self._lock:
            future = self._futures.pop(record_id, None)
            if fatal and self._error is None:
                self._error = error
        if future is not None:
            settle(future, error=error)


class _PumpedFuture(RecordFuture):
    """A future of a caller-driven writer: a blocking wait on it starts the writer's I/O thread,
    since the caller's loop, which would pump, is the one waiting."""

    __slots__ = ("_writer",)

    def __init__(self, record_id: str, writer: WarcWriterProcess):
        super().__init__(record_id)
        self._writer = writer

    def result(self, timeout: float | None = None):
        if not self.done():
            self._writer._start_io_thread()
        return super().result(timeout)

    def exception(self, timeout: float | None = None):
        if not self.done():
            self._writer._start_io_thread()
        return super().exception(timeout)


def _size(exchange: Exchange) -> int:
    """Bytes an exchange adds to the outbox (the body once when payload and block are one object)."""
    same = exchange.payload is exchange.response_block_body
    return len(exchange.response_block_body) + (0 if same else len(exchange.payload)) + len(exchange.response_head)
