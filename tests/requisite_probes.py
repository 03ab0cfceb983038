"""Components a test crawl loads by name (tests/test_requisite_scheduler.py): what reached the spider, and
how many requests the downloader held at once."""
from __future__ import annotations

from crawler.requisites import META


class SpiderInputProbe:
    """SPIDER_MIDDLEWARES, outermost: counts each response that reaches the spider's chain, by its
    requisite kind (`page` for the rest), in the stats as `test/spider_input/<kind>`."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_spider_input(self, response, spider=None):
        self.stats.inc_value(f"test/spider_input/{response.meta.get(META) or 'page'}")


class ActiveProbe:
    """DOWNLOADER_MIDDLEWARES, outermost: the most requests the downloader held at once, as each one
    arrives (`test/downloader_active_max`)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        self.crawler.stats.max_value("test/downloader_active_max", len(self.crawler.engine.downloader.active))
