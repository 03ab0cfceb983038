"""The crawl's extraction worker processes, shared by the spider and the extraction pipeline.

One pool per crawl (`EXTRACT_WORKERS`, one per core by default), held by the
`ExtractionWorkers` extension and fetched from the crawler. The spider
sends each page there once: the worker parses it, extracts the article and
reads what the spider decides with (the links to follow, and for a topic
filter the page's text and the links' anchors: archive/extract/links.py) from the
same tree, so the reactor thread never parses HTML. The extraction pipeline
uses the same pool for items that arrive without an article (a page the
spider could not analyse, or read itself: generic sites).
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.asyncio import is_asyncio_available
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.python.threadable import isInIOThread

from archive.extract.pool import DEFAULT_TIME_BUDGET, ExtractionPool

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ExtractionFailed(DropItem):
    """The page is archived but was not extracted: the pool failed its job (timed out, worker died,
    could not be sent or answered, the pool broke). Not a verdict on the page: the crawl state keeps
    it due, so the next run extracts it (crawler/downloadermiddlewares/incremental.py, `item_done`)."""


class ExtractionWorkers:
    """Extension (listed in EXTENSIONS): the crawl's one pool, closed with the spider.

    Its workers start when the extension is built for a crawl (`crawler.crawling`), before the
    engine, its components and the spider are (~0.5-1 s of a crawl's start-up): started with the first page instead, a crawl
    downloaded its first pages and then waited ~1.2 s (idle machine; 2.5 s loaded) for the
    forkserver's imports and the workers before any page was analysed (issue #17)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self._pool: ExtractionPool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionWorkers:
        if not crawler.settings.getbool("EXTRACT_ENABLED"):
            raise NotConfigured("extraction is off (EXTRACT_ENABLED)")
        extension = cls(crawler)
        if crawler.crawling:  # (a crawler built for a crawl, not one a tool or a test builds to read settings)
            extension.pool.start()
        return extension

    @property
    def pool(self) -> ExtractionPool:
        if self._pool is None:
            raw = self.crawler.settings.get("EXTRACT_WORKERS")
            # EXTRACT_TIME_BUDGET: seconds a page may hold a worker before the worker is replaced.
            self._pool = ExtractionPool(None if raw in (None, "") else int(raw),
                                        time_budget=self.crawler.settings.getfloat("EXTRACT_TIME_BUDGET",
                                                                                   DEFAULT_TIME_BUDGET))
            self.crawler.signals.connect(self._pool.close, signal=signals.spider_closed, weak=False)
            # (and when the engine stops without a spider opened: a crawl that failed to start)
            self.crawler.signals.connect(self._pool.close, signal=signals.engine_stopped, weak=False)
            self._pool.failed.add_done_callback(self._pool_failed)
        return self._pool

    def _pool_failed(self, failed) -> None:
        """The pool broke (process_pool.PoolBroken; on its dispatcher thread): no page can be
        extracted any more, so the crawl stops, exit code 1, instead of fetching pages it can only
        archive (each one counted `pages/extraction_failed` meanwhile)."""
        from twisted.internet import reactor  # here: importing it at module load would install a reactor

        reactor.callFromThread(self._stop_crawl, failed.exception())

    def _stop_crawl(self, exc: BaseException) -> None:
        logger.error("Stopping the crawl, the extraction workers failed: %s", exc)
        self.crawler.stats.set_value("extraction/pool_failed", str(exc))
        try:
            running = self.crawler.engine.running
        except RuntimeError:  # no engine yet: the workers failed as the crawl started
            running = False
        if running:
            self._close_spider()
        else:  # (an engine that already stopped never starts again: nothing happens then)
            self.crawler.signals.connect(self._close_spider, signal=signals.engine_started, weak=False)

    def _close_spider(self) -> None:
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="extraction_pool_failed"))


def extraction_pool(crawler: Crawler) -> ExtractionPool | None:
    """The crawl's pool (its workers started with the crawl, or on first use elsewhere); None when extraction is off (`EXTRACT_ENABLED`)."""
    workers = crawler.get_extension(ExtractionWorkers)
    return None if workers is None else workers.pool


def wait_for(future):
    """Await a `concurrent.futures.Future` from Scrapy code without blocking a thread.

    A future settled on the reactor thread itself (a WARC record's location, settled by the writer's
    pump; or one already done) is handed over at once: `callFromThread` would wake the reactor
    through its waker pipe for a call it can make now (a write, a read and a loop pass a page).
    With the asyncio reactor (Scrapy's default) the answer goes straight into an asyncio future:
    a Deferred and its conversion (`maybe_deferred_to_future`) added ~2.7 µs an await (warm), three
    awaits a page, for the same result or exception at the same loop pass."""
    if is_asyncio_available():
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()

        def settle(done):
            if waiter.cancelled():  # the awaiting task was cancelled: nobody waits (as a cancelled Deferred)
                return
            ok, value = _outcome(done)
            waiter.set_result(value) if ok else waiter.set_exception(value)

        future.add_done_callback(lambda done: settle(done) if isInIOThread() else loop.call_soon_threadsafe(settle, done))
        return waiter
    from twisted.internet import reactor  # here: importing it at module load would install a reactor

    deferred = Deferred()

    def settle_deferred(done):
        ok, value = _outcome(done)
        deferred.callback(value) if ok else deferred.errback(value)

    future.add_done_callback(lambda done: settle_deferred(done) if isInIOThread()
                             else reactor.callFromThread(settle_deferred, done))
    return maybe_deferred_to_future(deferred)


def _outcome(done) -> tuple[bool, object]:
    """`(True, result)` of a settled future, or `(False, the exception its awaiter gets)`."""
    if done.cancelled():
        return False, CancelledError(f"cancelled: {done!r}")
    if done.exception() is not None:
        return False, done.exception()
    return True, done.result()
