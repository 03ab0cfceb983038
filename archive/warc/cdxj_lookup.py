"""Captures in a CDXJ index, and URL lookups by binary search over a sorted index file.

Lines are ``SURT-KEY TIMESTAMP {json}`` sorted by line (archive/warc/cdxj.py builds
them with `cdxj-indexer`), so a lookup is a binary search over the sorted file and
never opens a WARC.
"""
from __future__ import annotations

import json
import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import surt

from archive.vietnam_time import parse_iso

REVISIT_MIME = "warc/revisit"


@dataclass(frozen=True, slots=True)
class Capture:
    """One index line: where a capture of a URL lives, and what it is."""

    urlkey: str
    timestamp: str  # 14 digits, UTC
    url: str
    mime: str
    status: int | None
    digest: str | None
    length: int
    offset: int
    filename: str  # relative to the index's directory

    @property
    def is_revisit(self) -> bool:
        return self.mime == REVISIT_MIME

    @property
    def fetched_at(self) -> datetime:
        return datetime.strptime(self.timestamp[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)

    @property
    def order(self) -> tuple[str, str, int]:
        # File names start with the writer's UTC time and offsets grow: a total order in time.
        return (self.timestamp, self.filename, self.offset)

    @classmethod
    def from_line(cls, line: str) -> "Capture":
        urlkey, timestamp, data = line.rstrip("\n").split(" ", 2)
        fields = json.loads(data)
        status = fields.get("status")
        return cls(
            urlkey=urlkey,
            timestamp=timestamp,
            url=fields.get("url", ""),
            mime=fields.get("mime", ""),
            status=int(status) if status and status.isdigit() else None,
            digest=fields.get("digest"),
            length=int(fields.get("length", 0)),
            offset=int(fields.get("offset", 0)),
            filename=fields.get("filename", ""),
        )


def url_key(url: str) -> str:
    """The SURT key pywb sorts and looks up by (scheme, `www.`, query order folded)."""
    try:
        return surt.surt(url)
    except Exception:  # same fallback as cdxj-indexer: index the raw URL rather than nothing
        return url


def timestamp14(moment: datetime | str) -> str:
    """`YYYYMMDDhhmmss` in UTC from an aware datetime or a (possibly short) digit string."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("timestamps need an aware datetime (UTC)")
        return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")
    if "T" in moment:  # ISO 8601 such as WARC-Date, possibly with fractions of a second
        parsed = parse_iso(moment, timezone.utc)
        if parsed is None:
            raise ValueError(f"not a timestamp: {moment!r} (want YYYY[MMDDhhmmss] or ISO 8601)")
        return timestamp14(parsed)
    digits = "".join(ch for ch in moment if ch.isdigit())
    if not 4 <= len(digits) <= 14:
        raise ValueError(f"not a timestamp: {moment!r} (want YYYY[MMDDhhmmss] or ISO 8601)")
    # A short prefix means the start of that period, as in Wayback URLs.
    return (digits + "0101000000"[len(digits) - 4:])[:14] if len(digits) < 14 else digits


class CdxjIndex:
    """A sorted CDXJ file opened for lookups: binary search over a memory map.

    Each lookup costs O(log size) line reads, whatever the index size, so an
    index of millions of captures needs no database and no load time.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.directory = self.path.parent
        self._file = self.path.open("rb")
        size = os.fstat(self._file.fileno()).st_size
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if size else b""

    def close(self) -> None:
        if isinstance(self._map, mmap.mmap):
            self._map.close()
        self._file.close()

    def __enter__(self) -> "CdxjIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def warc_path(self, capture: Capture) -> Path:
        return self.directory / capture.filename

    def captures(self, url: str) -> list[Capture]:
        """Every capture under the URL's SURT key, oldest first."""
        key = url_key(url).encode("utf-8")
        found = [Capture.from_line(line.decode("utf-8")) for line in self._lines_with_key(key)]
        return sorted(found, key=lambda c: c.order)

    def latest(self, url: str) -> Capture | None:
        """The newest capture of `url`, preferring the exact URL over SURT look-alikes
        (http vs https, `www.`, parameter order)."""
        return _pick(self.captures(url), url, key=lambda c: c.order)

    def nearest(self, url: str, when: datetime | str) -> Capture | None:
        """The capture closest in time to `when` (the earlier one on a tie), exact URL first."""
        target = _seconds(timestamp14(when))
        return _pick(self.captures(url), url,
                     key=lambda c: (-abs(_seconds(c.timestamp) - target), -_seconds(c.timestamp), c.order))

    def __iter__(self) -> Iterator[Capture]:
        for line in self._lines_from(0):
            yield Capture.from_line(line.decode("utf-8"))

    # The file is sorted by whole line; keys hold no byte below space, so that is key order.
    def _lines_with_key(self, key: bytes) -> Iterator[bytes]:
        prefix = key + b" "
        for line in self._lines_from(self._first_line_not_before(key)):
            if not line.startswith(prefix):
                return
            yield line

    def _lines_from(self, position: int) -> Iterator[bytes]:
        data = self._map
        while position < len(data):
            end = data.find(b"\n", position)
            end = len(data) if end < 0 else end
            if end > position:
                yield data[position:end]
            position = end + 1

    def _first_line_not_before(self, key: bytes) -> int:
        size = len(self._map)
        lo, hi = 0, size
        while lo < hi:
            mid = (lo + hi) // 2
            start = self._line_start(mid)
            if start >= size or self._key_at(start) >= key:
                hi = mid
            else:
                lo = mid + 1
        return self._line_start(lo) if size else 0

    def _line_start(self, position: int) -> int:
        """Start of the first line that begins at or after `position`."""
        if position == 0:
            return 0
        found = self._map.find(b"\n", position - 1)
        return len(self._map) if found < 0 else found + 1

    def _key_at(self, start: int) -> bytes:
        end = self._map.find(b" ", start)
        return self._map[start:end if end >= 0 else len(self._map)]


def _pick(captures: list[Capture], url: str, *, key) -> Capture | None:
    exact = [c for c in captures if c.url == url]
    pool = exact or captures
    return max(pool, key=key) if pool else None


def _seconds(timestamp: str) -> float:
    return datetime.strptime(timestamp[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc).timestamp()


