"""Reading seeds: start URLs for the crawler and seed documents for the corpus.

Two kinds of input name start URLs:

* a URL file: one URL a line; blank lines and `#` comments are skipped; a bad
  line is reported with its number, never fatal (a typo on line 40 should not
  cost the other 39 URLs);
* a directory of seed-format `.txt` files (the shipped `seeds/`), whose
  `Nguồn: <url>` or `Đường dẫn bài viết: <url>` line names the article URL.

Seed files are raw page-text dumps, so their structure is only roughly the
seed format: `read_seed_file` recovers what it can (URL, title, date line) for
the corpus manifest and keeps the full text for near-duplicate matching.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from archive.urls import canonical_url, is_valid_http_url
from archive.vietnam_time import VIETNAM_TZ

__all__ = [
    "SeedError",
    "InvalidSeedLine",
    "SeedURLs",
    "SeedDoc",
    "read_seed_urls",
    "read_seed_file",
    "seed_files",
    "VIETNAM_TZ",
]

# `Nguồn:` alone is also how Vietnamese papers credit a wire ("Nguồn: TTXVN"),
# so a line only names the article when its value is an http(s) URL.
_URL_LINE = re.compile(r"^\s*(?:Nguồn|Đường dẫn bài viết)\s*:\s*(\S+)\s*$", re.IGNORECASE)
_NUMBERED_NAME = re.compile(r"^(\d+)_")
# "18:29 | 22/02/2023" with an optional "GMT+7" tail, as the sites print it.
_DATE_LINE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*\|\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s*\(?GMT\+7\)?)?\s*$")
_BREADCRUMB_PREFIX = "Trang chủ"


class SeedError(Exception):
    """A seed path that cannot be read at all (missing, not a file or directory, unreadable)."""


@dataclass(frozen=True)
class InvalidSeedLine:
    """A line of a URL file that is not a usable http(s) URL."""

    source: Path
    line_number: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line_number}: {self.reason}: {self.text!r}"


@dataclass
class SeedURLs:
    """Start URLs from a seed path, in input order, one per canonical URL."""

    urls: list[str] = field(default_factory=list)
    # Seed-format files that name no URL (nothing to crawl; still corpus seeds).
    without_url: list[Path] = field(default_factory=list)
    invalid: list[InvalidSeedLine] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set, repr=False)

    def _add(self, url: str) -> bool:
        """Keep `url` unless a URL with the same canonical form came earlier."""
        key = canonical_url(url)
        if key in self._seen:
            return False
        self._seen.add(key)
        self.urls.append(url)
        return True


@dataclass(frozen=True)
class SeedDoc:
    """What the corpus needs to know about one seed-format file."""

    path: Path
    number: int | None  # the NNN of `NNN_<h16>.txt`, None for other names
    url: str | None  # the article URL the file names, as written
    title: str
    date_line: str | None  # normalised `HH:MM | DD/MM/YYYY`, when the file shows one
    published: datetime | None  # the same instant, +07:00
    text: str  # the whole file, NFC

    @property
    def name(self) -> str:
        return self.path.name


def read_seed_urls(path: str | Path) -> SeedURLs:
    """Start URLs from a URL file or a directory of seed-format files.

    Raises SeedError when `path` does not exist or cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise SeedError(f"seed path does not exist: {path}")
    result = SeedURLs()
    if path.is_dir():
        for file in seed_files(path):
            doc = read_seed_file(file)
            if doc.url is None:
                result.without_url.append(file)
            else:
                result._add(doc.url)
        return result
    if not path.is_file():
        raise SeedError(f"seed path is neither a file nor a directory: {path}")
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        text = _strip_comment(line)
        if not text:
            continue
        if not is_valid_http_url(text):
            reason = "not an http(s) URL" if "://" not in text else "malformed URL"
            result.invalid.append(InvalidSeedLine(path, number, line.strip(), reason))
            continue
        result._add(text)
    return result


def seed_files(directory: str | Path) -> list[Path]:
    """The `.txt` files of a seed directory, sorted by name (so `NNN_` order)."""
    directory = Path(directory)
    try:
        return sorted(p for p in directory.iterdir() if p.suffix == ".txt" and p.is_file())
    except OSError as exc:
        raise SeedError(f"cannot list seed directory {directory}: {exc}") from exc


def read_seed_file(path: str | Path) -> SeedDoc:
    """Parse one seed-format file as well as its rough structure allows."""
    path = Path(path)
    if not path.is_file():
        raise SeedError(f"seed file does not exist: {path}")
    text = _read_text(path)
    lines = [line.strip() for line in text.splitlines()]
    url = next((m.group(1) for m in map(_URL_LINE.match, lines)
                if m and is_valid_http_url(m.group(1))), None)
    date_line, published = _first_date_line(lines)
    match = _NUMBERED_NAME.match(path.name)
    return SeedDoc(
        path=path,
        number=int(match.group(1)) if match else None,
        url=url,
        title=_guess_title(lines),
        date_line=date_line,
        published=published,
        text=text,
    )


def _read_text(path: Path) -> str:
    """File text as NFC; undecodable bytes become U+FFFD rather than an exception."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from exc
    return unicodedata.normalize("NFC", data.decode("utf-8", errors="replace").lstrip("\ufeff"))


def _strip_comment(line: str) -> str:
    """A URL-file line without its `#` comment (whole-line, or after whitespace)."""
    stripped = line.strip()
    if stripped.startswith("#"):
        return ""
    # A URL may contain '#' (a fragment), so only ' #' starts a trailing comment.
    return re.split(r"\s+#", stripped, maxsplit=1)[0].strip()


def _first_date_line(lines: list[str]) -> tuple[str | None, datetime | None]:
    for line in lines:
        m = _DATE_LINE.match(line)
        if m:
            hour, minute, day, month, year = map(int, m.groups())
            try:
                when = datetime(year, month, day, hour, minute, tzinfo=VIETNAM_TZ)
            except ValueError:
                continue
            return when.strftime("%H:%M | %d/%m/%Y"), when
    return None, None


def _guess_title(lines: list[str]) -> str:
    """The first line that looks like a headline.

    Skips breadcrumbs (`Trang chủ …`, which in seed 000 is glued to a truncated
    copy of the title) and date lines, which come before the headline in the
    thoidai dumps.
    """
    for line in lines:
        if not line or line.startswith(_BREADCRUMB_PREFIX) or _DATE_LINE.match(line):
            continue
        return line
    return ""
