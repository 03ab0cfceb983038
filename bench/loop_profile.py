"""The reactor thread's CPU a page, by component: a profiler for the crawler process and the
attribution of its profile.

`python -m bench.loop_profile OUT -m module args…` runs the module under cProfile timed with
the main thread's CPU clock (`time.thread_time`), not the wall clock: with the wall clock a call
that gives up the GIL (a socket send, a pipe write, an SQLite query) is charged the time other
threads held it, so the profile shows where the reactor waited, not what it spent. Profiling
starts at SIGUSR1 and stops at SIGUSR2, so bench/default_crawl.py profiles the same middle part
of the crawl it reads the thread's CPU time over (start-up and shut-down left out).

`breakdown` charges each function's own time to a component (a middleware, the spider, the
state, Scrapy's engine, ...): functions of a component's files are its own; any other function
(a library helper) is charged to its callers, in proportion to the time each call edge took.
"""
from __future__ import annotations

import cProfile
import pstats
import re
import runpy
import signal
import sys
import time

# (component, regular expression on "file:function"), first match wins. Files not listed (the
# standard library's helpers, Scrapy's Request/Headers/url utilities, lxml, ...) are charged to
# whoever called them.
COMPONENTS = (
    ("WARC capture hand-off", r"crawler/downloadermiddlewares/warc_capture\.py|crawler/downloadhandlers/capture\.py"
                              r"|archive/warc/"),
    ("our HTTP/1.1 client (wire handler)", r"crawler/downloadhandlers/(wire|http1_reader|http1_connection)\.py"),
    ("crawl state (SQLite)", r"archive/state/"),
    ("spider mw: incremental", r"crawler/downloadermiddlewares/incremental\.py:(_keep|is_due|process_spider_output"
                               r"|process_start|_count)"),
    ("downloader mw: incremental", r"crawler/downloadermiddlewares/incremental\.py"),
    ("downloader mw: outcomes", r"crawler/extensions/outcomes\.py"),
    ("downloader mw: ", r"crawler/downloadermiddlewares/(\w+)\.py"),
    ("downloader mw: scrapy ", r"scrapy/downloadermiddlewares/(\w+)\.py"),
    ("spider mw: scrapy ", r"scrapy/spidermiddlewares/(\w+)\.py"),
    ("dupe filter + fingerprints", r"crawler/dupefilter\.py|crawler/fingerprint\.py|scrapy/dupefilters\.py"),
    ("topic gate", r"crawler/relevance\.py|crawler/judged_pages\.py|crawler/topic_frontier\.py"
                   r"|archive/extract/topic\.py"),
    ("requisites (spider)", r"crawler/requisites\.py|crawler/requisite_queue\.py"),
    ("spider: parse + links", r"crawler/spiders/|archive/sites/"),
    ("extraction hand-off", r"crawler/pipelines/workers\.py|archive/extract/"),
    ("corpus pipeline", r"crawler/pipelines/|archive/corpus/"),
    ("extensions", r"crawler/extensions/|scrapy/extensions/"),
    ("stats", r"scrapy/statscollectors\.py"),
    ("logging", r"/logging/|scrapy/logformatter\.py|crawler/logformatter\.py|scrapy/utils/log\.py"),
    ("signals", r"pydispatch/|scrapy/signalmanager\.py|scrapy/utils/signal\.py"),
    ("Scrapy engine, scheduler, downloader", r"scrapy/core/|scrapy/pqueues\.py|scrapy/squeues\.py|queuelib/"
                                             r"|scrapy/utils/(defer|asyncio|decorators|reactor)\.py"
                                             r"|scrapy/responsetypes\.py"),
    ("Twisted + asyncio (reactor, HTTP client)", r"twisted/|asyncio/|selectors\.py|ssl|OpenSSL|zope/"),
)
_RULES = [(name, re.compile(pattern)) for name, pattern in COMPONENTS]


def component_of(filename: str, function: str) -> str | None:
    where = f"{filename}:{function}"
    for name, rule in _RULES:
        match = rule.search(where)
        if match:
            return name + match.group(1) if name.endswith(" ") and match.groups() else name
    return None


def breakdown(profile_path: str, pages: int) -> dict[str, float]:
    """ms of reactor CPU a page by component (see the module), largest first."""
    stats = pstats.Stats(profile_path).stats
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    shares: dict = {}  # function -> {component: share of its own time}

    def share(func, path: frozenset) -> dict[str, float]:
        if func in shares:
            return shares[func]
        owner = component_of(func[0], func[2])
        if owner is not None:
            result = {owner: 1.0}
        else:
            callers = {c: edge[3] for c, edge in stats[func][4].items() if c not in path and c in stats}
            total = sum(callers.values())
            result = {}
            if not total:
                result = {"other": 1.0}
            for caller, weight in callers.items() if total else ():
                for name, part in share(caller, path | {func}).items():
                    result[name] = result.get(name, 0.0) + part * weight / total
        shares[func] = result  # in a cycle, the callers left out are left out for good (rare, small)
        return result

    totals: dict[str, float] = {}
    for func, (_, _, own, _, _) in stats.items():
        for name, part in share(func, frozenset()).items():
            totals[name] = totals.get(name, 0.0) + own * part
    return {name: round(1000 * seconds / max(1, pages), 3)
            for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1])}


# A sample whose leaf is the reactor's epoll_wait is not CPU the loop spends: py-spy, sampling without
# pausing the process, takes a thread that has just been woken but waits for a core (a loaded
# machine) for a running one; on a shared machine a third of the samples landed there.
EPOLL_WAIT = re.compile(r"selectors\.py:\w*Selector\.select$")
WAITING = "(samples in epoll_wait, left out of the shares: %)"


def sampled_breakdown(raw_path: str, loop_ms_per_page: float) -> dict[str, float]:
    """py-spy's samples of the main thread (`record -f raw --threads --full-filenames`), each charged
    to the first frame from its leaf up that belongs to a component, as shares of the measured
    `loop_ms_per_page` (ms a page, largest first). Samples in epoll_wait are left out of the
    shares (`EPOLL_WAIT`); their share of all samples is reported under `WAITING`."""
    counts: dict[str, int] = {}
    threads: dict[str, int] = {}
    stacks = []
    for line in open(raw_path, encoding="utf-8", errors="replace"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():  # a line cut short
            continue
        frames = stack.split(";")
        thread = next((f for f in frames if f.startswith("thread (")), "")
        threads[thread] = threads.get(thread, 0) + int(count)
        stacks.append((thread, frames, int(count)))
    main_thread = min(threads, key=lambda t: _thread_rank(t, threads))  # the reactor: the busiest
    waiting = 0
    for thread, frames, count in stacks:
        if thread != main_thread:
            continue
        function, _, where = frames[-1].partition(" (")
        if EPOLL_WAIT.search(f"{where.rsplit(':', 1)[0]}:{function.strip()}"):
            waiting += count
            continue
        name = "other"
        for frame in reversed(frames):
            function, _, where = frame.partition(" (")
            owner = component_of(where.rsplit(":", 1)[0], function.strip())
            if owner is not None:
                name = owner
                break
        counts[name] = counts.get(name, 0) + count
    total = sum(counts.values()) or 1
    shares = {name: round(loop_ms_per_page * n / total, 3) for name, n in sorted(counts.items(), key=lambda kv: -kv[1])}
    return {**shares, WAITING: round(100 * waiting / max(1, total + waiting), 1)}


def _thread_rank(thread: str, threads: dict[str, int]) -> tuple:
    return (0 if "MainThread" in thread else 1, -threads[thread])


def main() -> None:
    out, flag, module, *args = sys.argv[1:]
    if flag != "-m":
        raise SystemExit("usage: python -m bench.loop_profile OUT -m MODULE [ARGS…]")
    sys.argv = [module, *args]
    profile = cProfile.Profile(time.thread_time)
    signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
    signal.signal(signal.SIGUSR2, lambda *_: profile.disable())
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profile.disable()
        profile.dump_stats(out)  # the crawl's exit code (SystemExit) still goes out


if __name__ == "__main__":
    main()
