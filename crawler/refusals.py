"""What the crawl refuses to fetch or keep, and how each refusal is counted.

A refused request or response raises a `Refused` (an `IgnoreRequest`, so
Scrapy drops it quietly and no retry happens); the component that refuses
counts it under `refused/<kind>` and logs it, so the spider's errback only has
to stay quiet. The crawl summary and `runs.jsonl` read the counts back with
`refusal_counts`.
"""
from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

NON_PUBLIC_ADDRESS = "non-public address"
TOO_LARGE = "too large"
KINDS = (NON_PUBLIC_ADDRESS, TOO_LARGE)
_PREFIX = "refused/"


class Refused(IgnoreRequest):
    """A request or response the crawl refused; `kind` is one of KINDS."""

    kind = ""

    def __init__(self, reason: str):
        super().__init__(f"refused: {self.kind}: {reason}")
        self.reason = reason


class RefusedAddress(Refused):
    kind = NON_PUBLIC_ADDRESS


class PageTooLarge(Refused):
    kind = TOO_LARGE


def stats_key(kind: str) -> str:
    return _PREFIX + kind.replace(" ", "_").replace("-", "_")


def refusal_counts(stats: dict) -> dict[str, int]:
    """`{kind: count}` of the refusals in a crawl's stats, the kinds that happened only."""
    return {kind: stats[stats_key(kind)] for kind in KINDS if stats.get(stats_key(kind))}


def is_refusal_type(name: str) -> bool:
    """Whether an exception type name in Scrapy's `downloader/exception_type_count/` stats is a
    refusal: DownloaderStats counts every exception a downloader middleware raises."""
    return name.startswith(f"{__name__}.")


def refused_downloads(stats: dict) -> int:
    """How many of `downloader/exception_count` were refusals, not download errors."""
    prefix = "downloader/exception_type_count/"
    return sum(v for k, v in stats.items() if k.startswith(prefix) and is_refusal_type(k[len(prefix):]))
