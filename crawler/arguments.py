"""Spider arguments of `scrapy crawl news`, parsed and validated up front.

Validation happens before Scrapy starts (see crawler/commands/crawl.py), so a
bad argument ends with one clear line and exit code 2, not a traceback from
deep inside the engine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from archive.corpus.seeds import SeedError, read_seed_urls
from archive.extract.topic import TopicError, load_topic
from archive.state.store import parse_duration
from archive.urls import is_valid_http_url
from archive.paths import PROJECT_ROOT
from archive.vietnam_time import parse_iso

REPO_ROOT = PROJECT_ROOT
DEFAULT_SEEDS = REPO_ROOT / "seeds"
DEFAULT_DEPTH = 2
REQUISITE_MODES = ("article", "all", "none")


class ArgumentError(ValueError):
    """A spider argument a user got wrong; the message says which and why."""


class NoStartURL(ArgumentError):
    """Nothing to crawl; carries the seed lines and files that gave no URL, to report each."""

    def __init__(self, message: str, invalid_seed_lines: list[str], seeds_without_url: list[str]):
        super().__init__(message)
        self.invalid_seed_lines = invalid_seed_lines
        self.seeds_without_url = seeds_without_url


# name -> (default, what it does): `scrapy crawl news -a help=1` prints this list.
SPIDER_ARGUMENTS: dict[str, tuple[str, str]] = {
    "urls": ("(none)", "start URLs, comma-separated"),
    "seeds": ("seeds/ when no urls", "a file of URLs (one a line, # comments) or a directory of "
              "seed-format .txt files (their Nguồn: / Đường dẫn bài viết: lines)"),
    "depth": (str(DEFAULT_DEPTH), "hops of related links followed from a start URL"),
    "max_pages": ("no cap", "most pages requested (robots.txt, redirects, skipped known articles "
                  "not counted)"),
    "since": ("no discovery", "discover articles in sitemaps, feeds and listings, skipping older "
              "entries: YYYY-MM-DD, an ISO 8601 time, 12h/3d/2w back, or all"),
    "topic": ("auto", "auto (profile of the seed corpus), none (follow every related link), or a "
              "FILE of keywords / example texts"),
    "requisites": ("article", "archive what pages embed (images, styles, scripts, fonts): article "
                   "(article pages), all (listings too) or none (docs/requisites.md)"),
    "help": ("", "print this list and exit"),
}


def arguments_help() -> str:
    """The spider arguments with their defaults, for `-a help=1` and `python -m crawler args`."""
    width = max(map(len, SPIDER_ARGUMENTS)) + 2
    lines = ["Spider arguments of `scrapy crawl news` (-a NAME=VALUE):"]
    for name, (default, text) in SPIDER_ARGUMENTS.items():
        shown = f" [default: {default}]" if default else ""
        lines.append(f"  {name:<{width}}{text}{shown}")
    lines.append("Settings (-s NAME=VALUE): crawler/settings.py; exit codes: README \"Exit codes\".")
    return "\n".join(lines)


def seed_warnings(invalid_seed_lines, seeds_without_url) -> list[str]:
    """One line per seed line that is not a URL and per seed file that names no URL."""
    return ([f"invalid seed line skipped: {line}" for line in invalid_seed_lines]
            + [f"seed has no URL (Nguồn:/Đường dẫn bài viết:), not crawled: {path}" for path in seeds_without_url])


@dataclass
class CrawlArguments:
    start_urls: list[str]
    depth: int = DEFAULT_DEPTH
    max_pages: int | None = None
    topic: str = "auto"  # auto | none | PATH (archive/extract/topic.py)
    seeds_without_url: list[str] = field(default_factory=list)
    invalid_seed_lines: list[str] = field(default_factory=list)
    # Discovery (sitemaps, feeds, listings of each site's entry points) runs when `since` is given;
    # `since` is its cut-off (None with discover=True: `since=all`, no cut-off).
    since: datetime | None = None
    discover: bool = False
    requisites: str = "article"  # article | all | none: whose page requisites are archived


def _positive_int(name: str, raw, *, allow_zero: bool) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ArgumentError(f"-a {name}={raw!r}: expected a whole number") from None
    if value < 0 or (value == 0 and not allow_zero):
        raise ArgumentError(f"-a {name}={raw!r}: must be {'≥ 0' if allow_zero else '≥ 1'}")
    return value


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([hdw])$")


def parse_since(raw: str, now: datetime | None = None) -> tuple[datetime | None, bool]:
    """`-a since=`: (cut-off, discover). `YYYY-MM-DD` (midnight, GMT+7), an ISO 8601 time,
    `<n>h|d|w` before now, or `all` (discovery without a cut-off)."""
    text = str(raw).strip().lower()
    now = now or datetime.now(timezone.utc)
    if text == "all":
        return None, True
    relative = _RELATIVE.match(text)
    if relative:
        return now - timedelta(seconds=parse_duration(relative.group(1) + relative.group(2))), True
    moment = parse_iso(raw)  # without an offset: the sites' own time zone, GMT+7
    if moment is None:
        raise ArgumentError(
            f"-a since={raw!r}: expected a date (2024-09-01), a time (2024-09-01T08:00+07:00), "
            "a span back from now (12h, 3d, 2w) or 'all'")
    if moment > now + timedelta(days=1):
        raise ArgumentError(f"-a since={raw!r} is in the future")
    return moment, True


def parse_crawl_arguments(urls=None, seeds=None, depth=None, max_pages=None,
                          topic=None, since=None, requisites=None) -> CrawlArguments:
    """Turn raw `-a` strings into checked values; raise ArgumentError on bad input."""
    requisites = (requisites or "article").strip().lower()
    if requisites not in REQUISITE_MODES:
        raise ArgumentError(f"-a requisites={requisites!r}: expected one of {', '.join(REQUISITE_MODES)}")
    cutoff, discover = parse_since(since) if since not in (None, "") else (None, False)
    topic = (topic or "auto").strip()
    if topic not in ("auto", "none"):
        if not Path(topic).exists():
            raise ArgumentError(
                f"-a topic={topic!r}: expected 'auto' (the seed corpus), 'none' (no topic filter) "
                "or an existing keyword/example-text file or seed directory")
        try:
            load_topic(topic, None)  # an unreadable or empty topic file fails here, not mid-crawl
        except TopicError as exc:
            raise ArgumentError(f"-a topic: {exc}") from None
    start_urls: list[str] = []
    without_url: list[str] = []
    invalid: list[str] = []
    for raw in (urls or "").split(",") if urls else []:
        url = raw.strip()
        if not url:
            continue
        if not is_valid_http_url(url):
            raise ArgumentError(f"-a urls: {url!r} is not a valid http(s) URL")
        start_urls.append(url)
    if seeds or not start_urls:
        source = Path(seeds) if seeds else DEFAULT_SEEDS
        try:
            found = read_seed_urls(source)
        except SeedError as exc:
            raise ArgumentError(f"-a seeds: {exc}") from None
        start_urls.extend(u for u in found.urls if u not in start_urls)
        without_url = [str(p) for p in found.without_url]
        invalid = [str(i) for i in found.invalid]
    if not start_urls:
        raise NoStartURL("no start URL: give -a urls=… or -a seeds=PATH with at least one URL"
                         + (f" ({len(invalid)} invalid seed line(s), listed above)" if invalid else ""),
                         invalid, without_url)
    return CrawlArguments(
        start_urls=start_urls,
        depth=DEFAULT_DEPTH if depth in (None, "") else _positive_int("depth", depth, allow_zero=True),
        max_pages=None if max_pages in (None, "") else _positive_int("max_pages", max_pages, allow_zero=False),
        topic=topic,
        seeds_without_url=without_url,
        invalid_seed_lines=invalid,
        since=cutoff,
        discover=discover,
        requisites=requisites,
    )
