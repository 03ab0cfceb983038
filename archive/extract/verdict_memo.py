"""A yes/no test remembered by value, bounded: for tests a page asks of the same few dozen strings
(class, id and style values) hundreds of times. No Scrapy here."""
from __future__ import annotations

from collections.abc import Callable

__all__ = ["VerdictMemo"]


class VerdictMemo(dict):
    """`memo[value]`: `bool(test(value))`, looked up in C once known; `__missing__` tests. Cleared
    when it holds `LIMIT` values, so it stays bounded over a crawl's pages; a value longer than
    `MAX_CHARS` (None: no bound) is answered but not kept, so a hostile page's huge attribute is not
    held after its page. Subclass to set other bounds."""

    LIMIT = 4096
    MAX_CHARS: int | None = None

    def __init__(self, test: Callable[[str], object]):
        super().__init__()
        self.test = test  # (a pattern's `search`, or any test: its result read as true or false)

    def __missing__(self, value: str) -> bool:
        verdict = bool(self.test(value))  # (a match is true, None false)
        if self.MAX_CHARS is None or len(value) <= self.MAX_CHARS:
            if len(self) >= self.LIMIT:
                self.clear()
            self[value] = verdict
        return verdict
