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
  anchor and every kept page pointing to it;
- when the crawl goes idle (Scrapy's `spider_idle`) the spider asks for the
  next one (`pop`): links whose anchors all lean off topic by now are dropped
  (stat `topic/held_dropped`), and the best of the rest is released — the one
  the most kept pages link to, then the one whose anchor is most like the
  pages judged on topic rather than off (`TopicGate.held_rank`);
- one link at a time, so each fetch teaches the next choice.

Held links live in memory only: a crawl paused with JOBDIR and resumed
forgets those not yet released.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from archive.urls import canonical_url


@dataclass
class HeldLink:
    url: str
    found_from: str  # the first kept page that linked to it
    hops: int  # off-topic pages in a row up to the linking page (tunnelling)
    anchors: list[str] = field(default_factory=list)
    parents: set[str] = field(default_factory=set)  # the pages that linked to it


class HeldLinks:
    """The held links by canonical URL, and the choice of the next one to release."""

    def __init__(self):
        self._links: dict[str, HeldLink] = {}
        self.dropped = 0

    def hold(self, url: str, anchor: str, found_from: str, hops: int) -> None:
        key = canonical_url(url)
        link = self._links.get(key)
        if link is None:
            link = self._links[key] = HeldLink(url, found_from, hops)
        if anchor not in link.anchors:
            link.anchors.append(anchor)
        link.parents.add(found_from)
        link.hops = min(link.hops, hops)

    def pop(self, gate) -> HeldLink | None:
        """The best held link by what `gate` (crawler/relevance.py) knows now; None when none is left
        worth a fetch. Links whose anchors all lean off topic are dropped on the way."""
        best, best_rank = None, None
        for key, link in list(self._links.items()):
            rank = gate.held_rank(link.anchors, len(link.parents))
            if rank is None:
                del self._links[key]
                self.dropped += 1
                continue
            if best_rank is None or rank > best_rank:
                best, best_rank = key, rank
        return None if best is None else self._links.pop(best)

    def __len__(self) -> int:
        return len(self._links)
