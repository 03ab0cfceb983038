"""What a topic crawl does when its scheduler runs dry: spend the held frontiers, one fetch at a time.

Why its own module: the spider decides, page by page, which links to hold
(crawler/spiders/news.py); choosing between the held teaser links
(crawler/topic_frontier.py) and the held listings (crawler/topic_listings.py)
when the crawl is idle is a separate job with its own state. One request at a
time, so that each fetch's verdict informs the next choice.

When both frontiers are spent (nothing held is still worth a page), the crawl
spends the pages its cost bound leaves (`TOPIC_PAGES_PER_ARTICLE`, pages
fetched per article kept) on what they gave up, best first: the held links
dropped because their anchors leaned off topic (the frontier's reserve) and
the held listings expected to yield under the bound — a focused crawler's
budget spent on exploration once exploitation runs dry (docs/topic.md, fifth
pass). A crawl under the bound thus explores until it reaches it.
"""
from __future__ import annotations

import logging

from scrapy.exceptions import DontCloseSpider

from crawler.topic_frontier import HeldLinks
from crawler.topic_listings import MIN_EXPECTED_YIELD, HeldListings

__all__ = ["IdleRelease", "RESERVE", "TOPIC_ANCHORS", "TOPIC_HELD", "TOPIC_HOPS", "TOPIC_PARENT_TITLE"]

logger = logging.getLogger(__name__)

TOPIC_HOPS = "topic_hops"  # request meta: off-topic pages in a row on the way to it (tunnelling)
TOPIC_ANCHORS = "topic_anchors"  # request meta: the anchor texts a topic link was found by
TOPIC_PARENT_TITLE = "topic_parent_title"  # request meta: the title of the on-topic article linking to it
TOPIC_HELD = "topic_held"  # request meta: a held link released when the crawl was idle (True, or RESERVE)
RESERVE = "reserve"  # TOPIC_HELD of a link the held frontier had dropped, released with pages to spare


class IdleRelease:
    """The held links and listings of one topic crawl, and the spider_idle handler that spends them.

    `requests_for(found_from, links, hops)` is the spider's own request builder, so a released
    link passes the same scope checks as one followed at once."""

    def __init__(self, crawler, requests_for):
        self.crawler = crawler
        self.requests_for = requests_for
        self.links = HeldLinks()
        self.listings = HeldListings()
        self.pages_per_article = crawler.settings.getfloat("TOPIC_PAGES_PER_ARTICLE")

    def on_idle(self, gate) -> None:
        """Request the best held link or held listing still worth a fetch, whichever is expected to
        give more on-topic articles a page; DontCloseSpider when one was requested."""
        releases = [self._release_link, self._release_listing]
        if self.links.expected_yield() < self.listings.best_yield():
            releases.reverse()
        for release in releases:
            if release(gate):
                raise DontCloseSpider
        if self._pages_to_spare():
            spares = [lambda: self._release_link(gate, reserve=True), lambda: self._release_listing(gate, 0.0)]
            if self.links.reserve_yield() < self.listings.best_yield():
                spares.reverse()
            if any(spare() for spare in spares):
                raise DontCloseSpider
        if logger.isEnabledFor(logging.DEBUG):  # the crawl ends: what it left unfetched (bench/topic_misses.py)
            for url in self.listings.remaining():
                logger.debug("listing left held (%s): %s", self.listings.describe(url), url)

    def _pages_to_spare(self) -> bool:
        """The crawl has fetched fewer pages than TOPIC_PAGES_PER_ARTICLE allow for what it kept: it
        may spend one on what the frontiers dropped or judged not worth a page (a teaser link whose
        anchor leaned off topic, a listing under the expected-yield bound), best first."""
        pages = kept = 0
        for key, n in self.crawler.stats.get_stats().items():
            if key.startswith("topic/pages/"):
                pages += n
                kept += n if key.startswith("topic/pages/kept/") else 0
        return pages + 1 <= self.pages_per_article * kept

    def _release_link(self, gate, reserve: bool = False) -> bool:
        stats = self.crawler.stats
        try:
            while released := self._next_links(gate, reserve):
                requested = False
                for link in released:
                    request = next(self.requests_for(link.found_from, [(link.url, 0, "related")], link.hops), None)
                    if request is None:
                        continue
                    request.meta[TOPIC_ANCHORS] = link.anchors
                    request.meta[TOPIC_HELD] = RESERVE if reserve else True
                    if link.parent_title:
                        request.meta[TOPIC_PARENT_TITLE] = link.parent_title
                    stats.inc_value("topic/reserve_released" if reserve else "topic/held_released")
                    logger.debug("held link released (%d kept pages link to it, anchors %s): %s",
                                 len(link.parents), link.anchors, link.url)
                    self.crawler.engine.crawl(request)
                    requested = True
                if requested:
                    return True
            return False
        finally:
            stats.set_value("topic/held_dropped", self.links.dropped)

    def _next_links(self, gate, reserve: bool) -> list:
        """The held links to release next: a batch of the held frontier's, or the reserve's best one."""
        if not reserve:
            return self.links.pop(gate, self.links.batch())
        link = self.links.pop_reserve(gate)
        return [link] if link else []

    def _release_listing(self, gate, bound: float = MIN_EXPECTED_YIELD) -> bool:
        while held := self.listings.pop(bound):
            url, found_from, hops = held
            request = next(self.requests_for(found_from, [(url, 0, "listing")], hops), None)
            if request is not None:
                self.crawler.stats.inc_value("topic/listings_probed")
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("listing fetched for its members%s (%s): %s", "" if bound >= MIN_EXPECTED_YIELD
                                 else " (spare)", self.listings.describe(url), url)
                self.crawler.engine.crawl(request)
                return True
        return False
