"""Scrapy components the default settings leave out because they would do nothing for this crawler."""
import json

from scrapy import Request
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
