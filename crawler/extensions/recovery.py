"""Resume after a crash by itself: repair, then reconcile the state and corpus with the archive.

Built as the first extension, so it runs before any component opens the WARC
writer or the corpus. It opens the crawl state itself (`CRAWL_STATE`, with the
`REVISIT_POLICY`) and holds it: the incremental middlewares fetch it from the
crawler (`crawler.get_extension`), so nothing reads a row it has not checked. The work is in `archive.warc.repair` and
`archive.corpus.consistency`; this module only finds the directories from the
settings and reports what it did (stats `reconciled/*`, the summary line and
`runs.jsonl` via crawler/extensions/report.py).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.utils.misc import load_object

from archive.corpus.consistency import (
    ReconcileSummary,
    WarcLocator,
    mark_corpus_verified,
    reconcile_corpus,
    reconcile_state,
)
from archive.warc.repair import repair_left_open
from archive.state.store import CrawlState
from crawler.runpaths import state_path

logger = logging.getLogger(__name__)

# An orphaned WARC writer (its crawler was killed) finishes its file in about a second, longer on a
# loaded machine. A crawl holding the crawl state is the only crawl on this archive, so a writer still
# holding a file's lock is such an orphan and is waited for, up to this long; without a state
# (distributed crawls share a WARC directory) a locked file is another live crawl's and is left alone.
ORPHAN_WRITER_WAIT = 120.0


class ResumeReconciliation:
    """Reconciles in `from_crawler`; at a clean end, moves the verified points forward, so the
    next run checks only what this one wrote after its last durable moment, not all of it."""

    def __init__(self, crawler, summary: ReconcileSummary, corpus_dir: Path | None,
                 crawl_state: tuple[CrawlState, Any] | None = None):
        self.crawler = crawler
        self.summary = summary
        self.corpus_dir = corpus_dir
        self.crawl_state = crawl_state  # (the state, the revisit policy); None: no incremental state

    def engine_stopped(self) -> None:
        stats = self.crawler.stats
        if stats.get_value("warc/write_errors") or stats.get_value("archive/fatal"):
            return  # the next run checks everything since the last good point
        # Every record is fsynced before anything points at it, and the writer and the corpus
        # have closed by now (spider_closed), so all that was written is a durable checkpoint.
        if self.corpus_dir is not None and self.corpus_dir.is_dir():
            mark_corpus_verified(self.corpus_dir)
        if self.crawl_state is not None:
            try:
                self.crawl_state[0].mark_verified()
            except Exception as exc:  # only an optimisation: the next run then checks a little more
                logger.warning("could not mark the crawl state verified: %s", exc)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        summary = ReconcileSummary()
        warc_dir = Path(settings.get("WARC_DIR")) if settings.getbool("WARC_ENABLED") else None
        if warc_dir is not None:
            wait = ORPHAN_WRITER_WAIT if state_path(settings) is not None else 0.0
            repaired, notes = repair_left_open(warc_dir, wait=wait)
            summary.repaired_files = [str(r.repaired) for r in repaired]
            for result in repaired:
                logger.warning("Repaired %s left open by an interrupted crawl: %d records kept%s", result.original,
                               result.records, f", cut bytes kept in {result.tail}" if result.tail else "")
            for note in notes:
                logger.warning("WARC directory: %s", note)
        locator = WarcLocator(warc_dir) if warc_dir is not None else None
        corpus_dir = None
        if settings.getbool("EXTRACT_ENABLED") and settings.get("CORPUS_DIR"):
            corpus_dir = Path(settings.get("CORPUS_DIR"))
            if corpus_dir.is_dir():
                reconcile_corpus(corpus_dir, locator, summary)
        crawl_state = open_crawl_state(settings)
        if crawl_state is not None:
            reconcile_state(crawl_state[0], locator, summary)
        counts = summary.as_counts()
        for key, value in counts.items():
            crawler.stats.set_value(f"reconciled/{key}", value)
        if summary.changed:
            logger.warning(
                "Resumed after an interrupted crawl: %d WARC file(s) repaired; corpus: %d entr(ies) rolled back "
                "(moved to rolled-back/), %d file(s) without a manifest line moved aside, %d torn line(s); "
                "%d crawl-state row(s) forgotten: those pages are fetched again in this run; %d page(s) still "
                "archived are extracted from the archive",
                counts["warc_repaired"], counts["corpus_rolled_back"], counts["corpus_orphans"],
                counts["torn_lines"], counts["state_rows"], counts["state_reopened"] + counts["state_adopted"])
        extension = cls(crawler, summary, corpus_dir if locator is not None else None, crawl_state)
        # Connected before the state's own close (the middlewares are built after the extensions).
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension


def open_crawl_state(settings) -> tuple[CrawlState, Any] | None:
    """The crawl state (`CRAWL_STATE`) and its `REVISIT_POLICY`; None when incremental crawling is off."""
    path = state_path(settings)
    if path is None:
        return None
    # Raises StateLockedError when another crawl holds it. Writes are batched on the state's own
    # thread, off the event loop; the corpus writer flushes them before each article (crash safety).
    state = CrawlState(path, batched=True)
    return state, load_object(settings.get("REVISIT_POLICY")).from_settings(settings)
