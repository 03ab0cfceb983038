"""Scrapy's HttpProxyMiddleware, asking the environment's `no_proxy` once per host.

Scrapy reads the proxies (`http_proxy`, `https_proxy`, ...) once, when the crawl
starts, but asks `urllib.request.proxy_bypass` for every request, and that walks
and decodes the whole process environment each time (measured: ~8 % of the
reactor's CPU in a proxied crawl, three requests a page). The answer for a host
cannot change while the proxies themselves are frozen, so it is kept per host.
Bound: one entry per host the crawl meets (page hosts and requisite CDNs); past
MAX_HOSTS the cache starts over, so a crawl of many hosts costs at most one
`proxy_bypass` per host per MAX_HOSTS requests to new hosts, never unbounded memory.
Everything else (`meta["proxy"]`, credentials, the headers) is Scrapy's.
"""
from __future__ import annotations

from typing import Any
from urllib.request import proxy_bypass

from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.utils.httpobj import urlparse_cached


MAX_HOSTS = 4096


class HostCachedProxyMiddleware(HttpProxyMiddleware):
    """Takes HttpProxyMiddleware's place (750); the same decisions, `no_proxy` asked once a host."""

    def __init__(self, auth_encoding: str | None = "latin-1"):
        super().__init__(auth_encoding)
        self._bypass: dict[str, bool] = {}  # host -> proxy_bypass(host)

    def process_request(self, request, spider: Any = None):
        if "proxy" in request.meta or not self.proxies:
            return super().process_request(request)
        parsed = urlparse_cached(request)
        scheme, host = parsed.scheme, parsed.hostname
        if scheme in ("http", "https"):
            if not host:
                use_proxy = False
            else:
                bypass = self._bypass.get(host)
                if bypass is None:
                    if len(self._bypass) >= MAX_HOSTS:
                        self._bypass.clear()
                    bypass = self._bypass[host] = bool(proxy_bypass(host))
                use_proxy = not bypass
        else:  # 'no_proxy' applies to http(s) only
            use_proxy = True
        if use_proxy and scheme in self.proxies:
            creds, proxy_url = self.proxies[scheme]
            self._set_proxy_and_creds(request, proxy_url, creds, scheme)
        else:
            self._set_proxy_and_creds(request, None, None, None)
        return None
