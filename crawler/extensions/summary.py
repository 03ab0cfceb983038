"""End-of-crawl summary: what was fetched, archived and written, and where."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from scrapy import signals

from crawler.exitcodes import crawl_verdict, fail_ratio, url_counts
from crawler.extensions.outcomes import failure_breakdown, network_hint
from crawler.refusals import refusal_counts, refused_downloads
from crawler.requisites import page_status_counts, requisite_counts


class CrawlSummary:
    """Prints a short human summary when the spider closes (stdout, after the logs)."""

    def __init__(self, settings, stats):
        self.settings = settings
        self.stats = stats
        self.started = time.time()

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler.settings, crawler.stats)
        # engine_stopped comes after every spider_closed handler, so the WARC files are closed by then.
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def warc_files(self) -> list[Path]:
        warc_dir = Path(self.settings.get("WARC_DIR"))
        return sorted(p for p in warc_dir.glob("*.warc.gz") if p.stat().st_mtime >= self.started - 1)

    def render(self) -> str:
        s = self.stats.get_value
        by_status = sorted((int(k), v) for k, v in page_status_counts(self.stats.get_stats()).items())
        lines = [
            "Crawl summary",
            f"  pages fetched     {s('downloader/response_count', 0) - s('requisites/fetched', 0)}"
            + (f"  (by status: {', '.join(f'{c}×{n}' for c, n in by_status)})" if by_status else ""),
            self._urls_line(),
            *self._requisites_line(),
            f"  download errors   {s('downloader/exception_count', 0) - refused_downloads(self.stats.get_stats())}"
            " (attempts, retries included)",
            f"  finish reason     {s('finish_reason', '?')}",
        ]
        refused = refusal_counts(self.stats.get_stats())
        if refused or s("pages/not_parsed"):
            # What a hostile page cost nothing but a log line and this count (docs/security.md).
            lines.append("  refused           " + (", ".join(f"{kind} {n}" for kind, n in refused.items()) or "none")
                         + f"; not parsed (archived only) {s('pages/not_parsed', 0)}"
                         + (f", of which extraction timed out {s('pages/extraction_timed_out')}"
                            if s("pages/extraction_timed_out") else ""))
        if any(k.startswith("incremental/") for k in self.stats.get_stats()):
            lines.append(
                f"  re-crawl          new {s('incremental/new', 0)}, changed {s('incremental/changed', 0)}, "
                f"unchanged {s('incremental/unchanged', 0) + s('incremental/not-modified', 0)}; "
                f"known articles skipped: not due {s('incremental/skipped_not_due', 0)}, "
                f"lastmod unchanged {s('incremental/skipped_lastmod', 0)}; "
                f"fetched for a newer lastmod {s('incremental/due_lastmod', 0)}")
        reconciled = {k.split("/", 1)[1]: v for k, v in self.stats.get_stats().items()
                      if k.startswith("reconciled/") and v and k != "reconciled/checked"}
        if reconciled:
            lines.append("  after a crash     " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in reconciled.items())
                         + " (pages rolled back are fetched again)")
        if self.settings.getbool("WARC_ENABLED"):
            files = self.warc_files()
            lines.append(f"  WARC records      {s('warc/records', 0)} in {len(files)} file(s) "
                         f"under {self.settings.get('WARC_DIR')}")
            lines += [f"    {p.name}  {p.stat().st_size:,} bytes" for p in files]
        if self.settings.getbool("EXTRACT_ENABLED"):
            lines += [
                f"  articles written  {s('corpus/written', 0)} → {self.settings.get('CORPUS_DIR')}"
                f" (manifest: {Path(self.settings.get('CORPUS_DIR')) / 'manifest.jsonl'})",
                f"  not articles      {s('articles/not_article', 0)}; off topic (archived only) "
                f"{s('topic/off_topic', 0)}; "
                f"duplicates/seed matches {sum(v for k, v in self.stats.get_stats().items() if k.startswith('corpus/') and k != 'corpus/written')}",
            ]
        hint = network_hint(self.stats.get_stats(), self.settings)
        if hint:
            lines.append(f"  hint: {hint}")
        verdict = crawl_verdict(self.stats.get_stats(), fail_ratio(self.settings))
        lines.append(f"  exit code         {verdict.code} ({verdict.reason})")
        return "\n".join(lines)

    def _requisites_line(self) -> list[str]:
        """Page requisites apart from pages: fetched, bytes, deduplicated, refused (by why), failed."""
        counts = requisite_counts(self.stats.get_stats())
        if not counts["requested"] and not counts["deduplicated"]:
            return []
        refused = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts["refused_by"].items())
        return [f"  requisites        fetched {counts['fetched']} ({counts['bytes']:,} bytes), "
                f"shared/deduplicated {counts['deduplicated']}, refused {counts['refused']}"
                + (f" ({refused})" if refused else "")
                + f", failed {counts['failed']}, HTTP errors {counts['http_errors']}"
                + (f", media skipped {counts['skipped_media']}" if counts["skipped_media"] else "")]

    def _urls_line(self) -> str:
        """How many URLs failed (after retries) and why, grouped."""
        stats = self.stats.get_stats()
        total, failed = url_counts(stats)
        causes = ", ".join(f"{cause} {count}" for cause, count in failure_breakdown(stats).items())
        not_tried = stats.get("urls/not_attempted", 0)
        return (f"  URLs failed       {failed} of {total}" + (f" ({causes})" if causes else "")
                + (f"; {not_tried} not attempted, their host unreachable" if not_tried else ""))

    def engine_stopped(self):
        print(self.render(), flush=True)
        stats_file = self.settings.get("CRAWL_STATS_FILE")
        if stats_file:
            # Machine-readable stats for scripts and benchmarks; temp + rename so readers never see half a file.
            target = Path(stats_file)
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text(json.dumps(self.stats.get_stats(), default=str, indent=1), "utf-8")
            os.replace(tmp, target)
