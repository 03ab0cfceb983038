"""Incremental crawls: conditional GET, revisit records, and a revisit policy.

Two components share one `archive.state.store.CrawlState` (setting `CRAWL_STATE`;
empty turns both off), opened and reconciled with the archive by the
`ResumeReconciliation` extension and fetched from the crawler (`shared_state`):

* `IncrementalDownloaderMiddleware` at priority 960, i.e. *outside* the WARC
  capture middleware (950): on the way out it adds `If-None-Match` /
  `If-Modified-Since` for known articles and puts the last full capture in
  `request.meta["warc_revisit_of"]`; on the way back it sees the response
  before capture does, classifies it (new, changed, unchanged, not-modified,
  gone) with the same payload digest the WARC writer computes, and leaves
  the capture middleware to write a revisit record (304 → server-not-modified,
  same digest → identical-payload-digest) instead of a second copy. The
  state row is written only when the WARC record's future resolves, i.e. once
  the record is in the file: a SIGKILL never leaves state ahead of the archive.
* `IncrementalSpiderMiddleware`: drops requests for known articles that are
  not due (before they are scheduled, so no download and no error), and drops
  the article item of an unchanged page whose earlier fetch already went
  through extraction (no second corpus entry). "Due" is the revisit policy's
  age schedule, and, under `REVISIT_LASTMOD`, the site's own `lastmod` from a
  sitemap or feed (`request.meta["lastmod"]`, set by crawler/discovery.py):
  compared with the lastmod stored at our last fetch, it tells which old
  articles were edited without re-asking for every one of them.

Listing pages, feeds and sitemaps are always fetched and never sent
conditional headers: a 304 would hide links the previous run may not have
followed yet (e.g. it was killed). Their unchanged bodies still become
revisit records.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter, is_item
from scrapy import Request, signals
from scrapy.exceptions import DropItem, NotConfigured

from archive.state.store import CrawlState, PageState, parse_duration, parse_iso
from archive.urls import canonical_url
from crawler.extensions.recovery import ResumeReconciliation
from archive.warc.records import RecordBuilder
from crawler.downloadhandlers.capture import CAPTURE_META_KEY
from crawler.pipelines.workers import ExtractionFailed
from crawler.downloadermiddlewares.warc_capture import (EXCHANGE_META_KEY, exchange_from_capture,
                                                        reconstructed_exchange)
from archive.sites import profile_for

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

META = "incremental"  # request.meta key: the outcome of this fetch
_PENDING = "_incremental_pending"
_CONDITIONAL = "_incremental_conditional"
_READ = "_incremental_read"  # (canonical URL, its state row or None) as process_request read it
_EXTRACT = "_incremental_extract"  # an unchanged page whose latest capture was never extracted: its item goes on
# Response meta: the page was archived but not extracted (its worker timed out or died): it stays
# "never extracted" in the state, so the next run tries again (crawler/archived_pages.py).
NOT_EXTRACTED = "not_extracted"
PICKED_UP = "picked_up"  # request meta: a page picked up from the crawl state (crawler/archived_pages.py)
CONDITIONAL_HEADERS = (b"If-None-Match", b"If-Modified-Since")
GONE = (404, 410)
LASTMOD_MODES = ("trust", "hint", "ignore")


class AgeRevisitPolicy:
    """Fresh articles (published < `REVISIT_FRESH_AGE` ago) are re-fetched every
    `REVISIT_FRESH_EVERY`, older ones every `REVISIT_OLD_EVERY`. Pages never
    extracted, failed or unknown are always due; so is anything not an article."""

    def __init__(self, fresh_age: float, fresh_every: float, old_every: float):
        self.fresh_age = fresh_age
        self.fresh_every = fresh_every
        self.old_every = old_every

    @classmethod
    def from_settings(cls, settings) -> "AgeRevisitPolicy":
        return cls(parse_duration(settings.get("REVISIT_FRESH_AGE")),
                   parse_duration(settings.get("REVISIT_FRESH_EVERY")),
                   parse_duration(settings.get("REVISIT_OLD_EVERY")))

    def is_due(self, page: PageState, now: float) -> bool:
        if page.fetched_at is None or page.status is None or page.status >= 500:
            return True
        if page.is_article is None:  # archived but never extracted (e.g. the run was killed)
            return True
        published = page.published_at
        born = published.timestamp() if published else page.first_seen
        every = self.fresh_every if now - born < self.fresh_age else self.old_every
        return now - page.fetched_at >= every


def lastmod_mode(settings) -> str:
    """`REVISIT_LASTMOD`: `trust` (default; a sitemap/feed lastmod decides whether a known article
    is due), `hint` (a newer lastmod makes it due, the age policy still applies) or `ignore`."""
    raw = settings.get("REVISIT_LASTMOD")
    mode = "trust" if raw is None else str(raw).strip().lower()
    if mode not in LASTMOD_MODES:
        raise ValueError(f"REVISIT_LASTMOD={raw!r}: expected one of {', '.join(LASTMOD_MODES)}")
    return mode


def lastmod_says_changed(page: PageState, lastmod: str | None) -> bool | None:
    """Whether the site's `lastmod` is newer than the page as we hold it: newer than the lastmod
    stored at our last fetch, else than that fetch's time. None when it cannot tell: no (parsable)
    lastmod, or the last fetch failed or never went through extraction (the policy decides those)."""
    moment = parse_iso(lastmod)
    if (moment is None or page.fetched_at is None or page.status not in (200, 304)
            or page.is_article is None):
        return None
    stored = parse_iso(page.lastmod)
    return moment.timestamp() > (stored.timestamp() if stored else page.fetched_at)


def shared_state(crawler: Crawler) -> tuple[CrawlState, Any] | None:
    """The crawl's one `CrawlState` and revisit policy, fetched from the extension that opened them
    and reconciled them with the archive before any component could read them; None: no state."""
    recovery = crawler.get_extension(ResumeReconciliation)
    return None if recovery is None else recovery.crawl_state


class IncrementalDownloaderMiddleware:
    def __init__(self, crawler: Crawler, state: CrawlState):
        self.crawler = crawler
        self.stats = crawler.stats
        self.state = state
        self.builder = RecordBuilder(payload_digest=crawler.settings.get("WARC_PAYLOAD_DIGEST"))
        self.hand_over = crawler.settings.getbool("WARC_ENABLED")  # the exchange, to the capture middleware

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        shared = shared_state(crawler)
        if shared is None:
            raise NotConfigured("incremental crawling is off (CRAWL_STATE is empty)")
        middleware = cls(crawler, shared[0])
        # Connected after the capture middleware (built first: lower priority) connected its writer
        # close, so the writer has drained, and every record's state is written, before this runs.
        crawler.signals.connect(middleware.state.close, signal=signals.engine_stopped)
        crawler.signals.connect(middleware.response_received, signal=signals.response_received)
        crawler.signals.connect(middleware.item_done, signal=signals.item_scraped)
        crawler.signals.connect(middleware.item_done, signal=signals.item_dropped)
        return middleware

    # ----------------------------------------------------------------- out
    def process_request(self, request: Request, spider: Any = None) -> None:
        # A redirect or retry copies meta and headers from the request before it: start clean.
        request.meta.pop("warc_revisit_of", None)
        request.meta.pop(META, None)
        request.meta.pop(_PENDING, None)
        if request.meta.pop(_CONDITIONAL, False):
            for name in CONDITIONAL_HEADERS:
                request.headers.pop(name, None)
        key = canonical_url(request.url)
        page = self.state.get(key)
        # Kept for process_response: the row is written only after this URL's response is archived.
        request.meta[_READ] = (key, page)
        if page is None:
            return None
        capture = page.capture
        if capture is not None:
            request.meta["warc_revisit_of"] = capture
        # Known articles, and page requisites but stylesheets (a 304 would hide the fonts and
        # images a stylesheet loads from this crawl's CSS reading), are revalidated.
        revalidated = request.meta.get("requisite") not in (None, "style") or (
            page.is_article is not None and not page.never_extracted
            and profile_for(request.url).is_article_url(request.url))
        if (capture is not None and page.status == 200 and revalidated
                and (page.etag or page.last_modified)):
            if page.etag:
                request.headers[b"If-None-Match"] = page.etag
            if page.last_modified:
                request.headers[b"If-Modified-Since"] = page.last_modified
            request.meta[_CONDITIONAL] = True
            allowed = list(request.meta.get("handle_httpstatus_list", ()))
            request.meta["handle_httpstatus_list"] = [*allowed, 304]  # the spider sees it; we drop its item
            self.stats.inc_value("incremental/conditional_requests")
        return None

    # ----------------------------------------------------------------- back
    def process_response(self, request: Request, response, spider: Any = None):
        """Runs before the capture middleware: decide what this response is, with its digest."""
        if "cached" in response.flags or request.meta.get("warc_skip"):
            return response
        key = canonical_url(response.url)
        read_key, page = request.meta.pop(_READ, (None, None))
        if read_key != key:
            page = self.state.get(key)
        capture = request.meta.get(CAPTURE_META_KEY)
        exchange = exchange_from_capture(request, response, capture) or reconstructed_exchange(request, response)
        if self.hand_over:
            request.meta[EXCHANGE_META_KEY] = exchange  # the capture middleware archives this one
        status = response.status
        digest = None  # hashed only to compare with a stored one; the record's own comes back with its location
        if status == 304:
            outcome = "not-modified"
        elif status in GONE:
            outcome = "gone"
        elif status != 200:
            outcome = "other"
        elif page is None or page.payload_digest is None:
            outcome = "new"
        elif (digest := self.builder.payload_digest(exchange)) == page.payload_digest:
            outcome = "unchanged"
        else:
            outcome = "changed"
        request.meta[META] = outcome
        if outcome == "unchanged" and page.is_article is not None and page.never_extracted:
            request.meta[_EXTRACT] = True  # the same payload as a capture the crawl never extracted
        self.stats.inc_value(f"incremental/{outcome}")
        header = response.headers.get
        request.meta[_PENDING] = {
            "key": key, "url": response.url, "status": status, "outcome": outcome,
            "etag": _text(header(b"ETag")), "last_modified": _text(header(b"Last-Modified")),
            "digest": digest,
            "exchange": exchange if digest is None else None,  # to hash if the location has no digest
            # A full response record (not a revisit) becomes the new reference capture.
            "full": status == 200 and outcome in ("new", "changed"),
            "published_hint": request.meta.get("published_hint"),
            "lastmod": request.meta.get("lastmod"),
        }
        return response

    def response_received(self, response, request, spider=None) -> None:
        pending = request.meta.pop(_PENDING, None)
        if pending is None:
            return
        future = request.meta.get("warc_location")
        if future is None:  # WARC capture off: nothing to wait for
            self._record(pending, None)
            return
        # The record's WARC-Date as the capture middleware wrote it (it runs after this one's
        # process_response): the text of the exchange's time, made once a page, not twice.
        pending["date"] = request.meta["archived_at"]
        future.add_done_callback(lambda done: self._record_done(pending, done))

    def _record_done(self, pending: dict, done) -> None:
        if done.cancelled() or done.exception() is not None:
            return  # not on disk: leave the state as it was, the next run fetches it again
        self._record(pending, done.result())

    def _record(self, pending: dict, location) -> None:
        capture = None
        if pending["full"] and location is not None:
            capture = {"uri": pending["url"], "date": pending["date"], "record_id": location.record_id,
                       "payload_digest": location.payload_digest or pending["digest"]
                       or self.builder.payload_digest(pending["exchange"])}
        try:
            self.state.record_fetch(
                pending["key"], fetch_url=pending["url"], status=pending["status"], outcome=pending["outcome"],
                etag=pending["etag"], last_modified=pending["last_modified"], capture=capture,
                capture_file=getattr(location, "warc_file", None) if capture else None,
                lastmod=pending.get("lastmod"),
                record=(location.record_id, location.warc_file, location.offset) if location is not None else None)
            if pending.get("published_hint"):
                self.state.record_published_hint(pending["key"], pending["published_hint"])
        except Exception:  # whoever resolved the record's future must survive a state hiccup; the page is just refetched
            logger.exception("could not record crawl state for %s", pending["url"])

    def item_done(self, item, response=None, spider=None, exception=None, **kwargs) -> None:
        """Extraction finished (written, duplicate, version or not an article). A page the pool failed
        (`ExtractionFailed`) is not recorded: it stays due, and the next run extracts it."""
        if isinstance(exception, (UnchangedPage, ExtractionFailed)) or not is_item(item):
            return
        adapter = ItemAdapter(item)
        url = adapter.get("url")
        if not url:
            return
        article = adapter.get("article")
        published = getattr(article, "published", None)
        self.state.record_extraction(
            canonical_url(url), is_article=bool(article is not None and article.is_article),
            published=published.isoformat() if isinstance(published, datetime) else None,
            record_id=adapter.get("warc_record_id"))


class UnchangedPage(DropItem):
    """The page is the same as when its article was last extracted: nothing new for the corpus."""


class IncrementalSpiderMiddleware:
    def __init__(self, crawler: Crawler, state: CrawlState, policy, lastmod: str = "trust"):
        self.crawler = crawler
        self.stats = crawler.stats
        self.state = state
        self.policy = policy
        self.lastmod = lastmod
        # Both for this run only (issue #25 audit): at most one entry per known article judged in it.
        self._lastmods: dict[str, str] = {}  # canonical URL -> lastmod a sitemap/feed gave it in this run
        self._verdicts: dict[str, str] = {}  # canonical URL -> the stat its last judgement counted
        self.run_started = datetime.now(timezone.utc).timestamp()

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        shared = shared_state(crawler)
        if shared is None:
            raise NotConfigured("incremental crawling is off (CRAWL_STATE is empty)")
        return cls(crawler, *shared, lastmod=lastmod_mode(crawler.settings))

    async def process_start(self, start):
        async for element in start:
            if self._keep(element, None):
                yield element

    def process_spider_output(self, response, result, spider=None):
        output = _PageOutput(self, response)
        yield from filter(output.keep, result)
        output.done()

    async def process_spider_output_async(self, response, result, spider=None):
        output = _PageOutput(self, response)
        async for element in result:
            if output.keep(element):
                yield element
        output.done()

    def read_without_item(self, response) -> None:
        """The spider read this page to the end and made no item of it (a listing, a page off topic,
        not text): its capture is not "never extracted" (archive/state/store.py, `record_read`). Not a
        page whose worker timed out or died (`NOT_EXTRACTED`), a requisite, or anything but a 200."""
        if response is None:
            return
        meta = response.meta
        record_id = meta.get("warc_record_id")
        if record_id and response.status == 200 and not meta.get(NOT_EXTRACTED) and not meta.get("requisite"):
            self.state.record_read(canonical_url(response.url), record_id)

    def _keep(self, element, response) -> bool:
        if isinstance(element, Request):
            # Dropped before the scheduler, so the dupe filter never saw it: a later link to it (a
            # sitemap entry with a newer lastmod after a listing link without one) is judged again.
            return self.is_due(element)
        return self.keep_item(element, response)

    def keep_item(self, element, response) -> bool:
        # The outcome first: itemadapter's is_item walks its adapters' ABC checks (every page's item).
        outcome = response.meta.get(META) if response is not None else None
        if outcome in ("unchanged", "not-modified") and not response.meta.get(_EXTRACT) and is_item(element):
            page = self.state.get(canonical_url(response.url))
            if outcome == "not-modified" or (page is not None and page.is_article is not None):
                self.stats.inc_value("incremental/items_unchanged")
                # Announce the drop: the corpus pipeline commits in emission order and
                # must not wait for an item that never comes.
                self.crawler.signals.send_catch_log(
                    signals.item_dropped, item=element, response=response, spider=self.crawler.spider,
                    exception=UnchangedPage(f"unchanged since the last crawl: {response.url}"))
                return False
        return True

    def is_due(self, request: Request) -> bool:
        """Fetch this request? Unknown pages and anything not an article: yes. A known article:
        by the revisit policy, and by its sitemap/feed lastmod under `REVISIT_LASTMOD` (`trust`:
        lastmod decides when it can tell; `hint`: due when either says so; `ignore`: policy)."""
        if request.dont_filter or not profile_for(request.url).is_article_url(request.url) or PICKED_UP in request.meta:
            return True  # (a page picked up from the state is due: it is not fetched, but read from the archive)
        key = canonical_url(request.url)
        page = self.state.get(key)
        if page is None:
            return True
        if page.fetched_at is not None and page.fetched_at >= self.run_started:
            return True  # fetched by this run: a repeated link, which the dupe filter drops uncounted
        changed = None
        if self.lastmod != "ignore":
            # A link without a lastmod (listing, news sitemap) uses the one a sitemap gave this page
            # in this run, so the verdict does not depend on which link came first.
            lastmod = request.meta.get("lastmod") or self._lastmods.get(key)
            if lastmod:
                self._lastmods[key] = request.meta["lastmod"] = lastmod
            changed = lastmod_says_changed(page, lastmod)
        policy_due = self.policy.is_due(page, datetime.now(timezone.utc).timestamp())
        if self.lastmod == "trust" and changed is not None:
            due, verdict = changed, "due_lastmod" if changed else "skipped_lastmod"
        elif policy_due:
            due, verdict = True, None
        elif changed:
            due, verdict = True, "due_lastmod"
        else:
            due, verdict = False, "skipped_not_due"
        self._count(key, verdict)
        return due

    def _count(self, key: str, verdict: str | None) -> None:
        """Count each page once, under its last verdict: a dropped page may be judged again."""
        before = self._verdicts.get(key)
        if before == verdict:
            return
        if before:
            self.stats.inc_value(f"incremental/{before}", -1)
        if verdict:
            self.stats.inc_value(f"incremental/{verdict}")
            self._verdicts[key] = verdict
        else:
            self._verdicts.pop(key, None)


class _PageOutput:
    """One page's output through `IncrementalSpiderMiddleware._keep`; a page with no item is marked read
    when its output is done."""

    __slots__ = ("middleware", "response", "made_item")

    def __init__(self, middleware: IncrementalSpiderMiddleware, response):
        self.middleware = middleware
        self.response = response
        self.made_item = False

    def keep(self, element) -> bool:
        if not isinstance(element, Request):
            self.made_item = True
        return self.middleware._keep(element, self.response)

    def done(self) -> None:
        if not self.made_item:
            self.middleware.read_without_item(self.response)


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None
