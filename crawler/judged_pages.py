"""What a topic crawl learns from the pages it judged: which side an anchor text leans to.

An anchor that names no topic word ("Những người lính tình nguyện năm ấy",
"120 triệu USD vốn đăng ký mới") scores 0 against the topic profile, exactly
like "Giá vàng hôm nay tăng mạnh": the profile alone cannot tell a teaser
headline from another topic's headline. The pages the crawl has already
fetched and judged can (relevance feedback: the focused crawler of
Chakrabarti et al. 1999 trains a naive Bayes classifier on the pages it
judged). `JudgedPages` counts, for each term, how many of the remembered
on-topic pages and off-topic pages use it, and `log_odds(anchor)` sums, over
the anchor's terms that some judged page used, the log of how much more often
on-topic pages use the term than off-topic ones (each side's rate is
m-estimated towards the rate of both sides together, so a side with few pages
judged says little; terms no judged page used say nothing). `leaning(anchor)`: `ON`
above 0, `OFF` below, `UNKNOWN` when no term of the anchor was seen. A place
name both sides use weighs ~0; "giải vô địch", seen only on sport pages,
pulls an anchor off topic however many Vietnamese provinces it names.

Pages are remembered as the profile's terms (archive/extract/topic.py), at
most `MAX_PAGES_PER_SIDE` per side (the oldest are forgotten), each cut to its
`TERMS_PER_PAGE` heaviest terms, so a crawl of millions of pages keeps a
bounded memory and an anchor costs a few dictionary look-ups. Decisions depend
on what was judged before: a crawl learns as it goes.

Each term's log ratio is kept until a page remembered changes it (its counts,
or a side's page count, which changes them all): at an idle release the held
frontier asks the log-odds of every held link's anchors, mostly the same
terms again (docs/performance.md, session 18). `version` counts the pages
remembered, so a held link's rank is computed again only when it may differ.
"""
from __future__ import annotations

import math
from collections import Counter, deque

from archive.extract.topic import HEAVIEST_TERMS, TopicProfile

ON, OFF, UNKNOWN = 1, -1, 0
MAX_PAGES_PER_SIDE = 500
TERMS_PER_PAGE = HEAVIEST_TERMS  # what a page text measured in a worker carries (archive/extract/topic.py)
SMOOTHING = 1.0  # pages' worth of the pooled rate each side's rate starts from
MAX_KEPT_RATIOS = 50_000  # terms' log ratios kept between pages (then forgotten all at once)
_UNKNOWN = object()  # a term's log ratio not computed at the current counts


class JudgedPages:
    """Document frequencies of the terms of recently judged pages, on and off topic."""

    def __init__(self, topic: TopicProfile, max_pages: int = MAX_PAGES_PER_SIDE):
        self.topic = topic
        self.max_pages = max_pages
        self._df: tuple[Counter, Counter] = (Counter(), Counter())
        self._order: tuple[deque, deque] = (deque(), deque())  # each page's terms, oldest first
        self._ratios: dict[str, float | None] = {}  # term → its log ratio at the current counts (None: unused)
        self.version = 0  # pages remembered: what a held link's rank was computed at (crawler/topic_frontier.py)

    def remember(self, text: str, on_topic: bool, anchors=()) -> None:
        """A judged page: its heaviest terms, and every term of the anchors it was found by."""
        side = 0 if on_topic else 1
        kept = self.topic.heaviest_terms(text, TERMS_PER_PAGE)  # stable: ties keep their order
        kept += sorted({t for anchor in anchors for t in self.topic.vector(anchor)} - set(kept))
        if not kept:
            return
        self._df[side].update(kept)
        order = self._order[side]
        order.append(kept)
        self.version += 1
        if len(order) <= self.max_pages:  # a side's page count changed: so did every term's ratio
            self._ratios.clear()
            return
        df = self._df[side]
        forgotten = order.popleft()
        for term in forgotten:
            df[term] -= 1
            if not df[term]:
                del df[term]
        for term in (*kept, *forgotten):
            self._ratios.pop(term, None)

    def log_odds(self, anchor: str | dict[str, float]) -> float | None:
        """Σ over the anchor's terms some judged page used of log(on-topic rate / off-topic rate);
        None when no judged page used any of them. `anchor`: its text or its profile vector."""
        ratios = self._ratios
        total, seen = 0.0, False
        vector = self.topic.vector(anchor) if isinstance(anchor, str) else anchor
        for term, weight in vector.items():
            ratio = ratios.get(term, _UNKNOWN)
            if ratio is _UNKNOWN:
                ratio = self._ratio(term)
            if ratio is None:
                continue
            seen = True
            total += weight * ratio
        return round(total, 6) if seen else None

    def _ratio(self, term: str) -> float | None:
        """log(on-topic rate / off-topic rate) of `term` at the current counts, kept until they change;
        None when no remembered page used it."""
        on, off = self._df[0].get(term, 0), self._df[1].get(term, 0)
        ratio = None
        if on or off:
            n_on, n_off = len(self._order[0]), len(self._order[1])  # (no generator: ~10 calls a generic page)
            pooled = (on + off) / (n_on + n_off)  # m-estimate: an unseen side says "as usual", not "never"
            ratio = (math.log((on + SMOOTHING * pooled) / (n_on + SMOOTHING))
                     - math.log((off + SMOOTHING * pooled) / (n_off + SMOOTHING)))
        if len(self._ratios) >= MAX_KEPT_RATIOS:
            self._ratios.clear()
        self._ratios[term] = ratio
        return ratio

    def leaning(self, anchor: str) -> int:
        """ON, OFF or UNKNOWN (no term of `anchor` seen on a judged page, or the evidence cancels)."""
        odds = self.log_odds(anchor)
        if not odds:
            return UNKNOWN
        return ON if odds > 0 else OFF

    def __len__(self) -> int:
        return len(self._order[0]) + len(self._order[1])

    def fewest_on_a_side(self) -> int:
        """The pages remembered on the side with fewer: how far the log-odds can be trusted."""
        return min(len(self._order[0]), len(self._order[1]))
