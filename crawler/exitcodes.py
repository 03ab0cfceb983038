"""The exit codes of `scrapy crawl news`, and the verdict that picks one.

cron and systemd judge a run by its exit code alone, so the code must say
whether the crawl did what was asked. The table is the one in the README and
docs/operations.md; `crawl_verdict` decides from the run's final stats.
"""
from __future__ import annotations

from dataclasses import dataclass

from archive.state.store import EXIT_STATE_LOCKED  # 3: another crawl holds the crawl state

EXIT_OK = 0
EXIT_ERROR = 1  # the archive or corpus could not be written, the extraction workers failed, or Scrapy could not start
EXIT_USAGE = 2  # bad input, refused before the crawl starts
EXIT_CRAWL_FAILED = 4  # nothing fetched, or more than CRAWL_FAIL_RATIO of the URLs failed
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGTERM: Scrapy's graceful shutdown, as `python -m archive`

EXIT_CODES = {
    EXIT_OK: "the crawl did what was asked (no URL due counts as done)",
    EXIT_ERROR: "the archive or corpus could not be written, the extraction workers failed, or the crawler could not start",
    EXIT_USAGE: "bad input (argument, setting, seeds, output directory), refused before the crawl",
    EXIT_STATE_LOCKED: "another crawl is using the same crawl state",
    EXIT_CRAWL_FAILED: "nothing fetched, or more than CRAWL_FAIL_RATIO of the URLs failed",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C, SIGTERM); what was fetched is archived",
}

DEFAULT_FAIL_RATIO = 0.5
# Finish reasons after which the archive or corpus is not what the crawl fetched.
_BROKEN = {"warc_write_error": "the WARC archive could not be written",
           "memusage_exceeded": "memory limit (MEMUSAGE_LIMIT_MB) exceeded",
           "extraction_pool_failed": "the extraction workers failed (the log says why)"}


@dataclass(frozen=True)
class Verdict:
    code: int
    reason: str

    @property
    def ok(self) -> bool:
        return self.code == EXIT_OK


def url_counts(stats: dict) -> tuple[int, int]:
    """(URLs with a final outcome, URLs that failed), as counted by crawler/extensions/outcomes.py."""
    ok = stats.get("urls/ok", 0)
    failed = stats.get("urls/failed", 0)
    return ok + failed, failed


def fail_ratio(settings) -> float:
    """`CRAWL_FAIL_RATIO` as a share in [0, 1]; ValueError for anything else."""
    raw = settings.get("CRAWL_FAIL_RATIO")
    try:
        ratio = DEFAULT_FAIL_RATIO if raw in (None, "") else float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"CRAWL_FAIL_RATIO must be a share between 0 and 1, not {raw!r}") from None
    if not 0 <= ratio <= 1:
        raise ValueError(f"CRAWL_FAIL_RATIO must be a share between 0 and 1, not {raw!r}")
    return ratio


def crawl_verdict(stats: dict, ratio: float) -> Verdict:
    """The exit code of a crawl that ran, from its final stats."""
    if stats.get("archive/fatal"):
        return Verdict(EXIT_ERROR, f"the corpus could not be written: {stats['archive/fatal']}")
    reason = stats.get("finish_reason")
    if reason in _BROKEN:
        return Verdict(EXIT_ERROR, _BROKEN[reason])
    if reason == "shutdown":
        return Verdict(EXIT_INTERRUPTED, "interrupted")
    total, failed = url_counts(stats)
    if failed and failed == total:
        return Verdict(EXIT_CRAWL_FAILED, f"nothing fetched: all {total} URLs failed")
    if failed and failed / total > ratio:
        return Verdict(EXIT_CRAWL_FAILED,
                       f"{failed} of {total} URLs failed, more than CRAWL_FAIL_RATIO={ratio:g}")
    return Verdict(EXIT_OK, "ok")
