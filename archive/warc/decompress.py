"""Undoing Content-Encoding (gzip, deflate, br, zstd) within a size bound, while decoding.

A page of 1 MB on the wire can decompress to 200 MB or 20 GB (a "bomb"), and
such a response may already sit in an archive (ours stores bodies as sent). So
every reader that decodes archived payloads decodes in steps of 64 KiB and
stops with `BodyTooLarge` as soon as the output passes its limit: memory stays
at the limit plus one step, whatever the ratio. `read_bounded` does the same
for a stored block that is itself huge.

No Scrapy; archive/warc/reader.py, archive/extract/article.py, archive/warc/replay.py and
archive/warc/check.py use it.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable
from io import BytesIO

__all__ = ["BodyTooLarge", "DEFAULT_MAX_BODY", "DECODERS", "decompress", "read_bounded"]

# The crawl's DOWNLOAD_MAXSIZE default: news HTML is well under 1 MB.
DEFAULT_MAX_BODY = 32 * 1024 * 1024
_STEP = 64 * 1024


class BodyTooLarge(ValueError):
    """A body (decoded, or as stored) is larger than the reader's limit."""

    def __init__(self, limit: int, what: str = "decoded body"):
        super().__init__(f"too large: {what} over {limit:,} bytes")
        self.limit = limit


class _Output:
    """Decoded pieces, refusing to hold more than `limit` bytes."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.limit and self.size > self.limit:
            self.parts.clear()
            raise BodyTooLarge(self.limit)
        if piece:
            self.parts.append(piece)

    def value(self) -> bytes:
        return b"".join(self.parts)


def decompress(data: bytes, coding: str, limit: int = DEFAULT_MAX_BODY) -> tuple[bytes, str | None]:
    """`(decoded, problem)` for one content coding; problem says when the stream was cut short
    (the decoded part is returned). Raises BodyTooLarge past `limit` (0: no limit), KeyError for
    an unknown coding, and the codec's own error for data that is not in that coding."""
    return DECODERS[coding](data, _Output(limit))


def _zlib_stream(decompressor, data: bytes, out: _Output) -> bytes:
    """Feed `data` through a zlib decompressor in bounded steps; returns the input left after the end."""
    out.add(decompressor.decompress(data, _STEP))
    while decompressor.unconsumed_tail and not decompressor.eof:
        out.add(decompressor.decompress(decompressor.unconsumed_tail, _STEP))
    return decompressor.unused_data


def _gunzip(data: bytes, out: _Output) -> tuple[bytes, str | None]:
    while data:
        decompressor = zlib.decompressobj(wbits=47)  # gzip or zlib header, auto-detected
        rest = _zlib_stream(decompressor, data, out)
        if not decompressor.eof:
            out.add(decompressor.flush())
            return out.value(), "gzip body cut short"
        data = rest.lstrip(b"\x00")  # members may follow; padding may too
    return out.value(), None


def _inflate(data: bytes, out: _Output) -> tuple[bytes, str | None]:
    # "deflate" is meant to be zlib-wrapped, but many servers send raw deflate.
    for wbits in (15, -15):
        decompressor = zlib.decompressobj(wbits=wbits)
        try:
            _zlib_stream(decompressor, data, out)
            out.add(decompressor.flush())
        except zlib.error:
            out.parts.clear()
            out.size = 0
            continue
        return out.value(), None if decompressor.eof else "deflate body cut short"
    raise zlib.error("neither zlib nor raw deflate")


def _unbrotli(data: bytes, out: _Output) -> tuple[bytes, str | None]:
    import brotli

    decompressor = brotli.Decompressor()
    out.add(decompressor.process(data, output_buffer_limit=_STEP))
    while not decompressor.is_finished():
        piece = decompressor.process(b"", output_buffer_limit=_STEP)
        if not piece:
            break
        out.add(piece)
    return out.value(), None if decompressor.is_finished() else "br body cut short"


def _unzstd(data: bytes, out: _Output) -> tuple[bytes, str | None]:
    import zstandard

    # The first frame, as decompressobj() decodes it, read in bounded steps (no content size needed).
    reader = zstandard.ZstdDecompressor().stream_reader(BytesIO(data))
    while piece := reader.read(_STEP):
        out.add(piece)
    # The stream reader does not say whether the frame ended; the output is known to be within
    # the limit now, so decoding it once more in one call is bounded too.
    complete = zstandard.ZstdDecompressor().decompressobj()
    complete.decompress(data)
    return out.value(), None if complete.eof else "zstd body cut short"


DECODERS: dict[str, Callable[[bytes, _Output], tuple[bytes, str | None]]] = {
    "gzip": _gunzip, "x-gzip": _gunzip, "deflate": _inflate, "br": _unbrotli, "zstd": _unzstd,
}


def read_bounded(stream, limit: int = DEFAULT_MAX_BODY, what: str = "stored body") -> bytes:
    """All of `stream`, unless it holds more than `limit` bytes (0: no limit): then the rest is
    read and dropped (so a record iterator can go on to the next record) and BodyTooLarge raised."""
    out = _Output(limit)
    try:
        while piece := stream.read(_STEP):
            out.add(piece)
    except BodyTooLarge:
        while stream.read(1 << 20):
            pass
        raise BodyTooLarge(limit, what) from None
    return out.value()
