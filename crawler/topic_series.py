"""Series parts a topic crawl kept, and parts judged just off topic that wait for a kept neighbour.

The series rule (crawler/relevance.py) keeps a page whose title numbers it as part k of a series
and that scores SERIES_MARGIN × the threshold when it was reached from its on-topic part k±1: the
editors made them one story. A section page or a tag lists a series' parts too, so the crawl may
reach part 3 from a listing, before or after it keeps part 2 — and then judged it by the
threshold alone (four border-series parts at 0.158–0.179 on one hard web, docs/topic.md session
16). The parts link to each other ("Kỳ 2: …" in part 3's related box), so either order still
shows that part 3 continues a kept part:

- part 2 kept first: part 3 links to it as part 2; `neighbour_title` gives part 2's title, and
  the series rule applies as if part 3 had been reached from it;
- part 3 first, judged off at the margin: its item waits (`wait`); when part 2 is kept and links to
  it as part 3, `released_by` gives it back, to be emitted then (its page was fetched once).

No Scrapy here: the items are the spider's, kept as they are. Both memories are bounded (the
oldest forgotten first): a waiting item may hold its page's body.
"""
from __future__ import annotations

from archive.urls import canonical_url
from crawler.relevance import continues_series, link_series_part, series_part


MAX_KEPT, MAX_WAITING = 10_000, 500  # parts remembered: titles, and waiting items


def _remember(memory: dict, key: str, value, bound: int) -> None:
    memory.pop(key, None)
    memory[key] = value
    if len(memory) > bound:
        del memory[next(iter(memory))]  # the oldest


def _title(text: str) -> str:
    return text.split("\n", 1)[0]


class SeriesParts:
    """The on-topic series parts by canonical URL (their titles), and the waiting ones (their items)."""

    def __init__(self):
        self._kept: dict[str, str] = {}  # canonical URL → title
        self._waiting: dict[str, tuple[str, object]] = {}  # canonical URL → (title, the spider's item)

    def kept(self, url: str, text: str) -> None:
        """An on-topic page (`text`: its title, then its body); remembered if numbered as a part."""
        if series_part(_title(text)) is not None:
            _remember(self._kept, canonical_url(url), _title(text), MAX_KEPT)

    def wait(self, url: str, text: str, item) -> None:
        """A part judged off topic at the series margin: `item` is emitted if a kept neighbour links to it."""
        if series_part(_title(text)) is not None:
            _remember(self._waiting, canonical_url(url), (_title(text), item), MAX_WAITING)

    def neighbour_title(self, text: str, links) -> str | None:
        """The title of a kept part k±1 the page (numbered part k) links to as such, if any.
        `links`: the page's `(url, anchor, is a next-page link)`."""
        keys = self._keys(text, links, self._kept)
        return self._kept[keys[0]] if keys else None

    def released_by(self, text: str, links) -> list:
        """The waiting items of the parts k±1 an on-topic part k links to as such, no longer waiting."""
        waiting = {key: title for key, (title, _) in self._waiting.items()}
        return [self._waiting.pop(key)[1] for key in self._keys(text, links, waiting)]

    @staticmethod
    def _keys(text: str, links, parts: dict) -> list[str]:
        """Canonical URLs in `parts` that the page links to as its part k±1 and whose titles continue its series."""
        part = series_part(_title(text))
        if part is None or not parts:
            return []
        keys = []
        for url, anchor, _ in links:
            key = canonical_url(url)
            if key in parts and key not in keys and link_series_part(url, anchor) in (part - 1, part + 1) \
                    and continues_series(text, parts[key]):
                keys.append(key)
        return keys
