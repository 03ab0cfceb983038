"""A pure function's results remembered by argument, bounded: for what a crawl asks of the same
few values again and again (class and id values a page tests hundreds of times, a page URL's
referrer for each of its links, a syllable's wordfreq look-up). No Scrapy here."""
from __future__ import annotations

from collections.abc import Callable

__all__ = ["BoundedMemo", "VerdictMemo", "remember"]


def remember(memo: dict, key, value, limit: int) -> None:
    """`memo[key] = value`, the memo emptied first when it holds `limit` entries: what every bounded
    memo here does (a dict of its own where the key is not one value or the result is kept only
    under a condition: url_join's joined links, requisites' values that resolve alone)."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value


class BoundedMemo(dict):
    """`memo[value]`: `compute(value)`, looked up in C once known; `__missing__` computes. Cleared
    when it holds `LIMIT` values, so it stays bounded over a crawl; a value longer than
    `MAX_CHARS` (None: no bound) is answered but not kept, so a hostile page's huge value is not
    held after its page. Subclass to set other bounds."""

    LIMIT = 4096
    MAX_CHARS: int | None = None

    def __init__(self, compute: Callable[[str], object]):
        super().__init__()
        self.compute = compute

    def __missing__(self, value: str):
        result = self.compute(value)
        if self.MAX_CHARS is None or len(value) <= self.MAX_CHARS:
            remember(self, value, result, self.LIMIT)
        return result


class VerdictMemo(BoundedMemo):
    """A yes/no test remembered by value: `memo[value]` is `bool(test(value))` (a pattern's
    `search`, or any test: its result read as true or false)."""

    def __init__(self, test: Callable[[str], object]):
        super().__init__(lambda value: bool(test(value)))  # (a match is true, None false)
