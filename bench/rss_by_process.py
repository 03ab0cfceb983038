"""Each process's memory through a default crawl: where the tree's peak RSS goes (issue #17's
peak RSS at 20,000 pages ≤ 1.3 × that at 2,000, `python -m bench.run --only memory`).

    .venv/bin/python -m bench.rss_by_process [--pages 2000 --pages 20000] [--host nhandan.vn]
        [--every 0.2] [--at 1000,2000,10000] [--json FILE]

Runs `bench.default_crawl.crawl` (the memory run's crawl: default configuration, capture on) and
samples, every `--every` seconds, /proc/<pid>/status of every process below this one (VmRSS,
RssAnon, RssFile) with the article pages served so far. Each process is named by its place in
the tree: the crawler (the `scrapy crawl` process), multiprocessing's forkserver and resource
tracker, and below the forkserver the WARC writer (the process holding a WARC file open) and the
extraction workers. Printed: each process at the first sample past each `--at` count of pages and
at the sample where the whole tree peaked. A process's RSS does not depend on how fast the
machine is, so a loaded machine gives the same figures (slower).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from bench.proc_cpu import WarcWriterPids
from crawler.extensions.memory import PeakRSS, _children, _read

FIELDS = ("VmRSS", "RssAnon", "RssFile")


def status_mb(pid: int) -> dict[str, float] | None:
    """`FIELDS` of /proc/<pid>/status in MB (None when the process is gone)."""
    found = {}
    for line in _read(f"/proc/{pid}/status").decode(errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name in FIELDS:
            found[name] = int(value.split()[0]) / 1024
    return found if len(found) == len(FIELDS) else None


def role_of(cmdline: str, parent_role: str | None, writes_warc: bool) -> str:
    """What a process of the crawl's tree is, from its command line and its parent's role: the
    forkserver's children are the extraction workers and the WARC writer (which holds a WARC
    file open); they keep the forkserver's command line."""
    if parent_role is None:
        return "crawler"
    if "resource_tracker" in cmdline:
        return "resource tracker"
    if parent_role == "forkserver" or parent_role.startswith(("worker", "writer")):
        return "writer" if writes_warc else "worker"
    if "forkserver" in cmdline:
        return "forkserver"
    return "other"


class ProcessSampler(PeakRSS):
    """Samples the memory of `root`'s process tree every `interval` seconds in a daemon thread
    (`PeakRSS`'s, in its `with` block), each sample tagged with `served()` (the pages served so far)."""

    def __init__(self, root: Callable[[], int | None], served: Callable[[], int], interval: float = 0.2):
        super().__init__(interval=interval)
        self._root, self._served = root, served
        self.samples: list[dict] = []  # {"served": n, "processes": {pid: {"role", FIELDS...}}}
        self._writers = WarcWriterPids()

    def sample(self) -> dict | None:
        """One sample of the tree now (None while there is no root yet)."""
        root = self._root()
        if root is None:
            return None
        served, processes, stack = self._served(), {}, [(root, None)]
        while stack:
            pid, parent_role = stack.pop()
            memory = status_mb(pid)
            if memory is None:
                continue
            role = self._role(pid, parent_role)
            processes[pid] = {"role": role, **memory}
            stack += [(child, role) for child in _children(pid)]
        sample = {"served": served, "processes": processes}
        self.samples.append(sample)
        return sample

    def _role(self, pid: int, parent_role: str | None) -> str:
        if pid in self._writers:
            return "writer"
        cmdline = _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace")
        below_forkserver = parent_role == "forkserver"
        return role_of(cmdline, parent_role, below_forkserver and self._writers.check(pid))


def tree_mb(sample: dict) -> float:
    return sum(p["VmRSS"] for p in sample["processes"].values())


def summary(samples: list[dict], at: list[int]) -> dict:
    """Each process at the first sample past each count of pages in `at`, and at the tree's peak:
    `{label: {"served", "tree", "processes": [{"pid", "role", FIELDS...}]}}`, the writer's role
    applied to every sample of a process once it was seen writing."""
    writers = {pid for s in samples for pid, p in s["processes"].items() if p["role"] == "writer"}

    def described(sample: dict) -> dict:
        rows = [{"pid": pid, **p, "role": "writer" if pid in writers else p["role"]}
                for pid, p in sorted(sample["processes"].items())]
        return {"served": sample["served"], "tree": round(tree_mb(sample), 1), "processes": rows}

    found = {}
    for pages in at:
        past = next((s for s in samples if s["served"] >= pages), None)
        if past is not None:
            found[f"{pages} pages"] = described(past)
    if samples:
        found["peak"] = described(max(samples, key=tree_mb))
    return found


def crawl_process(parent: int) -> int | None:
    """The `scrapy crawl` child of `parent`, once it runs scrapy: a child sampled between its fork
    and its exec is a copy of the bench process (its 20,000 pages rendered: ~850 MB)."""
    for child in _children(parent):
        if b"scrapy" in _read(f"/proc/{child}/cmdline"):
            return child
    return None


def crawl_sampled(pages: int, host: str, interval: float) -> tuple[dict, list[dict]]:
    """One default crawl of `pages` pages (bench.default_crawl.crawl), sampled."""
    from bench import default_crawl

    def body(site) -> tuple[dict, list[dict]]:
        work = Path(tempfile.mkdtemp(prefix="rss-by-process-"))
        own = os.getpid()
        try:
            with ProcessSampler(lambda: crawl_process(own), lambda: site.served, interval) as sampler:
                result = default_crawl.crawl(site, work / "m")
            return result, sampler.samples
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return default_crawl.with_site(pages, host, body)


def printed(label: str, described: dict) -> str:
    lines = [f"{label}: tree {described['tree']} MB at {described['served']} pages"]
    for p in described["processes"]:
        lines.append(f"  {p['role']:<17} {p['pid']:>7}  rss {p['VmRSS']:7.1f}  anon {p['RssAnon']:7.1f}  "
                     f"file {p['RssFile']:6.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    from testbed.bench_site import HOST

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, action="append", help="pages of a crawl (repeat: one crawl each)")
    parser.add_argument("--host", default=HOST, help="the site's host (bench/default_site.py)")
    parser.add_argument("--every", type=float, default=0.2, help="seconds between samples")
    parser.add_argument("--at", default="1000,2000,5000,10000,20000", help="page counts to report each process at")
    parser.add_argument("--json", type=Path, help="also write every crawl's summary and bench result here")
    args = parser.parse_args(argv)
    at = [int(n) for n in args.at.split(",") if n]
    results = {}
    for pages in args.pages or [2000]:
        result, samples = crawl_sampled(pages, args.host, args.every)
        found = summary(samples, [n for n in at if n <= pages])
        results[str(pages)] = {"bench_peak_rss_mb": result["peak_rss_mb"], "samples": len(samples), **found}
        print(f"== {pages}-page crawl: bench.default_crawl's peak {result['peak_rss_mb']} MB, {len(samples)} samples")
        for label, described in found.items():
            print(printed(label, described))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
