"""What reading WARC files yields: archived responses, and a report of what else the walk met.

Made by the record reader (archive/warc/reader.py), used by re-extraction,
replay and the tests. Plain data, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from archive.warc.httpcodec import header_value
from archive.warc.records import parse_warc_date

__all__ = ["CapturedResponse", "ReadProblem", "ReadReport", "StoredRecord", "UnresolvedRevisit"]


@dataclass(frozen=True, slots=True)
class CapturedResponse:
    """One archived HTTP response, its body decoded for reading, and where it lives."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]  # HTTP response headers as stored, in order
    payload: bytes = field(repr=False)  # transfer- and content-decoded body
    charset: str | None  # declared in the Content-Type header
    warc_date: str  # WARC-Date as written
    record_id: str
    warc_file: str  # file name, as manifests and CDXJ lines name it
    path: Path
    offset: int  # of the record's gzip member (or record, uncompressed)
    length: int  # of the record as stored (gzip member)
    record_type: str = "response"  # or "revisit"
    payload_digest: str | None = None
    truncated: str | None = None  # WARC-Truncated, or "length" when the stored block is short
    decode_problem: str | None = None  # set when the body is left (partly) encoded
    too_large: str | None = None  # set (and payload empty) when the body is over the reader's bound
    request_headers: tuple[tuple[str, str], ...] | None = None  # of the concurrent request record
    # A revisit's payload is that of an earlier response record:
    refers_to: str | None = None  # that record's WARC-Record-ID
    refers_to_file: str | None = None
    refers_to_offset: int | None = None

    def header(self, name: str) -> str | None:
        """The first response header called `name` (any case), or None."""
        return header_value(self.headers, name)

    @property
    def content_type(self) -> str | None:
        return self.header("Content-Type")

    @property
    def fetched_at(self) -> datetime:
        """WARC-Date as an aware datetime (UTC)."""
        return parse_warc_date(self.warc_date)

    @property
    def referer(self) -> str | None:
        """The Referer of the request that fetched this page: the page that linked to it."""
        return header_value(self.request_headers or (), "Referer")


@dataclass(frozen=True, slots=True)
class ReadProblem:
    warc_file: str
    offset: int | None
    message: str


@dataclass(frozen=True, slots=True)
class UnresolvedRevisit:
    warc_file: str
    offset: int
    url: str
    refers_to: str | None  # what the revisit names: a record id, or URI @ date


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """What one seek into a WARC file yields for replay: named fields, the parsed HTTP head, the
    body de-chunked only (still content-encoded, as a client would receive it)."""

    fields: dict[str, str]
    protocol: str
    status: int
    headers: tuple[tuple[str, str], ...]  # as stored; Transfer-Encoding dropped once de-chunked
    body: bytes


@dataclass
class ReadReport:
    """What a walk over WARC files met besides the responses it yielded."""

    files: int = 0
    records: int = 0
    responses: int = 0  # yielded, revisits included
    revisits: int = 0  # yielded with their original payload
    unresolved_revisits: list[UnresolvedRevisit] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)  # truncated/damaged files, bad records

    @property
    def clean(self) -> bool:
        return not self.problems and not self.unresolved_revisits
