"""A crawl's extraction jobs: each worker's CPU a job in the crawl, and the same jobs replayed in one
process in the order that worker ran them (issue #17, docs/performance.md session 18).

    .venv/bin/python -m bench.worker_jobs [--pages 1000] [--host generic|profiled] [--keep DIR]

Runs, alternated and each beside the speed probe: `bench.worker_profile`'s pages in this process
(in-process), one capture-off `bench.default_crawl` crawl whose crawler records every job it sends
to its workers (in the crawl), and each worker's recorded jobs replayed here (replayed: the same
pages, the same order, the same setup calls, the heap settled after the same jobs as `_serve`
does). The crawl's worker CPU is the thread CPU of each job's call, measured inside the worker
(`timed_call`), beside the bench's own figure for the processes below the crawler. What differs
between "in the crawl" and "replayed" is the worker's surroundings (the crawler process and the
other worker on the same two cores, the waits between jobs), not its work; what differs between
"replayed" and "in-process" is the pages.

Setting-free: the recording runner (`python -m bench.worker_jobs --record DIR -m scrapy crawl …`)
wraps `BudgetPool.submit` and `BudgetPool.setup` of the crawler process it runs; nothing in the
crawler or the pool knows about it.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import runpy
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from archive.extract.process_pool import _SETTLE_AFTER, BudgetPool, _frame, settle_heap
from bench.speed_probe import probe_ms


def timed_call(directory: str, sequence: int, function, *args):
    """In a worker: `function(*args)`, its thread CPU appended to this worker's log in `directory`
    (in the order the worker ran its jobs)."""
    started = time.thread_time()
    result = function(*args)
    spent = time.thread_time() - started
    with open(Path(directory) / f"worker-{os.getpid()}.log", "a", encoding="utf-8") as log:
        log.write(f"{sequence} {spent:.9f}\n")
    return result


@contextmanager
def recording(directory: Path):
    """Pools made meanwhile in this process send their jobs through `timed_call` and keep each job
    (pickled) and setup call in `directory`, for `replay`."""
    directory.mkdir(parents=True, exist_ok=True)
    lock, counter = threading.Lock(), iter(range(1 << 62))
    jobs = open(directory / "jobs.pickles", "ab")
    submit, setup = BudgetPool.submit, BudgetPool.setup

    def keep(kind: str, function, args) -> int:
        with lock:
            sequence = next(counter)
            pickle.dump((kind, sequence, function, args), jobs, protocol=pickle.HIGHEST_PROTOCOL)
            return sequence

    from bench import worker_jobs  # (this module by its name: run as `-m`, it is `__main__`, which a worker cannot import)

    def recorded_submit(pool, function, *args):
        return submit(pool, worker_jobs.timed_call, str(directory), keep("job", function, args), function, *args)

    def recorded_setup(pool, function, *args):
        keep("setup", function, args)
        return setup(pool, function, *args)

    BudgetPool.submit, BudgetPool.setup = recorded_submit, recorded_setup
    try:
        yield directory
    finally:
        BudgetPool.submit, BudgetPool.setup = submit, setup
        jobs.close()


def recorded(directory: Path) -> tuple[list[tuple], dict[int, tuple], dict[str, list[tuple[int, float]]]]:
    """(setup calls, jobs by sequence number, each worker's log: [(sequence, CPU seconds)] in the order it ran them)."""
    setups, jobs = [], {}
    with open(directory / "jobs.pickles", "rb") as stream:
        while True:
            try:
                kind, sequence, function, args = pickle.load(stream)
            except EOFError:
                break
            if kind == "setup":
                setups.append((function, args))
            else:
                jobs[sequence] = (function, args)
    logs = {}
    for log in sorted(directory.glob("worker-*.log")):
        lines = [line.split() for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        logs[log.stem] = [(int(sequence), float(spent)) for sequence, spent in lines]
    return setups, jobs, logs


def replay(setups: list[tuple], jobs: list[tuple]) -> list[float]:
    """Thread CPU seconds of each job run here after the setup calls, as a fresh worker runs them
    (`_serve`: the heap settled before each of its first jobs)."""

    for function, args in setups:
        function(*args)
    spent = []
    for served, (function, args) in enumerate(jobs, start=1):  # (the setup calls came first)
        if served <= _SETTLE_AFTER:
            settle_heap(collect=True)
        started = time.thread_time()
        result = function(*args)
        spent.append(time.thread_time() - started)
        _frame((True, result))  # (as a worker pickles its answer; not timed: `timed_call` does not see it)
        del result
    return spent


def crawl_recorded(pages: int, host: str, work: Path) -> dict:
    """One capture-off default crawl of `pages` under `host`, its workers' jobs recorded in `work/jobs`."""
    from bench import default_crawl

    return default_crawl.with_site(pages, host, lambda site: default_crawl.crawl(
        site, work / "crawl", warc=False, runner=["-m", "bench.worker_jobs", "--record", str(work / "jobs")]))


def ms(seconds: list[float]) -> float:
    return round(1000 * sum(seconds) / max(1, len(seconds)), 2)


def replayed_in_child(directory: Path, worker: str) -> dict:
    """`replay` of one worker's jobs in a fresh process (`--replay`), so that each starts from a
    worker's state, not from what this process ran before."""
    import subprocess

    out = subprocess.run([sys.executable, "-m", "bench.worker_jobs", "--replay", str(directory), worker],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def in_process_ms(host: str, pages: int = 40) -> dict:
    """`bench.worker_profile --pages 40` in a fresh process, the probe before and after."""
    import subprocess
    import tempfile

    before = probe_ms()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, "-m", "bench.worker_profile", "--pages", str(pages), "--host", host,
                        "--json", out.name], capture_output=True, check=True)
        figure = json.loads(Path(out.name).read_text())[0]["worker_cpu_ms_per_page"]
    return {"ms": figure, "probe_ms": [before, probe_ms()]}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--record"]:  # the crawl's runner: python -m bench.worker_jobs --record DIR -m MODULE ARGS…
        directory, flag, module, *args = argv[1:]
        if flag != "-m":
            raise SystemExit("usage: python -m bench.worker_jobs --record DIR -m MODULE [ARGS…]")
        sys.argv = [module, *args]
        with recording(Path(directory)):
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    if argv[:1] == ["--replay"]:  # python -m bench.worker_jobs --replay DIR WORKER: JSON on stdout
        directory, worker = Path(argv[1]), argv[2]
        setups, jobs, logs = recorded(directory)
        before = probe_ms()
        spent = replay(setups, [jobs[sequence] for sequence, _ in logs[worker]])
        print(json.dumps({"jobs": len(spent), "replayed_ms": ms(spent), "probe_ms": [before, probe_ms()]}))
        return 0
    import tempfile

    from bench.default_site import GENERIC_HOST
    from testbed.bench_site import HOST

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--host", choices=("profiled", "generic"), default="generic")
    parser.add_argument("--keep", type=Path, help="work directory to keep (default: a temporary one)")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-worker-jobs-"))
    result = {"host": args.host, "in_process": [in_process_ms(args.host)]}
    before = probe_ms()
    run = crawl_recorded(args.pages, GENERIC_HOST if args.host == "generic" else HOST, work)
    result["crawl"] = {"bench_below_crawler_ms": run["children_cpu_ms_per_page"], "pages": run["pages"],
                       "pages_per_s": run["pages_per_s"], "probe_ms": [before, run["probe_ms"], probe_ms()]}
    _, _, logs = recorded(work / "jobs")
    result["workers"] = {worker: {"jobs": len(log), "in_crawl_ms": ms([spent for _, spent in log]),
                                  **replayed_in_child(work / "jobs", worker)} for worker, log in logs.items()}
    result["in_process"].append(in_process_ms(args.host))
    result["load_average_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=1))
    (work / "worker-jobs.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
