"""`make bench-crash`: a crawl killed with SIGKILL again and again must lose nothing.

An operator's worst day, on 127.0.0.1: one crawl of N article pages
(nhandan.vn URLs served by the fixture proxy, `-a depth=0`, default settings
otherwise: crawl state on, topic filter on, extraction on, page requisites on,
so each page's photos and teaser thumbnails on image.nhandan.vn are archived
beside it) is SIGKILLed at
seeded random moments (timed from the run's start, or for every other pair
of kills from its first page fetch, so kills land mid-crawl however slowly a
loaded machine starts it), alternately the crawler alone and its whole process
group (a power cut or an OOM kill of the cgroup), and re-run on the same
directories each time with no operator step in between. A last run goes to
the end. Then the archive, the crawl state and the corpus must agree
(`archive.corpus.crawl_check.verify_crawl`): every page archived, every article in
the corpus exactly once, no pointer dangling, numbering dense, no `.open`
file left, every requisite an archived article names (its images here) archived
(`requisites_missing`; docs/requisites.md), and every article page the archive holds a 200
response of in the corpus, whether or not the run that archived it extracted it
(`archived_articles_missing`; docs/crash-safety.md, session 20). Exits non-zero on any loss.

The tests run the same loop, smaller (tests/test_crash_loop.py).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from archive.corpus.crawl_check import verify_crawl
from testbed.bench_site import HOST, IMAGE_HOST, BenchSite, article_url
from testbed.fixtureserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent  # the checkout this tooling runs from
_IMAGE_URL = re.compile(rb'https://' + re.escape(IMAGE_HOST.encode()) + rb'/[^"]+\.jpg')


class SlowBenchSite(BenchSite):
    """BenchSite answering pages after `delay` seconds, so a run lasts long enough to be killed mid-way
    (the image host, a CDN, answers at once)."""

    def __init__(self, pages: int, delay: float):
        super().__init__(pages)
        self.delay = delay

    def resolve(self, host, path_qs):
        if host == HOST and path_qs != "/robots.txt":
            time.sleep(self.delay)
        return super().resolve(host, path_qs)


@dataclass
class CrashLoopResult:
    pages: int
    kills: int
    kills_landed: int = 0  # kills that hit a running crawl (not one that had already ended)
    kills_mid_fetch: int = 0  # of those, kills after the run had fetched pages (not still starting up)
    runs: int = 0
    seconds: float = 0.0
    fetches: int = 0  # page responses over all runs: fetches - pages is what re-fetching cost
    requisite_fetches: int = 0  # the pages' images over all runs (robots.txt left out of both)
    reconciled: dict = field(default_factory=dict)  # summed over runs, from runs.jsonl
    final_exit: int | None = None
    problems: list[str] = field(default_factory=list)
    archived_pages: int = 0
    articles: int = 0
    rollback_rows: int = 0  # manifest lines that undid an entry (every run's, killed ones included)
    tails: int = 0  # bytes cut off repaired WARC files, kept as *.tail
    requisites: int = 0  # requisite URLs the archived articles name (verify_crawl's count)
    # Of those, with no response or revisit record at the end; each is also a problem (a loss).
    requisites_missing: int = 0
    # Requisite URLs the image host served more than once: a kill came after the fetch but before its
    # record was on disk and settled in the crawl state (or before the run's first state commit).
    requisites_refetched: int = 0
    archived_articles: int = 0  # article pages with a 200 response record at the end
    archived_articles_missing: int = 0  # of those, not in the corpus (each also a problem)

    @property
    def refetched(self) -> int:
        return max(0, self.fetches - self.pages)


def crawl_command(work: Path, url_file: Path, concurrency: int = 8) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={url_file}", "-a", "depth=0"]
    for name, value in {"WARC_DIR": work / "warc", "CORPUS_DIR": work / "corpus",
                        "LOG_FILE": work / "crawl.log", "AUTOTHROTTLE_ENABLED": False,
                        "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
                        "CRAWL_REPORT": work / "runs.jsonl"}.items():
        command += ["-s", f"{name}={value}"]
    return command


def run_crash_loop(work: Path, *, pages: int, kills: int, seed: int, delay: float = 0.25,
                   kill_after: tuple[float, float] = (1.0, 5.0), log=print) -> CrashLoopResult:
    """Kill, re-run, ..., finish; then verify. `work` must be empty or absent.

    The server answers each page after `delay` seconds and the crawl fetches 8 at a time
    (~30 pages/s), so a kill `kill_after` seconds into a run (start-up included) lands in the
    middle of fetching, extracting and writing, not only after the crawl has ended."""
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    urls = [article_url(n) for n in range(pages)]
    url_file = work / "urls.txt"
    url_file.write_text("".join(u + "\n" for u in urls))
    site = SlowBenchSite(pages, delay)
    server = FixtureServer(site)
    server.handle_error = lambda request, address: None  # a killed crawler resets its connections: expected
    server.start_background()
    result = CrashLoopResult(pages=pages, kills=kills)
    started = time.monotonic()
    env = {**os.environ, **server.proxy_env()}
    try:
        for k in range(kills + 1):
            last = k == kills
            with site.lock:
                before = len(site.hits)
            proc = subprocess.Popen(crawl_command(work, url_file), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            result.runs += 1
            if last:
                code = proc.wait(timeout=600)
                result.final_exit = code
                log(f"run {k + 1}: to the end, exit {code}")
            else:
                wait = rng.uniform(*kill_after)
                whole_group = k % 2 == 1
                # Every other pair of kills is timed from the run's first page fetch, not from its
                # start: on a loaded machine a crawl took over 5 s to start, and every kill timed from
                # the start came before the first page (session 13), a loop that tested start-up only.
                from_first_page = k % 4 >= 2
                if from_first_page:
                    _await_first_page(site, before, proc)
                    wait -= kill_after[0]
                try:
                    proc.wait(timeout=wait)
                    log(f"run {k + 1}: ended by itself (exit {proc.returncode}) before the kill at {wait:.1f} s")
                except subprocess.TimeoutExpired:
                    if whole_group:
                        os.killpg(proc.pid, signal.SIGKILL)
                    else:  # the writer process lives on and finishes its file; the next run must cope with that
                        os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
                    result.kills_landed += 1
            with site.lock:
                fetched = [h for h in site.hits[before:] if "/robots.txt" not in h]
            pages = sum(urlsplit(h).hostname == HOST for h in fetched)
            result.fetches += pages
            result.requisite_fetches += len(fetched) - pages
            if not last and proc.returncode == -signal.SIGKILL:
                result.kills_mid_fetch += pages > 0
                log(f"run {k + 1}: SIGKILL {'process group' if whole_group else 'crawler'} at {wait:.1f} s "
                    f"{'after the first page' if from_first_page else 'into the run'}, "
                    f"after {pages} page and {len(fetched) - pages} requisite fetches")
        result.seconds = round(time.monotonic() - started, 1)
    finally:
        server.shutdown()
        server.server_close()
    result.reconciled = _summed_reconciliation(work / "runs.jsonl")  # runs that reached their end
    manifest = work / "corpus" / "manifest.jsonl"
    result.rollback_rows = sum('"update": "rollback"' in line for line in manifest.read_text("utf-8").splitlines()) \
        if manifest.exists() else 0
    result.tails = len(list((work / "warc").glob("*.tail")))
    report = verify_crawl(work / "warc", work / "corpus", state=work / "state.sqlite", expected_urls=urls,
                          requisites=True, archived_articles=True)
    result.problems = report.problems
    result.archived_pages = report.archived_pages
    result.requisites, result.requisites_missing = report.requisites, len(report.requisites_missing)
    result.archived_articles = report.archived_articles
    result.archived_articles_missing = len(report.archived_articles_missing)
    # The site's own list, independent of the crawler's reading of its pages.
    unseen = sorted(_embedded_images(site, len(urls)) - _archived_urls(work / "warc"))
    result.problems += [f"image {url}: embedded by a page, never archived" for url in unseen[:20]]
    with site.lock:
        served = Counter(h for h in site.hits if urlsplit(h).hostname == IMAGE_HOST)
    result.requisites_refetched = sum(1 for n in served.values() if n > 1)
    result.articles = report.articles
    if result.final_exit != 0:
        result.problems.append(f"the last run exited {result.final_exit}")
    if kills and not result.kills_mid_fetch:
        result.problems.append(f"none of the {kills} kills came after a page was fetched: the loop tested "
                               "start-up only")
    return result


def _await_first_page(site, before: int, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Wait until this run has fetched an article page (or ended, or `timeout` passed)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        with site.lock:
            if any(urlsplit(h).hostname == HOST for h in site.hits[before:]):
                return
        time.sleep(0.02)


def _embedded_images(site: BenchSite, pages: int) -> set[str]:
    return {m.decode() for n in range(pages) for m in _IMAGE_URL.findall(site.render(n))}


def _archived_urls(warc_dir: Path) -> set[str]:
    urls = set()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            urls.update(r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(stream)
                        if r.rec_type == "response")
    return urls


def _summed_reconciliation(runs_file: Path) -> dict:
    totals: dict[str, int] = {}
    if not runs_file.exists():
        return totals
    for line in runs_file.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        for key, value in (row.get("reconciled") or {}).items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    return totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="independent loops, each with seed+i")
    parser.add_argument("--keep", action="store_true", help="keep the work directories")
    parser.add_argument("--kill-after", default="1,5", metavar="LOW,HIGH",
                        help="seconds into a run the kill comes, uniformly between the two (default 1,5); "
                             "every other pair of kills comes 0 to HIGH-LOW seconds after the run's first "
                             "page fetch instead, so some land mid-crawl however slowly a crawl starts")
    args = parser.parse_args(argv)
    try:
        low, high = (float(x) for x in args.kill_after.split(","))
    except ValueError:
        parser.error(f"--kill-after {args.kill_after!r}: expected LOW,HIGH seconds, e.g. 1,5")
    if not 0 <= low <= high:
        parser.error(f"--kill-after {args.kill_after!r}: expected 0 <= LOW <= HIGH")
    kill_after = (low, high)
    failed = False
    for i in range(args.rounds):
        work = Path(tempfile.mkdtemp(prefix="bench-crash-"))
        result = run_crash_loop(work, pages=args.pages, kills=args.kills, seed=args.seed + i, kill_after=kill_after)
        figures = {**asdict(result), "refetched": result.refetched}
        print(json.dumps(figures, indent=1, ensure_ascii=False))
        if result.problems:
            failed = True
            print(f"LOSS: {len(result.problems)} problem(s); work dir kept: {work}", file=sys.stderr)
        elif not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
