"""Is a teaser anchor more like the links that led to the topic, or like every link on the pages?

A held link (crawler/topic_frontier.py) has an anchor with no topic word: a
teaser headline ("Những người lính tình nguyện năm ấy"), a short title, or
another section's news ("Triển lãm mỹ thuật đương đại tại Quảng Bình"). The
learned model of crawler/judged_pages.py compares the pages judged on and off
topic, but a topic crawl judges few off-topic pages: a place name met only on
on-topic pages so far leans on topic, and on the hard bench web the
off-topic teasers it released scored as high as the on-topic ones (docs/topic.md).

The crawl does see plenty of the rest: every anchor on every page it reads,
most of them other news. That is positive-unlabelled learning (Liu et al.
2003; Elkan and Noto 2008): the positives are the anchors of the links that
led to pages judged on topic, the background is every anchor read (each link
once, mostly off topic). `log_odds(anchor)` sums over the anchor's terms
w × log(rate among the positives / rate in the background), each rate
m-estimated towards the pooled rate; a term neither side used says nothing.
"Giá vàng hôm nay …" is common in the background and absent from the
positives: strongly negative; a teaser of the topic's ("Sắc màu Bunpimay …")
shares terms with anchors that led to the topic.

Bounded like JudgedPages: at most `MAX_ANCHORS` background anchors (the oldest
forgotten) and `MAX_POSITIVES` positive ones. Like JudgedPages, each term's log
ratio is kept until an anchor counted changes it, and `version` counts the
changes (the held frontier's ranks are cached on it: docs/performance.md,
session 18).
"""
from __future__ import annotations

import math
from collections import Counter, deque
from itertools import compress, count
from operator import not_

from archive.extract.sent_links import link_urls, links_at
from archive.extract.topic import TopicProfile
from crawler.judged_pages import MAX_KEPT_RATIOS

MAX_ANCHORS = 5000  # background anchors remembered (one per link URL)
MAX_POSITIVES = 500  # on-topic pages' anchors remembered
MIN_POSITIVES = 3  # on-topic pages reached by a link before the model says anything
SMOOTHING = 1.0  # anchors' worth of the pooled rate each side's rate starts from
_UNKNOWN = object()  # a term's log ratio not computed at the current counts


class AnchorBackground:
    """Document frequencies of anchor terms: of the anchors that led to on-topic pages, and of
    every anchor read."""

    def __init__(self, topic: TopicProfile, max_anchors: int = MAX_ANCHORS, max_positives: int = MAX_POSITIVES):
        self.topic = topic
        self._sides = (_Side(max_positives), _Side(max_anchors))  # positives, background
        self._read: dict[str, set] = {}  # link URLs counted in the background (→ their terms), oldest first
        # term → its log ratio at the current counts (None: unused), with no anchor left out and with one
        self._ratios: tuple[dict, dict] = ({}, {})
        self.version = 0  # anchors counted: what a held link's rank was computed at (crawler/topic_frontier.py)

    def led_on_topic(self, anchors) -> None:
        """A page judged on topic was reached by links with these anchors."""
        terms = {term for anchor in anchors if anchor for term in self.topic.vector(anchor)}
        if terms:
            self._count(self._sides[0], terms)

    def read(self, links) -> None:
        """`(url, anchor, is a next-page link)` of a page read: each link URL counted once. Only the
        links whose URL is not counted yet are built (archive/extract/sent_links.py `links_at`: a
        page from a worker makes its anchors when read), and a URL forgotten while the page is read
        counts again further on the page, as when every link was looked at in turn."""
        background, urls = self._sides[1], link_urls(links)
        todo = deque(compress(count(), map(not_, map(self._read.__contains__, urls))))
        made = dict(zip(todo, links_at(links, todo)))
        while todo:
            at = todo.popleft()
            url, anchor, is_next = made[at]
            if is_next or not anchor or url in self._read:
                continue
            terms = set(self.topic.vector(anchor))
            if not terms:
                continue
            self._read[url] = terms
            if self._count(background, terms):  # the oldest anchor was forgotten: its URL may count again
                forgotten = next(iter(self._read))
                del self._read[forgotten]
                again = [later for later in range(at + 1, len(urls)) if urls[later] == forgotten]
                if again:
                    made.update(zip(again, links_at(links, again)))
                    todo = deque(sorted({*todo, *again}))

    def _count(self, side: _Side, terms: set) -> bool:
        """`side.add(terms)`, forgetting the log ratios it changed: those of `terms` and of the set it
        forgot, or all of them when a side's count grew. True when the oldest set was forgotten."""
        forgotten = side.add(terms)
        self.version += 1
        for ratios in self._ratios:
            if forgotten is None:
                ratios.clear()
            else:
                for term in (*terms, *forgotten):
                    ratios.pop(term, None)
        return forgotten is not None

    def log_odds(self, anchor: str | dict[str, float], leave_out: str = "") -> float | None:
        """Σ w × log(positive rate / background rate) over the anchor's terms either side used;
        None while fewer than MIN_POSITIVES on-topic pages were reached by a link, 0.0 when no
        term was used. `anchor`: its text or its profile vector. `leave_out`: the URL of the link
        being judged, whose own anchor is left out of the background (a model is not tested on
        what it was trained on: else the words only this teaser uses count against it)."""
        positives, background = self._sides
        if len(positives) < MIN_POSITIVES:
            return None
        vector = self.topic.vector(anchor) if isinstance(anchor, str) else anchor
        own = self._read.get(leave_out, ()) if leave_out else ()
        ratios = self._ratios[1 if own else 0]
        total = 0.0
        for term, weight in vector.items():
            if term in own:  # its count less this anchor's: not kept, it holds for this link alone
                ratio = self._ratio(term, own)
            else:
                ratio = ratios.get(term, _UNKNOWN)
                if ratio is _UNKNOWN:
                    ratio = ratios[term] = self._ratio(term, own)
                    if len(ratios) > MAX_KEPT_RATIOS:
                        ratios.clear()
            if ratio is not None:
                total += weight * ratio
        return round(total, 6)

    def _ratio(self, term: str, own) -> float | None:
        """log(positive rate / background rate) of `term` at the current counts, the anchor `own`
        (its terms) left out of the background; None when neither side used it."""
        positives, background = self._sides
        pos, bg = positives.df.get(term, 0), background.df.get(term, 0) - (term in own)
        if not (pos or bg):
            return None
        n_pos, n_bg = len(positives), len(background) - (1 if own else 0)
        pooled = (pos + bg) / (n_pos + n_bg)
        return (math.log((pos + SMOOTHING * pooled) / (n_pos + SMOOTHING))
                - math.log((bg + SMOOTHING * pooled) / (n_bg + SMOOTHING)))


class _Side:
    """Document frequencies of a bounded window of term sets."""

    def __init__(self, bound: int):
        self.bound = bound
        self.df: Counter = Counter()
        self._order: deque = deque()

    def add(self, terms: set) -> set | None:
        """Count `terms`; the oldest set when it was forgotten to stay within the bound, else None."""
        self.df.update(terms)
        self._order.append(terms)
        if len(self._order) <= self.bound:
            return None
        forgotten = self._order.popleft()
        for term in forgotten:
            self.df[term] -= 1
            if not self.df[term]:
                del self.df[term]
        return forgotten

    def __len__(self) -> int:
        return len(self._order)
