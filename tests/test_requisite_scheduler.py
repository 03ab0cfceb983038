"""The scheduler that fetches page requisites leading nowhere beside the spider's chain
(crawler/requisite_scheduler.py): the same requests, records and counts as Scrapy's scheduler, with
only pages and stylesheets reaching the spider."""
from __future__ import annotations

import json
import shutil

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.settings import Settings
from twisted.python.failure import Failure

from crawler import settings as defaults
from crawler.requisite_scheduler import RequisiteFetchingScheduler
from crawler.requisites import leads_nowhere
from tests.conftest import run_crawl
from tests.test_requisites import CDN, PAGE_A, ROOT, SETTINGS, _records
from testbed.fixtureserver import FixtureServer, FixtureSite

# Page A's lazy photo answers 503 (retried once: the downloader hands back a request, which goes through the
# scheduler again), its poster is gone, and page B's photo redirects (archived as is: `handle_httpstatus_all`).
ROUTES = {"cdn.nhandan-static.vn/photos/a-lazy.jpg": {"status": 503},
          "cdn.nhandan-static.vn/photos/a-poster.jpg": {"status": 404},
          "cdn.nhandan-static.vn/photos/b-photo.jpg": {"status": 302, "location": f"{CDN}/photos/a-small.jpg"}}
PROBES = {"SPIDER_MIDDLEWARES": {**defaults.SPIDER_MIDDLEWARES, "tests.requisite_probes.SpiderInputProbe": 10},
          "DOWNLOADER_MIDDLEWARES": {**defaults.DOWNLOADER_MIDDLEWARES, "tests.requisite_probes.ActiveProbe": 1}}
STOCK = "scrapy.core.scheduler.Scheduler"
COMPARED = ("scheduler/enqueued", "scheduler/dequeued", "dupefilter/filtered", "retry/count", "downloader/request_count",
            "downloader/response_count", "response_received_count", "warc/records", "urls/ok", "urls/failed")


@pytest.fixture(scope="module")
def redirecting_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("site") / "requisites"
    shutil.copytree(ROOT, root)
    routes = json.loads((root / "_routes.json").read_text())
    (root / "_routes.json").write_text(json.dumps({**routes, **ROUTES}))
    server = FixtureServer(FixtureSite(root)).start_background()
    yield server
    server.shutdown()


def _crawl(out, server, scheduler: str | None, concurrency: int):
    settings = {**SETTINGS, "CONCURRENT_REQUESTS": concurrency, "RETRY_TIMES": 1,
                **{name: json.dumps(value) for name, value in PROBES.items()}}
    if scheduler:
        settings["SCHEDULER"] = scheduler
    run = run_crawl(out, f"urls={PAGE_A}", "depth=1", "topic=none", server=server, settings=settings)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


@pytest.mark.parametrize("concurrency", [16, 2])
def test_same_records_and_counts_as_scrapys_scheduler(tmp_path, redirecting_server, concurrency):
    ours = _crawl(tmp_path / "ours", redirecting_server, None, concurrency)
    stock = _crawl(tmp_path / "stock", redirecting_server, STOCK, concurrency)
    assert _records(ours.warc_dir) == _records(stock.warc_dir)
    records = _records(ours.warc_dir)
    assert records[("response", f"{CDN}/photos/a-lazy.jpg")] == 2  # the 503 and its retry
    assert records[("response", f"{CDN}/photos/b-photo.jpg")] == 1  # the 302
    assert records[("response", f"{CDN}/photos/a-poster.jpg")] == 1  # the 404
    for run in (ours, stock):
        assert run.stats["retry/count"] == 1 and run.stats["scheduler/enqueued"] == 2 + 17 + 1
        assert run.stats["requisites/status/503"] == 1 and run.stats["requisites/status/404"] == 1
        assert not any(key.startswith("spider_exceptions") for key in run.stats)
        # Robots.txt requests go beside the engine's cap (Scrapy's RobotsTxtMiddleware); the rest stay under it.
        assert run.stats["test/downloader_active_max"] <= concurrency + 2
    ours_counts = {key: value for key, value in ours.stats.items()
                   if key.startswith(("requisites/", "downloader/response_status_count/")) or key in COMPARED}
    stock_counts = {key: value for key, value in stock.stats.items()
                    if key.startswith(("requisites/", "downloader/response_status_count/")) or key in COMPARED}
    ours_counts.pop("requisites/waiting_max", None), stock_counts.pop("requisites/waiting_max", None)
    assert ours_counts == stock_counts
    # Only pages and stylesheets reach the spider's chain with this scheduler; every response with Scrapy's.
    seen = {key.rsplit("/", 1)[1]: value for key, value in ours.stats.items() if key.startswith("test/spider_input/")}
    assert seen == {"page": 2, "style": 2}
    stock_seen = {key.rsplit("/", 1)[1]: value for key, value in stock.stats.items()
                  if key.startswith("test/spider_input/")}
    assert stock_seen["image"] > 0 and stock_seen["script"] == 1 and stock_seen["font"] == 2


def test_leads_nowhere_is_every_requisite_but_a_stylesheet():
    url = "https://cdn.example.vn/a"
    assert all(leads_nowhere(Request(url, meta={"requisite": kind})) for kind in ("image", "script", "font", "media"))
    assert not leads_nowhere(Request(url, meta={"requisite": "style"}))
    assert not leads_nowhere(Request(url))  # a page


class _Scraper:
    def __init__(self):
        self.errors = []

    def handle_spider_error(self, failure, request, response):
        self.errors.append((failure.value, request, response))


class _Crawler:
    def __init__(self):
        self.engine = type("Engine", (), {"scraper": _Scraper()})()
        self.settings = Settings()


def test_answers_go_to_the_callback_or_errback_and_output_is_a_spider_error():
    crawler = _Crawler()
    scheduler = RequisiteFetchingScheduler(dupefilter=None, crawler=crawler)
    errors = crawler.engine.scraper.errors
    got = []
    request = Request("https://cdn.example.vn/a.jpg", meta={"requisite": "image"},
                      callback=lambda response: got.append(response), errback=got.append)
    response = Response(request.url, request=request)
    scheduler._answer(request.callback, response, request)
    failure = Failure(ValueError("connection lost"))
    scheduler._answer(request.errback, failure, request)
    assert got == [response, failure] and failure.request is request and errors == []
    # A callback that yields (a stylesheet's, sent here by mistake) is reported, not scheduled past the chain.
    yielding = request.replace(callback=lambda response: iter([Request("https://cdn.example.vn/b.jpg")]))
    scheduler._answer(yielding.callback, response, yielding)
    [(error, errored_request, errored_response)] = errors
    assert isinstance(error, TypeError) and "yielded 1 element" in str(error)
    assert errored_request is yielding and errored_response is response
