"""Extraction and corpus pipelines: thin glue around archive.extract.pool and archive.corpus.store.

Extraction runs in worker processes (`EXTRACT_WORKERS`, one per core by
default) so the reactor thread only fetches and archives. Scrapy's scraper
already limits how much item work is in flight (`CONCURRENT_ITEMS`,
`SCRAPER_SLOT_MAX_ACTIVE_SIZE`) and stops taking responses when it is full,
which is the backpressure: a saturated pool slows scheduling instead of
queueing pages in memory. Corpus writes happen on one writer thread in the
corpus order, (WARC-Date, URL) of each page's response record
(crawler/pipelines/ordered.py, archive/corpus/ordering.py), whatever order
pages and extractions finish in, so the corpus is the same for the same archive
(docs/corpus-determinism.md).
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from archive.corpus.ordering import SortedSpill, format_instant, order_key
from archive.corpus.store import AddResult, Corpus, CorpusError
from archive.extract.pool import ExtractionPool, ExtractionTimedOut, WorkerDied
from crawler.downloadermiddlewares.incremental import shared_state
from crawler.engine_state import engine_in_flight
from crawler.extensions.recovery import ResumeReconciliation
from archive.sites import profile_for
from crawler.pipelines.ordered import KeyOrderedWriter
from crawler.pipelines.workers import ExtractionFailed, extraction_pool, wait_for

logger = logging.getLogger(__name__)


class ExtractionPipeline:
    """Turns an archived article page into an `Article`, or drops it with the reason."""

    def __init__(self, stats, pool: ExtractionPool):
        self.stats = stats
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler):
        pool = extraction_pool(crawler)
        if pool is None:
            raise NotConfigured
        return cls(crawler.stats, pool)

    async def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        url = adapter["url"]
        article = adapter.get("article")
        if article is None:  # the spider did not analyse the page (topic filter, worker failure)
            try:
                article, fingerprint = await wait_for(self.pool.submit_with_fingerprint(
                    adapter["body"], url, profile_for(url).extraction, adapter.get("encoding")))
            except (ExtractionTimedOut, WorkerDied) as exc:  # the worker was replaced; the page stays archived
                self.stats.inc_value("pages/not_parsed")
                raise ExtractionFailed(f"not parsed ({exc}), archived only: {url}") from None
            except Exception as exc:  # the job could not be sent or answered, or the pool failed: this page alone
                self.stats.inc_value("pages/extraction_failed")
                self.stats.inc_value(f"pages/extraction_failed/{type(exc).__name__}")
                logger.warning("extraction failed (%s: %s), archived only: %s", type(exc).__name__, exc, url)
                raise ExtractionFailed(f"extraction failed ({type(exc).__name__}), archived only: {url}") from None
            adapter["extra"]["fingerprint"] = fingerprint
        adapter["body"] = b""  # the page is in the WARC; don't hold it while waiting for our turn
        if not article.is_article:
            self.stats.inc_value("articles/not_article")
            # "too few words (35 < 100)" -> "too few words": one counter per kind of reason.
            kind = (article.reason or "unknown").split(" (")[0].split(":")[0].strip()
            self.stats.inc_value(f"articles/not_article/{kind}")
            raise DropItem(f"not an article ({article.reason}): {url}")
        adapter["article"] = article
        self.stats.inc_value("articles/extracted")
        return item


def corpus_seeds_setting(settings) -> Path | None:
    """`CORPUS_SEEDS`: the seed directory a new corpus starts with; empty = none."""
    raw = settings.get("CORPUS_SEEDS")
    return Path(raw) if raw else None


# request.meta key: when the request reached the downloader (its WARC-Date, taken when it is sent, is later).
REACHED_AT = "corpus_reached_at"
_TICK = 0.05  # seconds between two advances of the writer's bound while pages wait for it
# Seconds a checkpoint waits for more writes to share its sync (one syncfs for all: archive/corpus/durable.py).
_CHECKPOINT_DELAY = 0.1
_KEPT = ("written", "supersedes")  # the item goes on; any other outcome drops it


class CorpusPipeline:
    """Writes extracted articles into the seed-format corpus with their WARC pointer, in corpus order.

    Each article waits on the writer thread until every request sent before
    its own (an earlier WARC-Date) has been extracted or has left the crawl:
    the bound is the earliest `REACHED_AT` among the engine's requests in
    progress, other than those whose article already waits. A request in
    flight longer than `CORPUS_ORDER_WAIT` seconds no longer holds the others
    back (a page that arrives after that is written when it arrives). In a
    replay crawl the dates come from the archive, not the clock, so no bound is
    known before the end: the articles wait in a temporary file (`SortedSpill`,
    a key and three ints in memory for each) and are written, in order, when the
    spider closes.
    """

    def __init__(self, corpus: Corpus, crawler, until_close: bool, order_wait: float, state=None):
        self.corpus = corpus
        self.state = state  # the crawl state (CRAWL_STATE), whose writes go to disk before the corpus's
        self.crawler = crawler
        self.stats = crawler.stats
        self.until_close = until_close
        self.order_wait = timedelta(seconds=order_wait)
        self.writer = KeyOrderedWriter("corpus-writer")
        self._waiting: Counter[str] = Counter()  # URLs whose article waits on the writer
        self._at_close = SortedSpill() if until_close else None  # replay: written in order at close
        self._ticks = None
        self._checkpoint: list[Deferred] | None = None  # waiters of the next sync (not started yet)
        self._syncing = False

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("EXTRACT_ENABLED"):
            raise NotConfigured
        # The manifest as the resume parsed it, so it is parsed once (archive/corpus/manifest_parse.py).
        recovery = crawler.get_extension(ResumeReconciliation)
        parsed = recovery.summary.take_manifest() if recovery is not None else None
        corpus = Corpus(Path(settings.get("CORPUS_DIR")), corpus_seeds_setting(settings), deferred_sync=True,
                        manifest=parsed)
        shared = shared_state(crawler)
        pipeline = cls(corpus, crawler, bool(settings.get("ARCHIVE_REPLAY")), settings.getfloat("CORPUS_ORDER_WAIT"),
                       shared[0] if shared else None)
        crawler.signals.connect(pipeline._reached, signal=signals.request_reached_downloader)
        return pipeline

    def open_spider(self, spider=None):
        if not self.until_close:
            self._ticks = create_looping_call(self._advance)
            self._ticks.start(_TICK, now=False)

    def close_spider(self, spider=None):
        if self._ticks is not None and self._ticks.running:
            self._ticks.stop()
        self.writer.close()  # writes what still waits, in order
        if self._at_close is not None:
            try:
                for article, fields in self._at_close.drain():
                    self._count(self._add(article, **fields))
            except CorpusError as exc:
                self.stats.set_value("archive/fatal", str(exc))
            finally:
                self._at_close.close()
        self.corpus.close()
        self.stats.set_value("corpus_sync/calls", self.corpus.fsyncs)  # not corpus/*: those are outcomes

    def _reached(self, request, spider=None):
        request.meta[REACHED_AT] = format_instant(datetime.now(timezone.utc))

    def _advance(self) -> None:
        """Let the writer run every article whose key is below the earliest request still in flight."""
        now = datetime.now(timezone.utc)
        low, stale = format_instant(now), format_instant(now - self.order_wait)
        waiting = self._waiting.get  # dict.get: a Counter's [] of an absent URL is a __missing__ call
        for request in engine_in_flight(self.crawler):
            reached = request.meta.get(REACHED_AT)
            if reached is not None and stale < reached < low and not waiting(request.url):
                low = reached
        self.writer.advance((low, ""))

    def _key(self, adapter) -> tuple[str, str]:
        """The page's place in the corpus order: its record's WARC-Date (set by the capture middleware
        or the replay handler), then its URL. A page not archived (capture off) has none: when its
        request reached the downloader, the clock of the bound, so it waits only for the requests
        sent before it, as an archived page does. Keyed by the time its article came back instead, it
        waited for every page still in flight: the scraper filled up with articles waiting for each
        other, downloads stopped, and the workers ran dry before all were written at once
        (docs/performance.md, session 22). Neither is known: now."""
        moment = adapter.get("warc_date") or adapter.get("reached_at") or datetime.now(timezone.utc)
        return order_key(moment, adapter["url"])

    def _add(self, *args, state_mark: int | None = None, **kwargs):
        """On the writer thread: the crawl state's rows queued before the item came (`state_mark`: this
        page's fetch and requisites among them; None: all queued rows) are committed first, so the order
        on disk stays WARC, state, corpus (docs/crash-safety.md). They are most often committed already
        by the state's own writer: then no transaction is spent here."""
        if self.state is not None:
            self.state.flush(state_mark)
        return self.corpus.add(*args, **kwargs)

    async def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        url = adapter["url"]
        location = None
        if adapter.get("warc_location") is not None:
            location = await wait_for(adapter["warc_location"])
        fields = dict(
            site=adapter["site"],
            warc_file=getattr(location, "warc_file", None),
            warc_offset=getattr(location, "offset", None),
            warc_record_id=adapter.get("warc_record_id"),
            warc_payload_digest=getattr(location, "payload_digest", None),
            fetched_at=adapter.get("fetched_at"),
            found_from=adapter.get("found_from"),
            topic_score=adapter["extra"].get("score"),
            topic_rule=adapter["extra"].get("rule"),
            fingerprint=adapter["extra"].get("fingerprint"),
        )
        if self._at_close is not None:
            self._at_close.add(self._key(adapter), (adapter["article"], fields))
            return item
        # After the location: its callbacks, which queue this page's state row, have run.
        state_mark = self.state.write_mark() if self.state is not None else None
        future = self.writer.submit(self._key(adapter), partial(self._add, adapter["article"],
                                                                state_mark=state_mark, **fields))
        self._waiting[url] += 1
        try:
            self._advance()
            result = await wait_for(future)
            # Durable before the page counts as done (crawl state, report): at the next checkpoint,
            # one sync on another thread for every write since the last (the writer goes on meanwhile).
            await maybe_deferred_to_future(self._durable())
        except CorpusError as exc:
            self.stats.set_value("archive/fatal", str(exc))
            raise
        finally:
            self._waiting[url] -= 1
            if not self._waiting[url]:
                del self._waiting[url]
        self._count(result)
        if result.status not in _KEPT:
            raise DropItem(f"{result.status}: {url} ({result.reason or result.file})")
        adapter["corpus_file"] = str(result.file)
        return item

    def _durable(self) -> Deferred:
        """Fires once every write so far is durable: at the next checkpoint that has not started yet."""
        if self._checkpoint is None:
            self._checkpoint = []
            if not self._syncing:
                self._schedule_checkpoint()
        waiter = Deferred()
        self._checkpoint.append(waiter)
        return waiter

    def _schedule_checkpoint(self) -> None:
        from twisted.internet import reactor  # here: importing it at module load would install a reactor

        reactor.callLater(_CHECKPOINT_DELAY, self._run_checkpoint)

    def _run_checkpoint(self) -> None:
        waiters, self._checkpoint = self._checkpoint, None
        self._syncing = True

        def done(outcome):
            self._syncing = False
            if self._checkpoint is not None:  # writes that came while this one synced
                self._schedule_checkpoint()
            for waiter in waiters:
                if isinstance(outcome, Failure):
                    waiter.errback(outcome)
                else:
                    waiter.callback(None)

        deferToThread(self.corpus.sync).addBoth(done)

    def _count(self, result: AddResult) -> None:
        self.stats.inc_value(f"corpus/{result.status}")
