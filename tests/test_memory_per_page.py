"""What a crawl keeps for each article and URL it meets (issue #17: peak RSS at 20,000 pages within
1.3x that at 2,000; docs/performance.md, session 17): the compact forms hold the same answers, and
the bounded memo stays within its bound with the same values."""
from __future__ import annotations

import pytest

import crawler.url_slug as url_slug
from archive.corpus.documents import PROVENANCE, Doc
from archive.corpus.neardup.finder import NearDuplicateFinder
from archive.extract.topic import TopicProfile
from archive.extract.article import extract_article
from archive.urls import canonical_url, page_canonical_url
from crawler.url_slug import SlugScorer
from tests.conftest import REPO

BASE = 0x0123_4567_89AB_CDEF
NEAR = BASE ^ 0b101  # 2 bits off: within SimHash distance 3, every band but the lowest the same
FAR = ~BASE & (2**64 - 1)  # no band in common


def test_simhash_buckets_of_one_document_hold_its_index_and_find_the_same(tmp_path):
    finder = NearDuplicateFinder(tmp_path, 0.8)
    try:
        finder.add_simhash(BASE, 7)
        assert set(finder._bands.values()) == {7} and finder._simhashes == {7: BASE}  # ints, no 1-tuples
        assert finder.find([], NEAR) == (7, "simhash distance 2", 1 - 2 / 64)
        finder.add_simhash(NEAR, 9)  # shares three of its bands with document 7
        assert sorted(finder._bands.values(), key=str).count((7, 9)) == 3
        finder.add_simhash(FAR, 7)  # a second SimHash of document 7 (a new version)
        assert finder._simhashes[7] == (BASE, FAR)
        assert finder.find([], FAR) == (7, "simhash distance 0", 1.0)
        finder.add_simhash(BASE, 7)  # known already: nothing changes
        assert finder._simhashes[7] == (BASE, FAR)
        finder.remove(7, None)
        assert set(finder._bands.values()) == {9} and finder._simhashes == {9: NEAR}  # back to ints
        assert finder.find([], BASE) == (9, "simhash distance 2", 1 - 2 / 64)
        assert finder.find([], FAR) is None
        finder.remove(9, None)
        assert finder._bands == {} and finder._simhashes == {}
    finally:
        finder.close()


def test_a_document_keeps_each_text_hash_once_and_its_provenance_by_key():
    doc = Doc(file="000_x.txt", number=0, seed=False, matched=False, aliases=[])
    assert doc.provenance_entry() == {}
    doc.add_text_sha("a" * 64)
    doc.add_text_sha("b" * 64)
    doc.add_text_sha("a" * 64)
    assert doc.text_shas == ("a" * 64, "b" * 64)
    doc.provenance = tuple(f"value of {key}" for key in PROVENANCE)
    assert doc.provenance_entry() == {key: f"value of {key}" for key in PROVENANCE}


def test_an_already_canonical_url_is_answered_with_itself():
    compute = canonical_url.__wrapped__  # the function under its cache (which may know an equal URL already)
    url = "https://image.nhandan.vn/w800/Uploaded/2024/bai-17-anh-1.jpg"
    assert compute(url) is url
    http = "http://nhandan.vn/bai-viet-so-17-post100017.html"
    assert compute(http) == canonical_url(http) == "https://nhandan.vn/bai-viet-so-17-post100017.html"

    class Marked(str):
        pass
    marked = Marked("https://nhandan.vn/thoi-su-post100018.html")
    assert type(compute(marked)) is str  # a str subclass is never handed back as the canonical URL
    assert compute(marked) == marked


def test_reading_pages_leaves_the_crawl_s_url_cache_alone_with_the_same_canonical_urls():
    """A page's own URL (and its rel=canonical) is met once a crawl: canonicalised apart from
    `canonical_url`'s cache, which it filled with one entry a page in every extraction worker."""
    from testbed.bench_site import article_html, article_url

    canonical_url.cache_clear()
    for n in range(80):
        url = article_url(n)
        article = extract_article(article_html(n, 200), url, None)
        assert article.canonical_url == page_canonical_url(url) == canonical_url.__wrapped__(url)
        assert article.canonical_url == f"https://nhandan.vn/bai-viet-so-{n}-post{100000 + n}.html"
    assert canonical_url.cache_info().currsize == 0
    assert page_canonical_url.cache_info().currsize <= page_canonical_url.cache_info().maxsize < 100


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def test_slug_term_specificities_stay_within_their_bound_with_the_same_scores(topic, monkeypatch):
    urls = [f"https://nhandan.vn/viet-nam-lao-hop-tac-so-{n}-vong-{n + 1}-post{100000 + n}.html" for n in range(40)]
    unbounded = [SlugScorer(topic).score(url) for url in urls]  # a scorer each: every term computed afresh
    monkeypatch.setattr(url_slug, "CACHE_TERMS", 12)
    bounded = SlugScorer(topic)
    seen = []
    for url in urls:
        seen.append(bounded.score(url))
        assert len(bounded._specificity) <= 12  # cleared when full, then filled again
    assert seen == unbounded
