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
breadcrumbs (`nhandan.vn/kinhte` for "Kinh tế", `thoidai.com.vn/kinh-te`:
the name folded, its words joined by "" or by "-", one path segment under
the root). A section name that named on-topic members on one site and that a
site whose spelling is known has never shown is a guess worth a page there:
`www.vietnamplus.vn/vanhoa`. The guess is held as a listing
(crawler/topic_listings.py), its members those of the sections of that name
on the other sites, and fetched for its members when it ranks.

`SectionSpelling.saw(url, name)` reads one listing link of a fetched
article; `guesses(names)` gives the unseen sections' URLs. No network, no
Scrapy.
"""
from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

from crawler.topic_listings import listing_name
from crawler.url_slug import fold

__all__ = ["SectionSpelling", "section_words"]

SEPARATORS = ("", "-")  # how a site joins a section name's folded words in its URL: "vanhoa", "van-hoa"
_SEGMENT = re.compile(r"^/([a-z0-9-]+)/?$")  # one path segment under the root, no extension: a section


def section_words(name: str) -> list[str]:
    """A section name's words, folded ("Khoa học - Công nghệ" → ["khoa", "hoc", "cong", "nghe"])."""
    return re.findall(r"[a-z0-9]+", fold(name))


def section_segment(url: str) -> str | None:
    """The one path segment of a section URL (`http://nhandan.vn/vanhoa?page=2` → "vanhoa"), else None."""
    match = _SEGMENT.match(urlsplit(url).path)
    return match.group(1) if match else None


class SectionSpelling:
    """Per site: how it spells a section's URL, and the section names it has shown."""

    def __init__(self):
        self._spelling: dict[str, Counter] = {}  # site root → separator → links spelled so
        self._shown: dict[str, set[str]] = {}  # site root → names of the sections its pages linked
        self._guessed: set[str] = set()  # URLs given out once

    def saw(self, url: str, name: str) -> None:
        """A fetched page links to the listing at `url`, named `name` (its anchor)."""
        segment, words = section_segment(url), section_words(name)
        if not segment or not words:
            return
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}/"
        self._shown.setdefault(root, set()).add(listing_name(name))
        spelled = [sep for sep in SEPARATORS if sep.join(words) == segment]
        if len(spelled) == 1:  # a one-word name spells alike either way: it says nothing
            self._spelling.setdefault(root, Counter())[spelled[0]] += 1

    def spelling(self, root: str) -> str | None:
        """The separator the site at `root` joins a section name's words with, when its links agree."""
        counts = self._spelling.get(root)
        if not counts or len(counts) > 1:
            return None
        return next(iter(counts))

    def guesses(self, names: dict[str, str]) -> list[tuple[str, str, str]]:
        """(URL, name, the listing so named) of each section named in `names` (name → a listing so
        named; only the names of sections count, not of tags) that a site whose spelling is known has
        not shown yet, each URL once."""
        found = []
        sections = {name: url for name, url in names.items() if section_segment(url)}
        for root in sorted(self._spelling):
            separator = self.spelling(root)
            if separator is None:
                continue
            for name, example in sorted(sections.items()):
                words = section_words(name)
                url = root + separator.join(words)
                if words and listing_name(name) not in self._shown.get(root, ()) and url not in self._guessed \
                        and urlsplit(example).netloc != urlsplit(root).netloc:
                    self._guessed.add(url)
                    found.append((url, name, example))
        return found
