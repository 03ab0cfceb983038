"""The figures of one crawl run, computed once from its stats.

The end-of-crawl log summary (crawler/extensions/summary.py) and the
`runs.jsonl` line (crawler/extensions/report.py) both show them, so a figure
means the same in both. Keys are `runs.jsonl`'s names; the few only the log
summary prints are marked.
"""
from __future__ import annotations

from typing import Any, Mapping

from crawler.exitcodes import crawl_verdict, fail_ratio, url_counts
from crawler.extensions.outcomes import failure_breakdown
from crawler.refusals import refusal_counts, refused_downloads
from crawler.requisites import page_status_counts, requisite_counts


def _prefixed(stats: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def run_summary(stats: Mapping[str, Any], settings) -> dict[str, Any]:
    """What the run fetched, archived, wrote, skipped, refused and failed, and its exit code."""
    get = lambda key: stats.get(key, 0)  # noqa: E731
    urls_total, _ = url_counts(stats)
    verdict = crawl_verdict(stats, fail_ratio(settings))
    return {
        "finish_reason": stats.get("finish_reason"),
        # Responses to pages (robots.txt, sitemaps and redirects included), page requisites apart.
        "pages_fetched": get("downloader/response_count") - get("requisites/fetched"),
        "requisites": requisite_counts(stats),
        "pages_by_status": page_status_counts(stats),
        "new_pages": get("incremental/new"),
        "changed_pages": get("incremental/changed"),
        "unchanged_pages": get("incremental/unchanged") + get("incremental/not-modified"),
        "not_modified": get("incremental/not-modified"),
        "gone": get("incremental/gone"),
        "skipped_not_due": get("incremental/skipped_not_due"),
        "due_lastmod": get("incremental/due_lastmod"),
        "skipped_lastmod": get("incremental/skipped_lastmod"),
        "new_articles": get("corpus/written"),
        "changed_articles": get("corpus/version"),
        "unchanged_articles": get("incremental/items_unchanged") + get("corpus/duplicate-url"),
        "revisits": get("warc/revisits"),
        "discovered": get("discovery/links"),
        "discovery_skipped_old": get("discovery/skipped_old"),
        "urls_ok": get("urls/ok"),
        "urls_failed": get("urls/failed"),
        "urls_failed_by_cause": failure_breakdown(stats),
        "exit_code": verdict.code,
        "bytes_archived": get("warc/bytes"),
        "warc_records": get("warc/records"),
        "not_articles": _prefixed(stats, "articles/not_article/"),
        "off_topic_pages": get("topic/off_topic"),
        # What this run found left inconsistent by an interrupted one and undid (crawler/extensions/recovery.py).
        "reconciled": _prefixed(stats, "reconciled/"),
        # Hostile pages (docs/security.md): requests refused ("non-public address": never sent;
        # "too large": archived as received, not decoded), pages archived but not parsed.
        "refused": refusal_counts(stats),
        "not_parsed": get("pages/not_parsed"),
        "extraction_timed_out": get("pages/extraction_timed_out"),
        # Pages the extraction pool failed otherwise (a job not sent or not answered; docs/crash-safety.md).
        "extraction_failed": get("pages/extraction_failed"),
        # Printed by the log summary only.
        "exit_reason": verdict.reason,
        "urls_total": urls_total,
        "urls_not_attempted": get("urls/not_attempted"),
        "download_errors": get("downloader/exception_count") - refused_downloads(stats),
        "not_articles_total": get("articles/not_article"),
        "corpus_duplicates": sum(v for k, v in stats.items() if k.startswith("corpus/") and k != "corpus/written"),
        "recrawl": any(k.startswith("incremental/") for k in stats),
    }


# The keys runs.jsonl does not carry (crawler/extensions/report.py).
LOG_ONLY = frozenset({"exit_reason", "urls_total", "urls_not_attempted", "download_errors", "not_articles_total",
                      "corpus_duplicates", "recrawl"})
