"""The WARC writer: records into rotated `*.warc.gz` files, from one background thread.

Where records are *written* (one gzip member each, size rotation, the `.open`
suffix and its flock, fsync before a record counts as written) is kept apart
from what a record *is* (archive/warc/records.py). `WarcWriterConfig` is the
one description of an archive's files, taken by this writer and by the writer
in a child process (archive/warc/process.py) alike.

Plain library: no Scrapy, no Twisted. Callers hand over `Exchange`s and get
back futures of `RecordLocation`s.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from archive.warc.exchange import Exchange, RecordLocation
from archive.warc.gzip_member import gzip_member
from archive.warc.records import RecordBuilder, RevisitProfile, WarcInfo, WarcRecord, body_is_compressed, \
    check_exchange
from archive.warc.warcfile import OpenWarcFile, safe_name_part
from archive.warc.writer_base import DEFAULT_MAX_SIZE, RecordFuture, WarcWriteError, WarcWriterConfig, WriterBase, \
    WriterStats, settle

logger = logging.getLogger(__name__)

Build = Callable[[str | None], list[WarcRecord]]  # warcinfo id -> records
# A job not yet queued: the id of the record whose location it answers, and how to build its records.
PreparedJob = tuple[str, Build]


@dataclass(slots=True)
class _Job:
    build: Build
    future: RecordFuture


@dataclass(slots=True)
class _Batch:
    """Jobs answered together once all are on disk, by one future (`write_jobs`): the writer process
    hands over each batch it reads off its pipe so, one queue slot and one future a batch instead of a
    future, a queue hand-off and a wait for each record."""

    jobs: list[PreparedJob]
    future: Future  # a list of RecordLocation or Exception, in the jobs' order


_STOP = object()
_BATCH = 32  # jobs taken per wake-up of the writer thread


class WarcWriter(WriterBase):
    """Writes records to rotated `*.warc.gz` files from one background thread.

    Callers (the reactor thread) only enqueue; compressing and writing happen
    in the writer thread, since zlib and file I/O release the GIL and a
    synchronous write cost 10-13 % of crawl throughput. The queue is bounded so
    a slow disk slows the crawl instead of filling memory.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        *,
        info: WarcInfo | None = None,
        prefix: str = "crawl",
        max_size: int = DEFAULT_MAX_SIZE,
        builder: RecordBuilder | None = None,
        queue_size: int = 64,
        compress_level: int = 6,
        on_file_closed: Callable[[Path], object] | None = None,
        durable: bool = True,
    ):
        builder = builder or RecordBuilder()
        config = WarcWriterConfig(Path(directory), info or WarcInfo(), prefix, max_size,
                                  builder.payload_digest_policy, compress_level, durable)
        self._start(config, builder, queue_size, on_file_closed)

    @classmethod
    def from_config(cls, config: WarcWriterConfig, *, queue_size: int = 64,
                    on_file_closed: Callable[[Path], object] | None = None) -> "WarcWriter":
        """A writer of the files `config` describes (its CDXJ indexing included)."""
        if on_file_closed is None and config.index_closed_files:
            from archive.warc.cdxj import index_in_background

            on_file_closed = index_in_background
        writer = cls.__new__(cls)
        writer._start(config, RecordBuilder(payload_digest=config.payload_digest), queue_size, on_file_closed)
        return writer

    def _start(self, config: WarcWriterConfig, builder: RecordBuilder, queue_size: int,
               on_file_closed: Callable[[Path], object] | None) -> None:
        self.config = config
        self.directory = config.directory
        # Called with each finished file's final path (e.g. to index it); never for abandoned files.
        self.on_file_closed = on_file_closed
        self.builder = builder
        self._host = safe_name_part(config.info.hostname)
        self._pid = os.getpid()
        self._serial = 0
        self._current: OpenWarcFile | None = None
        self._stats = WriterStats()
        self._error: WarcWriteError | None = None
        self._closed = False
        self._lock = threading.Lock()
        config.check_directory()
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="warc-writer", daemon=True)
        self._thread.start()
        # Daemon thread plus atexit: interpreter exit still drains and renames.
        atexit.register(self.close)

    # --- caller side (any thread) ---

    def write_exchange(self, exchange: Exchange, *, record_id: str | None = None) -> RecordFuture:
        """Queue request + response records; the future gives the response's location.

        `record_id` (of the response record) is for callers that name records themselves,
        e.g. a writer in another process whose caller must know the id at once."""
        return self._submit(*self.exchange_job(exchange, record_id=record_id))

    def write_revisit(self, exchange: Exchange, *, record_id: str | None = None, **refers_to) -> RecordFuture:
        """Queue request + revisit records (`refers_to`: `revisit_job`'s); the future gives the revisit's
        location."""
        return self._submit(*self.revisit_job(exchange, record_id=record_id, **refers_to))

    def write_metadata(self, target_uri: str, fields: Mapping[str, str] | Iterable[tuple[str, str]], *,
                       record_id: str | None = None, **options) -> RecordFuture:
        """Queue a warc-fields metadata record (outlinks, capture notes) about `target_uri` (`options`:
        `metadata_job`'s)."""
        return self._submit(*self.metadata_job(target_uri, fields, record_id=record_id, **options))

    def write_jobs(self, jobs: list[PreparedJob]) -> Future:
        """Queue prepared jobs (`exchange_job`, ...) as one batch; its one future gives, in order,
        each job's location or the exception that failed it, once all of them are on disk."""
        future: Future = Future()
        with self._lock:
            self._refuse_if_unusable()
            self._queue.put(_Batch(jobs, future))
        return future

    # --- jobs, prepared in the caller's thread (bad input is refused there) ---

    def exchange_job(self, exchange: Exchange, *, record_id: str | None = None) -> PreparedJob:
        """Request + response records; the job answers with the response's location."""
        check_exchange(exchange)
        response_id = record_id or self.builder.make_record_id()
        return response_id, lambda warcinfo_id: self.builder.exchange_records(
            exchange, response_id=response_id, warcinfo_id=warcinfo_id
        )

    def revisit_job(
        self,
        exchange: Exchange,
        *,
        profile: RevisitProfile,
        refers_to_uri: str,
        refers_to_date: datetime | str,
        refers_to_record_id: str | None = None,
        record_id: str | None = None,
    ) -> PreparedJob:
        """Request + revisit records; the job answers with the revisit's location."""
        check_exchange(exchange)
        revisit_id = record_id or self.builder.make_record_id()
        return revisit_id, lambda warcinfo_id: self.builder.revisit_records(
            exchange,
            revisit_id=revisit_id,
            warcinfo_id=warcinfo_id,
            profile=profile,
            refers_to_uri=refers_to_uri,
            refers_to_date=refers_to_date,
            refers_to_record_id=refers_to_record_id,
        )

    def metadata_job(
        self,
        target_uri: str,
        fields: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        concurrent_to: str | None = None,
        date: datetime | None = None,
        record_id: str | None = None,
    ) -> PreparedJob:
        """A warc-fields metadata record about `target_uri`."""
        record_id = record_id or self.builder.make_record_id()
        fields = list(fields.items() if isinstance(fields, Mapping) else fields)
        date = date or self.builder.clock()
        return record_id, lambda warcinfo_id: [
            self.builder.metadata(
                target_uri,
                record_id=record_id,
                date=date,
                fields=fields,
                concurrent_to=concurrent_to,
                warcinfo_id=warcinfo_id,
            )
        ]

    def close(self) -> None:
        """Drain the queue, fsync and rename the open file. Idempotent.

        Raises `WarcWriteError` (once) if any write failed; the file that
        failed keeps its `.open` suffix.
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError("close() from the writer thread would wait for itself")
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        atexit.unregister(self.close)
        self._thread.join()
        if self._error is not None:
            raise WarcWriteError(f"WARC writer failed: {self._error}") from self._error

    def _submit(self, record_id: str, build: Build) -> RecordFuture:
        future = RecordFuture(record_id)
        with self._lock:
            self._refuse_if_unusable()
            # Under the lock so close() cannot slip its stop marker in front of this job.
            self._queue.put(_Job(build, future))
        return future

    # --- writer thread ---

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            # Whatever else is waiting is handled in the same wake-up: fewer GIL hand-offs.
            while len(batch) < _BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            # (future, location) of a job; (future, [location or exception, ...]) of a batch
            written: list[tuple[Future, RecordLocation | list]] = []
            for job in batch:
                if job is _STOP:
                    self._settle_durably(written)
                    self._finish_current()
                    return
                if isinstance(job, _Batch):
                    written.append((job.future, [self._outcome(record_id, build) for record_id, build in job.jobs]))
                    continue
                outcome = self._outcome(job.future.record_id, job.build)
                if isinstance(outcome, Exception):  # fails at once; a location waits for the fsync
                    settle(job.future, error=outcome)
                else:
                    written.append((job.future, outcome))
            self._settle_durably(written)

    def _settle_durably(self, written: list[tuple[Future, RecordLocation | list]]) -> None:
        """Resolve the batch's futures once its bytes are on disk (fsync): the crash-safety invariant.

        Crawl state and corpus record a page only when its future resolves, so they can never
        point at a record a crash (even a power cut) could still take away. One fsync per batch."""
        if not written:
            return
        if self.config.durable and self._current is not None and self._error is None:
            try:
                self._current.sync()
            except OSError as exc:
                self._fail(exc)
        error = self._error
        for future, outcome in written:
            if isinstance(outcome, list):  # a batch: what was written is lost with the archive
                settle(future, result=outcome if error is None else
                       [each if isinstance(each, Exception) else error for each in outcome])
            elif error is not None:
                settle(future, error=error)
            else:
                settle(future, result=outcome)
        written.clear()

    def _outcome(self, record_id: str, build: Build) -> RecordLocation | Exception:
        """Build and write one job's records: where the wanted one landed, or what failed it (a
        bad record fails its own job; an I/O error fails the archive: `_fail`)."""
        if self._error is not None:
            return self._error
        try:
            current = self._current or self._start_file()
            records = build(current.warcinfo_id)
        except OSError as exc:
            return self._fail(exc)
        except Exception as exc:  # a bad record fails its own future, not the archive
            return exc
        try:
            return self._write_records(current, records, record_id)
        except Exception as exc:  # disk full, I/O error: the file is now suspect
            return self._fail(exc)

    def _fail(self, exc: Exception) -> WarcWriteError:
        where = self._current.open_path if self._current else self.directory
        self._error = WarcWriteError(f"writing to {where} failed: {exc!r}")
        self._error.__cause__ = exc
        logger.error("WARC write failed; archiving stops: %s", self._error)
        return self._error

    def _write_records(self, current: OpenWarcFile, records: list[WarcRecord], wanted_id: str) -> RecordLocation:
        members = [self._gzip_member(record) for record in records]
        offset = current.write(b"".join(members))  # one write per group: one GIL hand-off
        location = None
        for record, member in zip(records, members):
            if record.record_id == wanted_id:
                location = RecordLocation(
                    current.name, offset, len(member), wanted_id, record.header("WARC-Payload-Digest")
                )
            offset += len(member)
        self._stats.records += len(members)
        self._stats.bytes += sum(map(len, members))
        if location is None:
            raise RuntimeError(f"no record with id {wanted_id} was built")
        # Rotate after the whole group so a request never lands apart from its response.
        if current.size >= self.config.max_size:
            self._finish_current()
        return location

    def _start_file(self) -> OpenWarcFile:
        while True:
            name = self._next_name()
            try:
                current = OpenWarcFile(self.directory, name)
            except FileExistsError:
                continue
            if current.final_path.exists():  # an earlier run finished this name
                current.abandon()
                current.open_path.unlink()
                continue
            break
        self._current = current
        self._stats.files += 1
        warcinfo = self.builder.warcinfo(self.config.info, name)
        current.warcinfo_id = warcinfo.record_id
        member = self._gzip_member(warcinfo)
        current.write(member)
        self._stats.records += 1
        self._stats.bytes += len(member)
        return current

    def _next_name(self) -> str:
        moment = self.builder.clock().astimezone(timezone.utc)
        stamp = moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"
        name = f"{self.config.prefix}-{stamp}-{self._serial:05d}-{self._host}-{self._pid}.warc.gz"
        self._serial += 1
        return name

    def _finish_current(self) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        if self._error is not None:
            current.abandon()
            return
        try:
            current.finish()
        except Exception as exc:
            self._error = WarcWriteError(f"closing {current.open_path} failed: {exc!r}")
            self._error.__cause__ = exc
            logger.error("%s", self._error)
            current.abandon()
        else:
            if self.on_file_closed is not None:
                self.on_file_closed(current.final_path)

    def _gzip_member(self, record: WarcRecord) -> bytes:
        # One gzip member per record, so any record can be read from its offset alone;
        # one call, because each call releases and re-takes the GIL (archive/warc/gzip_member.py).
        # A body deflate cannot shrink (a JPEG, a font: page requisites) is stored as it is (level 0).
        level = 0 if body_is_compressed(record) else self.config.compress_level
        return gzip_member(record.to_bytes(), level)

