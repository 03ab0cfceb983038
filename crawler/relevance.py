"""Staying on topic: which fetched pages are kept and which of their links are followed.

The spider asks this module two questions when a topic profile is set
(`-a topic=auto|FILE`; `archive/topic.py` does the scoring). Both work on
plain strings, read from the page by archive/reading.py (in the extraction
worker, from the parse that also extracts the article, or in the reactor):

* `judge_page`: is this article page on topic (its title, lead and body
  paragraphs score at least the threshold)? Off-topic pages stay in the WARC
  but are not emitted, and their links are not followed. Start URLs are always
  kept (the user named them); pages found by discovery (sitemaps, feeds) are
  judged by their text alone; pages with too little text to judge are left to
  the extractor's verdict.
* `choose_links`: which links of a page to follow, with a priority and the
  rule that let them through:
  - `related`: a related box / tag / breadcrumb link of a page we kept, unless
    its anchor text is long enough to judge and clearly off topic;
  - `topic-listing`: any article link on a listing page whose own title is
    mostly topic words (score ≥ LISTING_THRESHOLD: a tag or topic page), and
    its next-page links;
  - `anchor`: a link whose anchor text (or `title` attribute) scores at least
    the anchor threshold, from any listing page; next-page links of a listing
    page that yielded such links.
  Priority (Scrapy request priority, higher first) is the link's score × 1000.
"""
from __future__ import annotations

from dataclasses import dataclass

from archive.topic import LISTING_THRESHOLD, TopicProfile, enough_text

RELATED_FLOOR_FACTOR = 0.5  # a related link is dropped only below half the anchor threshold


@dataclass(frozen=True)
class PageVerdict:
    keep: bool  # emit the article item
    follow: bool  # follow its links
    score: float
    rule: str  # why kept: how it was reached (start/related/topic-listing/anchor) or "unjudged"
    reason: str = ""  # why not kept


@dataclass(frozen=True)
class Link:
    url: str
    anchor: str
    priority: int
    rule: str
    score: float


class TopicGate:
    """Keeps the crawl on the topic of a `TopicProfile`."""

    def __init__(self, topic: TopicProfile):
        self.topic = topic

    def judge_page(self, text: str, reached_by: str) -> PageVerdict:
        """`text`: the page's title, lead and body paragraphs (archive.reading.page_text)."""
        score = self.topic.score(text)
        if reached_by == "start":
            return PageVerdict(True, True, score, "start")
        if not enough_text(text):
            return PageVerdict(True, False, score, "unjudged")
        if score >= self.topic.threshold:
            return PageVerdict(True, True, score, reached_by)
        return PageVerdict(False, False, score, reached_by,
                           f"off topic (score {score:.3f} < {self.topic.threshold})")

    def listing_is_topical(self, title: str) -> tuple[bool, float]:
        """`title`: the listing's own title (archive.reading.listing_title)."""
        score = self.topic.score(title)
        return score >= max(LISTING_THRESHOLD, self.topic.threshold), score

    def choose_links(self, candidates: list[tuple[str, str, bool]], mode: str,
                     page_score: float) -> list[Link]:
        """candidates: (url, anchor text, is a next-page link); mode: related/topic-listing/listing."""
        chosen: list[Link] = []
        anchor_threshold = self.topic.anchor_threshold
        hits = 0
        next_pages = []
        for url, anchor, is_next in candidates:
            if is_next:
                next_pages.append((url, anchor))
                continue
            score = self.topic.score(anchor) if anchor else 0.0
            judged = len(anchor.split()) >= 3
            if mode == "related":
                if judged and score < anchor_threshold * RELATED_FLOOR_FACTOR:
                    continue
                link_score = max(score, (score + page_score) / 2)
                chosen.append(Link(url, anchor, _priority(link_score), "related", link_score))
            elif mode == "topic-listing":
                link_score = max(score, (score + page_score) / 2)
                chosen.append(Link(url, anchor, _priority(link_score), "topic-listing", link_score))
            elif score >= anchor_threshold:
                hits += 1
                chosen.append(Link(url, anchor, _priority(score), "anchor", score))
        if mode == "topic-listing" or (mode == "listing" and hits):
            chosen.extend(Link(url, anchor, _priority(page_score), mode if mode != "listing" else "anchor",
                               page_score) for url, anchor in next_pages)
        return chosen


def _priority(score: float) -> int:
    return int(round(score * 1000))
