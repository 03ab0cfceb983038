"""Bounded pages: a response larger than `DOWNLOAD_MAXSIZE`, on the wire or once decompressed,
is refused and counted, instead of filling the crawl's memory.

Scrapy 2.19 already enforces the limit: the HTTP/1.1 handler cancels a body
that grows past it (or whose Content-Length says it will), and
HttpCompressionMiddleware decompresses in 64 KiB steps and stops as soon as
the output passes it (a 1 MB gzip bomb never becomes 200 MB). What it lacks
is the record: it raises a plain IgnoreRequest, logged, and nothing in the
crawl's counts says a page was dropped. `BoundedCompressionMiddleware` takes
HttpCompressionMiddleware's place (590) and turns both cases into
`PageTooLarge` (`refused/too_large`).

The WARC capture middleware (950) sees a compressed response before this one,
so a bomb is archived as the server sent it (a few hundred KB), then refused
here before anything decodes, parses or extracts it. Discovery documents
(robots.txt, sitemaps, feeds) carry their own bound in
`request.meta["download_maxsize"]` (`SITEMAP_MAXSIZE`, crawler/discovery.py).
"""
from __future__ import annotations

import logging
import zlib
from typing import Any

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip

from archive.libdeflate_gunzip import gunzip_one_member
from crawler.refusals import PageTooLarge, stats_key

logger = logging.getLogger(__name__)


class BoundedCompressionMiddleware(HttpCompressionMiddleware):
    """HttpCompressionMiddleware whose size refusals are `PageTooLarge`, counted and logged once each."""

    def process_response(self, request, response, spider: Any = None):
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            if not isinstance(exc.__cause__, _DecompressionMaxSizeExceeded):
                raise
            limit = request.meta.get("download_maxsize", self._max_size)
            self._refuse(request, f"decompresses to more than {limit:,} bytes "
                                  f"({len(response.body):,} bytes as sent, archived as received)", exc)

    def process_exception(self, request, exception: Exception, spider: Any = None):
        # The handler's cancel for DOWNLOAD_MAXSIZE (its message names the limit); nothing was
        # archived, as no complete response arrived.
        if isinstance(exception, DownloadCancelledError) and "max size" in str(exception):
            self._refuse(request, f"larger than {request.meta.get('download_maxsize', self._max_size):,} "
                                  "bytes as sent, not downloaded", exception)
        return None

    @staticmethod
    def _decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
        if encoding in (b"gzip", b"x-gzip"):
            return one_member_gunzip(body, max_size)
        return HttpCompressionMiddleware._decode(body, encoding, max_size)

    def _refuse(self, request, reason: str, cause: BaseException) -> None:
        if self.stats is not None:
            self.stats.inc_value(stats_key(PageTooLarge.kind))
        logger.warning("refused: too large: %s %s", request.url, reason)
        raise PageTooLarge(f"{request.url} {reason}") from cause


def one_member_gunzip(data: bytes, max_size: int = 0) -> bytes:
    """`scrapy.utils.gz.gunzip(data, max_size=max_size)`, one libdeflate call for the usual body: a
    single gzip member, whole, its CRC and length right, within `max_size` (archive/libdeflate_gunzip.py;
    ~90 µs of the event loop less a 100 KB page than zlib). Else one zlib call for the same (zlib checks
    both, as GzipFile does): GzipFile's loop of 64 KiB reads and the two copies through BytesIO cost the
    event loop ~35 µs a 100 KB page. Anything else (several members, trailing bytes, a truncated or
    damaged stream, larger than `max_size`: its output stops one byte past it) is handed to Scrapy's
    gunzip, whose answer or error it gets."""
    inflated = gunzip_one_member(data, max_size)
    if inflated is not None:
        return inflated
    decompressor = zlib.decompressobj(wbits=31)
    try:
        body = decompressor.decompress(data, max_size + 1 if max_size else 0)
    except zlib.error:
        return gunzip(data, max_size=max_size)
    if decompressor.eof and not decompressor.unused_data and not (max_size and len(body) > max_size):
        return body
    del body  # a bomb's first max_size bytes are not held while Scrapy's gunzip refuses it
    return gunzip(data, max_size=max_size)
