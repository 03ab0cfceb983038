"""REFERRER_POLICY: Scrapy's default referrer policy, each page's stripped URL worked out once.

Scrapy's `RefererMiddleware` asks the policy for every request a page yields (its links and
requisites): "scrapy-default" parses the page's URL twice (is it TLS-protected, is its scheme one
that sends no referrer) and strips it (a third parse and an unparse), then parses the request's
URL, on the event loop, each time the same page URL. This policy gives the same answers from a
bounded memo of the page URLs it stripped, and reads an `http://` or `https://` URL's scheme
from its first characters (what `urlparse` would make of them); any other URL goes through
Scrapy's code. tests/test_loop_settings.py checks it against Scrapy's policy on random URL pairs.
"""
from __future__ import annotations

from scrapy.spidermiddlewares.referer import DefaultReferrerPolicy

from archive.extract.bounded_memo import BoundedMemo

_MEMO_SIZE = 4096  # page URLs remembered; the memo starts again when full (nothing grows with the crawl)


class _StrippedReferrers(BoundedMemo):
    LIMIT = _MEMO_SIZE


class MemoDefaultReferrerPolicy(DefaultReferrerPolicy):
    """"scrapy-default" (`DefaultReferrerPolicy`), same referrers, fewer URL parses."""

    # Page URL -> its stripped referrer, shared by every instance (Scrapy makes a policy a request).
    # Scrapy's `stripped_referrer` reads nothing of its instance but the class's no-referrer schemes.
    _stripped = _StrippedReferrers(DefaultReferrerPolicy().stripped_referrer)

    def tls_protected(self, url: str) -> bool:
        if url.startswith("https://"):
            return True
        if url.startswith("http://"):
            return False
        return super().tls_protected(url)

    def stripped_referrer(self, url: str) -> str | None:
        return self._stripped[url]
