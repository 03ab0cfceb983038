"""One set of run figures: the end-of-crawl log summary and the runs.jsonl line say the same."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

from scrapy.settings import Settings
from scrapy.statscollectors import StatsCollector

from crawler import settings as project
from crawler.extensions.report import CrawlReport
from crawler.extensions.run_summary import LOG_ONLY, run_summary
from crawler.extensions.summary import CrawlSummary

STATS = {"downloader/response_count": 40, "requisites/fetched": 5, "requisites/requested": 7,
         "downloader/response_status_count/200": 30, "downloader/response_status_count/404": 3,
         "downloader/exception_count": 6, "finish_reason": "finished", "incremental/new": 3,
         "incremental/changed": 2, "incremental/unchanged": 4, "incremental/not-modified": 1,
         "incremental/skipped_not_due": 7, "warc/records": 55, "corpus/written": 9, "corpus/duplicate-url": 2,
         "topic/off_topic": 3, "urls/ok": 30, "urls/failed": 4, "urls/failed/timeout": 4}


def _both(tmp_path):
    settings = Settings()
    settings.setmodule(project, "project")
    settings.set("WARC_DIR", str(tmp_path / "warc"))
    settings.set("CORPUS_DIR", str(tmp_path / "corpus"))
    crawler = SimpleNamespace(settings=settings, spider=None)
    crawler.stats = StatsCollector(crawler)
    crawler.stats.set_stats(dict(STATS))
    text = CrawlSummary(settings, crawler.stats).render()
    report = CrawlReport(crawler, tmp_path / "runs.jsonl")
    report.engine_stopped()
    line = json.loads((tmp_path / "runs.jsonl").read_text("utf-8"))
    return settings, text, line


def test_log_summary_and_runs_jsonl_show_the_same_figures(tmp_path):
    settings, text, line = _both(tmp_path)
    figures = run_summary(STATS, settings)
    # Every shared figure is in the runs.jsonl line as the summary function gave it.
    assert {k: v for k, v in line.items() if k in figures} == {k: v for k, v in figures.items() if k not in LOG_ONLY}
    assert re.search(rf"pages fetched +{line['pages_fetched']} ", text)
    assert f"URLs failed       {line['urls_failed']} of {line['urls_ok'] + line['urls_failed']} (timeout 4)" in text
    assert (f"new {line['new_pages']}, changed {line['changed_pages']}, unchanged {line['unchanged_pages']}; "
            f"known articles skipped: not due {line['skipped_not_due']}") in text
    assert f"WARC records      {line['warc_records']} in" in text
    assert f"articles written  {line['new_articles']} →" in text
    assert f"off topic (archived only) {line['off_topic_pages']};" in text
    assert text.rstrip().endswith(f"exit code         {line['exit_code']} (ok)")
