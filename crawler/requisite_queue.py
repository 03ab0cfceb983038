"""The scheduler's priority queue: pages first, page requisites beside them on a budget of their own.

Why not priority alone: Scrapy's downloader counts a request against
CONCURRENT_REQUESTS from the moment the engine takes it from the scheduler,
also while it waits for robots.txt of a new host or in its host's download
slot (CONCURRENT_REQUESTS_PER_DOMAIN, AutoThrottle's delay). When no page is
waiting, priority hands out requisites; a page's worth of images for one
throttled CDN host then fills every global place, and the next pages wait
behind them: requisites fetched in line with the pages, not beside them.

So requests are kept in two queues (each Scrapy's own ScrapyPriorityQueue):
pages are handed out first while they hold fewer than CONCURRENT_REQUESTS -
REQUISITES_CONCURRENT_REQUESTS places in the downloader; requisites get up to
REQUISITES_CONCURRENT_REQUESTS places (at most half of CONCURRENT_REQUESTS),
also while pages wait (so neither side starves); pages take whatever is left. Politeness is unchanged: a requisite
still goes to its host's download slot (the CDN's own, or the page host's,
whose concurrency and delay it shares) and through robots.txt.

Distributed crawls (crawler/distributed/redis.py) use the Redis frontier's
queue instead, where requisites are ordered by priority only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.pqueues import ScrapyPriorityQueue

from crawler.requisites import is_requisite

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

PARTS = ("pages", "requisites")


class PagesFirstPriorityQueue:
    """SCHEDULER_PRIORITY_QUEUE: pages first; requisites on REQUISITES_CONCURRENT_REQUESTS places."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, downstream_queue_cls, key: str, startprios=None, *,
                     start_queue_cls=None):
        return cls(crawler, downstream_queue_cls, key, startprios, start_queue_cls=start_queue_cls)

    def __init__(self, crawler: Crawler, downstream_queue_cls, key: str, startprios=None, *, start_queue_cls=None):
        if startprios and not isinstance(startprios, dict):
            raise ValueError("a JOBDIR written with another SCHEDULER_PRIORITY_QUEUE cannot be resumed with "
                             f"{type(self).__name__}")
        startprios = startprios or {}
        self.queues = {part: ScrapyPriorityQueue(crawler, downstream_queue_cls, key and f"{key}/{part}",
                                                 startprios.get(part, ()), start_queue_cls=start_queue_cls)
                       for part in PARTS}
        self.downloader = crawler.engine.downloader
        total = crawler.settings.getint("CONCURRENT_REQUESTS")  # 0: no limit
        budget = max(0, crawler.settings.getint("REQUISITES_CONCURRENT_REQUESTS"))
        # Pages always keep at least half the places, whatever the two settings say (with
        # CONCURRENT_REQUESTS=1, requisites go only when no page waits, as with priority alone).
        self.budget = min(budget, total // 2) if total > 0 else budget
        self.pages_reserved = total - self.budget if total > 0 else float("inf")

    def push(self, request: Request) -> None:
        self.queues["requisites" if is_requisite(request) else "pages"].push(request)

    def pop(self) -> Request | None:
        pages, requisites = self.queues["pages"], self.queues["requisites"]
        if not requisites:
            return pages.pop()
        in_flight = sum(1 for request in self.downloader.active if is_requisite(request))
        if pages and (len(self.downloader.active) - in_flight < self.pages_reserved or in_flight >= self.budget):
            return pages.pop()
        if in_flight < max(self.budget, 1):
            return requisites.pop()
        return None  # no page waits, and the requisites' places are taken
    def close(self) -> dict[str, list[int]]:
        return {part: queue.close() for part, queue in self.queues.items()}

    def __len__(self) -> int:
        return sum(len(queue) for queue in self.queues.values())
