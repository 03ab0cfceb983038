"""One JSON line per crawl run, appended to `CRAWL_REPORT` (default: `runs.jsonl`
beside the crawl state, i.e. `data/runs.jsonl`; empty turns it off).

A scheduled crawl is judged by this file: how many pages it fetched (by
status), how many articles were new, changed or unchanged, how many known
articles were skipped (not due, or unchanged by their sitemap lastmod) or
fetched because their lastmod was newer, how many revisit records replaced a
second copy, what failed and how (`urls_failed_by_cause`), the exit code, what
was refused (non-public addresses, pages too large) or archived without being
parsed (too many tags, extraction timed out), how many bytes went into the
archive, and the peak memory of the whole process tree (crawler, extraction
workers and WARC writer: crawler/extensions/memory.py).
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals

from crawler.runpaths import report_path
from crawler.extensions.memory import PeakRSS, own_peak_rss
from crawler.extensions.run_summary import LOG_ONLY, run_summary
from crawler.refusals import is_refusal_type


class CrawlReport:
    def __init__(self, crawler, path: Path):
        self.crawler = crawler
        self.path = path
        self.started = datetime.now(timezone.utc)
        self.memory = PeakRSS().start()

    @classmethod
    def from_crawler(cls, crawler):
        path = report_path(crawler.settings)
        if path is None:
            from scrapy.exceptions import NotConfigured
            raise NotConfigured("no crawl report (CRAWL_REPORT is empty)")
        ext = cls(crawler, path)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def build(self) -> dict:
        stats = self.crawler.stats.get_stats()
        run = {k: v for k, v in run_summary(stats, self.crawler.settings).items() if k not in LOG_ONLY}
        prefixed = lambda prefix: {k[len(prefix):]: v for k, v in sorted(stats.items())  # noqa: E731
                                   if k.startswith(prefix)}
        errors = {f"download/{k}": v for k, v in prefixed("downloader/exception_type_count/").items()
                  if not is_refusal_type(k)}  # refusals are counted under "refused"
        errors.update({f"spider/{k}": v for k, v in prefixed("news/errors/").items()})
        errors.update({f"warc/{k}": stats[f"warc/{k}"] for k in ("write_errors", "failed_downloads")
                       if stats.get(f"warc/{k}")})
        errors.update({f"spider_exception/{k}": v for k, v in prefixed("spider_exceptions/").items()})
        args = getattr(self.crawler.spider, "args", None)
        crawler_peak = own_peak_rss()
        report = {
            "start": self.started.isoformat(timespec="seconds"),
            "end": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "pid": os.getpid(),
            "finish_reason": run.pop("finish_reason"),
            "since": args.since.isoformat() if getattr(args, "since", None) else None,
        }
        # runs.jsonl's key order, kept: the errors after discovery, the memory after the WARC figures.
        # All processes, sampled every 0.25 s (a shorter spike can be missed, so never less than
        # the crawler's own exact peak); 0 without /proc.
        after = {"discovery_skipped_old": {"errors": errors},
                 "warc_records": {"peak_rss_bytes": max(self.memory.stop(), crawler_peak),
                                  "peak_rss_crawler_bytes": crawler_peak}}
        for key, value in run.items():
            report[key] = value
            report.update(after.get(key, {}))
        return report

    def engine_stopped(self) -> None:
        line = json.dumps(self.build(), ensure_ascii=False, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write of one line with O_APPEND: concurrent appenders never interleave within it.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
