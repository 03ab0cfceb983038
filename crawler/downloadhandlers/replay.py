"""Crawl from the archive: `scrapy crawl news -s ARCHIVE_REPLAY=DIR` with no network at all.

`ArchiveReplayAddon` (listed in ADDONS) does nothing unless ARCHIVE_REPLAY is
set; then, before any component is built, it puts
`ArchiveReplayDownloadHandler` where the capturing handler was for http and
https, disables every other network scheme, switches WARC capture off (the
archive is not archived again), leaves the incremental crawl state alone and
drops politeness delays (no site is contacted). Its settings take the
priority ARCHIVE_REPLAY itself was given, so `-s ARCHIVE_REPLAY=…` overrides
project defaults. The lookup itself lives
in `archive.warc.replay`; this module only turns its answers into Scrapy responses.
"""
from __future__ import annotations

import ipaddress
import logging
from concurrent.futures import Future
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from scrapy.utils.asyncio import run_in_thread

from archive.warc.httpcodec import DEFAULT_MAX_BODY, BodyTooLarge
from crawler.refusals import PageTooLarge, stats_key

if TYPE_CHECKING:
    from archive.warc.replay import StoredResponse
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

REPLAY_HANDLER = "crawler.downloadhandlers.replay.ArchiveReplayDownloadHandler"
SHARED_REPLAY = "crawler.downloadhandlers.replay.SharedArchiveReplay"
# Response flags, shown in Scrapy's "Crawled (200) <GET …> ['replayed']" log lines.
REPLAYED_FLAG = "replayed"
NOT_ARCHIVED_FLAG = "not_archived"
NOT_ARCHIVED_HEADER = b"X-Archive-Replay"


class ArchiveReplayAddon:
    """Switches a crawl to replay mode when ARCHIVE_REPLAY names an archive directory."""

    def update_settings(self, settings: Settings) -> None:
        if not settings.get("ARCHIVE_REPLAY"):
            return
        # Here, not at module load: every crawl loads this addon, and the index code costs ~0.5 s.
        from archive.warc.replay import check_archive_dir

        # Fail the crawl here: a handler that fails to load only makes Scrapy drop the scheme.
        check_archive_dir(settings.get("ARCHIVE_REPLAY"))
        priority = settings.getpriority("ARCHIVE_REPLAY")
        handlers = settings.getdict("DOWNLOAD_HANDLERS")
        # Other schemes would reach the network (ftp, s3): off, so "no network" holds.
        handlers.update({"http": REPLAY_HANDLER, "https": REPLAY_HANDLER, "ftp": None, "s3": None})
        settings.set("DOWNLOAD_HANDLERS", handlers, priority)
        settings.set("WARC_ENABLED", False, priority)
        settings.set("AUTOTHROTTLE_ENABLED", False, priority)
        settings.set("DOWNLOAD_DELAY", 0, priority)
        # The incremental state records live fetches; a replay is not one (and must not skip pages).
        settings.set("CRAWL_STATE", "", priority)
        # The crawl's one open archive index, shared by the http and https handlers.
        extensions = settings.getdict("EXTENSIONS")
        extensions[SHARED_REPLAY] = 0
        settings.set("EXTENSIONS", extensions, priority)


class SharedArchiveReplay:
    """Extension: the crawl's one open archive (CDXJ index and WARC files), fetched by the replay
    download handlers with `crawler.get_extension` (http and https get one handler each)."""

    def __init__(self, crawler: Crawler):
        directory = crawler.settings.get("ARCHIVE_REPLAY")
        if not directory:
            raise NotConfigured("ARCHIVE_REPLAY is not set")
        from archive.warc.replay import ArchiveReplay  # replay crawls only (see update_settings)

        self.replay = ArchiveReplay(directory, at=crawler.settings.get("ARCHIVE_REPLAY_AT") or None,
                                    max_body=crawler.settings.getint("DOWNLOAD_MAXSIZE", DEFAULT_MAX_BODY))
        logger.info("Replaying from the archive in %s (index %s)", directory, self.replay.index.path)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedArchiveReplay:
        extension = cls(crawler)
        # Closed after the downloader and its handlers are (Scrapy sends engine_stopped last).
        crawler.signals.connect(extension.replay.close, signal=signals.engine_stopped)
        return extension


class ArchiveReplayDownloadHandler(BaseDownloadHandler):
    """Answers http(s) requests from the archive's CDXJ index and WARC records.

    Request meta it sets, as the capture middleware does live:
    `warc_record_id` and `warc_location` (a done Future of the record served),
    so a replayed corpus points into the archive it came from.
    """

    lazy = False  # open the index when the crawl starts, not on the first request

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        directory = crawler.settings.get("ARCHIVE_REPLAY")
        if not directory:
            raise NotConfigured("ARCHIVE_REPLAY is not set")
        shared = crawler.get_extension(SharedArchiveReplay)
        if shared is None:
            raise NotConfigured(f"ARCHIVE_REPLAY needs the {SHARED_REPLAY} extension (ArchiveReplayAddon adds it)")
        self.replay = shared.replay
        self.stats = crawler.stats

    async def download_request(self, request: Request) -> Response:
        # File reads off the reactor thread, as Scrapy's file:// handler does.
        try:
            stored = await run_in_thread(self.replay.lookup, request.url)
        except BodyTooLarge as exc:  # as a live download over DOWNLOAD_MAXSIZE is
            self.stats.inc_value(stats_key(PageTooLarge.kind))
            logger.warning("refused: too large: %s (%s)", request.url, exc)
            raise PageTooLarge(f"{request.url} ({exc})") from None
        if stored is None:
            return self._not_archived(request)
        self.stats.inc_value("replay/responses")
        if stored.revisit_of is not None:
            self.stats.inc_value("replay/revisits")
        location: Future = Future()
        location.set_result(stored.location)
        request.meta["warc_record_id"] = stored.location.record_id
        request.meta["warc_location"] = location
        request.meta["archived_at"] = stored.fetched_at  # WARC-Date of the capture served
        return build_response(request, stored)

    def _not_archived(self, request: Request) -> Response:
        # A page requisite the archive lacks (an older archive, or requisites off when it was made) is no missing page.
        self.stats.inc_value("replay/missing_requisites" if request.meta.get("requisite") else "replay/missing")
        logger.info("Not in the archive: %s", request.url)
        request.meta.pop("warc_record_id", None)
        request.meta.pop("warc_location", None)
        headers = Headers({NOT_ARCHIVED_HEADER: b"not archived", b"Content-Type": b"text/plain; charset=utf-8"})
        body = f"Not archived: {request.url}\n".encode()
        respcls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return respcls(url=request.url, status=404, headers=headers, body=body, request=request,
                       flags=[NOT_ARCHIVED_FLAG], protocol="HTTP/1.1")


def build_response(request: Request, stored: StoredResponse) -> Response:
    """The Scrapy response a live download of this capture would have produced."""
    headers = Headers(list(stored.headers))
    respcls = responsetypes.from_args(headers=headers, url=request.url, body=stored.body)
    return respcls(
        url=request.url,
        status=stored.status,
        headers=headers,
        body=stored.body,
        request=request,
        flags=[REPLAYED_FLAG],
        protocol=stored.protocol,
        ip_address=_ip(stored.ip_address),
    )


def _ip(value: str | None):
    try:
        return ipaddress.ip_address(value) if value else None
    except ValueError:
        return None
