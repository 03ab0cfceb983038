"""Serve archived HTTP responses by URL, as they came off the wire: the replay lookup.

`ArchiveReplay(DIR).lookup(url)` finds the URL's capture in the directory's
CDXJ index (latest, or nearest to a chosen time) and reads that one record: a
binary search and one seek, no scan. The body is returned as stored, only
de-chunked (the client's HTTP parser did that live), still gzip/br encoded, so
a crawler's decompression runs on it as it did live. A stored 301 stays a 301.
A revisit record resolves to the payload of the response it refers to: with
its own status and headers (identical payload), or the original's entirely
(server not modified: the 304 answered a conditional request replay does not
make).

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

from warcio.archiveiterator import ArchiveIterator

from archive.warc.decompress import DEFAULT_MAX_BODY, BodyTooLarge, read_bounded
from archive.warc.cdxj import Capture, CdxjIndex, ensure_directory_index, open_warc_files, timestamp14, warc_files
from archive.warc.reader import WarcFormatError, transfer_decode
from archive.warc.exchange import RecordLocation

NOT_MODIFIED_PROFILE_SUFFIX = "/revisit/server-not-modified"


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


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """What one seek into a WARC file yields: named fields, the parsed HTTP head, the body de-chunked."""

    fields: dict[str, str]
    protocol: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


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
        original_capture = self._original_of(capture, record)
        if original_capture is None:
            raise WarcFormatError(f"revisit of {capture.url} in {capture.filename}@{capture.offset}: "
                                  f"the response it refers to is not in the archive")
        original = self._read(original_capture)
        profile = record.fields.get("WARC-Profile", "")
        head = original if profile.endswith(NOT_MODIFIED_PROFILE_SUFFIX) or record.status == 304 else record
        return _stored(capture, record, head, original, location,
                       revisit_of=_location(original_capture, original))

    def _original_of(self, revisit: Capture, record: StoredRecord) -> Capture | None:
        """The response a revisit stands for: by WARC-Refers-To-Target-URI and date, then digest."""
        uri = record.fields.get("WARC-Refers-To-Target-URI") or revisit.url
        when = record.fields.get("WARC-Refers-To-Date")
        refers_id = record.fields.get("WARC-Refers-To")
        candidates = [c for c in self.index.captures(uri) if not c.is_revisit]
        if revisit.digest:
            same_payload = [c for c in candidates if c.digest == revisit.digest]
            candidates = same_payload or candidates
        if not candidates:
            return None
        if refers_id:
            for candidate in candidates:
                if self._record_id(candidate) == refers_id:
                    return candidate
        target = timestamp14(when) if when else revisit.timestamp
        at_or_before = [c for c in candidates if c.timestamp <= target] or candidates
        return min(at_or_before, key=lambda c: (abs(int(c.timestamp) - int(target)), c.order))

    def _record_id(self, capture: Capture) -> str | None:
        return self._read(capture).fields.get("WARC-Record-ID")

    def _read(self, capture: Capture) -> StoredRecord:
        return read_record_at(self.index.warc_path(capture), capture.offset, self.max_body)


def read_record_at(path: Path, offset: int, max_body: int = DEFAULT_MAX_BODY) -> StoredRecord:
    """One response/revisit record: named fields, parsed HTTP head, body de-chunked only.
    Raises BodyTooLarge for a stored body over `max_body` bytes (0: no bound)."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh)), None)
            if record is None or record.http_headers is None:
                raise WarcFormatError(f"{path}@{offset}: no HTTP response record there")
            stored = read_bounded(record.raw_stream, max_body)
            fields = dict(record.rec_headers.headers)
            http = record.http_headers
    except (WarcFormatError, BodyTooLarge):
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise WarcFormatError(f"{path}@{offset}: cannot read the record ({exc})") from None
    headers = tuple((str(k), str(v)) for k, v in http.headers)
    if "chunked" in (_header(headers, "Transfer-Encoding") or "").lower():
        body, _problem = transfer_decode(stored)
        # The client never sees the chunking: Twisted drops this header once it de-chunks.
        headers = tuple((k, v) for k, v in headers if k.lower() != "transfer-encoding")
    else:
        body = stored
    try:
        status = int(http.get_statuscode())
    except (TypeError, ValueError):
        status = 0
    protocol = (http.protocol or "HTTP/1.1").split(" ", 1)[0]
    return StoredRecord(fields, protocol, status, headers, body)


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


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)
