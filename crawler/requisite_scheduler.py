"""The scheduler: Scrapy's, except that a page requisite that leads nowhere skips the spider's chain.

Why: two of every three requests of the default crawl are page requisites (a page's photos), and
once downloaded, archived and counted, an image's, a script's or a font's response has nothing
left for the spider to do. Scrapy still sent each one through its scraper: the spider
middlewares' input and output chains (a layer of asynchronous generators each), the callback, and
a queue and tasks for its output, always empty (docs/performance.md, session 21).

So when the engine asks for the next request and the queue hands out such a requisite
(`crawler.requisites.leads_nowhere`: any kind but a stylesheet, whose `@import`s and `url(…)`s
are requests the spider middlewares must see), this scheduler starts its download itself, through
the engine's own download path: the downloader's slots (per-host concurrency and delays), every
downloader middleware (address policy, robots.txt, size caps, conditional GET and revisits, WARC
capture, retries, redirects, stats) and the `response_received` signal, exactly as for a request
it returned. What comes back goes where the engine would send it: a response to the request's
callback, a failure to its errback, a request (a redirect, a retry) back to the engine's `crawl`,
so through this scheduler and its dupe filter again. Everything before the download is unchanged:
the requisite went through the spider middlewares' output chain, the dupe filter and the queue
(crawler/requisite_queue.py decides when it goes, on its budget of places), and counts in the
scheduler's stats. It counts against CONCURRENT_REQUESTS from the moment it starts, as a request
the engine took does: while the engine needs to back out, this scheduler starts no more.

The spider's callback of such a requisite must yield nothing (`NewsSpider.parse_requisite` yields
only a stylesheet's requisites); one that does is reported as a spider error, its output dropped.
Uses the engine's `_download` and `_slot` (Scrapy 2.19, pinned): `download_async`, the public
form, would follow a redirect itself, past the dupe filter and the queue.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.core.scheduler import Scheduler
from scrapy.utils.log import failure_to_exc_info
from scrapy.utils.spider import iterate_spider_output
from twisted.python.failure import Failure

from crawler.requisites import leads_nowhere

if TYPE_CHECKING:
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class RequisiteFetchingScheduler(Scheduler):
    """SCHEDULER: Scrapy's, fetching the page requisites that lead nowhere beside the spider's chain."""

    def next_request(self) -> Request | None:
        while True:
            request = super().next_request()
            if request is None or not leads_nowhere(request):
                return request
            self._fetch(request)
            if self.crawler.engine.needs_backout():  # CONCURRENT_REQUESTS reached (or closing)
                return None

    def _fetch(self, request: Request) -> None:
        """Download `request` as the engine downloads what it takes from here (it is in the
        downloader's active set when this returns), and settle the outcome."""
        engine = self.crawler.engine
        engine._download(request).addBoth(self._settle, request).addErrback(
            lambda failure: logger.error("Error while settling a requisite's download: %s", request,
                                         exc_info=failure_to_exc_info(failure), extra={"spider": engine.spider}))

    def _settle(self, result: Response | Request | Failure, request: Request) -> None:
        engine = self.crawler.engine
        try:
            if isinstance(result, Request):  # a retry (or a redirect): scheduled, as the engine does
                engine.crawl(result)
            else:
                self._answer(request.errback if isinstance(result, Failure) else request.callback, result, request)
        finally:
            engine._slot.remove_request(request)  # the engine's bookkeeping; may let a closing spider close

    def _answer(self, function, result: Response | Failure, request: Request) -> None:
        """The callback's or errback's call the scraper would make; an exception, or any output, is
        reported as the scraper reports a spider's error."""
        scraper = self.crawler.engine.scraper
        if isinstance(result, Failure):
            result.request = request  # what the scraper sets before an errback
        try:
            output = list(iterate_spider_output(function(result, **request.cb_kwargs)))
            if output:
                raise TypeError(f"the callback of a requisite that leads nowhere yielded {len(output)} "
                                f"element(s), dropped: {output[0]!r}")
        except Exception:
            scraper.handle_spider_error(Failure(), request, result)

