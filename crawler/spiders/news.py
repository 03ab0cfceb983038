"""The `news` spider: seeds → article → related pages, within depth and a page cap.

Which links count as related, which pages are articles and which are listings
is per-site data in crawler/sites/; this module only walks the graph.
"""
from __future__ import annotations

from datetime import datetime, timezone

import scrapy
from scrapy.http import Response, TextResponse

from archive.urls import canonical_url
from crawler.arguments import parse_crawl_arguments
from crawler.items import ArticlePage
from crawler.sites import profile_for, profiles


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, urls=None, seeds=None, depth=None, max_pages=None,
                 since=None, topic=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.args = parse_crawl_arguments(urls=urls, seeds=seeds, depth=depth,
                                          max_pages=max_pages, topic=topic, since=since)
        self.start_urls = self.args.start_urls
        self.max_depth = self.args.depth
        self.max_pages = self.args.max_pages
        self._seen: set[str] = set()
        self._scheduled = 0
        self._items = 0
        self.supported_hosts = {h for p in profiles() for h in p.hosts}

    async def start(self):
        for path in self.args.seeds_without_url:
            self.logger.warning("seed has no URL (Nguồn:/Đường dẫn bài viết:), not crawled: %s", path)
            self.crawler.stats.inc_value("seeds/without_url")
        for line in self.args.invalid_seed_lines:
            self.logger.warning("invalid seed line skipped: %s", line)
            self.crawler.stats.inc_value("seeds/invalid")
        for url in self.start_urls:
            request = self._request(url, found_from=None)
            if request is not None:
                yield request

    def _request(self, url: str, found_from: str | None, priority: int = 0):
        """A request for url unless it was already scheduled or the page cap is reached.

        Seen-checks use the canonical URL, so http/https, tracking parameters,
        trailing slashes and amp variants of one page are fetched once.
        """
        key = canonical_url(url)
        if key in self._seen:
            return None
        if self.max_pages is not None and self._scheduled >= self.max_pages:
            self.crawler.stats.inc_value("news/skipped_max_pages")
            return None
        self._seen.add(key)
        self._scheduled += 1
        return scrapy.Request(url, callback=self.parse, errback=self.on_error,
                              priority=priority, meta={"found_from": found_from})

    def parse(self, response: Response):
        profile = profile_for(response.url)
        depth = response.meta.get("depth", 0)
        self.crawler.stats.inc_value(f"news/pages/{profile.name}")
        if not isinstance(response, TextResponse):
            self.logger.info("not a text page, archived only: %s", response.url)
            return
        if profile.is_article_url(response.url):
            seq, self._items = self._items, self._items + 1  # before yielding: generators interleave
            yield ArticlePage(
                url=response.url,
                site=profile.name,
                body=response.body,
                encoding=response.encoding,
                status=response.status,
                depth=depth,
                found_from=response.meta.get("found_from"),
                fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                warc_record_id=response.meta.get("warc_record_id"),
                warc_location=response.meta.get("warc_location"),
                seq=seq,
            )
            selectors = profile.related_links
        else:
            selectors = profile.listing_links + profile.pagination_links
            self.crawler.stats.inc_value("news/listing_pages")
        if depth >= self.max_depth:
            return
        for link in self._links(response, selectors):
            if not self._may_follow(response.url, link):
                continue
            request = self._request(link, found_from=response.url,
                                    priority=1 if profile_for(link).is_article_url(link) else 0)
            if request is not None:
                yield request

    @staticmethod
    def _links(response: TextResponse, selectors) -> list[str]:
        links: list[str] = []
        for selector in selectors:
            for href in response.css(selector).xpath("@href").getall():
                href = href.strip()
                if href and not href.startswith(("#", "javascript:", "mailto:", "tel:")):
                    links.append(response.urljoin(href))
        return links

    def _may_follow(self, from_url: str, to_url: str) -> bool:
        """Stay on supported sites, or on the same (generic) site we are on."""
        if not to_url.startswith(("http://", "https://")):
            return False
        target = profile_for(to_url)
        return bool(set(target.hosts) & self.supported_hosts) or target == profile_for(from_url)

    def on_error(self, failure):
        request = failure.request
        self.crawler.stats.inc_value(f"news/errors/{failure.type.__name__}")
        self.logger.warning("download failed: %s (%s: %s)", request.url,
                            failure.type.__name__, failure.getErrorMessage())
