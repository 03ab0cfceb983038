"""`scrapy crawl`, with a preflight that turns bad input into one clear line.

Scrapy builds the spider and its components inside the engine, where an
exception becomes a logged traceback. Checking arguments and output
directories first gives the user a plain message and exit code 2 instead.
"""
from __future__ import annotations

import os
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from archive.state import EXIT_STATE_LOCKED, StateLock, StateLockedError
from crawler.arguments import ArgumentError, parse_crawl_arguments
from crawler.incremental import state_path
from crawler.preflight import PreflightError, check_address_settings, check_output_dirs, check_revisit_settings


class Command(ScrapyCrawlCommand):
    def run(self, args, opts):
        if args and args[0] == "news":
            try:
                parse_crawl_arguments(**_known_args(opts.spargs))
                check_output_dirs(self.settings)
                check_revisit_settings(self.settings)
                check_address_settings(self.settings)
            except (ArgumentError, PreflightError, TypeError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                self.exitcode = 2
                return
        lock = None
        locked_state = _state_to_lock(self.settings) if args and args[0] == "news" else None
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
        if self.crawler_process and any(
            c.stats.get_value("archive/fatal") for c in self.crawler_process.crawlers
        ):
            self.exitcode = 1


def _state_to_lock(settings):
    """The crawl state this run will use, decided before the addons run: replay and distributed
    mode (crawler/replay.py, crawler/distributed.py) turn the default state off."""
    if settings.get("CRAWL_STATE") is None and (
            settings.get("ARCHIVE_REPLAY") or settings.get("REDIS_URL") or os.environ.get("REDIS_URL")):
        return None
    return state_path(settings)


def _known_args(spargs: dict) -> dict:
    allowed = {"urls", "seeds", "depth", "max_pages", "since", "topic"}
    unknown = sorted(set(spargs) - allowed)
    if unknown:
        raise ArgumentError(f"unknown spider argument(s): {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(allowed))}")
    return dict(spargs)
