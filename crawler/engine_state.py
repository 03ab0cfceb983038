"""The requests Scrapy's engine holds in flight: taken from the scheduler, not yet done.

Scrapy has no public API for this set; its engine keeps it as `engine._slot.inprogress`
(Scrapy 2.19, pinned in pyproject.toml). Two components need it: the corpus pipeline's
order bound (an article may be written once no earlier request can still produce one)
and the Redis frontier's acknowledgements (a request leaves the in-flight hash once
it is done). Keeping the private access here means one place to change on a Scrapy
upgrade, and tests/test_engine_state.py fails loudly if the attribute disappears.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def _engine_slot(crawler: Crawler | None) -> Any:
    """The engine's slot; None before the crawl starts (Scrapy raises on `crawler.engine` then) or
    after the spider closed."""
    try:
        engine = crawler.engine if crawler is not None else None
    except RuntimeError:
        return None
    return getattr(engine, "_slot", None)


def engine_in_flight(crawler: Crawler | None) -> tuple[Any, ...]:
    """The engine's in-flight requests (a snapshot); empty before the engine starts or after it stops."""
    return tuple(getattr(_engine_slot(crawler), "inprogress", ()))


def wake_engine(crawler: Crawler | None) -> None:
    """Make the engine ask the scheduler for requests now, not at its next 5 s heartbeat."""
    slot = _engine_slot(crawler)
    if slot is not None:
        slot.nextcall.schedule()
