"""`make bench-requisites` (and a row of `make bench`): the default crawl, page requisites on, vs `-a requisites=none`.

A generated nhandan-style site (testbed/bench_site.py's text and links) whose pages
each embed ten images: the shared logo, two photos of their own and seven
teaser thumbnails drawn from a pool of 60 that all pages share, on the
`image.nhandan.vn` host, plus a shared stylesheet (which loads a font), script
and icon. Three scenarios, each crawled both ways, alternately:

- `default`: default settings (AutoThrottle on, 4 requests per host, 16 in
  all), the server answering after 100 ms, as a distant site does; each page
  links five others (a wide frontier). What a real crawl is bound by: politeness.
- `narrow`: the same, but each page links only the next one (a frontier of one
  page, as in a topic crawl or a re-crawl of a few new articles): requisites
  must not hold the places the next page needs (crawler/requisite_queue.py).
- `local`: no latency, no AutoThrottle, 16 requests per host: the crawl is
  bound by this machine's CPU, and shows what a requisite costs in CPU.

`--crawl-state` runs them with the crawl state on (`state.sqlite` beside the
archive, as a default crawl has it; off otherwise, as measured before), under
`<scenario>+state` in results.json: requisites then also go through the state
(pending until archived, docs/requisites.md "After a crash").

Reported per scenario and mode: page throughput (pages / time until the last
page was asked for: the figure the ≥ 0.8 target is about), pages/s over the
whole crawl (requisites of a throttled CDN host finish after the pages),
bytes written, requests per page, CPU seconds of the crawl's process tree
(crawler, WARC writer, extraction workers); for requisites on, whether every shared
resource was fetched exactly once.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
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

from testbed.bench_site import HOST, IMAGE_HOST, _paragraphs, _words, article_url, listing_reply, page_number
from testbed.fixtureserver import FixtureServer, FixtureSite, Reply

REPO = Path(__file__).resolve().parent.parent
THUMBS = 60  # the shared pool of teaser thumbnails
SHARED = {"/static/site.css": ("text/css", None), "/static/app.js": ("application/javascript", 20_000),
          "/static/logo.png": ("image/png", 3_000), "/favicon.ico": ("image/x-icon", 1_500),
          "/static/body.woff2": ("font/woff2", 30_000)}
LOCAL = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16}
CSS = b'@font-face{font-family:B;src:url(body.woff2) format("woff2")}\nbody{font-family:B,serif}\n' + b"a{}" * 1500


def page_html(n: int, pages: int, narrow: bool = False) -> bytes:
    """An article page embedding ten images (one shared logo, two own photos, seven pooled thumbnails).

    It links five other pages, or (`narrow`) only the next one."""
    rng = random.Random(n)
    photos = "".join(f'<p><img src="https://{IMAGE_HOST}/w800/bai-{n}-anh-{k}.jpg" alt="{_words(rng, 5, 8)}"></p>'
                     for k in (1, 2))
    thumbs = "".join(f'<article class="story"><img class="lazyload" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" '
                     f'data-src="https://{IMAGE_HOST}/w390/thumb-{rng.randrange(THUMBS)}.jpg" alt=""></article>'
                     for _ in range(7))
    related = "".join(f'<article class="story"><a class="cms-link" href="{article_url((n * 7 + k * 131 + 1) % pages)}">'
                      f'Bài liên quan {k}</a></article>' for k in range(5))
    if narrow:
        related = f'<article class="story"><a class="cms-link" href="{article_url((n + 1) % pages)}">Bài tiếp</a></article>'

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

    def __init__(self, pages: int, latency: float = 0.0, narrow: bool = False):
        super().__init__()
        self.routes = {}
        self.pages = pages
        self.latency = latency  # seconds before every answer but robots.txt: a server far away
        self.narrow = narrow  # each page links only the next one; the crawl starts at page 0
        self._pages = {n: page_html(n, pages, narrow) for n in range(pages)}
        self.last_page_at = 0.0
        self._clock = threading.Lock()

    def start_url(self) -> str:
        return article_url(0) if self.narrow else f"http://{HOST}/tin-moi.html"

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
               settings: dict | None = None, crawl_state: bool = False) -> dict:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    stats_file = work / "stats.json"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={site.start_url()}", "-a", "depth=100000",
           "-a", f"max_pages={site.pages + 1}", "-a", "topic=none", "-a", f"requisites={requisites}",
           "-s", f"WARC_DIR={work / 'warc'}", "-s", f"CORPUS_DIR={work / 'corpus'}", "-s", "CORPUS_SEEDS=",
           "-s", f"CRAWL_REPORT={work / 'runs.jsonl'}", "-s", "LOG_LEVEL=ERROR",
           "-s", f"CRAWL_STATS_FILE={stats_file}"] + ([] if crawl_state else ["-s", "CRAWL_STATE="])
    for name, value in (LOCAL if settings is None else settings).items():
        cmd += ["-s", f"{name}={value}"]
    with site.lock:
        site.hits.clear()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = subprocess.run(cmd, cwd=REPO, env={**os.environ, **server.proxy_env()}, stdout=subprocess.DEVNULL).returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the crawl's whole tree, reaped by now
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
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
            "warc_bytes": sum(p.stat().st_size for p in (work / "warc").glob("*.warc.gz"))}


# name: (pages, server latency s, narrow frontier, settings beyond the defaults)
SCENARIOS = {
    "default": (200, 0.1, False, {}),
    "narrow": (40, 0.1, True, {}),
    "local": (500, 0.0, False, LOCAL),
}


def bench_scenario(name: str, rounds: int, pages: int | None = None, crawl_state: bool = False) -> dict:
    default_pages, latency, narrow, settings = SCENARIOS[name]
    site = RequisiteBenchSite(pages or default_pages, latency, narrow)
    server = FixtureServer(site).start_background()
    work = Path(tempfile.mkdtemp(prefix="bench-requisites-"))
    try:
        runs: dict[str, list[dict]] = {"article": [], "none": []}
        for _ in range(rounds):  # alternated, to spread the shared machine's noise over both
            for mode in ("none", "article"):
                runs[mode].append(crawl_once(server, site, work / mode, mode, settings, crawl_state))
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    median = {mode: {key: round(statistics.median(r[key] for r in rs), 2) for key in
                     ("pages_per_s", "pages_per_s_until_last_page", "requests_per_page", "warc_bytes", "cpu_s")}
              for mode, rs in runs.items()}
    on, off = median["article"], median["none"]
    return {"pages": runs["article"][0]["pages"], "latency_s": latency, "narrow": narrow, "settings": settings,
            "rounds": rounds, "crawl_state": crawl_state, "on": on, "off": off,
            "page_throughput_on_over_off": round(on["pages_per_s_until_last_page"]
                                                 / off["pages_per_s_until_last_page"], 3),
            "whole_crawl_on_over_off": round(on["pages_per_s"] / off["pages_per_s"], 3),
            "shared_fetched_once": all(r["shared_fetched_once"] for r in runs["article"]),
            "runs": runs}


def bench_requisites(rounds: int, scenarios=tuple(SCENARIOS), pages: int | None = None,
                     crawl_state: bool = False) -> dict:
    return {name + ("+state" if crawl_state else ""): bench_scenario(name, rounds, pages, crawl_state)
            for name in scenarios}


def describe(results: dict) -> str:
    lines = []
    for name, r in results.items():
        on, off, first = r["on"], r["off"], r["runs"]["article"][0]
        how = (f"{r['latency_s'] * 1000:.0f} ms a response, "
               + ("default politeness" if not r["settings"] else "no AutoThrottle, 16 a host")
               + (", each page linking only the next" if r["narrow"] else "")
               + (", crawl state on" if r.get("crawl_state") else ""))
        lines.append(
            f"page requisites [{name}: {r['pages']} pages of 10 images, {how}; median of {r['rounds']}]: "
            f"page throughput on {on['pages_per_s_until_last_page']} pages/s vs off {off['pages_per_s_until_last_page']} "
            f"→ {r['page_throughput_on_over_off']}; whole crawl {on['pages_per_s']} vs {off['pages_per_s']} pages/s "
            f"→ {r['whole_crawl_on_over_off']}; requests/page {on['requests_per_page']} vs {off['requests_per_page']}; "
            f"WARC bytes {on['warc_bytes']:,.0f} vs {off['warc_bytes']:,.0f}; CPU {on['cpu_s']} vs {off['cpu_s']} s; "
            f"{first['requisites_fetched']} requisites "
            f"fetched, {first['requisites_deduplicated']} references deduplicated, shared resources fetched once: "
            f"{r['shared_fetched_once']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=tuple(SCENARIOS), action="append",
                        help="run only these scenarios (repeatable); results.json keeps the others")
    parser.add_argument("--pages", type=int, help="pages per crawl (default: the scenario's)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--crawl-state", action="store_true",
                        help="crawl with the crawl state on, as a default crawl does (results as <scenario>+state)")
    args = parser.parse_args(argv)
    result = bench_requisites(args.rounds, tuple(args.scenario or SCENARIOS), args.pages, args.crawl_state)
    print(describe(result), flush=True)
    results_path = REPO / "bench" / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if not isinstance(results.get("requisites"), dict) or "on" in results["requisites"]:
        results["requisites"] = {}  # the single-scenario layout of before
    results["requisites"].update(result)
    results_path.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
