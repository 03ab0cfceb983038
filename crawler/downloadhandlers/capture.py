"""Byte-exact HTTP capture: a Scrapy HTTP/1.1 download handler that tees the wire.

Twisted parses the response head into `Headers` (order, case, folding, reason
phrase and bare-LF line ends lost) and de-chunks the body before Scrapy sees
it, so exact bytes can only be copied below that parser. This handler swaps
in a parser that copies every head line and every raw body byte, and a
transport tee that copies the request as written. The copy travels to the
downloader middleware in `request.meta["_warc_capture"]`.

Built on private Scrapy 2.19 / Twisted 26.10 classes (the handler, agent,
lenient parser and protocol in `scrapy.core.downloader.handlers.http11`);
tests/test_capture.py runs a raw-socket server so an upgrade that breaks the
capture fails loudly.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import scrapy
import twisted
from scrapy import signals
from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
    _ScrapyAgent,
)
from scrapy.exceptions import DownloadCancelledError, ResponseDataLossError
from scrapy.http import Headers
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.web._newclient import BODY
from twisted.web._newclient import Request as TxRequest

from crawler.downloadhandlers.heard_signals import AgentCrawler

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred
    from twisted.web.iweb import IResponse

logger = logging.getLogger(__name__)

CAPTURE_META_KEY = "_warc_capture"
TESTED_VERSIONS = {"Scrapy": "2.19.0", "Twisted": "26.10.0"}


class WireCapture:
    """The bytes of one HTTP exchange as they crossed the connection (after TLS)."""

    __slots__ = ("started_at", "_sent", "_head_lines", "_body_parts", "_body_length", "_body_excess",
                 "_keep_body", "response_head", "interim_heads")

    def __init__(self) -> None:
        self.started_at = datetime.now(timezone.utc)
        self._sent: list[bytes] = []
        self._head_lines: list[bytes] = []
        self._body_parts: list[bytes] = []  # kept only when the body is sent chunked (see head_complete)
        self._body_length = 0
        self._body_excess = 0  # bytes read past the end of the body (the next message's)
        self._keep_body = True
        self.response_head: bytes | None = None  # set once the final head is complete
        self.interim_heads: list[bytes] = []

    def request_sent(self, data: bytes) -> None:
        """Bytes of the request as written to the connection (crawler/downloadhandlers/wire.py)."""
        self._sent.append(data)

    @property
    def request_bytes(self) -> bytes:
        return b"".join(self._sent)

    def request_parts(self) -> tuple[bytes, bytes]:
        """(head, body) of the request as written, joined and split once."""
        data = self.request_bytes
        end = data.find(b"\r\n\r\n")
        return (data, b"") if end < 0 else (data[: end + 4], data[end + 4 :])

    def head_complete(self, head: bytes) -> None:
        """The final response head arrived. Unless it says `chunked`, the body as sent is the
        body Scrapy gets (no transfer coding), so only its length is kept: a second copy of
        every page would cost the event loop a join and a compare (measured in a crawl)."""
        self.response_head = head
        self._keep_body = b"chunked" in head.lower()

    def body_received(self, data: bytes) -> None:
        if self._keep_body:
            self._body_parts.append(data)
        self._body_length += len(data)

    def block_body(self, payload: bytes) -> bytes | None:
        """The body as sent (still chunked, with extensions and trailers, still content-encoded),
        given Scrapy's transfer-decoded body; None if the two cannot be the same exchange."""
        length = self._body_length - self._body_excess
        if not self._keep_body:
            return payload if len(payload) == length else None
        body = b"".join(self._body_parts)
        if self._body_excess:
            body = body[:length]
        return payload if body == payload else body  # one copy, not two, when they are the same

    @property
    def status(self) -> int | None:
        if not self.response_head:
            return None
        parts = self.response_head.split(None, 2)
        try:
            return int(parts[1])
        except (IndexError, ValueError):
            return None


class _TransportTee:
    """Stands in for the transport while a request is written, keeping a copy of each byte."""

    __slots__ = ("_transport", "_capture")

    def __init__(self, transport: Any, capture: WireCapture):
        self._transport = transport
        self._capture = capture

    def write(self, data: bytes) -> None:
        self._capture._sent.append(data)
        self._transport.write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:  # noqa: N802 (Twisted's name)
        data = list(data)  # an iterator could be read only once
        self._capture._sent.extend(data)
        self._transport.writeSequence(data)

    def __getattr__(self, name: str) -> Any:
        # registerProducer, unregisterProducer, ...: the real transport's.
        return getattr(self._transport, name)


class _CapturingHTTPClientParser(_LenientHTTPClientParser):
    """Scrapy's lenient parser plus a copy of the raw head lines and body bytes.

    Installed by swapping `__class__` on the parser Twisted builds (as Scrapy
    does), so it has no `__init__`; `capture` is set right after the swap.
    """

    capture: WireCapture

    def lineReceived(self, line: bytes) -> None:  # noqa: N802
        # LineReceiver splits on b"\n" and keeps b"\r": adding b"\n" back is exact.
        self.capture._head_lines.append(line + b"\n")
        super().lineReceived(line)

    def allHeadersReceived(self) -> None:  # noqa: N802
        head = b"".join(self.capture._head_lines)
        self.capture._head_lines.clear()
        if 100 <= self.response.code < 200:
            # Twisted drops a 1xx and parses on; without this it would glue onto the final head.
            self.capture.interim_heads.append(head)
        else:
            self.capture.head_complete(head)
            # Before super(): it fires the response Deferred, which reaches the agent.
            self.response._warc_capture = self.capture
        super().allHeadersReceived()

    def rawDataReceived(self, data: bytes) -> None:  # noqa: N802
        self.capture.body_received(data)
        super().rawDataReceived(data)

    def _finished(self, rest: bytes) -> None:
        # In body mode `rest` came through rawDataReceived but is not this response's.
        if self.state == BODY and rest:
            self.capture._body_excess += len(rest)
        super()._finished(rest)


class _CapturingHTTP11ClientProtocol(_LenientHTTP11ClientProtocol):
    """Scrapy's protocol, writing each request through a tee and parsing with a capture."""

    def request(self, request: TxRequest) -> Deferred[IResponse]:
        capture = WireCapture()
        tee = _TransportTee(self.transport, capture)
        # HTTP11ClientProtocol.request() calls request.writeTo(self.transport)
        # synchronously; route that one call (and the body producer's later
        # writes, which keep the transport they were given) through the tee.
        request.writeTo = lambda _transport: TxRequest.writeTo(request, tee)
        try:
            d = super().request(request)
        finally:
            del request.writeTo
        if self._parser is not None:
            self._parser.__class__ = _CapturingHTTPClientParser
            self._parser.capture = capture
        return d


class _CapturingHTTP11ClientFactory(_LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: Any) -> _CapturingHTTP11ClientProtocol:  # noqa: N802
        return _CapturingHTTP11ClientProtocol(self._quiescentCallback)


class _CapturingScrapyAgent(_ScrapyAgent):
    """Hands the capture to the Scrapy request: the first point where both are at hand.

    Given an `AgentCrawler` (crawler/downloadhandlers/heard_signals.py), it sends `headers_received`
    and `bytes_received` only while a receiver listens, and then skips building the `Headers` that
    only `headers_received` carries."""

    _unheard_headers = False  # set for one call: the next headers built are for a send that is skipped

    def _cb_bodyready(self, txresponse: Any, request: Request) -> Any:
        request.meta[CAPTURE_META_KEY] = getattr(txresponse, "_warc_capture", None)
        # Scrapy's method builds the headers first thing, as `check_stop_download`'s argument.
        self._unheard_headers = not self._crawler.signals.heard(signals.headers_received)
        try:
            return super()._cb_bodyready(txresponse, request)
        finally:
            self._unheard_headers = False

    def _headers_from_twisted_response(self, response: Any) -> Headers | None:  # a static method in Scrapy
        if self._unheard_headers:
            self._unheard_headers = False
            return None  # the argument of a send that is skipped: nobody reads it
        return _ScrapyAgent._headers_from_twisted_response(response)


class CapturingHTTP11DownloadHandler(HTTP11DownloadHandler):
    """`HTTP11DownloadHandler` that leaves a `WireCapture` in `request.meta["_warc_capture"]`.

    Enable for the `http` and `https` schemes in DOWNLOAD_HANDLERS; pair with
    `crawler.downloadermiddlewares.warc_capture.WarcCaptureMiddleware`.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self._pool._factory = _CapturingHTTP11ClientFactory
        self._agent_crawler = AgentCrawler(crawler)
        running = {"Scrapy": scrapy.__version__, "Twisted": twisted.__version__}
        if running != TESTED_VERSIONS:
            logger.warning(
                "Byte-exact capture uses private APIs tested with %s, running %s: "
                "run tests/test_capture.py before trusting exact heads",
                TESTED_VERSIONS, running,
            )

    async def download_request(self, request: Request) -> Response:
        # A request copied for a redirect or retry carries the previous capture.
        request.meta.pop(CAPTURE_META_KEY, None)
        # The parent's method with the agent class swapped (Scrapy 2.19).
        agent = _CapturingScrapyAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=getattr(self._crawler.spider, "download_maxsize", self._default_maxsize),
            warnsize=getattr(self._crawler.spider, "download_warnsize", self._default_warnsize),
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._agent_crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except DownloadCancelledError as exc:
            # A body that grew past DOWNLOAD_MAXSIZE is cancelled without a message (Scrapy only logs
            # it); the capture counted the bytes, so say why (crawler/downloadermiddlewares/pagesize.py counts it).
            capture = request.meta.get(CAPTURE_META_KEY)
            maxsize = request.meta.get("download_maxsize", self._default_maxsize)
            if str(exc) or capture is None or not maxsize or capture._body_length <= maxsize:
                raise
            raise DownloadCancelledError(f"Received {capture._body_length} bytes which is larger than download "
                                         f"max size ({maxsize}) in request {request}.") from exc
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
