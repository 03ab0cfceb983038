"""The address policy in the crawl: no request to a non-public address unless the user named it.

Two checks, both on by default (`ADDRESS_POLICY_ENABLED`), deciding with
`archive.addresses.AddressPolicy`:

- `AddressPolicyMiddleware`, a downloader middleware at priority 50, before
  every other one (RobotsTxtMiddleware is 100), sees every request the crawl
  makes: the spider's links, start URLs and discovery documents, the new
  requests of RedirectMiddleware (3xx) and MetaRefreshMiddleware (which go
  back through the scheduler and the whole middleware chain), and the
  robots.txt requests RobotsTxtMiddleware downloads (engine.download_async
  runs the whole chain too). It refuses, before any connection, a URL whose
  host is a non-public IP literal or a local name, and any host the resolver
  found to resolve to a non-public address.
- `PublicAddressResolver` (`TWISTED_DNS_RESOLVER`), Scrapy's caching resolver
  plus a check of every answer: a direct connection (no proxy) to a public
  looking name that resolves to 10.x, or to 127.0.0.1 on a later lookup, fails
  at connect time. Through a proxy, the proxy resolves: only the first check
  applies, and the proxy's own host is allowed.

Exceptions: the origins of the crawl's own start URLs (`spider.start_urls`
and any URL announced with the `URL_NAMED` signal, e.g. one read from Redis),
and `ADDRESS_ALLOWED_NETWORKS`. A refused request is never downloaded, so
never archived; it counts as `refused/non_public_address` and is logged once
per host.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import getproxies

from scrapy import signals
from scrapy.exceptions import CannotResolveHostError, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from archive.addresses import AddressPolicy, parse_networks
from crawler.refusals import RefusedAddress, stats_key

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

# Signal (kwargs: url): the user named this URL (a start URL arriving after the spider opened);
# its origin is allowed whatever its address.
URL_NAMED = object()


def allowed_networks(settings):
    """`ADDRESS_ALLOWED_NETWORKS` parsed (ValueError names a bad entry; the preflight reports it)."""
    return parse_networks(settings.get("ADDRESS_ALLOWED_NETWORKS"))


def proxy_hosts() -> set[str]:
    """Hosts of the proxies the environment names (`http_proxy`, `https_proxy`, ...), as
    HttpProxyMiddleware reads them."""
    hosts = set()
    for scheme, url in getproxies().items():
        if scheme != "no" and url:
            host = urlsplit(url if "://" in url else f"http://{url}").hostname
            if host:
                hosts.add(host)
    return hosts


class PublicAddressResolver(CachingThreadedResolver):
    """Scrapy's default resolver, refusing answers that are not public addresses.

    Installed once per process from the project settings, before any spider
    exists: the middlewares of the process's crawls add their named hosts to
    the one `policy` it holds. A refusal is a `DNSLookupError` (Twisted reports
    it as "no results" and Scrapy as `CannotResolveHostError`): no connection
    is attempted.
    """

    def __init__(self, reactor: Any, cache_size: int, timeout: float, policy: AddressPolicy,
                 enabled: bool = True):
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy
        self.enabled = enabled

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> Self:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        policy = AddressPolicy(allowed_networks(settings))
        for host in proxy_hosts():
            policy.proxy_host(host)
        return cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"), policy,
                   enabled=settings.getbool("ADDRESS_POLICY_ENABLED", True))

    def getHostByName(self, name: str, timeout=()):  # noqa: N802 (Twisted's name)
        deferred = self.lookup(name, timeout)
        if self.enabled:
            deferred.addCallback(self._checked, name)
        return deferred

    def lookup(self, name: str, timeout=()):
        """The answer, before the check: Scrapy's cached threaded lookup."""
        return super().getHostByName(name, timeout)

    def _checked(self, address: str, name: str) -> str:
        reason = self.policy.resolved_refusal(name, address)
        if reason is not None:
            raise DNSLookupError(f"refused: {reason}")
        return address


def installed_resolver():
    from twisted.internet import reactor  # here: importing it at module load would install a reactor

    return getattr(reactor, "resolver", None)


class AddressPolicyMiddleware:
    """Refuses requests for non-public hosts before anything else sees them (see the module)."""

    def __init__(self, crawler: Crawler, policy: AddressPolicy, checked_at_connect: bool):
        self.crawler = crawler
        self.stats = crawler.stats
        self.policy = policy
        self.checked_at_connect = checked_at_connect
        self._logged_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("ADDRESS_POLICY_ENABLED", True):
            raise NotConfigured("the address policy is off (ADDRESS_POLICY_ENABLED)")
        resolver = installed_resolver()
        checked = isinstance(resolver, PublicAddressResolver) and resolver.enabled
        policy = resolver.policy if checked else AddressPolicy()
        policy.allow_networks(allowed_networks(settings))
        for host in proxy_hosts():
            policy.proxy_host(host)
        middleware = cls(crawler, policy, checked)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.url_named, signal=URL_NAMED)
        return middleware

    def spider_opened(self, spider) -> None:
        for url in getattr(spider, "start_urls", None) or ():
            self.policy.name(url)
        if not self.checked_at_connect:
            logger.warning("resolved addresses are not checked at connect time: TWISTED_DNS_RESOLVER is "
                           "not crawler.downloadermiddlewares.address_policy.PublicAddressResolver; only hosts as written in URLs are")

    def url_named(self, url: str) -> None:
        self.policy.name(url)

    def process_request(self, request: Request, spider: Any = None) -> None:
        proxy = request.meta.get("proxy")
        if proxy:
            self.policy.proxy_host(urlsplit(proxy).hostname or "")
        parts = urlparse_cached(request)
        if parts.scheme not in ("http", "https"):
            return None
        reason = self.policy.refusal(parts)
        if reason is not None:
            self._refuse(request, reason)
        return None

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        """A failed lookup that was the resolver refusing an address becomes the same refusal."""
        if isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            reason = self.policy.refused_names.get((urlparse_cached(request).hostname or "").rstrip("."))
            if reason is not None:
                self._refuse(request, reason)
        return None

    def _refuse(self, request: Request, reason: str) -> None:
        self.stats.inc_value(stats_key(RefusedAddress.kind))
        host = urlparse_cached(request).hostname or ""
        if host not in self._logged_hosts:
            self._logged_hosts.add(host)
            redirected_from = (request.meta.get("redirect_urls") or [None])[-1]
            logger.warning("refused: non-public address: %s (%s); not fetched, nor any later URL on this "
                           "host (first: %s, from %s)", host, reason, request.url,
                           redirected_from or request.meta.get("found_from") or "a start URL")
        raise RefusedAddress(f"{request.url} ({reason})")
