"""`make bench-distributed`: crawl pages/s of 1, 2 and 3 processes sharing one Redis frontier.

A generated nhandan-style site (testbed/bench_site.py) behind the fixture proxy, with
a fixed latency on every page (default 50 ms, like a distant server), is
crawled by N real `scrapy crawl news` processes in distributed mode against a
throwaway redis-server on 127.0.0.1. Each process is polite
(CONCURRENT_REQUESTS_PER_DOMAIN=2, `--per-domain`; AutoThrottle off so runs
are comparable), so one process is latency-bound and more processes
should add throughput until the CPU (this machine's cores, shared with the
server) is the limit. pages/s counts every page fetched between the first and
the last page request the site saw (start-up and the idle wait at the end are
not crawling). Results are printed and written to bench/results-distributed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from testbed.bench_site import BenchSite
from testbed.fixtureserver import FixtureServer, Reply

REPO = Path(__file__).resolve().parent.parent


class LatencySite(BenchSite):
    """BenchSite with a delay on every page and the time of every page request."""

    def __init__(self, pages: int, delay: float):
        super().__init__(pages)
        self.delay = delay
        self.times: list[float] = []
        self._times_lock = threading.Lock()

    def resolve(self, host: str, path_qs: str) -> Reply:
        reply = super().resolve(host, path_qs)
        if path_qs != "/robots.txt":
            reply.delay = self.delay
            with self._times_lock:
                self.times.append(time.monotonic())
        return reply


def start_redis(directory: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("error: redis-server not found (run `make redis` once, or apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory),
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    import redis
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("error: redis-server did not start")


def crawl(processes: int, pages: int, delay: float, per_domain: int, work: Path, redis_url: str) -> dict:
    """N processes on Redis; `processes=0`: one plain process, no Redis (the overhead baseline)."""
    import redis

    redis.Redis.from_url(redis_url).flushall()
    plain = processes == 0
    site = LatencySite(pages, delay)
    server = FixtureServer(site).start_background()
    env = {**os.environ, **server.proxy_env()}
    env.pop("REDIS_URL", None)
    procs = []
    try:
        # Seed first: a crawler that finds nothing to do ends after REDIS_IDLE_TIMEOUT.
        if not plain:
            subprocess.run([sys.executable, "-m", "crawler", "enqueue", "--redis-url", redis_url, site.start_url()],
                           cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        for i in range(max(processes, 1)):
            out = work / f"n{processes}" / f"p{i}"
            out.mkdir(parents=True)
            cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "requisites=none", "-a", "topic=none", "-a", "depth=100000"]
            if plain:
                cmd += ["-a", f"urls={site.start_url()}", "-s", "CRAWL_STATE="]
            for name, value in {
                "REDIS_URL": "" if plain else redis_url, "REDIS_IDLE_TIMEOUT": 2, "WARC_DIR": out.parent / "warc",
                "CORPUS_DIR": out.parent / "corpus", "CORPUS_SEEDS": "", "EXTRACT_ENABLED": False,
                "CRAWL_REPORT": out / "runs.jsonl", "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
                "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain, "LOG_LEVEL": "WARNING",
                "CRAWL_STATS_FILE": out / "stats.json",
            }.items():
                cmd += ["-s", f"{name}={value}"]
            procs.append(subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                          stderr=(out / "stderr.txt").open("w")))
        codes = [p.wait(1800) for p in procs]
        if any(codes):
            raise SystemExit(f"a crawler failed ({codes}); logs under {work}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        server.shutdown()
    times = sorted(site.times)
    fetched = len(times)
    span = times[-1] - times[0]
    per_process = [json.loads((work / f"n{processes}" / f"p{i}" / "stats.json").read_text())
                   .get("downloader/response_count", 0) for i in range(max(processes, 1))]
    return {"processes": processes, "pages_fetched": fetched, "distinct": len(set(site.hits)) - 1,
            "seconds": round(span, 2), "pages_per_s": round(fetched / span, 1), "per_process": per_process}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1500)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds of latency per page (0.05)")
    parser.add_argument("--per-domain", type=int, default=2, help="CONCURRENT_REQUESTS_PER_DOMAIN per process")
    parser.add_argument("--processes", default="1,2,3", help="process counts to run; 0 = one plain process without Redis")
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain (no Redis) single-process run")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results-distributed.json")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-distributed-"))
    redis_proc, redis_url = start_redis(work)
    try:
        runs, baseline = [], None
        counts = [int(x) for x in args.processes.split(",")]
        for n in ([0] if not args.no_baseline and 0 not in counts else []) + counts:
            run = crawl(n, args.pages, args.delay, args.per_domain, work, redis_url)
            print(f"{n or 'plain, 1'} process(es): {run['pages_fetched']} pages (pages only: -a requisites=none) in "
                  f"{run['seconds']} s = "
                  f"{run['pages_per_s']} pages/s (per process {run['per_process']})", flush=True)
            if n == 0:
                baseline = run
            else:
                runs.append(run)
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    base = runs[0]["pages_per_s"]
    for run in runs:
        run["scaling"] = round(run["pages_per_s"] / base, 2)
    print("scaling vs 1 process: " + ", ".join(f"{r['processes']}: {r['scaling']}x" for r in runs))
    result = {"machine": {"cores": os.cpu_count(), "load_avg_at_end": os.getloadavg()}, "pages": args.pages,
              "delay_s": args.delay, "per_domain": args.per_domain, "plain_one_process": baseline, "runs": runs}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
