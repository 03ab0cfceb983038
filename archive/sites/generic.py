"""Fallback profile for hosts with no profile of their own.

Whether a page is an article is decided from the page (`is_article_page`,
archive/extract/article/article/page_gate.py); the URL shape (a long numeric id at the end of the
path, or a dated path) only ranks links to follow. It follows links found in
the article and in blocks whose class says "related" or "tag". Extraction has
no site hints. A generic profile covers exactly one host, so a crawl that
wanders onto an unknown site never treats a third site as the same site.
"""
from dataclasses import replace
from functools import lru_cache
from urllib.parse import urlsplit

import courlan

from archive.extract.article import ExtractionHints
from archive.extract.page_gate import MIN_WORDS, judge_page

from archive.sites.base import SiteProfile

TEMPLATE = SiteProfile(
    name="generic",
    description="any other host: articles told by the page (archive/extract/article/article/page_gate.py), no site hints",
    hosts=(),
    article_path=r"(?:-|/)\d{5,}(?:\.html?|\.vnp|\.htm|\.aspx)?/?$|/\d{4}/\d{2}/\d{2}/[^/]+",
    listing_path=r".*",
    related_links=(
        "[class*=relate] a[href]",
        "[class*=tag] a[href]",
        "article a[href]",
    ),
    listing_links=("article a[href]", "main a[href]", "h2 a[href]", "h3 a[href]"),
    pagination_links=("a[rel=next][href]",),
    # The page gate has judged the page; a short news brief is still an article.
    extraction=ExtractionHints(min_words=MIN_WORDS),
)


def generic_profile(url: str) -> SiteProfile:
    """A fallback profile bound to the URL's host."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return replace(TEMPLATE, name=f"generic:{host}", hosts=(host,))


def is_article_page(url: str, page) -> bool:
    """An article on an unknown site, decided from the page as a reader would (archive/extract/article/article/page_gate.py):
    a headline and one main block of running text, with structured data moving the bar.

    `page` is a parsel Selector of the HTML. The URL shape is not asked: real articles have slug
    URLs and ids in the query string, and listing pages have article-shaped URLs.
    """
    return judge_page(page.root).is_article


@lru_cache(maxsize=16384)  # a page's teasers link to the same pages again and again
def is_crawlable(url: str) -> bool:
    """courlan's URL filter: no media files, feeds of other sites, logins, shares, admin pages."""
    return courlan.check_url(url, strict=True) is not None and not courlan.is_not_crawlable(url)
