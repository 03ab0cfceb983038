"""Scrapy's `DownloaderStats` with the byte counts summed, not built.

Scrapy's middleware counts each request's bytes as `len(request_httprepr(request))`: the request
line, a Host line and every header joined into one bytes object (its headers read through
`Headers.items()`, which normalises each name again), only to take its length; a response's
header size reads them the same way. On the event loop for every request and response of the
crawl. This one sums the same lengths from the parts, with the same formulas (Scrapy 2.19,
`scrapy/downloadermiddlewares/stats.py` and `scrapy.utils.request.request_httprepr`): the same
stats keys and values (tests/test_downloader_stats.py checks them against Scrapy's own on random
requests and responses).
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlunparse

from scrapy.downloadermiddlewares.stats import DownloaderStats, get_status_size
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

_REQUEST_LINE_END = len(b" HTTP/1.1\r\n")
_HOST_LINE = len(b"Host: ") + len(b"\r\n")
_CRLF = len(b"\r\n")
_NAME_SEPARATOR = len(b": ")


def _joined_headers_length(headers: dict) -> int:
    """len(w3lib's `headers_dict_to_raw(headers)`) of a Scrapy `Headers`: `name: value` for every
    value, `\\r\\n` between them. Read as a plain dict: its names are normalised and its values
    are lists of bytes already."""
    size = lines = 0
    for name, values in dict.items(headers):
        for value in values:
            size += len(name) + _NAME_SEPARATOR + len(value)
            lines += 1
    return size + _CRLF * (lines - 1) if lines else 0


def request_httprepr_length(request: Request) -> int:
    """len(scrapy.utils.request.request_httprepr(request)), without building it."""
    parsed = urlparse_cached(request)
    path = urlunparse(("", "", parsed.path or "/", parsed.params, parsed.query, ""))
    length = (len(request.method.encode()) + 1 + len(path.encode()) + _REQUEST_LINE_END
              + _HOST_LINE + len((parsed.hostname or "").encode()))
    if request.headers:
        length += _joined_headers_length(request.headers) + _CRLF
    return length + _CRLF + len(request.body)


def header_size(headers: dict) -> int:
    """Scrapy's `get_header_size(headers)` (2 bytes a name, not a line, between them), read as a plain dict."""
    size = 0
    for name, values in dict.items(headers):
        if isinstance(values, (list, tuple)):
            for value in values:
                size += _NAME_SEPARATOR + len(name) + len(value)
    return size + _CRLF * (len(headers) - 1)


class SummedDownloaderStats(DownloaderStats):
    """DOWNLOADER_MIDDLEWARES in place of Scrapy's `DownloaderStats`: the same stats, summed."""

    def __init__(self, stats):
        super().__init__(stats)
        self._status_sizes: dict[int, int] = {}

    def process_request(self, request: Request, spider=None) -> None:
        inc = self.stats.inc_value
        inc("downloader/request_count")
        inc(f"downloader/request_method_count/{request.method}")
        inc("downloader/request_bytes", request_httprepr_length(request))

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        inc = self.stats.inc_value
        status = response.status
        inc("downloader/response_count")
        inc(f"downloader/response_status_count/{status}")
        status_size = self._status_sizes.get(status)
        if status_size is None:
            status_size = self._status_sizes[status] = get_status_size(status)
        inc("downloader/response_bytes", len(response.body) + header_size(response.headers) + status_size + 4)
        return response
