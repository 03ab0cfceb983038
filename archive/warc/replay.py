"""Serve archived HTTP responses by URL, as they came off the wire: the replay lookup.

`ArchiveReplay(DIR).lookup(url)` finds the URL's capture in the directory's
CDXJ index (latest, or nearest to a chosen time) and reads that one record: a
binary search and one seek, no scan. The body is returned as stored, only
de-chunked (the client's HTTP parser did that live), still gzip/br encoded, so
a crawler's decompression runs on it as it did live. A stored 301 stays a 301.
A revisit record resolves to the payload of the response it refers to
(archive/warc/revisits.py, the resolver the WARC walk uses too): with its own
status and headers (identical payload), or the original's entirely (server not
modified: the 304 answered a conditional request replay does not make).
Records are read by archive/warc/reader.py.

A record whose stored body is over `max_body` bytes (32 MB by default) raises
`BodyTooLarge` after reading no more than that: decoding is the client's
business, and the crawler bounds it as it does live (crawler/downloadermiddlewares/pagesize.py).

No Scrapy here; `crawler/downloadhandlers/replay.py` is the download-handler glue.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from archive.warc.cdxj import ensure_directory_index, open_warc_files, warc_files

from archive.warc.cdxj_lookup import Capture, CdxjIndex, timestamp14
from archive.warc.httpcodec import DEFAULT_MAX_BODY
from archive.warc.exchange import RecordLocation
from archive.warc.reader import StoredRecord, WarcFormatError, read_record_at, read_record_fields
from archive.warc.revisits import Original, OriginalIndex, RevisitRef


class ArchiveNotFound(ValueError):
    """The replay directory is missing or holds no closed WARC file."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """An archived response ready to hand to an HTTP client in place of the network."""

    url: str  # WARC-Target-URI of the capture served
    status: int
    protocol: str  # e.g. "HTTP/1.1"
    headers: tuple[tuple[str, str], ...]  # as stored, in order; Transfer-Encoding dropped once de-chunked
    body: bytes  # de-chunked, still content-encoded
    location: RecordLocation  # the record served (the revisit itself, for a revisit)
    fetched_at: str = ""  # WARC-Date of that record
    ip_address: str | None = None
    revisit_of: RecordLocation | None = None  # where the payload came from, for a revisit


def check_archive_dir(directory: str | os.PathLike) -> Path:
    """The directory, or `ArchiveNotFound` with a message a user can act on."""
    path = Path(directory)
    if not path.is_dir():
        raise ArchiveNotFound(f"archive directory {str(path)!r} does not exist")
    if not warc_files(path):
        still_open = open_warc_files(path)
        raise ArchiveNotFound(
            f"no closed WARC file (*.warc.gz) under {str(path)!r}"
            + (f"; it holds {len(still_open)} *.warc.gz.open file(s), which a running crawl is writing"
               f" or a killed one left (then `python -m archive repair {path}` closes them)" if still_open else ""))
    return path


class ArchiveReplay:
    """Lookups of archived responses in one directory of WARC files."""

    def __init__(self, directory: str | os.PathLike, *, at: datetime | str | None = None,
                 max_body: int = DEFAULT_MAX_BODY):
        self.directory = check_archive_dir(directory)
        self.index = CdxjIndex(ensure_directory_index(self.directory))
        self.at = timestamp14(at) if at else None
        self.max_body = max_body

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> "ArchiveReplay":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def find(self, url: str) -> Capture | None:
        """The capture that replay serves for `url`: the latest, or the nearest to `at`."""
        return self.index.nearest(url, self.at) if self.at else self.index.latest(url)

    def lookup(self, url: str) -> StoredResponse | None:
        """The archived response for `url`, or None when the archive has no capture of it."""
        capture = self.find(url)
        if capture is None:
            return None
        record = self._read(capture)
        location = _location(capture, record)
        if not capture.is_revisit:
            return _stored(capture, record, record, record, location)
        ref = RevisitRef.from_fields(record.fields.get)
        original_capture = self._original_of(capture, ref)
        if original_capture is None:
            raise WarcFormatError(f"revisit of {capture.url} in {capture.filename}@{capture.offset}: "
                                  f"the response it refers to is not in the archive")
        original = self._read(original_capture)
        head = original if ref.serves_original_head(record.status) else record
        return _stored(capture, record, head, original, location,
                       revisit_of=_location(original_capture, original))

    def _original_of(self, revisit: Capture, ref: RevisitRef) -> Capture | None:
        """The response capture a revisit stands for (archive/warc/revisits.py); the nearest one
        before it when none is named, since replay must answer with something."""
        candidates = [c for c in self.index.captures(ref.target_uri) if not c.is_revisit]
        originals = OriginalIndex()
        for candidate in candidates:
            fields = read_record_fields(self.index.warc_path(candidate), candidate.offset)
            originals.add(Original(fields.get("WARC-Record-ID", ""), candidate.url, fields.get("WARC-Date", ""),
                                   fields.get("WARC-Payload-Digest"), candidate))
        found = originals.resolve(ref)
        if found is not None:
            return found.where
        same_payload = [c for c in candidates if revisit.digest and c.digest == revisit.digest]
        candidates = same_payload or candidates
        if not candidates:
            return None
        target = timestamp14(ref.refers_date) if ref.refers_date else revisit.timestamp
        at_or_before = [c for c in candidates if c.timestamp <= target] or candidates
        return min(at_or_before, key=lambda c: (abs(int(c.timestamp) - int(target)), c.order))

    def _read(self, capture: Capture) -> StoredRecord:
        return read_record_at(self.index.warc_path(capture), capture.offset, self.max_body)


def stored_response_at(path: Path, offset: int, record_id: str, warc_file: str,
                       max_body: int = DEFAULT_MAX_BODY) -> StoredResponse | None:
    """The response record `record_id` at `offset` of `path` (named `warc_file` in pointers), as replay
    serves it; None when that offset holds another record, or a revisit (its payload is elsewhere).
    Raises WarcFormatError when nothing readable is there, BodyTooLarge over `max_body`."""
    record = read_record_at(path, offset, max_body)
    if record.fields.get("WARC-Type") != "response" or record.fields.get("WARC-Record-ID") != record_id:
        return None
    # (length: a CDX line's business, not a corpus pointer's; not known without reading the member again)
    location = RecordLocation(warc_file=warc_file, offset=offset, length=0, record_id=record_id,
                              payload_digest=record.fields.get("WARC-Payload-Digest"))
    return StoredResponse(url=record.fields.get("WARC-Target-URI", ""), status=record.status,
                          protocol=record.protocol, headers=record.headers, body=record.body, location=location,
                          fetched_at=record.fields.get("WARC-Date", ""),
                          ip_address=record.fields.get("WARC-IP-Address"))


def _stored(capture: Capture, own: StoredRecord, head: StoredRecord, payload: StoredRecord, location: RecordLocation,
            revisit_of: RecordLocation | None = None) -> StoredResponse:
    """`own` is the record found, `head` gives status and headers, `payload` the body."""
    return StoredResponse(
        url=capture.url,
        status=head.status,
        protocol=head.protocol,
        headers=head.headers,
        body=payload.body,
        location=location,
        fetched_at=own.fields.get("WARC-Date", ""),
        ip_address=own.fields.get("WARC-IP-Address"),
        revisit_of=revisit_of,
    )


def _location(capture: Capture, record: StoredRecord) -> RecordLocation:
    return RecordLocation(
        warc_file=capture.filename,
        offset=capture.offset,
        length=capture.length,
        record_id=record.fields.get("WARC-Record-ID", ""),
        payload_digest=record.fields.get("WARC-Payload-Digest"),
    )

