"""What a topic crawl learns from the pages it judged: which side an anchor text leans to.

An anchor that names no topic word ("Những người lính tình nguyện năm ấy",
"120 triệu USD vốn đăng ký mới") scores 0 against the topic profile, exactly
like "Giá vàng hôm nay tăng mạnh": the profile alone cannot tell a teaser
headline from another topic's headline. The pages the crawl has already
fetched and judged can (relevance feedback, as in focused crawlers since
Chakrabarti et al. 2002): `JudgedPages.leaning(anchor)` compares the anchor
with each remembered page, on-topic and off-topic alike, and answers with the
side of the nearest page — `OFF` when the anchor is closer to some page judged
off topic than to every page judged on topic, `ON` for the reverse, `UNKNOWN`
when it shares no weighted term with any of them. No threshold is involved.

Pages are remembered as the profile's term vectors (archive/extract/topic.py), at
most `MAX_PAGES_PER_SIDE` per side (the oldest are forgotten), each cut to its
`TERMS_PER_PAGE` heaviest terms, in an inverted index, so a crawl of millions
of pages keeps a bounded memory and an anchor costs a few hundred additions.
Decisions depend on what was judged before: a crawl learns as it goes.
"""
from __future__ import annotations

import heapq
from collections import deque

import numpy as np

from archive.extract.topic import TopicProfile

ON, OFF, UNKNOWN = 1, -1, 0
MAX_PAGES_PER_SIDE = 500
TERMS_PER_PAGE = 80


class JudgedPages:
    """Term vectors of recently judged pages, on and off topic, searchable by term."""

    def __init__(self, topic: TopicProfile, max_pages: int = MAX_PAGES_PER_SIDE):
        self.topic = topic
        self.max_pages = max_pages
        self._postings: tuple[dict[str, dict[int, float]], dict[str, dict[int, float]]] = ({}, {})
        self._order: tuple[deque, deque] = (deque(), deque())  # (page id, its terms), oldest first
        self._next_id = 0
        # For `_nearest`, each side's pages also have a slot (0 … max_pages - 1), and each term's
        # postings as (slots, weights) arrays, built when asked for and dropped when they change:
        # one numpy addition a term instead of a Python loop over up to max_pages pages.
        self._slots: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self._free: tuple[list[int], list[int]] = (list(range(max_pages - 1, -1, -1)),
                                                   list(range(max_pages - 1, -1, -1)))
        self._arrays: tuple[dict[str, tuple], dict[str, tuple]] = ({}, {})

    def remember(self, text: str, on_topic: bool) -> None:
        side = 0 if on_topic else 1
        vector = self.topic.vector(text)
        terms = heapq.nlargest(TERMS_PER_PAGE, vector, key=vector.get)  # = sorted(…, reverse=True)[:n], ties too
        if not terms:
            return
        page, self._next_id = self._next_id, self._next_id + 1
        postings, arrays, slots = self._postings[side], self._arrays[side], self._slots[side]
        order = self._order[side]
        if len(order) >= self.max_pages:  # the oldest goes first (the same state as after adding)
            old, old_terms = order.popleft()
            self._free[side].append(slots.pop(old))
            for term in old_terms:
                pages = postings[term]
                del pages[old]
                arrays.pop(term, None)
                if not pages:
                    del postings[term]
        slots[page] = self._free[side].pop()
        for term in terms:
            postings.setdefault(term, {})[page] = vector[term]
            arrays.pop(term, None)
        order.append((page, terms))

    def leaning(self, anchor: str) -> int:
        """ON, OFF or UNKNOWN: the side of the remembered page most similar to `anchor`."""
        vector = self.topic.vector(anchor)
        nearest = [self._nearest(vector, side) for side in (0, 1)]
        if nearest[0] == nearest[1]:  # both 0: nothing in common with anything judged
            return UNKNOWN
        return ON if nearest[0] > nearest[1] else OFF

    def _nearest(self, vector: dict[str, float], side: int) -> float:
        """The highest cosine between `vector` and one remembered page of `side`.

        Each page's sum is built term by term in the vector's order, as a loop over the postings
        would, so the figure is the same to the last bit; every weight is positive, so pages
        sharing no term (0.0) never decide the maximum."""
        postings, arrays, slots = self._postings[side], self._arrays[side], self._slots[side]
        sums = None
        for term, weight in vector.items():
            found = arrays.get(term)
            if found is None:
                pages = postings.get(term)
                if not pages:
                    continue
                found = arrays[term] = (np.fromiter((slots[p] for p in pages), np.intp, len(pages)),
                                        np.fromiter(pages.values(), np.float64, len(pages)))
            if sums is None:
                sums = np.zeros(self.max_pages)
            sums[found[0]] += weight * found[1]
        return round(float(sums.max()), 6) if sums is not None else 0.0

    def __len__(self) -> int:
        return len(self._order[0]) + len(self._order[1])

