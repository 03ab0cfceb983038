"""What an operator meets around a crawl (issue 23): setting names, argument help, seed errors,
the User-Agent contact, item logging, log rotation, schedules, `stats` and `make sites` output."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console
from scrapy.exceptions import DropItem
from scrapy.settings import Settings

from archive.cli import main as archive_main
from archive.urls import site_of
from crawler.arguments import SPIDER_ARGUMENTS, arguments_help
from crawler.contact import ContactAddon, user_agent
from crawler.items import ArticlePage
from crawler.logfile import prepare_log_file
from crawler.logformatter import UrlLogFormatter
from crawler.schedule import ScheduleError, default_since, parse_interval, render
from crawler.setting_names import check_setting_names, unknown_settings
from archive.sites.__main__ import sites_table

REPO = Path(__file__).resolve().parent.parent


def scrapy(*args: str, cwd: Path = REPO, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


# --- settings and arguments -----------------------------------------------------------


def test_a_misspelled_setting_fails_the_crawl_with_a_suggestion(tmp_path):
    run = scrapy("crawl", "news", "-s", f"WARC_DIRR={tmp_path}", "-s", "CORPUS_DIRE=x")
    assert run.returncode == 2
    [line] = [l for l in run.stderr.splitlines() if l.startswith("error:")]
    assert "CORPUS_DIRE (did you mean CORPUS_DIR?)" in line and "WARC_DIRR (did you mean WARC_DIR?)" in line
    assert not (tmp_path / "warc").exists()


def test_declared_and_third_party_settings_pass():
    settings = Settings({"WARC_DIR": "x", "TOPIC_THRESHOLD": 0.2, "CRAWL_STATS_FILE": "s.json",
                         "REDIS_HOST": "localhost", "DOWNLOAD_TIMEOUT": 3, "SOMETHING_ELSE": 1})
    check_setting_names(settings)  # SOMETHING_ELSE: not a project prefix, so not ours to judge


def test_setting_names_and_prefixes_come_from_the_settings_module(tmp_path, monkeypatch):
    """A setting another engineer adds to the settings module is known at once, prefix included."""
    (tmp_path / "newsettings.py").write_text("from crawler.settings import *  # noqa\n"
                                              "ZEBRA_BOOK = 'x'\nREQUISITES_ENABLED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert unknown_settings(["ZEBRA_BOOK", "REQUISITES_ENABLED", "WARC_DIR"], "newsettings") == []
    assert sorted(unknown_settings(["ZEBRA_BOKK", "REQUISITES_ENABLE"], "newsettings")) == [
        "REQUISITES_ENABLE (did you mean REQUISITES_ENABLED?)", "ZEBRA_BOKK (did you mean ZEBRA_BOOK?)"]
    assert unknown_settings(["ZEBRA_BOKK"]) == []  # crawler.settings has no ZEBRA_ setting


def test_help_lists_every_spider_argument_with_its_default():
    run = scrapy("crawl", "news", "-a", "help=1")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == arguments_help()
    for name, (default, _) in SPIDER_ARGUMENTS.items():
        line = next(l for l in run.stdout.splitlines() if l.startswith(f"  {name} "))
        assert not default or f"[default: {default}]" in line
    listed = subprocess.run([sys.executable, "-m", "crawler", "args"], cwd=REPO, capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout.strip() == arguments_help()


def test_every_bad_seed_line_is_reported_when_none_is_left(tmp_path):
    seeds = tmp_path / "urls.txt"
    seeds.write_text("nhandan.vn/no-scheme\n# a comment\nftp://nhandan.vn/x\nhttps://\n", "utf-8")
    run = scrapy("crawl", "news", "-a", f"seeds={seeds}")
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    warnings = [l for l in lines if l.startswith("warning: invalid seed line skipped: ")]
    assert [w.split(f"{seeds}:")[1].split(":")[0] for w in warnings] == ["1", "3", "4"]
    assert lines[-1].startswith("error: no start URL") and "3 invalid seed line(s)" in lines[-1]


# --- User-Agent contact and logs ---------------------------------------------------------


def test_contact_fills_the_user_agent():
    template = "vn-news-archiver/0.1 (+research corpus; contact: {contact})"
    assert user_agent(template, "ops@example.org") == "vn-news-archiver/0.1 (+research corpus; contact: ops@example.org)"
    assert user_agent(template, " ") == "vn-news-archiver/0.1 (+research corpus)"
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("CONTACT", "https://example.org/crawler", priority="cmdline")
    ContactAddon().update_settings(settings)
    assert settings["USER_AGENT"].endswith("contact: https://example.org/crawler)")
    settings.set("USER_AGENT", "mine/1.0", priority="cmdline")
    ContactAddon().update_settings(settings)
    assert settings["USER_AGENT"] == "mine/1.0"  # a User-Agent without the placeholder is kept


def test_items_are_logged_by_url_and_verdict_only():
    item = ArticlePage(url="https://nhandan.vn/a-post1.html", site="nhandan.vn", body=b"<html>" * 1000,
                       encoding="utf-8", status=200, depth=0, found_from=None, fetched_at=None,
                       warc_record_id=None, warc_location=None, article=None,
                       extra={"fingerprint": list(range(5000))})
    spider = SimpleNamespace(crawler=SimpleNamespace(settings={"DEFAULT_DROPITEM_LOG_LEVEL": "INFO"}))
    formatter = UrlLogFormatter()
    dropped = formatter.dropped(item, DropItem("near-duplicate: https://nhandan.vn/a-post1.html (x)"), None, spider)
    assert dropped["msg"] % dropped["args"] == "Dropped: near-duplicate: https://nhandan.vn/a-post1.html (x)"
    other = formatter.dropped(item, DropItem("too short"), None, spider)
    assert other["msg"] % other["args"] == "Dropped: too short: https://nhandan.vn/a-post1.html"
    scraped = formatter.scraped(item, None, spider)
    assert scraped["msg"] % scraped["args"] == "Scraped https://nhandan.vn/a-post1.html"


def test_debug_lines_are_not_built_above_debug():
    """Crawled/Scraped are DEBUG lines: above LOG_LEVEL=DEBUG the formatter returns None (Scrapy then
    logs nothing) instead of building a record the handler drops."""
    from scrapy import Request
    from scrapy.http import HtmlResponse
    from scrapy.settings import Settings

    request = Request("https://nhandan.vn/a-post1.html")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    spider = SimpleNamespace(crawler=SimpleNamespace(settings={"DEFAULT_DROPITEM_LOG_LEVEL": "INFO"}))
    for level, logged in (("INFO", False), ("WARNING", False), ("DEBUG", True), (10, True)):
        formatter = UrlLogFormatter.from_crawler(SimpleNamespace(settings=Settings({"LOG_LEVEL": level})))
        assert (formatter.crawled(request, response, spider) is not None) is logged
        assert (formatter.scraped({"url": request.url}, response, spider) is not None) is logged
        dropped = formatter.dropped({"url": request.url}, DropItem("too short"), response, spider)
        assert dropped["msg"] % dropped["args"] == "Dropped: too short: https://nhandan.vn/a-post1.html"


def test_the_log_is_rotated_by_size_at_the_start_of_a_run(tmp_path):
    log = tmp_path / "logs" / "crawl.log"
    assert prepare_log_file(log, 100, 2) is False and log.parent.is_dir()
    for run in range(4):
        log.write_text(f"run {run}\n" * 50)
        assert prepare_log_file(log, 100, 2) is True
    assert sorted(p.name for p in log.parent.iterdir()) == ["crawl.log.1", "crawl.log.2"]
    assert (log.parent / "crawl.log.1").read_text().startswith("run 3")
    log.write_text("small\n")
    assert prepare_log_file(log, 100, 2) is False and log.exists()


# --- scheduling ----------------------------------------------------------------------------


@pytest.mark.parametrize("text,cron,calendar,since", [
    ("6h", "0 */6 * * *", "*-*-* 00/6:00:00", "3d"),
    ("hourly", "0 * * * *", "*-*-* 00/1:00:00", "3d"),
    ("daily", "0 2 * * *", "*-*-* 02:00:00", "3d"),
    ("24h", "0 2 * * *", "*-*-* 02:00:00", "3d"),
    ("weekly", "0 2 * * 1", "Mon *-*-* 02:00:00", "2w"),
    ("30m", "*/30 * * * *", "*-*-* *:00/30:00", "3d"),
])
def test_both_forms_follow_the_interval(text, cron, calendar, since):
    interval = parse_interval(text)
    assert (interval.cron, interval.calendar, default_since(interval)) == (cron, calendar, since)
    out = render(interval, REPO, None, "crawler")
    assert f"\n{cron} cd " in out and f"OnCalendar={calendar}\n" in out
    assert out.count(f"crawl news -a since={since} -s LOG_FILE=data/logs/crawl.log") == 2
    assert "User=crawler\n" in out and "OnFailure=vn-news-crawl-failed.service" in out
    assert "SuccessExitStatus=3 130" in out and "MAILTO=" in out


@pytest.mark.parametrize("text", ["7h", "5d", "often", "0h"])
def test_an_interval_calendars_cannot_express_is_refused(text):
    with pytest.raises(ScheduleError):
        parse_interval(text)


def test_the_unit_has_a_real_user_without_USER():
    env = {k: v for k, v in os.environ.items() if k != "USER"}
    out = subprocess.run([sys.executable, "-m", "crawler.schedule", "--interval", "daily"], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    user = next(l for l in out.splitlines() if l.startswith("User="))
    assert user != "User=" and user.split("=", 1)[1].strip()


@pytest.mark.parametrize("code,mailed", [(0, False), (3, False), (4, True), (1, True)])
def test_the_cron_line_reports_only_a_failed_run(tmp_path, code, mailed):
    """The cron command itself, run by /bin/sh, with a stand-in crawler that exits with `code`."""
    checkout = tmp_path / "checkout"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    fake = checkout / ".venv" / "bin" / "scrapy"
    fake.write_text(f"#!/bin/sh\necho 'Crawl summary'\necho \"args: $*\"\nexit {code}\n")
    fake.chmod(0o755)
    cron_line = next(l for l in render(parse_interval("6h"), checkout, None, "u").splitlines()
                     if l.startswith("0 */6 "))
    command = cron_line.split(" ", 5)[5]
    out = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=30)
    printed = out.stdout + out.stderr  # what cron would mail
    assert bool(printed) is mailed, printed
    if mailed:
        assert f"vn-news crawl failed (exit {code}):" in printed and "Crawl summary" in printed
    assert "-s LOG_FILE=data/logs/crawl.log" in (checkout / "data" / "logs" / "last-run.txt").read_text()


# --- archive tools and tables ------------------------------------------------------------


def test_stats_of_a_file_that_is_not_warc_fails(capsys):
    assert archive_main(["stats", str(REPO / "README.md"), "--json"]) == 1
    assert "README.md at offset 0" in capsys.readouterr().err


def test_make_sites_shows_url_patterns_verbatim():
    console = Console(record=True, width=400)
    console.print(sites_table())
    text = console.export_text()
    assert r"^/[a-z0-9-]+/[a-z0-9-]+/[a-z0-9-]+-\d{6,}/?$" in text  # qdnd's pattern


def test_site_is_the_host_on_every_row():
    assert site_of("https://www.qdnd.vn/a/b/c-123456") == "qdnd.vn"
    assert site_of("https://NhanDan.vn/x-post1.html") == "nhandan.vn"
    assert site_of("not a url") is None
