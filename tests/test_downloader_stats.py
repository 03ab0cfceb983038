"""SummedDownloaderStats gives Scrapy's DownloaderStats' stats exactly, and replaces it in the settings."""
import random

from scrapy import Request
from scrapy.downloadermiddlewares.stats import DownloaderStats, get_header_size
from scrapy.http import Headers, HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.utils.request import request_httprepr
from scrapy.utils.test import get_crawler

from crawler import settings as defaults
from crawler.downloadermiddlewares.downloader_stats import (
    SummedDownloaderStats,
    header_size,
    request_httprepr_length,
)
from crawler.stats import DirectStatsCollector

HOSTS = ["nhandan.vn", "image.nhandan.vn:8443", "[2001:db8::1]", "127.0.0.1:8080", "user:pw@example.com",
         "xn--bcher-kva.example", "Mixed.Case.COM"]
PATHS = ["", "/", "/a.html", "/thoi-su/bài-viết-post1.html", "/a;params", "/p;x=1/q", "/a%20b", "//double//slash",
         "/trailing/"]
QUERIES = ["", "?q=1", "?a=1&b=%C3%A0", "?", "?x=ý"]
NAMES = ["User-Agent", "accept", "ACCEPT-ENCODING", "X-Odd_Name", "referer", "If-None-Match", "Cookie", "x"]
VALUES = ["text/html", "", "gzip, deflate, br", "ý tưởng", b"\xffraw", 0, 12345, '"etag"']


def random_headers(rng: random.Random) -> dict:
    headers = {}
    for _ in range(rng.randint(0, 6)):
        values = [rng.choice(VALUES) for _ in range(rng.randint(0, 3))]
        headers[rng.choice(NAMES)] = values if len(values) != 1 or rng.random() < 0.5 else values[0]
    return headers


def random_request(rng: random.Random) -> Request:
    url = f"{rng.choice(['http', 'https'])}://{rng.choice(HOSTS)}{rng.choice(PATHS)}{rng.choice(QUERIES)}"
    if rng.random() < 0.2:
        url += "#fragment"
    method = rng.choice(["GET", "GET", "HEAD", "POST", "PURGE"])
    body = rng.choice([b"", b"", b"a=1&b=2", "ý".encode() * rng.randint(1, 50)])
    request = Request(url, method=method, body=body, headers=random_headers(rng))
    if rng.random() < 0.3:  # a middleware's later edit, and names set through the dict itself
        request.headers.appendlist("X-Added", "one more")
        request.headers.setdefault(b"accept-language", "vi")
    return request


def random_response(rng: random.Random, request: Request) -> Response:
    status = rng.choice([200, 200, 204, 301, 304, 404, 418, 500, 299, 599, 999])
    cls = rng.choice([Response, HtmlResponse])
    return cls(request.url, status=status, headers=random_headers(rng), body=b"x" * rng.randint(0, 3000),
               request=request)


def test_request_and_header_lengths_are_scrapys_on_random_messages():
    rng = random.Random(1715)
    for _ in range(3000):
        request = random_request(rng)
        assert request_httprepr_length(request) == len(request_httprepr(request)), request
        response = random_response(rng, request)
        assert header_size(response.headers) == get_header_size(response.headers)
    assert header_size(Headers()) == get_header_size(Headers()) == -2  # Scrapy's formula, kept as it is


def test_the_stats_are_scrapys_through_a_crawl_of_random_exchanges():
    rng = random.Random(1716)
    crawler = get_crawler()
    theirs, ours = DirectStatsCollector(crawler), DirectStatsCollector(crawler)
    scrapy_mw, summed_mw = DownloaderStats(theirs), SummedDownloaderStats(ours)
    for _ in range(2000):
        request = random_request(rng)
        response = random_response(rng, request)
        for middleware in (scrapy_mw, summed_mw):
            assert middleware.process_request(request) is None
            assert middleware.process_response(request, response) is response
        if rng.random() < 0.05:
            for middleware in (scrapy_mw, summed_mw):
                middleware.process_exception(request, TimeoutError())
    assert ours.get_stats() == theirs.get_stats()
    assert theirs.get_value("downloader/request_count") == 2000


def test_settings_replace_scrapys_downloader_stats_at_its_place():
    settings = Settings()
    settings.setmodule(defaults)
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.stats.DownloaderStats"] is None
    base = settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")["scrapy.downloadermiddlewares.stats.DownloaderStats"]
    assert middlewares["crawler.downloadermiddlewares.downloader_stats.SummedDownloaderStats"] == base
