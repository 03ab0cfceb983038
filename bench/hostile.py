"""`make bench-hostile`: what hostile pages cost a crawl (issue #22), on 127.0.0.1 only.

Each case is one run of the real `scrapy crawl news` from one seed, through the
fixture proxy serving a `HostileSite` (bench/hostile_site.py), which records
every URL asked and forwards nothing. Default settings, except output paths,
AutoThrottle off (its start delay is politeness, not work) and no topic filter.
For each: peak RSS of all crawl processes (crawler, extraction workers, WARC
writer; sampled every 50 ms), seconds from start to exit, and what was
recorded (refusals, pages not parsed, links read). Then the archive's own
readers (`python -m archive check | index | extract`, and a replay crawl) run
over the archive holding the bomb. Targets (issue #22): no request to a non-public address;
bomb: peak RSS <= 1 GB, the crawl finishes, the WARC is valid; 300,000 links:
<= 10 s and <= 400 MB. Results are printed and written to
bench/results-hostile.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.hostile_site import HostileSite, deep_nest, gzip_bomb, link_flood, meta_refresh, redirect
from testbed.bench_site import article_html
from crawler.extensions.memory import PeakRSS
from testbed.fixtureserver import FixtureServer, Reply

REPO = Path(__file__).resolve().parent.parent
ND = "http://nhandan.vn"
MB = 1024 * 1024
INTERNAL = ("169.254.169.254", "127.0.0.1", "localhost", "10.0.0.7")
# A realistic ~80 KB nhandan article (testbed/bench_site.py), for what a page costs when it is not hostile.
NORMAL = Reply(body=article_html(1, 100), headers=[("Content-Type", "text/html; charset=utf-8")], encoding="identity")


def build_site() -> tuple[HostileSite, dict[str, str]]:
    site = HostileSite()
    seeds = {
        "normal 80 KB article (baseline)": site.add(f"{ND}/binh-thuong-post1.html", NORMAL),
        "gzip bomb, 200 MB inflated": site.add(f"{ND}/bom-post2.html", gzip_bomb(200 * MB)),
        "300,000 links (19 MB)": site.add(f"{ND}/lien-ket-post3.html", link_flood(300_000)),
        "200,000-deep nested page": site.add(f"{ND}/long-nhau-post4.html", deep_nest(200_000)),
        "45,000 links (under the tag bound)": site.add(f"{ND}/lien-ket-vua-post5.html", link_flood(45_000)),
        "redirect, meta refresh, sitemap to internal addresses": site.add(
            f"{ND}/chuyen-huong-post6.html", redirect("http://169.254.169.254/latest/meta-data/iam/")),
    }
    site.add(f"{ND}/lam-moi-post7.html", meta_refresh("http://127.0.0.1:6379/"))
    site.add("https://nhandan.vn/robots.txt", Reply(
        body=b"User-agent: *\nSitemap: http://10.0.0.7/sitemap.xml\nSitemap: http://localhost/s.xml\n",
        headers=[("Content-Type", "text/plain")], encoding="identity"))
    return site, seeds


def crawl(server: FixtureServer, work: Path, urls: list[str], *extra: str) -> dict:
    work.mkdir(parents=True)
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={','.join(urls)}", "-a", "topic=none", *extra,
           "-s", f"WARC_DIR={work / 'warc'}", "-s", f"CORPUS_DIR={work / 'corpus'}", "-s", "CORPUS_SEEDS=",
           "-s", "CRAWL_STATE=", "-s", f"CRAWL_REPORT={work / 'runs.jsonl'}", "-s", "AUTOTHROTTLE_ENABLED=False",
           "-s", f"LOG_FILE={work / 'crawl.log'}", "-s", f"CRAWL_STATS_FILE={work / 'stats.json'}"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **server.proxy_env()}, stdout=subprocess.DEVNULL)
    with PeakRSS(proc.pid, interval=0.05) as rss:
        code = proc.wait()
    seconds = time.perf_counter() - started
    stats = json.loads((work / "stats.json").read_text()) if (work / "stats.json").exists() else {}
    return {"exit": code, "seconds": round(seconds, 2), "peak_rss_mb": round(rss.peak / MB), "stats": stats}


def archive_tool(work: Path, *args: str) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "archive", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    with PeakRSS(proc.pid, interval=0.05) as rss:
        output, _ = proc.communicate()
    return {"command": f"python -m archive {' '.join(a if not a.startswith('/') else Path(a).name for a in args)}",
            "exit": proc.returncode, "seconds": round(time.perf_counter() - started, 2),
            "peak_rss_mb": round(rss.peak / MB), "output": output.strip().splitlines()[-1] if output.strip() else ""}


def recorded(stats: dict) -> str:
    """What the crawl recorded about the page, from its stats."""
    parts = [f"{stats.get('downloader/response_count', 0)} responses",
             f"{stats.get('warc/records', 0)} WARC records"]
    for key, label in (("refused/non_public_address", "refused non-public"), ("refused/too_large", "refused too large"),
                       ("pages/not_parsed", "not parsed"), ("pages/extraction_timed_out", "extraction timed out"),
                       ("pages/links_capped", "links capped"), ("news/skipped_max_pages", "links read, not followed"),
                       ("corpus/written", "articles written")):
        if stats.get(key):
            parts.append(f"{label} {stats[key]}")
    return ", ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the crawl directories")
    args = parser.parse_args(argv)
    site, seeds = build_site()
    server = FixtureServer(site).start_background()
    root = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    results: dict = {"cases": {}, "archive_readers_on_the_bomb": []}
    try:
        for n, (name, seed) in enumerate(seeds.items()):
            urls, extra = [seed], ("-a", "depth=0")
            if "links" in name:  # links are read (depth 1) but not fetched: max_pages counts the seed
                extra = ("-a", "depth=1", "-a", "max_pages=1")
            if "internal" in name:  # and discovery, which reads robots.txt's Sitemap: lines
                urls, extra = [seed, f"{ND}/lam-moi-post7.html"], ("-a", "depth=1", "-a", "since=all")
            result = crawl(server, root / f"case{n}", urls, *extra)
            result["recorded"] = recorded(result.pop("stats"))
            results["cases"][name] = result
            print(f"{name:55} {result['seconds']:6.2f} s  {result['peak_rss_mb']:5d} MB  "
                  f"exit {result['exit']}  {result['recorded']}", flush=True)
        internal_hits = [hit for host in INTERNAL for hit in site.hits_on(host)]
        results["requests_to_non_public_addresses"] = len(internal_hits)
        print(f"requests that reached the proxy for a non-public address: {len(internal_hits)}")
        bomb_warc = root / "case1" / "warc"
        for tool in (("check", str(bomb_warc)), ("index", "--rebuild", str(bomb_warc)),
                     ("extract", str(bomb_warc), "--out", str(root / "reextract"), "--no-seeds")):
            result = archive_tool(root, *tool)
            results["archive_readers_on_the_bomb"].append(result)
            print(f"{result['command']:55} {result['seconds']:6.2f} s  {result['peak_rss_mb']:5d} MB  "
                  f"exit {result['exit']}  {result['output']}", flush=True)
        replay = crawl(server, root / "replay", [seeds["gzip bomb, 200 MB inflated"]], "-a", "depth=0",
                       "-s", f"ARCHIVE_REPLAY={bomb_warc}")
        replay["command"], replay["output"] = "scrapy crawl news -s ARCHIVE_REPLAY=warc", recorded(replay.pop("stats"))
        results["archive_readers_on_the_bomb"].append(replay)
        print(f"{replay['command']:55} {replay['seconds']:6.2f} s  {replay['peak_rss_mb']:5d} MB  "
              f"exit {replay['exit']}  {replay['output']}", flush=True)
        bomb, links = results["cases"]["gzip bomb, 200 MB inflated"], results["cases"]["300,000 links (19 MB)"]
        results["targets"] = {
            "no request to a non-public address": len(internal_hits) == 0,
            "bomb: peak RSS <= 1 GB, crawl finishes, WARC valid": bomb["peak_rss_mb"] <= 1024 and bomb["exit"] == 0
            and results["archive_readers_on_the_bomb"][0]["exit"] == 0,
            "300,000 links: <= 10 s and <= 400 MB": links["seconds"] <= 10 and links["peak_rss_mb"] <= 400,
        }
        for target, met in results["targets"].items():
            print(f"target {'met' if met else 'MISSED'}: {target}")
    finally:
        server.shutdown()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")
    (REPO / "bench" / "results-hostile.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
