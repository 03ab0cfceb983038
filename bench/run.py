"""`make bench`: crawl throughput and memory on a local generated site.

Everything runs on 127.0.0.1: a generated nhandan-style site (testbed/bench_site.py)
behind the fixture proxy, crawled by the real `scrapy crawl news`. Reported:
- the headline rows (bench/default_crawl.py): the crawl in its DEFAULT configuration (topic=auto,
  crawl state, extraction, requisites, capture) on 80–150 KB pages under nhandan.vn and under a
  host with no profile: pages/s ÷ one-core plain trafilatura, capture on/off, event-loop CPU ms
  a page (with a cProfile breakdown), peak RSS, start-up seconds;
- WARC capture on vs off (extraction off in both; "off": the same crawler with WARC_ENABLED=False):
  runs alternate to spread machine noise, medians reported;
- the full pipeline (fetch + archive + extract + corpus) vs extraction of the
  same page on one core: plain trafilatura (favor_precision, with metadata:
  issue #9's baseline) and our extractor (archive.extract.article, site hints);
- peak RSS of the crawler and its extraction workers at 2,000 and 20,000 pages (default configuration);
- extraction articles/s on the fixture articles, one core;
- re-extraction of the pipeline crawl's archive with `python -m archive extract`, articles/s;
- page requisites on (the default) vs `-a requisites=none` (bench/requisites.py). The other rows
  crawl with `requisites=none` (and say so): they measure pages alone, as they did before
  requisites existed, while the generated pages' images would otherwise be fetched too.
Results are printed and written to bench/results.json.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawler.extensions.memory import PeakRSS
from bench import capture_cost
from bench import default_crawl, scrapy_floor
from bench import requisites as requisites_bench
from testbed.bench_site import BenchSite, article_html, article_url
from testbed.fixtureserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent
PAGES_ONLY = "pages only: -a requisites=none"  # these rows measure pages, the requisites row the rest


def crawl_once(server: FixtureServer, site: BenchSite, work: Path, *, warc: bool, extract: bool) -> dict:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    stats_file = work / "stats.json"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "requisites=none", "-a", f"urls={site.start_url()}",
           "-a", "depth=100000", "-a", f"max_pages={site.pages + 1}", "-a", "topic=none",
           "-s", f"WARC_ENABLED={warc}", "-s", f"EXTRACT_ENABLED={extract}",
           "-s", f"WARC_DIR={work / 'warc'}", "-s", f"CORPUS_DIR={work / 'corpus'}", "-s", "CORPUS_SEEDS=",
           "-s", "CRAWL_STATE=", "-s", f"CRAWL_REPORT={work / 'runs.jsonl'}",
           "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=16",
           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=ERROR",
           "-s", f"CRAWL_STATS_FILE={stats_file}"]
    # "Off" is the same crawler with WARC_ENABLED=False: the default download handler
    # (crawler/downloadhandlers/wire.py) then keeps no copy of the wire, and no WARC middleware runs.
    # Until session 16 it was Scrapy's stock Twisted handler, which was then the cheaper client; the
    # wire handler is cheaper than it, so that "off" would flatter capture's cost.
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **server.proxy_env()},
                            stdout=subprocess.DEVNULL)
    with PeakRSS(proc.pid, interval=0.1) as rss:
        code = proc.wait()
    if code:
        raise SystemExit(f"benchmark crawl failed (exit {code}): {' '.join(cmd)}")
    wall = time.perf_counter() - started
    stats = json.loads(stats_file.read_text())
    pages = stats.get("downloader/response_count", 0)
    return {"pages": pages, "elapsed_s": round(stats["elapsed_time_seconds"], 2),
            "pages_per_s": round(pages / stats["elapsed_time_seconds"], 1), "wall_s": round(wall, 2),
            "peak_rss_mb": round(rss.peak / 2**20, 1),
            "articles_written": stats.get("corpus/written", 0),
            "warc_bytes": sum(p.stat().st_size for p in (work / "warc").glob("*.warc.gz")) if warc else 0}


def with_server(pages: int, body):
    site = BenchSite(pages)
    server = FixtureServer(site).start_background()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        return body(server, site, work)
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


def bench_capture(pages: int, rounds: int) -> dict:
    def body(server, site, work):
        on, off = [], []
        for _ in range(rounds):
            off.append(crawl_once(server, site, work / "off", warc=False, extract=False))
            on.append(crawl_once(server, site, work / "on", warc=True, extract=False))
        med_on = statistics.median(r["pages_per_s"] for r in on)
        med_off = statistics.median(r["pages_per_s"] for r in off)
        return {"pages": on[0]["pages"], "rounds": rounds,
                "pages_per_s_warc_on": med_on, "pages_per_s_warc_off": med_off,
                "on_over_off": round(med_on / med_off, 3), "capture_cost_pct": round(100 * (1 - med_on / med_off), 1),
                "warc_bytes": on[0]["warc_bytes"], "runs": {"on": on, "off": off}}
    return with_server(pages, body)


def _rate(extract, pages: list[tuple[bytes, str]], seconds: float) -> float:
    """Pages/s of `extract(body, url)` in this process (one core), cycling through distinct pages
    (one page over and over would flatter any extractor: warm caches, a predicted branch path)."""
    extract(*pages[0])
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        extract(*pages[count % len(pages)])
        count += 1
    return count / (time.perf_counter() - started)


def one_core_extraction_rates(seconds: float = 8.0, distinct: int = 200) -> dict:
    """Pages/s on the bench's pages, one core: plain trafilatura as issue #9 defines the baseline
    (favor_precision, with metadata), and our extractor (archive.extract.article, with the site hints)."""
    import trafilatura
    from archive.extract.article import extract_article
    from archive.sites import profile_for

    pages = [(article_html(n, 2000), article_url(n)) for n in range(distinct)]
    hints = profile_for(pages[0][1]).extraction
    return {
        "page_bytes": round(statistics.mean(len(body) for body, _ in pages)),
        "distinct_pages": distinct,
        "trafilatura": round(_rate(lambda body, url: trafilatura.bare_extraction(
            body.decode("utf-8"), url=url, favor_precision=True, with_metadata=True), pages, seconds), 1),
        "ours": round(_rate(lambda body, url: extract_article(body, url, hints), pages, seconds), 1),
    }


def reextract_once(warc_dir: Path, out: Path) -> dict:
    """`python -m archive extract` over a crawl's WARC files, as a user runs it (all cores):
    article pages re-extracted per second of the whole command, start-up included."""
    cmd = [sys.executable, "-m", "archive", "extract", "--no-seeds", "--out", str(out), str(warc_dir)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"re-extraction failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    found = re.search(r"re-extracted (\d+) article pages", proc.stdout)
    if not found:
        raise SystemExit(f"re-extraction printed no summary: {proc.stdout[-2000:]}")
    articles = int(found.group(1))
    return {"articles": articles, "seconds": round(seconds, 2), "articles_per_s": round(articles / seconds, 1),
            "written": len(list(out.glob("*.txt")))}


def bench_pipeline(pages: int, rounds: int) -> dict:
    """Rounds alternate the one-core rates, the crawl and the re-extraction of its archive, so
    machine noise hits all alike; medians."""
    def body(server, site, work):
        ones, runs, again = [], [], []
        for _ in range(rounds):
            ones.append(one_core_extraction_rates())
            runs.append(crawl_once(server, site, work / "full", warc=True, extract=True))
            again.append(reextract_once(work / "full" / "warc", work / "full" / "re-extracted"))
        return ones, runs, again
    ones, runs, again = with_server(pages, body)
    one_core = {key: statistics.median(o[key] for o in ones) for key in ones[0]}
    pipeline = statistics.median(r["pages_per_s"] for r in runs)
    return {"rounds": rounds, "one_core_pages_per_s": one_core, "pipeline_pages_per_s": pipeline,
            "pipeline_over_one_core_trafilatura": round(pipeline / one_core["trafilatura"], 2),
            "pipeline_over_one_core_ours": round(pipeline / one_core["ours"], 2),
            "reextraction_articles_per_s": statistics.median(r["articles_per_s"] for r in again),
            "runs": runs, "one_core_runs": ones, "reextraction_runs": again}


def bench_memory(small: int, large: int) -> dict:
    """Peak RSS of the whole process tree, default configuration (bench/default_crawl.py)."""
    from testbed.bench_site import HOST

    def run(pages: int) -> dict:
        work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
        try:
            return default_crawl.with_site(pages, HOST, lambda site: default_crawl.crawl(site, work / "m"))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    runs = {n: run(n) for n in (small, large)}
    return {"pages": {str(n): r for n, r in runs.items()},
            "peak_rss_ratio": round(runs[large]["peak_rss_mb"] / runs[small]["peak_rss_mb"], 2)}


def bench_extraction(repeat: int) -> dict:
    """Articles/s for extract_article alone on the fixture articles, one core."""
    from archive.extract.article import extract_article
    from archive.sites import profile_for

    gold, web = REPO / "tests" / "fixtures" / "gold", REPO / "tests" / "fixtures" / "web"
    pages = []
    for expected in sorted(gold.rglob("*.txt")):
        html = web / expected.relative_to(gold).with_suffix("")
        if html.is_file():
            pages.append((f"https://{html.relative_to(web).as_posix()}", html.read_bytes()))
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
    parser.add_argument("--large", type=int, default=20000, help="pages for the memory run (0: skip)")
    parser.add_argument("--only", choices=("default", "capture", "pipeline", "memory", "requisites"), action="append",
                        help="run only these parts (repeatable); results.json keeps the other parts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--extract-repeat", type=int, default=20)
    args = parser.parse_args(argv)
    parts = set(args.only or ("default", "capture", "pipeline", "memory", "requisites"))
    results_path = REPO / "bench" / "results.json"
    results = json.loads(results_path.read_text()) if args.only and results_path.exists() else {}
    results["machine"] = {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()}
    if "default" in parts:
        from bench.default_site import GENERIC_HOST
        from testbed.bench_site import HOST

        work = Path(tempfile.mkdtemp(prefix="bench-default-"))
        try:
            # The breakdown by component: cProfile (calls, CPU clock), and py-spy samples when installed.
            sample = Path(default_crawl.py_spy()).exists()
            results["default"] = {host: default_crawl.run_host(args.pages, host, work / host, rounds=args.rounds,
                                                               profile=True, sample=sample)
                                  for host in (HOST, GENERIC_HOST)}
            results["default_scrapy_floor"] = default_crawl.with_site(
                args.pages, HOST, lambda site: scrapy_floor.floor_crawl(site, work / "floor.log"))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for row in results["default"].values():
            print(default_crawl.describe(row), flush=True)
        print(f"stock Scrapy on the same requests, a spider that does nothing (bench/scrapy_floor.py): "
              f"event loop {results['default_scrapy_floor']['loop_cpu_ms_per_page']} ms CPU a page", flush=True)
    results["extraction"] = e = bench_extraction(args.extract_repeat)
    print(f"extraction alone, one core: {e['articles_per_s']} articles/s "
          f"({e['articles']} extractions of {e['distinct_pages']} fixture articles)", flush=True)
    if "capture" in parts:
        results["capture"] = c = bench_capture(args.pages, args.rounds)
        c["middleware_cpu_us_per_page"] = {w: capture_cost.measure(writer=w)["cpu_us_per_page"]
                                           for w in ("process", "thread")}
        print(f"crawl of {c['pages']} local pages ({PAGES_ONLY}), median of {c['rounds']}: "
              f"WARC on {c['pages_per_s_warc_on']} pages/s, off {c['pages_per_s_warc_off']} pages/s "
              f"→ on/off {c['on_over_off']} (capture cost {c['capture_cost_pct']} %), "
              f"{c['warc_bytes']:,} WARC bytes; the capture middleware alone (bench/capture_cost.py): "
              f"{c['middleware_cpu_us_per_page']['process']} µs of crawler CPU a page with the writer process, "
              f"{c['middleware_cpu_us_per_page']['thread']} µs with a writer thread", flush=True)
    if "pipeline" in parts:
        results["pipeline"] = p = bench_pipeline(args.pages, args.rounds)
        one = p["one_core_pages_per_s"]
        print(f"full pipeline ({PAGES_ONLY}), median of {p['rounds']}: {p['pipeline_pages_per_s']} pages/s; one core on the same "
              f"{one['page_bytes']:,}-byte pages: trafilatura {one['trafilatura']} pages/s "
              f"(ratio {p['pipeline_over_one_core_trafilatura']}), our extractor {one['ours']} pages/s "
              f"(ratio {p['pipeline_over_one_core_ours']})", flush=True)
        r = p["reextraction_runs"][0]
        print(f"re-extraction of that crawl's archive, python -m archive extract, median of {p['rounds']}: "
              f"{p['reextraction_articles_per_s']} articles/s ({r['articles']} article pages, "
              f"{r['written']} written; start-up included)", flush=True)
    if "memory" in parts and args.large:
        results["memory"] = m = bench_memory(args.pages, args.large)
        print("peak RSS (every process of the crawl; default configuration, requisites on): " + ", ".join(
            f"{n} pages {r['peak_rss_mb']} MB" for n, r in m["pages"].items())
            + f" → ratio {m['peak_rss_ratio']}", flush=True)
    if "requisites" in parts:
        results["requisites"] = q = requisites_bench.bench_requisites(min(args.rounds, 2))
        print(requisites_bench.describe(q), flush=True)
    results_path.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
