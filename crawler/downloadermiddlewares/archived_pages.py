"""Serves a page archived but never extracted from its archived response record, not the network.

Why: the archive is the source of truth. A page a run archived but did not
extract (its extraction failed or timed out, the run was killed or stopped
first, or its corpus entry was rolled back) is picked up by the next run from
the crawl state (crawler/archived_pages.py) and read from the record the state
names, so what reaches the corpus is what was archived, its manifest row points
at that record, and nothing is fetched or archived twice. The response then
goes through the rest of the crawl as a downloaded one would: decompression,
the spider (topic gate included), the pipelines.

At priority 40, before every other middleware's `process_request` (address
policy, robots.txt: no site is contacted); its `process_response` runs last, so
it sets `warc_record_id`, `warc_location` (a done Future of the record) and
`archived_at` (its WARC-Date) after the capture middleware cleared them (the
request carries `warc_skip`: capture and the incremental middleware leave it
alone, and the state row keeps describing the fetch that archived it). When the
record cannot be served (its file is gone, the offset holds another record or a
revisit, whose payload lies elsewhere), the request goes on to the network as a
page due again would (stat `archived_pages/fetched`). Not built when the state holds
no such page at the start of the run (the usual case): no cost a request then.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread

from archive.corpus.consistency import WarcLocator
from archive.urls import canonical_url
from archive.warc.httpcodec import DEFAULT_MAX_BODY, BodyTooLarge
from archive.warc.reader import WarcFormatError
from crawler.downloadermiddlewares.incremental import shared_state

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

ARCHIVED_RECORD = "archived_record"  # request meta: (WARC file name, offset, record id) to serve it from
ARCHIVED_FLAG = "archived"  # response flag, shown in Scrapy's "Crawled (200) <GET …> ['archived']" lines
_SERVED = "_archived_served"  # request meta: the record served, until process_response hands it on


class ArchivedPageMiddleware:
    def __init__(self, crawler: Crawler, warc_dir: Path, max_body: int):
        self.stats = crawler.stats
        self.locator = WarcLocator(warc_dir)
        self.max_body = max_body

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivedPageMiddleware:
        shared = shared_state(crawler)
        if shared is None:
            raise NotConfigured("no crawl state (CRAWL_STATE): no page is picked up from the archive")
        # Off when the state holds no such page (one look at its index; a resume has reconciled it by
        # now): a crawl with nothing to pick up pays nothing a request.
        if not shared[0].never_extracted(limit=1, fetched_before=time.time()):
            raise NotConfigured  # (no reason given: Scrapy would log one as a warning in every usual crawl)
        return cls(crawler, Path(crawler.settings.get("WARC_DIR")),
                   crawler.settings.getint("DOWNLOAD_MAXSIZE", DEFAULT_MAX_BODY))

    def process_request(self, request: Request, spider: Any = None):
        where = request.meta.pop(ARCHIVED_RECORD, None)
        if where is None:
            return None
        return self._serve(request, *where)

    async def _serve(self, request: Request, warc_file: str, offset: int, record_id: str) -> Response | None:
        from crawler.downloadhandlers.replay import build_response  # (replay's module: loaded when needed)

        stored, why = await run_in_thread(self._read, warc_file, offset, record_id)
        if stored is not None and canonical_url(stored.url) != canonical_url(request.url):
            stored, why = None, f"the record is of {stored.url}"
        if stored is None:
            self.stats.inc_value("archived_pages/fetched")
            logger.warning("not served from the archive (%s), fetched instead: %s", why, request.url)
            return None
        self.stats.inc_value("archived_pages/served")
        request.meta["warc_skip"] = True
        request.meta[_SERVED] = stored
        response = build_response(request, stored)
        response.flags[:] = [ARCHIVED_FLAG]
        return response

    def _read(self, warc_file: str, offset: int, record_id: str):
        """`(StoredResponse, None)`, or `(None, why not)`; on a thread of the reactor's pool."""
        from archive.warc.replay import stored_response_at  # (the index code it sits beside costs ~0.5 s to load)

        path = self.locator.path(warc_file)
        if path is None:
            return None, f"WARC file {warc_file} is missing"
        try:
            stored = stored_response_at(path, offset, record_id, warc_file, self.max_body)
        except (WarcFormatError, BodyTooLarge, OSError) as exc:
            return None, str(exc)
        return (stored, None) if stored is not None else (None, f"{warc_file}@{offset} holds no response {record_id}")

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        stored = request.meta.pop(_SERVED, None)
        if stored is not None:  # as the capture middleware or the replay handler would have set them
            location: Future = Future()
            location.set_result(stored.location)
            request.meta["warc_record_id"] = stored.location.record_id
            request.meta["warc_location"] = location
            request.meta["archived_at"] = stored.fetched_at
        return response
