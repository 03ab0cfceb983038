"""Pages archived but never extracted are picked up by the next run, from the archive: a failed
extraction, a killed run, a record the state never heard of, a corpus entry rolled back
(docs/crash-safety.md, session 20; crawler/archived_pages.py)."""
import io
import os
import signal
import sqlite3
import subprocess
import time

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.corpus.crawl_check import verify_crawl
from archive.state.requisites import PendingRequisites
from archive.state.store import SCHEMA_VERSION, CrawlState
from archive.state.unrecorded import adopt_unrecorded
from archive.urls import canonical_url
from crawler.downloadermiddlewares.archived_pages import ARCHIVED_RECORD, ArchivedPageMiddleware
from crawler.downloadermiddlewares.incremental import (META, AgeRevisitPolicy, IncrementalDownloaderMiddleware,
                                                       IncrementalSpiderMiddleware)
from crawler.exitcodes import EXIT_OK
from crawler.extensions.recovery import ResumeReconciliation
from crawler.items import ArticlePage
from testbed.bench_site import article_url, listing_reply
from testbed.crash_loop import SlowBenchSite
from testbed.fixtureserver import FixtureServer
from tests.conftest import REPO, CrawlRun, crawl_command
from tests.pool_faults import chosen
from tests.test_pool_failures_crawl import (CRAWL_TIMEOUT, PAGES, _check_archive, _corpus_urls, _crawl, _state,
                                            bench_server)

__all__ = ["bench_server"]  # the module's fixture, shared

URL = "https://nhandan.vn/bai-viet-so-1-post100001.html"


def _record_ids(out) -> dict[str, str]:
    with sqlite3.connect(out / "state.sqlite") as db:
        return {url.replace("https://", "http://"): record for url, record in
                db.execute("SELECT url, record_id FROM pages WHERE url LIKE '%bai-viet-so-%'")}


def test_a_plain_rerun_extracts_from_the_archive_the_pages_whose_extraction_failed(tmp_path, bench_server):
    """The same command again, nothing named: the failed pages reach the corpus from their archived
    records, those the listing does not link to without any fetch, and the pages extracted before
    are not fetched again."""
    site, _ = bench_server
    out = tmp_path / "crawl"
    failing = _crawl(out, bench_server, "unpicklable")
    assert failing.returncode == EXIT_OK, failing.stderr[-3000:]
    failed = {url for url in _state(failing) if chosen(url)}
    extracted = _corpus_urls(failing)
    assert failed and extracted and not failed & extracted
    records = _record_ids(out)
    (out / "stats.json").unlink()
    with site.lock:
        before = len(site.hits)
    again = _crawl(out, bench_server)
    with site.lock:
        fetched = {url for url in site.hits[before:] if "bai-viet-so-" in url}
    assert again.returncode == EXIT_OK, again.stderr[-3000:]
    assert failed <= _corpus_urls(again)
    assert again.stats["corpus/written"] == len(failed)
    listed = {url for url in failed if url in listing_reply(PAGES).body.decode()}
    assert not fetched & (extracted | (failed - listed)), "fetched again"
    assert again.stats["archived_pages/served"] >= len(failed - listed) > 0
    # The manifest points at the records the first run archived; nothing new was archived for them.
    pointers = {row["url"].replace("https://", "http://"): row["warc_record_id"] for row in again.manifest()}
    assert all(pointers[url] == records[url] for url in failed - fetched)
    assert all(_state(again)[url] == 1 for url in failed)
    _check_archive(again)
    assert verify_crawl(again.warc_dir, again.corpus_dir, state=out / "state.sqlite",
                        archived_articles=True).problems == []
    # And the run after that has nothing left to pick up.
    (out / "stats.json").unlink()
    third = _crawl(out, bench_server)
    assert third.returncode == EXIT_OK and "archived_pages/requested" not in third.stats


def test_a_crawl_killed_mid_run_then_run_again_ends_with_every_archived_article_in_the_corpus(tmp_path):
    """SIGKILL of the whole process group (workers and WARC writer too) while pages are being
    fetched, extracted and written; the same command again, to the end."""
    site = SlowBenchSite(120, delay=0.05)
    server = FixtureServer(site).start_background()
    server.handle_error = lambda request, address: None  # the killed crawler resets its connections
    out = tmp_path / "crawl"
    try:
        cmd, env = crawl_command(out, f"urls={site.start_url()}", "depth=1000", "topic=none", "requisites=none",
                                 server=server, settings={"CORPUS_SEEDS": "", "EXTRACT_WORKERS": 2,
                                                          "CONCURRENT_REQUESTS": 8,
                                                          "CONCURRENT_REQUESTS_PER_DOMAIN": 8})
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + CRAWL_TIMEOUT
            while time.monotonic() < deadline and len(list((out / "corpus").glob("0*.txt"))) < 15:
                time.sleep(0.02)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        site.delay = 0
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=CRAWL_TIMEOUT)
    finally:
        server.shutdown()
    again = CrawlRun(done.returncode, done.stdout, done.stderr, out)
    assert again.returncode == EXIT_OK, again.stderr[-3000:]
    report = verify_crawl(out / "warc", out / "corpus", state=out / "state.sqlite", archived_articles=True)
    # (a page the killed run never fetched, linked only from pages extracted before the kill, is not
    # due in an incremental re-run: it is not archived, so not counted here)
    assert report.problems == [] and report.archived_articles == report.articles >= 15
    _check_archive(again)


def _warc_with(tmp_path, *pages: tuple[str, int, str]) -> tuple:
    """A WARC file of `(url, status, content type)` responses; returns its path and the record ids and offsets."""
    path = tmp_path / "warc" / "news-1.warc.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        for url, status, kind in pages:
            offset = fh.tell()
            head = StatusAndHeaders(f"{status} OK", [("Content-Type", kind)], protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(b"<html>page</html>"),
                                               http_headers=head)
            writer.write_record(record)
            written.append((record.rec_headers.get_header("WARC-Record-ID"), offset))
    return path, written


def test_a_record_the_state_never_heard_of_gets_a_row_never_extracted(tmp_path):
    """A kill between the record's fsync and the state's commit: resume gives the page the row its
    fetch would have written, so the run picks it up; a known page, an image, a 404 are left alone."""
    known = "https://nhandan.vn/bai-viet-so-2-post100002.html"
    path, records = _warc_with(tmp_path, (URL, 200, "text/html; charset=utf-8"), (known, 200, "text/html"),
                               ("https://image.nhandan.vn/a.jpg", 200, "image/jpeg"),
                               ("https://nhandan.vn/gone-post1.html", 404, "text/html"))
    state = CrawlState(tmp_path / "state.sqlite", batched=True)
    try:
        state.record_fetch(canonical_url(known), fetch_url=known, status=200, outcome="new")
        assert adopt_unrecorded(state, [path]) == 1
        assert state.never_extracted() == [(canonical_url(URL), URL, path.name, records[0][1], records[0][0])]
        assert len(state) == 2
    finally:
        state.close()


def test_never_extracted_is_every_archived_fetch_not_read_to_the_end(tmp_path):
    state = CrawlState(tmp_path / "state.sqlite")
    try:
        rows = {}
        for n, (status, outcome, done) in enumerate([
                (200, "new", None),  # failed, killed, timed out: yes
                (200, "new", "extracted"),  # no
                (200, "new", "read"),  # a listing, off topic, not text: no
                (301, "other", None),  # a redirect: no
                (200, "new", "requisite"),  # no
                (200, "changed", "extracted before"),  # a changed capture never extracted: yes
                (200, "unchanged", "extracted before"),  # the payload extracted before: no
                (None, None, None),  # no record (capture off): no
        ]):
            url = f"https://nhandan.vn/bai-viet-so-{n}-post{100000 + n}.html"
            record = (f"<urn:uuid:{n}>", "news-1.warc.gz", 100 * n) if status else None
            state.record_fetch(url, fetch_url=url, status=status, outcome=outcome or "error", record=record)
            if done == "extracted":
                state.record_extraction(url, is_article=True, record_id=record[0])
            elif done == "read":
                state.record_read(url, record[0])
            elif done == "requisite":
                PendingRequisites(state).add([(url, "image", 0)])
            elif done == "extracted before":
                state.record_extraction(url, is_article=True, record_id="<urn:uuid:older>")
            rows[n] = url
        assert [row[0] for row in state.never_extracted()] == [rows[0], rows[5]]
        assert [row[0] for row in state.never_extracted(limit=1)] == [rows[0]]
        assert [row[0] for row in state.never_extracted(after=rows[0])] == [rows[5]]
        assert state.never_extracted(fetched_before=0) == []
        # (the row's own view leaves requisites aside: they are never extracted, their table says so)
        assert [state.get(rows[n]).never_extracted for n in range(8)] == [n in (0, 4, 5) for n in range(8)]
    finally:
        state.close()


def test_an_older_state_is_migrated_with_what_it_extracted_read(tmp_path):
    path = tmp_path / "state.sqlite"
    CrawlState(path).close()
    db = sqlite3.connect(path)
    db.executescript("""CREATE TABLE old AS SELECT * FROM pages; DROP TABLE pages;
                        CREATE TABLE pages AS SELECT url, fetch_url, first_seen, fetched_at, status, etag,
                            last_modified, payload_digest, capture_uri, capture_date, capture_record_id,
                            capture_file, outcome, changes, is_article, extracted_at, published, lastmod,
                            record_id, record_file, record_offset FROM old; DROP TABLE old;""")
    for n, is_article in enumerate([1, 0, None]):
        db.execute("INSERT INTO pages (url, first_seen, fetched_at, status, outcome, changes, is_article, "
                   "record_id) VALUES (?, 0, 1, 200, 'new', 0, ?, ?)", (f"https://nhandan.vn/p{n}", is_article, f"r{n}"))
    db.commit()
    db.close()
    state = CrawlState(path)
    try:
        assert [row[0] for row in state.never_extracted()] == ["https://nhandan.vn/p2"]
        assert state._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == \
            str(SCHEMA_VERSION) == "5"
    finally:
        state.close()


def test_a_known_article_whose_new_capture_was_never_extracted_is_not_revalidated(tmp_path):
    """A 304 would hide the capture the corpus never got: the request is a plain GET, and an
    unchanged answer (the same payload as that capture) still goes on to extraction."""
    state = CrawlState(tmp_path / "state.sqlite")
    capture = {"uri": URL, "date": "2026-12-01T00:00:00Z", "record_id": "<urn:uuid:2>", "payload_digest": "sha1:X"}
    state.record_fetch(canonical_url(URL), fetch_url=URL, status=200, outcome="changed", etag='"e"', capture=capture,
                       record=("<urn:uuid:2>", "news-1.warc.gz", 0))
    state.record_extraction(canonical_url(URL), is_article=True, record_id="<urn:uuid:1>")
    crawler = get_crawler(Spider, {"WARC_ENABLED": False, "WARC_PAYLOAD_DIGEST": "stored"})
    downloader = IncrementalDownloaderMiddleware(crawler, state)
    spider_mw = IncrementalSpiderMiddleware(crawler, state, AgeRevisitPolicy(0, 0, 0))
    try:
        request = Request(URL)
        downloader.process_request(request)
        assert b"If-None-Match" not in request.headers
        downloader.builder.payload_digest = lambda exchange: "sha1:X"  # the same payload as that capture
        response = HtmlResponse(URL, body=b"<html></html>", request=request)
        downloader.process_response(request, response)
        assert request.meta[META] == "unchanged"
        item = ArticlePage(url=URL, site="nhandan.vn", body=b"", encoding="utf-8", status=200, depth=0,
                           found_from=None, fetched_at="2026-12-01T00:00:00+00:00")
        assert list(spider_mw.process_spider_output(response, [item])) == [item]
        # Once extracted, the same answer is dropped as unchanged, as before.
        state.record_extraction(canonical_url(URL), is_article=True, record_id="<urn:uuid:2>")
        again = Request(URL)
        downloader.process_request(again)
        assert again.headers.get(b"If-None-Match") == b'"e"'
    finally:
        state.close()


def test_a_page_read_without_an_item_is_marked_read_but_not_one_whose_worker_timed_out(tmp_path):
    state = CrawlState(tmp_path / "state.sqlite")
    crawler = get_crawler(Spider)
    middleware = IncrementalSpiderMiddleware(crawler, state, AgeRevisitPolicy(0, 0, 0))
    try:
        for n, meta in enumerate([{}, {"not_extracted": True}, {"requisite": "image"}]):
            url = f"https://nhandan.vn/bai-viet-so-{n}-post{100000 + n}.html"
            state.record_fetch(url, fetch_url=url, status=200, outcome="new", record=(f"r{n}", "f.warc.gz", n))
            response = HtmlResponse(url, body=b"", request=Request(url, meta={"warc_record_id": f"r{n}", **meta}))
            assert list(middleware.process_spider_output(response, [])) == []
        assert [row[0] for row in state.never_extracted()] == [
            "https://nhandan.vn/bai-viet-so-1-post100001.html", "https://nhandan.vn/bai-viet-so-2-post100002.html"]
    finally:
        state.close()


def test_the_archived_page_middleware_serves_the_record_or_lets_the_request_go_on(tmp_path):
    import asyncio

    path, records = _warc_with(tmp_path, (URL, 200, "text/html; charset=utf-8"))
    crawler = get_crawler(Spider)
    middleware = ArchivedPageMiddleware(crawler, path.parent, 1 << 20)
    record_id, offset = records[0]

    async def serve(where):
        request = Request(URL, meta={ARCHIVED_RECORD: where})
        answer = middleware.process_request(request)
        response = await answer if answer is not None else None
        return request, response

    request, response = asyncio.run(serve((path.name, offset, record_id)))
    assert response.status == 200 and response.body == b"<html>page</html>" and request.meta["warc_skip"]
    response = middleware.process_response(request, response)
    assert request.meta["warc_record_id"] == record_id and request.meta["warc_location"].result().offset == offset
    assert ARCHIVED_RECORD not in request.meta  # a redirect copied from it is fetched
    for where in [(path.name, offset, "<urn:uuid:other>"), ("gone.warc.gz", 0, record_id)]:
        request, response = asyncio.run(serve(where))
        assert response is None and "warc_skip" not in request.meta
    assert crawler.stats.get_value("archived_pages/served") == 1
    assert crawler.stats.get_value("archived_pages/fetched") == 2


def test_the_archived_page_middleware_is_not_built_when_nothing_is_pending(tmp_path):
    """The usual crawl: no middleware call a request for pages that are not there."""
    state = CrawlState(tmp_path / "state.sqlite")
    crawler = get_crawler(Spider, {"WARC_DIR": str(tmp_path / "warc")})
    crawler.get_extension = lambda cls: type("R", (), {"crawl_state": (state, None)})() \
        if cls is ResumeReconciliation else None
    try:
        with pytest.raises(NotConfigured):
            ArchivedPageMiddleware.from_crawler(crawler)
        state.record_fetch(canonical_url(URL), fetch_url=URL, status=200, outcome="new", fetched_at=1.0,
                           record=("<urn:uuid:1>", "news-1.warc.gz", 0))
        assert isinstance(ArchivedPageMiddleware.from_crawler(crawler), ArchivedPageMiddleware)
    finally:
        state.close()


def test_a_topic_crawl_judges_the_pages_it_picks_up(tmp_path, bench_server):
    """Picked up, a page is judged by its text as a page met again is (rule `archived`), not kept
    whatever it says as a start URL is. Five article pages the first run judged are made "never
    extracted" again, as a kill before their rows were committed leaves them."""
    site, server = bench_server
    out = tmp_path / "crawl"
    settings = {"CORPUS_SEEDS": "", "EXTRACT_WORKERS": 2}
    named = ",".join(article_url(n) for n in range(5))
    first, env = crawl_command(out, f"urls={named}", "depth=0", "requisites=none", server=server, settings=settings)
    done = subprocess.run(first, cwd=REPO, env=env, capture_output=True, text=True, timeout=CRAWL_TIMEOUT)
    assert done.returncode == EXIT_OK, done.stderr[-3000:]
    state = CrawlState(out / "state.sqlite", lock=False)
    try:
        assert state.reopen([canonical_url(article_url(n)) for n in range(5)]) == 5
    finally:
        state.close()
    # The next run starts elsewhere: the five are no start URLs any more.
    (out / "stats.json").unlink()
    cmd, env = crawl_command(out, f"urls={site.start_url()}", "depth=0", "requisites=none", server=server,
                             settings=settings)
    state = CrawlState(out / "state.sqlite", lock=False)
    try:
        assert len(state.never_extracted()) == 5
    finally:
        state.close()
    again = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=CRAWL_TIMEOUT)
    run = CrawlRun(again.returncode, again.stdout, again.stderr, out)
    assert run.returncode == EXIT_OK, run.stderr[-3000:]
    stats = run.stats
    assert stats["archived_pages/served"] == 5
    # Judged by their text, as the first run judged them (a start URL would have been kept).
    verdicts = {kind: stats.get(f"topic/pages/{kind}/archived", 0) for kind in ("kept", "off_topic")}
    assert sum(verdicts.values()) == 5, verdicts
    assert stats.get("corpus/written", 0) == 0  # the kept ones are in the corpus already
    state = CrawlState(out / "state.sqlite", lock=False)
    try:
        assert [url for url, *_ in state.never_extracted() if "bai-viet" in url] == []
    finally:
        state.close()
    _check_archive(run)
