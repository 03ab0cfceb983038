"""The HTTP/1.1 response reader of the wire handler against Twisted's parser, byte by byte.

crawler/downloadhandlers/http1_reader.py must give the Scrapy response Scrapy's Twisted handler
gave (status, headers as Scrapy's `Headers`, body, how it ended) and keep the exact bytes of the
heads and the body as sent. Each case is read by both parsers, whole and split at every byte.
"""
from __future__ import annotations

import pytest
from scrapy.core.downloader.handlers.http11 import _LenientHTTPClientParser, _ScrapyAgent
from scrapy.http import Headers
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web._newclient import PotentialDataLoss, ResponseDone
from twisted.web._newclient import Request as TxRequest
from twisted.web.http_headers import Headers as TxHeaders

from crawler.downloadhandlers.capture import WireCapture
from crawler.downloadhandlers.http1_reader import DONE, DataLoss, ParseError, ResponseReader


def chunked(*parts: bytes, extension: bytes = b"", trailer: bytes = b"") -> bytes:
    return b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension, p) for p in parts) + b"0\r\n" + trailer + b"\r\n"


# (name, wire bytes, method, ends with a close)
CASES = [
    ("plain", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello", b"GET", False),
    ("odd head", b"HTTP/1.1 200 Fine Thanks\r\nx-LOWER-upper: Mixed\r\ncontent-TYPE:   text/html   \r\n"
     b"Set-Cookie: a=1\r\nX-Folded: first\r\n\t  continued\r\nSet-Cookie: b=2\r\nno colon here\r\n"
     b"zz:value\r\nCONTENT-length: 3\r\n\r\nabc", b"GET", False),
    ("bare LF", b"HTTP/1.1 200 OK\nContent-Type: text/plain\nX-Mixed: lf\r\nContent-Length: 2\n\nok", b"GET", False),
    ("chunked with extensions and trailer", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
     + chunked(b"hello ", b"chunked ", b"world", extension=b";name=value", trailer=b"X-Sum: 1\r\n"), b"GET", False),
    ("interim 103 then 200", b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
     b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", b"GET", False),
    ("no reason phrase", b"HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", b"GET", False),
    ("304 without length", b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n", b"GET", False),
    ("204", b"HTTP/1.1 204 No Content\r\nX-Y: z\r\n\r\n", b"GET", False),
    ("HEAD keeps Content-Length", b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: a/b\r\n\r\n",
     b"HEAD", False),
    ("until close", b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe end is the close", b"GET", True),
    ("repeated equal lengths", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc",
     b"GET", False),
    ("connection close", b"HTTP/1.1 200 OK\r\nConnection: close\r\nKeep-Alive: x\r\nContent-Length: 2\r\n\r\nok",
     b"GET", False),
    ("gzip chunked", b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\ntransfer-encoding: Chunked\r\n\r\n"
     + chunked(b"\x1f\x8b\x08\x00", b"\x00\x00\x00\x00"), b"GET", False),
]


class _Collect(Protocol):
    def __init__(self):
        self.data, self.end = [], None

    def dataReceived(self, data):  # noqa: N802
        self.data.append(data)

    def connectionLost(self, reason):  # noqa: N802
        self.end = ("done" if reason.check(ResponseDone) else "partial" if reason.check(PotentialDataLoss)
                    else "failed")


def twisted_read(wire: bytes, method: bytes, close: bool) -> dict:
    """What Scrapy's Twisted handler made of `wire`: status, Scrapy headers, body, how it ended."""
    ended = []
    parser = _LenientHTTPClientParser(TxRequest(method, b"/", TxHeaders(), None), ended.append)
    parser.makeConnection(StringTransport())
    responses = []
    parser._responseDeferred.addCallback(responses.append)
    parser.dataReceived(wire)
    if ended and parser.response._state == "INITIAL":
        parser.response._bodyDataFinished()  # what HTTP11ClientProtocol does once the parser says it ended
    if close:
        parser.connectionLost(Failure(ConnectionDone()))
    [response] = responses
    body = _Collect()
    response.deliverBody(body)
    proto, major, minor = response.version
    return {"status": response.code, "protocol": f"{proto.decode()}/{major}.{minor}",
            "headers": dict(_ScrapyAgent._headers_from_twisted_response(response)),
            "body": b"".join(body.data), "end": body.end}


def our_read(pieces: list[bytes], method: bytes, close: bool) -> tuple[ResponseReader, WireCapture]:
    capture = WireCapture()
    reader = ResponseReader(head_only=method == b"HEAD", capture=capture)
    for piece in pieces:
        reader.feed(piece)
    if close:
        reader.connection_lost()
    return reader, capture


def as_scrapy(reader: ResponseReader) -> dict:
    headers = Headers()
    if reader.length is not None:
        headers[b"Content-Length"] = str(reader.length).encode()
    headers.update(reader.entity_headers)
    end = "partial" if reader.length is None and not reader.chunked else "done"
    return {"status": reader.status, "protocol": reader.version, "headers": dict(headers), "body": b"".join(reader.body), "end": end}


def splits(wire: bytes):
    yield [wire]
    for cut in range(1, len(wire)):
        yield [wire[:cut], wire[cut:]]
    yield [wire[i:i + 1] for i in range(len(wire))]


@pytest.mark.parametrize("name, wire, method, close", CASES, ids=[c[0] for c in CASES])
def test_the_reader_gives_what_twisted_gave_and_keeps_the_bytes(name, wire, method, close):
    expected = twisted_read(wire, method, close)
    interim_end = wire.find(b"\r\n\r\n") + 4 if wire.startswith(b"HTTP/1.1 1") else 0
    ends = [at + len(blank) for blank in (b"\n\n", b"\n\r\n") if (at := wire.find(blank, interim_end)) >= 0]
    head_end = min(ends)
    for pieces in splits(wire):
        reader, capture = our_read(pieces, method, close)
        assert reader.state == DONE
        assert as_scrapy(reader) == expected, pieces
        assert capture.response_head == wire[interim_end:head_end]
        assert capture.interim_heads == ([wire[:interim_end]] if interim_end else [])
        raw_body = wire[head_end:] if method != b"HEAD" else b""
        assert capture.block_body(b"".join(reader.body)) == raw_body
        assert reader.excess == b""


def test_bytes_after_the_response_are_excess_not_body():
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbodyHTTP/1.1 200 junk\r\n\r\n"
    for pieces in splits(wire):
        reader, capture = our_read(pieces, b"GET", False)
        assert b"".join(reader.body) == b"body" and reader.excess == b"HTTP/1.1 200 junk\r\n\r\n"
        assert capture.block_body(b"body") == b"body"
    chunked_wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(b"ab") + b"NEXT"
    for pieces in splits(chunked_wire):
        reader, capture = our_read(pieces, b"GET", False)
        assert b"".join(reader.body) == b"ab" and reader.excess == b"NEXT"
        assert capture.block_body(b"ab") == chunked(b"ab")


def test_keep_alive_follows_the_version_and_connection_header():
    def keep_alive(head: bytes) -> bool:
        reader, _ = our_read([head + b"Content-Length: 0\r\n\r\n"], b"GET", False)
        return reader.keep_alive
    assert keep_alive(b"HTTP/1.1 200 OK\r\n")
    assert not keep_alive(b"HTTP/1.1 200 OK\r\nConnection: close\r\n")
    assert not keep_alive(b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\n")
    assert not keep_alive(b"HTTP/1.0 200 OK\r\n")
    reader, _ = our_read([b"HTTP/1.1 200 OK\r\n\r\nuntil close"], b"GET", True)
    assert not reader.keep_alive


@pytest.mark.parametrize("wire", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
])
def test_short_or_malformed_bodies_are_a_data_loss(wire):
    reader = ResponseReader()
    with pytest.raises(DataLoss):
        reader.feed(wire)
        reader.connection_lost()


@pytest.mark.parametrize("wire", [
    b"",
    b"HTTP/1.1 200 OK\r\nContent-",
    b"garbage\r\n\r\n",
    b"HTTP/1.1 abc OK\r\n\r\n",
    b"HTTP/x 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 20000 + b"\r\n\r\n",
])
def test_unreadable_heads_fail_the_response(wire):
    reader = ResponseReader()
    with pytest.raises(ParseError):
        reader.feed(wire)
        reader.connection_lost()


def test_a_head_that_never_ends_fails_once_past_its_bound_not_at_the_timeout():
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ParseError, match="line too long"):
        for _ in range(20):
            reader.feed(b"X-Endless: " + b"a" * 1000)
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ParseError, match="head too long"):
        for _ in range(200):
            reader.feed(b"X-Many: " + b"a" * 8000 + b"\r\n")
