"""The corpus order of a crawl with WARC capture off (crawler/pipelines/corpus.py, `CorpusPipeline._key`).

Such a page has no record, so no WARC-Date: it is keyed by when its request reached the downloader,
the clock the writer's bound reads, and waits only for the requests sent before it. Keyed by the
time its article came back, it waited for every page still in flight, and a crawl with capture off
went in batches of a full scraper (docs/performance.md, session 22)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from itemadapter import ItemAdapter

from archive.corpus.ordering import format_instant
from archive.corpus.store import Corpus
from crawler.items import ArticlePage
from crawler.pipelines.corpus import REACHED_AT, CorpusPipeline


def _page(url: str, **fields) -> ItemAdapter:
    return ItemAdapter(ArticlePage(url=url, site="nhandan.vn", body=b"", encoding="utf-8", status=200, depth=1,
                                   found_from=None, fetched_at="2026-12-07T00:00:00+00:00", **fields))


def _request(url: str, reached: datetime) -> SimpleNamespace:
    return SimpleNamespace(url=url, meta={REACHED_AT: format_instant(reached)})


def _pipeline(tmp_path, in_flight: list) -> CorpusPipeline:
    crawler = SimpleNamespace(stats=None, engine=SimpleNamespace(_slot=SimpleNamespace(inprogress=in_flight)))
    return CorpusPipeline(Corpus(tmp_path / "corpus", None), crawler, until_close=False, order_wait=60)


def test_a_page_without_a_record_is_keyed_by_when_it_reached_the_downloader(tmp_path):
    reached = format_instant(datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=timezone.utc))
    pipeline = _pipeline(tmp_path, [])
    try:
        url = "http://nhandan.vn/a-post1.html"
        assert pipeline._key(_page(url, reached_at=reached)) == (reached, url)
        # A record's WARC-Date comes first (capture on, replay).
        warc_date = "2026-12-07T01:02:04.000001Z"
        assert pipeline._key(_page(url, warc_date=warc_date, reached_at=reached)) == (warc_date, url)
        before = format_instant(datetime.now(timezone.utc))
        assert pipeline._key(_page(url))[0] >= before  # neither: now, as before
    finally:
        pipeline.writer.close()
        pipeline.corpus.close()


def test_an_article_waits_for_the_pages_sent_before_it_and_not_for_those_sent_after(tmp_path):
    """Three pages in flight, sent in the order early, own, late; the own page's article is back
    (capture off). It waits while the early page is in flight, and is written once only later ones
    are, which it used to wait for too."""
    now = datetime.now(timezone.utc)
    early = _request("http://nhandan.vn/early-post1.html", now - timedelta(seconds=3))
    own = _request("http://nhandan.vn/own-post2.html", now - timedelta(seconds=2))
    late = _request("http://nhandan.vn/late-post3.html", now - timedelta(seconds=1))
    in_flight = [early, own, late]
    pipeline = _pipeline(tmp_path, in_flight)
    written = []
    try:
        item = _page(own.url, reached_at=own.meta[REACHED_AT])
        done = pipeline.writer.submit(pipeline._key(item), lambda: written.append(own.url))
        pipeline._waiting[own.url] += 1  # as process_item marks it: its own request holds nothing back
        pipeline._advance()
        assert not done.done() and pipeline.writer.waiting() == 1  # the early page may still come first
        in_flight.remove(early)  # its request left the crawl (answered or dropped)
        pipeline._advance()
        done.result(timeout=5)
        assert written == [own.url]
        assert late in in_flight  # written while the later page is still in flight
    finally:
        pipeline.writer.close()
        pipeline.corpus.close()
