"""Series parts a topic crawl kept, so that a part reached another way still joins its series.

The series rule (crawler/relevance.py) keeps a page whose title numbers it as part k of a series
and that scores SERIES_MARGIN × the threshold when it was reached from its on-topic part k±1: the
editors made them one story. A section page or a tag lists a series' parts too, so the crawl may
reach part 3 from a listing after it kept part 2, and then judged it by the threshold alone (four
border-series parts at 0.158–0.179 on one hard web, docs/topic.md session 16). The parts link to
each other ("Kỳ 2: …" in part 3's related box), so when part 3 links to a kept part 2 as its part
2, `neighbour_title` gives part 2's title and the series rule applies as if part 3 had been reached
from it.

Only that order: a part judged before its neighbour is kept stays judged. Keeping it later would
write its article after pages with later WARC-Dates, out of the corpus order a replay of the
archive reproduces (docs/corpus-determinism.md); the session's helper built that too, and it
gained nothing measurable on unseen webs (docs/topic.md, session 16), so it was taken out.

No Scrapy here. The memory is bounded (the oldest forgotten first).
"""
from __future__ import annotations

from archive.urls import canonical_url
from crawler.relevance import continues_series, link_series_part, series_part


MAX_KEPT = 10_000  # kept parts remembered (their titles)


def _title(text: str) -> str:
    return text.split("\n", 1)[0]


class SeriesParts:
    """The on-topic series parts by canonical URL (their titles)."""

    def __init__(self):
        self._kept: dict[str, str] = {}  # canonical URL → title

    def kept(self, url: str, text: str) -> None:
        """An on-topic page (`text`: its title, then its body); remembered if numbered as a part."""
        title = _title(text)
        if series_part(title) is not None:
            key = canonical_url(url)
            self._kept.pop(key, None)
            self._kept[key] = title
            if len(self._kept) > MAX_KEPT:
                del self._kept[next(iter(self._kept))]  # the oldest

    def neighbour_title(self, text: str, links) -> str | None:
        """The title of a kept part k±1 the page (numbered part k) links to as such, if any.
        `links`: the page's `(url, anchor, is a next-page link)`."""
        part = series_part(_title(text))
        if part is None or not self._kept:
            return None
        for url, anchor, _ in links:
            key = canonical_url(url)
            title = self._kept.get(key)
            if title is not None and link_series_part(url, anchor) in (part - 1, part + 1) \
                    and continues_series(text, title):
                return title
        return None
