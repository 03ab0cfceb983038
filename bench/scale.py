"""`make bench-scale`: does the per-page cost stay flat as the corpus grows (issue #25)?

Two parts, both on 127.0.0.1 only:
- lookup: the containment look-up (archive/corpus/neardup/shingle_index.py) alone against
  synthetic indexes of 10,000, 100,000 and 1,000,000 articles whose sample
  hashes have realistic frequencies: a few in every article, a Zipf tail of
  stock phrases, the rest the article's own. Milliseconds per page for new
  articles (no match) and for syndicated copies (must be found), beside the
  look-up this one replaced (every posting of every hash);
- crawl: one default crawl (topic=auto, crawl state, extraction, 16 requests
  at a time, 16 per domain, AutoThrottle off) of 20,000 distinct generated
  article pages (bench/scale_site.py) through the fixture proxy. The manifest
  and the process tree's RSS are sampled as the corpus grows: pages/s over
  the first and the last 2,000 articles, peak RSS at 2,000 and at 20,000;
  each window's CPU a page by component (crawler process, extraction workers,
  WARC writer) beside a speed probe (`SpeedProbe`: constant work timed in
  thread CPU), so a rise in CPU a page can be told from a slower machine.
Results are printed and written to bench/results-scale.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from archive.corpus.neardup.fingerprint import least_count
from archive.corpus.neardup.shingle_index import ShingleIndex
from bench import proc_cpu
from bench.proc_cpu import WarcWriterPids, stat_cpu
from bench.scale_site import ScaleSite
from bench.speed_probe import SpeedProbe
from crawler.extensions.memory import PeakRSS, _children, tree_rss
from testbed.fixtureserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results-scale.json"
THRESHOLD = 0.8  # Corpus's default containment threshold

# --------------------------------------------------------------------------- lookup
# One article's sample, as measured on bench/scale_site.py pages (~145 hashes, 3 in every
# article, ~12 shared with a long tail): UNIVERSAL + STOCK drawn with Zipf weights + OWN.
UNIVERSAL, STOCK, OWN = 3, 12, 110
STOCK_POOL, ZIPF_S = 100_000, 1.1


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: distinct inputs, well-spread 64-bit outputs (as int64, as SQLite keeps them)."""
    x = x.astype(np.uint64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (x ^ (x >> np.uint64(31))).view(np.int64)


class SyntheticCorpus:
    """The sample hashes of `articles` articles, reproducible article by article."""

    def __init__(self, articles: int, seed: int = 25):
        self.articles = articles
        rng = np.random.default_rng(seed)
        weights = 1 / np.arange(1, STOCK_POOL + 1) ** ZIPF_S
        self.stock = rng.choice(STOCK_POOL, size=(articles, STOCK), p=weights / weights.sum()).astype(np.int64)

    @staticmethod
    def universal() -> np.ndarray:
        return _mix(np.arange(UNIVERSAL) + (1 << 62))

    def stock_hashes(self, rows) -> np.ndarray:
        return _mix(self.stock[rows] + (1 << 61))

    @staticmethod
    def own(articles: np.ndarray, count: int = OWN) -> np.ndarray:
        return _mix(articles[:, None] * 128 + np.arange(count))

    def sample(self, article: int) -> list[int]:
        return sorted({*self.universal().tolist(), *self.stock_hashes(article).tolist(),
                       *self.own(np.array([article]))[0].tolist()})

    def postings(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, file ids) of articles start..stop-1 (file id = article + 1), unsorted."""
        articles = np.arange(start, stop)
        hashes = np.concatenate([np.broadcast_to(self.universal(), (len(articles), UNIVERSAL)),
                                 self.stock_hashes(slice(start, stop)), self.own(articles)], axis=1)
        files = np.broadcast_to((articles + 1)[:, None], hashes.shape)
        return hashes.ravel(), files.ravel()


def build_index(path: Path, corpus: SyntheticCorpus) -> dict:
    """An index as ShingleIndex writes it (same schema), filled in key order in one transaction."""
    started = time.perf_counter()
    ShingleIndex(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")  # the build only: nothing to protect yet
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    hashes, files = corpus.postings(0, corpus.articles)
    order = np.lexsort((files, hashes))
    hashes, files = hashes[order], files[order]
    keep = np.ones(len(hashes), dtype=bool)  # a hash twice in one article: one posting, as INSERT OR IGNORE
    keep[1:] = (hashes[1:] != hashes[:-1]) | (files[1:] != files[:-1])
    hashes, files = hashes[keep], files[keep]
    db.execute("BEGIN")
    db.executemany("INSERT INTO files (id, name, size, mtime_ns) VALUES (?, ?, 1, 1)",
                   ((n + 1, f"{n:07d}_x.txt") for n in range(corpus.articles)))
    step = 1_000_000
    for start in range(0, len(hashes), step):
        db.executemany("INSERT INTO postings VALUES (?, ?)",
                       zip(hashes[start:start + step].tolist(), files[start:start + step].tolist()))
    db.execute("COMMIT")
    db.close()
    return {"postings": int(len(hashes)), "build_s": round(time.perf_counter() - started, 1),
            "index_mb": round(path.stat().st_size / 2**20)}


def old_hits(index: ShingleIndex, sample: list[int]) -> Counter:
    """The look-up before issue #25: every posting of every sampled hash, counted per file."""
    counts: Counter = Counter()
    for start in range(0, len(sample), 900):
        chunk = sample[start:start + 900]
        counts.update(fid for (fid,) in index._db.execute(
            f"SELECT file FROM postings WHERE h IN ({','.join('?' * len(chunk))})", chunk))
    return counts


def _ms_per_call(fn, samples) -> float:
    started = time.perf_counter()
    for sample in samples:
        fn(sample)
    return 1000 * (time.perf_counter() - started) / len(samples)


def _vm_steps(index: ShingleIndex, fn, samples) -> int:
    """SQLite virtual-machine steps per call (to the nearest 10): the work done, free of machine noise."""
    steps = [0]

    def tick() -> int:
        steps[0] += 10
        return 0
    index._db.set_progress_handler(tick, 10)
    try:
        for sample in samples:
            fn(sample)
    finally:
        index._db.set_progress_handler(None, 0)
    return round(steps[0] / len(samples))


class LookupCase:
    """One synthetic index and its queries: new articles (must match nothing) and syndicated copies
    of indexed ones (their sample minus 10 own hashes, plus 12 new ones: another sapo and byline)."""

    def __init__(self, articles: int, work: Path, queries: int):
        corpus = SyntheticCorpus(articles)
        self.articles = articles
        self.path = work / f"index-{articles}.sqlite"
        self.built = build_index(self.path, corpus)
        others = SyntheticCorpus(queries, seed=articles)
        self.fresh = [sorted({*corpus.universal().tolist(), *others.stock_hashes(i).tolist(),
                              *corpus.own(np.array([10 * articles + i]))[0].tolist()}) for i in range(queries)]
        self.originals = np.random.default_rng(articles).choice(articles, size=queries, replace=False)
        self.copies = []
        for n, j in enumerate(self.originals):
            kept = set(corpus.sample(int(j))) - set(corpus.own(np.array([j]))[0, :10].tolist())
            self.copies.append(sorted(kept | set(corpus.own(np.array([20 * articles + n]), 12)[0].tolist())))
        self.index = ShingleIndex(self.path)
        for sample in self.fresh[:20] + self.copies[:20]:  # warm the caches, as a running crawl has them
            self.lookup(sample)

    def lookup(self, sample: list[int]) -> Counter:
        return self.index.hits(sample, at_least=least_count(THRESHOLD, len(sample)))

    def close(self) -> None:
        self.index.close()
        self.path.unlink()


def bench_lookup(sizes: list[int], work: Path, queries: int, rounds: int) -> list[dict]:
    """All indexes are built first, then measured in turn, `rounds` times: machine noise hits every
    size alike; medians. The old look-up is timed on as many new articles as take ~2 s at most."""
    cases = []
    try:
        for articles in sizes:
            cases.append(LookupCase(articles, work, queries))
            print(f"  index of {articles:,} articles: {cases[-1].built['postings']:,} postings, "
                  f"{cases[-1].built['index_mb']} MB, built in {cases[-1].built['build_s']} s", flush=True)
        new_ms: dict[int, list[float]] = {c.articles: [] for c in cases}
        copy_ms: dict[int, list[float]] = {c.articles: [] for c in cases}
        for _ in range(rounds):
            for case in cases:
                new_ms[case.articles].append(_ms_per_call(case.lookup, case.fresh))
                copy_ms[case.articles].append(_ms_per_call(case.lookup, case.copies))
        results = []
        for case in cases:
            old_queries = max(3, min(queries, 2_000_000 // case.articles))
            old = case.fresh[:old_queries]
            results.append({
                "articles": case.articles, **case.built, "queries": queries, "rounds": rounds,
                "ms_per_page_new_article": round(statistics.median(new_ms[case.articles]), 3),
                "ms_per_page_copy": round(statistics.median(copy_ms[case.articles]), 3),
                "vm_steps_per_page_new_article": _vm_steps(case.index, case.lookup, case.fresh),
                "vm_steps_per_page_copy": _vm_steps(case.index, case.lookup, case.copies),
                "copies_found": sum(int(j) + 1 in case.lookup(sample)
                                    for j, sample in zip(case.originals, case.copies)),
                "new_articles_matched": sum(len(case.lookup(sample)) for sample in case.fresh),
                "old_ms_per_page_new_article": round(_ms_per_call(lambda s: old_hits(case.index, s), old), 2),
                "old_vm_steps_per_page_new_article": _vm_steps(case.index, lambda s: old_hits(case.index, s), old),
                "old_queries": old_queries})
        return results
    finally:
        for case in cases:
            case.close()


# --------------------------------------------------------------------------- crawl
class TreeCPU:
    """CPU seconds (user + system) used so far by a process and its descendants (crawler.extensions.memory's
    tree): the crawl's cost per page, much less sensitive than wall time to other jobs on the
    machine. A process that has exited keeps the last figure read from it."""

    def __init__(self, pid: int):
        self.pid = pid
        self._seen: dict[int, float] = {}
        self._warc = WarcWriterPids()  # the WARC writer's process (archive/warc/process.py)

    def own(self) -> float:
        """The crawler process's own share of the last `seconds()` (the rest: workers, WARC writer)."""
        return self._seen.get(self.pid, 0.0)

    def warc_writer(self) -> float:
        """The WARC writer process's share of the last `seconds()`."""
        return sum(self._seen.get(pid, 0.0) for pid in self._warc)

    def seconds(self) -> float:
        stack = [self.pid]
        while stack:
            current = stack.pop()
            try:
                self._seen[current] = stat_cpu(f"/proc/{current}/stat")
            except (OSError, IndexError, ValueError):
                continue
            if current != self.pid:
                self._warc.check(current)
            stack += _children(current)
        return sum(self._seen.values())


def machine_cpu() -> tuple[float, float]:
    """(busy, iowait) CPU seconds of the whole machine since boot, all cores (/proc/stat): whether a
    slower stretch of the crawl had the machine to itself or shared it with other jobs."""
    try:
        cpu = proc_cpu.machine_cpu()
    except (OSError, ValueError):
        return 0.0, 0.0
    return cpu["busy"] + cpu["steal"], cpu["iowait"]


class ManifestCounter:
    """Articles written so far (full, non-seed manifest lines), read incrementally."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.written = 0
        self._partial = b""

    def poll(self) -> int:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return self.written
        self.offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if line.strip():
                entry = json.loads(line)
                self.written += "update" not in entry and not entry.get("seed")
        return self.written


def crawl_scale(pages: int, work: Path, window: int, interval: float) -> dict:
    started_build = time.perf_counter()
    site = ScaleSite(pages)
    print(f"  {pages:,} pages rendered in {time.perf_counter() - started_build:.0f} s", flush=True)
    server = FixtureServer(site).start_background()
    work.mkdir(parents=True, exist_ok=True)
    stats_file = work / "stats.json"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={site.start_url()}",
           "-a", "depth=100000", "-a", f"max_pages={pages + 1}",
           "-s", f"WARC_DIR={work / 'warc'}", "-s", f"CORPUS_DIR={work / 'corpus'}",
           "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=16",
           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=INFO",
           "-s", f"LOG_FILE={work / 'crawl.log'}", "-s", f"CRAWL_STATS_FILE={stats_file}"]
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **server.proxy_env()},
                                stdout=subprocess.DEVNULL)
        counter = ManifestCounter(work / "corpus" / "manifest.jsonl")
        # (s, articles written, pages served, crawl CPU s, tree RSS MB, machine busy CPU s, machine iowait s,
        #  crawler process's own CPU s, requisites served, WARC writer CPU s, probe runs, probe CPU s)
        timeline: list[tuple] = []
        cpu = TreeCPU(proc.pid)
        peak_at_window = None
        with PeakRSS(proc.pid, interval=0.1) as peak, SpeedProbe() as probe:
            while proc.poll() is None:
                written = counter.poll()
                rss = tree_rss(proc.pid)
                timeline.append((round(time.perf_counter() - started, 2), written, site.served,
                                 round(cpu.seconds(), 2), round(rss / 2**20, 1), *map(round, machine_cpu(), (2, 2)),
                                 round(cpu.own(), 2), site.requisites_served, round(cpu.warc_writer(), 2),
                                 probe.runs, round(probe.cpu_s, 4)))
                if peak_at_window is None and written >= window:
                    peak_at_window = peak.sample()
                if len(timeline) % int(20 / interval) == 0:
                    print(f"  {timeline[-1][0]:5.0f} s: {written:6,} articles, RSS {rss / 2**20:.0f} MB", flush=True)
                time.sleep(interval)
        code = proc.returncode
    finally:
        server.shutdown()
    if code:
        raise SystemExit(f"benchmark crawl failed (exit {code}); log: {work / 'crawl.log'}")
    stats = json.loads(stats_file.read_text())
    written = counter.poll()

    def at(count: int) -> tuple:
        """The first sample with `count` articles written."""
        return next(sample for sample in timeline if sample[1] >= count)

    def span(low: int, high: int) -> dict:
        """Articles low..high: articles/s, pages served/s, crawl CPU ms an article, cores in use."""
        start, end = at(max(low, 1)), at(high)
        seconds = end[0] - start[0]
        articles = high - max(low, 1)
        own = end[7] - start[7]
        return {"articles": f"{low}-{high}", "pages_per_s": round(articles / seconds, 1),
                "served_per_s": round((end[2] - start[2]) / seconds, 1),
                "cpu_ms_per_page": round(1000 * (end[3] - start[3]) / articles, 1),
                # the crawler process (reactor, corpus writer) vs the rest (extraction workers, WARC writer);
                # requisites fetched an article: the window's work besides its pages
                "crawler_cpu_ms_per_page": round(1000 * own / articles, 1),
                "others_cpu_ms_per_page": round(1000 * (end[3] - start[3] - own) / articles, 1),
                "warc_writer_cpu_ms_per_page": round(1000 * (end[9] - start[9]) / articles, 1),
                "workers_cpu_ms_per_page": round(1000 * (end[3] - start[3] - own - end[9] + start[9]) / articles, 1),
                "requisites_per_page": round((end[8] - start[8]) / articles, 2),
                # the speed probe: CPU ms of its constant work in this window (SpeedProbe)
                "probe_ms": round(1000 * (end[11] - start[11]) / max(1, end[10] - start[10]), 3),
                # cores in use on average: by the crawl; by everything (the crawl, the site, other jobs)
                "crawl_cores": round((end[3] - start[3]) / seconds, 2),
                "machine_busy_cores": round((end[5] - start[5]) / seconds, 2),
                "machine_iowait_cores": round((end[6] - start[6]) / seconds, 2)}
    windows = {}
    if written >= 2 * window:
        windows = {"first": span(0, window), "second": span(window, 2 * window),
                   "last": span(written - window, written)}
        for w in windows.values():  # CPU a page at the first window's machine speed (the probe's)
            w["cpu_ms_per_page_at_first_speed"] = round(
                w["cpu_ms_per_page"] * windows["first"]["probe_ms"] / w["probe_ms"], 1) if w["probe_ms"] else None
    first, second, last = (windows.get(k, {}).get("pages_per_s") for k in ("first", "second", "last"))
    return {
        "pages": pages, "articles_written": written, "window": window,
        "stats": {k: stats.get(k) for k in ("downloader/response_count", "corpus/written", "corpus/near-duplicate",
                                            "corpus/duplicate-text", "corpus/duplicate-url", "topic/kept",
                                            "topic/off_topic", "requisites/waiting_max",
                                            "elapsed_time_seconds")},
        # The first window includes the ramp-up (the frontier starts from one listing page), so the
        # second, the steady state, is compared with the last too; CPU per page is the cost itself,
        # where wall time also moves with whatever else the machine runs.
        "windows": windows,
        "last_over_first": round(last / first, 3) if first and last else None,
        "last_over_second": round(last / second, 3) if second and last else None,
        "cpu_last_over_second": round(windows["last"]["cpu_ms_per_page"] / windows["second"]["cpu_ms_per_page"], 3)
        if windows else None,
        "peak_rss_mb_at_window": round(peak_at_window / 2**20, 1) if peak_at_window else None,
        "peak_rss_mb_at_end": round(peak.peak / 2**20, 1),
        "rss_ratio": round(peak.peak / peak_at_window, 3) if peak_at_window else None,
        "every_20_s": timeline[int(20 / interval) - 1::int(20 / interval)],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="synthetic index sizes (articles)")
    parser.add_argument("--queries", type=int, default=200, help="look-ups of each kind per size")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over every size, in turn")
    parser.add_argument("--pages", type=int, default=20000, help="pages of the crawl (0: skip it)")
    parser.add_argument("--window", type=int, default=2000, help="articles in the first/last window")
    parser.add_argument("--only", choices=("lookup", "crawl"))
    args = parser.parse_args(argv)
    results = json.loads(RESULTS.read_text()) if args.only and RESULTS.exists() else {}
    results["machine"] = {"cores": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        if args.only in (None, "lookup"):
            print("containment look-up alone, synthetic indexes:", flush=True)
            results["lookup"] = bench_lookup([int(n) for n in args.sizes.split(",")], work, args.queries,
                                             args.rounds)
            for r in results["lookup"]:
                print(f"  {r['articles']:>9,} articles: {r['ms_per_page_new_article']} ms a new article, "
                      f"{r['ms_per_page_copy']} ms a copy ({r['vm_steps_per_page_new_article']:,} / "
                      f"{r['vm_steps_per_page_copy']:,} SQLite steps; {r['copies_found']}/{r['queries']} copies "
                      f"found, {r['new_articles_matched']} false matches); before issue #25: "
                      f"{r['old_ms_per_page_new_article']} ms ({r['old_vm_steps_per_page_new_article']:,} steps) "
                      f"a new article", flush=True)
        if args.only in (None, "crawl") and args.pages:
            print(f"crawl of {args.pages:,} pages (default settings, topic=auto, state on):", flush=True)
            results["crawl"] = c = crawl_scale(args.pages, work / "crawl", args.window, interval=0.5)
            w = c["windows"]

            def each(key: str) -> str:
                """The first, second and last windows' figure."""
                return " / ".join(str(w[k][key]) for k in ("first", "second", "last"))
            print(f"crawl: {c['articles_written']:,} articles written "
                  f"({c['stats']['corpus/near-duplicate'] or 0} near-duplicates among distinct pages); pages/s "
                  f"over the first, second and last {args.window:,} articles {each('pages_per_s')} → last/first "
                  f"{c['last_over_first']} (target >= 0.9), last/second {c['last_over_second']}; crawl CPU "
                  f"{each('cpu_ms_per_page')} ms a page (crawler process {each('crawler_cpu_ms_per_page')}, "
                  f"extraction workers {each('workers_cpu_ms_per_page')}, WARC writer "
                  f"{each('warc_writer_cpu_ms_per_page')}); a constant piece of work cost {each('probe_ms')} ms, so "
                  f"at the first window's machine speed the crawl's CPU a page was "
                  f"{each('cpu_ms_per_page_at_first_speed')}; requisites fetched an article "
                  f"{each('requisites_per_page')}, at most {c['stats']['requisites/waiting_max']} waiting; using "
                  f"{each('crawl_cores')} cores of the {each('machine_busy_cores')} busy on the machine; "
                  f"peak RSS {c['peak_rss_mb_at_window']} MB at {args.window:,}, "
                  f"{c['peak_rss_mb_at_end']} MB at the end → {c['rss_ratio']} (target <= 1.3)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
