"""One HTTP/1.1 response read off a connection, as Twisted's client parser reads it, its bytes kept.

Our own reader rather than h11 (installed): the WARC record needs the head and the body exactly as
sent (bare-LF line ends, odd case and padding, folded lines, chunk extensions and trailers) and
where the message ends in the byte stream, which h11 does not hand back (it yields events with
names lowercased and folded lines joined by a space), and it refuses heads Twisted's lenient
parser, and so this crawler, has always read (a header line without a colon). The rules are Twisted 26.10's `HTTPClientParser` with Scrapy's lenient header
lines (a line without a colon is skipped), so the Scrapy response (status, headers, body, flags)
is the one the Twisted handler gave:
- head lines end at b"\\n", a trailing b"\\r" is dropped; a line starting with a space or tab
  continues the previous one (joined as is); the value is stripped; 1xx heads are set aside;
- connection-control headers (Content-Length, Transfer-Encoding, Connection, ...) are not entity
  headers; a known length is given as Content-Length, first;
- no body after HEAD, 204 or 304; `Transfer-Encoding` other than chunked fails the response;
  chunk-size lines and chunk ends need CRLF; a broken chunked body or a short one is a data loss;
  a body with neither length nor chunking ends with the connection ("partial").
No Scrapy, no asyncio: bytes in, state out.
"""
from __future__ import annotations

from typing import Any

NO_BODY_CODES = frozenset((204, 304))
CONNECTION_CONTROL = frozenset((b"content-length", b"connection", b"keep-alive", b"te", b"trailers",
                                b"transfer-encoding", b"upgrade", b"proxy-connection"))
MAX_LINE = 16384  # Twisted's LineReceiver.MAX_LENGTH: a longer head line fails the response
MAX_HEAD = 2**20  # a head that never ends (Twisted has no bound but the timeout; this one bounds memory)
MAX_CHUNK_LINE = 1024  # Twisted's maxChunkSizeLineLength
MAX_TRAILERS = 2**16
_HEX = frozenset(b"0123456789abcdefABCDEF")

HEAD, LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILER, UNTIL_CLOSE, DONE = range(8)


class ParseError(Exception):
    """The head cannot be read: the response fails (Twisted's ResponseFailed)."""


class DataLoss(Exception):
    """The body broke off or its chunking is malformed (Twisted's _DataLoss)."""


class ResponseReader:
    """Fed the bytes of one connection from the moment the request was written; `state` is DONE once
    the response is complete. `capture` (a `WireCapture`, or None) gets the heads and the raw body
    bytes as they are read; `body` holds the body without its transfer coding."""

    __slots__ = ("state", "head_only", "capture", "_buffer", "_scanned", "_fed", "version", "status", "reason",
                 "entity_headers", "length", "chunked", "keep_alive", "body", "body_length", "excess",
                 "_remaining", "_chunks", "_trailer_bytes")

    def __init__(self, head_only: bool = False, capture: Any = None):
        self.state = HEAD
        self.head_only = head_only
        self.capture = capture
        self._buffer = b""
        self._scanned = 0  # where the search for the head's end resumes
        self._fed = False
        self.version = "HTTP/1.1"  # as Scrapy's response.protocol: "<protocol>/<major>.<minor>"
        self.status = 0
        self.reason = b""
        self.entity_headers: list[tuple[bytes, bytes]] = []
        self.length: int | None = None  # the body's length when the head says it (Twisted's response.length)
        self.chunked = False
        self.keep_alive = False
        self.body: list[bytes] = []
        self.body_length = 0
        self.excess = b""  # bytes read past the end of the response (not its own)
        self._remaining = 0
        self._chunks = bytearray()
        self._trailer_bytes = 0

    def feed(self, data: bytes) -> None:
        """Read `data`; raises ParseError (head) or DataLoss (chunked body)."""
        self._fed = True
        state = self.state
        if state == LENGTH:
            self._feed_length(data)
        elif state == HEAD:
            self._feed_head(data)
        elif state == UNTIL_CLOSE:
            self._body_part(data, data)
        elif state == DONE:
            self.excess += data
        else:
            self._feed_chunked(data)

    def connection_lost(self) -> None:
        """The connection ended: completes a body read until close, else raises why it is short."""
        if self.state == UNTIL_CLOSE:
            self.state = DONE
        elif self.state == HEAD:
            raise ParseError("connection lost before the response head ended"
                             if self._buffer else "connection lost before any response")
        elif self.state != DONE:
            raise DataLoss("connection lost before the body ended")

    @property
    def nothing_received(self) -> bool:
        """No byte of a response arrived (a kept-alive connection the server had closed)."""
        return not self._fed

    # --- the head -------------------------------------------------------------------------------

    def _feed_head(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        while True:
            end = _head_end(buffer, self._scanned)
            if end < 0:
                self._scanned = max(0, len(buffer) - 2)
                if len(buffer) > MAX_LINE and buffer.rfind(b"\n") < len(buffer) - MAX_LINE:
                    raise ParseError("response head line too long")
                if len(buffer) > MAX_HEAD:
                    raise ParseError("response head too long")
                self._buffer = buffer
                return
            head, rest = buffer[:end], buffer[end:]
            self._scanned = 0
            if not self._read_head(head):  # a 1xx: set aside, read on
                buffer = rest
                continue
            self._buffer = b""
            if rest:
                self.feed(rest)
            return

    def _read_head(self, head: bytes) -> bool:
        """Parses a complete head; False for an interim (1xx) one."""
        lines = head.split(b"\n")
        if len(head) > MAX_LINE and max(map(len, lines)) > MAX_LINE:
            raise ParseError("response head line too long")
        status_line = lines[0].removesuffix(b"\r")
        parts = status_line.split(b" ", 2)
        if len(parts) == 2:
            version, code, reason = parts[0], parts[1], b""
        elif len(parts) == 3:
            version, code, reason = parts
        else:
            raise ParseError(f"wrong number of parts in the status line {status_line[:100]!r}")
        try:
            status = int(code)
        except ValueError:
            raise ParseError(f"non-integer status code in {status_line[:100]!r}") from None
        major, minor = _version(version)
        capture = self.capture
        if 100 <= status < 200:
            if capture is not None:
                capture.interim_heads.append(head)
            return False
        entity, control = [], {}
        partial: list[bytes] | None = None
        for line in lines[1:-2]:  # the last two: the blank line and what follows its b"\n"
            line = line.removesuffix(b"\r")
            if line and line[0] in b" \t":
                if partial is not None:
                    partial.append(line)
                continue  # Twisted would fail on a continuation before any header; skipped
            if partial is not None:
                _header(b"".join(partial), entity, control, self.head_only)
            partial = [line]
        if partial is not None:
            _header(b"".join(partial), entity, control, self.head_only)
        self.status, self.reason, self.entity_headers = status, reason, entity
        if version != b"HTTP/1.1":
            self.version = f"{version.split(b'/')[0].decode('latin-1')}/{major}.{minor}"
        connection = b",".join(control.get(b"connection", ())).lower()
        self.keep_alive = (major, minor) >= (1, 1) and b"close" not in connection
        if capture is not None:
            capture.head_complete(head)
        if status in NO_BODY_CODES or self.head_only:
            self.length = 0
            self.state = DONE
            return True
        coding = control.get(b"transfer-encoding")
        if coding:
            if coding[0].lower() != b"chunked":
                raise ParseError(f"unknown transfer coding {coding[0][:100]!r}")
            self.chunked = True
            self.state = CHUNK_SIZE
            return True
        length = _content_length(control.get(b"content-length"))
        self.length = length
        if length == 0:
            self.state = DONE
        elif length is None:  # read until the connection ends ("partial", as Twisted flags it)
            self.state = UNTIL_CLOSE
            self.keep_alive = False
        else:
            self._remaining = length
            self.state = LENGTH
        return True

    # --- bodies ---------------------------------------------------------------------------------

    def _body_part(self, decoded: bytes, raw: bytes) -> None:
        self.body.append(decoded)
        self.body_length += len(decoded)
        if self.capture is not None:
            self.capture.body_received(raw)

    def _feed_length(self, data: bytes) -> None:
        remaining = self._remaining
        if len(data) < remaining:
            self._remaining = remaining - len(data)
            self._body_part(data, data)
            return
        part = data[:remaining] if len(data) > remaining else data
        self._body_part(part, part)
        self._remaining = 0
        self.state = DONE
        if len(data) > remaining:
            self.excess = data[remaining:]

    def _feed_chunked(self, data: bytes) -> None:
        buffer = self._chunks  # what earlier reads left unconsumed, then `data`
        buffer += data
        pos, state, size = 0, self.state, len(buffer)
        decoded = []
        while True:
            if state == CHUNK_DATA:
                take = min(self._remaining, size - pos)
                if not take:
                    break
                decoded.append(bytes(buffer[pos:pos + take]))
                pos += take
                self._remaining -= take
                if not self._remaining:
                    state = CHUNK_END
            elif state == CHUNK_SIZE:
                eol = buffer.find(b"\r\n", pos)
                if eol < 0 or eol - pos >= MAX_CHUNK_LINE:
                    if size - pos > MAX_CHUNK_LINE or eol >= 0:
                        raise DataLoss("chunk size line too long")
                    break
                line = bytes(buffer[pos:eol])
                digits = line.split(b";", 1)[0]
                if not digits or not _HEX.issuperset(digits):
                    raise DataLoss(f"chunk size is not a hexadecimal number: {line[:40]!r}")
                self._remaining = int(digits, 16)
                state = CHUNK_DATA if self._remaining else TRAILER
                pos = eol + 2
            elif state == CHUNK_END:
                if size - pos < 2:
                    break
                if buffer[pos:pos + 2] != b"\r\n":
                    raise DataLoss("chunk did not end with CRLF")
                pos += 2
                state = CHUNK_SIZE
            else:  # TRAILER: header lines up to an empty one
                eol = buffer.find(b"\r\n", pos)
                if eol < 0:
                    if self._trailer_bytes + size - pos > MAX_TRAILERS:
                        raise DataLoss("trailer too long")
                    break
                if eol == pos:
                    pos += 2
                    state = DONE
                    break
                self._trailer_bytes += eol + 2 - pos
                if self._trailer_bytes > MAX_TRAILERS:
                    raise DataLoss("trailer too long")
                pos = eol + 2
        self.state = state
        for part in decoded:
            self.body.append(part)
            self.body_length += len(part)
        if state == DONE:
            # What is left is the tail of `data` (bytes kept from earlier reads were too few to end
            # the body): it is not this response's.
            self.excess = bytes(buffer[pos:])
            buffer.clear()
            if self.capture is not None:
                self.capture.body_received(data[:len(data) - len(self.excess)] if self.excess else data)
        else:
            del buffer[:pos]
            if self.capture is not None:
                self.capture.body_received(data)


def _head_end(buffer: bytes, start: int) -> int:
    """The index just past the blank line that ends a head (b"\\n\\n" or b"\\n\\r\\n"), or -1."""
    crlf = buffer.find(b"\n\r\n", start)
    lf = buffer.find(b"\n\n", start, crlf + 1 if crlf >= 0 else len(buffer))
    if lf >= 0:
        return lf + 2
    return crlf + 3 if crlf >= 0 else -1


def _version(version: bytes) -> tuple[int, int]:
    if version == b"HTTP/1.1":
        return 1, 1
    try:
        _proto, number = version.split(b"/")
        major, minor = number.split(b".")
        major_n, minor_n = int(major), int(minor)
    except ValueError:
        raise ParseError(f"bad response version {version[:40]!r}") from None
    if major_n < 0 or minor_n < 0:
        raise ParseError(f"bad response version {version[:40]!r}")
    return major_n, minor_n


def _header(header: bytes, entity: list, control: dict, head_only: bool) -> None:
    """One (unfolded) header line: an entity header, or a connection-control one (Twisted's split)."""
    name, sep, value = header.partition(b":")
    if not sep:
        return  # Scrapy's lenient parser skips a line without a colon
    value = value.strip()
    lowered = name.lower()
    if lowered in CONNECTION_CONTROL and not (head_only and lowered == b"content-length"):
        control.setdefault(lowered, []).append(value)
    else:
        entity.append((name, value))


def _content_length(values: list[bytes] | None) -> int | None:
    """Twisted's `_contentLength`: repeated equal values are one; conflicting or bad ones fail."""
    if values is None:
        return None
    joined = b",".join(values)
    numbers = {_decimal(v) for v in joined.split(b",")}
    if len(numbers) != 1:
        raise ParseError(f"conflicting Content-Length headers: {joined[:100]!r}")
    return numbers.pop()


def _decimal(value: bytes) -> int:
    value = value.strip()
    if not value.isdigit():
        raise ParseError(f"bad Content-Length {value[:40]!r}")
    return int(value)
