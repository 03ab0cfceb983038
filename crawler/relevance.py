"""Staying on topic: which fetched pages are kept and which of their links are followed.

The spider asks this module two questions when a topic profile is set
(`-a topic=auto|FILE`; `archive/extract/topic.py` does the scoring). Both work on
plain strings, read from the page by archive/extract/links.py (in the extraction
worker, from the parse that also extracts the article, or in the reactor):

* `judge_page`: is this article page on topic (its title, lead and body
  paragraphs score at least the threshold)? Off-topic pages stay in the WARC
  but are not emitted. A page scoring at least SERIES_MARGIN × the
  threshold is kept too when the topic's core terms (crawler/topic_core.py:
  the few profile terms carrying half its weight) are among its heaviest
  terms (rule `core`): other countries' diplomacy reaches that band on
  shared relation words alone. Start URLs are always kept (the user named them);
  pages found by discovery (sitemaps, feeds) are judged by their text alone;
  pages with too little text to judge are left to the extractor's verdict.
  Each judged page is remembered (crawler/judged_pages.py), so the crawl
  learns what its topic's and other topics' pages look like.
* `choose_links`: which links of a page to follow, with a priority and the
  rule that let them through. The spider follows a page's links only while
  the off-topic pages in a row that lead to it stay under `-a depth`
  (tunnelling; crawler/spiders/news.py).
  - `series`: from a kept article numbered as part k of a series ("Kỳ 2: …"),
    its links to parts k±1 (by anchor or URL slug), whatever the anchor says;
    a page so numbered, reached from its on-topic neighbour part, is kept when
    it scores SERIES_MARGIN × the threshold; from a kept article or a listing,
    a link to any part ("Kỳ 1: Chợ phiên …", a series entry), while such
    entries led to the topic at least SERIES_ENTRY_RATE of the time;
  - `related`: from a kept article, every article link unless its anchor is
    clearly off topic — it scores under twice the anchor threshold *and* leans
    off topic by what the crawl learned from the pages it judged
    (crawler/judged_pages.py). An anchor without topic words (a teaser headline)
    is held (crawler/topic_frontier.py) and released when the crawl is idle.
    A tag, section or home link is followed when its name is mostly topic words
    (LISTING_THRESHOLD, a topic page's title: "Việt Nam - Lào"), else held for
    what its members and its kind say (crawler/topic_listings.py: "Tiếng Việt",
    "Văn hóa");
  - `topic-listing`: any article link on a listing page whose own title is
    mostly topic words (score ≥ LISTING_THRESHOLD: a tag or topic page) or
    whose article links are mostly on topic by their anchors (siblings), and
    its next-page links;
  - `anchor` (from a listing) and `tunnel` (from an off-topic article): a link
    whose anchor text (or `title` attribute) scores at least the anchor
    threshold and does not lean off topic; next-page links of a listing page
    that yielded such links. A link there without such evidence whose anchor
    leans on topic by the judged pages (a teaser on a section page) — or, when
    they say nothing of it, by the anchor background — is held, as a kept
    article's teaser is (`TOPIC_HOLD_SEEN_TEASERS`).
  A link's score is the better of its anchor's and its URL slug's
  (crawler/url_slug.py: the target's headline, diacritics folded, which a
  teaser anchor hides): listings, off-topic articles and the sibling vote use
  it; in a related box a teaser is held by its anchor, but one whose slug
  names the topic (`slug_names_topic`) is never dropped; a slug scoring twice
  the anchor threshold overrides what the crawl learned, like such an anchor.
  Tag, section and home links are judged by their name only.
  Priority (Scrapy request priority, higher first) is the link's score × 1000.
  Every link chosen by its anchor is judged again when its turn to be fetched
  comes (crawler/downloadermiddlewares/topic_recheck.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from archive.extract.topic import LISTING_THRESHOLD, TopicProfile, enough_text
from crawler.anchor_background import AnchorBackground
from crawler.judged_pages import OFF, ON, TERMS_PER_PAGE, UNKNOWN, JudgedPages
from crawler.topic_core import core_terms, names_core
from crawler.url_slug import SlugScorer

RELATED_FLOOR_FACTOR = 0.5  # a related link under half the anchor threshold has no topic evidence
# An anchor scoring twice the anchor threshold ("Việt Nam - Lào tăng cường hợp tác nông nghiệp")
# is followed whatever the judged pages say: their terms ("tăng cường hợp tác nông nghiệp") also
# run through other countries' diplomacy, judged off topic, and would outvote the topic words.
STRONG_ANCHOR_FACTOR = 2
MIN_SIBLINGS, SIBLING_MAJORITY = 2, 0.5  # a listing of 2+ articles, half of them on topic by their anchors
# The judged pages' leaning counts as a sibling's evidence only once this many pages are judged on
# each side. Early in a crawl the few judged pages differ by more than topic (12 kept articles of one
# site, 3 off-topic ones of others): terms of the site's template then lean every teaser of its home
# page on topic, and the whole page was followed (a 60-article web: 22 pages fetched, or 38 when the
# home page came back after those 15 judgements).
MIN_JUDGED_FOR_SIBLINGS = 5
# A page scoring within this share of the threshold is kept when it continues the series of the
# on-topic page that linked to it ("Kỳ 3: …" reached from "Kỳ 2: …"): the editors made them one story;
# or when the topic's core terms are among its heaviest (crawler/topic_core.py): other countries'
# diplomacy scores in this band on the relation words alone.
SERIES_MARGIN = 0.8
# "Kỳ 2:", "Phần 3 -", "Bài 4.", "(Kỳ 2)", "Part 2": a part number at either end of a title.
SERIES_PART = re.compile(r"^\W*(?:kỳ|ky|phần|bài|tập|part)\s+(\d{1,2})\b|\(\s*(?:kỳ|phần|bài|tập|part)\s+(\d{1,2})\s*\)\W*$",
                         re.IGNORECASE)
# A held teaser link is dropped when every anchor it was found by is this much more like the anchors
# read on every page than like those that led to on-topic pages (crawler/anchor_background.py).
BACKGROUND_MARGIN = -6.0
# A series part linked from a kept article or a listing, not as a kept part's neighbour ("Kỳ 1: Chợ
# phiên nơi hai đất nước gặp nhau"), is fetched while such links led to on-topic pages this often
# (from one in two): an entry kept leads on to the other parts, so it pays at a lower rate than a
# plain teaser; two off-topic entries in a row stop them.
SERIES_ENTRY_RATE = 0.3
SERIES_SLUG = re.compile(r"/(?:ky|phan|bai|tap|part)-(\d{1,2})-[^/]*$", re.IGNORECASE)  # /ky-2-nhung-nguoi-…


@dataclass(frozen=True)
class PageVerdict:
    keep: bool  # emit the article item
    on_topic: bool  # counts as on topic for tunnelling (resets the off-topic run) and its related links are followed
    score: float
    rule: str  # why kept: how it was reached (start/related/topic-listing/anchor/tunnel) or "unjudged"
    reason: str = ""  # why not kept


@dataclass(frozen=True)
class Link:
    url: str
    anchor: str
    priority: int
    rule: str
    score: float
    recheck: bool = False  # judged by its anchor: judged again when its turn to be fetched comes
    held: bool = False  # no evidence either way: held until the crawl is idle (crawler/topic_frontier.py)
    listing: bool = False  # a held link to a listing, fetched for what its members say (crawler/topic_frontier.py)


class TopicGate:
    """Keeps the crawl on the topic of a `TopicProfile`."""

    def __init__(self, topic: TopicProfile, hold_seen_teasers: bool = False):
        self.topic = topic
        self.hold_seen_teasers = hold_seen_teasers
        self.judged = JudgedPages(topic)
        self.background = AnchorBackground(topic)
        self.slugs = SlugScorer(topic)
        self.core = core_terms(topic)
        self.series_entries = [0, 0]  # pages reached by a series entry link: [on topic, in all]

    def judge_page(self, text: str, reached_by: str, anchors=(), parent_title: str | None = None) -> PageVerdict:
        """`text`: the page's title, lead and body paragraphs (archive.extract.links.page_text);
        `anchors`: the link texts it was found by, remembered with the verdict (a short title or
        a quote in a related box is nowhere in the page it leads to); `parent_title`: the title of
        the on-topic page that linked to it, if any (the series rule)."""
        score = self.topic.score(text)
        judged = enough_text(text)
        margin = self.topic.threshold * SERIES_MARGIN <= score < self.topic.threshold
        series = margin and continues_series(text, parent_title)
        core = margin and not series and names_core(self.topic.heaviest_terms(text, TERMS_PER_PAGE), self.core)
        on_topic = score >= self.topic.threshold or series or core
        if reached_by == "series" and not continues_series(text, parent_title):  # a series entry's outcome
            self.series_entries[0] += on_topic
            self.series_entries[1] += 1
        if judged:
            self.judged.remember(text, on_topic, anchors)
            if on_topic:
                self.background.led_on_topic(anchors)
        if reached_by == "start":
            return PageVerdict(True, True, score, "start")
        if not judged:
            return PageVerdict(True, False, score, "unjudged")
        if score >= self.topic.threshold:
            return PageVerdict(True, True, score, reached_by)
        if on_topic:
            return PageVerdict(True, True, score, "series" if series else "core")
        return PageVerdict(False, False, score, reached_by,
                           f"off topic (score {score:.3f} < {self.topic.threshold})")

    def read_links(self, links) -> None:
        """`(url, anchor, is a next-page link)` of a page read: the background of held links' anchors."""
        self.background.read(links)

    def listing_is_topical(self, title: str) -> tuple[bool, float]:
        """`title`: the listing's own title (archive.extract.links.listing_title)."""
        score = self.topic.score(title)
        return score >= max(LISTING_THRESHOLD, self.topic.threshold), score

    def choose_links(self, candidates: list[tuple[str, str, bool]], mode: str, page_score: float,
                     is_listing: Callable[[str], bool] = lambda url: False, page_title: str = "") -> list[Link]:
        """candidates: (url, anchor text, is a next-page link); mode: related (a kept article),
        tunnel (an off-topic article), topic-listing, listing or probe (a listing fetched for its
        members: crawler/topic_listings.py); `is_listing(url)`: the link leads to a tag, section or
        home page (its site's profile says so); `page_title`: the page's (the series rule)."""
        part = series_part(page_title) if mode == "related" else None
        chosen: list[Link] = []
        next_pages = []
        if mode == "listing" and self._siblings_vouch(candidates, is_listing):
            mode = "topic-listing"
        probe = mode == "probe"  # a listing fetched for its members (rule `listing`): its anchors only
        mode = "listing" if probe else mode
        for url, anchor, is_next in candidates:
            if is_next:
                next_pages.append((url, anchor))
                continue
            anchor_score = self.topic.score(anchor) if anchor else 0.0
            slug_score = self.slug_score(url, is_listing)
            score = max(anchor_score, slug_score)  # the slug: the target's headline a teaser anchor hides
            if mode == "topic-listing":  # a tag/topic page: all its links, its title vouches for them
                link_score = max(score, (score + page_score) / 2)
                chosen.append(Link(url, anchor, _priority(link_score), mode, link_score))
                continue
            if part is not None and link_series_part(url, anchor) in (part - 1, part + 1):
                # The next or previous part of a kept article's series: the structure vouches for it,
                # whatever its anchor (a short title, a quote) leans to.
                chosen.append(Link(url, anchor, _priority(page_score), "series", page_score))
                continue
            if mode in ("related", "listing") and not is_listing(url) and link_series_part(url, anchor) is not None \
                    and self.series_entries_pay():
                # A part of a series, found on a kept article or a listing: one fetch tells whether the
                # series is on topic, and a kept part leads on to its neighbours (the rule above).
                link_score = max(score, page_score) if mode == "related" else score
                chosen.append(Link(url, anchor, _priority(link_score), "series", link_score))
                continue
            if mode == "related":  # by the anchor: a teaser is held even when its slug names the topic
                evidence = self._related_evidence(url, anchor_score, is_listing)
            else:
                evidence = True if score >= self.topic.anchor_threshold else None
            if evidence == "listing":  # a generic listing of a kept article's: worth what its members are
                chosen.append(Link(url, anchor, _priority(score), "listing", score, held=True, listing=True))
                continue
            if evidence is None:
                if self._holds_seen_teaser(url, anchor, is_listing):
                    chosen.append(Link(url, anchor, _priority(score), "related", score, held=True))
                continue
            if not evidence:  # tentative: held until nothing with evidence is left, by then more is known
                if self.slug_names_topic(slug_score) or self.still_worth_fetching(anchor):
                    chosen.append(Link(url, anchor, _priority(score), "related", score, held=True))
                continue
            if not self.still_worth_fetching(anchor, slug_score):
                continue
            link_score = max(score, (score + page_score) / 2) if mode == "related" else score
            rule = {"related": "related", "tunnel": "tunnel"}.get(mode, "anchor")
            # Rechecked by its anchor when fetched (crawler/downloadermiddlewares/topic_recheck.py), unless
            # its slug carried the choice: the recheck sees the anchor only.
            chosen.append(Link(url, anchor, _priority(link_score), rule, link_score, recheck=slug_score <= anchor_score))
        if mode == "topic-listing" or (mode == "listing" and chosen):
            chosen.extend(Link(url, anchor, _priority(page_score), mode if mode != "listing" else "anchor",
                               page_score) for url, anchor in next_pages)
        return chosen

    def still_worth_fetching(self, anchor: str, slug_score: float = 0.0) -> bool:
        """Not if the anchor leans off topic by what the crawl learned from the pages it judged
        (crawler/judged_pages.py), unless the profile's own evidence is clear. Asked when a link is
        found, again when its turn to be fetched comes (crawler/downloadermiddlewares/topic_recheck.py),
        and for a held link when it is released (crawler/topic_frontier.py)."""
        strong = self.topic.anchor_threshold * STRONG_ANCHOR_FACTOR
        if slug_score >= strong or (anchor and self.topic.score(anchor) >= strong):
            return True  # the profile's clear evidence: what the crawl learned decides where it is weak
        return self.judged.leaning(anchor) != OFF

    def slug_score(self, url: str, is_listing: Callable[[str], bool]) -> float:
        """The topic score of an article link's URL slug (crawler/url_slug.py): the headline a teaser
        anchor hides. 0 for a tag, section or home link: its slug is its name, which is its anchor."""
        return 0.0 if is_listing(url) else self.slugs.score(url)

    def slug_names_topic(self, slug_score: float) -> bool:
        """A held teaser whose slug scores at least the related floor (half the anchor threshold, the
        least evidence a kept article's link is followed on) is never dropped: the headline behind it
        names the topic by the profile's own words, whatever the teaser's words lean to."""
        return slug_score >= self.topic.anchor_threshold * RELATED_FLOOR_FACTOR

    def _holds_seen_teaser(self, url: str, anchor: str, is_listing) -> bool:
        """An article link without topic evidence on a listing or an off-topic article (a teaser
        headline: "Con đường ra biển của hàng hóa nước bạn" on a section page) is held like a kept
        article's teaser when the pages the crawl judged say its anchor leans on topic (`ON`, not
        merely "unknown": such pages list mostly other news), so the held frontier can weigh it
        (docs/topic.md, session 14). When they say nothing (no page judged off topic uses its
        words, or no page was judged off at all: then every anchor is "unknown"), it is held when
        its anchor is more like those that led to on-topic pages than like every anchor read, its
        own left out (crawler/anchor_background.py; session 17). Off with `hold_seen_teasers` False."""
        if not (self.hold_seen_teasers and anchor and not is_listing(url)):
            return False
        leaning = self.judged.leaning(anchor)
        if leaning != UNKNOWN:
            return leaning == ON
        odds = self.background.log_odds(anchor, leave_out=url)
        return odds is not None and odds > 0

    def series_entries_pay(self) -> bool:
        """Series entry links are followed while the pages they led to were on topic at least
        SERIES_ENTRY_RATE of the time (m-estimated from one in two: the first ones are tried)."""
        on, fetched = self.series_entries
        return (on + 1) / (fetched + 2) >= SERIES_ENTRY_RATE

    def _siblings_vouch(self, candidates, is_listing) -> bool:
        """A listing whose article links are mostly on topic by their anchors (a tag page named
        "Tiếng Việt" that lists the topic's education news) vouches for the rest of them, teasers
        included: siblings on a listing share a subject (Aggarwal et al. 2001, sibling evidence)."""
        anchors = [(url, anchor) for url, anchor, is_next in candidates if not is_next and not is_listing(url)]
        if len(anchors) < MIN_SIBLINGS:
            return False
        learnt = self.judged.fewest_on_a_side() >= MIN_JUDGED_FOR_SIBLINGS
        on = sum(1 for url, anchor in anchors if self.slugs.score(url) >= self.topic.anchor_threshold or anchor and (
            self.topic.score(anchor) >= self.topic.anchor_threshold or learnt and self.judged.leaning(anchor) == ON))
        return on >= len(anchors) * SIBLING_MAJORITY

    def held_rank(self, anchors: list, parents: int, url: str = "") -> tuple | None:
        """How a held link (crawler/topic_frontier.py) ranks now: None when every anchor it was found
        by (texts or profile vectors) leans off topic, or is much more like the anchors read on every
        page than like those that led to on-topic pages (BACKGROUND_MARGIN); else (its best anchor's
        log-odds of being on topic by the judged pages, 0 when they say nothing; the kept pages
        linking to it). A link whose URL slug (`url`) scores at least the related floor is never
        dropped."""
        if url and self.slug_names_topic(self.slugs.score(url)):
            # Its URL slug names the topic (crawler/url_slug.py): the headline behind the teaser is on
            # topic by the profile's own evidence, so it is not dropped; it ranks as its anchors do.
            return max([odds or 0.0 for odds in map(self.judged.log_odds, anchors)] + [0.0]), parents
        odds = [odds or 0.0 for odds in map(self.judged.log_odds, anchors) if not (odds or 0.0) < 0]
        if not odds:
            return None
        background = [self.background.log_odds(anchor) for anchor in anchors]
        if all(odds is not None and odds < BACKGROUND_MARGIN for odds in background):
            return None
        return max(odds), parents

    def _related_evidence(self, url: str, score: float, is_listing) -> bool | str | None:
        """A kept article's link: True (an article link whose anchor has topic evidence, at least
        half the anchor threshold; a tag, section or home link whose name is mostly topic words, as
        a topic page's title), "listing" (any other tag, section or home link: held for what its
        members say) or False (tentative: an article link whose anchor says nothing of the topic,
        such as a teaser headline)."""
        if is_listing(url):
            return True if score >= max(LISTING_THRESHOLD, self.topic.threshold) else "listing"
        return score >= self.topic.anchor_threshold * RELATED_FLOOR_FACTOR


def series_part(title: str) -> int | None:
    """The part number a title gives itself ("Kỳ 3: Cột mốc 460…" → 3), None when it gives none."""
    match = SERIES_PART.search(title.strip())
    return int(match.group(1) or match.group(2)) if match else None


def link_series_part(url: str, anchor: str) -> int | None:
    """The part number a link's anchor or URL slug gives its target, if any."""
    part = series_part(anchor) if anchor else None
    match = SERIES_SLUG.search(url.split("?", 1)[0]) if part is None else None
    return int(match.group(1)) if match else part


def continues_series(text: str, parent_title: str | None) -> bool:
    """The page (its text's first line is its title) is the part before or after its parent's."""
    if not parent_title:
        return False
    part, parent_part = series_part(text.split("\n", 1)[0]), series_part(parent_title)
    return part is not None and parent_part is not None and abs(part - parent_part) == 1


def _priority(score: float) -> int:
    return int(round(score * 1000))
