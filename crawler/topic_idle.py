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

Every idle release, worth a page or spare, stops at a hard ceiling
(`TOPIC_MAX_PAGES_PER_ARTICLE`, 1.5: the issue #19 target) once the crawl has
kept `CEILING_MIN_KEPT` articles: the frontiers' expected yields are guesses,
and on a web where they guess high (hard seed 31) they would otherwise spend
past it. Under the floor the ratio says too little to stop on — one page moves
it by more than 1/20 — and a crawl from one start page whose links are all
held must still explore (docs/topic.md, seventh pass: the ceiling). Past it, the
links an off-topic article or a listing passes on are cut to the room left
(`room_to_follow`; session 15): a tunnel through other countries' diplomacy
used to fetch a tag's six siblings past it.

Before it releases anything, the crawl guesses the section pages of sites that
never showed a section its topic was found under elsewhere
(crawler/topic_sections.py, `TOPIC_GUESS_SECTIONS`) and holds them as listings.
"""
from __future__ import annotations

import json
import logging
import math

from scrapy.exceptions import DontCloseSpider

from crawler.engine_state import engine_idle, engine_in_flight
from crawler.extensions.outcomes import GUESSED
from crawler.topic_frontier import HeldLinks
from crawler.topic_learner import GuessLearner, link_features
from crawler.topic_listings import MIN_EXPECTED_YIELD, HeldListings
from crawler.topic_sections import SectionSpelling

__all__ = ["CEILING_MIN_KEPT", "IdleRelease", "RESERVE", "TOPIC_ANCHORS", "TOPIC_GUESS", "TOPIC_HELD",
           "TOPIC_HOPS", "TOPIC_PARENT_TITLE", "TOPIC_PROBED"]

logger = logging.getLogger(__name__)

TOPIC_HOPS = "topic_hops"  # request meta: off-topic pages in a row on the way to it (tunnelling)
TOPIC_ANCHORS = "topic_anchors"  # request meta: the anchor texts a topic link was found by
TOPIC_PARENT_TITLE = "topic_parent_title"  # request meta: the title of the on-topic article linking to it
TOPIC_GUESS = "topic_guess"  # request meta: a released link's features when it was chosen (the learner's)
TOPIC_HELD = "topic_held"  # request meta: a held link released when the crawl was idle (True, or RESERVE)
TOPIC_PROBED = "topic_probed"  # request meta: passed on by a listing fetched for its members (its outcome counts)
RESERVE = "reserve"  # TOPIC_HELD of a link the held frontier had dropped, released with pages to spare
CEILING_MIN_KEPT = 20  # kept articles before TOPIC_MAX_PAGES_PER_ARTICLE applies (one page moves the ratio ≤ 0.05)


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
        self.max_pages_per_article = crawler.settings.getfloat("TOPIC_MAX_PAGES_PER_ARTICLE")
        self.learner = GuessLearner() if crawler.settings.getbool("TOPIC_LEARNED_RANKING") else None
        self.sections = SectionSpelling() if crawler.settings.getbool("TOPIC_GUESS_SECTIONS") else None
        self.one_scale = crawler.settings.getbool("TOPIC_IDLE_ONE_SCALE", False)

    def saw_listing_links(self, links) -> None:
        """`(url, anchor)` of the tag, section and home links of a judged article: how its site spells
        a section's URL, and which sections it shows (crawler/topic_sections.py)."""
        if self.sections is not None:
            for url, anchor in links:
                self.sections.saw(url, anchor)

    def _guess_sections(self) -> None:
        """Hold each section the topic was found under on one site that another site never showed."""
        if self.sections is None:
            return
        for url, name, example in self.sections.guesses(self.listings.topic_names()):
            self.listings.hold_guess(url, example, name)
            self.crawler.stats.inc_value("topic/sections_guessed")
            logger.debug("section guessed (%s, as on %s): %s", name, example, url)

    def guess(self, gate, meta: dict, url: str) -> dict | None:
        """The features of the link an article page was fetched by, as the learner sees them: those
        it had when released (held links), else read now, before the page's verdict teaches the gate
        (crawler/topic_learner.py). None without a learner, or for a start URL."""
        if self.learner is None or meta.get("found_from") is None:
            return None
        if TOPIC_GUESS in meta:
            return meta[TOPIC_GUESS]
        return link_features(gate, url, meta.get(TOPIC_ANCHORS, ()), 1, meta.get(TOPIC_HOPS, 0), "followed")

    def learn(self, features: dict | None, on_topic: bool, url: str = "") -> None:
        """One judged article's outcome for the learner (`features`: `guess`'s, None: nothing to learn)."""
        if features is not None:
            self.learner.learn(features, on_topic)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("learner example %d %s: %s", on_topic, json.dumps(features, sort_keys=True), url)

    def on_idle(self, gate) -> None:
        """Request the best held link or held listing still worth a fetch, whichever is expected to
        give more on-topic articles a page (a listing's new links cost pages too:
        `HeldListings.articles_per_page`), then (with pages to spare) what the frontiers gave up;
        nothing past the ceiling. DontCloseSpider when one was requested.

        A release the scheduler refused (its URL requested by then through another link, or past
        `max_pages`) leaves the crawl as idle as it was, and nothing the choice reads has changed but
        the frontiers themselves: the next choice is made here at once, as the engine's next pass
        would make it, without the round trip through the engine (docs/performance.md, session 19)."""
        while self._release(gate):
            if not engine_idle(self.crawler):
                raise DontCloseSpider
        if logger.isEnabledFor(logging.DEBUG):  # the crawl ends: what it left unfetched (bench/topic_misses.py)
            for url in self.listings.remaining():
                logger.debug("listing left held (%s): %s", self.listings.describe(url), url)

    def _release(self, gate) -> bool:
        """One idle choice (`on_idle`): whether a request was handed to the engine."""
        pages, kept = self._pages_and_kept()
        room = self._room(pages, kept)
        if room <= 0:
            self.crawler.stats.set_value("topic/ceiling_reached", pages)
            logger.info("topic crawl ends at its page ceiling (%d pages for %d kept articles, "
                        "TOPIC_MAX_PAGES_PER_ARTICLE %s): %d held links and %d held listings left",
                        pages, kept, self.max_pages_per_article, len(self.links), len(self.listings))
            return False
        self._guess_sections()
        releases = [lambda: self._release_link(gate, room=room), lambda: self._release_listing(gate)]
        if self.links.expected_yield() < self._listings_worth():
            releases.reverse()
        if any(release() for release in releases):
            return True
        if pages + 1 <= self.pages_per_article * kept:  # pages to spare
            spares = [lambda: self._release_link(gate, reserve=True), lambda: self._release_listing(gate, 0.0)]
            if self.links.reserve_yield() < self._listings_worth():
                spares.reverse()
            return any(spare() for spare in spares)
        return False

    def _listings_worth(self) -> float:
        """What the best held listing is worth against a held link: on-topic articles a page fetched
        (`TOPIC_IDLE_ONE_SCALE`), else its expected new links a page (sessions 5–15)."""
        best = self.listings.best_yield()
        return self.listings.articles_per_page(best) if self.one_scale else best

    def room_to_follow(self, request) -> float:
        """Pages the links of an off-topic page or listing may still take under the ceiling: its room
        (`_room`) less the topic requests in flight besides `request`'s own (each one a page to come).
        Unbounded under CEILING_MIN_KEPT kept articles or with no ceiling."""
        room = self._room(*self._pages_and_kept())
        if room == math.inf:
            return room
        return room - sum(1 for other in engine_in_flight(self.crawler)
                          if other is not request and TOPIC_HOPS in other.meta)

    def _pages_and_kept(self) -> tuple[int, int]:
        """Pages the topic crawl fetched (stats `topic/pages/…`) and articles it kept."""
        pages = kept = 0
        for key, n in self.crawler.stats.get_stats().items():
            if key.startswith("topic/pages/"):
                pages += n
                kept += n if key.startswith("topic/pages/kept/") else 0
        return pages, kept

    def _room(self, pages: int, kept: int) -> float:
        """Pages idle releases may still fetch under TOPIC_MAX_PAGES_PER_ARTICLE: unbounded while it is 0
        or the crawl has kept fewer than CEILING_MIN_KEPT articles (too few to judge its cost by)."""
        if not self.max_pages_per_article or kept < CEILING_MIN_KEPT:
            return math.inf
        return math.floor(self.max_pages_per_article * kept + 1e-9) - pages

    def _release_link(self, gate, reserve: bool = False, room: float = math.inf) -> bool:
        stats = self.crawler.stats
        try:
            while released := self._next_links(gate, reserve, room):
                requested = False
                for link in released:
                    request = next(self.requests_for(link.found_from, [(link.url, 0, "related")], link.hops), None)
                    if request is None:
                        continue
                    request.meta[TOPIC_ANCHORS] = link.anchors
                    request.meta[TOPIC_HELD] = RESERVE if reserve else True
                    if link.features is not None:  # the learner's view of it, for the outcome to teach
                        request.meta[TOPIC_GUESS] = link.features
                        logger.debug("learned guess released (%s, p %.3f): %s", "reserve" if reserve else "held",
                                     self.learner.probability(link.features), link.url)
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

    def _next_links(self, gate, reserve: bool, room: float) -> list:
        """The held links to release next: a batch of the held frontier's (no more than `room`), or the
        reserve's best one."""
        if not reserve:
            return self.links.pop(gate, min(self.links.batch(), room), self.learner)
        link = self.links.pop_reserve(gate, self.learner)
        return [link] if link else []

    def _release_listing(self, gate, bound: float = MIN_EXPECTED_YIELD) -> bool:
        while held := self.listings.pop(bound):
            url, found_from, hops = held
            request = next(self.requests_for(found_from, [(url, 0, "listing")], hops), None)
            if request is not None:
                if self.listings.is_guess(url):  # a 404 is the guess missing (crawler/extensions/outcomes.py)
                    request.meta[GUESSED] = True
                self.crawler.stats.inc_value("topic/listings_probed")
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("listing fetched for its members%s (%s): %s", "" if bound >= MIN_EXPECTED_YIELD
                                 else " (spare)", self.listings.describe(url), url)
                self.crawler.engine.crawl(request)
                return True
        return False
