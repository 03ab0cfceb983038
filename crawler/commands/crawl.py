"""`scrapy crawl`, with a preflight that turns bad input into one clear line, and an
exit code that says how the crawl went (crawler/exitcodes.py).

Scrapy builds the spider and its components inside the engine, where an
exception becomes a logged traceback. Checking arguments, setting names and
output directories first gives the user a plain message and exit code 2
instead. After the run, the exit code follows the table in crawler/exitcodes.py,
so cron and systemd see a crawl that fetched nothing as the failure it is.
"""
from __future__ import annotations

import os
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from archive.state.store import StateLock, StateLockedError
from crawler.arguments import SPIDER_ARGUMENTS, ArgumentError, NoStartURL, arguments_help, parse_crawl_arguments
from crawler.arguments import seed_warnings
from crawler.extensions.gc_freeze import freeze_at_exit
from crawler.exitcodes import EXIT_ERROR, EXIT_STATE_LOCKED, EXIT_USAGE, crawl_verdict, fail_ratio
from crawler.runpaths import state_path
from crawler.logfile import prepare_log_file
from crawler.preflight import PreflightError, check_address_settings, check_output_dirs, check_revisit_settings
from crawler.setting_names import check_setting_names


class Command(ScrapyCrawlCommand):
    crawlers: list = []

    def _create_crawler(self, spidercls):
        # Kept here: the crawler process forgets its crawlers when they finish.
        crawler = super()._create_crawler(spidercls)
        self.crawlers = [*self.crawlers, crawler]
        return crawler

    def process_options(self, args, opts):
        super().process_options(args, opts)
        log_file = self.settings.get("LOG_FILE")
        if log_file and self.settings.getbool("LOG_FILE_APPEND", True):
            # Before Scrapy opens the file (it does so when the crawler process is built).
            try:
                prepare_log_file(log_file, self.settings.getint("CRAWL_LOG_MAX_BYTES"),
                                 self.settings.getint("CRAWL_LOG_BACKUPS"))
            except OSError as exc:
                print(f"error: LOG_FILE {log_file!r}: {exc.strerror or exc}", file=sys.stderr)
                raise SystemExit(EXIT_USAGE) from None

    def run(self, args, opts):
        news = bool(args) and args[0] == "news"
        if news and "help" in opts.spargs:
            print(arguments_help())
            return
        if news:
            try:
                check_setting_names(self.settings)
                parse_crawl_arguments(**_known_args(opts.spargs))
                check_output_dirs(self.settings)
                check_revisit_settings(self.settings)
                fail_ratio(self.settings)
                check_address_settings(self.settings)
            except NoStartURL as exc:
                for line in seed_warnings(exc.invalid_seed_lines, exc.seeds_without_url):
                    print(f"warning: {line}", file=sys.stderr)
                self._refuse(exc)
                return
            except (ArgumentError, PreflightError, TypeError, ValueError) as exc:
                self._refuse(exc)
                return
        lock = None
        locked_state = _state_to_lock(self.settings) if news else None
        if locked_state is not None:
            try:  # held for the whole run; the middleware's CrawlState shares it (same process)
                lock = StateLock(locked_state).acquire()
            except StateLockedError as exc:
                print(f"error: {exc}", file=sys.stderr)
                self.exitcode = EXIT_STATE_LOCKED
                return
        try:
            super().run(args, opts)
        finally:
            if lock is not None:
                lock.release()
        if self.exitcode == 0 and news:
            codes = [crawl_verdict(c.stats.get_stats(), fail_ratio(c.settings)).code for c in self.crawlers]
            self.exitcode = max(codes, default=EXIT_ERROR)
        if news:  # the process exits next: its heap is not walked again (crawler/extensions/gc_freeze.py)
            freeze_at_exit()

    def _refuse(self, exc: Exception) -> None:
        print(f"error: {exc}", file=sys.stderr)
        self.exitcode = EXIT_USAGE


def _state_to_lock(settings):
    """The crawl state this run will use, decided before the addons run: replay and distributed
    mode (crawler/downloadhandlers/replay.py, crawler/distributed/addon.py) turn the default state off."""
    if settings.get("CRAWL_STATE") is None and (
            settings.get("ARCHIVE_REPLAY") or settings.get("REDIS_URL") or os.environ.get("REDIS_URL")):
        return None
    return state_path(settings)


def _known_args(spargs: dict) -> dict:
    allowed = set(SPIDER_ARGUMENTS) - {"help"}
    unknown = sorted(set(spargs) - allowed)
    if unknown:
        raise ArgumentError(f"unknown spider argument(s): {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(allowed))} (-a help=1 lists them)")
    return dict(spargs)
