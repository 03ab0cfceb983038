"""URL dedupe in every mode, and the page cap: what the scheduler admits to the frontier.

Scrapy's scheduler asks its dupe filter about every request it is given,
except `dont_filter` ones (retries, a dead process's requests put back in the
queue: those are re-fetches on purpose). Keyed by REQUEST_FINGERPRINTER_CLASS
= crawler/fingerprint.py's canonical URL, http/https, tracking parameters,
trailing slashes and AMP copies of one page are fetched once, in one process
as across processes (crawler/distributed/redis.py keeps the same fingerprints
in Redis). The spider therefore yields every link it decides to follow; a
request dropped before the scheduler (an incremental crawl's not-due article)
was never seen, so a later link to it is judged again.

`PageBudget` applies `-a max_pages` where dedupe happens, so only a new page
counts: not a duplicate, a page requisite, a sitemap or feed, nor a redirect.
A request dropped after it was admitted but before its download (the topic
re-check, crawler/downloadermiddlewares/topic_recheck.py) is given back with
the `REQUEST_RELEASED` signal: its fingerprint and its slot in the budget, so
a later link to that page can still request it.
"""
from __future__ import annotations

from itertools import compress
from operator import not_
from typing import TYPE_CHECKING

from scrapy.dupefilters import RFPDupeFilter

from crawler.fingerprint import url_fingerprint

if TYPE_CHECKING:
    from collections.abc import Collection

    from scrapy import Request
    from scrapy.crawler import Crawler

PAGE = "page"  # request meta: a page the spider asked for, counted against max_pages once admitted
TOPIC_RULE = "topic_rule"  # request meta: the topic rule a link was followed by (crawler/relevance.py)

REQUEST_RELEASED = object()  # signal(request): an admitted request was dropped before its download


class PageBudget:
    """`-a max_pages` (the spider's `max_pages`; None: no cap) over the pages admitted."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.admitted = 0

    @staticmethod
    def counts(request: Request) -> bool:
        return bool(request.meta.get(PAGE)) and not request.meta.get("redirect_urls")

    def take(self, request: Request) -> bool:
        """Admit a new request: False (stat `news/skipped_max_pages`) when it is a page beyond the cap."""
        if not self.counts(request):
            return True
        limit = getattr(self.crawler.spider, "max_pages", None)
        if limit is not None and self.admitted >= limit:
            self.crawler.stats.inc_value("news/skipped_max_pages")
            return False
        self.admitted += 1
        rule = request.meta.get(TOPIC_RULE)
        if rule is not None:
            self.crawler.stats.inc_value(f"topic/followed/{rule}")
        return True

    def give_back(self, request: Request) -> None:
        if self.counts(request):
            self.admitted -= 1


class CanonicalDupeFilter(RFPDupeFilter):
    """Scrapy's dupe filter (JOBDIR's `requests.seen` included) with the page cap and releases."""

    budget: PageBudget | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CanonicalDupeFilter:
        instance = super().from_crawler(crawler)
        instance.budget = PageBudget(crawler)
        crawler.signals.connect(instance.release, signal=REQUEST_RELEASED)
        return instance

    # RFPDupeFilter keeps its set in `_fingerprints` (Scrapy is pinned, pyproject.toml): the budget
    # must know a request is new before it is recorded, and a released one must leave the set.
    def request_seen(self, request: Request) -> bool:
        fingerprint = self._fingerprint(request)
        if fingerprint in self._fingerprints:
            return True
        if self.budget is not None and not self.budget.take(request):
            return True  # not recorded: the cap refused it, it is no duplicate
        self._fingerprints.add(fingerprint)
        if self.file:
            self.file.write(len(fingerprint).to_bytes(2, "big") + fingerprint)
        return False

    def url_seen(self, url: str) -> bool:
        """Whether a GET of `url` (its canonical URL) was admitted already; records nothing."""
        fingerprint = url_fingerprint(url)
        return fingerprint is not None and fingerprint in self._fingerprints

    def unseen(self, urls: Collection[str]) -> set[str]:
        """The URLs of `urls` that `url_seen` says were not admitted, asked without a Python call a URL
        (the cached fingerprints and the set's look-up mapped in C: a generic page names ~130 URLs).
        A URL with no fingerprint (not http(s)) is in no set of fingerprints: unseen, as `url_seen` says."""
        return set(compress(urls, map(not_, map(self._fingerprints.__contains__, map(url_fingerprint, urls)))))

    def release(self, request: Request) -> None:
        """Forget an admitted request that was never downloaded (JOBDIR's file keeps it)."""
        if request.dont_filter:  # never admitted: the scheduler did not ask
            return
        self._fingerprints.discard(self._fingerprint(request))
        if self.budget is not None:
            self.budget.give_back(request)
