"""Downloader middleware that archives every HTTP exchange to WARC.

At priority 950 it sees each response right after the download handler:
before HttpCompressionMiddleware (590) decodes the body and before
RedirectMiddleware (600) turns a 3xx into a new request, so robots.txt,
redirects and error pages are all archived as received. The WARC logic
itself lives in `archive.warc` (records.py, writer.py, process.py); this module only turns Scrapy objects into
`Exchange`s.
"""
from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlunparse

import scrapy
from scrapy import signals
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, NotConfigured, StopDownload
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached

from archive.warc.exchange import Exchange
from archive.warc.process import WarcWriterProcess
from archive.warc.records import SOFTWARE, RecordBuilder, RevisitProfile, WarcInfo, warc_date
from archive.warc.writer import WarcWriteError, WarcWriter, WarcWriterConfig
from crawler.downloadhandlers.capture import CAPTURE_META_KEY, WireCapture

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)

# Scrapy lower-cases the scheme of every URL (w3lib.url.safe_url_string): a prefix test is enough,
# and costs nothing on the event loop, unlike parsing each response URL.
ARCHIVED_PREFIXES = ("http://", "https://")
# Scrapy response flags that mean the body stopped short, as WARC-Truncated reasons.
TRUNCATION_BY_FLAG = {"dataloss": "disconnect", "download_stopped": "unspecified"}
# Request meta: the exchange the incremental middleware (960, just outside this one) built from the
# same capture and response; reused here, not built a second time (three responses a page).
EXCHANGE_META_KEY = "_warc_exchange"


class WarcCaptureMiddleware:
    """Writes request/response (or revisit) records for each downloaded response.

    Request meta it reads: `warc_skip` (do not archive), `warc_revisit_of`
    (a dict with `uri`, `date`, `record_id`, `payload_digest` of an earlier
    capture: an unchanged payload or a 304 becomes a revisit record).
    Request meta it sets: `warc_record_id` (known at once) and
    `warc_location` (a Future of `archive.warc.exchange.RecordLocation`).
    """

    def __init__(self, writer: WarcWriter, crawler: Crawler):
        self.writer = writer
        self.crawler = crawler
        self.stats = crawler.stats
        self._warned_inexact = False
        self._exact_heads = 0  # counted here, copied to stats at close: stats calls cost ~1 µs each
        self._write_failed = False
        self._pump = None  # a looping call of writer.pump(), for the writer process (start_pump)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC capture is off (WARC_ENABLED)")
        bot_name = settings.get("BOT_NAME", "scrapybot")
        started = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        info = WarcInfo(
            software=f"{bot_name} ({SOFTWARE}; Scrapy/{scrapy.__version__})",
            hostname=socket.gethostname(),
            crawl_id=settings.get("WARC_CRAWL_ID") or f"{bot_name}-{started}-{os.getpid()}",
            robots="obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            extra=(("http-header-user-agent", settings.get("USER_AGENT") or ""),),
        )
        config = WarcWriterConfig(
            directory=Path(settings.get("WARC_DIR")),
            info=info,
            prefix=settings.get("WARC_PREFIX"),
            max_size=settings.getint("WARC_MAX_SIZE"),
            payload_digest=settings.get("WARC_PAYLOAD_DIGEST"),
            # gzip is most of the writer's CPU; crawler/settings.py has the figures for level 1 vs 6.
            compress_level=settings.getint("WARC_COMPRESS_LEVEL"),
            durable=settings.getbool("WARC_FSYNC"),
            # Each closed file gets its CDXJ index beside it, off the writer's path.
            index_closed_files=settings.getbool("WARC_INDEX"),
        )
        writer: WarcWriter | WarcWriterProcess
        if warc_writer_mode(settings) == "process":  # archive/warc/process.py: why a process, and why no I/O thread
            writer = WarcWriterProcess.from_config(config, io_thread=False)
        else:
            writer = WarcWriter.from_config(config)
        middleware = cls(writer, crawler)
        if isinstance(writer, WarcWriterProcess):
            crawler.signals.connect(middleware.start_pump, signal=signals.spider_opened)
        crawler.signals.connect(middleware.close_writer, signal=signals.spider_closed)
        # engine_stopped too: it still fires when the spider never opened or closed cleanly.
        crawler.signals.connect(middleware.close_writer, signal=signals.engine_stopped)
        return middleware

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        capture = request.meta.pop(CAPTURE_META_KEY, None)
        built = request.meta.pop(EXCHANGE_META_KEY, None)
        # Left over from the request this one was copied from (redirects, retries).
        request.meta.pop("warc_location", None)
        request.meta.pop("warc_record_id", None)
        if "cached" in response.flags or request.meta.get("warc_skip"):
            return response
        if not response.url.startswith(ARCHIVED_PREFIXES):
            return response
        self._archive(request, response, capture, built)
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        capture = request.meta.pop(CAPTURE_META_KEY, None)
        request.meta.pop(EXCHANGE_META_KEY, None)
        if isinstance(exception, IgnoreRequest):  # robots.txt, offsite: never downloaded
            return None
        if isinstance(exception, DownloadCancelledError) and request.meta.get("requisite"):
            return None  # a page requisite over its size cap: refused on purpose (crawler/requisites.py)
        if isinstance(exception, StopDownload) and exception.response is not None:
            # A bytes_received/headers_received handler stopped the body: archive what arrived, truncated.
            self._archive(request, exception.response, capture)
            return None
        self.stats.inc_value("warc/failed_downloads")
        logger.warning(
            "Not archived, no response: %s %s (%s: %s)",
            request.method, request.url, type(exception).__name__, exception,
        )
        return None

    def start_pump(self) -> None:
        """The event loop drives the writer process: every `flush_delay` it settles the answers
        and sends the outbox, on the reactor thread (archive/warc/process.py: why no thread)."""
        self._pump = create_looping_call(self.writer.pump)
        self._pump.start(self.writer.flush_delay, now=False)

    def close_writer(self) -> None:
        """Drain, fsync and rename the open WARC file; copy the writer's counts to stats."""
        if self._pump is not None and self._pump.running:
            self._pump.stop()
        try:
            self.writer.close()
        except WarcWriteError as exc:
            logger.error("WARC archive incomplete: %s", exc)
        written = self.writer.stats
        if self._exact_heads:
            self.stats.set_value("warc/exact_heads", self._exact_heads)
        self.stats.set_value("warc/records", written.records)
        self.stats.set_value("warc/bytes", written.bytes)
        self.stats.set_value("warc/files", written.files)

    def _archive(self, request: Request, response: Response, capture: WireCapture | None,
                 built: Exchange | None = None) -> None:
        if self.writer.closed:  # a straggler after spider_closed; nothing left to write to
            self.stats.inc_value("warc/after_close")
            logger.warning("Not archived, WARC writer already closed: %s", response.url)
            return
        # The exchange built from this very capture and response (the same fields), if it was exact.
        exchange = built if built is not None and built.exact and built.payload is response.body \
            and built.url == response.url else exchange_from_capture(request, response, capture)
        if exchange is None:
            exchange = reconstructed_exchange(request, response)
            self.stats.inc_value("warc/reconstructed_heads")
            if not self._warned_inexact:
                self._warned_inexact = True
                logger.warning(
                    "WARC heads for %s were rebuilt, not teed: is DOWNLOAD_HANDLERS set to "
                    "crawler.downloadhandlers.capture.CapturingHTTP11DownloadHandler?", response.url,
                )
        else:
            self._exact_heads += 1
        try:
            future = self._write(request, response, exchange)
        except WarcWriteError as exc:
            self._stop_crawl(exc)
            return
        request.meta["warc_record_id"] = future.record_id
        request.meta["warc_location"] = future
        # The record's WARC-Date: the manifest's `fetched_at` and the corpus order come from the archive,
        # so a replay crawl or `archive extract` of it give the same corpus (docs/corpus-determinism.md).
        request.meta["archived_at"] = warc_date(exchange.fetched_at)

    def _write(self, request: Request, response: Response, exchange: Exchange):
        previous = request.meta.get("warc_revisit_of")
        profile = revisit_profile(previous, response, exchange, self.writer.builder)
        if profile is None:
            return self.writer.write_exchange(exchange)
        self.stats.inc_value("warc/revisits")
        return self.writer.write_revisit(
            exchange,
            profile=profile,
            refers_to_uri=previous["uri"],
            refers_to_date=previous["date"],
            refers_to_record_id=previous.get("record_id"),
        )

    def _stop_crawl(self, exc: WarcWriteError) -> None:
        self.stats.inc_value("warc/write_errors")
        if self._write_failed:
            return
        self._write_failed = True
        # The archive is the source of truth: crawling on without it wastes the sites' effort.
        logger.error("Stopping the crawl, WARC archive cannot be written: %s", exc)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="warc_write_error"))


def warc_writer_mode(settings) -> str:
    """`WARC_WRITER`: `process` (default: archive/warc/process.py says why) or `thread`."""
    mode = str(settings.get("WARC_WRITER")).strip().lower()
    if mode not in ("process", "thread"):
        raise ValueError(f"WARC_WRITER must be 'process' or 'thread', not {settings.get('WARC_WRITER')!r}")
    return mode


def revisit_profile(
    previous: dict | None, response: Response, exchange: Exchange, builder: RecordBuilder
) -> RevisitProfile | None:
    """Which revisit record, if any, this response deserves against an earlier capture."""
    if not previous:
        return None
    if response.status == 304:
        return RevisitProfile.SERVER_NOT_MODIFIED
    if response.status == 200 and previous.get("payload_digest") == builder.payload_digest(exchange):
        return RevisitProfile.IDENTICAL_PAYLOAD_DIGEST
    return None


def exchange_from_capture(request: Request, response: Response, capture: WireCapture | None) -> Exchange | None:
    """The exact exchange the capturing handler teed, or None when there is no usable capture."""
    if capture is None or capture.status != response.status:
        return None
    block_body = capture.block_body(response.body)
    if block_body is None:
        return None
    request_head, request_body = capture.request_parts()
    return Exchange(
        url=response.url,
        request_head=request_head,
        request_body=request_body,
        response_head=capture.response_head,
        response_block_body=block_body,
        # At 950 Scrapy's body is de-chunked but still content-encoded: the WARC payload.
        payload=response.body,
        ip_address=_ip_address(response),
        fetched_at=capture.started_at,
        exact=True,
        interim_heads=tuple(capture.interim_heads),
        truncated=_truncation(response),
    )


def reconstructed_exchange(request: Request, response: Response) -> Exchange:
    """An exchange rebuilt from Scrapy's parsed request and response (exact=False)."""
    latency = request.meta.get("download_latency") or 0.0
    return Exchange(
        url=response.url,
        request_head=reconstructed_request_head(request),
        request_body=request.body,
        response_head=reconstructed_response_head(response),
        response_block_body=response.body,
        payload=response.body,
        ip_address=_ip_address(response),
        fetched_at=datetime.now(timezone.utc) - timedelta(seconds=latency),
        exact=False,
        truncated=_truncation(response),
    )


def reconstructed_request_head(request: Request) -> bytes:
    parsed = urlparse_cached(request)
    target = urlunparse(("", "", parsed.path or "/", parsed.params, parsed.query, ""))
    host = parsed.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parsed.port and parsed.port != {"http": 80, "https": 443}.get(parsed.scheme):
        host = f"{host}:{parsed.port}"
    lines = [f"{request.method} {target} HTTP/1.1".encode("ascii"), b"Host: " + host.encode("idna")]
    names = set()
    for name, values in request.headers.items():
        names.add(name.lower())
        lines += [name + b": " + value for value in values]
    if request.body and b"content-length" not in names:
        lines.append(b"Content-Length: " + str(len(request.body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def reconstructed_response_head(response: Response) -> bytes:
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = ""
    status_line = f"{response.protocol or 'HTTP/1.1'} {response.status} {phrase}".encode("ascii")
    lines = [status_line]
    for name, values in response.headers.items():
        lines += [name + b": " + value for value in values]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _ip_address(response: Response) -> str | None:
    return str(response.ip_address) if response.ip_address is not None else None


def _truncation(response: Response) -> str | None:
    return next((TRUNCATION_BY_FLAG[flag] for flag in response.flags if flag in TRUNCATION_BY_FLAG), None)
