"""Byte-exact capture: a real Scrapy crawl against a raw-socket server, checked record by record.

The crawl runs in a subprocess with the capturing download handler and the
WARC middleware, as `crawler/settings.py` enables them. The server sends
deliberately awkward bytes; the WARC records must hold exactly those bytes,
and the request records exactly what the server received. These tests guard
the private Scrapy/Twisted APIs the capture relies on: an upgrade that
breaks them fails here.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response
from testbed.crawlers import project_crawler, project_settings_dict
from warcio.archiveiterator import ArchiveIterator

from crawler.downloadhandlers.capture import CAPTURE_META_KEY, WireCapture
from crawler.downloadermiddlewares.warc_capture import (
    EXCHANGE_META_KEY,
    WarcCaptureMiddleware,
    exchange_from_capture,
    reconstructed_request_head,
    reconstructed_response_head,
)
from testbed.rawserver import RawServer, Reply
from tests.test_warc_writer import Member, read_members, sha1_b32, warcio_check

REPO = Path(__file__).resolve().parent.parent

# --- what the server sends --------------------------------------------------------------


def chunked(data: bytes, sizes: list[int], extensions: tuple[bytes, ...] = (), trailer: bytes = b"") -> bytes:
    out, start = [], 0
    for n, size in enumerate(sizes):
        ext = extensions[n] if n < len(extensions) else b""
        out.append(b"%x%s\r\n%s\r\n" % (size, ext, data[start : start + size]))
        start += size
    assert start == len(data)
    return b"".join(out) + b"0\r\n" + trailer + b"\r\n"


ODD_BODY = b"<html><body>odd headers</body></html>"
ODD = Reply(
    b"HTTP/1.1 200 Fine Thanks\r\n"
    b"x-LOWER-upper: Mixed\r\n"
    b"content-TYPE:   text/html; charset=utf-8   \r\n"
    b"Set-Cookie: a=1; Path=/\r\n"
    b"X-Folded: first line\r\n"
    b"\t  continued here\r\n"
    b"Set-Cookie: b=2; HttpOnly\r\n"
    b"zz-no-space:value\r\n"
    b"CONTENT-length: %d\r\n"
    b"\r\n" % len(ODD_BODY),
    ODD_BODY,
)
CHUNKED_DATA = b"hello, chunked world! " * 3
GZIPPED = gzip.compress(b"<html><body>" + b"compressed news text " * 40 + b"</body></html>", mtime=0)

ROUTES: dict[str, Reply] = {
    "/robots.txt": Reply(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n\r\n",
                         b"User-agent: *\nAllow: /\n"),
    "/odd": ODD,
    "/odd-head": ODD,
    "/bare-lf": Reply(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\nX-Mixed: lf only\nContent-Length: 7\n\n",
                      b"bare-lf"),
    "/chunked": Reply(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n",
        chunked(CHUNKED_DATA, [5, 17, len(CHUNKED_DATA) - 22], (b";name=value", b";flag"), b"X-Checksum: abc123\r\n"),
        piece=9, pause=0.002,  # split the stream across many reads
    ),
    "/early-hints": Reply(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n", b"<p>hint</p>",
        interim=b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n",
    ),
    "/close-delimited": Reply(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                              b"no length, the end is the close", close=True),
    "/gzip": Reply(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
        chunked(GZIPPED, [40, len(GZIPPED) - 40]),
    ),
    # The parser reads past the body; the capture must cut there (`_finished(rest)`).
    "/extra-bytes": Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", b"body",
                          after=b"HTTP/1.1 200 junk the client never asked for\r\n\r\n", close=True),
    "/r1": Reply(b"HTTP/1.1 301 Moved Permanently\r\nLocation: /r2\r\nContent-Length: 0\r\n\r\n"),
    "/r2": Reply(b"HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n"),
    "/final": Reply(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n", b"<p>final</p>"),
    "/missing": Reply(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\n", b"nope"),
    "/error": Reply(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\n", b"oops!"),
    "/no-reason": Reply(b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\n", b"ok"),
    "/not-modified": Reply(b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n"),
    "/post": Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", b"posted"),
    "/secure": Reply(b"HTTP/1.1 200 OK\r\nX-Tls: yes\r\nContent-Length: 6\r\n\r\n", b"secret"),
    "/tunneled": Reply(b"HTTP/1.1 200 OK\r\nX-Via: tunnel\r\nContent-Length: 8\r\n\r\n", b"tunneled"),
    "/proxied": Reply(b"HTTP/1.1 200 OK\r\nX-Via: proxy\r\nContent-Length: 7\r\n\r\n", b"proxied"),
}
PAGES = 16


def page(n: int) -> Reply:
    text = b"page %d " % n * 30
    if n % 2:
        return Reply(b"HTTP/1.1 200 OK\r\nX-Page: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % n,
                     chunked(text, [100, len(text) - 100]))
    return Reply(b"HTTP/1.1 200 OK\r\nX-Page: %d\r\nContent-Length: %d\r\n\r\n" % (n, len(text)), text)


def route(path: str) -> Reply | None:
    if path.startswith("/page/"):
        return page(int(path.rsplit("/", 1)[1]))
    if path.startswith("/slow/"):
        body = b"slow %s" % path.encode()
        return Reply(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body), body, delay=0.25)
    return ROUTES.get(path)


# --- running a crawl in a subprocess -----------------------------------------------------

CRAWL_SCRIPT = r'''
import json, sys
import scrapy
from scrapy.crawler import CrawlerProcess

config = json.loads(open(sys.argv[1]).read()) if __name__ == "__main__" else {}

class CaptureTestSpider(scrapy.Spider):
    name = "capture-test"

    async def start(self):
        for spec in config["requests"]:
            yield scrapy.Request(
                spec["url"], method=spec.get("method", "GET"), body=spec.get("body", "").encode(),
                headers=spec.get("headers"), meta=spec.get("meta", {}), dont_filter=True,
                callback=self.parse,
            )

    def parse(self, response):
        location = response.meta.get("warc_location")
        resolved = None
        if location is not None and config.get("resolve_locations", True):
            resolved = location.result(timeout=30)  # blocks the reactor: fine for tests only
        yield {
            "url": response.url, "status": response.status, "flags": response.flags,
            "record_id": response.meta.get("warc_record_id"),
            "warc_file": resolved and resolved.warc_file, "offset": resolved and resolved.offset,
            "location_record_id": resolved and resolved.record_id,
        }

if __name__ == "__main__":  # the WARC writer's child process imports this script again: it must not crawl
    process = CrawlerProcess(settings=config["settings"])
    crawler = process.create_crawler(CaptureTestSpider)
    process.crawl(crawler)
    process.start()
    with open(config["stats_file"], "w") as f:
        json.dump(crawler.stats.get_stats(), f, default=str)
'''


@dataclass
class CrawlOutput:
    out: Path
    returncode: int | None = None

    @property
    def warc_dir(self) -> Path:
        return self.out / "warc"

    def files(self) -> list[Path]:
        return sorted(self.warc_dir.glob("*.warc.gz"))

    def members(self) -> list[tuple[Path, Member]]:
        return [(path, member) for path in self.files() for member in read_members(path)]

    def items(self) -> list[dict]:
        path = self.out / "items.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def stats(self) -> dict:
        return json.loads((self.out / "stats.json").read_text())

    def log(self) -> str:
        return (self.out / "crawl.log").read_text()


# The two capturing download handlers: the tee of Scrapy's Twisted one, and our own HTTP/1.1 client.
HANDLERS = {"twisted": "crawler.downloadhandlers.capture.CapturingHTTP11DownloadHandler",
            "wire": "crawler.downloadhandlers.wire.WireHTTP11DownloadHandler"}


def crawl_settings(out: Path, handler: str | None = None, **overrides) -> dict:
    # The WARC settings as a real crawl declares them (crawler/settings.py), then this test's own;
    # the project's download handler unless `handler` names one.
    project = project_settings_dict()
    settings = {name: value for name, value in project.items() if name.startswith("WARC_")}
    handler = handler or project["DOWNLOAD_HANDLERS"]["http"]
    settings |= {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "DOWNLOADER_MIDDLEWARES": {"crawler.downloadermiddlewares.warc_capture.WarcCaptureMiddleware": 950},
        "WARC_ENABLED": True,
        "WARC_DIR": str(out / "warc"),
        "WARC_PREFIX": "capture",
        "ROBOTSTXT_OBEY": True,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "RETRY_ENABLED": False,
        "HTTPERROR_ALLOW_ALL": True,
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "DOWNLOAD_TIMEOUT": 10,
        "USER_AGENT": "capture-test/1.0",
        "LOG_LEVEL": "INFO",
        "LOG_FILE": str(out / "crawl.log"),
        "FEEDS": {str(out / "items.jsonl"): {"format": "jsonlines"}},
    }
    settings.update(overrides)
    return settings


def start_crawl(out: Path, requests: list[dict], settings: dict, *, resolve_locations: bool = True) -> subprocess.Popen:
    out.mkdir(parents=True, exist_ok=True)
    (out / "crawl.py").write_text(CRAWL_SCRIPT)
    config = {"requests": requests, "settings": settings, "stats_file": str(out / "stats.json"),
              "resolve_locations": resolve_locations}
    (out / "config.json").write_text(json.dumps(config))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(out / "crawl.py"), str(out / "config.json")],
        cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the main crawl, shared by the tests below --------------------------------------------


@dataclass
class Capture:
    plain: RawServer
    tls: RawServer
    run: CrawlOutput

    def responses(self) -> dict[str, Member]:
        return {m.get("WARC-Target-URI"): m for _, m in self.run.members() if m.type == "response"}

    def by_id(self) -> dict[str, Member]:
        return {m.get("WARC-Record-ID"): m for _, m in self.run.members()}


@pytest.fixture(scope="module", params=sorted(HANDLERS))
def capture(tmp_path_factory, request) -> Capture:
    plain = RawServer(route).start()
    tls = RawServer(route, tls=True).start()
    proxy = f"http://127.0.0.1:{plain.port}"
    requests = [{"url": plain.url(path)} for path in ROUTES if path not in ("/robots.txt", "/r2", "/final",
                                                                             "/odd-head", "/post", "/secure",
                                                                             "/tunneled")]
    requests += [
        {"url": plain.url("/odd-head"), "method": "HEAD"},
        {"url": plain.url("/post"), "method": "POST", "body": "a=1&b=%C3%A9",
         "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"url": tls.url("/secure")},
        {"url": tls.url("/tunneled"), "meta": {"proxy": proxy}},  # HTTPS via CONNECT
        {"url": "http://127.0.0.1:%d/proxied" % tls.port, "meta": {"proxy": proxy}},  # plain HTTP via proxy
        {"url": f"http://127.0.0.1:{free_port()}/refused", "meta": {"dont_obey_robotstxt": True}},
    ]
    requests += [{"url": plain.url(f"/page/{n}")} for n in range(PAGES)]
    run = CrawlOutput(tmp_path_factory.mktemp("capture"))
    proc = start_crawl(run.out, requests, crawl_settings(run.out, HANDLERS[request.param], WARC_MAX_SIZE=4096))
    output, _ = proc.communicate(timeout=60)
    run.returncode = proc.returncode
    plain.stop()
    tls.stop()
    assert proc.returncode == 0, output.decode(errors="replace")
    return Capture(plain, tls, run)


EXACT_PATHS = [p for p in ROUTES if p not in ("/secure", "/tunneled", "/proxied", "/odd-head")]


@pytest.mark.parametrize("path", EXACT_PATHS)
def test_response_record_holds_exactly_what_the_server_sent(capture, path):
    reply = ROUTES[path]
    record = capture.responses()[capture.plain.url(path)]
    assert record.block == reply.head + reply.body


def test_head_request_stores_the_head_only(capture):
    record = capture.responses()[capture.plain.url("/odd-head")]
    assert record.block == ODD.head


def test_https_direct_and_through_a_connect_tunnel_are_exact(capture):
    responses = capture.responses()
    for path in ("/secure", "/tunneled"):
        assert responses[capture.tls.url(path)].block == ROUTES[path].head + ROUTES[path].body


def test_plain_http_through_a_proxy_records_the_absolute_uri_request_line(capture):
    url = "http://127.0.0.1:%d/proxied" % capture.tls.port
    response = capture.responses()[url]
    assert response.block == ROUTES["/proxied"].head + ROUTES["/proxied"].body
    request = capture.by_id()[_request_for(capture, response).get("WARC-Record-ID")]
    assert request.block.startswith(f"GET {url} HTTP/1.1\r\n".encode())


def _request_for(capture: Capture, response: Member) -> Member:
    [request] = [m for _, m in capture.run.members()
                 if m.type == "request" and m.get("WARC-Concurrent-To") == response.get("WARC-Record-ID")]
    return request


def test_request_records_hold_exactly_what_the_server_received(capture):
    received = {}
    for server in (capture.plain, capture.tls):
        with server.lock:
            for target, raw in server.received:
                received.setdefault(raw, target)
    requests = [m for _, m in capture.run.members() if m.type == "request"]
    assert len(requests) == len(capture.responses())
    for request in requests:
        assert request.block in received, request.block
        assert re.search(rb"\r\nHost: 127\.0\.0\.1:\d+\r\n", request.block)
        assert request.get("WARC-IP-Address") == "127.0.0.1"
    post = next(m for m in requests if m.get("WARC-Target-URI").endswith("/post"))
    assert post.block.endswith(b"\r\n\r\na=1&b=%C3%A9")
    assert post.get("WARC-Payload-Digest") == sha1_b32(b"a=1&b=%C3%A9")


def test_requests_and_responses_are_linked(capture):
    responses = capture.responses()
    for response in responses.values():
        request = _request_for(capture, response)
        assert request.get("WARC-Target-URI") == response.get("WARC-Target-URI")
        assert request.get("WARC-Date") == response.get("WARC-Date")
        assert response.get("WARC-IP-Address") == "127.0.0.1"


def test_payload_digest_covers_the_still_encoded_body_as_stored(capture):
    """The declared default, WARC_PAYLOAD_DIGEST = "stored": the body as it came off the wire (still
    content-encoded; chunk framing kept), which warcio checks. The entity form (de-chunked) is
    tested in tests/test_warc_writer.py."""
    responses = capture.responses()
    gz = responses[capture.plain.url("/gzip")]  # gzip sent chunked: digest over the chunked gzip bytes
    assert gz.get("WARC-Payload-Digest") == sha1_b32(chunked(GZIPPED, [40, len(GZIPPED) - 40]))
    chunk = responses[capture.plain.url("/chunked")]
    assert chunk.get("WARC-Payload-Digest") != sha1_b32(CHUNKED_DATA)  # not de-chunked
    odd = responses[capture.plain.url("/odd")]
    assert odd.get("WARC-Payload-Digest") == sha1_b32(ODD_BODY)
    for record in responses.values():
        head, _, body = record.block.partition(b"\r\n\r\n") if b"\r\n\r\n" in record.block else \
            record.block.partition(b"\n\n")
        assert record.get("WARC-Payload-Digest") == sha1_b32(body), record.get("WARC-Target-URI")
        assert record.get("WARC-Block-Digest") == sha1_b32(record.block)


def test_early_hints_are_kept_apart_in_a_metadata_record(capture):
    response = capture.responses()[capture.plain.url("/early-hints")]
    notes = [m for _, m in capture.run.members()
             if m.type == "metadata" and m.get("WARC-Concurrent-To") == response.get("WARC-Record-ID")]
    assert [n.block for n in notes] == [ROUTES["/early-hints"].interim]


def test_every_exchange_is_archived_redirects_errors_and_robots_included(capture):
    responses = capture.responses()
    for path in ("/robots.txt", "/r1", "/r2", "/final", "/missing", "/error", "/not-modified"):
        assert capture.plain.url(path) in responses, path
    assert capture.tls.url("/robots.txt") in responses
    statuses = {path: responses[capture.plain.url(path)].block.split(b" ", 2)[1] for path in ("/r1", "/r2", "/final")}
    assert statuses == {"/r1": b"301", "/r2": b"302", "/final": b"200"}


def test_keep_alive_and_concurrency_keep_captures_apart(capture):
    responses = capture.responses()
    for n in range(PAGES):
        assert responses[capture.plain.url(f"/page/{n}")].block == page(n).head + page(n).body
    with capture.plain.lock:
        assert capture.plain.connections < len(capture.plain.received), "connections were reused"


def test_files_rotate_start_with_warcinfo_and_are_all_closed(capture):
    files = capture.run.files()
    assert len(files) >= 3
    assert not list(capture.run.warc_dir.glob("*.open"))
    for path in files:
        members = read_members(path)
        assert members[0].type == "warcinfo"
        assert b"robots: obey\r\n" in members[0].block
        assert all(m.get("WARC-Warcinfo-ID") == members[0].get("WARC-Record-ID") for m in members[1:])


def test_warcio_reads_every_file_and_check_disputes_only_chunked_entity_digests(capture):
    chunked_ids = {m.get("WARC-Record-ID") for m in capture.responses().values()
                   if b"transfer-encoding: chunked" in m.block.split(b"\r\n\r\n")[0].lower()}
    assert chunked_ids
    for path in capture.run.files():
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                record.content_stream().read()
        check = warcio_check(path)
        disputed = set(re.findall(r"WARC-Record-ID (<urn:uuid:[^>]+>) response\n\s+payload digest failed",
                                  check.stdout))
        assert disputed <= chunked_ids, check.stdout
        assert "block digest failed" not in check.stdout
        assert check.returncode == (1 if disputed else 0), check.stdout


def test_callbacks_get_record_ids_and_locations_of_their_response_records(capture):
    items = capture.run.items()
    assert len(items) == len(EXACT_PATHS) - 3 + 5 + PAGES  # minus robots/r2/final, plus head/post/tls/tunnel/proxy
    for item in items:
        assert item["record_id"] == item["location_record_id"]
        member = next(m for m in read_members(capture.run.warc_dir / item["warc_file"])
                      if m.offset == item["offset"])
        assert member.type == "response"
        assert member.get("WARC-Record-ID") == item["record_id"]
        assert member.get("WARC-Target-URI") == item["url"]


def test_stats_count_exact_heads_and_failed_downloads(capture):
    stats = capture.run.stats()
    responses = len(capture.responses())
    assert stats["warc/exact_heads"] == responses
    assert "warc/reconstructed_heads" not in stats
    assert stats["warc/failed_downloads"] == 1
    assert stats["warc/files"] == len(capture.run.files())
    assert stats["warc/records"] == len(capture.run.members())
    assert stats["warc/bytes"] == sum(p.stat().st_size for p in capture.run.files())
    assert "Not archived, no response: GET http://127.0.0.1:" in capture.run.log()


# --- graceful shutdown ---------------------------------------------------------------------


@pytest.mark.parametrize("signals, log_line", [
    ([signal.SIGTERM], "Received SIGTERM, shutting down gracefully"),
    ([signal.SIGINT], "Received SIGINT, shutting down gracefully"),  # Ctrl-C
    # A second signal skips spider_closed; the writer's atexit hook still closes the file.
    ([signal.SIGTERM, signal.SIGTERM], "forcing unclean shutdown"),
], ids=["sigterm", "ctrl-c", "forced"])
def test_shutdown_mid_crawl_leaves_only_closed_valid_files(tmp_path, signals, log_line):
    server = RawServer(route).start()
    requests = [{"url": server.url(f"/slow/{n}")} for n in range(80)]
    run = CrawlOutput(tmp_path)
    proc = start_crawl(run.out, requests, crawl_settings(run.out, WARC_MAX_SIZE=3000,
                                                         CONCURRENT_REQUESTS_PER_DOMAIN=2))
    try:
        deadline = time.monotonic() + 30
        while not list(run.warc_dir.glob("*.open")) and not list(run.warc_dir.glob("*.warc.gz")):
            assert time.monotonic() < deadline, "crawl never started writing"
            assert proc.poll() is None, proc.stdout.read().decode()
            time.sleep(0.05)
        time.sleep(0.5)
        for number, signum in enumerate(signals, 1):
            proc.send_signal(signum)
            # The next signal only once this one was handled: two signals arriving before the
            # handler runs are one to the process, and the forced case would not be exercised.
            while number < len(signals) and run.log().count("shutting down gracefully") < number:
                assert time.monotonic() < deadline + 30, "the first signal was never handled"
                time.sleep(0.01)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()
    assert proc.returncode == 0, output.decode(errors="replace")
    assert log_line in run.log()
    assert not list(run.warc_dir.glob("*.open"))
    files = run.files()
    assert files
    responses = [m for _, m in run.members() if m.type == "response"]
    assert 0 < len(responses) < 80, "stopped mid-crawl"
    for path in files:
        check = warcio_check(path)
        assert check.returncode == 0, check.stdout


# --- middleware without a crawl ---------------------------------------------------------


@pytest.fixture
def middleware(tmp_path):
    crawler = project_crawler(WARC_DIR=str(tmp_path / "warc"), ROBOTSTXT_OBEY=False)
    crawler.stats.open_spider()
    mw = WarcCaptureMiddleware.from_crawler(crawler)
    yield mw
    mw.writer.close()


def test_warc_disabled_raises_not_configured(tmp_path):
    crawler = project_crawler(WARC_ENABLED=False, WARC_DIR=str(tmp_path))
    with pytest.raises(NotConfigured):
        WarcCaptureMiddleware.from_crawler(crawler)


def test_without_capture_heads_are_rebuilt_and_marked_inexact(middleware, tmp_path):
    request = Request("http://example.com:8080/a;p?q=1", headers={"Accept": "text/html"})
    response = HtmlResponse(
        request.url, status=404, body=b"<p>gone</p>", request=request, protocol="HTTP/1.1",
        headers=[("Content-Type", "text/html"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
    )
    assert middleware.process_response(request, response) is response
    location = request.meta["warc_location"].result(timeout=10)
    assert location.record_id == request.meta["warc_record_id"]
    middleware.close_writer()
    members = {m.get("WARC-Record-ID"): m for m in read_members(tmp_path / "warc" / location.warc_file)}
    record = members[location.record_id]
    assert record.block == (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
                            b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n<p>gone</p>")
    notes = [m for m in members.values() if m.type == "metadata"]
    assert len(notes) == 1 and b"not byte-exact" in notes[0].block
    assert middleware.stats.get_value("warc/reconstructed_heads") == 1


def test_rebuilt_request_head_names_the_host_with_its_port():
    request = Request("http://example.com:8080/a;p?q=1", method="POST", body=b"x=1",
                      headers={"Accept": "text/html"})
    assert reconstructed_request_head(request) == (
        b"POST /a;p?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: text/html\r\nContent-Length: 3\r\n\r\n"
    )
    assert reconstructed_request_head(Request("https://example.com/")).startswith(
        b"GET / HTTP/1.1\r\nHost: example.com\r\n")


def test_rebuilt_response_head_has_a_reason_phrase():
    response = Response("http://example.com/", status=301, headers={"Location": "/b"})
    assert reconstructed_response_head(response) == b"HTTP/1.1 301 Moved Permanently\r\nLocation: /b\r\n\r\n"


def test_cached_and_skipped_responses_are_not_archived(middleware):
    cached_request = Request("http://example.com/cached", meta={"warc_location": "stale"})
    cached = Response(cached_request.url, flags=["cached"], request=cached_request)
    skipped_request = Request("http://example.com/skip", meta={"warc_skip": True})
    skipped = Response(skipped_request.url, request=skipped_request)
    for request, response in ((cached_request, cached), (skipped_request, skipped)):
        assert middleware.process_response(request, response) is response
        assert "warc_location" not in request.meta
    assert middleware.writer.stats.records == 0


def test_unchanged_payload_and_304_become_revisits(middleware, tmp_path):
    previous = {"uri": "http://example.com/a", "date": "2025-01-01T00:00:00Z",
                "record_id": "<urn:uuid:orig>", "payload_digest": sha1_b32(b"same")}
    same = Request("http://example.com/a", meta={"warc_revisit_of": previous})
    middleware.process_response(same, Response(same.url, body=b"same", request=same))
    not_modified = Request("http://example.com/a", meta={"warc_revisit_of": previous})
    middleware.process_response(not_modified, Response(same.url, status=304, request=not_modified))
    changed = Request("http://example.com/a", meta={"warc_revisit_of": previous})
    middleware.process_response(changed, Response(same.url, body=b"new", request=changed))
    ids = [r.meta["warc_location"].result(timeout=10).record_id for r in (same, not_modified, changed)]
    middleware.close_writer()
    [path] = (tmp_path / "warc").glob("*.warc.gz")
    members = {m.get("WARC-Record-ID"): m for m in read_members(path)}
    assert [members[i].type for i in ids] == ["revisit", "revisit", "response"]
    assert members[ids[0]].get("WARC-Profile").endswith("identical-payload-digest")
    assert members[ids[1]].get("WARC-Profile").endswith("server-not-modified")
    assert members[ids[0]].get("WARC-Refers-To") == "<urn:uuid:orig>"
    assert middleware.stats.get_value("warc/revisits") == 2


def test_an_identity_body_is_kept_once_and_checked_by_length():
    capture = WireCapture()
    capture.head_complete(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
    capture.body_received(b"body")
    payload = b"body"
    assert capture.block_body(payload) is payload and not capture._body_parts
    assert capture.block_body(b"bod") is None  # not the body that crossed the wire: not trusted
    chunked = WireCapture()
    chunked.head_complete(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n")
    chunked.body_received(b"4\r\nbody\r\n0\r\n\r\n")
    assert chunked.block_body(b"body") == b"4\r\nbody\r\n0\r\n\r\n"


def test_a_capture_that_does_not_match_the_response_is_rebuilt_not_trusted(middleware):
    request = Request("http://example.com/page")
    capture = WireCapture()
    capture._sent.append(b"GET /page HTTP/1.1\r\nHost: example.com\r\n\r\n")
    capture.head_complete(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    capture.body_received(b"other")
    request.meta[CAPTURE_META_KEY] = capture
    middleware.process_response(request, HtmlResponse(request.url, body=b"<p>page</p>", request=request))
    assert middleware.stats.get_value("warc/reconstructed_heads") == 1


def test_the_exchange_the_incremental_middleware_built_is_archived_not_built_again(middleware):
    """The incremental middleware (960) builds the exchange of each response for its own use and hands
    it over; the capture middleware archives that one when it is of this response, else builds its own."""
    def exchange_for(url, body):
        request = Request(url)
        capture = WireCapture()
        capture._sent.append(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        capture.head_complete(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        capture.body_received(body)
        request.meta[CAPTURE_META_KEY] = capture
        response = HtmlResponse(url, body=body, request=request)
        return request, response, exchange_from_capture(request, response, capture)

    written = []
    write = middleware.writer.write_exchange
    middleware.writer.write_exchange = lambda exchange: written.append(exchange) or write(exchange)
    request, response, built = exchange_for("http://example.com/a", b"<p>a</p>")
    request.meta[EXCHANGE_META_KEY] = built
    middleware.process_response(request, response)
    assert written[-1] is built and EXCHANGE_META_KEY not in request.meta
    other_request, other_response, other = exchange_for("http://example.com/b", b"<p>b</p>")
    other_request.meta[EXCHANGE_META_KEY] = built  # left over from another response: not trusted
    middleware.process_response(other_request, other_response)
    assert written[-1] is not built and written[-1] == other
