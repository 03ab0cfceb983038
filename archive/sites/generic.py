"""Fallback profile for hosts with no profile of their own.

It guesses from URL shape (a long numeric id at the end of the path, or a
dated path) and follows links found in the article and in blocks whose class
says "related" or "tag". Extraction falls back to plain trafilatura settings
(no hints). A generic profile covers exactly one host, so a crawl that
wanders onto an unknown site never treats a third site as the same site.
"""
import re
from dataclasses import replace
from urllib.parse import urlsplit

import courlan

from archive.extract.article import ExtractionHints

from archive.sites.base import SiteProfile

TEMPLATE = SiteProfile(
    name="generic",
    description="any other host: URL-shape heuristics, plain trafilatura",
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
    extraction=ExtractionHints(),
)


def generic_profile(url: str) -> SiteProfile:
    """A fallback profile bound to the URL's host."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return replace(TEMPLATE, name=f"generic:{host}", hosts=(host,))


# Structured-data types that mark a page as one news article.
ARTICLE_TYPES = frozenset({"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
                           "blogposting", "backgroundnewsarticle", "opinionnewsarticle"})
MIN_ARTICLE_WORDS = 150  # paragraph words a typed page needs to count as an article


def is_article_page(url: str, page) -> bool:
    """An article on an unknown site: URL shape, or JSON-LD/OpenGraph type plus enough text.

    `page` is a parsel Selector of the HTML. Listing pages on many sites carry
    og:type "article" too, so the type alone is not enough: the paragraphs must
    hold a real article's worth of words.
    """
    if generic_profile(url).is_article_url(url):
        return True
    types = {t.strip().lower() for t in page.css('meta[property="og:type"]::attr(content)').getall()}
    for raw in page.css('script[type="application/ld+json"]::text').getall():
        types.update(t.lower() for t in re.findall(r'"@type"\s*:\s*"([A-Za-z]+)"', raw))
    if not types & ARTICLE_TYPES:
        return False
    words = sum(len(" ".join(p.xpath(".//text()").getall()).split()) for p in page.css("p"))
    return words >= MIN_ARTICLE_WORDS


def is_crawlable(url: str) -> bool:
    """courlan's URL filter: no media files, feeds of other sites, logins, shares, admin pages."""
    return courlan.check_url(url, strict=True) is not None and not courlan.is_not_crawlable(url)
