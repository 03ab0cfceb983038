"""Shared resources are extensions fetched from the crawler, not private attributes set on it."""
from __future__ import annotations

from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from crawler.downloadermiddlewares.incremental import shared_state
from crawler.extensions.recovery import ResumeReconciliation
from crawler.pipelines.workers import ExtractionWorkers, extraction_pool
from crawler.spiders.news import NewsSpider


def _crawler(tmp_path, **overrides):
    # The project's settings, but the reactor and download handlers get_crawler picks for this process.
    settings = {name: value for name, value in get_project_settings().copy_to_dict().items()
                if not name.startswith("TWISTED_REACTOR") and name != "DOWNLOAD_HANDLERS"}
    settings.update({"WARC_DIR": str(tmp_path / "warc"), "CORPUS_DIR": str(tmp_path / "corpus"),
                     "CRAWL_STATE": str(tmp_path / "state.sqlite"), "EXTRACT_WORKERS": 1, **overrides})
    return get_crawler(NewsSpider, settings)


def test_the_pool_and_the_crawl_state_come_from_extensions(tmp_path):
    crawler = _crawler(tmp_path)
    before = {name for name in vars(crawler) if name.startswith("_")}
    workers = crawler.get_extension(ExtractionWorkers)
    recovery = crawler.get_extension(ResumeReconciliation)
    pool = extraction_pool(crawler)
    try:
        assert pool is workers.pool and extraction_pool(crawler) is pool  # one pool per crawl
        state = shared_state(crawler)
        assert state is recovery.crawl_state and state[0].path == tmp_path / "state.sqlite"
        assert {name for name in vars(crawler) if name.startswith("_")} == before
    finally:
        pool.close()
        recovery.crawl_state[0].close()


def test_switched_off_resources_are_not_built(tmp_path):
    crawler = _crawler(tmp_path, EXTRACT_ENABLED=False, CRAWL_STATE="")
    assert crawler.get_extension(ExtractionWorkers) is None and extraction_pool(crawler) is None
    assert shared_state(crawler) is None
