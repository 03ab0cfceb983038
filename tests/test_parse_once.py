"""Parse once: what the extraction worker reads of a page (article, links, the topic gate's text and
anchors) equals what the spider's readers compute on Scrapy's own parse of it."""
import re
from pathlib import Path

import lxml.html

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.response import get_base_url
from warcio.archiveiterator import ArchiveIterator

from archive.extract.article import article_of, extract_article, parse_page
from archive.extract.pool import ExtractionPool
from archive.extract.links import PageReading, ReadSpec, read_page
from testbed.topic_site import TopicWeb
from archive.sites import profile_for
from tests.conftest import run_crawl
from testbed.fixtureserver import FixtureServer

WEB = Path(__file__).parent / "fixtures" / "web"
PAGES = sorted(p for p in WEB.rglob("*.html") if p.is_file())
IDS = [p.relative_to(WEB).as_posix() for p in PAGES]


def page_url(path: Path) -> str:
    relative = path.relative_to(WEB).as_posix()
    return "https://" + (relative[: -len("index.html")] if relative.endswith("index.html") else relative)


def topic_spec(profile, is_article: bool) -> ReadSpec:
    """What a topic-filtered crawl asks of a page (NewsSpider._read_spec with a gate)."""
    if is_article:
        return ReadSpec(text="article", links=profile.related_links, anchors=True)
    return ReadSpec(text="listing", links=profile.listing_links, next_pages=profile.pagination_links,
                    anchors=True)


def read_in_reactor(response: HtmlResponse, spec: ReadSpec, profile) -> PageReading:
    """The spider's fallback: the same readers over Scrapy's selector."""
    return read_page(response.selector, get_base_url(response), spec, profile.extraction)


@pytest.fixture(scope="module")
def inline_pool():
    pool = ExtractionPool(0)  # the worker's function, run here
    yield pool
    pool.close()


@pytest.mark.parametrize("path", PAGES, ids=IDS)
def test_worker_links_and_article_match_the_reactor_path(path, inline_pool):
    """A crawl without a topic filter: the worker's links (no anchor text) and article."""
    url, body = page_url(path), path.read_bytes()
    profile = profile_for(url)
    is_article = profile.is_article_url(url)
    selectors = profile.related_links if is_article else profile.listing_links + profile.pagination_links
    response = HtmlResponse(url, body=body)
    spec = ReadSpec(links=selectors)
    article, _, reading = inline_pool.submit_page(body, url, profile.extraction, response.encoding, spec,
                                                  extract=is_article).result()
    assert reading == read_in_reactor(response, spec, profile)
    if is_article:  # the same article as extraction on its own
        assert article == extract_article(body, url, profile.extraction)
    else:
        assert article is None


@pytest.mark.parametrize("path", PAGES, ids=IDS)
def test_worker_topic_inputs_match_the_reactor_readers(path, inline_pool):
    """A topic-filtered crawl judges the page on the worker's reading: it must be what the reactor
    would read (page text or listing title, links with anchor text and next-page flags)."""
    url, body = page_url(path), path.read_bytes()
    profile = profile_for(url)
    is_article = profile.is_article_url(url)
    response = HtmlResponse(url, body=body)
    spec = topic_spec(profile, is_article)
    article, fingerprint, reading = inline_pool.submit_page(
        body, url, profile.extraction, response.encoding, spec, extract=is_article).result()
    assert reading == read_in_reactor(response, spec, profile)
    assert reading.text  # something to judge on every fixture page
    if is_article:  # reading the gate's inputs leaves the article as extraction alone gives it
        assert article == extract_article(body, url, profile.extraction)
        assert (fingerprint is not None) is article.is_article
    else:
        assert article is None and fingerprint is None


def test_an_article_read_off_the_tree_itself_is_the_one_read_off_a_copy():
    """`article_of(..., spend_tree=True)` (the worker's: nothing reads the page after) works on the
    parsed tree itself when neither the date nor the lead will read the untouched page again; the
    article is the one a copy gives, on every fixture page read with its profile and without one,
    whichever way each went."""
    spent = tried = 0
    for path in PAGES:
        url, body = page_url(path), path.read_bytes()
        for hints in (profile_for(url).extraction, None):
            kept, given = parse_page(body, url), parse_page(body, url)
            kept_html = lxml.html.tostring(kept.tree)
            assert article_of(given, hints, spend_tree=True) == article_of(kept, hints), url
            assert lxml.html.tostring(kept.tree) == kept_html, url  # without `spend_tree`: untouched
            spent += lxml.html.tostring(given.tree) != kept_html
            tried += 1
    assert 0 < spent < tried  # both ways taken (most real pages of a host with no profile keep the copy:
    # a description and no lead hint, so the lead may be looked for on the untouched page)


def test_the_fixture_set_exercises_both_kinds_of_page_and_real_links():
    kinds = {profile_for(page_url(p)).is_article_url(page_url(p)) for p in PAGES}
    assert kinds == {True, False} and len(PAGES) >= 20
    total = 0
    anchored = next_pages = 0
    for path in PAGES:
        url = page_url(path)
        profile = profile_for(url)
        selectors = profile.related_links + profile.listing_links + profile.pagination_links
        response = HtmlResponse(url, body=path.read_bytes())
        total += len(read_in_reactor(response, ReadSpec(links=selectors), profile).links)
        links = read_in_reactor(response, topic_spec(profile, profile.is_article_url(url)), profile).links
        anchored += sum(1 for _, anchor, _ in links if anchor)
        next_pages += sum(1 for _, _, is_next in links if is_next)
    assert total >= 40 and anchored >= 40 and next_pages >= 1


def test_a_page_that_cannot_be_parsed_reads_as_nothing_to_follow(inline_pool):
    spec = topic_spec(profile_for("https://nhandan.vn/"), False)
    article, fingerprint, reading = inline_pool.submit_page(
        b"%PDF-1.4 binary", "https://nhandan.vn/x-post1.html", None, None, spec, extract=True).result()
    assert reading == PageReading("", ()) and not article.is_article and fingerprint is None


def _response_order(warc_dir: Path) -> list[str]:
    """Target URIs of the response records, in the order they were captured."""
    uris = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as fh:
            uris += [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh)
                     if r.rec_type == "response"]
    return uris


def test_an_off_topic_article_read_in_a_worker_does_not_stall_the_corpus(tmp_path):
    """The spider numbers an article before the worker reads it; judged off topic, the page is not
    emitted and must give its number back, or every later article waits for it (the crawl hangs)."""
    web = TopicWeb(articles_per_site=10, seed=3)
    server = FixtureServer(web).start_background()
    try:
        run = run_crawl(tmp_path, f"urls={','.join(web.start_urls())}", "depth=8", "topic=auto",
                        server=server, timeout=90,
                        settings={"CONCURRENT_REQUESTS": 1, "EXTRACT_WORKERS": 1, "CORPUS_SEEDS": "",
                                  "CRAWL_STATE": ""})
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    stats = run.stats
    assert "news/analyse_failed" not in stats  # every page was read in the worker
    order = _response_order(run.warc_dir)
    dropped = set(re.findall(r"archived only: (\S+)$", run.log(), re.M))
    off_topic = [u for u in order if u in dropped]
    kept = [e["url"] for e in run.manifest() if e.get("rule")]
    assert off_topic and stats["topic/off_topic"] == len(off_topic)
    # Numbers given back came before pages that were written ...
    assert order.index(off_topic[0]) < max(order.index(u) for u in kept)
    # ... and every kept article reached the corpus, numbered densely from 000 in response order.
    reached = sum(v for k, v in stats.items() if k.startswith("corpus/")) + stats.get("articles/not_article", 0)
    assert reached == stats["topic/kept"]
    files = sorted(run.corpus_dir.glob("*.txt"))
    assert [int(p.name[:3]) for p in files] == list(range(len(files))) and len(files) >= 5
    written = [e["url"] for e in run.manifest() if e.get("file") and "update" not in e]
    assert written == sorted(written, key=order.index)
