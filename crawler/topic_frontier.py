"""Links a topic crawl has no evidence for, held back until it has nothing better to fetch.

A kept article's related link whose anchor names no topic word (a teaser
headline, a quote, a number) may lead to the topic or away from it; only
what the crawl learns from the pages it judges tells them apart
(crawler/judged_pages.py). Scrapy's scheduler hands out a low-priority
request as soon as a download slot is free, so such links used to be fetched
together, before anything like them had been judged: four "Ùn tắc giao thông
…" headlines fetched in one go where one would have taught the crawl the
other three. `HeldLinks` keeps them out of the scheduler instead — the
best-first frontier of a classic focused crawler (Chakrabarti et al. 1999;
Menczer et al. 2004), re-scored each time it is popped:

- the spider holds them (`hold`), one entry per URL that gathers every
  anchor and every page pointing to it: kept articles, and listings or
  off-topic articles showing a teaser whose anchor the judged pages lean on
  topic (crawler/relevance.py, `TOPIC_HOLD_SEEN_TEASERS`);
- when the crawl goes idle (Scrapy's `spider_idle`) the spider asks for the
  next one (`pop`): links whose anchors all lean off topic by now are dropped
  (stat `topic/held_dropped`) unless their URL slug names the topic
  (crawler/url_slug.py), and the best of the rest is released — the one
  the most kept pages link to, then the one whose anchor is most like the
  pages judged on topic rather than off (`TopicGate.held_rank`);
- one link at a time, so each fetch teaches the next choice (one per hundred
  held in a large crawl, whose tail would otherwise re-rank thousands of
  links per fetch). A link's rank is computed again only when it may have
  changed: when the gate learned from a page judged or read (the versions of
  crawler/judged_pages.py and crawler/anchor_background.py), or the link
  gained an anchor or a page linking to it. A release the scheduler refuses
  (a URL requested by then through another link) changes none of these, and
  the crawl goes idle again at once (docs/performance.md, session 18).

`expected_yield` (the released links' on-topic rate so far) is what the
spider weighs against held listings (crawler/topic_listings.py) at idle.
Dropped links are kept in a reserve (`pop_reserve`), spent only while the
crawl has pages to spare (crawler/topic_idle.py), best first by the anchor
background model with the link's own anchor left out (docs/topic.md, seventh
pass).
Held links live in memory only: a crawl paused with JOBDIR and resumed
forgets those not yet released.
"""
from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass, field
from typing import Callable

from archive.urls import canonical_url
from crawler.topic_learner import link_features

logger = logging.getLogger(__name__)

RELEASE_ONE_PER = 100  # held links


@dataclass
class HeldLink:
    url: str
    found_from: str  # the first page that linked to it (a kept article, or a listing or off-topic article)
    hops: int  # off-topic pages in a row up to the linking page (tunnelling)
    anchors: list[str] = field(default_factory=list)
    parents: set[str] = field(default_factory=set)  # the pages that linked to it
    vectors: list = field(default_factory=list)  # the anchors' profile vectors, computed once
    parent_title: str | None = None  # the first linking page's title (the series rule, crawler/relevance.py)
    features: dict | None = None  # what the learner knew of it when it was released (crawler/topic_learner.py)
    ranks: dict = field(default_factory=dict, repr=False, compare=False)  # how → (its inputs, the rank)

    def anchor_vectors(self, topic) -> list:
        """The profile vectors of its anchors, those found since the last call added."""
        self.vectors += [topic.vector(anchor) for anchor in self.anchors[len(self.vectors):]]
        return self.vectors

    def ranked(self, gate, how: str, rank: Callable):
        """`rank(gate, self)`, kept under `how` until what it is computed from changes: what `gate` learned
        (crawler/relevance.py: its judged pages' and anchor background's versions), this link's anchors
        and the pages linking to it."""
        inputs = (*_learned(gate), len(self.anchors), len(self.parents))
        kept = self.ranks.get(how)
        if kept is None or kept[0] != inputs:
            kept = self.ranks[how] = inputs, rank(gate, self)
        return kept[1]


class HeldLinks:
    """The held links by canonical URL, and the choice of the next one to release."""

    def __init__(self):
        self._links: dict[str, HeldLink] = {}
        self._reserve: dict[str, HeldLink] = {}  # dropped links, spent only within the page budget
        self.dropped = 0
        self.outcomes = [0, 0]  # released links judged [on topic, in all]
        self.reserve_outcomes = [0, 0]  # the same, of links released from the reserve
        self._holds = 0  # calls of `hold`: a link held, or one given an anchor or a page linking to it
        # What the links left by the last `pop` were ranked by, their (rank, key), and whether these are
        # sorted yet: while what they were ranked by stays the same, so do their ranks.
        self._left: list | None = None

    def judged(self, on_topic: bool, reserve: bool = False) -> None:
        """A released link's page was judged (`reserve`: a dropped link released with pages to spare)."""
        outcomes = self.reserve_outcomes if reserve else self.outcomes
        outcomes[0] += on_topic
        outcomes[1] += 1

    def reserve_yield(self) -> float:
        """On-topic articles a release from the reserve is expected to give, from 1 in 2."""
        return (self.reserve_outcomes[0] + 1) / (self.reserve_outcomes[1] + 2) if self._reserve else 0.0

    def expected_yield(self) -> float:
        """On-topic articles a release is expected to give: the released links' rate so far, from 1 in 2."""
        return (self.outcomes[0] + 1) / (self.outcomes[1] + 2) if self._links else 0.0

    def hold(self, url: str, anchor: str, found_from: str, hops: int, parent_title: str | None = None) -> None:
        self._holds += 1
        key = canonical_url(url)
        link = self._links.get(key) or self._reserve.get(key)
        if link is None:
            link = self._links[key] = HeldLink(url, found_from, hops, parent_title=parent_title)
        if anchor not in link.anchors:
            link.anchors.append(anchor)
        link.parents.add(found_from)
        link.hops = min(link.hops, hops)

    def pop(self, gate, n: int = 1, learner=None) -> list[HeldLink]:
        """The `n` best held links by what `gate` (crawler/relevance.py) knows now, fewer when fewer
        are left worth a fetch. Links whose anchors all lean off topic are dropped on the way.
        With a `learner` (crawler/topic_learner.py), best by its probability first.

        Pops in a row with nothing learned or held in between (releases the scheduler refused: their
        URLs were requested through other links by then) take the links left in the order the pop
        before them ranked them (docs/performance.md, session 19): `nlargest` is `sorted(reverse=True)`
        cut short, and `(rank, key)` pairs, finite numbers and distinct keys, never tie."""
        inputs = (*_learned(gate), self._holds)
        if learner is None and self._left is not None and self._left[0] == inputs:
            left = self._left[1]  # none is dropped now: those that were went to the reserve
            if not self._left[2]:
                left.sort()  # once: the best last
                self._left[2] = True
            best = [left.pop() for _ in range(min(n, len(left)))]
        else:
            ranked = self._rank(gate, learner)
            best = heapq.nlargest(n, ranked)
            chosen = {key for _, key in best}
            self._left = [inputs, [entry for entry in ranked if entry[1] not in chosen], False] if learner is None \
                else None
        return [self._links.pop(key) for _, key in best]

    def _rank(self, gate, learner) -> list[tuple]:
        """`(rank, key)` of every held link in the frontier's order; those to drop go to the reserve."""
        ranked = []
        for key, link in list(self._links.items()):
            rank = link.ranked(gate, "held", _held_rank)
            if rank is None:
                self._reserve[key] = self._links.pop(key)
                self.dropped += 1
                logger.debug("held link dropped (anchors %s): %s", link.anchors, link.url)
            elif learner is not None:
                link.features = self.features(gate, link, "held")
                ranked.append(((learner.probability(link.features), *rank), key))
            else:
                ranked.append((rank, key))
        return ranked

    @staticmethod
    def features(gate, link: HeldLink, kind: str) -> dict:
        """The learner's features of a held link (crawler/topic_learner.py); `kind`: "held" or "reserve"."""
        return link_features(gate, link.url, link.anchors, len(link.parents), link.hops, kind)

    def pop_reserve(self, gate, learner=None) -> HeldLink | None:
        """The dropped link least against the topic now, for a crawl with pages to spare
        (crawler/topic_idle.py): its anchors' best log-odds by the anchor background with its own
        anchor left out (crawler/anchor_background.py: words only this teaser uses say nothing, words
        the pages' other news repeat say "background"), then by the judged pages, then the kept pages
        linking to it."""
        def rank(key):
            link = self._reserve[key]
            order = link.ranked(gate, "reserve", _reserve_rank)
            if learner is None:
                return order
            link.features = self.features(gate, link, "reserve")
            return learner.probability(link.features), *order
        best = max(self._reserve, key=rank, default=None)
        return None if best is None else self._reserve.pop(best)

    def batch(self) -> int:
        """How many to release at once: one while few are held (each fetch informs the next
        choice), more in a large crawl, so that draining the frontier stays ~linear."""
        return 1 + len(self._links) // RELEASE_ONE_PER

    def __len__(self) -> int:
        return len(self._links)


def _learned(gate) -> tuple:
    """What `gate` has learned, as a rank depends on it: its judged pages and anchor background, and
    their versions (crawler/judged_pages.py, crawler/anchor_background.py)."""
    judged, background = gate.judged, gate.background
    return gate, judged, judged.version, background, background.version


def _held_rank(gate, link: HeldLink) -> tuple | None:
    """A held link's rank now (`TopicGate.held_rank`): None when it is to be dropped."""
    return gate.held_rank(link.anchor_vectors(gate.topic), len(link.parents), link.url)


def _reserve_rank(gate, link: HeldLink) -> tuple:
    """A dropped link's rank now (`HeldLinks.pop_reserve`): its anchors' best log-odds by the anchor
    background with its own anchor left out, by the judged pages, the kept pages linking to it."""
    vectors = link.anchor_vectors(gate.topic)
    odds = map(gate.judged.log_odds, vectors)
    background = max((gate.background.log_odds(vector, link.url) or 0.0) for vector in vectors)
    return background, max((value or 0.0) for value in odds), len(link.parents)
