"""WARC 1.1 records for captured HTTP exchanges, and the writer that stores them.

What a record *is* (named fields, block, digests: `RecordBuilder`) is kept
apart from where it is *written* (gzip members, size rotation, the `.open`
suffix, fsync: `WarcWriter`), as warcio splits RecordBuilder from WARCWriter.
Records are serialised here rather than through warcio because warcio
rewrites the HTTP head it is given and digests chunked bodies as stored;
warcio is still what reads and checks the files.

Plain library: no Scrapy, no Twisted. The crawler hands over `Exchange`
objects; the writer hands back futures of `RecordLocation`.
"""
from __future__ import annotations

import atexit
import base64
import hashlib
import logging
import fcntl
import os
import pickle
import queue
import random
import re
import socket
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from enum import Enum
from operator import attrgetter
from pathlib import Path

from archive.writable import ensure_writable_dir, fsync_directory

logger = logging.getLogger(__name__)

SOFTWARE = "vn-news-archiver archive.warc.records/1.0"
WARC_FORMAT = "WARC File Format 1.1"
WARC_CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
DEFAULT_MAX_SIZE = 1_000_000_000

HTTP_REQUEST_TYPE = "application/http;msgtype=request"
HTTP_RESPONSE_TYPE = "application/http;msgtype=response"
WARC_FIELDS_TYPE = "application/warc-fields"

# "entity": sha1 of the body after transfer decoding, as the WARC spec defines
# the payload (iipc/warc-specifications#22). "stored": sha1 of the body bytes as
# stored, which is what warcio computes and `warcio check` verifies; the two
# differ only for chunked responses (warcio issues #74/#75).
PAYLOAD_DIGEST_POLICIES = ("entity", "stored")


class WarcWriteError(RuntimeError):
    """The archive cannot be written: bad directory, full disk, or an earlier failure."""


class RevisitProfile(str, Enum):
    """WARC 1.1 revisit profiles (WARC-Profile values)."""

    IDENTICAL_PAYLOAD_DIGEST = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange as captured off the wire.

    `response_block_body` is the body as sent (still chunked, still gzip/br);
    `payload` is that body after transfer decoding only. `exact` is False when
    the heads were rebuilt from parsed headers instead of teed.
    """

    url: str
    request_head: bytes
    request_body: bytes
    response_head: bytes
    response_block_body: bytes
    payload: bytes
    ip_address: str | None
    fetched_at: datetime
    exact: bool = True
    # 1xx heads (e.g. 103 Early Hints) received before the final response.
    interim_heads: tuple[bytes, ...] = ()
    # WARC-Truncated reason when the body is known to be incomplete.
    truncated: str | None = None

    def __reduce_ex__(self, protocol):
        # Pickled on the crawler's event loop for the writer process: the fields as one tuple
        # (C code) instead of the dataclass's generic __getstate__ (Python, measured 7.5 vs
        # 2.8 µs a page). From protocol 5 on, large bodies go as PickleBuffers, which a pickler
        # with a buffer_callback leaves out of band (archive/warc/process.py sends them as
        # they are) and any other pickler writes in band; one buffer when payload is the block.
        fields = _exchange_fields(self)
        if protocol < 5 or len(self.response_block_body) < _OUT_OF_BAND_BYTES:
            return (Exchange, fields)
        block = _out_of_band(self.response_block_body)
        # An out-of-band buffer is not memoised: "payload is the block" goes as None.
        payload = None if self.payload is self.response_block_body else _out_of_band(self.payload)
        return (_exchange_sharing_body, fields[:4] + (block, payload) + fields[6:])


_exchange_fields = attrgetter(*(f.name for f in fields(Exchange)))
_OUT_OF_BAND_BYTES = 4096  # smaller bodies are cheaper inside the pickle than as a buffer of their own


def _out_of_band(body: bytes) -> bytes | pickle.PickleBuffer:
    return pickle.PickleBuffer(body) if len(body) >= _OUT_OF_BAND_BYTES else body


def _exchange_sharing_body(url, request_head, request_body, response_head, block, payload, *rest) -> Exchange:
    """Unpickles `Exchange.__reduce_ex__`'s out-of-band form (payload None: the block itself)."""
    return Exchange(url, request_head, request_body, response_head, block, block if payload is None else payload,
                    *rest)


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """Where a record landed: enough for a CDX line or a manifest pointer."""

    warc_file: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None = None

    def __reduce__(self):
        # One per page comes back from the writer process: as cheap to unpickle as a tuple.
        return (RecordLocation, _location_fields(self))


_location_fields = attrgetter(*(f.name for f in fields(RecordLocation)))


@dataclass(frozen=True, slots=True)
class WarcInfo:
    """What each file's warcinfo record says about the crawl that wrote it."""

    software: str = SOFTWARE
    hostname: str = field(default_factory=socket.gethostname)
    crawl_id: str | None = None
    robots: str | None = None  # e.g. "obey" or "ignore"
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class WarcRecord:
    """One WARC record: named fields in order (Content-Length included) and its block."""

    headers: tuple[tuple[str, str], ...]
    block: tuple[bytes, ...]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def record_id(self) -> str:
        return self.header("WARC-Record-ID") or ""

    @property
    def rec_type(self) -> str:
        return self.header("WARC-Type") or ""

    def to_bytes(self) -> bytes:
        lines = "".join(f"{name}: {value}\r\n" for name, value in self.headers)
        return b"".join((f"WARC/1.1\r\n{lines}\r\n".encode("utf-8"), *self.block, b"\r\n\r\n"))


# --- small pure helpers ---------------------------------------------------------


def warc_digest(*parts: bytes) -> str:
    """`sha1:BASE32` over the concatenated parts, the form WARC digests take."""
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    """WARC 1.1 date with microseconds; naive datetimes are refused to keep UTC honest."""
    if moment.tzinfo is None:
        raise ValueError("WARC dates need an aware datetime (UTC)")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Record ids from a generator seeded from os.urandom (and re-seeded in forked children), not
# uuid.uuid4(): its os.urandom call per record is a syscall that lets other threads take the GIL
# from the reactor thread, measured at ~30 µs a page in a crawl. Ids need to be unique, not secret.
_record_ids = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_record_ids.seed)


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))  # version and variant bits
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


def new_record_id() -> str:
    """`<urn:uuid:…>` of a random (version 4) UUID, as `uuid.uuid4()` would format it, in a third
    of the time (one per page on the crawler's event loop)."""
    h = "%032x" % (_record_ids.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET)
    return f"<urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}>"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _fields_block(fields: Iterable[tuple[str, str]]) -> bytes:
    return "".join(f"{name}: {value}\r\n" for name, value in fields).encode("utf-8")


def _checked(value: str) -> str:
    # A CR or LF in a named field would let a URL forge WARC headers.
    if "\r" in value or "\n" in value:
        raise ValueError(f"line break in WARC field value: {value!r}")
    return value


# --- building records -----------------------------------------------------------


class RecordBuilder:
    """Turns exchanges and notes into `WarcRecord`s; ids and the clock are injectable."""

    def __init__(
        self,
        *,
        payload_digest: str = "entity",
        make_record_id: Callable[[], str] = new_record_id,
        clock: Callable[[], datetime] = utc_now,
    ):
        if payload_digest not in PAYLOAD_DIGEST_POLICIES:
            raise ValueError(f"payload_digest must be one of {PAYLOAD_DIGEST_POLICIES}")
        self.payload_digest_policy = payload_digest
        self.make_record_id = make_record_id
        self.clock = clock

    def payload_digest(self, exchange: Exchange) -> str:
        """The WARC-Payload-Digest this builder gives the exchange's response."""
        if self.payload_digest_policy == "stored":
            return warc_digest(exchange.response_block_body)
        return warc_digest(exchange.payload)

    def _record(
        self,
        rec_type: str,
        record_id: str,
        date: datetime,
        fields: Iterable[tuple[str, str | None]],
        content_type: str,
        block: tuple[bytes, ...],
        *,
        payload_digest: str | None = None,
        warcinfo_id: str | None = None,
    ) -> WarcRecord:
        headers: list[tuple[str, str]] = [
            ("WARC-Type", rec_type),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", warc_date(date)),
        ]
        headers += [(name, _checked(value)) for name, value in fields if value is not None]
        if warcinfo_id:
            headers.append(("WARC-Warcinfo-ID", warcinfo_id))
        if payload_digest:
            headers.append(("WARC-Payload-Digest", payload_digest))
        headers.append(("WARC-Block-Digest", warc_digest(*block)))
        headers.append(("Content-Type", content_type))
        headers.append(("Content-Length", str(sum(map(len, block)))))
        return WarcRecord(tuple(headers), block)

    def warcinfo(self, info: WarcInfo, filename: str, *, record_id: str | None = None) -> WarcRecord:
        fields = [
            ("software", info.software),
            ("format", WARC_FORMAT),
            ("conformsTo", WARC_CONFORMS_TO),
            ("hostname", info.hostname),
        ]
        if info.crawl_id:
            fields.append(("isPartOf", info.crawl_id))
        if info.robots:
            fields.append(("robots", info.robots))
        fields += list(info.extra)
        return self._record(
            "warcinfo",
            record_id or self.make_record_id(),
            self.clock(),
            [("WARC-Filename", filename)],
            WARC_FIELDS_TYPE,
            (_fields_block(fields),),
        )

    def request(
        self, exchange: Exchange, *, record_id: str, concurrent_to: str, warcinfo_id: str | None = None
    ) -> WarcRecord:
        return self._record(
            "request",
            record_id,
            exchange.fetched_at,
            [
                ("WARC-Target-URI", exchange.url),
                ("WARC-IP-Address", exchange.ip_address),
                ("WARC-Concurrent-To", concurrent_to),
            ],
            HTTP_REQUEST_TYPE,
            (exchange.request_head, exchange.request_body),
            payload_digest=warc_digest(exchange.request_body),
            warcinfo_id=warcinfo_id,
        )

    def response(self, exchange: Exchange, *, record_id: str, warcinfo_id: str | None = None) -> WarcRecord:
        return self._record(
            "response",
            record_id,
            exchange.fetched_at,
            [
                ("WARC-Target-URI", exchange.url),
                ("WARC-IP-Address", exchange.ip_address),
                ("WARC-Truncated", exchange.truncated),
            ],
            HTTP_RESPONSE_TYPE,
            (exchange.response_head, exchange.response_block_body),
            payload_digest=self.payload_digest(exchange),
            warcinfo_id=warcinfo_id,
        )

    def revisit(
        self,
        exchange: Exchange,
        *,
        record_id: str,
        profile: RevisitProfile,
        refers_to_uri: str,
        refers_to_date: datetime | str,
        refers_to_record_id: str | None = None,
        warcinfo_id: str | None = None,
    ) -> WarcRecord:
        """A revisit: the response head without the repeated body (identical payload), or
        the whole small 304 response (server not modified)."""
        profile = RevisitProfile(profile)
        if profile is RevisitProfile.IDENTICAL_PAYLOAD_DIGEST:
            block = (exchange.response_head,)
            payload_digest = self.payload_digest(exchange)
        else:
            block = (exchange.response_head, exchange.response_block_body)
            payload_digest = None
        if isinstance(refers_to_date, datetime):
            refers_to_date = warc_date(refers_to_date)
        return self._record(
            "revisit",
            record_id,
            exchange.fetched_at,
            [
                ("WARC-Target-URI", exchange.url),
                ("WARC-IP-Address", exchange.ip_address),
                ("WARC-Profile", profile.value),
                ("WARC-Refers-To-Target-URI", refers_to_uri),
                ("WARC-Refers-To-Date", refers_to_date),
                ("WARC-Refers-To", refers_to_record_id),
            ],
            HTTP_RESPONSE_TYPE,
            block,
            payload_digest=payload_digest,
            warcinfo_id=warcinfo_id,
        )

    def metadata(
        self,
        target_uri: str,
        *,
        record_id: str,
        date: datetime,
        fields: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        block: bytes | None = None,
        content_type: str = WARC_FIELDS_TYPE,
        concurrent_to: str | None = None,
        warcinfo_id: str | None = None,
    ) -> WarcRecord:
        """A note about a capture: `fields` as warc-fields (outlinks, limits) or a raw `block`."""
        if (fields is None) == (block is None):
            raise ValueError("give exactly one of fields or block")
        if fields is not None:
            pairs = fields.items() if isinstance(fields, Mapping) else fields
            block = _fields_block((name, _checked(value)) for name, value in pairs)
        return self._record(
            "metadata",
            record_id,
            date,
            [("WARC-Target-URI", target_uri), ("WARC-Concurrent-To", concurrent_to)],
            content_type,
            (block,),
            warcinfo_id=warcinfo_id,
        )

    def exchange_records(
        self, exchange: Exchange, *, response_id: str, warcinfo_id: str | None = None
    ) -> list[WarcRecord]:
        """Request and response, plus metadata for 1xx heads and rebuilt (inexact) heads."""
        records = [
            self.request(
                exchange, record_id=self.make_record_id(), concurrent_to=response_id, warcinfo_id=warcinfo_id
            ),
            self.response(exchange, record_id=response_id, warcinfo_id=warcinfo_id),
        ]
        records += self._capture_notes(exchange, response_id, warcinfo_id)
        return records

    def revisit_records(
        self, exchange: Exchange, *, revisit_id: str, warcinfo_id: str | None = None, **refers_to
    ) -> list[WarcRecord]:
        records = [
            self.request(
                exchange, record_id=self.make_record_id(), concurrent_to=revisit_id, warcinfo_id=warcinfo_id
            ),
            self.revisit(exchange, record_id=revisit_id, warcinfo_id=warcinfo_id, **refers_to),
        ]
        records += self._capture_notes(exchange, revisit_id, warcinfo_id)
        return records

    def _capture_notes(self, exchange: Exchange, response_id: str, warcinfo_id: str | None) -> list[WarcRecord]:
        notes = []
        if exchange.interim_heads:
            # Verbatim, each a complete bodiless HTTP response, as they came before the final one.
            notes.append(
                self.metadata(
                    exchange.url,
                    record_id=self.make_record_id(),
                    date=exchange.fetched_at,
                    block=b"".join(exchange.interim_heads),
                    content_type=HTTP_RESPONSE_TYPE,
                    concurrent_to=response_id,
                    warcinfo_id=warcinfo_id,
                )
            )
        if not exchange.exact:
            notes.append(
                self.metadata(
                    exchange.url,
                    record_id=self.make_record_id(),
                    date=exchange.fetched_at,
                    fields=[("capture-limitation", "HTTP heads rebuilt from parsed headers; not byte-exact")],
                    concurrent_to=response_id,
                    warcinfo_id=warcinfo_id,
                )
            )
        return notes


# --- writing records ------------------------------------------------------------


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


@dataclass(slots=True)
class _Job:
    build: Callable[[str | None], list[WarcRecord]]  # warcinfo id -> records
    future: RecordFuture


_STOP = object()
_BATCH = 32  # jobs taken per wake-up of the writer thread


class _OpenWarcFile:
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


def _safe_name_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", text) or "unknown"


class _WriterBase:
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


class WarcWriter(_WriterBase):
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
        self.directory = Path(directory)
        # fsync each batch before its futures resolve (see _settle_durably); off only for benchmarks
        # that measure the rest, and for tests of other things.
        self.durable = durable
        # Called with each finished file's final path (e.g. to index it); never for abandoned files.
        self.on_file_closed = on_file_closed
        self.info = info or WarcInfo()
        self.prefix = prefix
        self.max_size = max_size
        self.builder = builder or RecordBuilder()
        self.compress_level = compress_level
        self._host = _safe_name_part(self.info.hostname)
        self._pid = os.getpid()
        self._serial = 0
        self._current: _OpenWarcFile | None = None
        self._stats = WriterStats()
        self._error: WarcWriteError | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._check_directory()
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
        _check_exchange(exchange)
        response_id = record_id or self.builder.make_record_id()
        return self._submit(
            response_id,
            lambda warcinfo_id: self.builder.exchange_records(
                exchange, response_id=response_id, warcinfo_id=warcinfo_id
            ),
        )

    def write_revisit(
        self,
        exchange: Exchange,
        *,
        profile: RevisitProfile,
        refers_to_uri: str,
        refers_to_date: datetime | str,
        refers_to_record_id: str | None = None,
        record_id: str | None = None,
    ) -> RecordFuture:
        """Queue request + revisit records; the future gives the revisit's location."""
        _check_exchange(exchange)
        revisit_id = record_id or self.builder.make_record_id()
        return self._submit(
            revisit_id,
            lambda warcinfo_id: self.builder.revisit_records(
                exchange,
                revisit_id=revisit_id,
                warcinfo_id=warcinfo_id,
                profile=profile,
                refers_to_uri=refers_to_uri,
                refers_to_date=refers_to_date,
                refers_to_record_id=refers_to_record_id,
            ),
        )

    def write_metadata(
        self,
        target_uri: str,
        fields: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        concurrent_to: str | None = None,
        date: datetime | None = None,
        record_id: str | None = None,
    ) -> RecordFuture:
        """Queue a warc-fields metadata record (outlinks, capture notes) about `target_uri`."""
        record_id = record_id or self.builder.make_record_id()
        fields = list(fields.items() if isinstance(fields, Mapping) else fields)
        date = date or self.builder.clock()
        return self._submit(
            record_id,
            lambda warcinfo_id: [
                self.builder.metadata(
                    target_uri,
                    record_id=record_id,
                    date=date,
                    fields=fields,
                    concurrent_to=concurrent_to,
                    warcinfo_id=warcinfo_id,
                )
            ],
        )

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

    def _submit(self, record_id: str, build: Callable[[str | None], list[WarcRecord]]) -> RecordFuture:
        future = RecordFuture(record_id)
        with self._lock:
            self._refuse_if_unusable()
            # Under the lock so close() cannot slip its stop marker in front of this job.
            self._queue.put(_Job(build, future))
        return future

    def _check_directory(self) -> None:
        try:
            ensure_writable_dir(self.directory)
        except OSError as exc:
            raise WarcWriteError(f"WARC directory {self.directory} is not writable: {exc}") from exc

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
            written: list[tuple[RecordFuture, RecordLocation]] = []
            for job in batch:
                if job is _STOP:
                    self._settle_durably(written)
                    self._finish_current()
                    return
                self._handle(job, written)
            self._settle_durably(written)

    def _settle_durably(self, written: list[tuple[RecordFuture, RecordLocation]]) -> None:
        """Resolve the batch's futures once its bytes are on disk (fsync): the crash-safety invariant.

        Crawl state and corpus record a page only when its future resolves, so they can never
        point at a record a crash (even a power cut) could still take away. One fsync per batch."""
        if not written:
            return
        if self.durable and self._current is not None and self._error is None:
            try:
                self._current.sync()
            except OSError as exc:
                self._fail(exc, None)
        for future, location in written:
            if self._error is not None:
                _settle(future, error=self._error)
            else:
                _settle(future, result=location)
        written.clear()

    def _handle(self, job: _Job, written: list[tuple[RecordFuture, RecordLocation]]) -> None:
        if self._error is not None:
            _settle(job.future, error=self._error)
            return
        try:
            current = self._current or self._start_file()
            records = job.build(current.warcinfo_id)
        except OSError as exc:
            self._fail(exc, job)
            return
        except Exception as exc:  # a bad record fails its own future, not the archive
            _settle(job.future, error=exc)
            return
        try:
            location = self._write_records(current, records, job.future.record_id)
        except Exception as exc:  # disk full, I/O error: the file is now suspect
            self._fail(exc, job)
        else:
            written.append((job.future, location))

    def _fail(self, exc: Exception, job: _Job | None) -> None:
        where = self._current.open_path if self._current else self.directory
        self._error = WarcWriteError(f"writing to {where} failed: {exc!r}")
        self._error.__cause__ = exc
        logger.error("WARC write failed; archiving stops: %s", self._error)
        if job is not None:
            _settle(job.future, error=self._error)

    def _write_records(self, current: _OpenWarcFile, records: list[WarcRecord], wanted_id: str) -> RecordLocation:
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
        if current.size >= self.max_size:
            self._finish_current()
        return location

    def _start_file(self) -> _OpenWarcFile:
        while True:
            name = self._next_name()
            try:
                current = _OpenWarcFile(self.directory, name)
            except FileExistsError:
                continue
            if current.final_path.exists():  # an earlier run finished this name
                current.abandon()
                current.open_path.unlink()
                continue
            break
        self._current = current
        self._stats.files += 1
        warcinfo = self.builder.warcinfo(self.info, name)
        current.warcinfo_id = warcinfo.record_id
        member = self._gzip_member(warcinfo)
        current.write(member)
        self._stats.records += 1
        self._stats.bytes += len(member)
        return current

    def _next_name(self) -> str:
        moment = self.builder.clock().astimezone(timezone.utc)
        stamp = moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"
        name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self._host}-{self._pid}.warc.gz"
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
        # one zlib call, because each call releases and re-takes the GIL.
        level = 0 if _compressed_body(record) else self.compress_level
        return zlib.compress(record.to_bytes(), level, wbits=31)


# Response bodies deflate cannot shrink (JPEG, PNG, WOFF2, video, ...: page requisites) are stored
# in their gzip member as they are (level 0): deflating them cost the writer ~13 ms a MB for nothing.
_COMPRESSED_TYPE = re.compile(rb"^content-type:[ \t]*(?:image/(?:jpeg|png|gif|webp|avif)|font/woff2?|video/|audio/"
                              rb"|application/(?:font-woff2?|zip|gzip|x-gzip)\b)", re.IGNORECASE | re.MULTILINE)


def _compressed_body(record: WarcRecord) -> bool:
    return (len(record.block) == 2 and len(record.block[1]) >= 4096 and record.rec_type == "response"
            and _COMPRESSED_TYPE.search(record.block[0]) is not None)


def _check_exchange(exchange: Exchange) -> None:
    """Refuse bad input in the caller's thread, where the mistake can be seen."""
    _checked(exchange.url)
    if exchange.fetched_at.tzinfo is None:
        warc_date(exchange.fetched_at)  # raises the error, without formatting every good date


def _settle(future: Future, *, result=None, error: BaseException | None = None) -> None:
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:  # the caller cancelled it; the record is written regardless
        pass
