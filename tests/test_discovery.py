"""crawler/discovery.py and `-a since`: sitemaps, news sitemaps, feeds, cut-off before fetching."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from crawler.arguments import ArgumentError, parse_crawl_arguments, parse_since
from crawler.discovery import Discovery, entry_kind, news_publication_dates, parse_date, shard_end
from crawler.spiders.news import NewsSpider
from tests.conftest import run_crawl
from testbed.incremental_site import VN, ChangingSite, article_url, serve

NOW = datetime(2024, 10, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw,expected", [
    ("2024-09-15", datetime(2024, 9, 15, tzinfo=VN)),
    ("2024-09-15T08:00:00Z", datetime(2024, 9, 15, 8, tzinfo=timezone.utc)),
    ("3d", NOW - timedelta(days=3)),
    ("12h", NOW - timedelta(hours=12)),
    ("2w", NOW - timedelta(weeks=2)),
    ("all", None),
])
def test_since_values(raw, expected):
    assert parse_since(raw, now=NOW) == (expected, True)


@pytest.mark.parametrize("raw", ["yesterday", "3", "3x", "15/09/2024", "2999-01-01"])
def test_bad_since_is_a_clear_argument_error(raw):
    with pytest.raises(ArgumentError, match="since"):
        parse_crawl_arguments(urls="https://nhandan.vn/", since=raw)


def test_since_turns_discovery_on():
    assert parse_crawl_arguments(urls="https://nhandan.vn/").discover is False
    args = parse_crawl_arguments(urls="https://nhandan.vn/", since="2024-09-01")
    assert args.discover and args.since == datetime(2024, 9, 1, tzinfo=VN)


def test_entry_kinds_and_dates():
    assert entry_kind("https://nhandan.vn/sitemaps.xml") == "sitemap"
    assert entry_kind("https://nhandan.vn/sitemaps/news-2024-9.xml.gz") == "sitemap"
    assert entry_kind("https://nhandan.vn/rss/home.rss") == "feed"
    assert entry_kind("https://nhandan.vn/robots.txt") == "robots"
    assert entry_kind("https://nhandan.vn/tin-moi.html") == "listing"
    assert parse_date("2024-09-11T20:15:00+0700") == datetime(2024, 9, 11, 20, 15, tzinfo=VN)
    assert parse_date("2024-09-11") == datetime(2024, 9, 11, tzinfo=VN)
    assert parse_date("garbage") is None
    assert shard_end("https://nhandan.vn/sitemaps/news-2024-2.xml") == datetime(2024, 2, 29, 23, 59, 59, tzinfo=VN)
    assert shard_end("https://nhandan.vn/sitemaps/topics.xml") is None


def test_news_sitemap_publication_dates():
    site = ChangingSite({1: 1, 2: 1})
    body = site.resolve_plain("nhandan.vn", "/sitemaps/google-news.xml").body
    assert news_publication_dates(body) == {article_url(n): site.date(n) for n in (1, 2)}
    # entities are never resolved (no XXE)
    evil = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<urlset xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>&x;</loc>'
            b'<news:news><news:publication_date>2024-09-01</news:publication_date></news:news></url></urlset>')
    assert all("root:" not in loc for loc in news_publication_dates(evil))


def test_since_prunes_sitemaps_and_feed_items_before_fetching(tmp_path):
    old = {n: datetime(2024, 8, 5 + n, 9, 0, tzinfo=VN) for n in (1, 2, 3)}
    new = {n: datetime(2024, 9, 16 + n, 9, 0, tzinfo=VN) for n in (4, 5, 6)}
    site = ChangingSite({n: 1 for n in range(1, 7)}, published={**old, **new})
    server = serve(site)
    try:
        result = run_crawl(tmp_path / "run", "urls=https://nhandan.vn/tin-moi.html", "depth=0", "topic=none",
                           "since=2024-09-15", server=server, settings={"CORPUS_SEEDS": "", "EXTRACT_WORKERS": 0})
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-2000:]
    hits = set(site.hits)
    fetched = {n for n in range(1, 7) if any(f"post{200000 + n}" in h for h in hits)}
    assert fetched == {4, 5, 6}
    assert any(h.endswith("/sitemaps/news-2024-9.xml") for h in hits)
    assert not any("news-2024-8" in h for h in hits)  # the old monthly shard is never fetched
    assert {"https://nhandan.vn/rss/home.rss", "https://nhandan.vn/sitemaps/google-news.xml"} <= hits
    stats = result.stats
    assert stats["corpus/written"] == 3
    assert stats["discovery/skipped_old"] >= 6  # 3 old items in the feed, 3 in the news sitemap
    assert stats["discovery/skipped_old_sitemaps"] == 2  # news-2024-8 in sitemaps.xml and sitemap.xml
    # the sitemaps and the feed are archived like any page
    warcs = b"".join(p.read_bytes() for p in (tmp_path / "run" / "warc").glob("*.warc.gz"))
    assert warcs


def test_sitemap_lastmod_and_feed_updated_go_on_the_request_publication_dates_do_not():
    def requests(url: str, body: bytes) -> dict[str, dict]:
        """The article requests discovery makes of one sitemap or feed: URL -> meta."""
        spider = NewsSpider.from_crawler(get_crawler(NewsSpider), urls="https://nhandan.vn/tin-moi.html", since="all")
        return {r.url: r.meta for r in Discovery(spider, None).parse(TextResponse(url, body=body, encoding="utf-8"))}

    site = ChangingSite({1: 1, 2: 1})
    site.lastmod[2] = datetime(2024, 10, 2, 9, 30, tzinfo=VN)
    page = lambda path: site.resolve_plain("nhandan.vn", path).body  # noqa: E731
    shard = requests("https://nhandan.vn/sitemaps/news-2024-9.xml", page("/sitemaps/news-2024-9.xml"))
    assert shard[article_url(1)]["lastmod"] == site.date(1).isoformat()
    assert shard[article_url(2)]["lastmod"] == "2024-10-02T09:30:00+07:00"
    assert "published_hint" not in shard[article_url(2)]
    # news:publication_date is when it was published, not modified
    news = requests("https://nhandan.vn/sitemaps/google-news.xml", page("/sitemaps/google-news.xml"))
    assert news[article_url(1)]["published_hint"] == site.date(1).isoformat() and "lastmod" not in news[article_url(1)]
    # a date without a zone is GMT+7, like the other sitemap dates
    bare = requests("https://nhandan.vn/sitemaps/topics.xml",
                    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
                    + f"<loc>{article_url(5)}</loc><lastmod>2024-10-03</lastmod></url></urlset>".encode())
    assert bare[article_url(5)]["lastmod"] == "2024-10-03T00:00:00+07:00"
    # Atom <updated> is a lastmod; an RSS <pubDate> alone is not (feedparser's get() would alias it)
    atom = requests("https://nhandan.vn/feed.atom",
                    b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>x</title>'
                    + f'<link href="{article_url(6)}"/><published>2024-09-01T08:00:00+07:00</published>'
                      "<updated>2024-10-04T10:00:00+07:00</updated></entry></feed>".encode())
    assert atom[article_url(6)]["lastmod"] == "2024-10-04T03:00:00+00:00"
    assert atom[article_url(6)]["published_hint"] == "2024-09-01T01:00:00+00:00"
    rss = requests("https://nhandan.vn/rss/home.rss", page("/rss/home.rss"))
    assert "lastmod" not in rss[article_url(1)] and rss[article_url(1)]["published_hint"]
