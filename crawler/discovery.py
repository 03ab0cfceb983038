"""Discovery: article URLs from each site's sitemaps, news sitemaps, RSS feeds and listings.

Runs when the crawl is given `-a since=…` (a date, `3d`, or `all`). The entry
points are the `entry_points` of every site profile that owns a start URL,
plus the `Sitemap:` lines of each such site's robots.txt. Every sitemap, feed
and listing is fetched through the normal downloader, so it is archived like
any page (and becomes a revisit record when unchanged).

`since` prunes *before* fetching: a sitemap-index child whose `lastmod` (or,
for monthly shards named `…YYYY-M.xml`, whose month) ends before the cut-off
is not fetched; nor is a sitemap URL whose `news:publication_date` or
`lastmod`, or a feed item whose `published`/`updated`, is older. Undated
entries are kept: the cut-off only removes what is known to be old.

A sitemap `<lastmod>` or a feed item's `updated` is a *modification* date: it
goes on the article request as `request.meta["lastmod"]` (ISO 8601), which the
incremental middleware compares with the lastmod of our last fetch to re-fetch
only edited articles (`REVISIT_LASTMOD`). `news:publication_date` and a feed's
`published` are publication dates: only `published_hint`.

Discovery documents are bounded: at most `SITEMAP_MAXSIZE` bytes each (50 MB,
the sitemaps.org limit), on the wire and once decompressed (a larger one is
refused by crawler/downloadermiddlewares/pagesize.py like any page), and at most
`MAX_ENTRIES_PER_DOCUMENT` entries read from one sitemap, feed or robots.txt
(sitemaps.org allows 50,000 URLs per sitemap); the rest is logged and dropped.

Parsing uses well-kept parsers: Scrapy's `Sitemap` (safe lxml iterparse, no
entities) and `sitemap_urls_from_robots`, and feedparser for RSS/Atom. The one
thing `Sitemap` drops, `news:publication_date` nested in `news:news`, is read
in a second safe lxml pass.
"""
from __future__ import annotations

import calendar
import logging
import re
from itertools import islice
from datetime import datetime, timezone
from io import BytesIO
from typing import TYPE_CHECKING, Iterator
from urllib.parse import urlsplit

import lxml.etree
import scrapy
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from archive.urls import canonical_url
from archive.sites import profile_for, profiles
from archive.vietnam_time import VIETNAM_TZ, parse_iso

if TYPE_CHECKING:
    from scrapy.http import Response

logger = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file (SITEMAP_MAXSIZE)
MAX_ENTRIES_PER_DOCUMENT = 50_000  # the sitemaps.org limit of URLs in one sitemap
DISCOVERY_PRIORITY = 2  # feeds and sitemaps before the articles they list
_MONTHLY_SHARD = re.compile(r"(?<!\d)(20\d\d)-(\d{1,2})(?!\d)[^/]*\.xml(?:\.gz)?$")
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


def entry_kind(url: str) -> str:
    """sitemap | feed | robots | listing, from the URL alone."""
    path = urlsplit(url).path.lower()
    if path == "/robots.txt":
        return "robots"
    if "sitemap" in path or path.endswith((".xml", ".xml.gz")):
        return "sitemap"
    if path.endswith((".rss", ".atom")) or "/rss" in path or "/feed" in path:
        return "feed"
    return "listing"


def parse_date(value) -> datetime | None:
    """A W3C datetime / ISO 8601 date as an aware datetime (date only: midnight GMT+7)."""
    return parse_iso(value)


def shard_end(url: str) -> datetime | None:
    """The end of the month a monthly sitemap shard (`news-2024-9.xml`) covers."""
    match = _MONTHLY_SHARD.search(urlsplit(url).path)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    last_day = calendar.monthrange(year, month)[1]
    return datetime(year, month, last_day, 23, 59, 59, tzinfo=VIETNAM_TZ)


def news_publication_dates(body: bytes) -> dict[str, datetime]:
    """loc → news:publication_date of a Google News sitemap (safe parse, no entities)."""
    dates: dict[str, datetime] = {}
    if _NEWS_NS.encode() not in body:
        return dates
    loc = None
    for event, elem in lxml.etree.iterparse(BytesIO(body), events=("end",), recover=True,
                                            resolve_entities=False, no_network=True, huge_tree=False):
        name = elem.tag.rpartition("}")[2] if isinstance(elem.tag, str) else ""
        if name == "loc" and elem.text:
            loc = elem.text.strip()
        elif name == "publication_date" and loc and elem.text:
            moment = parse_date(elem.text)
            if moment:
                dates[loc] = moment
        elif name == "url":
            loc = None
            elem.clear()
    return dates


class Discovery:
    """Turns entry points into requests, and sitemaps/feeds/robots.txt into article requests."""

    def __init__(self, spider, since: datetime | None):
        self.spider = spider
        self.since = since
        self.stats = spider.crawler.stats
        self.max_bytes = spider.settings.getint("SITEMAP_MAXSIZE", MAX_SITEMAP_BYTES)

    def site_profiles(self):
        wanted = {profile_for(url).name for url in self.spider.start_urls}
        return [p for p in profiles() if p.name in wanted and p.entry_points]

    def entry_requests(self) -> Iterator[scrapy.Request]:
        robots_seen = set()
        for profile in self.site_profiles():
            for url in profile.entry_points:
                kind = entry_kind(url)
                if kind == "listing":
                    yield self.spider._request(url, found_from=None)
                    continue
                yield self._document(url, found_from=None)
                parts = urlsplit(url)
                robots = f"{parts.scheme}://{parts.netloc}/robots.txt"
                if robots not in robots_seen:
                    robots_seen.add(robots)
                    yield self._document(robots, found_from=None)

    def classify(self, response: Response) -> tuple[str | None, bytes]:
        """(`robots` | `sitemap` | `feed`, the body, gunzipped) or (None, b"") for a page (a listing)."""
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.max_bytes)
            except Exception:  # a truncated or oversized archive: archived, not parsed
                logger.warning("cannot gunzip %s", response.url)
                return "unreadable", b""
        if entry_kind(response.url) == "robots":
            return "robots", body
        head = body[:4096].lower()
        if b"<urlset" in head or b"<sitemapindex" in head:
            return "sitemap", body
        if b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
            return "feed", body
        return None, b""

    def parse(self, response: Response, kind: str | None = None, body: bytes | None = None):
        """Requests from robots.txt, a sitemap or a feed (`classify` says which); nothing for a page,
        which the spider's own parse handles."""
        if kind is None or body is None:
            kind, body = self.classify(response)
        if kind == "robots":
            for url in self._bounded(response, sitemap_urls_from_robots(body, base_url=response.url)):
                self.stats.inc_value("discovery/robots_sitemaps")
                yield self._document(url, found_from=response.url)
        elif kind == "sitemap":
            yield from self._sitemap(response, body)
        elif kind == "feed":
            yield from self._feed(response, body)

    # ----------------------------------------------------------------- parts
    def _sitemap(self, response: Response, body: bytes):
        sitemap = Sitemap(body)
        self.stats.inc_value("discovery/sitemaps")
        if sitemap.type == "sitemapindex":
            for entry in self._bounded(response, sitemap):
                loc = entry.get("loc")
                if not loc:
                    continue
                newest = parse_date(entry.get("lastmod")) or shard_end(loc)
                if self._too_old(newest):
                    self.stats.inc_value("discovery/skipped_old_sitemaps")
                    continue
                yield self._document(response.urljoin(loc), found_from=response.url)
            return
        published = news_publication_dates(body)
        for entry in self._bounded(response, sitemap):
            loc = entry.get("loc")
            if loc:
                lastmod = parse_date(entry.get("lastmod"))
                when = published.get(loc) or lastmod
                yield from self._article(response, response.urljoin(loc), when, published.get(loc), lastmod)

    def _feed(self, response: Response, body: bytes):
        import feedparser  # here: only crawls with discovery read feeds, and it costs every crawl ~0.2 s to import

        feed = feedparser.parse(body)
        self.stats.inc_value("discovery/feeds")
        for entry in self._bounded(response, feed.entries):
            link = entry.get("link")
            parsed = entry.get("published_parsed") or entry.get("updated_parsed")
            when = datetime(*parsed[:6], tzinfo=timezone.utc) if parsed else None
            # dict.get: feedparser's own get() falls back from `updated` to `published`.
            updated = dict.get(entry, "updated_parsed")
            lastmod = datetime(*updated[:6], tzinfo=timezone.utc) if updated else None
            if link:
                yield from self._article(response, response.urljoin(link), when, when, lastmod)

    def _article(self, response: Response, url: str, when: datetime | None, published: datetime | None,
                 lastmod: datetime | None = None):
        if not self.spider._may_follow(response.url, url):
            self.stats.inc_value("discovery/offsite")
            return
        if self._too_old(when):
            self.stats.inc_value("discovery/skipped_old")
            return
        self.stats.inc_value("discovery/links")
        request = self.spider._request(url, found_from=response.url,
                                       priority=1 if profile_for(url).is_article_url(url) else 0)
        if published is not None:
            request.meta["published_hint"] = published.isoformat()
        if lastmod is not None:
            request.meta["lastmod"] = lastmod.isoformat()
        yield request

    def _bounded(self, response: Response, entries):
        """The first MAX_ENTRIES_PER_DOCUMENT entries; a document with more is logged once."""
        for count, entry in enumerate(islice(entries, MAX_ENTRIES_PER_DOCUMENT + 1)):
            if count == MAX_ENTRIES_PER_DOCUMENT:
                self.stats.inc_value("discovery/entries_capped")
                logger.warning("more than %d entries in %s: the rest not read", MAX_ENTRIES_PER_DOCUMENT,
                               response.url)
                return
            yield entry

    def _too_old(self, when: datetime | None) -> bool:
        return self.since is not None and when is not None and when < self.since

    def _document(self, url: str, found_from: str | None) -> scrapy.Request:
        return scrapy.Request(url, callback=self.spider.parse_discovery, errback=self.spider.on_error,
                              priority=DISCOVERY_PRIORITY, meta={"found_from": found_from,
                                                                 "discovery": canonical_url(url),
                                                                 "download_maxsize": self.max_bytes})
