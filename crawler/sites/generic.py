"""Fallback profile for hosts with no profile of their own.

It guesses from URL shape (a long numeric id at the end of the path, or a
dated path) and follows links found in the article and in blocks whose class
says "related" or "tag". Extraction falls back to plain trafilatura settings
(no hints). A generic profile covers exactly one host, so a crawl that
wanders onto an unknown site never treats a third site as the same site.
"""
from dataclasses import replace
from urllib.parse import urlsplit

from archive.extract import ExtractionHints

from .base import SiteProfile

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
