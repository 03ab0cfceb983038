"""End-of-crawl summary: what was fetched, archived and written, and where."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from scrapy import signals

from crawler.extensions.outcomes import network_hint
from crawler.extensions.run_summary import run_summary


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
        stats = self.stats.get_stats()
        run = run_summary(stats, self.settings)
        by_status = sorted((int(k), v) for k, v in run["pages_by_status"].items())
        lines = [
            "Crawl summary",
            f"  pages fetched     {run['pages_fetched']}"
            + (f"  (by status: {', '.join(f'{c}×{n}' for c, n in by_status)})" if by_status else ""),
            self._urls_line(run),
            *self._requisites_line(run["requisites"]),
            f"  download errors   {run['download_errors']} (attempts, retries included)",
            f"  finish reason     {run['finish_reason'] or '?'}",
        ]
        refused = run["refused"]
        if refused or run["not_parsed"] or run["extraction_failed"]:
            # What a hostile page cost nothing but a log line and this count (docs/security.md).
            lines.append("  refused           " + (", ".join(f"{kind} {n}" for kind, n in refused.items()) or "none")
                         + f"; not parsed (archived only) {run['not_parsed']}"
                         + (f", of which extraction timed out {run['extraction_timed_out']}"
                            if run["extraction_timed_out"] else "")
                         + (f"; extraction failed (archived only) {run['extraction_failed']}"
                            if run["extraction_failed"] else ""))
        if run["recrawl"]:
            lines.append(
                f"  re-crawl          new {run['new_pages']}, changed {run['changed_pages']}, "
                f"unchanged {run['unchanged_pages']}; "
                f"known articles skipped: not due {run['skipped_not_due']}, "
                f"lastmod unchanged {run['skipped_lastmod']}; "
                f"fetched for a newer lastmod {run['due_lastmod']}")
        reconciled = {k: v for k, v in run["reconciled"].items() if v and k != "checked"}
        if reconciled:
            lines.append("  after a crash     " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in reconciled.items())
                         + " (pages rolled back are fetched again)")
        if self.settings.getbool("WARC_ENABLED"):
            files = self.warc_files()
            lines.append(f"  WARC records      {run['warc_records']} in {len(files)} file(s) "
                         f"under {self.settings.get('WARC_DIR')}")
            lines += [f"    {p.name}  {p.stat().st_size:,} bytes" for p in files]
        if self.settings.getbool("EXTRACT_ENABLED"):
            lines += [
                f"  articles written  {run['new_articles']} → {self.settings.get('CORPUS_DIR')}"
                f" (manifest: {Path(self.settings.get('CORPUS_DIR')) / 'manifest.jsonl'})",
                f"  not articles      {run['not_articles_total']}; off topic (archived only) "
                f"{run['off_topic_pages']}; duplicates/seed matches {run['corpus_duplicates']}",
            ]
        hint = network_hint(stats, self.settings)
        if hint:
            lines.append(f"  hint: {hint}")
        lines.append(f"  exit code         {run['exit_code']} ({run['exit_reason']})")
        return "\n".join(lines)

    @staticmethod
    def _requisites_line(counts: dict) -> list[str]:
        """Page requisites apart from pages: fetched, bytes, deduplicated, refused (by why), failed."""
        if not counts["requested"] and not counts["deduplicated"]:
            return []
        refused = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts["refused_by"].items())
        return [f"  requisites        fetched {counts['fetched']} ({counts['bytes']:,} bytes), "
                f"shared/deduplicated {counts['deduplicated']}, refused {counts['refused']}"
                + (f" ({refused})" if refused else "")
                + f", failed {counts['failed']}, HTTP errors {counts['http_errors']}"
                + (f", media skipped {counts['skipped_media']}" if counts["skipped_media"] else "")
                + (f", pending from an earlier run {counts['resumed']}" if counts["resumed"] else "")]

    @staticmethod
    def _urls_line(run: dict) -> str:
        """How many URLs failed (after retries) and why, grouped."""
        causes = ", ".join(f"{cause} {count}" for cause, count in run["urls_failed_by_cause"].items())
        not_tried = run["urls_not_attempted"]
        return (f"  URLs failed       {run['urls_failed']} of {run['urls_total']}" + (f" ({causes})" if causes else "")
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
