"""What became of each URL a crawl asked for: fetched, or failed and why.

Scrapy's `downloader/exception_count` counts attempts (retries included) and
says nothing of which URLs were lost. This downloader middleware sits just
inside the RetryMiddleware (550) and just outside nothing that retries or
redirects, so it sees each URL's *final* outcome once: the response after
redirects and retries, or the exception the last retry gave up on. It counts
them in stats (`urls/ok`, `urls/failed`, `urls/failed/<group>`) for the
summary, the run report and the exit code (crawler/exitcodes.py).

It also stops a crawl from waiting on a host that cannot be reached: once a
request to a host has failed with a network error after its retries and the
host has never answered anything, the host's remaining requests fail at once
(`CRAWL_SKIP_UNREACHABLE`, default on) instead of each waiting
DOWNLOAD_TIMEOUT × retries. robots.txt is fetched first from every host, so
a dead network or proxy ends the crawl after one retry cycle.
"""
from __future__ import annotations

import logging
import os

from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
from scrapy.exceptions import DownloadFailedError, IgnoreRequest, ResponseDataLossError
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import error as tx

logger = logging.getLogger(__name__)

NETWORK_GROUPS = ("dns", "connect", "timeout")
# Most specific first: TCPTimedOutError is a ConnectError, but it is a timeout.
_GROUPS = (
    ("dns", (CannotResolveHostError, tx.DNSLookupError)),
    ("timeout", (DownloadTimeoutError, tx.TimeoutError, tx.TCPTimedOutError)),
    ("connect", (DownloadConnectionRefusedError, tx.ConnectError, tx.ConnectionLost, tx.ConnectionDone,
                 DownloadFailedError, ResponseDataLossError)),
)


class HostUnreachable(IgnoreRequest):
    """Not attempted: an earlier request to the same host failed on the network and it never answered."""

    def __init__(self, host: str, group: str):
        super().__init__(f"{host} unreachable ({group}), not attempted")
        self.host, self.group = host, group


def failure_group(exception: BaseException) -> str:
    """`dns`, `connect`, `timeout` or `other` for an exception a download ended with."""
    if isinstance(exception, HostUnreachable):
        return exception.group
    if type(exception).__name__ == "TunnelError":  # the proxy refused or failed the CONNECT
        return "connect"
    for group, types in _GROUPS:
        if isinstance(exception, types):
            return group
    return "other"


DEAD_LINK = (404, 410)
# Request meta: a URL the crawl guessed rather than read on a page (a site's section page spelled from its
# name, crawler/topic_sections.py): a 404 is the guess missing, not a URL the crawl failed to fetch.
GUESSED = "guessed"


def is_robots_request(request) -> bool:
    """The request RobotsTxtMiddleware makes for itself (not a URL anybody asked for)."""
    return request.meta.get("dont_obey_robotstxt") and urlparse_cached(request).path == "/robots.txt"


def is_read_on_a_page(request) -> bool:
    """A URL the crawl read on a page rather than one it was given (a start URL, a discovery entry point).

    `depth` alone does not say so: Scrapy's DepthMiddleware sets it on a spider callback's requests
    only, and the topic crawl's idle releases (crawler/topic_idle.py) go straight to the engine, so a
    held home page that 404s read as a failed start URL. Every link request names the page it was
    found on (`found_from`, None for the URLs a crawl starts from)."""
    return bool(request.meta.get("found_from")) or request.meta.get("depth", 0) > 0


class UrlOutcomes:
    """Downloader middleware (priority 540): final outcome of every URL; skips unreachable hosts."""

    def __init__(self, crawler):
        self.stats = crawler.stats
        self.skip_unreachable = crawler.settings.getbool("CRAWL_SKIP_UNREACHABLE")
        self.answered: set[str] = set()  # hosts that sent any response
        self.dead: dict[str, str] = {}  # host -> failure group, for hosts that never answered

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        host = urlparse_cached(request).netloc
        if self.skip_unreachable and host in self.dead:
            raise HostUnreachable(host, self.dead[host])
        return None

    def process_response(self, request, response, spider=None):
        host = urlparse_cached(request).netloc
        self.answered.add(host)
        self.dead.pop(host, None)
        if is_robots_request(request) or request.meta.get("requisite"):
            return response  # requisites are counted apart (crawler/requisites.py)
        if response.status < 400:
            self.stats.inc_value("urls/ok")
        elif response.status in DEAD_LINK and request.meta.get(GUESSED):
            self.stats.inc_value("urls/ok")  # the site answered: there is no such page, as may be
            self.stats.inc_value("urls/guesses_missed")
        elif response.status in DEAD_LINK and is_read_on_a_page(request):
            # A link a page carried to something gone: the site answered, the crawl did what was asked.
            # Real news pages carry dead links; a start URL that is gone still counts as failed.
            self.stats.inc_value("urls/ok")
            self.stats.inc_value("urls/dead_links")
        else:
            self._failed("http", str(response.status))
        return response

    def process_exception(self, request, exception, spider=None):
        if isinstance(exception, IgnoreRequest) and not isinstance(exception, HostUnreachable):
            return None  # forbidden by robots.txt, offsite, …: not a URL we tried to fetch
        group = failure_group(exception)
        host = urlparse_cached(request).netloc
        if group in NETWORK_GROUPS and host not in self.answered and host not in self.dead:
            self.dead[host] = group
            logger.warning("%s did not answer (%s: %s); its other URLs will not be tried in this crawl",
                           host, type(exception).__name__, exception)
        if isinstance(exception, HostUnreachable):
            self.stats.inc_value("urls/not_attempted")
        if not is_robots_request(request) and not request.meta.get("requisite"):
            self._failed(group, type(exception).__name__ if group == "other" else None)
        return None

    def _failed(self, group: str, detail: str | None) -> None:
        self.stats.inc_value("urls/failed")
        self.stats.inc_value(f"urls/failed/{group}")
        if detail:
            self.stats.inc_value(f"urls/failed/{group}/{detail}")


# --- reading the counts back (summary, run report) ---------------------------------------


def failure_breakdown(stats: dict) -> dict[str, int]:
    """`{"timeout": 4, "HTTP 404": 2, "other (SSLError)": 1, …}`: failed URLs by cause."""
    found: dict[str, int] = {}
    for group in (*NETWORK_GROUPS, "http", "other"):
        total = stats.get(f"urls/failed/{group}", 0)
        if not total:
            continue
        if group in NETWORK_GROUPS:
            found[group] = total
            continue
        prefix = f"urls/failed/{group}/"
        for key, count in sorted(stats.items()):
            if key.startswith(prefix):
                found[f"HTTP {key[len(prefix):]}" if group == "http" else f"other ({key[len(prefix):]})"] = count
    return found


_HINTS = {
    "dns": "no host name could be resolved: is this machine offline, or does it reach the web only "
           "through a proxy (https_proxy=…)?",
    "connect": "every connection was refused or cut: is the network up, and is a proxy needed "
               "(https_proxy=…) or the one set running?",
    "timeout": "every request timed out (DOWNLOAD_TIMEOUT={timeout} s): is the network or the proxy "
               "dropping traffic?",
}


def network_hint(stats: dict, settings) -> str | None:
    """One line when every URL failed for the same network reason, else None."""
    breakdown = failure_breakdown(stats)
    failed = stats.get("urls/failed", 0)
    if not failed or stats.get("urls/ok", 0) or len(breakdown) != 1:
        return None
    (group,) = breakdown
    if group not in _HINTS:
        return None
    hint = _HINTS[group].format(timeout=settings.get("DOWNLOAD_TIMEOUT"))
    proxy = os.environ.get("https_proxy") or os.environ.get("HTTPS_PROXY") or os.environ.get("http_proxy") \
        or os.environ.get("HTTP_PROXY")
    return hint + (f" (proxy in use: {proxy})" if proxy and group != "dns" else "")
