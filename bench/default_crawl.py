"""`make bench`'s headline rows (issue #17): the crawl as users run it, default settings.

`topic=auto`, crawl state on, extraction on, page requisites on, WARC capture on: only the
paths, `CONCURRENT_REQUESTS=16` and AutoThrottle off are set, on bench/default_site.py's
80–150 KB pages, under nhandan.vn (profiled) and under a host with no profile. Measured:
- article pages/s of the crawl ÷ plain trafilatura on one core on the same pages;
- the same crawl with WARC capture off (`WARC_ENABLED=False`: the same download handler keeping no
  copy of the wire, no WARC middleware, no state: capture's cost);
- event-loop CPU ms a page: the crawler's main thread (the reactor), read from /proc over
  the middle 80 % of the crawl; with `--profile`, cProfile of that thread grouped by part (over
  the middle 80 %, or with `--profile-window first|end` over the first 10 % or from 90 % to the exit);
  beside it, over the whole crawl (from its first page to its end: what a topic crawl does
  when idle at its end included, start-up left out), and the loop's CPU by phase;
- the CPU ms a page of the crawler's other processes over the same part (/proc, the whole
  tree below it): the extraction workers (and the idle forkserver) with capture off, the
  workers and the WARC writer with it on (bench/worker_profile.py splits a worker's by part);
- peak RSS of the whole process tree (crawler, extraction workers, WARC writer);
- start-up: seconds from launching `scrapy crawl` to its first request reaching the site.
"""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.default_site import DefaultSite
from bench.loop_profile import breakdown, sampled_breakdown
from bench.proc_cpu import WarcWriterPids, machine_cpu, own_cpu, stat_cpu
from bench.speed_probe import SpeedProbe
from crawler.extensions.memory import PeakRSS, _children
from testbed.fixtureserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent
# What a cProfile (`--profile`) or py-spy (`--sample`) run covers: from and to which share of the pages
# served (None: to the crawler's exit, its idle releases and closing included). The middle is the
# headline's window; the first tenth schedules the links and requisites of the first pages, the end
# spends what the crawl held back and closes (docs/performance.md, session 19).
PROFILE_WINDOWS = {"first": (0.0, 0.1), "middle": (0.1, 0.9), "end": (0.9, None)}


def window_mark_due(window: tuple[float, float | None], marked: int, served: int, pages: int) -> bool:
    """Whether the profiler's next mark (`marked` of its start and stop sent so far) is due with
    `served` of `pages` pages served: never before the first page (start-up is left out), never for
    a stop at the exit (None)."""
    share = window[marked] if marked < len(window) else None
    return share is not None and served >= max(1.0, share * pages)


class Timed(DefaultSite):
    """Notes when the first request arrives and how many article pages were sent."""

    def __init__(self, pages: int, host: str):
        super().__init__(pages, host)
        self.first_request: float | None = None

    def resolve(self, host, path_qs):
        if self.first_request is None and not path_qs.startswith("/robots"):
            self.first_request = time.perf_counter()
        return super().resolve(host, path_qs)


def main_thread_cpu(pid: int) -> float:
    """CPU seconds of `pid`'s main thread (Scrapy's reactor), user + system."""
    return stat_cpu(f"/proc/{pid}/task/{pid}/stat")


def process_cpu(pid: int) -> float:
    """CPU seconds of `pid`, all its threads (the reactor, the pool's result thread that unpickles
    the workers' answers, the state and corpus writers), user + system."""
    return stat_cpu(f"/proc/{pid}/stat")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each thread of `pid`, by native thread id (py-spy's samples name them)."""
    cpu = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            cpu[int(task.name)] = stat_cpu(task / "stat")
        except (OSError, IndexError, ValueError):
            pass
    return cpu


def children_cpu(pid: int, capture: bool = False) -> tuple[float, float]:
    """CPU seconds, user + system, of the processes below `pid` (not `pid` itself): the forkserver,
    the extraction workers, the WARC writer; and of those, with `capture`, the WARC writer's alone
    (the process holding a WARC file open; its file descriptors are read only until it is found,
    which is most of this watcher's CPU otherwise). A process that ended takes its seconds with it."""
    tree, stack = [], _children(pid)
    while stack:
        current = stack.pop()
        try:
            tree.append((current, stat_cpu(f"/proc/{current}/stat")))
        except (OSError, IndexError):
            continue
        stack += _children(current)
    known = any(current in _WRITERS for current, _ in tree)
    total, writer = 0.0, 0.0
    for current, seconds in tree:
        total += seconds
        if capture and (current in _WRITERS if known else _WRITERS.check(current)):
            writer += seconds
    return total, writer


_WRITERS = WarcWriterPids()
# Stats of pages the extraction workers did not analyse (crawler/spiders/news.py, crawler/pipelines/corpus.py):
# a crawl with any measured a fallback, not the default configuration (a harness that broke pickling once
# made every page fall back to the event loop, and the bench reported figures anyway).
_FAILED_EXTRACTION = ("news/analyse_failed", "pages/extraction_failed", "pages/not_parsed")


def crawl(site: Timed, work: Path, *, warc: bool = True, profile: Path | None = None,
          sample: Path | None = None, settings: dict | None = None, runner: list[str] | None = None,
          window: str = "middle") -> dict:
    """One default crawl of `site` (capture off: no WARC, no state); `profile`, `sample`: over
    `window` (`PROFILE_WINDOWS`); `settings`:
    more `-s` pairs (e.g. a longer `EXTRACT_TIME_BUDGET` on a machine too loaded to start
    workers within the default 5 s); `runner`: a module running `-m scrapy …` in the crawler
    process (`["-m", "bench.worker_jobs", "--record", DIR]`; `profile` sets bench/loop_profile.py's)."""
    stats_file = work / "stats.json"
    args = ["-a", f"urls={site.start_url()}", "-a", "depth=100000", "-a", f"max_pages={site.pages + 1}",
            "-s", f"WARC_DIR={work / 'warc'}", "-s", f"CORPUS_DIR={work / 'corpus'}",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=16",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=INFO", "-s", f"LOG_FILE={work / 'crawl.log'}",
            "-s", f"CRAWL_STATS_FILE={stats_file}"]
    if not warc:  # the default handler captures nothing then (see bench/run.py's crawl_once)
        args += ["-s", "WARC_ENABLED=False"]
    for name, value in (settings or {}).items():
        args += ["-s", f"{name}={value}"]
    runner = runner or (["-m", "bench.loop_profile", str(profile)] if profile else [])
    cmd = [sys.executable, *runner, "-m", "scrapy", "crawl", "news", *args]
    site.first_request, site.served = None, 0
    launched = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **site.server.proxy_env()}, stdout=subprocess.DEVNULL)
    with SpeedProbe() as probe:
        watched = watch(proc, site, profiled=profile is not None, sample=sample, capture=warc, probe=probe,
                        window=PROFILE_WINDOWS[window])
    if proc.returncode:
        raise SystemExit(f"benchmark crawl failed (exit {proc.returncode}); log: {work / 'crawl.log'}")
    stats = json.loads(stats_file.read_text())
    refuse_fallback(stats, work / "crawl.log")
    pages = site.served
    return {"pages": pages, "elapsed_s": round(stats["elapsed_time_seconds"], 2),
            "pages_per_s": round(pages / stats["elapsed_time_seconds"], 1),
            "startup_s": round(site.first_request - launched, 2) if site.first_request else None,
            "written": stats.get("corpus/written", 0),
            "kept": stats.get("topic/kept", 0), "requisites": stats.get("requisites/fetched", 0),
            "probe_ms": probe.ms(), **watched}


def refuse_fallback(stats: dict, log: Path) -> None:
    """Stop the bench if the workers failed to analyse any page: the spider then read it on its event
    loop, so the run measured a fallback, not the default configuration."""
    failed = {key: value for key, value in stats.items() if key in _FAILED_EXTRACTION and value}
    if failed:
        raise SystemExit(f"benchmark crawl's extraction failed on some pages ({failed}); log: {log}")


def watch(proc: subprocess.Popen, site: Timed, *, profiled: bool = False, sample: Path | None = None,
          capture: bool = False, probe: SpeedProbe | None = None,
          window: tuple[float, float | None] = PROFILE_WINDOWS["middle"]) -> dict:
    """Until `proc` ends: its reactor's CPU ms a page over the middle 80 % of `site.pages` and its
    tree's peak RSS. Over `window` (shares of `site.pages`, `PROFILE_WINDOWS`), `profiled`:
    bench/loop_profile.py's cProfile runs; `sample`: py-spy samples the process's stacks into that
    file (bench/loop_profile.py reads it).
    Over the same part, where the machine's cores went (`cores_ms_per_page`): the crawler process,
    the processes below it, this process's page server (`site.server`'s threads: this process's
    CPU less this watcher's, the RSS sampler's and `probe`'s threads), this watcher, the rest of the
    machine (other jobs, py-spy), idle and stolen time, in ms a page of the cores' time."""
    samples: list[dict] = []
    marks: list[int] = []  # pages sent when profiling started and stopped
    spy = None
    with PeakRSS(proc.pid, interval=0.1) as rss:
        watcher = {threading.main_thread().native_id, rss._thread.native_id}
        not_serving = watcher | ({probe._thread.native_id} if probe else set())
        while proc.poll() is None:
            try:
                bench, watching = own_cpu(watcher)
                samples.append({"served": site.served, "loop": main_thread_cpu(proc.pid),
                                **dict(zip(("children", "writer"), children_cpu(proc.pid, capture))),
                                "crawler": process_cpu(proc.pid), "threads": thread_cpu(proc.pid),
                                "bench": bench, "watcher": watching, "not_serving": own_cpu(not_serving)[1],
                                **machine_cpu()})
            except OSError:
                pass
            if (profiled or sample) and window_mark_due(window, len(marks), site.served, site.pages):
                if profiled:
                    proc.send_signal((signal.SIGUSR1, signal.SIGUSR2)[len(marks)])  # bench/loop_profile.py
                elif not marks:
                    spy = subprocess.Popen([py_spy(), "record", "-p", str(proc.pid), "-r", "200", "-f", "raw",
                                            "--threads", "--full-filenames", "--nonblocking", "-o", str(sample)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                else:
                    spy.send_signal(signal.SIGINT)
                    spy.wait()
                marks.append(site.served)
            time.sleep(0.1)
    if spy is not None and spy.poll() is None:  # a window to the exit: py-spy stops with its process
        spy.wait()
    if len(marks) == 1:  # a window to the exit (bench/loop_profile.py dumps its profile then)
        marks.append(site.served)
    if proc.returncode:
        return {}
    low, high = (next(s for s in samples if s["served"] >= share * site.served) for share in (0.1, 0.9))
    pages = max(1, high["served"] - low["served"])
    per_page = lambda key: round(1000 * (high[key] - low[key]) / pages, 2)  # noqa: E731
    return {"loop_cpu_ms_per_page": per_page("loop"),
            **loop_phases(samples, site.served),
            "children_cpu_ms_per_page": per_page("children"),
            "writer_cpu_ms_per_page": per_page("writer"),
            "crawler_cpu_ms_per_page": per_page("crawler"),
            "server_cpu_ms_per_page": round(1000 * ((high["bench"] - high["not_serving"])
                                                    - (low["bench"] - low["not_serving"])) / pages, 2),
            "cores_ms_per_page": cores_spent(low, high, pages),
            "peak_rss_mb": round(rss.peak / 2**20, 1),
            # by native thread id (name them from py-spy's samples of the same run: --sample)
            "thread_cpu_ms_per_page": {tid: round(1000 * (high["threads"][tid] - low["threads"].get(tid, 0.0))
                                                  / pages, 2) for tid in high["threads"]},
            **({"profiled_pages": marks[1] - marks[0]} if len(marks) == 2 else {})}


def loop_phases(samples: list[dict], served: int) -> dict:
    """The reactor's CPU over the whole crawl of `served` pages, from the first sample with a page
    served to the last (≤ 0.1 s before the crawl exits: its idle releases and closing included), ms
    a page; and by phase, CPU ms in all: until 10 % of the pages, to 90 % (the headline's window),
    to the last page, and after it. The middle 80 % leaves out what a topic crawl does once its
    scheduler runs dry (docs/performance.md, session 18)."""
    first = next(s for s in samples if s["served"] >= 1)
    last_page = next(s for s in samples if s["served"] >= samples[-1]["served"])
    marks = [first, *(next(s for s in samples if s["served"] >= share * served) for share in (0.1, 0.9)),
             last_page, samples[-1]]
    names = ("first_10pct", "middle_80pct", "last_10pct", "after_last_page")
    return {"loop_cpu_ms_per_page_whole": round(1000 * (samples[-1]["loop"] - first["loop"]) / max(1, served), 2),
            "loop_cpu_ms_by_phase": {name: round(1000 * (high["loop"] - low["loop"]), 1)
                                     for name, low, high in zip(names, marks, marks[1:])}}


def cores_spent(low: dict, high: dict, pages: int) -> dict:
    """Where all the machine's cores went between two of `watch`'s samples, ms a page (they add up
    to the window's wall time × the cores, within /proc's 10 ms ticks). `others`: every process
    not counted here (other jobs on a shared machine; py-spy when sampling)."""
    delta = {key: 1000 * (high[key] - low[key]) / pages for key in high if key not in ("served", "threads")}
    server = delta["bench"] - delta["not_serving"]
    parts = {"crawler": delta["crawler"], "below_crawler": delta["children"], "server": server,
             "bench_watcher": delta["watcher"], "speed_probe": delta["not_serving"] - delta["watcher"]}
    parts["others"] = delta["busy"] - sum(parts.values())
    parts.update(idle=delta["idle"], steal=delta["steal"])
    parts = {key: round(value, 2) for key, value in parts.items()}
    parts["idle_share"] = round(delta["idle"] / max(1e-9, delta["busy"] + delta["idle"] + delta["steal"]), 3)
    return parts


def py_spy() -> str:
    """The py-spy command (the `profile` extra in pyproject.toml; PY_SPY=path to use another): a sampling profiler,
    which, unlike cProfile, does not inflate code that makes many small calls."""
    return os.environ.get("PY_SPY") or str(Path(sys.executable).with_name("py-spy"))


def thread_names(raw: Path) -> dict[int, str]:
    """Native thread id -> Python thread name, from py-spy's raw samples (`thread (0x..., tid): name`
    or `thread (tid): name` opens each stack)."""
    names = {}
    for line in open(raw, encoding="utf-8", errors="replace"):
        head = line.rstrip("\n").rpartition(" ")[0].split(";", 1)[0]  # the stack without its sample count
        if head.startswith("thread (") and "): " in head:
            ids, name = head[len("thread ("):].split("): ", 1)
            if ids.split(",")[-1].strip().isdigit():
                names[int(ids.split(",")[-1])] = name
    return names


def one_core_trafilatura(site: DefaultSite, seconds: float = 8.0, distinct: int = 200) -> dict:
    """Pages/s of plain trafilatura (favor_precision, with metadata: issue #9's baseline) on one
    core, cycling through distinct pages of the site, with the speed probe's CPU ms beside it."""
    import trafilatura

    pages = [site.render(n).decode("utf-8") for n in range(min(distinct, site.pages))]
    trafilatura.bare_extraction(pages[0], favor_precision=True, with_metadata=True)
    with SpeedProbe() as probe:
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            trafilatura.bare_extraction(pages[count % len(pages)], favor_precision=True, with_metadata=True)
            count += 1
        rate = count / (time.perf_counter() - started)
    return {"pages_per_s": round(rate, 1), "probe_ms": probe.ms()}


def with_site(pages: int, host: str, body):
    site = Timed(pages, host)
    site.server = FixtureServer(site).start_background()
    try:
        return body(site)
    finally:
        site.server.shutdown()


def run_host(pages: int, host: str, work: Path, *, rounds: int, profile: bool, sample: bool = False,
             window: str = "middle") -> dict:
    def body(site):
        # The reference is measured before and after the crawls and averaged: on this machine it
        # moved 37–50 pages/s between sessions, and the probes show whether the machine moved with it.
        before = one_core_trafilatura(site)
        # Capture on and off alternate (on, off, on, off): run back to back in blocks, a machine
        # drifting through the bench landed on their ratio (session 12: 0.865 in blocks, 0.78 and
        # 0.94 in two alternated pairs right after).
        on, off = [], []
        for i in range(rounds):
            on.append(crawl(site, work / f"on-{i}"))
            off.append(crawl(site, work / f"off-{i}", warc=False))
        after = one_core_trafilatura(site)
        result = {"host": host, "page_bytes": round(sum(len(site.render(n)) for n in range(50)) / 50),
                  "trafilatura_one_core_pages_per_s": round((before["pages_per_s"] + after["pages_per_s"]) / 2, 1),
                  "trafilatura_runs": [before, after], "runs_on": on, "runs_off": off}
        if profile:
            prof = work / "loop.prof"
            result["profiled_run"] = crawl(site, work / "profiled", profile=prof, window=window)
            result["profile_window"] = window
            result["loop_breakdown_ms_per_page"] = breakdown(str(prof), result["profiled_run"]["profiled_pages"])
        if sample:
            raw = work / "loop.py-spy.txt"
            result["sampled_run"] = run = crawl(site, work / "sampled", sample=raw, window=window)
            result["loop_sampled_ms_per_page"] = sampled_breakdown(str(raw), run["loop_cpu_ms_per_page"])
            names = thread_names(raw)
            result["sampled_threads_ms_per_page"] = {f"{names.get(int(tid), '?')} ({tid})": ms for tid, ms in sorted(
                run["thread_cpu_ms_per_page"].items(), key=lambda item: -item[1])}
        return result
    result = with_site(pages, host, body)
    result.update(headline(result))
    return result


def headline(result: dict) -> dict:
    """The headline figures of one host's runs: medians over the rounds (with two rounds, the mean
    of the two; until session 13 the larger of the two was taken)."""
    def median(key, runs):
        return round(statistics.median(r[key] for r in runs), 2)
    return {
        "pipeline_pages_per_s": median("pages_per_s", result["runs_on"]),
        "pipeline_over_trafilatura": round(median("pages_per_s", result["runs_on"])
                                           / result["trafilatura_one_core_pages_per_s"], 2),
        "capture_on_over_off": round(median("pages_per_s", result["runs_on"])
                                     / median("pages_per_s", result["runs_off"]), 3),
        "capture_on_over_off_pairs": [round(on["pages_per_s"] / off["pages_per_s"], 3)
                                      for on, off in zip(result["runs_on"], result["runs_off"])],
        "loop_cpu_ms_per_page": median("loop_cpu_ms_per_page", result["runs_on"]),
        "loop_cpu_ms_per_page_whole": median("loop_cpu_ms_per_page_whole", result["runs_on"]),
        "workers_cpu_ms_per_page": median("children_cpu_ms_per_page", result["runs_off"]),
        "workers_and_writer_cpu_ms_per_page": median("children_cpu_ms_per_page", result["runs_on"]),
        "writer_cpu_ms_per_page": median("writer_cpu_ms_per_page", result["runs_on"]),
        "crawler_cpu_ms_per_page": median("crawler_cpu_ms_per_page", result["runs_on"]),
        "crawler_cpu_ms_per_page_off": median("crawler_cpu_ms_per_page", result["runs_off"]),
        "server_cpu_ms_per_page": median("server_cpu_ms_per_page", result["runs_on"]),
        "idle_share": statistics.median(r["cores_ms_per_page"]["idle_share"] for r in result["runs_on"]),
        "startup_s": median("startup_s", result["runs_on"]),
        "peak_rss_mb": median("peak_rss_mb", result["runs_on"]),
    }


def describe(r: dict) -> str:
    text = (f"default crawl, {r['host']} ({r['page_bytes']:,}-byte pages): {r['pipeline_pages_per_s']} pages/s "
            f"= {r['pipeline_over_trafilatura']} × one-core trafilatura ({r['trafilatura_one_core_pages_per_s']}); "
            f"capture on/off {r['capture_on_over_off']} (pairs {r['capture_on_over_off_pairs']}); event loop {r['loop_cpu_ms_per_page']} ms CPU a page "
            f"(the whole crawl: {r.get('loop_cpu_ms_per_page_whole')}); "
            f"extraction workers {r.get('workers_cpu_ms_per_page')} ms CPU a page (capture off; with the WARC "
            f"writer, capture on: {r.get('workers_and_writer_cpu_ms_per_page')}, of which the writer "
            f"{r.get('writer_cpu_ms_per_page')}); crawler process, all threads, {r.get('crawler_cpu_ms_per_page')} "
            f"ms CPU a page (capture off: {r.get('crawler_cpu_ms_per_page_off')}); "
            f"the page server (this process, not the crawler's cost) {r['server_cpu_ms_per_page']} ms CPU a page; "
            f"idle {r['idle_share']:.1%} of the cores; start-up {r['startup_s']} s; peak RSS {r['peak_rss_mb']} MB; speed probe (constant work, CPU ms): "
            f"reference {[t['probe_ms'] for t in r['trafilatura_runs']]} at "
            f"{[t['pages_per_s'] for t in r['trafilatura_runs']]} pages/s, crawls "
            f"{[run.get('probe_ms') for run in r['runs_on'] + r['runs_off']]}")
    for run in r["runs_on"] + r["runs_off"]:
        text += (f"\n  cores, ms a page ({'capture on' if run in r['runs_on'] else 'capture off'}, "
                 f"{run['pages_per_s']} pages/s): " + ", ".join(f"{k} {v}" for k, v in run["cores_ms_per_page"].items()))
        if "loop_cpu_ms_by_phase" in run:
            text += "\n    event loop by phase, CPU ms: " + ", ".join(
                f"{k} {v}" for k, v in run["loop_cpu_ms_by_phase"].items())
    if "loop_breakdown_ms_per_page" in r:
        text += (f"\n  event loop under cProfile ({r.get('profile_window', 'middle')} of the crawl, "
                 f"{r['profiled_run'].get('profiled_pages')} pages; CPU clock; inflates code of many small calls), "
                 "ms a page: ") + \
            ", ".join(f"{k} {v}" for k, v in r["loop_breakdown_ms_per_page"].items())
    if "sampled_threads_ms_per_page" in r:
        text += "\n  the crawler's threads in the sampled run, CPU ms a page: " + ", ".join(
            f"{k} {v}" for k, v in r["sampled_threads_ms_per_page"].items())
    if "loop_sampled_ms_per_page" in r:
        text += "\n  event loop sampled by py-spy, shares of its measured CPU, ms a page: " + ", ".join(
            f"{k} {v}" for k, v in r["loop_sampled_ms_per_page"].items())
    return text


if __name__ == "__main__":
    import argparse
    import tempfile

    from testbed.bench_site import HOST
    from bench.default_site import GENERIC_HOST

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--host", choices=("profiled", "generic", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="cProfile run: calls and ms a page by component")
    parser.add_argument("--sample", action="store_true", help="py-spy run: shares of the reactor's CPU by component")
    parser.add_argument("--profile-window", choices=tuple(PROFILE_WINDOWS), default="middle",
                        help="the part of the crawl --profile and --sample cover: the first 10 %% of the pages, "
                             "the middle 80 %% (default), or from 90 %% to the exit")
    parser.add_argument("--keep", type=Path, help="work directory to keep (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-default-"))
    hosts = {"profiled": [HOST], "generic": [GENERIC_HOST], "both": [HOST, GENERIC_HOST]}[args.host]
    results = {}
    for host in hosts:
        results[host] = run_host(args.pages, host, work / host, rounds=args.rounds, profile=args.profile,
                                 sample=args.sample, window=args.profile_window)
        print(describe(results[host]), flush=True)
    results["load_average_at_end"] = os.getloadavg()  # a shared machine: what else ran
    (work / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"results: {work / 'results.json'}")
