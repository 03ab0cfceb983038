"""Scrapy components the default settings leave out because they would do nothing for this crawler."""
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
