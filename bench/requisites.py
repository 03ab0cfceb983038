"""`make bench-requisites` (and a row of `make bench`): the default crawl, page requisites on, vs `-a requisites=none`.

A generated nhandan-style site (testbed/bench_site.py's text and links) whose pages
each embed ten images: the shared logo, two photos of their own and seven
teaser thumbnails drawn from a pool of 60 that all pages share, on the
`image.nhandan.vn` host, plus a shared stylesheet (which loads a font), script
and icon. Crawled through the fixture proxy with default settings (extraction
on) but for the local-bench ones every bench uses (no autothrottle, 16
concurrent requests). Reported per mode: pages/s over the whole crawl and up
to the last page request, bytes written, requests per page; for requisites on,
whether every shared resource was fetched exactly once.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from testbed.bench_site import HOST, _paragraphs, _words, article_url, listing_reply, page_number
from testbed.fixtureserver import FixtureServer, FixtureSite, Reply

REPO = Path(__file__).resolve().parent.parent
IMAGE_HOST = "image.nhandan.vn"
THUMBS = 60  # the shared pool of teaser thumbnails
SHARED = {"/static/site.css": ("text/css", None), "/static/app.js": ("application/javascript", 20_000),
          "/static/logo.png": ("image/png", 3_000), "/favicon.ico": ("image/x-icon", 1_500),
          "/static/body.woff2": ("font/woff2", 30_000)}
LOCAL = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16}
CSS = b'@font-face{font-family:B;src:url(body.woff2) format("woff2")}\nbody{font-family:B,serif}\n' + b"a{}" * 1500


def page_html(n: int, pages: int) -> bytes:
    """An article page embedding ten images (one shared logo, two own photos, seven pooled thumbnails)."""
    rng = random.Random(n)
    photos = "".join(f'<p><img src="https://{IMAGE_HOST}/w800/bai-{n}-anh-{k}.jpg" alt="{_words(rng, 5, 8)}"></p>'
                     for k in (1, 2))
    thumbs = "".join(f'<article class="story"><img class="lazyload" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" '
                     f'data-src="https://{IMAGE_HOST}/w390/thumb-{rng.randrange(THUMBS)}.jpg" alt=""></article>'
                     for _ in range(7))
    related = "".join(f'<article class="story"><a class="cms-link" href="{article_url((n * 7 + k * 131 + 1) % pages)}">'
                      f'Bài liên quan {k}</a></article>' for k in range(5))
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Bài viết số {n}</title>
<link rel="stylesheet" href="/static/site.css"><link rel="icon" href="/favicon.ico"><script src="/static/app.js"></script>
</head><body><header><img src="/static/logo.png" alt="Nhân Dân"></header>
<article class="article"><h1 class="article__title">Hợp tác Việt Nam - Lào, bài số {n}</h1>
<div class="article__sapo">{_words(rng, 30, 40)}.</div>
<div class="article__body">{_paragraphs(rng, 4)}{photos}{_paragraphs(rng, 4)}</div></article>
<div class="box-related">{related}</div><div class="box-latest">{thumbs}</div></body></html>""".encode()


def _blob(name: str, size: int) -> bytes:
    return random.Random(name).randbytes(size)  # incompressible, like JPEG/PNG/WOFF2 bodies


class RequisiteBenchSite(FixtureSite):
    """`pages` pages, their images and shared files; notes when the last page was asked for."""

    def __init__(self, pages: int, latency: float = 0.0):
        super().__init__()
        self.routes = {}
        self.pages = pages
        self.latency = latency  # seconds before every answer but robots.txt: a server far away
        self._pages = {n: page_html(n, pages) for n in range(pages)}
        self.last_page_at = 0.0
        self._clock = threading.Lock()

    def start_url(self) -> str:
        return f"http://{HOST}/tin-moi.html"

    def resolve(self, host: str, path_qs: str) -> Reply:
        reply = self._resolve(host, path_qs)
        if path_qs != "/robots.txt":
            reply.delay = self.latency
        return reply

    def _resolve(self, host: str, path_qs: str) -> Reply:
        if path_qs == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")], body=b"User-agent: *\nDisallow: /api/\n")
        if host == IMAGE_HOST:
            size = 40_000 if path_qs.startswith("/w800/") else 8_000
            return Reply(headers=[("Content-Type", "image/jpeg")], body=_blob(path_qs, size), encoding="identity")
        if host == HOST and path_qs in SHARED:
            kind, size = SHARED[path_qs]
            body = CSS if size is None else _blob(path_qs, size)
            return Reply(headers=[("Content-Type", kind)], body=body, encoding="auto" if size is None else "identity")
        with self._clock:
            self.last_page_at = time.time()
        if path_qs == "/tin-moi.html":
            return listing_reply(self.pages)
        n = page_number(path_qs)
        if host != HOST or n not in self._pages:
            return Reply(status=404, headers=[("Content-Type", "text/html")], body=b"<h1>404</h1>")
        return Reply(headers=[("Content-Type", "text/html; charset=utf-8")], body=self._pages[n])


def crawl_once(server: FixtureServer, site: RequisiteBenchSite, work: Path, requisites: str,
               settings: dict | None = None) -> dict:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    stats_file = work / "stats.json"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={site.start_url()}", "-a", "depth=100000",
           "-a", f"max_pages={site.pages + 1}", "-a", "topic=none", "-a", f"requisites={requisites}",
           "-s", f"WARC_DIR={work / 'warc'}", "-s", f"CORPUS_DIR={work / 'corpus'}", "-s", "CORPUS_SEEDS=",
           "-s", "CRAWL_STATE=", "-s", f"CRAWL_REPORT={work / 'runs.jsonl'}", "-s", "LOG_LEVEL=ERROR",
           "-s", f"CRAWL_STATS_FILE={stats_file}"]
    for name, value in (LOCAL if settings is None else settings).items():
        cmd += ["-s", f"{name}={value}"]
    with site.lock:
        site.hits.clear()
    code = subprocess.run(cmd, cwd=REPO, env={**os.environ, **server.proxy_env()}, stdout=subprocess.DEVNULL).returncode
    if code:
        raise SystemExit(f"benchmark crawl failed (exit {code}): {' '.join(cmd)}")
    stats = json.loads(stats_file.read_text())
    with site.lock:
        hits = Counter(site.hits)
    requisite_fetches = stats.get("requisites/fetched", 0)
    pages = stats.get("downloader/response_count", 0) - requisite_fetches
    started = datetime.fromisoformat(stats["start_time"]).timestamp()
    elapsed = stats["elapsed_time_seconds"]
    page_phase = site.last_page_at - started
    shared_hits = [n for url, n in hits.items() if "/static/" in url or "/w390/" in url or url.endswith("favicon.ico")]
    return {"pages": pages, "elapsed_s": round(elapsed, 2), "pages_per_s": round(pages / elapsed, 1),
            "pages_per_s_until_last_page": round(pages / page_phase, 1),
            "requests_per_page": round(stats.get("downloader/request_count", 0) / pages, 2),
            "requisites_fetched": requisite_fetches, "requisite_bytes": stats.get("requisites/bytes", 0),
            "requisites_deduplicated": stats.get("requisites/deduplicated", 0),
            "shared_resources": len(shared_hits), "shared_fetched_once": all(n == 1 for n in shared_hits),
            "articles_written": stats.get("corpus/written", 0),
            "warc_bytes": sum(p.stat().st_size for p in (work / "warc").glob("*.warc.gz"))}


def bench_requisites(pages: int, rounds: int) -> dict:
    site = RequisiteBenchSite(pages)
    server = FixtureServer(site).start_background()
    work = Path(tempfile.mkdtemp(prefix="bench-requisites-"))
    try:
        runs: dict[str, list[dict]] = {"article": [], "none": []}
        for _ in range(rounds):  # alternated, to spread the shared machine's noise over both
            for mode in ("none", "article"):
                runs[mode].append(crawl_once(server, site, work / mode, mode))
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    median = {mode: {key: round(statistics.median(r[key] for r in rs), 2) for key in
                     ("pages_per_s", "pages_per_s_until_last_page", "requests_per_page", "warc_bytes")}
              for mode, rs in runs.items()}
    on, off = median["article"], median["none"]
    return {"pages": runs["article"][0]["pages"], "rounds": rounds, "on": on, "off": off,
            "on_over_off": round(on["pages_per_s"] / off["pages_per_s"], 3),
            "on_over_off_until_last_page": round(on["pages_per_s_until_last_page"]
                                                 / off["pages_per_s_until_last_page"], 3),
            "shared_fetched_once": all(r["shared_fetched_once"] for r in runs["article"]),
            "runs": runs}


def describe(r: dict) -> str:
    on, off, first = r["on"], r["off"], r["runs"]["article"][0]
    return (f"page requisites, {r['pages']} pages of 10 images each, median of {r['rounds']}: "
            f"requisites on {on['pages_per_s']} pages/s ({on['pages_per_s_until_last_page']} until the last page), "
            f"off {off['pages_per_s']} ({off['pages_per_s_until_last_page']}) → on/off {r['on_over_off']} "
            f"({r['on_over_off_until_last_page']} until the last page); requests/page {on['requests_per_page']} vs "
            f"{off['requests_per_page']}; WARC bytes {on['warc_bytes']:,.0f} vs {off['warc_bytes']:,.0f}; "
            f"{first['requisites_fetched']} requisites fetched, {first['requisites_deduplicated']} references "
            f"deduplicated, shared resources fetched once: {r['shared_fetched_once']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    result = bench_requisites(args.pages, args.rounds)
    print(describe(result), flush=True)
    results_path = REPO / "bench" / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["requisites"] = result
    results_path.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
