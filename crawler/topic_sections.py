"""Section listings a topic crawl has not seen on a site, named after sections that led to the topic on others.

Why: a topic's articles on one site cluster by sub-topic (the culture news
of Vietnam–Laos relations on vietnamplus), and such a cluster is often
entered only through its site's section page: its series parts after the
first appear in no related box, its first part is linked from same-section
news the crawl never fetches (off topic), and its section link is shown only
on that section's articles — none of them fetched. On the webs of issue #19
(docs/topic.md, session 15) about a third of the misses were such clusters,
and no fetched page showed their section's URL.

What the crawl does know: the sections of the *other* sites that its kept
articles are filed under ("Văn hóa" on nhandan.vn, a held listing whose
members are on topic), and how each site spells a section's URL from its
name, read off the section links its fetched articles show in their
breadcrumbs (`nhandan.vn/kinhte` for "Kinh tế", `thoidai.com.vn/kinh-te`,
`nhandan.vn/khoahoc-congnghe` for "Khoa học - Công nghệ": the name folded,
its words joined by "" or by "-", the parts a " - " divides by "-" or not,
one path segment under the root; a site is guessed on only while every
section link read from it fits one spelling that spells the name one way). A section name that named on-topic members on one site and that a
site whose spelling is known has never shown is a guess worth a page there:
`www.vietnamplus.vn/vanhoa`. The guess is held as a listing
(crawler/topic_listings.py), its members those of the sections of that name
on the other sites, and fetched for its members when it ranks.

`SectionSpelling.saw(url, name)` reads one listing link of a fetched
article; `spell_on(root, name)` spells a name on a site; `guesses(names)`
gives the unseen sections' URLs. No network, no
Scrapy.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from crawler.topic_listings import listing_name
from crawler.url_slug import fold

__all__ = ["SectionSpelling", "section_words"]

# How a site joins a section name's folded words in its URL, within a part of the name and between the
# parts a " - " divides: "vanhoa", "khoahoccongnghe"; "khoahoc-congnghe"; "van-hoa", "khoa-hoc-cong-nghe".
SPELLINGS = (("", ""), ("", "-"), ("-", "-"))
_SEGMENT = re.compile(r"^/([a-z0-9-]+)/?$")  # one path segment under the root, no extension: a section


def section_words(name: str) -> list[list[str]]:
    """A section name's parts (divided by " - ") and their words, folded ("Khoa học - Công nghệ" →
    [["khoa", "hoc"], ["cong", "nghe"]])."""
    parts = [re.findall(r"[a-z0-9]+", part) for part in re.split(r"\s[-–]\s", fold(name))]
    return [words for words in parts if words]


def spell(parts: list[list[str]], spelling: tuple[str, str]) -> str:
    """A section name's parts (`section_words`) as a URL segment spelled so."""
    within, between = spelling
    return between.join(within.join(words) for words in parts)


def section_segment(url: str) -> str | None:
    """The one path segment of a section URL (`http://nhandan.vn/vanhoa?page=2` → "vanhoa"), else None."""
    match = _SEGMENT.match(urlsplit(url).path)
    return match.group(1) if match else None


class SectionSpelling:
    """Per site: how it spells a section's URL, and the section names it has shown."""

    def __init__(self):
        self._spelling: dict[str, set[tuple[str, str]]] = {}  # site root → the spellings all its links fit
        self._shown: dict[str, set[str]] = {}  # site root → names of the sections its pages linked
        self._guessed: set[str] = set()  # URLs given out once

    def saw(self, url: str, name: str) -> None:
        """A fetched page links to the listing at `url`, named `name` (its anchor). A link spelled
        none of the ways (a section named apart from its URL) says nothing of the site's spelling."""
        segment, parts = section_segment(url), section_words(name)
        if not segment or not parts:
            return
        root = "{0.scheme}://{0.netloc}/".format(urlsplit(url))
        self._shown.setdefault(root, set()).add(listing_name(name))
        fits = {spelling for spelling in SPELLINGS if spell(parts, spelling) == segment}
        if fits:
            self._spelling[root] = self._spelling.get(root, fits) & fits

    def spell_on(self, root: str, name: str) -> str | None:
        """The URL of the section `name` on the site at `root`, when every spelling its links fit
        (a one-word name fits several) spells it alike; None when they differ or disagree."""
        urls = {root + spell(section_words(name), spelling) for spelling in self._spelling.get(root, ())}
        return urls.pop() if len(urls) == 1 else None

    def guesses(self, names: dict[str, str]) -> list[tuple[str, str, str]]:
        """(URL, name, the listing so named) of each section named in `names` (name → a listing so
        named; only the names of sections count, not of tags) that a site whose spelling is known has
        not shown yet, each URL once."""
        found = []
        sections = {name: url for name, url in names.items() if section_segment(url)}
        for root in sorted(self._spelling):
            for name, example in sorted(sections.items()):
                url = self.spell_on(root, name)
                if url and listing_name(name) not in self._shown.get(root, ()) and url not in self._guessed \
                        and urlsplit(example).netloc != urlsplit(root).netloc:
                    self._guessed.add(url)
                    found.append((url, name, example))
        return found
