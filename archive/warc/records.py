"""WARC 1.1 records for captured HTTP exchanges: what a record *is*.

Named fields, block and digests (`RecordBuilder`, `WarcRecord`) are kept
apart from where records are *written* (gzip members, size rotation, the
`.open` suffix, fsync: archive/warc/writer.py), as warcio splits RecordBuilder
from WARCWriter. Records are serialised here rather than through warcio
because warcio rewrites the HTTP head it is given and digests chunked bodies
as stored; warcio is still what reads and checks the files.

Plain library: no Scrapy, no Twisted, no I/O. The crawler hands over
`Exchange`s (archive/warc/exchange.py); a writer turns them into records here.
"""
from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum

from archive.vietnam_time import parse_iso
from archive.warc.exchange import Exchange

SOFTWARE = "vn-news-archiver archive.warc.records/1.0"
WARC_FORMAT = "WARC File Format 1.1"
WARC_CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"

HTTP_REQUEST_TYPE = "application/http;msgtype=request"
HTTP_RESPONSE_TYPE = "application/http;msgtype=response"
WARC_FIELDS_TYPE = "application/warc-fields"

# "entity": sha1 of the body after transfer decoding, as the WARC spec defines
# the payload (iipc/warc-specifications#22). "stored": sha1 of the body bytes as
# stored, which is what warcio computes and `warcio check` verifies; the two
# differ only for chunked responses (warcio issues #74/#75).
PAYLOAD_DIGEST_POLICIES = ("entity", "stored")


class RevisitProfile(str, Enum):
    """WARC 1.1 revisit profiles (WARC-Profile values)."""

    IDENTICAL_PAYLOAD_DIGEST = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


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
        # RecordBuilder puts it second: read there first (the writer asks for each record it writes).
        if len(self.headers) > 1 and self.headers[1][0] == "WARC-Record-ID":
            return self.headers[1][1]
        return self.header("WARC-Record-ID") or ""

    @property
    def rec_type(self) -> str:
        if self.headers and self.headers[0][0] == "WARC-Type":  # first, from RecordBuilder
            return self.headers[0][1]
        return self.header("WARC-Type") or ""

    def to_bytes(self) -> bytes:
        lines = "".join([f"{name}: {value}\r\n" for name, value in self.headers])
        return b"".join((f"WARC/1.1\r\n{lines}\r\n".encode("utf-8"), *self.block, b"\r\n\r\n"))


# --- small pure helpers ---------------------------------------------------------


def warc_digest(*parts: bytes) -> str:
    """`sha1:BASE32` over the concatenated parts, the form WARC digests take."""
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part)
    return "sha1:" + _base32_of_sha1(digest.digest())


# base64.b32encode is Python code in 3.11 (a loop over 5-byte groups): 1.7 µs a digest against 1.1 for
# the 160 bits cut into sixteen 10-bit pairs of letters, and the WARC writer makes four a page's exchange.
_BASE32_PAIRS = [first + second for first in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
                 for second in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"]
_PAIR_SHIFTS = tuple(range(150, -1, -10))


def _base32_of_sha1(digest: bytes) -> str:
    """`base64.b32encode(digest)` of a 20-byte digest (160 bits: 32 letters, no padding)."""
    if len(digest) != 20:
        return base64.b32encode(digest).decode("ascii")
    bits = int.from_bytes(digest, "big")
    return "".join([_BASE32_PAIRS[(bits >> shift) & 0x3FF] for shift in _PAIR_SHIFTS])


_EMPTY_DIGEST = warc_digest()  # the payload digest of every request without a body (GETs)


def warc_date(moment: datetime) -> str:
    """WARC 1.1 date with microseconds; naive datetimes are refused to keep UTC honest."""
    if moment.tzinfo is None:
        raise ValueError("WARC dates need an aware datetime (UTC)")
    return utc_text(moment)


def utc_text(moment: datetime) -> str:
    """`moment` (aware; naive is taken as local time) as `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC, what
    `strftime("%Y-%m-%dT%H:%M:%S.%fZ")` gives: `isoformat` (C, no strftime, ~2 µs less; ~10 calls a
    page on the crawler's event loop) for years from 1000, where %Y has four digits too."""
    moment = moment.astimezone(timezone.utc)
    if moment.year < 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_warc_date(value: str) -> datetime:
    """The inverse of `warc_date` for any writer's WARC-Date (seconds or microseconds, `Z` or an
    offset), as an aware UTC datetime; WARC 1.1 dates are UTC, so one written without a zone is
    read as UTC (not as Vietnam time, parse_iso's default for sites). Raises ValueError on text
    that is not an ISO 8601 time."""
    moment = parse_iso(value, timezone.utc) if value and "T" in value else None
    if moment is None:
        raise ValueError(f"not a WARC-Date: {value!r}")
    return moment.astimezone(timezone.utc)


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
            payload_digest=warc_digest(exchange.request_body) if exchange.request_body else _EMPTY_DIGEST,
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


# Response bodies deflate cannot shrink: of a type compressed already (JPEG, PNG, WOFF2, video, ...:
# page requisites; deflating them cost the writer ~13 ms a MB for nothing), or sent content-encoded
# (gzip, br, ...: most pages). The writer stores them at gzip level 0. Level 1 still took ~4 % off a
# gzip-6 page (docs/performance.md, session 14) for ~0.11 ms of the writer's CPU a page.
_COMPRESSED_BODY = re.compile(rb"^(?:content-type:[ \t]*(?:image/(?:jpeg|png|gif|webp|avif)|font/woff2?|video/|audio/"
                              rb"|application/(?:font-woff2?|zip|gzip|x-gzip)\b)"
                              rb"|content-encoding:[ \t]*(?:x-)?(?:gzip|br|deflate|zstd|compress)\b)",
                              re.IGNORECASE | re.MULTILINE)


def body_is_compressed(record: WarcRecord) -> bool:
    """A response record whose body (4 KB or more) is compressed already: by its type or by a
    content coding."""
    return (len(record.block) == 2 and len(record.block[1]) >= 4096 and record.rec_type == "response"
            and _COMPRESSED_BODY.search(record.block[0]) is not None)


def check_exchange(exchange: Exchange) -> None:
    """Refuse bad input in the caller's thread, where the mistake can be seen."""
    _checked(exchange.url)
    if exchange.fetched_at.tzinfo is None:
        warc_date(exchange.fetched_at)  # raises the error, without formatting every good date
