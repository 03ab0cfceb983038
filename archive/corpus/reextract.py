"""`python -m archive extract`: rebuild the corpus from WARC files, offline.

The archive is the source of truth (docs/design.md): this re-runs extraction over
every archived 2xx article page and writes the same corpus files the crawl
wrote. Work is split so the output does not depend on the number of cores:

- the main process walks the WARC files (`archive.warc.reader`), in record order;
- worker processes (`archive.extract.pool.ExtractionPool`, as the crawl uses)
  only run `extract_article`, the CPU-heavy part; results come back in
  submission order through a bounded window;
- the main process alone writes the corpus, in the corpus order (WARC-Date,
  then URL: archive/corpus/ordering.py, the order a crawl writes in too), once
  every page is extracted (the results wait in a temporary file), with the WARC
  pointer of each page, WARC-Date as `fetched_at`, and the request record's
  Referer as `found_from` (the page that linked to it).

Which URLs are articles and which extraction hints apply is site knowledge:
`SiteRules` takes it as plain callables, so this module needs no crawler
code; the command builds them from `archive.sites` (pure data, no Scrapy).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from archive.corpus.neardup.fingerprint import Fingerprint
from archive.corpus.ordering import SortedSpill, order_key
from archive.corpus.store import Corpus, CorpusError
from archive.extract.article import Article, ExtractionHints
from archive.extract.pool import (DEFAULT_TIME_BUDGET, ExtractionPool, ExtractionTimedOut, PoolBroken, WorkerDied,
                                  default_workers)
from archive.warc.httpcodec import DEFAULT_MAX_BODY
from archive.warc.reader import CapturedResponse, ReadReport, WarcFormatError, check_warc_file, find_warc_files, iter_responses
from archive.urls import site_of
from archive.paths import SHIPPED_SEEDS

__all__ = ["SiteRules", "ReextractStats", "reextract", "add_arguments", "run", "DEFAULT_SEEDS"]

# The crawl's default (CORPUS_SEEDS): a re-extracted corpus numbers its files the same way.
DEFAULT_SEEDS = SHIPPED_SEEDS
_WINDOW_PER_WORKER = 4  # extraction jobs in flight per worker: enough to hide IPC, bounded memory

@dataclass(frozen=True)
class SiteRules:
    """Site knowledge re-extraction needs, as callables.

    The defaults know no site: every 2xx page is tried, plain trafilatura
    settings, the host as the site name. `is_article_page(url, body,
    charset)` is the content test the crawl applies on hosts without a
    profile, where the page, not the URL shape, decides; it is asked, instead
    of `is_article_url`, for the pages for which `needs_page_check(url)` is true.
    """

    hints_for: Callable[[str], ExtractionHints | None] = lambda url: None
    is_article_url: Callable[[str], bool] = lambda url: True
    site_for: Callable[[str], str | None] = site_of  # the manifest's `site`: the host, as seed rows
    needs_page_check: Callable[[str], bool] = lambda url: False
    is_article_page: Callable[[str, bytes, str | None], bool] = lambda url, body, charset: True

    @classmethod
    def from_site_profiles(cls) -> "SiteRules":
        """The crawler's site profiles and its article test (archive.sites is pure data, no Scrapy)."""
        from archive.sites import profile_for

        return cls(hints_for=lambda url: profile_for(url).extraction,
                   is_article_url=lambda url: profile_for(url).is_article_url(url),
                   needs_page_check=lambda url: profile_for(url).name.startswith("generic:"),
                   is_article_page=_generic_article_page)


def _generic_article_page(url: str, body: bytes, charset: str | None) -> bool:
    """The crawl's test for an article on a host without a profile (archive.sites.generic)."""
    from parsel import Selector

    from archive.sites.generic import is_article_page

    from archive.extract.article import decode_html

    try:
        text = decode_html(body, charset)[0]
    except Exception:  # empty or binary: not an article, as extraction would say
        return False
    return is_article_page(url, Selector(text=text))


@dataclass
class ReextractStats:
    pages: int = 0  # 2xx article pages extracted
    skipped_truncated: int = 0
    skipped_too_large: int = 0  # body over the reader's bound, as stored or decoded (a bomb)
    timed_out: int = 0  # extraction stopped by the time budget (or its worker died)
    failed: int = 0  # extraction raised, or its answer could not be loaded (the page alone is skipped)
    outcomes: Counter = field(default_factory=Counter)  # Corpus.add status -> count
    seconds: float = 0.0
    report: ReadReport = field(default_factory=ReadReport)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def reextract(
    warc_files: Iterable[str | Path],
    corpus: Corpus,
    *,
    rules: SiteRules | None = None,
    workers: int = 0,
    on_page: Callable[[CapturedResponse], None] | None = None,
) -> ReextractStats:
    """Extract every archived 2xx article page of `warc_files` into `corpus`; returns the counts.

    `workers` extraction processes run beside this one (0: extract inline);
    the corpus is still written by this process in (WARC-Date, URL) order, so
    the output does not depend on it.
    `on_page` is called for each page once it is extracted (progress).
    """
    rules = rules or SiteRules()
    stats = ReextractStats()
    started = time.perf_counter()

    def wanted(url: str, status: int) -> bool:
        return 200 <= status < 300 and (rules.is_article_url(url) or rules.needs_page_check(url))

    def jobs() -> Iterator[tuple[CapturedResponse, tuple]]:
        for response in iter_responses(warc_files, select=wanted, report=stats.report):
            if response.truncated:  # an incomplete page would become an incomplete article
                stats.skipped_truncated += 1
                continue
            if response.too_large:  # a bomb in the archive: decoded no further than the bound
                stats.skipped_too_large += 1
                continue
            if not (rules.is_article_page(response.url, response.payload, response.charset)
                    if rules.needs_page_check(response.url) else rules.is_article_url(response.url)):
                continue  # archived only, as in the crawl
            yield response, (response.payload, response.url, rules.hints_for(response.url), response.charset)

    spill = SortedSpill()
    try:
        for response, outcome in _ordered_map(jobs(), workers):
            if isinstance(outcome, Exception):
                if isinstance(outcome, (ExtractionTimedOut, WorkerDied)):
                    stats.timed_out += 1
                else:
                    stats.failed += 1
                print(f"warning: {response.url} ({response.warc_file}@{response.offset}): {outcome}",
                      file=sys.stderr)
                continue
            article, fingerprint = outcome
            stats.pages += 1
            spill.add(order_key(response.warc_date, response.url), (article, fingerprint, dict(
                site=rules.site_for(response.url),
                warc_file=response.warc_file,
                warc_offset=response.offset,
                warc_record_id=response.record_id,
                warc_payload_digest=response.payload_digest,
                # The crawl's own format: UTC, whole seconds.
                fetched_at=response.fetched_at.isoformat(timespec="seconds"),
                found_from=response.referer,
            )))
            if on_page is not None:
                on_page(response)
        for article, fingerprint, provenance in spill.drain():
            stats.outcomes[corpus.add(article, fingerprint=fingerprint, **provenance).status] += 1
    finally:
        spill.close()
    stats.seconds = time.perf_counter() - started
    return stats


def _ordered_map(items: Iterable[tuple[CapturedResponse, tuple]], workers: int,
                 time_budget: float | None = DEFAULT_TIME_BUDGET) -> Iterator[tuple[CapturedResponse, tuple[Article, Fingerprint | None] | Exception]]:
    """`(response, (article, fingerprint))` for each `(response, extract_article arguments)`, in input order;
    `(response, exception)` for a page whose extraction failed alone (it overran the time budget, killed
    its worker, raised, or answered what cannot be loaded). `PoolBroken` (no page can be extracted any
    more) is raised.

    Extraction runs in an `ExtractionPool` of `workers` processes (inline for
    0). At most `workers * _WINDOW_PER_WORKER` pages are in flight, so a
    large archive streams through in bounded memory (Pool.imap would read
    ahead without limit).
    """
    pool = ExtractionPool(max(workers, 0), time_budget=time_budget)
    window = max(1, workers * _WINDOW_PER_WORKER)
    in_flight: deque[tuple[CapturedResponse, Future]] = deque()
    try:
        for response, arguments in items:
            in_flight.append((response, pool.submit_with_fingerprint(*arguments)))
            if len(in_flight) >= window:
                yield _settled(*in_flight.popleft())
        while in_flight:
            yield _settled(*in_flight.popleft())
    finally:
        pool.close()


def _settled(response: CapturedResponse, future: Future):
    try:
        return response, future.result()
    except PoolBroken:
        raise
    except Exception as exc:  # this page alone: reported and skipped, as the crawl does (pages/extraction_failed)
        return response, exc


# --------------------------------------------------------------------------- command
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="WARC_OR_DIR",
                        help="WARC files, or directories searched for *.warc[.gz][.open]")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="corpus directory to write")
    parser.add_argument("--workers", type=int, default=default_workers(), metavar="N",
                        help="extraction processes beside the one writing the corpus "
                             "(default: the number of cores; 0 = extract inline)")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=Path, metavar="DIR", default=None,
                       help=f"seed directory a new corpus starts with (default: {DEFAULT_SEEDS.name}/ "
                            "of this repository, as the crawl)")
    seeds.add_argument("--no-seeds", action="store_true", help="start an empty corpus")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    if args.workers < 0:
        raise UserError(f"--workers must be 0 (extract inline) or more, not {args.workers}")
    files = find_warc_files(args.inputs)  # WarcFormatError: reported by archive.cli
    readable = []
    for path in files:
        try:
            check_warc_file(path)
        except WarcFormatError as exc:
            if not path.name.endswith(".open"):
                raise UserError(str(exc)) from None
            # A crawl that died (or is starting) may leave an empty or unreadable .open file.
            print(f"warning: skipped {exc}", file=sys.stderr)
            continue
        readable.append(path)
    if not readable:
        raise UserError(f"no readable WARC files (*.warc, *.warc.gz, *.open) in {' '.join(args.inputs)}")
    files = readable
    seeds_dir = None if args.no_seeds else (args.seeds or (DEFAULT_SEEDS if DEFAULT_SEEDS.is_dir() else None))
    if seeds_dir is not None and not seeds_dir.is_dir():
        raise UserError(f"--seeds: not a directory: {seeds_dir}")
    try:
        corpus = Corpus(args.out, seeds_dir)
    except CorpusError as exc:
        raise UserError(str(exc)) from None

    rules = SiteRules.from_site_profiles()
    try:
        with corpus, _progress_bar(files) as on_page:
            stats = reextract(files, corpus, rules=rules, workers=args.workers, on_page=on_page)
    except PoolBroken as exc:  # (the corpus is written after every page is extracted: nothing was added)
        print(f"error: the extraction workers failed ({exc.__cause__ or exc}); nothing was added to {args.out}",
              file=sys.stderr)
        return 1
    _print_summary(stats, len(files), args.out)
    return 0


class _progress_bar:
    """A rich progress bar over the archive's bytes, on a terminal only (no-op otherwise).

    It appears with the first article page, so input errors and empty archives
    print no bar.
    """

    def __init__(self, files: list[Path]):
        self.files = files
        self.progress = None

    def __enter__(self) -> Callable[[CapturedResponse], None] | None:
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        before, total = {}, 0
        for path in self.files:
            before[path.name] = total
            total += path.stat().st_size
        pages = 0
        task = None

        def on_page(response: CapturedResponse) -> None:
            nonlocal pages, task
            if self.progress is None:
                self.progress = Progress(TextColumn("re-extracting"), BarColumn(), DownloadColumn(),
                                         TextColumn("{task.fields[pages]} pages"), TimeRemainingColumn(),
                                         console=Console(stderr=True), transient=True)
                task = self.progress.add_task("extract", total=total, pages=0)
                self.progress.start()
            pages += 1
            self.progress.update(task, completed=before.get(response.warc_file, 0) + response.offset, pages=pages)

        return on_page

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()


def _print_summary(stats: ReextractStats, files: int, out: Path) -> None:
    report = stats.report
    outcomes = ", ".join(f"{status} {count}" for status, count in sorted(stats.outcomes.items())) or "none"
    print(f"re-extracted {stats.pages} article pages from {files} WARC file(s) "
          f"({report.records} records) in {stats.seconds:.1f} s ({stats.pages_per_second:.1f} pages/s) → {out}")
    print(f"corpus: {outcomes}")
    if stats.skipped_truncated:
        print(f"skipped {stats.skipped_truncated} truncated response(s)")
    if stats.skipped_too_large:
        print(f"skipped {stats.skipped_too_large} response(s) too large to decode (over {DEFAULT_MAX_BODY:,} bytes)")
    if stats.timed_out:
        print(f"skipped {stats.timed_out} page(s) whose extraction timed out (over {DEFAULT_TIME_BUDGET:g} s)")
    if stats.failed:
        print(f"skipped {stats.failed} page(s) whose extraction failed (each named in a warning above)")
    for problem in report.problems:
        where = f"@{problem.offset}" if problem.offset is not None else ""
        print(f"warning: {problem.warc_file}{where}: {problem.message}", file=sys.stderr)
    for revisit in report.unresolved_revisits:
        print(f"warning: revisit not resolved (original not in these files): {revisit.url} "
              f"({revisit.warc_file}@{revisit.offset}, refers to {revisit.refers_to})", file=sys.stderr)
