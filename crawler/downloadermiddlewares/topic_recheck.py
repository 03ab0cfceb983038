"""Re-judges a topic link chosen by its anchor when its turn to be fetched comes, not when found.

A link followed for its anchor (rules `related`, `anchor`, `tunnel` in
crawler/relevance.py; links without any evidence are held by
crawler/topic_frontier.py instead) was chosen with what the crawl knew then;
by the time the scheduler hands it out the crawl may have judged pages like
its target (crawler/judged_pages.py). This downloader middleware asks the
topic gate again just before the download: a link whose anchor now leans
clearly off topic is dropped (stat `topic/dropped_on_recheck`) and given back to the
dupe filter (`REQUEST_RELEASED`, crawler/dupefilter.py), so a later link to the same
page can still request it.
Off with `TOPIC_RECHECK = False`, or when the crawl has no topic.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.dupefilter import REQUEST_RELEASED

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

RECHECK_ANCHOR = "topic_anchor"  # request meta: the anchor a topic link was chosen by


class TopicRecheckMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        if not crawler.settings.getbool("TOPIC_RECHECK"):
            raise NotConfigured("TOPIC_RECHECK is off")
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        anchor = request.meta.get(RECHECK_ANCHOR)
        if anchor is None:
            return None
        spider = self.crawler.spider
        gate = getattr(spider, "topic_gate", None)
        if gate is None or gate.still_worth_fetching(anchor):
            return None
        self.crawler.stats.inc_value("topic/dropped_on_recheck")
        self.crawler.signals.send_catch_log(signal=REQUEST_RELEASED, request=request)
        raise IgnoreRequest(f"topic link now judged off topic: {anchor!r}")
