"""The reactor thread's own cost of WARC capture, measured without a network or a server.

The crawl benchmark's on/off ratio mixes this cost with everything else that
competes for two cores (the writer process, the local bench server); this
runs the capture middleware and the hand-off to the writer process alone, on
the bench's pages, and reports CPU microseconds per page (the CPU of this
process: with the writer process, the calling thread also pickles the batches
and writes them to the pipe, as the reactor does in a crawl; the writer
process works on the other core). What it leaves out: the wire tee in the
download handler (no measurable cost: a crawl with the tee and without the
middleware runs as fast as stock Scrapy), and the cache misses of a real crawl,
where the same work measured ~2-3x slower between all the other code that runs.

    python -m bench.capture_cost [--pages 200] [--rounds 10]
"""
from __future__ import annotations

import argparse
import gzip
import tempfile
import time

from scrapy.http import HtmlResponse, Request
from testbed.crawlers import project_crawler

from testbed.bench_site import article_html, article_url
from crawler.downloadhandlers.capture import CAPTURE_META_KEY, WireCapture
from crawler.downloadermiddlewares.warc_capture import WarcCaptureMiddleware

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
        b"Vary: Accept-Encoding\r\nContent-Length: %d\r\n\r\n")
REQUEST = b"GET / HTTP/1.1\r\nHost: nhandan.vn\r\nUser-Agent: bench\r\nAccept-Encoding: gzip, deflate\r\n\r\n"


def measure(pages: int = 200, rounds: int = 10, writer: str = "process") -> dict:
    crawler = project_crawler(WARC_DIR=tempfile.mkdtemp(prefix="bench-capture-"), ROBOTSTXT_OBEY=False,
                              WARC_WRITER=writer, WARC_INDEX=False)
    crawler.stats.open_spider()
    middleware = WarcCaptureMiddleware.from_crawler(crawler)
    bodies = [(article_url(n), gzip.compress(article_html(n, 2000), 6)) for n in range(pages)]
    exchanges = []
    for _ in range(rounds):  # built beforehand: only the middleware's work is timed
        for url, body in bodies:
            request = Request(url)
            capture = WireCapture()
            capture._sent.append(REQUEST)
            capture.head_complete(HEAD % len(body))
            capture.body_received(body)
            request.meta[CAPTURE_META_KEY] = capture
            exchanges.append((request, HtmlResponse(url, status=200, body=body, request=request)))
    started = time.process_time()
    for request, response in exchanges:
        middleware.process_response(request, response)
    cpu = time.process_time() - started
    middleware.close_writer()
    return {"pages": len(exchanges), "writer": writer, "cpu_us_per_page": round(cpu / len(exchanges) * 1e6)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    for writer in ("process", "thread"):
        result = measure(args.pages, args.rounds, writer)
        print(f"capture middleware, WARC_WRITER={writer}: {result['cpu_us_per_page']} µs of this "
              f"process's CPU per page ({result['pages']} pages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
