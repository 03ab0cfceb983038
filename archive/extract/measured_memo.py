"""Anchor texts measured on earlier pages, remembered by their text: a site's menus, section names
and teaser headlines come back page after page (on the fixture pages of the target sites, 48 % of
a page's anchors were on an earlier page of its site; 12–17 % on the hosts with no profile of
tests/fixtures/eval-generic, mostly one page a host), and a measurement is a pure function of
the text and the profile. No Scrapy here.
"""
from __future__ import annotations

__all__ = ["MeasuredMemo"]


class MeasuredMemo:
    """`text -> measured text` of one profile's measurements, bounded: emptied when it holds `LIMIT`
    texts, and a text longer than `MAX_CHARS` (a hostile page's huge link) is not kept. Emptied
    too when `generation()` changes (the term rows the kept vectors' strings come from were
    emptied: kept and new vectors then would not share their terms' strings)."""

    LIMIT = 4096
    MAX_CHARS = 300

    def __init__(self, generation):
        self._generation = generation
        self._seen = generation()
        self._kept: dict = {}

    def known(self, texts: list[str]) -> list:
        """The kept measurement of each text, None for a text not kept."""
        return list(map(self._current().get, texts))

    def keep(self, texts: list[str], measured: list) -> None:
        kept, limit, longest = self._current(), self.LIMIT, self.MAX_CHARS  # (measuring them may have emptied the rows)
        if len(kept) + len(texts) < limit and max(map(len, texts), default=0) <= longest:
            kept.update(zip(texts, measured))  # (a page's anchors, all kept at once)
            return
        for text, measurement in zip(texts, measured):
            if len(text) <= longest:
                if len(kept) >= limit:
                    kept.clear()
                kept[text] = measurement

    def _current(self) -> dict:
        """The kept measurements, emptied first if the term rows were emptied since."""
        if self._generation() != self._seen:
            self._kept.clear()
            self._seen = self._generation()
        return self._kept

    def __len__(self) -> int:
        return len(self._kept)
