"""Staying on topic: the topic profile (archive/extract/topic.py), the link gate (crawler/relevance.py)
and topic-filtered crawls of the fixture sites and of a generated ~60-page web."""
import json
import unicodedata
from pathlib import Path

import pytest
from parsel import Selector
from warcio.archiveiterator import ArchiveIterator

from archive.extract.article import extract_article
from archive.extract.links import anchor_text, page_text
from archive.extract.topic import (DEFAULT_THRESHOLD, TopicError, TopicProfile, enough_text, load_topic,
                           terms, tokens)
from bench.topic import crawl_topic_web
from testbed.topic_site import TopicWeb
from crawler.arguments import ArgumentError, parse_crawl_arguments
from crawler.relevance import TopicGate
from archive.sites import profile_for
from testbed.fixture_pages import article_pages, host_of, url_for
from testbed.fixtureserver import FixtureServer
from tests.site_hints import HINTS_BY_HOST

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
OFF_TOPIC = ("post830301.html", "post830302.html", "-211301.html")  # tourism, health, weather
ND = "https://nhandan.vn"


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(SEEDS)


# --------------------------------------------------------------------------- tokens
def test_tokens_are_lowercase_nfc_syllables_and_bigrams_stop_at_punctuation():
    decomposed = unicodedata.normalize("NFD", "Việt Nam - Lào, hữu nghị.")
    assert tokens(decomposed) == [["việt", "nam", "lào"], ["hữu", "nghị"]]
    counts = terms(decomposed)
    assert counts["nam lào"] == 1  # a hyphen does not break a bigram
    assert "lào hữu" not in counts  # a comma does
    assert "và" not in terms("Việt Nam và Lào")  # function words carry no topic
    assert terms("Việt Nam và Lào")["nam và"] == 1  # but bigrams with one topic word stay


# --------------------------------------------------------------------------- profile
def test_topic_words_emerge_from_the_seeds(topic):
    top = [term for term, _ in topic.top_terms(12)]
    assert top[0] == "lào"
    assert {"việt nam", "nam lào", "hợp tác"} <= set(top)


def _labelled_fixture_articles():
    return [(p, not url_for(p).endswith(OFF_TOPIC)) for p in article_pages()]


@pytest.mark.parametrize("fixture,on_topic", _labelled_fixture_articles(),
                         ids=lambda v: url_for(v).split("://", 1)[1][-40:] if isinstance(v, Path) else str(v))
def test_fixture_articles_score_on_the_right_side_of_the_threshold(topic, fixture, on_topic):
    url = url_for(fixture)
    article = extract_article(fixture.read_bytes(), url, HINTS_BY_HOST[host_of(fixture)])
    extracted = topic.score(f"{article.title}\n{article.text}")
    # The spider scores the raw page (title, lead, body paragraphs) before extraction.
    raw = topic.score(page_text(Selector(text=fixture.read_text("utf-8")), profile_for(url).extraction))
    for score in (extracted, raw):
        assert (score >= DEFAULT_THRESHOLD) is on_topic, (url, score)


def test_headlines_score_by_topic(topic):
    assert topic.score("Việt Nam và Lào đẩy mạnh hợp tác đào tạo") >= topic.anchor_threshold
    assert topic.score("Thời tiết hôm nay: Hà Nội rét đậm") < topic.anchor_threshold / 2
    assert topic.score("") == 0.0


def test_keyword_file_and_example_texts(tmp_path):
    keywords = tmp_path / "keywords.txt"
    keywords.write_text("# topic: Vietnam - Laos\nLào\nViệt Nam - Lào\nViêng Chăn\nhữu nghị đặc biệt\n", "utf-8")
    profile = load_topic(str(keywords), None)
    assert profile.score("Đoàn đại biểu Lào thăm Hà Nội, thắt chặt quan hệ hữu nghị đặc biệt") > \
        5 * profile.score("Giá vàng hôm nay tăng mạnh") + 0.05
    examples = tmp_path / "examples.txt"
    examples.write_text("Lào và Việt Nam hợp tác giáo dục.\n\nBiên giới Việt Nam - Lào hòa bình.\n", "utf-8")
    assert load_topic(str(examples), None).top_terms(1)[0][0] == "lào"
    assert load_topic(str(SEEDS), None).top_terms(1)[0][0] == "lào"  # a directory is a seed dir


def test_load_topic_none_auto_and_errors(tmp_path):
    assert load_topic("none", SEEDS) is None
    assert load_topic("auto", SEEDS).source == str(SEEDS)
    with pytest.raises(TopicError, match="does not exist"):
        load_topic(str(tmp_path / "missing.txt"), SEEDS)
    with pytest.raises(TopicError, match="seed directory"):
        load_topic("auto", "")
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n", "utf-8")
    with pytest.raises(TopicError, match="no usable text"):
        load_topic(str(empty), None)


def test_topic_argument(tmp_path):
    url = "https://nhandan.vn/a-post1.html"
    assert parse_crawl_arguments(urls=url).topic == "auto"
    assert parse_crawl_arguments(urls=url, topic="none").topic == "none"
    f = tmp_path / "kw.txt"
    f.write_text("Lào\n", "utf-8")
    assert parse_crawl_arguments(urls=url, topic=str(f)).topic == str(f)
    with pytest.raises(ArgumentError, match="auto"):
        parse_crawl_arguments(urls=url, topic="laos")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", "utf-8")
    with pytest.raises(ArgumentError, match="no usable text"):
        parse_crawl_arguments(urls=url, topic=str(empty))


def test_enough_text():
    assert not enough_text("Hai nước")
    assert enough_text(" ".join(["Việt Nam và Lào"] * 10))


# --------------------------------------------------------------------------- gate
def test_gate_rules(topic):
    gate = TopicGate(topic)
    on = ("https://nhandan.vn/a-post1.html", "Việt Nam và Lào đẩy mạnh hợp tác đào tạo", False)
    off = ("https://nhandan.vn/b-post2.html", "Thời tiết hôm nay: Hà Nội rét đậm", False)
    bare = ("https://nhandan.vn/c-post3.html", "", False)  # an image link: nothing to judge
    nxt = ("https://nhandan.vn/chinhtri/p2", "Trang sau", True)
    # A kept article's related links: all, until the crawl has judged a page like the off one
    # (tests/test_topic_recall.py); an anchor without topic words waits behind the others.
    related = {link.url: link.priority for link in gate.choose_links([on, off, bare], "related", 0.3)}
    assert set(related) == {on[0], off[0], bare[0]} and related[on[0]] > related[off[0]]
    listing = gate.choose_links([on, off, bare, nxt], "listing", 0.0)
    assert [(link.url, link.rule) for link in listing] == [(on[0], "anchor"), (nxt[0], "anchor")]
    assert gate.choose_links([off, nxt], "listing", 0.0) == []  # nothing on topic: no next page either
    tagged = gate.choose_links([on, off, nxt], "topic-listing", 0.8)
    assert {link.url for link in tagged} == {on[0], off[0], nxt[0]}
    # The frontier is ordered by score: the on-topic link outranks the off-topic one.
    by_url = {link.url: link.priority for link in tagged}
    assert by_url[on[0]] > by_url[off[0]]


def test_anchor_text_falls_back_to_title_and_alt():
    page = Selector(text='<a id="t" href="/x" title="Tiêu đề"><img alt="ảnh"></a><a id="i" href="/y"><img alt="Ảnh Lào"></a>')
    assert anchor_text(page.css("#t")[0]) == "Tiêu đề"
    assert anchor_text(page.css("#i")[0]) == "Ảnh Lào"


def test_judge_page(topic):
    gate = TopicGate(topic)
    nd = profile_for(ND)
    on = (REPO / "tests/fixtures/web/nhandan.vn/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html")
    off = (REPO / "tests/fixtures/web/nhandan.vn/khanh-hoa-don-tau-bien-quoc-te-voi-hon-1200-du-khach-post830301.html")

    def text(html: str) -> str:
        return page_text(Selector(text=html), nd.extraction)

    kept = gate.judge_page(text(on.read_text("utf-8")), "related")
    assert (kept.keep, kept.on_topic, kept.rule) == (True, True, "related")
    dropped = gate.judge_page(text(off.read_text("utf-8")), "anchor")
    assert not dropped.keep and not dropped.on_topic and "off topic" in dropped.reason
    assert not gate.judge_page(text(off.read_text("utf-8")), "discovered").keep  # from a sitemap
    start = gate.judge_page(text(off.read_text("utf-8")), "start")
    assert start.keep and start.rule == "start"  # the user named it
    short = gate.judge_page(text("<html><body><p>Lào</p></body></html>"), "related")
    assert short.keep and not short.on_topic and short.rule == "unjudged"  # the extractor decides


# --------------------------------------------------------------------------- crawls
def test_default_crawl_records_why_each_article_was_kept(crawl):
    run = crawl()
    assert run.returncode == 0, run.stderr
    assert "topic profile from" in run.log()
    written = [e for e in run.manifest() if not e.get("seed") and "update" not in e]
    assert written
    for entry in written:
        assert entry["rule"] in ("related", "topic-listing", "anchor", "tunnel")
        assert entry["score"] >= DEFAULT_THRESHOLD and entry["found_from"]
    matched = [e for e in run.manifest() if e.get("update") == "seed-match"]
    # Seeds reached by their own URL were start URLs; seed 003 is reached as a related page's near-duplicate.
    assert {e["rule"] for e in matched} == {"start", "related"}


def test_topic_none_follows_every_related_link_and_records_no_score(crawl):
    run = crawl(f"urls={ND}/tin-moi.html", "depth=1", "topic=none", settings={"CORPUS_SEEDS": ""})
    assert run.returncode == 0, run.stderr
    fetched = run.hits
    assert any(u.endswith("post830301.html") for u in fetched)  # off-topic listing entries too
    assert all("score" not in e and "rule" not in e for e in run.manifest())


def test_topic_auto_follows_listing_links_by_anchor(crawl):
    run = crawl(f"urls={ND}/tin-moi.html", "depth=1", settings={"CORPUS_SEEDS": ""})
    assert run.returncode == 0, run.stderr
    fetched = [u for u in run.hits if not u.endswith("robots.txt")]
    assert not any(u.endswith(("post830301.html", "post830302.html")) for u in fetched)
    assert any("post8302" in u for u in fetched)
    # From the listing by anchor; then on along the kept articles' related boxes, or their topic tag
    # page, whichever reaches an article first (tunnelling: depth counts off-topic pages in a row, and
    # these are on topic). Which of the two comes first depends on when each extraction returns: the
    # test asserted "related" only and failed 2 runs in 3.
    rules = {e["found_from"]: e["rule"] for e in run.manifest()}
    assert rules.pop(f"{ND}/tin-moi.html") == "anchor" and set(rules.values()) <= {"related", "topic-listing"}


def _warc_responses(warc_dir: Path) -> set[str]:
    uris = set()
    for path in warc_dir.glob("*.warc.gz"):
        with path.open("rb") as fh:
            uris.update(r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh)
                        if r.rec_type == "response")
    return uris


class _LateHomePage(TopicWeb):
    """The generated web with nhandan.vn's home page answered after 1 s: by then the crawl has judged
    a dozen articles, mostly one site's on-topic ones (the order a loaded machine gave now and then)."""

    def resolve(self, host, path_qs):
        reply = super().resolve(host, path_qs)
        if host == "nhandan.vn" and path_qs in ("", "/"):
            reply.delay = 1.0
        return reply


def test_a_home_page_judged_late_is_not_taken_for_a_topic_listing(tmp_path):
    """The few pages judged early do not make a home page of off-topic news a topic listing by their
    leaning (crawler/relevance.py MIN_JUDGED_FOR_SIBLINGS): without the guard this crawl fetched all
    17 off-topic articles the page lists (38 pages for 12 on-topic articles, 22 otherwise)."""
    web = _LateHomePage(articles_per_site=20, seed=3)
    server = FixtureServer(web).start_background()
    try:
        auto = crawl_topic_web(web, server, tmp_path / "auto", "auto", depth=8)
    finally:
        server.shutdown()
    assert auto["recall"] >= 0.95 and auto["precision"] >= 0.9, auto
    assert auto["pages_per_on_topic_article"] <= 2.5, auto
    assert "topic-listing" not in {item["extra"]["rule"] for item in auto["items"]}


def test_generated_web_recall_precision_and_cost(tmp_path):
    """~60 articles over three sites, a fifth on topic: the small version of `make bench-topic`.

    On a topic this small (12 articles) the pages the crawl fetches to learn what is off topic
    (crawler/judged_pages.py) weigh: ~3 pages per article here, ~1.6 on the bench's 240-article web."""
    web = TopicWeb(articles_per_site=20, seed=3)
    server = FixtureServer(web).start_background()
    try:
        auto = crawl_topic_web(web, server, tmp_path / "auto", "auto", depth=8)
        none = crawl_topic_web(web, server, tmp_path / "none", "none", depth=8)
    finally:
        server.shutdown()
    assert auto["labelled_on_topic"] >= 10
    assert auto["recall"] >= 0.95 and auto["precision"] >= 0.9, auto
    assert auto["pages_per_on_topic_article"] <= 3.5, auto
    assert none["recall"] == 1.0 and none["precision"] < 0.4, none
    assert auto["pages_fetched"] < 0.7 * none["pages_fetched"]
    # Off-topic pages that were fetched are in the WARC but not emitted, with the reason logged.
    stats = json.loads((tmp_path / "auto" / "stats.json").read_text())
    log = (tmp_path / "auto" / "crawl.log").read_text("utf-8")
    kept = {item["url"] for item in auto["items"]}
    archived = _warc_responses(tmp_path / "auto" / "warc")
    off_topic_archived = {u for u in archived if ("-post" in u or u.endswith(".html")) and "/tag" not in u} - kept
    assert off_topic_archived and stats.get("topic/off_topic", 0) == len(off_topic_archived)
    for url in off_topic_archived:
        assert f"archived only: {url}" in log
    for item in auto["items"]:
        assert item["extra"]["rule"] in ("start", "related", "topic-listing", "anchor", "tunnel", "series")
