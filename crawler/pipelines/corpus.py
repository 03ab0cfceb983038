"""Extraction and corpus pipelines: thin glue around archive.extract.pool and archive.corpus.store.

Extraction runs in worker processes (`EXTRACT_WORKERS`, one per core by
default) so the reactor thread only fetches and archives. Scrapy's scraper
already limits how much item work is in flight (`CONCURRENT_ITEMS`,
`SCRAPER_SLOT_MAX_ACTIVE_SIZE`) and stops taking responses when it is full,
which is the backpressure: a saturated pool slows scheduling instead of
queueing pages in memory. Corpus writes happen on one writer thread in the
order the spider emitted the pages (crawler/pipelines/ordered.py), whatever order
extractions finish in, so numbering is dense and repeatable for the same
archive.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from archive.corpus.store import Corpus, CorpusError
from archive.extract.pool import ExtractionPool, ExtractionTimedOut, WorkerDied
from crawler.downloadermiddlewares.incremental import shared_state
from crawler.items import SEQ_RELEASED
from crawler.pipelines.ordered import OrderedExecutor
from archive.sites import profile_for
from crawler.pipelines.workers import extraction_pool, wait_for


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
                raise DropItem(f"not parsed ({exc}), archived only: {url}") from None
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


class CorpusPipeline:
    """Writes extracted articles into the seed-format corpus with their WARC pointer."""

    def __init__(self, corpus: Corpus, stats, state=None):
        self.corpus = corpus
        self.stats = stats
        self.state = state  # the crawl state (CRAWL_STATE), whose writes go to disk before the corpus's
        self.writer = OrderedExecutor("corpus-writer")  # adds in emission order, off the reactor

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("EXTRACT_ENABLED"):
            raise NotConfigured
        corpus = Corpus(Path(crawler.settings.get("CORPUS_DIR")),
                        corpus_seeds_setting(crawler.settings), deferred_sync=True)
        shared = shared_state(crawler)
        pipeline = cls(corpus, crawler.stats, shared[0] if shared else None)
        # An item dropped or failed anywhere before us must not hold up the ones after it.
        crawler.signals.connect(pipeline._left_early, signal=signals.item_dropped)
        crawler.signals.connect(pipeline._left_early, signal=signals.item_error)
        crawler.signals.connect(pipeline._released, signal=SEQ_RELEASED)  # nor one never emitted
        return pipeline

    def close_spider(self, spider=None):
        self.writer.close()
        self.corpus.close()

    def _left_early(self, item, **kwargs):
        adapter = ItemAdapter(item)
        if adapter.get("corpus_file") is None and not adapter.get("extra", {}).get("corpus_seen"):
            self.writer.skip(adapter.get("seq"))

    def _released(self, seq, **kwargs):
        self.writer.skip(seq)

    def _add(self, *args, **kwargs):
        """On the writer thread: the crawl state's queued rows (this page's fetch among them) are
        committed first, so the order on disk stays WARC, state, corpus (docs/crash-safety.md)."""
        if self.state is not None:
            self.state.flush()
        return self.corpus.add(*args, **kwargs)

    async def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        seq = adapter.get("seq")
        location = None
        if adapter.get("warc_location") is not None:
            location = await wait_for(adapter["warc_location"])
        adapter["extra"]["corpus_seen"] = True
        add = partial(
            self._add,
            adapter["article"],
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
        try:
            result = await wait_for(self.writer.submit(seq, add))
            # Durable before the page counts as done (crawl state, report); on another thread,
            # so the next add() need not wait for this one's fsyncs.
            await maybe_deferred_to_future(deferToThread(self.corpus.sync))
        except CorpusError as exc:
            self.stats.set_value("archive/fatal", str(exc))
            raise
        self.stats.inc_value(f"corpus/{result.status}")
        if result.status != "written":
            raise DropItem(f"{result.status}: {adapter['url']} ({result.reason or result.file})")
        adapter["corpus_file"] = str(result.file)
        return item
