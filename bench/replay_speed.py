"""Replay benchmarks: index build speed, replay-crawl vs live-crawl pages/s, lookup latency.

1. A live crawl of the generated local site (testbed/bench_site.py, through the
   fixture proxy on 127.0.0.1; WARC capture on, extraction off) makes an
   archive; its pages/s is the live figure.
2. `index_directory(--rebuild)` on that archive: WARC records/s and MB/s.
3. The same crawl with `-s ARCHIVE_REPLAY=` that archive (no proxy, no
   network, capture off, extraction off): replay pages/s. Crawls alternate,
   medians are reported.
4. Lookup latency in a synthetic 100,000-capture CDXJ index: `latest(url)`
   (SURT key + binary search + parse) for URLs present and absent.

Run: `.venv/bin/python -m bench.replay_speed [--pages 2000] [--rounds 3]`.
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
import time
from pathlib import Path

from archive.warc.cdxj import INDEX_NAME, index_directory

from archive.warc.cdxj_lookup import CdxjIndex, url_key
from testbed.bench_site import BenchSite
from testbed.fixtureserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent


def crawl(site: BenchSite, work: Path, *, server: FixtureServer | None = None, replay: Path | None = None) -> dict:
    """One `scrapy crawl news` of the bench site, live through `server` or from `replay`."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    stats_file = work / "stats.json"
    settings = {
        "WARC_DIR": work / "warc", "CORPUS_DIR": work / "corpus", "CORPUS_SEEDS": "", "EXTRACT_ENABLED": False,
        "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "LOG_LEVEL": "WARNING", "CRAWL_STATS_FILE": stats_file, "CRAWL_STATE": "",
        "CRAWL_REPORT": work / "runs.jsonl",
    }
    if replay is not None:
        settings["ARCHIVE_REPLAY"] = replay
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "requisites=none", "-a", f"urls={site.start_url()}",
           "-a", "depth=100000", "-a", f"max_pages={site.pages + 1}", "-a", "topic=none"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    env = {**os.environ, **(server.proxy_env() if server else {})}
    if server is None:  # replay: make sure no proxy could be used either
        env = {k: v for k, v in env.items() if k.lower() not in ("http_proxy", "https_proxy")}
    code = subprocess.call(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    if code:
        raise SystemExit(f"benchmark crawl failed (exit {code}): {' '.join(cmd)}")
    stats = json.loads(stats_file.read_text())
    pages = stats.get("downloader/response_count", 0)
    return {"pages": pages, "elapsed_s": round(stats["elapsed_time_seconds"], 2),
            "pages_per_s": round(pages / stats["elapsed_time_seconds"], 1),
            "replay_missing": stats.get("replay/missing", 0)}


def bench_index_build(archive: Path, rounds: int) -> dict:
    from archive.stats import collect_stats

    records = sum(collect_stats(sorted(archive.glob("*.warc.gz"))).records.values())
    size = sum(p.stat().st_size for p in archive.glob("*.warc.gz"))
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        summary = index_directory(archive, rebuild=True)
        times.append(time.perf_counter() - started)
    best = statistics.median(times)
    return {"warc_records": records, "captures_indexed": summary.captures, "warc_mb": round(size / 2**20, 1),
            "seconds": round(best, 3), "records_per_s": round(records / best),
            "compressed_mb_per_s": round(size / 2**20 / best, 1)}


def bench_replay_vs_live(pages: int, rounds: int) -> dict:
    site = BenchSite(pages)
    server = FixtureServer(site).start_background()
    work = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    try:
        archive_work = work / "archive"
        first = crawl(site, archive_work, server=server)  # the archive replay will read
        archive = archive_work / "warc"
        index = bench_index_build(archive, rounds)
        live, replayed = [first], []
        for n in range(rounds):
            replayed.append(crawl(site, work / "replay", replay=archive))
            if n + 1 < rounds:
                live.append(crawl(site, work / "live", server=server))
        med_live = statistics.median(r["pages_per_s"] for r in live)
        med_replay = statistics.median(r["pages_per_s"] for r in replayed)
        return {"pages": first["pages"], "rounds": rounds, "index": index,
                "live_pages_per_s": med_live, "replay_pages_per_s": med_replay,
                "replay_over_live": round(med_replay / med_live, 2),
                "replay_missing": replayed[0]["replay_missing"], "runs": {"live": live, "replay": replayed}}
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


def synthetic_index(path: Path, captures: int, seed: int = 1) -> list[str]:
    """A sorted CDXJ file of `captures` lines over realistic news URLs; returns the URLs."""
    rng = random.Random(seed)
    hosts = ["nhandan.vn", "thoidai.com.vn", "vietnamplus.vn", "baochinhphu.vn", "qdnd.vn", "vov.vn"]
    sections = ["chinhtri", "xahoi", "kinhte", "thegioi", "vanhoa", "the-thao"]
    urls = [f"https://{rng.choice(hosts)}/{rng.choice(sections)}/bai-viet-so-{n}-post{800000 + n}.html"
            for n in range(int(captures * 0.8))]
    lines = []
    for n in range(captures):
        url = urls[n % len(urls)]  # a fifth of the URLs are captured twice
        stamp = f"2024{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(0, 24):02d}0000"
        fields = {"url": url, "mime": "text/html", "status": "200",
                  "digest": f"sha1:{rng.getrandbits(160):040X}"[:37], "length": str(rng.randrange(2000, 90000)),
                  "offset": str(rng.randrange(0, 10**9)), "filename": f"news-{n // 20000:05d}.warc.gz"}
        lines.append(f"{url_key(url)} {stamp} {json.dumps(fields)}\n")
    lines.sort()
    path.write_text("".join(lines))
    return urls


def bench_lookup(captures: int, lookups: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    try:
        path = work / INDEX_NAME
        urls = synthetic_index(path, captures)
        rng = random.Random(2)
        present = [rng.choice(urls) for _ in range(lookups)]
        absent = [url.replace("bai-viet", "khong-co") for url in present]
        results = {"captures": captures, "index_mb": round(path.stat().st_size / 2**20, 1), "lookups": lookups}
        started = time.perf_counter()
        with CdxjIndex(path) as index:
            results["open_ms"] = round((time.perf_counter() - started) * 1000, 3)
            for name, batch in (("present", present), ("absent", absent)):
                latencies = []
                for url in batch:
                    began = time.perf_counter_ns()
                    found = index.latest(url)
                    latencies.append(time.perf_counter_ns() - began)
                    assert (found is not None) == (name == "present")
                latencies.sort()
                results[name] = {"mean_us": round(statistics.fmean(latencies) / 1000, 1),
                                 "p50_us": round(latencies[len(latencies) // 2] / 1000, 1),
                                 "p99_us": round(latencies[int(len(latencies) * 0.99)] / 1000, 1)}
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--captures", type=int, default=100_000, help="size of the synthetic lookup index")
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    results = {"machine": {"cores": os.cpu_count()}}
    results["lookup"] = lk = bench_lookup(args.captures, args.lookups)
    print(f"lookup in a {lk['captures']:,}-capture index ({lk['index_mb']} MB, opened in {lk['open_ms']} ms): "
          f"present p50 {lk['present']['p50_us']} µs, p99 {lk['present']['p99_us']} µs; "
          f"absent p50 {lk['absent']['p50_us']} µs", flush=True)
    results["replay"] = r = bench_replay_vs_live(args.pages, args.rounds)
    ix = r["index"]
    print(f"index build: {ix['warc_records']:,} WARC records ({ix['warc_mb']} MB gz) in {ix['seconds']} s "
          f"→ {ix['records_per_s']:,} records/s, {ix['compressed_mb_per_s']} MB/s", flush=True)
    print(f"crawl of {r['pages']} local pages (pages only: -a requisites=none), median of {r['rounds']}: live {r['live_pages_per_s']} pages/s, "
          f"replay {r['replay_pages_per_s']} pages/s → replay/live {r['replay_over_live']} "
          f"(missing in replay: {r['replay_missing']})", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
