"""Page requisites in a crawl: requests for what a page embeds, and what became of them.

The spider reads a page's requisites with its links (archive/extract/requisites.py via
archive/extract/links.py, in the extraction worker) and asks this module for their
requests. A requisite request is an ordinary request: it passes every
downloader middleware (robots.txt, throttling, an address policy, WARC
capture), so it is archived as a request/response pair like a page. What
differs: request meta `requisite` (its kind) marks it; it is exempt from the
domain scope (images live on CDN hosts); its priority is below every page;
Scrapy's `download_maxsize` caps it by kind; it never reaches extraction, the
corpus or the topic gate, and never counts against `max_pages`. Each URL is
requested once per crawl (here, and by the dupe filter across processes).
Fetched stylesheets are read for `@import` and `url(…)` down to
`REQUISITES_CSS_DEPTH` levels. Stats under `requisites/` feed the summary and
runs.jsonl.

With a crawl state (`CRAWL_STATE`), each requisite is pending there from the moment it
is asked for (before its page counts as done) until its record is on disk or it is
refused for good, and a resumed crawl asks again for the pending ones
(archive/state/requisites.py): a crash loses none.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Iterable

import scrapy
from scrapy import signals
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import TextResponse
from twisted.internet.defer import CancelledError

from archive.extract.requisites import Requisite, css_requisites
from archive.state.requisites import ARCHIVED, PendingRequisites, refused
from crawler import settings as defaults
from crawler.extensions.outcomes import HostUnreachable
from crawler.extensions.recovery import ResumeReconciliation
from crawler.refusals import Refused

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

META = "requisite"  # request meta: the requisite's kind (image, style, script, font, media)
DEPTH = "requisite_depth"  # request meta: 0 for what a page embeds, +1 per stylesheet level


def is_requisite(request) -> bool:
    return bool(request.meta.get(META))


def leads_nowhere(request) -> bool:
    """A requisite whose response asks for nothing more (all but a stylesheet): its callback only
    counts and settles it, so it may skip the spider's chain (crawler/requisite_scheduler.py)."""
    kind = request.meta.get(META)
    return kind is not None and kind != "style"


class Requisites:
    """The spider's requisite bookkeeping: which pages get them, the requests, the counts."""

    def __init__(self, crawler: Crawler, mode: str):
        settings = crawler.settings
        self.mode = mode  # article | all | none
        self.stats = crawler.stats
        # A partial -s REQUISITES_MAX_BYTES (e.g. images only) keeps the other kinds' defaults.
        self.max_bytes = {**defaults.REQUISITES_MAX_BYTES, **settings.getdict("REQUISITES_MAX_BYTES")}
        self.media = settings.getbool("REQUISITES_MEDIA")
        self.css_depth = settings.getint("REQUISITES_CSS_DEPTH")
        self.priority = settings.getint("REQUISITES_PRIORITY")
        self._requested: set[str] = set()
        self.pending = None  # the rows in the crawl state; None: no state, or requisites off
        recovery = crawler.get_extension(ResumeReconciliation) if mode != "none" else None
        if recovery is not None and recovery.crawl_state is not None:
            self.pending = PendingRequisites(recovery.crawl_state[0])
            self.archiving = settings.getbool("WARC_ENABLED")
            crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    def wanted(self, is_article: bool) -> bool:
        """Are this page's requisites archived (`-a requisites`)?"""
        return self.mode == "all" or (self.mode == "article" and is_article)

    def requests(self, found: Iterable[Requisite], depth: int, callback, errback) -> list[scrapy.Request]:
        """One request per requisite not requested before in this crawl (media only when asked),
        recorded pending in the crawl state before the caller lets its page count as done."""
        new, requested, skipped, repeated = [], self._requested, 0, 0  # counted once a page: most repeat
        for url, kind in found:
            if kind == "media" and not self.media:
                skipped += 1
            elif url in requested:
                repeated += 1
            else:
                requested.add(url)
                new.append((url, kind, depth))
        if skipped:
            self.stats.inc_value("requisites/skipped_media", skipped)
        if repeated:
            self.stats.inc_value("requisites/deduplicated", repeated)
        if self.pending is not None:
            self.pending.add(new)
        return [self._request(url, kind, depth, callback, errback) for url, kind, depth in new]

    def _request(self, url: str, kind: str, depth: int, callback, errback) -> scrapy.Request:
        self.stats.inc_value("requisites/requested")
        return scrapy.Request(url, callback=callback, errback=errback, priority=self.priority,
                              meta={META: kind, DEPTH: depth, "download_maxsize": self.max_bytes[kind],
                                    "handle_httpstatus_all": True})  # a 404 is counted, not an error

    def resumed(self, callback, errback) -> list[scrapy.Request]:
        """After a crash: requests for the requisites still pending in the crawl state; the ones this
        crawl already archived or refused are not asked for again."""
        if self.pending is None:
            return []
        pending, settled = self.pending.resume()
        self._requested.update(settled)
        requests = []
        for url, kind, depth in pending:
            if url in self._requested or (kind == "media" and not self.media):
                continue
            self._requested.add(url)
            requests.append(self._request(url, kind, depth, callback, errback))
        if requests:
            self.stats.set_value("requisites/resumed", len(requests))
            logger.info("%d page requisites still pending from an earlier run are asked for again", len(requests))
        return requests

    def answered(self, response, callback, errback) -> list[scrapy.Request]:
        """A requisite's response: counted, a stylesheet's own requisites requested (and recorded
        pending), then the requisite recorded archived once its WARC record is on disk."""
        found = self.fetched(response)
        requests = self.requests(found, response.meta.get(DEPTH, 0) + 1, callback, errback)
        if self.pending is not None:
            asked = _asked_url(response.request)
            location = response.meta.get("warc_location")
            if location is None:  # WARC capture off: nothing to wait for (on: a straggler after close)
                if not self.archiving:
                    self.pending.settle(asked, ARCHIVED)
            else:  # not on disk (a write error): stays pending, asked for again next run
                location.add_done_callback(lambda done: done.cancelled() or done.exception() is not None
                                           or self.pending.settle(asked, ARCHIVED))
        return requests

    def fetched(self, response) -> tuple[Requisite, ...]:
        """Count a requisite's response; a stylesheet's own requisites when its level allows."""
        self.stats.inc_value("requisites/fetched")
        self.stats.inc_value("requisites/bytes", len(response.body))
        self.stats.inc_value(f"requisites/status/{response.status}")
        if response.status >= 400:
            self.stats.inc_value("requisites/http_errors")
            return ()
        if (response.meta.get(META) != "style" or response.meta.get(DEPTH, 0) >= self.css_depth
                or not isinstance(response, TextResponse)):
            return ()
        return css_requisites(response.text, response.url)

    def failed(self, failure) -> None:
        """Count why a requisite was not fetched: refused (robots.txt, too large, a policy) or failed."""
        request = failure.request
        message = failure.getErrorMessage()
        if failure.check(Refused):  # the crawl's own refusals (crawler/refusals.py): too large, non-public
            reason = failure.value.kind.replace(" ", "_").replace("-", "_")
        elif failure.check(IgnoreRequest) and "DOWNLOAD_MAXSIZE" in message:  # too large once decompressed
            reason = "too_large"
        elif failure.check(IgnoreRequest):
            reason = "robots" if "robots.txt" in message else "other"
        elif failure.check(DownloadCancelledError, CancelledError):
            reason = "too_large"
        else:  # the network: stays pending in the crawl state, asked for again by the next run
            self.stats.inc_value("requisites/failed")
            logger.info("requisite not fetched: %s (%s: %s)", request.url, failure.type.__name__, message)
            return
        self.stats.inc_value("requisites/refused")
        self.stats.inc_value(f"requisites/refused/{reason}")
        logger.info("requisite refused (%s): %s", reason, request.url)
        if self.pending is not None and not failure.check(HostUnreachable):  # that host may answer next run
            self.pending.settle(_asked_url(request), refused(reason))

    def _spider_closed(self, spider=None, reason: str = "") -> None:
        """A run that ended by itself ends the crawl; one stopped (`shutdown`) is resumed by the next."""
        if reason != "shutdown":
            self.pending.finish_crawl()


def _asked_url(request) -> str:
    """The URL the spider asked for (a redirect's target keeps the original in `redirect_urls`)."""
    return (request.meta.get("redirect_urls") or (request.url,))[0]


def requisite_counts(stats: dict) -> dict[str, int]:
    """What the summary and runs.jsonl report of requisites: fetched, bytes, deduplicated, refused, …"""
    get = lambda key: stats.get(f"requisites/{key}", 0)  # noqa: E731
    counts = {key: get(key) for key in ("requested", "fetched", "bytes", "deduplicated", "refused",
                                        "failed", "http_errors", "skipped_media", "resumed")}
    counts["refused_by"] = {key.rsplit("/", 1)[1]: value for key, value in sorted(stats.items())
                            if key.startswith("requisites/refused/")}
    return counts


def page_status_counts(stats: dict) -> dict[str, int]:
    """Responses by HTTP status, page requisites left out (Scrapy's own counts hold both)."""
    prefix = "downloader/response_status_count/"
    counts = {key[len(prefix):]: value - stats.get(f"requisites/status/{key[len(prefix):]}", 0)
              for key, value in sorted(stats.items()) if key.startswith(prefix)}
    return {status: count for status, count in counts.items() if count}
