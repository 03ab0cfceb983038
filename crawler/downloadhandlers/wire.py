"""A Scrapy HTTP/1.1 download handler of our own on asyncio, capturing the exact bytes as it reads them.

Scrapy's Twisted handler (and crawler/downloadhandlers/capture.py's tee of it) cost the event
loop a Deferred chain, an agent, a parser class swap and a body-reader protocol per request;
this one writes the request as Twisted wrote it (same request line, header names and order, Host
last) in one write, reads the response with crawler/downloadhandlers/http1_reader.py (Twisted's
rules, so the same Scrapy response) on a connection from crawler/downloadhandlers/http1_connection.py
(keep-alive pool per origin and proxy, CONNECT + TLS through http proxies), and hands the
`WireCapture` it filled on the way to the WARC middleware in `request.meta["_warc_capture"]` as the
capturing Twisted handler does. Settings read as Scrapy's handler reads them: DOWNLOAD_TIMEOUT
(and `download_timeout`), DOWNLOAD_MAXSIZE / DOWNLOAD_WARNSIZE (and their meta keys),
DOWNLOAD_FAIL_ON_DATALOSS, DOWNLOAD_BIND_ADDRESS, CONCURRENT_REQUESTS_PER_DOMAIN (idle connections
kept per origin), the DOWNLOADER_CLIENT_TLS_* settings (scrapy.utils.ssl). Host names are resolved
by the reactor's resolver (`TWISTED_DNS_RESOLVER`), so the address policy's check of resolved
addresses applies as before. `headers_received` / `bytes_received` are sent only while heard
(crawler/downloadhandlers/heard_signals.py). Needs the asyncio reactor (Scrapy's default).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunparse

from scrapy import signals
from scrapy.core.downloader.handlers._base_http import BaseHttpDownloadHandler
from scrapy.core.downloader.handlers.http11 import TunnelError
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    NotConfigured,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.utils._download_handlers import (
    check_stop_download,
    get_dataloss_msg,
    get_maxsize_msg,
    get_warnsize_msg,
    make_response,
    normalize_bind_address,
)
from scrapy.utils.asyncio import is_asyncio_available
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.ssl import _make_ssl_context
from scrapy.utils.url import add_http_if_no_scheme
from twisted.internet.error import DNSLookupError
from twisted.web.http_headers import _nameEncoder
from twisted.web.iweb import UNKNOWN_LENGTH

from crawler.downloadhandlers.capture import CAPTURE_META_KEY, WireCapture
from crawler.downloadhandlers.heard_signals import HeardSignals
from crawler.downloadhandlers.http1_connection import ConnectionKey, ConnectionPool, TunnelRefused
from crawler.downloadhandlers.http1_reader import HEAD, DataLoss, ParseError, ResponseReader

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_REMEMBERED = 4096  # origins (and proxies) whose host, port and Host value are kept: a bound, cleared when full
IDEMPOTENT = frozenset((b"GET", b"HEAD", b"OPTIONS", b"DELETE", b"TRACE"))  # Twisted retries these once


class WireHTTP11DownloadHandler(BaseHttpDownloadHandler):
    """HTTP/1.1 for the `http` and `https` schemes, leaving a `WireCapture` in
    `request.meta["_warc_capture"]` when WARC capture is on (WARC_ENABLED)."""

    lazy = False

    def __init__(self, crawler: Crawler):
        if not is_asyncio_available():
            raise NotConfigured("WireHTTP11DownloadHandler needs the asyncio reactor (TWISTED_REACTOR)")
        super().__init__(crawler)
        settings = crawler.settings
        self._signals = HeardSignals(crawler.signals)
        self._capture = settings.getbool("WARC_ENABLED", True)
        self._timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self._bind = normalize_bind_address(settings.get("DOWNLOAD_BIND_ADDRESS"))
        self._pool = ConnectionPool(self._resolve, _make_ssl_context(settings),
                                    settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        self._proxies: dict[str, tuple[str, str, int]] = {}  # meta["proxy"] -> (scheme, host, port)
        self._origins: dict[tuple[str, str], tuple[str, int, bytes]] = {}  # (scheme, netloc) -> host, port, Host

    async def download_request(self, request: Request) -> Response:
        meta = request.meta
        meta.pop(CAPTURE_META_KEY, None)  # a request copied for a redirect or retry carries the previous one
        timeout = meta.get("download_timeout") or self._timeout
        try:
            async with asyncio.timeout(timeout):
                return await self._download(request)
        except TimeoutError:
            raise DownloadTimeoutError(f"Getting {request.url} took longer than {timeout} seconds.") from None

    async def _download(self, request: Request) -> Response:
        key, head = self._prepare(request)
        body = request.body
        wire = head + body if body else head
        exchange = _Exchange(self, request)
        retried = False
        while True:
            connection = await self._connect(key)
            reused = connection.used > 0
            reader = ResponseReader(head_only=request.method == "HEAD", capture=exchange.capture)
            if exchange.capture is not None:
                exchange.capture.request_sent(wire)
            try:
                await connection.exchange(wire, reader, exchange.watch)
            except ParseError as exc:
                connection.abort()
                if (reused and not retried and reader.nothing_received and not body
                        and request.method.encode() in IDEMPOTENT):
                    retried = True  # a kept-alive connection the server had closed: once more, on a new one
                    exchange.restart()
                    continue
                raise DownloadFailedError(str(exc)) from exc
            except DataLoss as exc:
                connection.abort()
                return exchange.data_loss(reader, connection, exc)
            except _Stopped:
                connection.abort()
                return exchange.stopped_response(reader, connection)
            except BaseException:
                connection.abort()
                raise
            self._pool.release(connection)
            return exchange.response(reader, connection)

    async def _connect(self, key: ConnectionKey) -> Any:
        try:
            return await self._pool.acquire(key)
        except DNSLookupError as exc:
            raise CannotResolveHostError(str(exc)) from exc
        except ConnectionRefusedError as exc:
            raise DownloadConnectionRefusedError(str(exc)) from exc
        except TunnelRefused as exc:
            raise TunnelError(str(exc)) from exc
        except TimeoutError as exc:  # the system's connect timeout (Twisted's TCPTimedOutError)
            raise DownloadTimeoutError(f"TCP connection timed out: {exc}") from exc
        except OSError as exc:  # unreachable, reset, TLS failures (ssl.SSLError is an OSError)
            raise DownloadFailedError(f"{type(exc).__name__}: {exc}") from exc

    def _prepare(self, request: Request) -> tuple[ConnectionKey, bytes]:
        """The pool key and the request head, as Twisted's agent wrote it."""
        parts = urlparse_cached(request)
        scheme = parts.scheme
        if scheme not in DEFAULT_PORTS:
            raise UnsupportedURLSchemeError(f"Unsupported URL scheme '{scheme}': {request.url}")
        origin = self._origins.get((scheme, parts.netloc))
        if origin is None:
            if len(self._origins) >= MAX_REMEMBERED:
                self._origins.clear()
            origin = self._origins[scheme, parts.netloc] = _origin(scheme, parts.netloc)
        host, port, host_value = origin
        headers = request.headers
        proxy = request.meta.get("proxy")
        proxy_conf = None
        if proxy:
            proxy_scheme, proxy_host, proxy_port = self._proxy(proxy)
            if scheme == "https":
                if proxy_scheme == "https":
                    raise NotImplementedError("HTTPS proxies for HTTPS destinations are not supported")
                proxy_conf = (proxy_host, proxy_port, headers.get(b"Proxy-Authorization"))
                target = _origin_form(parts)
            else:  # one pool of connections to the proxy for every origin, as Twisted's proxy agent keys it
                proxy_conf = (proxy_host, proxy_port, None)
                host, port = "", 0
                target = urlunparse((scheme, parts.netloc, parts.path, parts.params, parts.query, "")).encode("ascii")
        else:
            target = _origin_form(parts)
        tunnel = proxy_conf is not None and scheme == "https"
        lines = [request.method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
        if request.body:
            lines.append(b"Content-Length: %d\r\n" % len(request.body))
        has_host = False
        # The stored pairs, not `Headers.items()`: that looks each (already normalised) name up again.
        for name, values in dict.items(headers):
            encoded = _nameEncoder.encode(name)
            if encoded == b"Host":
                has_host = True
            elif tunnel and encoded == b"Proxy-Authorization":
                continue
            for value in values:
                if b"\r" in value or b"\n" in value:
                    value = b" ".join(value.splitlines())
                lines += (encoded, b": ", value, b"\r\n")
        if not has_host:
            lines += (b"Host: ", host_value, b"\r\n")
        lines.append(b"\r\n")
        bind = normalize_bind_address(request.meta.get("bindaddress")) or self._bind
        return ConnectionKey(scheme, host, port, proxy_conf, bind), b"".join(lines)

    def _proxy(self, proxy: str) -> tuple[str, str, int]:
        known = self._proxies.get(proxy)
        if known is None:
            parts = urlsplit(add_http_if_no_scheme(proxy))
            known = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
            if len(self._proxies) < MAX_REMEMBERED:
                self._proxies[proxy] = known
        return known

    @staticmethod
    async def _resolve(host: str) -> str:
        from twisted.internet import reactor

        return await reactor.resolver.getHostByName(host).asFuture(asyncio.get_running_loop())

    async def close(self) -> None:
        self._pool.close()


class _Exchange:
    """One request's checks as its response is read: maxsize, warnsize, the two signals, the capture."""

    __slots__ = ("handler", "request", "capture", "maxsize", "warnsize", "warned", "head_seen", "started",
                 "stopped", "heard_bytes", "parts_heard")

    def __init__(self, handler: WireHTTP11DownloadHandler, request: Request):
        meta = request.meta
        self.handler, self.request = handler, request
        self.maxsize = meta.get("download_maxsize", handler._default_maxsize)
        self.warnsize = meta.get("download_warnsize", handler._default_warnsize)
        self.heard_bytes = handler._signals.heard(signals.bytes_received)
        self.started = time.monotonic()
        self.restart()

    def restart(self) -> None:
        self.capture = WireCapture() if self.handler._capture else None
        self.warned = self.head_seen = False
        self.stopped = None
        self.parts_heard = 0

    def watch(self, reader: ResponseReader) -> None:
        """After each read: raises to end the exchange (the connection is then dropped)."""
        if not self.head_seen:
            if reader.state == HEAD:
                return
            self._head(reader)
        if reader.body_length:
            if self.heard_bytes and not self.stopped:
                self._bytes_heard(reader)
            if self.maxsize and reader.body_length > self.maxsize:
                reader.body.clear()
                message = get_maxsize_msg(reader.body_length, self.maxsize, self.request, expected=False)
                logger.warning(message)
                raise DownloadCancelledError(message)
            if self.warnsize and reader.body_length > self.warnsize and not self.warned:
                self.warned = True
                logger.warning(get_warnsize_msg(reader.body_length, self.warnsize, self.request, expected=False))

    def _head(self, reader: ResponseReader) -> None:
        self.head_seen = True
        request = self.request
        request.meta["download_latency"] = time.monotonic() - self.started
        if self.capture is not None:
            request.meta[CAPTURE_META_KEY] = self.capture
        if self.handler._signals.heard(signals.headers_received):
            self.stopped = check_stop_download(signals.headers_received, self.handler.crawler, request,
                                               headers=self._headers(reader),
                                               body_length=UNKNOWN_LENGTH if reader.length is None
                                               else reader.length)
            if self.stopped is not None:
                reader.body.clear()  # as Twisted's: a response stopped at its head has no body
                raise _Stopped()
        expected = reader.length if reader.length is not None else -1
        if self.maxsize and expected > self.maxsize:
            message = get_maxsize_msg(expected, self.maxsize, self.request, expected=True)
            logger.warning(message)
            raise DownloadCancelledError(message)
        if self.warnsize and expected > self.warnsize:
            self.warned = True
            logger.warning(get_warnsize_msg(expected, self.warnsize, self.request, expected=True))

    def _bytes_heard(self, reader: ResponseReader) -> None:
        """`bytes_received` with the body bytes this read added (Twisted sends one a read)."""
        parts = reader.body[self.parts_heard:]
        self.parts_heard = len(reader.body)
        if parts:
            self.stopped = check_stop_download(signals.bytes_received, self.handler.crawler, self.request,
                                               data=parts[0] if len(parts) == 1 else b"".join(parts))
            if self.stopped is not None:
                raise _Stopped()

    @staticmethod
    def _headers(reader: ResponseReader) -> Any:
        from scrapy.http import Headers

        headers = Headers()
        if reader.length is not None:
            headers[b"Content-Length"] = str(reader.length).encode()
        dict.update(headers, normalised_headers(reader.entity_headers))
        return headers

    def response(self, reader: ResponseReader, connection: Any, flags: list[str] | None = None) -> Response:
        body = reader.body
        return make_response(
            url=self.request.url.split("#", 1)[0], status=reader.status, headers=self._headers(reader),
            body=body[0] if len(body) == 1 else b"".join(body),
            # A body read until the connection ended: Twisted's PotentialDataLoss, flagged "partial".
            flags=flags if flags is not None else (["partial"] if reader.length is None and not reader.chunked
                                                    else None),
            certificate=connection.certificate,
            ip_address=connection.peer, protocol=reader.version)

    def stopped_response(self, reader: ResponseReader, connection: Any) -> Response:
        """What arrived before a receiver stopped the download (StopDownload raised again if `fail`)."""
        return make_response(
            url=self.request.url.split("#", 1)[0], status=reader.status, headers=self._headers(reader),
            body=b"".join(reader.body), certificate=connection.certificate, ip_address=connection.peer,
            protocol=reader.version, stop_download=self.stopped)

    def data_loss(self, reader: ResponseReader, connection: Any, exc: DataLoss) -> Response:
        fail = self.request.meta.get("download_fail_on_dataloss", self.handler._fail_on_dataloss)
        if not fail:
            return self.response(reader, connection, flags=["dataloss"])
        if not self.handler._fail_on_dataloss_warned:
            logger.warning(get_dataloss_msg(self.request.url))
            self.handler._fail_on_dataloss_warned = True
        raise ResponseDataLossError(str(exc)) from exc


class _Stopped(Exception):
    """A headers_received or bytes_received receiver raised StopDownload."""


def _origin(scheme: str, netloc: str) -> tuple[str, int, bytes]:
    """Host, port and Host header value of a URL's netloc, as Twisted's `URI` and Agent compute them."""
    default = DEFAULT_PORTS[scheme]
    host, port = netloc, default
    if ":" in netloc:
        name, _, number = netloc.rpartition(":")
        try:
            host, port = name, int(number)
        except ValueError:
            pass
    host = host.strip("[]")
    shown = f"[{host}]" if ":" in host else host
    value = shown if port == default else f"{shown}:{port}"
    return host, port, value.encode("ascii")


def normalised_headers(pairs: list[tuple[bytes, bytes]]) -> dict[bytes, list[bytes]]:
    """What `Headers.update(pairs)` stores for byte names and values (`normkey`: the name title-cased;
    `normvalue`: a list of the values, in order), built without its per-header type checks."""
    normal: dict[bytes, list[bytes]] = {}
    for name, value in pairs:
        normal.setdefault(name.title(), []).append(value)
    return normal


def _origin_form(parts: Any) -> bytes:
    """Twisted's `URI.originForm`: path, params and query; b"/" when all are empty."""
    path = parts.path
    if path[:2] == "//":  # the one case `urlunparse` treats apart (and Python versions differently)
        path = urlunparse(("", "", path, parts.params, parts.query, ""))
    else:  # what `urlunparse` makes of an empty scheme and netloc
        if parts.params:
            path = f"{path};{parts.params}"
        if parts.query:
            path = f"{path}?{parts.query}"
    return path.encode("ascii") if path else b"/"


