"""What a site profile is: per-site crawl knowledge declared as data.

A profile says which hosts form the site, which URLs are articles or listing
pages, where the *related* links sit on a page, where discovery can start, and
which extraction hints the archive library should use. Code lives here only
where data cannot say it (matching hosts and URLs).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from archive.extract.article import ExtractionHints


@dataclass(frozen=True)
class SiteProfile:
    """Everything the crawler knows about one news site."""

    name: str
    # Hosts that are this site (exact, lowercase); http and https are the same site.
    hosts: tuple[str, ...]
    # Regex (searched in the URL path) that marks an article page.
    article_path: str
    # Regex for listing/hub pages (category, tag, latest news): archived and followed, never emitted;
    # a topic crawl follows a link to one as a listing (crawler/spiders/news.py, crawler/relevance.py).
    listing_path: str = r"^/$"
    # The page suffix an AMP copy's `.amp` stands in for (`…-post1.amp` mirrors `…-post1.html`):
    # archive/urls.py folds the two into one canonical URL.
    amp_twin_suffix: str = ".html"
    # CSS selectors of <a> elements on an article page worth following:
    # related-article boxes, inline related links, tags, the category breadcrumb.
    related_links: tuple[str, ...] = ()
    # CSS selectors of article links and next-page links on listing pages.
    listing_links: tuple[str, ...] = ()
    pagination_links: tuple[str, ...] = ()
    # Discovery entry points (home, listings, feeds, sitemaps) for `make crawl`.
    entry_points: tuple[str, ...] = ()
    extraction: ExtractionHints = field(default_factory=ExtractionHints)
    description: str = ""

    @cached_property
    def _article_re(self) -> re.Pattern[str]:
        return re.compile(self.article_path)

    @cached_property
    def _listing_re(self) -> re.Pattern[str]:
        return re.compile(self.listing_path)

    def owns(self, url: str) -> bool:
        """True when the URL's host is one of this site's hosts (any scheme)."""
        return _host(url) in self.hosts

    def is_article_url(self, url: str) -> bool:
        return self.owns(url) and bool(self._article_re.search(urlsplit(url).path))

    def is_listing_url(self, url: str) -> bool:
        return self.owns(url) and not self.is_article_url(url) and bool(
            self._listing_re.search(urlsplit(url).path or "/")
        )


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")
