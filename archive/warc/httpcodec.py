"""The one HTTP codec: transfer decoding (chunked) and content decoding (gzip, deflate, br, zstd)
of archived bodies, within a size bound.

Every reader of archived HTTP bodies decodes here: the record reader
(archive/warc/reader.py, for re-extraction and indexing), replay (de-chunking
only: the client decodes), `archive check` (de-chunking as it digests, piece by
piece: `Dechunker`) and extraction (archive/extract/article.py, a body left
content-encoded).

Bounded, because a page of 1 MB on the wire can decompress to 200 MB or 20 GB
(a "bomb"), and such a response may already sit in an archive (ours stores
bodies as sent; docs/security.md). Content decoding goes in steps of 64 KiB
and stops with `BodyTooLarge` as soon as the output passes its limit: memory
stays at the limit plus one step, whatever the ratio. `read_bounded` does the
same for a stored block that is itself huge, and `Dechunker` holds one
chunk-size line at most.

Our own de-chunker, not warcio's: warcio mis-decodes chunked bodies that
carry a trailer (docs/pitfalls.md). No Scrapy.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable
from io import BytesIO

__all__ = ["BodyTooLarge", "DEFAULT_MAX_BODY", "DECODERS", "Dechunker", "content_decode", "declared_charset",
           "decode_body", "decompress", "header_value", "read_bounded", "transfer_decode"]

# The crawl's DOWNLOAD_MAXSIZE default: news HTML is well under 1 MB.
DEFAULT_MAX_BODY = 32 * 1024 * 1024
_STEP = 64 * 1024
_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.I)
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]+")


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first header called `name` (any case) among (name, value) pairs, or None."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def declared_charset(content_type: str | None) -> str | None:
    """The `charset=` parameter of a Content-Type value, lower-cased."""
    if not content_type:
        return None
    found = _CHARSET.search(content_type)
    return found.group(1).lower() if found else None


def decode_body(stored: bytes, headers: Iterable[tuple[str, str]], max_body: int = DEFAULT_MAX_BODY
                ) -> tuple[bytes, str | None]:
    """A body as stored, undone as a browser would: transfer decoding, then content decoding.
    Returns (body, problems or None); raises BodyTooLarge past `max_body` (0: no bound)."""
    headers = tuple(headers)
    problems = []
    body = stored
    transfer = [t.strip().lower() for t in (header_value(headers, "Transfer-Encoding") or "").split(",") if t.strip()]
    if "chunked" in transfer:
        body, problem = transfer_decode(stored)
        if problem:
            problems.append(problem)
    codings = [c.strip().lower() for c in (header_value(headers, "Content-Encoding") or "").split(",") if c.strip()]
    if codings:
        body, problem = content_decode(body, codings, max_body)
        if problem:
            problems.append(problem)
    return body, "; ".join(problems) or None


# --- transfer decoding ---------------------------------------------------------------


def transfer_decode(data: bytes) -> tuple[bytes, str | None]:
    """De-chunk an HTTP/1.1 chunked body; returns (body, problem or None).

    Chunk extensions and trailers are skipped, bare LF line ends accepted.
    A body that does not start with a chunk-size line is returned as stored
    (some archives store bodies already de-chunked and keep the header); one
    cut short returns the chunks it holds.
    """
    parts: list[bytes] = []
    pos = 0
    size_total = len(data)
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            if not parts and pos == 0:
                return data, "declared chunked but not chunked; kept as stored"
            return b"".join(parts), "chunked body cut short"
        size_field = data[pos:eol].split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_field):
            if pos == 0:
                return data, "declared chunked but not chunked; kept as stored"
            return b"".join(parts), f"bad chunk size line at byte {pos}"
        size = int(size_field, 16)
        start = eol + 1
        if size == 0:
            return b"".join(parts), None  # what follows is trailers, not payload
        end = start + size
        if end > size_total:
            parts.append(data[start:])
            return b"".join(parts), "chunked body cut short"
        parts.append(data[start:end])
        pos = end
        if data.startswith(b"\r\n", pos):
            pos += 2
        elif data.startswith(b"\n", pos):
            pos += 1


class Dechunker:
    """`transfer_decode`, fed piece by piece: the same bytes and verdicts, in
    constant memory (a chunk-size line longer than 64 KiB counts as a bad one)."""

    MAX_LINE = 1 << 16

    def __init__(self, out):
        self.out = out  # called with each piece of the de-chunked body
        self.line = bytearray()
        self.line_start = 0  # offset of the line being read
        self.offset = 0  # bytes fed so far
        self.remaining = 0  # of the current chunk's data
        self.after_data = False  # a line break may follow the chunk's data
        self.first = True  # no valid size line yet: a bad one means "not chunked at all"
        self.passthrough = False  # not chunked: the body is the bytes as stored
        self.done = False
        self.problem: str | None = None

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.done:
            if self.passthrough:
                self.out(view)
                break
            if self.remaining:
                piece = view[:self.remaining]
                self.out(piece)
                self.remaining -= len(piece)
                self.offset += len(piece)
                view = view[len(piece):]
                self.after_data = not self.remaining
                continue
            end = bytes(view[:self.MAX_LINE + 1]).find(b"\n")
            taken = view[:end + 1] if end >= 0 else view
            if len(self.line) + len(taken) > self.MAX_LINE + 1:
                self._bad_line()
                if self.passthrough:
                    self.out(view)
                return
            self.line += taken
            self.offset += len(taken)
            view = view[len(taken):]
            if end >= 0:
                self._line_complete()
                if self.passthrough:
                    self.out(view)
                    return

    def _line_complete(self) -> None:
        line = bytes(self.line[:-1])
        start, self.line_start = self.line_start, self.offset
        self.line.clear()
        if self.after_data and line in (b"", b"\r"):
            self.after_data = False
            return
        self.after_data = False
        size_field = line.split(b";", 1)[0].strip()
        if not size_field or not all(c in b"0123456789abcdefABCDEF" for c in size_field):
            self.line_start = start
            self._bad_line(line + b"\n")
            return
        self.first = False
        self.remaining = int(size_field, 16)
        if not self.remaining:
            self.done = True

    def _bad_line(self, line: bytes | None = None) -> None:
        if self.first:
            self.passthrough = True
            self.out(bytes(self.line) if line is None else line)
            self.line.clear()
            self.problem = "declared chunked but not chunked; kept as stored"
        else:
            self.done = True
            self.problem = f"bad chunk size line at byte {self.line_start}"

    def finish(self) -> str | None:
        if self.passthrough or self.done:
            return self.problem
        if self.first and not self.remaining:  # no line break at all: not chunked
            self.out(bytes(self.line))
            return "declared chunked but not chunked; kept as stored"
        return "chunked body cut short"


# --- content decoding ----------------------------------------------------------------


def content_decode(data: bytes, codings: list[str], max_body: int = DEFAULT_MAX_BODY) -> tuple[bytes, str | None]:
    """Undo `Content-Encoding` (applied in the listed order, so undone in reverse). Raises
    BodyTooLarge as soon as a step's output passes `max_body` (0: no bound)."""
    for coding in reversed(codings):
        if coding in ("identity", ""):
            continue
        if coding not in DECODERS:
            return data, f"unknown content-encoding {coding!r}; kept as stored"
        try:
            data, problem = decompress(data, coding, max_body)
        except BodyTooLarge:
            raise
        except Exception as exc:  # each codec library has its own error type; all mean "not this coding"
            return data, f"{coding} decoding failed ({_first_line(exc)}); kept as stored"
        if problem:
            return data, problem
    return data, None


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
