"""HostCachedProxyMiddleware makes Scrapy's HttpProxyMiddleware's decisions, asking no_proxy once a host."""
import urllib.request

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware

from crawler.downloadermiddlewares.proxy import HostCachedProxyMiddleware

URLS = ["http://nhandan.vn/a.html", "https://nhandan.vn/b.html", "https://image.nhandan.vn/x.jpg",
        "http://local.example/c", "https://sub.local.example/d", "ftp://files.example/e", "http://127.0.0.1:8/f"]


@pytest.mark.parametrize("env", [
    {"http_proxy": "http://user:pw@127.0.0.1:3128", "https_proxy": "http://127.0.0.1:3129",
     "no_proxy": "local.example,127.0.0.1"},
    {"https_proxy": "http://127.0.0.1:3129"},
    {},
])
def test_same_decisions_as_scrapy(monkeypatch, env):
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ftp_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ours, scrapy = HostCachedProxyMiddleware(), HttpProxyMiddleware()
    for url in URLS * 2:  # the second round answers from the cache
        for meta in ({}, {"proxy": "http://127.0.0.1:9999"}, {"proxy": None}):
            a, b = Request(url, meta=dict(meta)), Request(url, meta=dict(meta))
            ours.process_request(a)
            scrapy.process_request(b)
            assert (a.meta, a.headers) == (b.meta, b.headers), (url, meta)


def test_no_proxy_asked_once_per_host(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:3128")
    asked = []
    real = urllib.request.proxy_bypass
    monkeypatch.setattr("crawler.downloadermiddlewares.proxy.proxy_bypass", lambda h: asked.append(h) or real(h))
    middleware = HostCachedProxyMiddleware()
    for n in range(5):
        middleware.process_request(Request(f"http://nhandan.vn/{n}.html"))
    assert asked == ["nhandan.vn"]


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:3128")
    monkeypatch.setenv("no_proxy", "host3.example")
    monkeypatch.setattr("crawler.downloadermiddlewares.proxy.MAX_HOSTS", 4)
    middleware = HostCachedProxyMiddleware()
    for n in range(10):
        request = Request(f"http://host{n}.example/")
        middleware.process_request(request)
        assert len(middleware._bypass) <= 4
        assert (request.meta.get("proxy") is None) == (n == 3)  # decisions unchanged after a reset
