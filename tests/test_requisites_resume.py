"""Page requisites survive a crash (issue 24): a crawl SIGKILLed after its pages are archived and
extracted, but before some of their requisites are, asks for exactly those on resume.

The fixture is tests/test_requisites.py's (two articles, a CDN host, a stylesheet chain). In the
first run two photos and one image named only by the stylesheet (`bg.png`, so CSS-discovered)
hang; the run is killed once both pages count as done in the crawl state and every other
requisite is archived or refused there. The resumed run fetches neither page again (not due),
only the three pending requisites; at the end every requisite is archived exactly once.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter

import pytest

from archive.corpus.crawl_check import verify_crawl
from archive.urls import canonical_url
from tests.conftest import REPO, crawl_command, run_crawl
from tests.test_requisites import CDN, PAGE_A, PAGE_B, REQUISITES, ROOT, SETTINGS, SITE, _records
from testbed.fixtureserver import FixtureServer, FixtureSite

HANGING = {f"{CDN}/photos/a-lazy.jpg", f"{CDN}/photos/b-photo.jpg", f"{SITE}/assets/bg.png"}
REFUSED = {f"{CDN}/private/secret.jpg", f"{SITE}/assets/huge.jpg"}  # robots.txt, size cap
ARGS = (f"urls={PAGE_A}", "depth=1", "topic=none")


class GatedSite(FixtureSite):
    """The requisite fixture, with `HANGING` answered only once `gate` is set."""

    def __init__(self):
        super().__init__(ROOT)
        self.gate = threading.Event()

    def resolve(self, host, path_qs):
        if f"https://{host}{path_qs}" in HANGING:
            self.gate.wait(120)
        return super().resolve(host, path_qs)


@pytest.fixture
def gated_server():
    server = FixtureServer(GatedSite())
    server.handle_error = lambda request, address: None  # the killed crawler's connections: expected
    server.start_background()
    yield server
    server.site.gate.set()
    server.shutdown()
    server.server_close()


def _state_rows(path):
    """(pages done: canonical URL -> is_article, requisites: fetch URL -> outcome) as committed."""
    if not path.exists():
        return {}, {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        pages = dict(db.execute("SELECT url, is_article FROM pages WHERE is_article IS NOT NULL"))
        requisites = dict(db.execute("SELECT fetch_url, outcome FROM requisites"))
        return pages, requisites
    except sqlite3.OperationalError:  # not created yet
        return {}, {}
    finally:
        db.close()


def test_requisites_pending_at_a_kill_are_fetched_on_resume_once(tmp_path, gated_server):
    site, out = gated_server.site, tmp_path / "run"
    settings = {**SETTINGS, "DOWNLOAD_TIMEOUT": 60, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}
    command, env = crawl_command(out, *ARGS, server=gated_server, settings=settings)
    crawler = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    settled_first = (REQUISITES | REFUSED) - HANGING
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and crawler.poll() is None:
            pages, requisites = _state_rows(out / "state.sqlite")
            done = {url for url, outcome in requisites.items() if outcome}
            if {canonical_url(PAGE_A), canonical_url(PAGE_B)} <= set(pages) and settled_first <= done:
                break
            time.sleep(0.2)
        assert crawler.poll() is None, "the first run ended by itself: the hanging requisites did not hang"
        assert {canonical_url(PAGE_A), canonical_url(PAGE_B)} <= set(pages), "the pages never counted as done"
        assert settled_first <= done, f"not settled before the kill: {sorted(settled_first - done)}"
        assert {url for url, outcome in requisites.items() if not outcome} == HANGING
        assert requisites[f"{CDN}/private/secret.jpg"] == "refused:robots"
        assert requisites[f"{SITE}/assets/huge.jpg"] == "refused:too_large"
        os.killpg(crawler.pid, signal.SIGKILL)
        crawler.wait(timeout=30)
    finally:
        if crawler.poll() is None:
            os.killpg(crawler.pid, signal.SIGKILL)
            crawler.wait(timeout=30)
    assert not _records(out / "warc").keys() & {("response", url) for url in HANGING}
    with site.lock:
        first_hits = len(site.hits)
    site.gate.set()

    resumed = run_crawl(out, *ARGS, server=gated_server, settings=SETTINGS)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    with site.lock:
        hits = Counter(site.hits)
        second = Counter(site.hits[first_hits:])
    assert resumed.stats["requisites/resumed"] == len(HANGING)
    assert not second.keys() & {PAGE_A, PAGE_B}  # not due: only the crawl state knew their requisites
    assert {url for url in second if url in REQUISITES | REFUSED} == HANGING
    records = _records(out / "warc")
    assert {url: records[("response", url)] for url in REQUISITES} == {url: 1 for url in REQUISITES}
    assert not any(records[("revisit", url)] for url in REQUISITES)
    assert all(hits[url] == 1 for url in REQUISITES - HANGING)  # fetched once, across the resume
    assert hits[f"{CDN}/private/secret.jpg"] == 0
    report = verify_crawl(out / "warc", out / "corpus", state=out / "state.sqlite", requisites=True)
    assert report.requisites_missing == [] and report.problems == []
    assert report.requisites == len(REQUISITES)  # named by the pages and stylesheets, refused ones left out
