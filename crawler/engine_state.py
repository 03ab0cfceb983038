"""What Scrapy's engine and downloader hold in flight, read in one place.

Scrapy has no public API for these. Its engine keeps the requests taken from the scheduler
and not yet done as `engine._slot.inprogress` (Scrapy 2.19, pinned in pyproject.toml); two
components need it: the corpus pipeline's order bound (an article may be written once no
earlier request can still produce one) and the Redis frontier's acknowledgements (a request
leaves the in-flight hash once it is done). Its downloader keeps a download slot a host,
whose `queue` and `latercall` say whether the host (its concurrency, its delay) holds a
request back; the requisite queue needs that (crawler/requisite_queue.py). Keeping the
private access here means one place to change on a Scrapy upgrade, and
tests/test_engine_state.py fails loudly if an attribute disappears. Whether the engine is
still idle (its public `spider_is_idle`) is read here too, by the topic crawl's idle releases,
answered False where there is no engine to ask.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.core.downloader import Downloader
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


def engine_idle(crawler: Crawler | None) -> bool:
    """Whether the engine still has nothing to do (Scrapy's own test before it sends `spider_idle`:
    no request scheduled, downloading or being scraped); False when it cannot tell."""
    try:
        engine = crawler.engine if crawler is not None else None
    except RuntimeError:
        return False
    is_idle = getattr(engine, "spider_is_idle", None)
    try:
        return bool(is_idle()) if is_idle is not None else False
    except RuntimeError:  # no engine slot: the spider is not open
        return False


def wake_engine(crawler: Crawler | None) -> None:
    """Make the engine ask the scheduler for requests now, not at its next 5 s heartbeat."""
    slot = _engine_slot(crawler)
    if slot is not None:
        slot.nextcall.schedule()


def host_holds_back(downloader: Downloader, request: Request) -> bool:
    """Whether `request`'s host, not a free place, decides when it goes: its download slot does not
    exist yet (robots.txt or the first request pending) or queues requests (per-host concurrency,
    a download delay still running)."""
    slot = downloader.slots.get(downloader.get_slot_key(request))
    return slot is None or bool(slot.queue) or slot.latercall is not None
