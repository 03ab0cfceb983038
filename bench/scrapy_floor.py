"""The floor under the reactor's cost a page: stock Scrapy fetching the same requests as the default
crawl (an article page and its two photos, bench/default_site.py), with a spider that does nothing.

The default crawl's event loop does its own work (middlewares, spider decisions, WARC hand-off,
state, corpus) on top of Scrapy's and Twisted's handling of each request: scheduler, downloader
slots, the middleware chains, the HTTP/1.1 client, TLS, signals and the asyncio tasks of each
response's output. This spider fetches the same URLs at the same concurrency through the same
proxy, with Scrapy's default components, robots.txt, cookies and our proxy middleware aside (the
default crawl has no cookies and asks no_proxy once a host); its reactor CPU a page is what no
change of ours can remove while every requisite is a Scrapy request.
`python -m bench.scrapy_floor --pages 1000`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scrapy

from bench.default_crawl import REPO, Timed, watch, with_site
from bench.loop_profile import breakdown, sampled_breakdown
from testbed.bench_site import HOST, article_url


class FloorSpider(scrapy.Spider):
    """Every article page, and for each response its two photos: nothing parsed, nothing kept."""

    name = "floor"
    custom_settings = {
        "ROBOTSTXT_OBEY": False, "COOKIES_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
        "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "CONCURRENT_ITEMS": 2, "LOG_LEVEL": "INFO",
        "DOWNLOADER_MIDDLEWARES": {"scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
                                   "crawler.downloadermiddlewares.proxy.HostCachedProxyMiddleware": 750},
    }

    def __init__(self, pages: str = "1000", host: str = HOST, photos: str = "2", **kwargs):
        super().__init__(**kwargs)
        self.pages, self.host, self.photos = int(pages), host, int(photos)

    async def start(self):
        for n in range(self.pages):
            yield scrapy.Request(article_url(n).replace(HOST, self.host), cb_kwargs={"n": n})

    def parse(self, response, n):
        for k in range(1, self.photos + 1):
            yield scrapy.Request(f"https://image.nhandan.vn/w800/Uploaded/2024/bai-{n}-anh-{k}.jpg",
                                 callback=self.photo)

    def photo(self, response):
        return None


def floor_crawl(site: Timed, log: Path, photos: int = 2, profile: Path | None = None,
                sample: Path | None = None) -> dict:
    """Reactor CPU ms a page of the floor spider over the middle 80 % of its pages; `photos`: requests
    after each page (2, as the default crawl's requisites; 0: the page alone); `profile`: where
    bench/loop_profile.py writes its profile."""
    runner = ["-m", "bench.loop_profile", str(profile)] if profile else []
    cmd = [sys.executable, *runner, "-m", "scrapy", "runspider", str(Path(__file__)), "-a", f"pages={site.pages}",
           "-a", f"host={site.host}", "-a", f"photos={photos}", "-s", f"LOG_FILE={log}"]
    site.served = 0
    # Run outside the project (no scrapy.cfg: Scrapy's default settings), importing from it.
    env = {**os.environ, **site.server.proxy_env(), "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=log.parent, env=env, stdout=subprocess.DEVNULL)
    result = watch(proc, site, profiled=profile is not None, sample=sample)
    if proc.returncode:
        raise SystemExit(f"floor crawl failed (exit {proc.returncode}); log: {log}")
    return {"pages": site.served, "elapsed_s": round(time.perf_counter() - started, 2), **result}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="cProfile the reactor, by component")
    parser.add_argument("--sample", action="store_true", help="py-spy the reactor, by component")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    profile = work / "floor.prof" if args.profile else None
    sample = work / "floor.py-spy.txt" if args.sample else None
    result = with_site(args.pages, HOST, lambda site: floor_crawl(site, work / "floor.log", args.photos, profile,
                                                                    sample))
    if profile is not None:
        result["loop_breakdown_ms_per_page"] = breakdown(str(profile), result["profiled_pages"])
    if sample is not None:
        result["loop_sampled_ms_per_page"] = sampled_breakdown(str(sample), result["loop_cpu_ms_per_page"])
    result["load_average_at_end"] = os.getloadavg()
    print(json.dumps(result))
