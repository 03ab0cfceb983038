"""Extraction and corpus pipelines: thin glue around archive.extract and archive.corpus."""
from __future__ import annotations

from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from archive.corpus import Corpus
from archive.extract import extract_article
from crawler.arguments import DEFAULT_SEEDS
from crawler.sites import profile_for


class ExtractionPipeline:
    """Turns an archived article page into an `Article`, or drops it with the reason."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("EXTRACT_ENABLED", True):
            raise NotConfigured
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        url = adapter["url"]
        article = extract_article(adapter["body"], url, profile_for(url).extraction,
                                  encoding=adapter.get("encoding"))
        if not article.is_article:
            self.stats.inc_value("articles/not_article")
            raise DropItem(f"not an article ({article.reason}): {url}")
        adapter["article"] = article
        self.stats.inc_value("articles/extracted")
        return item


def corpus_seeds_setting(settings) -> Path | None:
    """`CORPUS_SEEDS`: the seed directory a new corpus starts with; empty = none."""
    raw = settings.get("CORPUS_SEEDS", str(DEFAULT_SEEDS))
    return Path(raw) if raw else None


class CorpusPipeline:
    """Writes extracted articles into the seed-format corpus with their WARC pointer."""

    def __init__(self, corpus: Corpus, stats):
        self.corpus = corpus
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("EXTRACT_ENABLED", True):
            raise NotConfigured
        corpus = Corpus(Path(crawler.settings.get("CORPUS_DIR", "data/corpus")),
                        corpus_seeds_setting(crawler.settings))
        return cls(corpus, crawler.stats)

    async def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        location = None
        future = adapter.get("warc_location")
        if future is not None:
            # The WARC writer thread reports where the record landed; wait off the reactor.
            location = await maybe_deferred_to_future(deferToThread(future.result))
        result = self.corpus.add(
            adapter["article"],
            site=adapter["site"],
            warc_file=getattr(location, "warc_file", None),
            warc_offset=getattr(location, "offset", None),
            warc_record_id=adapter.get("warc_record_id"),
            fetched_at=adapter.get("fetched_at"),
            found_from=adapter.get("found_from"),
        )
        self.stats.inc_value(f"corpus/{result.status}")
        if result.status != "written":
            raise DropItem(f"{result.status}: {adapter['url']} ({result.reason or result.file})")
        adapter["corpus_file"] = str(result.file)
        return item
