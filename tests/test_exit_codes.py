"""A crawl's exit code says how it went (crawler/exitcodes.py), and its summary says why.

The acceptance test of issue 23: through a proxy that refuses every connection,
and through one that never answers, the crawl exits with the failure code
within DOWNLOAD_TIMEOUT × (RETRY_TIMES + 1), grouped causes and one hint line.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
from twisted.internet import error as tx

from crawler.exitcodes import (
    EXIT_CRAWL_FAILED,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    crawl_verdict,
)
from crawler.extensions.outcomes import HostUnreachable, failure_breakdown, failure_group, network_hint
from tests.conftest import REPO, run_crawl
from tests.deadproxy import RefusingProxy, SilentProxy

TIMEOUT, RETRIES = 2, 1  # seconds per attempt; retries after the first attempt
URLS = ",".join([*(f"https://nhandan.vn/bai-{n}-post99000{n}.html" for n in range(3)),
                 *(f"https://thoidai.com.vn/bai-{n}-21900{n}.html" for n in range(3))])
ARTICLE = "https://nhandan.vn/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html"


@pytest.mark.parametrize("proxy_class,cause", [(RefusingProxy, "connect"), (SilentProxy, "timeout")])
def test_a_dead_network_fails_the_crawl_within_one_retry_cycle(tmp_path, proxy_class, cause):
    proxy = proxy_class()
    try:
        started = time.monotonic()
        run = run_crawl(tmp_path, f"urls={URLS}", "depth=0", server=proxy,
                        settings={"DOWNLOAD_TIMEOUT": TIMEOUT, "RETRY_TIMES": RETRIES, "CORPUS_SEEDS": ""})
        wall = time.monotonic() - started
        if isinstance(proxy, SilentProxy):
            assert proxy.connections > 0  # the crawl did go to the proxy, which never answered
    finally:
        proxy.close()
    assert run.returncode == EXIT_CRAWL_FAILED, run.stdout + run.stderr
    budget = TIMEOUT * (RETRIES + 1)
    # From the engine's start to the spider's close; 1.5 s for closing the writer and the pools.
    assert run.stats["elapsed_time_seconds"] <= budget + 1.5, run.stats
    assert wall < 60
    assert f"URLs failed       6 of 6 ({cause} 6)" in run.stdout
    hint = [line for line in run.stdout.splitlines() if line.strip().startswith("hint:")]
    assert len(hint) == 1 and "proxy in use: http://127.0.0.1:" in hint[0]
    assert "exit code         4 (nothing fetched: all 6 URLs failed)" in run.stdout
    [report] = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert report["exit_code"] == EXIT_CRAWL_FAILED
    assert (report["urls_ok"], report["urls_failed"], report["urls_failed_by_cause"]) == (0, 6, {cause: 6})


def test_failed_urls_over_the_ratio_fail_the_crawl_and_under_it_do_not(crawl):
    missing = [f"https://nhandan.vn/khong-co-bai-nay-{n}-post1{n}.html" for n in range(2)]
    args = (f"urls={','.join([ARTICLE, *missing])}", "depth=0", "topic=none")
    failed = crawl(*args, settings={"CORPUS_SEEDS": ""})
    assert failed.returncode == EXIT_CRAWL_FAILED, failed.stderr
    assert "URLs failed       2 of 3 (HTTP 404 2)" in failed.stdout
    assert "more than CRAWL_FAIL_RATIO=0.5" in failed.stdout and "hint:" not in failed.stdout
    tolerant = crawl(*args, settings={"CORPUS_SEEDS": "", "CRAWL_FAIL_RATIO": 0.9})
    assert tolerant.returncode == EXIT_OK, tolerant.stdout + tolerant.stderr
    assert "exit code         0 (ok)" in tolerant.stdout
    # Items are logged by URL and verdict, never their contents (crawler/logformatter.py).
    log = tolerant.log()
    assert "ArticlePage(" not in log and "Scraped from" not in log and " DEBUG: " not in log


def test_a_bad_fail_ratio_is_refused_before_the_crawl(tmp_path):
    run = run_crawl(tmp_path, f"urls={ARTICLE}", settings={"CRAWL_FAIL_RATIO": "most"})
    assert run.returncode == EXIT_USAGE
    assert run.stderr.strip().splitlines()[-1].startswith("error: CRAWL_FAIL_RATIO must be a share")


def test_an_interrupted_crawl_exits_130(tmp_path):
    proxy = SilentProxy()
    try:
        command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={URLS}", "-a", "depth=0",
                   "-s", f"WARC_DIR={tmp_path / 'warc'}", "-s", f"CORPUS_DIR={tmp_path / 'corpus'}",
                   "-s", "CORPUS_SEEDS=", "-s", f"LOG_FILE={tmp_path / 'crawl.log'}",
                   "-s", "DOWNLOAD_TIMEOUT=3", "-s", "RETRY_TIMES=0"]
        proc = subprocess.Popen(command, cwd=REPO, env={**os.environ, **proxy.proxy_env()},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while proxy.connections == 0 and time.monotonic() < deadline:  # the crawl is running
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proxy.close()
    assert proc.returncode == EXIT_INTERRUPTED, out + err
    assert "exit code         130 (interrupted)" in out


# --- the verdict and the causes, without a crawl ---------------------------------------


@pytest.mark.parametrize("stats,code", [
    ({"finish_reason": "finished"}, EXIT_OK),  # nothing was due: done
    ({"finish_reason": "finished", "urls/ok": 9, "urls/failed": 1}, EXIT_OK),
    ({"finish_reason": "finished", "urls/ok": 5, "urls/failed": 5}, EXIT_OK),  # not more than 0.5
    ({"finish_reason": "finished", "urls/ok": 4, "urls/failed": 6}, EXIT_CRAWL_FAILED),
    ({"finish_reason": "finished", "urls/failed": 1}, EXIT_CRAWL_FAILED),
    ({"finish_reason": "shutdown", "urls/failed": 3}, EXIT_INTERRUPTED),
    ({"finish_reason": "warc_write_error", "urls/ok": 3}, EXIT_ERROR),
    ({"finish_reason": "finished", "urls/ok": 3, "archive/fatal": "disk full"}, EXIT_ERROR),
])
def test_verdict(stats, code):
    assert crawl_verdict(stats, 0.5).code == code


def test_failures_are_grouped_by_cause():
    assert failure_group(CannotResolveHostError("x")) == failure_group(tx.DNSLookupError()) == "dns"
    assert failure_group(DownloadTimeoutError("x")) == failure_group(tx.TCPTimedOutError()) == "timeout"
    assert failure_group(DownloadConnectionRefusedError("x")) == failure_group(tx.ConnectionLost()) == "connect"
    assert failure_group(HostUnreachable("nhandan.vn", "dns")) == "dns"
    assert failure_group(ValueError("x")) == "other"
    stats = {"urls/ok": 3, "urls/failed": 4, "urls/failed/dns": 1, "urls/failed/http": 2,
             "urls/failed/http/404": 1, "urls/failed/http/503": 1, "urls/failed/other": 1,
             "urls/failed/other/SSLError": 1}
    assert failure_breakdown(stats) == {"dns": 1, "HTTP 404": 1, "HTTP 503": 1, "other (SSLError)": 1}
    assert network_hint(stats, {"DOWNLOAD_TIMEOUT": 30}) is None  # some URLs were fetched
    assert "resolved" in network_hint({"urls/failed": 2, "urls/failed/dns": 2}, {"DOWNLOAD_TIMEOUT": 30})


def _outcome_of_404(meta: dict) -> dict:
    """The stats UrlOutcomes keeps for one request with `meta` answered 404."""
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from crawler.extensions.outcomes import UrlOutcomes

    crawler = get_crawler()
    crawler.stats = MemoryStatsCollector(crawler)
    outcomes = UrlOutcomes(crawler)
    request = Request("https://nhandan.vn/", meta=meta)
    outcomes.process_response(request, Response(request.url, status=404, request=request))
    return {key: value for key, value in crawler.stats.get_stats().items() if key.startswith("urls/")}


def test_a_gone_link_is_a_dead_link_even_without_depth_and_a_gone_start_url_fails():
    # A page released at idle by the topic crawl reaches the engine without DepthMiddleware's depth.
    assert _outcome_of_404({"found_from": "https://nhandan.vn/a-1.html"}) == {"urls/ok": 1, "urls/dead_links": 1}
    assert _outcome_of_404({"found_from": None, "depth": 2}) == {"urls/ok": 1, "urls/dead_links": 1}
    assert _outcome_of_404({"found_from": None}) == {"urls/failed": 1, "urls/failed/http": 1,
                                                     "urls/failed/http/404": 1}
    assert _outcome_of_404({"found_from": "https://nhandan.vn/a-1.html", "guessed": True}) == {
        "urls/ok": 1, "urls/guesses_missed": 1}
