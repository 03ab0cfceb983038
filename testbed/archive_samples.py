"""Small WARC archives written by our own writer, for index/replay/check/WACZ tests.

`sample_exchange(...)` builds an `Exchange` as the capture handler would
(status line, headers, body optionally gzip-encoded and chunked on the wire);
`write_archive(dir, items)` writes them (and revisits) with `WarcWriter`.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from archive.warc.exchange import Exchange, RecordLocation
from archive.warc.records import RecordBuilder, RevisitProfile
from archive.warc.writer import WarcWriter

FIXTURE_WEB = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "web"


def at(text: str) -> datetime:
    """`2024-01-31T12:00:00` (UTC) → aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def chunk(payload: bytes, size: int = 1000) -> bytes:
    pieces = [payload[i:i + size] for i in range(0, len(payload), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def sample_exchange(url: str, body: bytes = b"<html><body>hello</body></html>", *, status: int = 200,
                    when: datetime | None = None, content_type: str = "text/html; charset=utf-8",
                    gzipped: bool = False, chunked: bool = False, headers: tuple = ()) -> Exchange:
    parts = urlsplit(url)
    payload = gzip.compress(body, mtime=0) if gzipped else body
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Server: sample/1.0"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name}: {value}" for name, value in headers]
    if gzipped:
        lines.append("Content-Encoding: gzip")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        block_body = chunk(payload)
    else:
        lines.append(f"Content-Length: {len(payload)}")
        block_body = payload
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept-Encoding: gzip\r\n\r\n".encode()
    return Exchange(
        url=url,
        request_head=request,
        request_body=b"",
        response_head=("\r\n".join(lines) + "\r\n\r\n").encode(),
        response_block_body=block_body,
        payload=payload,
        ip_address="127.0.0.1",
        fetched_at=when or at("2024-05-01T08:00:00"),
    )


@dataclass(frozen=True)
class Revisit:
    """A revisit of an earlier sample (by index into the items list)."""

    of: int
    exchange: Exchange
    profile: RevisitProfile = RevisitProfile.IDENTICAL_PAYLOAD_DIGEST


def write_archive(directory: Path, items: list, *, prefix: str = "sample", max_size: int = 1_000_000_000,
                  payload_digest: str = "entity") -> list[RecordLocation]:
    """Write exchanges and `Revisit`s in order; returns each item's record location."""
    writer = WarcWriter(directory, prefix=prefix, max_size=max_size,
                        builder=RecordBuilder(payload_digest=payload_digest))
    locations: list[RecordLocation] = []
    try:
        for item in items:
            if isinstance(item, Revisit):
                original = items[item.of]
                original_location = locations[item.of]
                future = writer.write_revisit(
                    item.exchange, profile=item.profile, refers_to_uri=original.url,
                    refers_to_date=original.fetched_at, refers_to_record_id=original_location.record_id)
            else:
                future = writer.write_exchange(item)
            locations.append(future.result(timeout=10))
    finally:
        writer.close()
    return locations


def fixture_page(host_path: str) -> bytes:
    """The bytes of a fixture page, e.g. `nhandan.vn/…-post830202.html`."""
    return (FIXTURE_WEB / host_path).read_bytes()
