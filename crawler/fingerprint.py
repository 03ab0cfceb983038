"""Request fingerprints keyed on the canonical URL (`REQUEST_FINGERPRINTER_CLASS`).

URL dedupe is the scheduler's dupe filter's in every mode (crawler/dupefilter.py
in one process, the shared Redis seen-set in distributed mode), keyed by these
fingerprints: a GET is identified by its `archive.urls.canonical_url` alone, so
http://… and https://…?utm_source=… of one page are fetched once.

One exception: a redirect whose target has the canonical URL of a URL it was
redirected from (http → https, adding a trailing slash, dropping a tracking
parameter). Keyed canonically it would be a duplicate of itself and be
dropped, so the page would never be fetched; it is keyed by its exact URL.
A redirect to a different page stays canonical, so a later link to that page
is still a duplicate. Requests with a body, or not GET/HEAD, keep Scrapy's
default fingerprint.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import TYPE_CHECKING

from scrapy.utils.request import RequestFingerprinter

from archive.urls import canonical_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


def fingerprint_key(request: Request) -> str | None:
    """What identifies `request` for dedupe: "canonical:<url>", "exact:<url>", or None (Scrapy's default)."""
    if request.method not in ("GET", "HEAD") or request.body:
        return None
    try:
        canonical = canonical_url(request.url)
    except ValueError:  # not http(s): nothing to canonicalise
        return None
    redirected_from = request.meta.get("redirect_urls") or ()
    if any(_canonical_or_none(url) == canonical for url in redirected_from):
        return f"exact:{request.url}"
    return _canonical_key(canonical)


def _canonical_key(canonical: str) -> str:
    return f"canonical:{canonical}"


def key_fingerprint(key: str) -> bytes:
    """The fingerprint of a `fingerprint_key`."""
    return hashlib.sha1(key.encode("utf-8")).digest()


@lru_cache(maxsize=16384)  # asked of each of a page's links (~140 on a generic page), mostly its site's rails and menus
def url_fingerprint(url: str) -> bytes | None:
    """The fingerprint a plain GET of `url` (not a redirect) gets; None for a URL that is not http(s)."""
    canonical = _canonical_or_none(url)
    return None if canonical is None else key_fingerprint(_canonical_key(canonical))


def _canonical_or_none(url: str) -> str | None:
    try:
        return canonical_url(url)
    except ValueError:
        return None


class CanonicalURLFingerprinter:
    """Fingerprint = SHA-1 of `fingerprint_key(request)`; Scrapy's default when there is none."""

    def __init__(self, crawler: Crawler | None = None):
        self._default = RequestFingerprinter(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CanonicalURLFingerprinter:
        return cls(crawler)

    def fingerprint(self, request: Request) -> bytes:
        key = fingerprint_key(request)
        if key is None:
            return self._default.fingerprint(request)
        return key_fingerprint(key)
