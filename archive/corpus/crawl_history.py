"""What a crawl leaves beside its corpus, read back: WARC captures, crawl ids, runs, topic verdicts.

The dataset card names the crawls and WARC files an export came from; the
crawl report charts fetches, statuses and topic decisions. Both read the same
files, found where a crawl writes them by default (`data/warc/`,
`data/runs.jsonl`, a `crawl.log` beside them) unless given:

- captures: each WARC file's CDXJ index when it is there and up to date (no
  WARC is decompressed), else the WARC record headers;
- crawl ids: the `isPartOf` field of each WARC file's warcinfo record;
- runs: `runs.jsonl`, one JSON line per crawl run (crawler/extensions/report.py);
- off-topic pages: only the crawl log names them, with their topic score
  (`off topic (score 0.125 < 0.18), archived only: URL`): they are archived
  but never reach the manifest.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.warc.reader import READ_ERRORS
from archive.warc.cdxj import warc_index_path
from archive.warc.cdxj_lookup import Capture
from archive.warc.records import parse_warc_date
from archive.corpus.reader import CorpusReadError
from archive.warc.reader import find_warc_files

__all__ = ["FetchRecord", "WarcFile", "CrawlHistory", "TopicVerdict", "locate_history"]

HTTP_RECORDS = ("response", "revisit")
_OFF_TOPIC = re.compile(r"off topic \(score ([0-9.]+) < ([0-9.]+)\), archived only: (\S+)")


@dataclass(frozen=True)
class FetchRecord:
    """One HTTP capture in the archive."""

    date: datetime  # WARC-Date, UTC, whole seconds
    status: int | None
    url: str
    revisit: bool


@dataclass(frozen=True)
class WarcFile:
    name: str
    path: Path | None  # None: named by the manifest but not found
    crawl_id: str | None  # warcinfo `isPartOf`


@dataclass(frozen=True)
class TopicVerdict:
    """A page the topic gate dropped (archived only), as the crawl log records it."""

    score: float
    threshold: float
    url: str


@dataclass(frozen=True)
class CrawlHistory:
    """Where a corpus's crawl records are; each one may be absent (None)."""

    warc_dir: Path | None
    runs_path: Path | None
    log_path: Path | None

    def warc_paths(self) -> list[Path]:
        return find_warc_files([self.warc_dir]) if self.warc_dir else []

    def warc_files(self, names: list[str]) -> list[WarcFile]:
        """The WARC files `names` (as the manifest gives them), found in the WARC directory or not."""
        by_name = {p.name: p for p in self.warc_paths()}
        found = []
        for name in names:
            path = by_name.get(Path(name).name)
            found.append(WarcFile(name, path, _crawl_id(path) if path else None))
        return found

    def fetches(self) -> Iterator[FetchRecord]:
        for path in self.warc_paths():
            index = warc_index_path(path)
            indexed = _indexed_fetches(index) if index.is_file() and \
                index.stat().st_mtime_ns >= path.stat().st_mtime_ns else None
            yield from indexed if indexed is not None else _scanned_fetches(path)

    def runs(self) -> list[dict]:
        """The crawl runs, oldest first; an unreadable line (a run killed mid-write) is left out."""
        if not self.runs_path:
            return []
        runs = []
        for line in self.runs_path.read_text("utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                run = json.loads(line)
                if isinstance(run, dict):
                    runs.append(run)
        return runs

    def off_topic(self) -> list[TopicVerdict]:
        if not self.log_path:
            return []
        with self.log_path.open(encoding="utf-8", errors="replace") as log:
            return [TopicVerdict(float(m.group(1)), float(m.group(2)), m.group(3))
                    for m in map(_OFF_TOPIC.search, log) if m]


def locate_history(corpus_dir: Path, *, warc_dir: Path | None = None, runs: Path | None = None,
                   log: Path | None = None) -> CrawlHistory:
    """The crawl records of `corpus_dir`: those given, else where a crawl puts them by default.

    A crawl's output directory holds `warc/` and `corpus/` side by side, and
    `runs.jsonl` (beside the crawl state, itself beside `warc/`) and the log
    next to them: `data/` for `make crawl`, `data/demo/` for `make demo`.
    """
    home = corpus_dir.parent

    def given_or_default(path: Path | None, default: Path, what: str, is_dir: bool = False) -> Path | None:
        if path is not None:
            if not (path.is_dir() if is_dir else path.is_file()):
                raise CorpusReadError(f"{what} {path} does not exist")
            return path
        return default if (default.is_dir() if is_dir else default.is_file()) else None

    return CrawlHistory(given_or_default(warc_dir, home / "warc", "WARC directory", is_dir=True),
                        given_or_default(runs, home / "runs.jsonl", "runs file"),
                        given_or_default(log, home / "crawl.log", "crawl log"))


def _indexed_fetches(index: Path) -> list[FetchRecord] | None:
    """The captures a CDXJ index lists; None when it cannot be read (the WARC is scanned instead)."""
    try:
        with index.open(encoding="utf-8") as lines:
            captures = [Capture.from_line(line) for line in lines if line.strip()]
            return [FetchRecord(c.fetched_at, c.status, c.url, c.is_revisit) for c in captures]
    except (OSError, ValueError):
        return None


def _scanned_fetches(path: Path) -> Iterator[FetchRecord]:
    with contextlib.redirect_stderr(io.StringIO()), path.open("rb") as fh:
        iterator = ArchiveIterator(fh)
        with contextlib.suppress(*READ_ERRORS):  # a damaged tail: what came before it still counts
            for record in iterator:
                if record.rec_type in HTTP_RECORDS and record.http_headers is not None:
                    headers = record.rec_headers
                    status = record.http_headers.get_statuscode()
                    yield FetchRecord(_warc_date(headers.get_header("WARC-Date")),
                                      int(status) if status and status.isdigit() else None,
                                      headers.get_header("WARC-Target-URI") or "", record.rec_type == "revisit")


def _warc_date(value: str) -> datetime:
    return parse_warc_date(value).replace(microsecond=0)


def _crawl_id(path: Path) -> str | None:
    """`isPartOf` of the file's warcinfo record (the crawl's `WARC_CRAWL_ID`), if it has one."""
    with contextlib.redirect_stderr(io.StringIO()), path.open("rb") as fh:
        with contextlib.suppress(*READ_ERRORS):
            for record in ArchiveIterator(fh):
                if record.rec_type != "warcinfo":
                    return None
                for line in record.content_stream().read().decode("utf-8", errors="replace").splitlines():
                    key, _, value = line.partition(":")
                    if key.strip() == "isPartOf":
                        return value.strip() or None
                return None
    return None
