"""`make bench`: crawl throughput with WARC capture on vs off, and extraction speed.

Everything runs on 127.0.0.1: a generated 2,000-page site (bench/site.py)
behind the fixture proxy, crawled by the real `scrapy crawl news`. Runs
alternate on/off to spread machine noise; the median of each is reported.
Results are printed and written to bench/results.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.site import BenchSite
from tests.fixtureserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent


def crawl_once(server: FixtureServer, site: BenchSite, work: Path, *, warc: bool, extract: bool) -> dict:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    stats_file = work / "stats.json"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={site.start_url()}",
           "-a", "depth=1000", "-a", f"max_pages={site.pages + 1}",
           "-s", f"WARC_ENABLED={warc}", "-s", f"EXTRACT_ENABLED={extract}",
           "-s", f"WARC_DIR={work / 'warc'}", "-s", f"CORPUS_DIR={work / 'corpus'}", "-s", "CORPUS_SEEDS=",
           "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=16",
           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=WARNING",
           "-s", f"CRAWL_STATS_FILE={stats_file}"]
    if not warc:
        # "Off" means stock Scrapy: no WARC middleware and no wire tee in the download handler.
        stock = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
        cmd += ["-s", json.dumps({"http": stock, "https": stock}).join(("DOWNLOAD_HANDLERS=", ""))]
    started = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env={**os.environ, **server.proxy_env()}, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    stats = json.loads(stats_file.read_text())
    pages = stats.get("downloader/response_count", 0)
    return {"pages": pages, "elapsed": stats["elapsed_time_seconds"],
            "pages_per_s": pages / stats["elapsed_time_seconds"], "wall_s": wall,
            "warc_bytes": sum(p.stat().st_size for p in (work / "warc").glob("*.warc.gz")) if warc else 0}


def bench_capture(pages: int, rounds: int) -> dict:
    site = BenchSite(pages)
    server = FixtureServer(site).start_background()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    on, off = [], []
    try:
        for _ in range(rounds):
            off.append(crawl_once(server, site, work / "off", warc=False, extract=False))
            on.append(crawl_once(server, site, work / "on", warc=True, extract=False))
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    med_on = statistics.median(r["pages_per_s"] for r in on)
    med_off = statistics.median(r["pages_per_s"] for r in off)
    return {"pages": on[0]["pages"], "rounds": rounds,
            "pages_per_s_warc_on": round(med_on, 1), "pages_per_s_warc_off": round(med_off, 1),
            "on_over_off": round(med_on / med_off, 3), "capture_cost_pct": round(100 * (1 - med_on / med_off), 1),
            "warc_bytes": on[0]["warc_bytes"], "runs": {"on": on, "off": off}}


def bench_extraction(repeat: int) -> dict:
    """Articles/s for extract_article alone on the fixture articles, one core."""
    from archive.extract import extract_article
    from crawler.sites import profile_for

    gold = REPO / "tests" / "fixtures" / "gold"
    web = REPO / "tests" / "fixtures" / "web"
    pages = []
    for expected in sorted(gold.rglob("*.txt")):
        rel = expected.relative_to(gold).with_suffix("")
        html = web / rel
        if html.is_file():
            pages.append((f"https://{rel.as_posix()}", html.read_bytes()))
    started = time.perf_counter()
    for _ in range(repeat):
        for url, body in pages:
            extract_article(body, url, profile_for(url).extraction)
    elapsed = time.perf_counter() - started
    count = repeat * len(pages)
    return {"articles": count, "distinct_pages": len(pages), "seconds": round(elapsed, 2),
            "articles_per_s": round(count / elapsed, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--extract-repeat", type=int, default=20)
    args = parser.parse_args(argv)
    results = {"machine": {"cores": os.cpu_count()},
               "extraction": bench_extraction(args.extract_repeat),
               "capture": bench_capture(args.pages, args.rounds)}
    (REPO / "bench" / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    c, e = results["capture"], results["extraction"]
    print(f"crawl of {c['pages']} local pages, median of {c['rounds']}: "
          f"WARC on {c['pages_per_s_warc_on']} pages/s, off {c['pages_per_s_warc_off']} pages/s "
          f"→ on/off {c['on_over_off']} (capture cost {c['capture_cost_pct']} %), {c['warc_bytes']:,} WARC bytes")
    print(f"extraction alone, one core: {e['articles_per_s']} articles/s "
          f"({e['articles']} extractions of {e['distinct_pages']} fixture articles)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
