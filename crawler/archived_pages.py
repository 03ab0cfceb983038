"""Pages an earlier run archived but never extracted, picked up from the crawl state by the next run.

Why: such a page's state row stays due (crawler/downloadermiddlewares/incremental.py), but a run
fetches it again only when something links to it or names it, and in an incremental re-run the
pages that link to it are mostly not due, so not fetched: it never reached the corpus. So at the
start of each run (after its start URLs) the spider asks the state for every such page
(`CrawlState.never_extracted`: its extraction failed or timed out, the run was killed or stopped
first, or its corpus entry was rolled back while its record stayed archived) and requests it with
`ARCHIVED_RECORD`, so that it is served from its archived record
(crawler/downloadermiddlewares/archived_pages.py), not fetched (docs/crash-safety.md, session 20).

Bounded: the state is read `batch` rows at a time, on a thread, and the next rows are read only
once the scheduler holds fewer than `batch` requests, so a state with 100,000 such pages holds
neither them nor their requests in memory at once, and the run's own start URLs go first. A page of
a known site whose URL is no article's (a listing or section page, never extracted by design) is
marked read instead of requested. Stats: `archived_pages/requested`, `/served`, `/fetched`.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from scrapy.utils.asyncio import run_in_thread, sleep

from archive.sites import profile_for
from crawler.downloadermiddlewares.archived_pages import ARCHIVED_RECORD
from crawler.downloadermiddlewares.incremental import PICKED_UP, shared_state

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

BATCH = 256  # state rows read at a time; requests queued ahead of the scheduler's own at most
_WAIT = 0.1  # seconds between two looks at the scheduler while it is full


class NeverExtracted:
    """The crawl state's pages archived but never extracted, as the spider's requests."""

    def __init__(self, crawler: Crawler, batch: int = BATCH):
        self.crawler = crawler
        shared = shared_state(crawler)
        self.state = shared[0] if shared is not None else None
        self.batch = batch
        self.run_started = datetime.now(timezone.utc).timestamp()  # rows of this run's own fetches: not yet

    async def requests(self, make_request: Callable[[str], Request]) -> AsyncIterator[Request]:
        """`make_request(url)` for each page, with `ARCHIVED_RECORD` and `PICKED_UP` set."""
        if self.state is None or not self.crawler.settings.getbool("EXTRACT_ENABLED"):
            return
        after = ""
        while True:
            rows = await run_in_thread(self.state.never_extracted, after, self.batch,
                                       fetched_before=self.run_started)
            if not rows:
                return
            after = rows[-1][0]
            for url, fetch_url, record_file, record_offset, record_id in rows:
                profile = profile_for(fetch_url)
                if not profile.name.startswith("generic:") and not profile.is_article_url(fetch_url):
                    self.state.record_read(url, record_id)
                    continue
                await self._room()
                request = make_request(fetch_url)
                request.meta[ARCHIVED_RECORD] = (record_file, record_offset, record_id)
                request.meta[PICKED_UP] = True
                self.crawler.stats.inc_value("archived_pages/requested")
                yield request

    async def _room(self) -> None:
        """Wait while the scheduler holds `batch` requests or more (the run's own pages go first)."""
        engine = self.crawler.engine
        while engine is not None and engine.running and len(engine.scheduler) >= self.batch:
            await sleep(_WAIT)
