"""Scrapy components the default settings leave out because they would do nothing for this crawler."""
import json

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler import settings as defaults
from crawler.spiders.news import NewsSpider

OFFSITE = "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"


def test_offsite_filter_is_left_out_and_would_have_let_every_request_through():
    """Exact only while the news spider names no `allowed_domains`: Scrapy's filter then allows all."""
    settings = Settings()
    settings.setmodule(defaults)
    assert settings.getdict("DOWNLOADER_MIDDLEWARES")[OFFSITE] is None
    crawler = get_crawler(NewsSpider, {})
    spider = NewsSpider.from_crawler(crawler, urls="https://nhandan.vn/tin-moi.html")
    assert not getattr(spider, "allowed_domains", None)

    crawler.spider = spider
    offsite = build_from_crawler(OffsiteMiddleware, crawler)
    offsite.spider_opened(spider)
    for url in ("https://nhandan.vn/a.html", "https://image.nhandan.vn/w390/x.jpg", "https://cdn.example.com/s.css"):
        assert offsite.process_request(Request(url)) is None  # let through: nothing is lost without it


METACOPY = "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware"


def test_metacopy_check_is_left_out_and_the_spider_copies_no_internal_meta(crawl):
    """Scrapy's check only warns; re-enabled over a redirect chain (its `redirect_urls`, `redirect_times`
    in the response's meta) whose page's links are followed, it finds nothing to warn about."""
    settings = Settings()
    settings.setmodule(defaults)
    assert settings.getdict("SPIDER_MIDDLEWARES")[METACOPY] is None
    checked = {**defaults.SPIDER_MIDDLEWARES, METACOPY: 1000}
    run = crawl("urls=https://nhandan.vn/chuyen-huong-post900301.html", "depth=1", "max_pages=4",
                settings={"CORPUS_SEEDS": "", "SPIDER_MIDDLEWARES": json.dumps(checked)})
    assert run.returncode == 0, run.stderr
    log = run.log()
    assert "MetaCopyDetectionMiddleware" in log  # it was enabled (Scrapy lists the middlewares at start)
    stats = json.loads((run.out / "stats.json").read_text("utf-8"))
    assert stats["downloader/response_status_count/301"] >= 1
    assert "internal meta keys" not in log
    assert len(run.hits) > 3  # the page's links were followed from the redirected response


# --- the download handler's per-response signals, sent only while someone listens ---------------

def test_heard_signals_skip_a_send_with_no_receiver_and_reach_one_connected_later():
    from pydispatch import dispatcher
    from scrapy import signals
    from scrapy.exceptions import StopDownload
    from scrapy.utils._download_handlers import check_stop_download

    from crawler.downloadhandlers.heard_signals import AgentCrawler

    crawler = get_crawler()
    crawler.spider = object()
    agent_crawler = AgentCrawler(crawler)
    request = Request("https://nhandan.vn/a.html")
    assert not agent_crawler.signals.heard(signals.bytes_received)
    assert check_stop_download(signals.bytes_received, agent_crawler, request, data=b"abc") is None

    got = []

    def receiver(data, request, spider):
        got.append((data, request, spider))
        if data == b"stop":
            raise StopDownload(fail=False)

    crawler.signals.connect(receiver, signals.bytes_received, weak=False)  # after the agent's crawler was made
    assert agent_crawler.signals.heard(signals.bytes_received)
    assert not agent_crawler.signals.heard(signals.headers_received)
    assert check_stop_download(signals.bytes_received, agent_crawler, request, data=b"abc") is None
    stop = check_stop_download(signals.bytes_received, agent_crawler, request, data=b"stop")
    assert isinstance(stop, StopDownload) and stop.fail is False
    assert got == [(b"abc", request, crawler.spider), (b"stop", request, crawler.spider)]
    crawler.signals.disconnect(receiver, signals.bytes_received, weak=False)
    assert not agent_crawler.signals.heard(signals.bytes_received)

    # pydispatch's other tables: a receiver of every sender, and one of every signal.
    anyone = []
    dispatcher.connect(anyone.append, signals.headers_received, weak=False)  # sender: Any
    try:
        assert agent_crawler.signals.heard(signals.headers_received)
    finally:
        dispatcher.disconnect(anyone.append, signals.headers_received, weak=False)
    crawler.signals.connect(anyone.append, dispatcher.Any, weak=False)
    try:
        assert agent_crawler.signals.heard(signals.bytes_received)
    finally:
        crawler.signals.disconnect(anyone.append, dispatcher.Any, weak=False)
    assert not agent_crawler.signals.heard(signals.headers_received)


class LateSignalListener:
    """EXTENSIONS in the crawl below: connects `headers_received` and `bytes_received` once the first
    response has come, and writes what they carried beside the log."""

    def __init__(self, crawler):
        from scrapy import signals
        self.crawler, self.signals = crawler, signals
        self.headers, self.received = {}, {}
        crawler.signals.connect(self.response_received, signals.response_received)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def response_received(self, response, request, spider):
        if not self.headers:
            self.headers[""] = None  # connected once
            self.crawler.signals.connect(self.headers_received, self.signals.headers_received)
            self.crawler.signals.connect(self.bytes_received, self.signals.bytes_received)

    def headers_received(self, headers, body_length, request, spider):
        self.headers[request.url] = {"content_type": headers.get("Content-Type", b"").decode(),
                                     "length_header": (headers.get("Content-Length") or b"-1").decode(),
                                     "body_length": body_length}

    def bytes_received(self, data, request, spider):
        self.received[request.url] = self.received.get(request.url, 0) + len(data)

    def spider_closed(self, spider):
        from pathlib import Path
        out = Path(self.crawler.settings["LOG_FILE"]).with_name("late_signals.json")
        self.headers.pop("", None)
        out.write_text(json.dumps({"headers": self.headers, "received": self.received}))


def test_download_handler_signals_reach_receivers_connected_mid_crawl(crawl):
    """The capturing handler skips the two sends while nobody listens; an extension that connects
    receivers after the first response gets every later response's headers and body bytes."""
    extensions = {**defaults.EXTENSIONS, f"{__name__}.LateSignalListener": 900}
    run = crawl("urls=https://nhandan.vn/tin-moi.html", "depth=1", "max_pages=6",
                settings={"CORPUS_SEEDS": "", "EXTENSIONS": json.dumps(extensions)})
    assert run.returncode == 0, run.stderr
    seen = json.loads((run.out / "late_signals.json").read_text("utf-8"))
    assert len(seen["headers"]) >= 3, seen
    for url, head in seen["headers"].items():
        assert head["content_type"], url  # the headers Scrapy builds for the signal
        assert head["body_length"] == int(head["length_header"]), url
        if head["body_length"] > 0:
            assert seen["received"][url] == head["body_length"], url


# --- the referrer policy: Scrapy's default, each page's stripped URL worked out once ------------

def test_memo_referrer_policy_gives_scrapys_default_referrers_on_random_url_pairs():
    import random

    from scrapy.spidermiddlewares.referer import DefaultReferrerPolicy, RefererMiddleware

    from crawler import referrer_policy
    from crawler.referrer_policy import MemoDefaultReferrerPolicy

    settings = Settings()
    settings.setmodule(defaults)
    assert settings["REFERRER_POLICY"] == "crawler.referrer_policy.MemoDefaultReferrerPolicy"
    schemes = ["http", "https", "HTTPS", "ftp", "ftps", "file", "s3", "data", "about", " https", "ht\ttps"]
    hosts = ["nhandan.vn", "user:pw@nhandan.vn", "nhandan.vn:443", "nhandan.vn:80", "[::1]:8080", ""]
    tails = ["", "/", "/a.html", "/a.html?q=1#frag", "/p;x?y#", "#only"]
    rng = random.Random(1717)
    urls = [f"{rng.choice(schemes)}://{rng.choice(hosts)}{rng.choice(tails)}" for _ in range(300)]
    urls += ["data:text/plain,hi", "https:no-slashes", "http:/one-slash", "mailto:x@y.z", ""]
    scrapy_policy, memo_policy = DefaultReferrerPolicy(), MemoDefaultReferrerPolicy()
    for _ in range(3000):
        page, link = rng.choice(urls), rng.choice(urls)
        assert memo_policy.referrer(page, link) == scrapy_policy.referrer(page, link), (page, link)
        assert memo_policy.tls_protected(link) == scrapy_policy.tls_protected(link), link
    assert 0 < len(MemoDefaultReferrerPolicy._stripped) <= referrer_policy._MEMO_SIZE

    # Through the middleware, as a page's links get their Referer header.
    theirs = RefererMiddleware(Settings({"REFERRER_POLICY": "scrapy-default"}))
    ours = RefererMiddleware(settings)
    page = HtmlResponse("https://user:pw@nhandan.vn/a-post1.html#top", body=b"",
                        headers={"Content-Type": "text/html"})
    for link in ("https://nhandan.vn/b.html", "http://cdn.example.com/x.jpg", "https://image.nhandan.vn/y.jpg"):
        expected, got = Request(link), Request(link)
        theirs.get_processed_request(expected, page)
        ours.get_processed_request(got, page)
        assert got.headers.get("Referer") == expected.headers.get("Referer")
    assert got.headers.get("Referer") == b"https://nhandan.vn/a-post1.html"


def test_memo_referrer_policy_memo_is_bounded():
    from crawler import referrer_policy
    from crawler.referrer_policy import MemoDefaultReferrerPolicy

    policy = MemoDefaultReferrerPolicy()
    for n in range(referrer_policy._MEMO_SIZE + 10):
        assert policy.stripped_referrer(f"https://nhandan.vn/{n}.html#f") == f"https://nhandan.vn/{n}.html"
    assert len(MemoDefaultReferrerPolicy._stripped) <= referrer_policy._MEMO_SIZE
