"""Listings a topic crawl fetches for their members: which, and when to stop.

An on-topic article that no related box links to ("orphan") is found only
through the listings that name it: its section, its tags, the home page. A
kept article links to those listings, but most of them name nothing new: a
CMS fills related boxes from the articles sharing a tag, so a tag page's
members are mostly found already. Fetching every such listing found the
missing articles at 2.4 pages per article (docs/topic.md). A focused
crawler spends pages on a listing by its expected yield instead:

- **its members' share**: every judged article names its listings (its
  section, tags, home page): a listing most of whose judged members were on
  topic is likely to name more (the "on-topic share of previously seen
  children" of Diligenti et al.'s context graphs / Aggarwal's intelligent
  crawling); listings with fewer than half on topic are never fetched here;
- **its kind's yield so far**: listings are grouped by URL template (host and
  path with its last segment as a wildcard: `nhandan.vn/tag/*.html`,
  `nhandan.vn/*`); each fetched listing reports how many new links with topic
  evidence it led to. The template's rate, started from half a link a page
  (each kind is tried once), times the members' share is the expected yield;
  a listing is fetched only while it is at least `MIN_EXPECTED_YIELD` (a tag
  kind whose first page names nothing new is not fetched again; a section
  kind that yields goes on);
- **its name's yield so far**: the same section or tag name recurs across
  sites and their templates ("Văn hóa" is `nhandan.vn/vanhoa`,
  `thoidai.com.vn/van-hoa` and `www.vietnamplus.vn/vanhoa`), and what a
  topic's articles are filed under is the editors' choice, not the CMS's:
  the culture sections that name the topic's orphans on one site are likely
  to on the others, a "Quốc phòng" section that named nothing new on two
  sites is unlikely to on the third. A listing's rate is its name's rate,
  with its template's rate as the prior (one page's worth): an untried name
  is worth its template's rate, a name whose pages named nothing new falls
  under the bound faster than the template does;
- **the share of its page the crawl does not know yet**: a listing page
  shows a fixed number of articles (the most any fetched page of its
  template showed: 15 on a section page, 10 on a tag page); the judged
  articles that name it are on it or behind it, so a listing twelve of whose
  fifteen slots the crawl has judged has at most three to give. The expected
  yield is multiplied by (page size − judged members) / page size. With the
  untried rate at the bound, a template is tried on its first listing only
  while no page of it was seen (a topic tag fetched at once shows the page
  size of its site's tags), and goes on only while its yield, or its
  listing's name's, covers the members already known;
- **every site's home page is one of them**: its root lists the newest
  articles of every section, so each judged article counts as a member of its
  site's home page, and a kept article holds it, even when the article's page
  shows no link to it (thoidai's link home only from the site menu, which its
  profile does not read: docs/topic.md, seventh pass);
- one page of it, the next page only when that page yielded
  (crawler/relevance.py passes a listing's next page on only then), and only
  its links whose anchor has topic words (mode `probe`).

The spider holds these listings (`hold`) and, when the crawl is idle, asks
for one (`pop`) when they promise more than the held article links
(crawler/topic_frontier.py, `HeldLinks.expected_yield`), both as on-topic
articles a page fetched (`articles_per_page`: a listing's new links are pages
too, on topic at the rate such listings' links were). Held in memory only,
like held links.
"""
from __future__ import annotations

import heapq
import re
import unicodedata
from urllib.parse import urlsplit

from archive.urls import canonical_url

MIN_EXPECTED_YIELD = 0.5  # new links with topic evidence a listing page is expected to lead to
MIN_MEMBER_SHARE = 0.5  # the on-topic share of a listing's judged members below which it is never fetched
PRIOR_LINKS, PRIOR_PAGES = 0.5, 1.0  # a template starts at half a new link a page: tried once, kept on if it yields
NAME_PRIOR_PAGES = 1.0  # a listing name's rate starts at its template's, worth this many pages of the name's own
GUESS_PRIOR_PAGES = 1.0  # a guessed section's prior (its namesakes' on-topic members each) against the guesses' yield


def template_of(url: str) -> str:
    """A listing's URL template: host and path with the last segment's name a wildcard
    (`http://nhandan.vn/tag/viet-nam-lao.html?page=2` → `nhandan.vn/tag/*.html`)."""
    parts = urlsplit(url)
    head, _, last = parts.path.rpartition("/")
    return f"{parts.netloc}{head}/{re.sub(r'^[^.]+', '*', last) if last else ''}"


def site_home(url: str) -> str:
    """The home page of `url`'s site: its root (`http://thoidai.com.vn/giao-duc` → `http://thoidai.com.vn/`)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def listing_name(name: str) -> str:
    """A listing's name as a key: "Văn hóa", " VĂN  HÓA " → "văn hóa"."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


class HeldListings:
    """Listings named by kept articles, their judged members, and their kinds' yields."""

    def __init__(self):
        self._held: dict[str, tuple[str, str, int]] = {}  # key → (url, found_from, hops)
        self._members: dict[str, list[int]] = {}  # key → [on-topic, off-topic] judged articles naming it
        self._yields: dict[str, list[float]] = {}  # template → [new links, pages]
        self._names: dict[str, str] = {}  # key → the listing's name (the anchor of the link to it)
        self._name_yields: dict[str, list[float]] = {}  # name → [new links, pages]
        self._page_sizes: dict[str, int] = {}  # template → the most article links a fetched page of it showed
        self._released: set[str] = set()  # keys popped: not held again (a home page every kept article names)
        self._guessed: set[str] = set()  # keys of sections guessed on a site that never showed them
        self._guess_yields = [0.0, 0.0]  # what the guesses fetched led to: [new links, pages]
        self.member_outcomes = [0, 0]  # articles a listing fetched for its members passed on: [on topic, judged]

    def saw_member(self, listing_url: str, on_topic: bool) -> None:
        """A judged article links to `listing_url` (its section, a tag, its home page)."""
        counts = self._members.setdefault(canonical_url(listing_url), [0, 0])
        counts[0 if on_topic else 1] += 1

    def judged_article(self, url: str, listing_urls, on_topic: bool, follows_links: bool = True) -> None:
        """A judged article at `url` links to `listing_urls` (its section, tags, home page): it is their
        member, and its site's home page's even when it shows no link to it (every site's root lists
        its newest articles, whatever its article pages link to). The home page of an on-topic article
        whose links the crawl follows (`follows_links`: not at `-a depth=0`) is held."""
        home = site_home(url)
        for listing in {canonical_url(link): link for link in [*listing_urls, home]}.values():
            self.saw_member(listing, on_topic)
        if on_topic and follows_links:
            self.hold(home, url, 0)

    def hold(self, url: str, found_from: str, hops: int, name: str = "") -> None:
        """`name`: the listing's name as the link shows it ("Văn hóa"), "" when it shows none."""
        key = canonical_url(url)
        if key in self._released:
            return
        self._held.setdefault(key, (url, found_from, hops))
        if name_key := listing_name(name):
            self._names.setdefault(key, name_key)

    def hold_guess(self, url: str, found_from: str, name: str) -> None:
        """A section the site at `url` never showed, named `name` after sections of other sites with
        on-topic members (crawler/topic_sections.py): worth what their members say until its own
        judged members say more."""
        key = canonical_url(url)
        if key in self._released or key in self._held:
            return
        self._guessed.add(key)
        self.hold(url, found_from, 0, name)

    def is_guess(self, url: str) -> bool:
        """The listing at `url` is a guessed section (`hold_guess`), not one a page linked to."""
        return canonical_url(url) in self._guessed

    def topic_names(self) -> dict[str, str]:
        """Name → a listing so named: the names of the listings held by name whose members, summed
        over every listing of the name, are mostly on topic (the sections and tags the topic is filed
        under)."""
        totals = self._members_by_name()
        return {name: key for key, name in self._names.items()
                if key not in self._guessed and self._share(totals.get(name, (0, 0, 0))[:2]) > 0}

    def _members_by_name(self) -> dict[str, tuple[int, int, int]]:
        """Name → [on-topic, off-topic] judged members of every listing so named but the guessed ones,
        and how many such listings have members: one pass over the names (asked at every idle
        release, so not one pass a name)."""
        totals: dict[str, tuple[int, int, int]] = {}
        for key, name in self._names.items():
            if key not in self._guessed and (counts := self._members.get(key)):
                on, off, listings = totals.get(name, (0, 0, 0))
                totals[name] = (on + counts[0], off + counts[1], listings + 1)
        return totals

    @staticmethod
    def _share(members) -> float:
        """The on-topic share of judged members, 0 when none is on topic or fewer than half are."""
        on, off = members
        return 0.0 if not on or on < (on + off) * MIN_MEMBER_SHARE else on / (on + off)

    def yielded(self, url: str, new_links: int) -> None:
        """A fetched listing page led to `new_links` new links with topic evidence (counted for its
        template, and for the name it was held by, if any)."""
        records = [self._yields.setdefault(template_of(url), [0.0, 0.0])]
        if canonical_url(url) in self._guessed:
            records.append(self._guess_yields)
        if name_key := self._names.get(canonical_url(url)):
            records.append(self._name_yields.setdefault(name_key, [0.0, 0.0]))
        for record in records:
            record[0] += new_links
            record[1] += 1

    def listed(self, url: str, articles: int) -> None:
        """A fetched listing page showed `articles` article links."""
        template = template_of(url)
        self._page_sizes[template] = max(self._page_sizes.get(template, 0), articles)

    def expected_yield(self, url: str) -> float:
        """New links with topic evidence a page of the listing at `url` is expected to lead to."""
        return self._expected(canonical_url(url))

    def _expected(self, key: str) -> float:
        on, off = self._members.get(key, (0, 0))
        if key in self._guessed and not on + off:
            return self._guess_expected(key)
        share = self._share((on, off))
        if not share:
            return 0.0
        links, pages = self._yields.get(template_of(key), (0.0, 0.0))
        rate = (links + PRIOR_LINKS) / (pages + PRIOR_PAGES)
        if key in self._names:  # the name's own yield, its template's rate as the prior
            name_links, name_pages = self._name_yields.get(self._names[key], (0.0, 0.0))
            rate = (name_links + rate * NAME_PRIOR_PAGES) / (name_pages + NAME_PRIOR_PAGES)
        size = self._page_sizes.get(template_of(key))
        unknown = max(0, size - on - off) / size if size else 1.0
        return share * rate * unknown

    def _guess_expected(self, key: str) -> float:
        """A guessed section none of whose members the crawl knows (crawler/topic_sections.py): its
        namesakes on the other sites held `on / listings` on-topic articles each, all of them unknown
        here, so that many new links is its prior (not its template's or name's rate: those were
        learned on listings whose members the crawl had mostly found already); the guesses' own
        yield so far, worth GUESS_PRIOR_PAGES of it, moves it."""
        on, off, listings = self._members_by_name().get(self._names[key], (0, 0, 0))
        share = self._share((on, off))
        if not share:
            return 0.0
        links, pages = self._guess_yields
        return share * (links + on / listings * GUESS_PRIOR_PAGES) / (pages + GUESS_PRIOR_PAGES)

    def best_yield(self) -> float:
        return max(map(self._expected, self._held), default=0.0)

    def member_judged(self, on_topic: bool) -> None:
        """An article a listing fetched for its members passed on was judged."""
        self.member_outcomes[0] += on_topic
        self.member_outcomes[1] += 1

    def articles_per_page(self, expected: float) -> float:
        """On-topic articles per page fetched that a listing expected to lead to `expected` new links
        gives: its page and each link it passes on are a fetch, and a link is on topic at the rate the
        links such listings passed on were so far (from one in two). On the held links' scale
        (crawler/topic_frontier.py, `expected_yield`: on-topic articles a released link gives), which
        the idle release weighs it against (crawler/topic_idle.py)."""
        on, judged = self.member_outcomes
        return expected * (on + 1) / (judged + 2) / (1 + expected)

    def pop(self, bound: float = MIN_EXPECTED_YIELD) -> tuple[str, str, int] | None:
        """The held listing with the highest expected yield, if it reaches `bound` (a crawl with pages
        to spare asks for any listing expected to yield something: crawler/topic_idle.py)."""
        ranked = [(self._expected(key), key) for key in self._held]
        best = heapq.nlargest(1, ranked)
        if not best or best[0][0] < bound or best[0][0] <= 0:
            return None
        self._released.add(best[0][1])
        return self._held.pop(best[0][1])

    def __len__(self) -> int:
        return len(self._held)

    def remaining(self) -> list[str]:
        """The URLs of the listings still held, best first (what the crawl left unfetched)."""
        return [self._held[key][0] for key in sorted(self._held, key=self._expected, reverse=True)]

    def describe(self, url: str) -> str:
        """What the crawl knows of a listing, for the log: its name, judged members, expected yield."""
        key = canonical_url(url)
        on, off = self._members.get(key, (0, 0))
        return f"{self._names.get(key, '')!r}, members {on} on / {off} off, expected {self._expected(key):.2f}"
