"""The scheduler's priority queue: pages first, page requisites beside them on a budget of their own.

Why not priority alone: Scrapy's downloader counts a request against
CONCURRENT_REQUESTS from the moment the engine takes it from the scheduler,
also while it waits for robots.txt of a new host or in its host's download
slot (CONCURRENT_REQUESTS_PER_DOMAIN, AutoThrottle's delay). When no page is
waiting, priority hands out requisites; a page's worth of images for one
throttled CDN host then fills every global place, and the next pages wait
behind them: requisites fetched in line with the pages, not beside them.

So requests are kept in two queues (each Scrapy's own ScrapyPriorityQueue, its next priority found faster):
pages are handed out first while they hold fewer than CONCURRENT_REQUESTS -
REQUISITES_CONCURRENT_REQUESTS places in the downloader; requisites get up to
REQUISITES_CONCURRENT_REQUESTS places (at most half of CONCURRENT_REQUESTS),
also while pages wait (so neither side starves); pages take whatever is left. Politeness is unchanged: a requisite
still goes to its host's download slot (the CDN's own, or the page host's,
whose concurrency and delay it shares) and through robots.txt.

Why a bound on the waiting requisites (REQUISITES_BACKLOG): with half the
places each and a crawl bound by CPU (every request costs about the same),
requisites are fetched at the pages' rate, one a page, whatever the pages
name (two photos a page in `make bench-scale`): the rest waited in the
scheduler, 10,502 of them at 10,000 articles, growing with the crawl, and
were fetched after the last page. Past the bound, requisites go first (up to
their budget, never more) and pages wait for a requisite's place to free up,
so the requisites keep pace and at most ~REQUISITES_BACKLOG + a page's worth
wait. Unless a requisite in flight waits for its host (its download slot
queues requests: per-host concurrency, AutoThrottle's delay; it has no slot
yet; or it has been in flight for over STALLED seconds: a slow or dead host,
robots.txt pending): then the host, not the places, is the limit, and holding
pages back would only make them wait for a throttled CDN; pages go on, and
those requisites wait in the scheduler as before (bounded by the run's pages
and what they name), and are fetched at the host's pace. Unless that host is
the one the next page goes to (photos served by the page host): its slot's
queue and delay are then shared with our own pages, which take its turns as
much as its politeness does, and another page would only take one more; pages
wait for the requisites then, as for a place (docs/performance.md, session 22).

Distributed crawls (crawler/distributed/redis.py) use the Redis frontier's
queue instead, where requisites are ordered by priority only.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from scrapy.pqueues import ScrapyPriorityQueue

from crawler.engine_state import host_holds_back
from crawler.requisites import is_requisite

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

PARTS = ("pages", "requisites")
# Seconds a requisite may be in flight while pages wait for its place, past the backlog's bound; longer,
# it counts as held back by its host (a slow or dead one, robots.txt pending), and pages go on.
STALLED = 2.0


class _LowestKeyPriorityQueue(ScrapyPriorityQueue):
    """Scrapy's priority queue, its next priority found as the lowest key rather than by asking every
    queue whether it is empty.

    Why: a topic crawl's pages have a priority a score (a link's score × 1000), so on a host with no
    profile each page waits at a priority of its own, a pop often empties its queue, and Scrapy's
    `_update_curprio` then builds the set of the priorities whose queue is not empty, calling every
    queue's `__len__` (~110 queues an update, 28 calls a page on the host with no profile; no update
    on nhandan.vn: docs/performance.md, session 23). Scrapy deletes a queue from `queues` when a pop
    empties it, so the lowest key is the lowest non-empty priority whenever its queue holds a request;
    when start requests wait, or the lowest queue is empty (a request a disk queue could not store
    leaves its new queue empty), Scrapy's own walk decides, as before."""

    def _update_curprio(self) -> None:
        queues = self.queues
        if queues and not self._start_queues:
            lowest = min(queues)
            if queues[lowest]:
                self.curprio = lowest
                return
        super()._update_curprio()


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
        self.queues = {part: _LowestKeyPriorityQueue(crawler, downstream_queue_cls, key and f"{key}/{part}",
                                                 startprios.get(part, ()), start_queue_cls=start_queue_cls)
                       for part in PARTS}
        self.downloader = crawler.engine.downloader
        self.stats = crawler.stats
        total = crawler.settings.getint("CONCURRENT_REQUESTS")  # 0: no limit
        budget = max(0, crawler.settings.getint("REQUISITES_CONCURRENT_REQUESTS"))
        # Pages always keep at least half the places, whatever the two settings say (with
        # CONCURRENT_REQUESTS=1, requisites go only when no page waits, as with priority alone).
        self.budget = min(budget, total // 2) if total > 0 else budget
        self.pages_reserved = total - self.budget if total > 0 else float("inf")
        # Requisites waiting past which they catch up (the bound on them, unless their hosts hold them back).
        self.backlog = max(0, crawler.settings.getint("REQUISITES_BACKLOG"))
        self._seen: dict[Request, float] = {}  # requisites in flight: when a full budget first saw them
        self.clock = time.monotonic
        # Requests waiting in each part. Scrapy's queue counts itself by summing the lengths of its
        # queues, one a priority: a topic crawl's pages have hundreds (a link's score x 1000), and
        # every pop asks both parts whether they are empty (docs/performance.md, session 17).
        self.waiting = {part: len(queue) for part, queue in self.queues.items()}

    def push(self, request: Request) -> None:
        part = "requisites" if is_requisite(request) else "pages"
        self.queues[part].push(request)  # (may raise: a request a disk queue cannot store is not counted)
        self.waiting[part] += 1
        if part == "requisites":
            # The most that waited at once: the backlog's bound at work (or a host that held its requisites back).
            self.stats.max_value("requisites/waiting_max", self.waiting[part])

    def pop(self) -> Request | None:
        pages, requisites = self.waiting["pages"], self.waiting["requisites"]
        if not requisites:
            return self._pop("pages") if pages else None
        in_flight = [request for request in self.downloader.active if is_requisite(request)]
        if self.budget and requisites > self.backlog:
            # Catching up: requisites first, up to their budget; past it, pages wait for a place to free
            # up unless a host holds a requisite back (its politeness, not the budget, is the limit).
            if len(in_flight) < self.budget:
                return self._pop("requisites")
            if len(self._seen) > 4 * self.budget:  # keep only the requisites still in flight
                self._seen = {r: self._seen[r] for r in in_flight if r in self._seen}
            now, page_host = self.clock(), self._next_page_host() if pages else None
            # A list, not a generator: every requisite in flight gets its first-seen time.
            return (self._pop("pages") if pages and any([self._held_by_host(r, now, page_host) for r in in_flight])
                    else None)
        if pages and (len(self.downloader.active) - len(in_flight) < self.pages_reserved
                      or len(in_flight) >= self.budget):
            return self._pop("pages")
        if len(in_flight) < max(self.budget, 1):
            return self._pop("requisites")
        return None  # no page waits, and the requisites' places are taken

    def _pop(self, part: str) -> Request | None:
        queue = self.queues[part]
        try:
            request = queue.pop()
        except BaseException:  # a disk queue's request that would not load: count what is left
            self.waiting[part] = len(queue)
            raise
        if request is not None:
            self.waiting[part] -= 1
        return request

    def _held_by_host(self, request: Request, now: float, page_host: str | None) -> bool:
        """Whether `request` waits for its host rather than for a place: it has been in flight for over
        `STALLED` s (a slow or dead host, robots.txt pending: it may not keep pages waiting longer, on
        the page host too), or its download slot, when not the next page's, does not exist yet or
        holds requests back (per-host concurrency, a delay). On the next page's own host (`page_host`: photos served by the page
        host), what holds it back is that host's turns, taken by our own pages as much as by its
        politeness: another page would only take one more of them, so pages wait, as for a place."""
        if now - self._seen.setdefault(request, now) > STALLED:  # a slow photo path holds no page back
            return True
        return self.downloader.get_slot_key(request) != page_host and host_holds_back(self.downloader, request)

    def _next_page_host(self) -> str | None:
        """The download slot (host) of the next page as Scrapy's `peek` names it (at a priority with
        start requests waiting, one of those rather than the page `pop` would take: a host of the crawl
        either way); None if no page waits."""
        page = self.queues["pages"].peek()
        return None if page is None else self.downloader.get_slot_key(page)

    def close(self) -> dict[str, list[int]]:
        return {part: queue.close() for part, queue in self.queues.items()}

    def __len__(self) -> int:
        return self.waiting["pages"] + self.waiting["requisites"]
