"""The wire download handler in real crawls against raw-socket servers: what it writes, how it fails.

tests/test_capture.py runs its byte-exact capture crawl with both capturing handlers; these
tests cover the rest of crawler/downloadhandlers/wire.py: requests written byte for byte as
Scrapy's Twisted handler wrote them, keep-alive reuse and the one retry of a request a closed
kept-alive connection swallowed, timeouts, DOWNLOAD_MAXSIZE / DOWNLOAD_WARNSIZE, data loss,
refused connections, unreadable heads, and the address policy's check of resolved addresses.
"""
from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from testbed.rawserver import RawServer, Reply
from tests.test_capture import HANDLERS, CrawlOutput, chunked, crawl_settings, free_port, start_crawl

BIG = b"x" * 5000
ROUTES = {
    "/robots.txt": Reply(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
    "/page": Reply(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 8\r\n\r\n", b"<p>a</p>"),
    "/post": Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", b"ok"),
    "/secure": Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", b"secret"),
    "/slow": Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", b"slow", delay=3),
    "/big": Reply(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG), BIG),
    "/big-chunked": Reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                          chunked(BIG, [500] * 10), piece=700, pause=0.01),
    "/warn": Reply(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG), BIG),
    "/short": Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"ten bytes.", close=True),
    "/short-kept": Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"ten bytes.", close=True),
    "/cut-chunked": Reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"a\r\nfive.", close=True),
    "/garbage": Reply(b"garbage\r\n\r\n", close=True),
    "/until-close": Reply(b"HTTP/1.1 200 OK\r\n\r\n", b"the end is the close", close=True),
}


def crawl(out: Path, handler: str, requests: list[dict], **settings) -> CrawlOutput:
    run = CrawlOutput(out)
    proc = start_crawl(out, requests, crawl_settings(out, HANDLERS[handler], ROBOTSTXT_OBEY=False, **settings),
                       resolve_locations=False)
    output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, output.decode(errors="replace")
    return run


# --- the request bytes ---------------------------------------------------------------------


def test_requests_are_written_as_the_twisted_handler_wrote_them(tmp_path):
    plain, tls = RawServer(ROUTES).start(), RawServer(ROUTES, tls=True).start()
    proxy = f"http://127.0.0.1:{plain.port}"
    requests = [
        {"url": plain.url("/page?q=1&r=%C3%A9#fragment")},
        {"url": plain.url("/page;params?q=2"), "headers": {"x-odd-CASE": "v", "Etag": "e", "Accept": ["a", "b"],
                                                           "Cookie": "c=1"}},
        {"url": f"http://127.0.0.1:{plain.port}", "meta": {"dont_obey_robotstxt": True}},
        {"url": plain.url("/post"), "method": "POST", "body": "a=1&b=2",
         "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"url": plain.url("/page"), "method": "HEAD"},
        {"url": tls.url("/secure")},
        {"url": tls.url("/secure?tunneled"), "meta": {"proxy": proxy},
         "headers": {"Proxy-Authorization": "Basic dXNlcjpwYXNz"}},
        {"url": f"http://127.0.0.1:{tls.port}/page?proxied", "meta": {"proxy": proxy},
         "headers": {"Proxy-Authorization": "Basic dXNlcjpwYXNz"}},
    ]
    received = {}
    for handler in sorted(HANDLERS):
        for server in (plain, tls):
            with server.lock:
                server.received.clear()
        crawl(tmp_path / handler, handler, requests)
        received[handler] = sorted(raw for server in (plain, tls) for _, raw in server.received)
    plain.stop()
    tls.stop()
    assert len(received["wire"]) == len(requests)
    assert received["wire"] == received["twisted"]


# --- reuse, and the retry of a request a closed kept-alive connection swallowed ----------------


class ClosesAfterOne:
    """Answers the first request of each connection, keeps it open, then reads the second request
    and closes without answering (a server that timed the kept-alive connection out just then)."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            for answered in (True, False):
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                self.requests += 1
                if answered:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def test_a_request_lost_on_a_closed_kept_alive_connection_is_sent_again_once(tmp_path):
    server = ClosesAfterOne()
    requests = [{"url": f"http://127.0.0.1:{server.port}/{n}"} for n in range(3)]
    run = crawl(tmp_path, "wire", requests, CONCURRENT_REQUESTS=1, CONCURRENT_REQUESTS_PER_DOMAIN=1)
    server.listener.close()
    assert sorted(item["status"] for item in run.items()) == [200, 200, 200]
    assert server.connections == 3 and server.requests == 5  # requests 2 and 3 each lost once


# --- failures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def failures(tmp_path_factory) -> CrawlOutput:
    server = RawServer(ROUTES).start()
    refused = free_port()
    requests = [
        {"url": server.url("/slow"), "meta": {"download_timeout": 0.5}},
        {"url": server.url("/big"), "meta": {"download_maxsize": 1000}},
        {"url": server.url("/big-chunked"), "meta": {"download_maxsize": 1000}},
        {"url": server.url("/warn"), "meta": {"download_warnsize": 1000}},
        {"url": server.url("/short")},
        {"url": server.url("/short-kept"), "meta": {"download_fail_on_dataloss": False}},
        {"url": server.url("/cut-chunked")},
        {"url": server.url("/garbage")},
        {"url": server.url("/until-close")},
        {"url": f"http://127.0.0.1:{refused}/nothing-listens"},
    ]
    run = crawl(tmp_path_factory.mktemp("failures"), "wire", requests)
    server.stop()
    return run


def exceptions(run: CrawlOutput) -> dict[str, int]:
    prefix = "downloader/exception_type_count/"
    return {key[len(prefix):]: value for key, value in run.stats().items() if key.startswith(prefix)}


def test_failures_raise_what_scrapy_retries_and_counts(failures):
    assert exceptions(failures) == {
        "scrapy.exceptions.DownloadTimeoutError": 1,
        "scrapy.exceptions.DownloadCancelledError": 2,  # /big (announced), /big-chunked (as it grew)
        "scrapy.exceptions.ResponseDataLossError": 2,  # /short, /cut-chunked
        "scrapy.exceptions.DownloadFailedError": 1,  # /garbage
        "scrapy.exceptions.DownloadConnectionRefusedError": 1,
    }
    log = failures.log()
    assert "Getting http://127.0.0.1:" in log and "/slow took longer than 0.5 seconds." in log
    assert "Expected to receive 5000 bytes which is larger than download max size (1000)" in log
    assert "bytes which is larger than download max size (1000) in request <GET http://127.0.0.1:" in log
    assert "Expected to receive 5000 bytes which is larger than download warn size (1000)" in log


def test_responses_carry_the_flags_the_twisted_handler_gave(failures):
    items = {item["url"].rsplit("/", 1)[1]: item for item in failures.items()}
    assert set(items) == {"warn", "short-kept", "until-close"}
    assert items["warn"]["flags"] == [] and items["warn"]["status"] == 200
    assert items["short-kept"]["flags"] == ["dataloss"]
    assert items["until-close"]["flags"] == ["partial"]


def test_exchanges_that_ended_early_are_archived_as_far_as_they_came(failures):
    from tests.test_warc_writer import read_members

    blocks = {m.get("WARC-Target-URI").rsplit("/", 1)[1]: m.block
              for path in failures.files() for m in read_members(path) if m.type == "response"}
    assert blocks["short-kept"] == ROUTES["/short-kept"].head + ROUTES["/short-kept"].body
    assert blocks["until-close"] == ROUTES["/until-close"].head + ROUTES["/until-close"].body


# --- the address policy --------------------------------------------------------------------


def test_a_name_resolving_to_an_internal_address_is_refused_before_connecting(tmp_path, monkeypatch):
    server = RawServer(ROUTES).start()
    stub = tmp_path / "stub.json"
    stub.write_text(json.dumps({"answers": {"news.example": "127.0.0.1"}, "log": str(tmp_path / "asked.log")}))
    monkeypatch.setenv("STUB_DNS", str(stub))
    run = crawl(tmp_path / "crawl", "wire", [{"url": f"http://news.example:{server.port}/page"}],
                TWISTED_DNS_RESOLVER="tests.stub_resolver.StubResolver")
    server.stop()
    assert (tmp_path / "asked.log").read_text().split() == ["news.example"]
    assert exceptions(run) == {"scrapy.exceptions.CannotResolveHostError": 1}
    assert "refused" in run.log() and "127.0.0.1" in run.log()
    with server.lock:
        assert server.received == [] and server.connections == 0


# --- the pool ------------------------------------------------------------------------------


class _Transport:
    """Enough of an asyncio transport for the pool: closing it ends the connection."""

    def __init__(self):
        self.connection, self.closing = None, False

    def is_closing(self):
        return self.closing

    def close(self):
        self.closing = True
        self.connection.connection_lost(None)


def test_idle_connections_are_kept_per_key_and_closed_once_idle_too_long(monkeypatch):
    from crawler.downloadhandlers import http1_connection
    from crawler.downloadhandlers.http1_connection import IDLE_TIMEOUT, Connection, ConnectionKey, ConnectionPool
    from crawler.downloadhandlers.http1_reader import ResponseReader

    clock = [1000.0]
    monkeypatch.setattr(http1_connection.time, "monotonic", lambda: clock[0])
    pool = ConnectionPool(resolve=None, ssl_context=None, per_key=2)
    key = ConnectionKey("http", "example.org", 80, None, None)

    def answered(head=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"):
        connection = Connection(key, pool._lost)
        connection.transport = _Transport()
        connection.transport.connection = connection
        connection.reader = ResponseReader()
        connection.reader.feed(head)
        return connection

    first, second, third = answered(), answered(), answered()
    pool.release(first)
    clock[0] += IDLE_TIMEOUT / 2
    pool.release(second)
    pool.release(third)  # over the two a key: closed
    assert pool._idle[key] == [first, second] and third.transport.closing
    closing = answered(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    pool.release(closing)
    assert closing.transport.closing and pool._idle[key] == [first, second]
    clock[0] += IDLE_TIMEOUT / 2 + 1  # first idle past the timeout, second not
    again = pool._idle[key].pop()  # taken for another exchange, which went well
    again.reader = answered().reader
    pool.release(again)  # a release sweeps (at most every SWEEP_EVERY seconds)
    assert first.transport.closing and pool._idle[key] == [second] and again is second


# --- the handler's own shortcuts, against what they stand for ----------------------------------


def test_response_headers_are_stored_as_scrapys_headers_update_stores_them():
    import random

    from scrapy.http import Headers

    from crawler.downloadhandlers.wire import normalised_headers

    rng = random.Random(20)
    names = [b"content-type", b"Content-Type", b"CONTENT-TYPE", b"x-odd-CASE", b"Set-Cookie", b"set-cookie",
             b"x1y2-z_w", b"\xc3\xa9t\xc3\xa9", b"ETag", b"vary", b"", b"a-b-c", b"Last-Modified", b"x-\xff"]
    for _ in range(2000):
        pairs = [(rng.choice(names), bytes(rng.choice(b"ab ;=\xe9") for _ in range(rng.randrange(4))))
                 for _ in range(rng.randrange(12))]
        scrapys, ours = Headers(), Headers()
        scrapys[b"Content-Length"] = ours[b"Content-Length"] = b"12"
        scrapys.update(pairs)
        dict.update(ours, normalised_headers(pairs))
        assert list(dict.items(ours)) == list(dict.items(scrapys))  # the same names, lists and order
        assert list(ours.items()) == list(dict.items(ours))  # what `_prepare` reads for what Headers.items() gives


def test_the_origin_form_is_twisteds():
    from urllib.parse import urlunparse

    from scrapy import Request
    from scrapy.utils.httpobj import urlparse_cached

    from crawler.downloadhandlers.wire import _origin_form

    for url in ("http://a.vn", "http://a.vn/", "http://a.vn/p", "http://a.vn/p;x", "http://a.vn/p;x?q=1",
                "http://a.vn/p?q=1#f", "http://a.vn/?", "http://a.vn/;", "http://a.vn?q", "http://a.vn//double/p?q",
                "http://a.vn/%C3%A9?r=%20", "http://a.vn/a;b;c?d;e=f", "http://[::1]:8080/x?y"):
        parts = urlparse_cached(Request(url))
        twisted = urlunparse(("", "", parts.path, parts.params, parts.query, "")).encode("ascii") or b"/"
        assert _origin_form(parts) == twisted, url
