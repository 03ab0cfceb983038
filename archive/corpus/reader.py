"""Read a seed-format corpus the way a researcher needs it: one record per article.

`manifest.jsonl` is an append-only log (archive/corpus/manifest.py): a full record per
file, then update rows that amend it (`seed-match`, `alias`, `recovered`,
`version`, and any kind added later, such as a crash reconciliation's
correcting rows). Loading it as a table gives one row per log line, most of
them partial. `read_corpus` folds the log instead:

- rows of one `file` merge in order, later keys winning, whatever their
  `update` kind (an unknown kind is folded like any other);
- an entry whose last say is `"removed": true` (a crash rollback,
  archive/corpus/consistency.py) is left out; a full record (no `update` key) starts
  its entry afresh, so nothing of a removed entry leaks into it; a rollback
  that restores earlier values of an update folds like any other row;
- a torn or malformed line is an error (`CorpusReadError`), never skipped:
  an export must not silently lose an article.

Each `CorpusArticle` holds its versions (1 = the numbered file, 2… =
`versions/NNN_h16.vN.txt`, re-crawls with changed text), its aliases (other
URLs carrying the same article) and the WARC pointer of its latest version.
`python -m archive corpus DIR` prints the folded records.
"""
from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.corpus.consistency import fold
from archive.corpus.consistency import MANIFEST_NAME

__all__ = ["CorpusReadError", "CorpusArticle", "ArticleVersion", "WarcPointer", "CorpusView",
           "read_corpus", "find_corpus_dir", "fold_manifest"]

# The keys of a version: what a fetch and its extraction say (archive/corpus/store.py writes
# these for each version). At the top of an entry they describe version 1, the numbered
# file; every other top-level key (file, number, seed, matched, how a seed was matched,
# keys added later) is about the article and goes with each of its versions.
VERSION_KEYS = frozenset({
    "url", "canonical_url", "site", "warc_file", "warc_offset", "warc_record_id", "warc_payload_digest",
    "fetched_at", "found_from", "score", "rule", "title", "published", "date_line", "author", "category", "tags", "lead", "language",
    "words", "images", "extractor", "text_sha256", "simhash"})
# Spelled out by CorpusArticle itself (versions, aliases) or only bookkeeping.
_STRUCTURE_KEYS = frozenset({"aliases", "versions", "version", "version_file", "removed"})


class CorpusReadError(Exception):
    """The directory cannot be read as a corpus: not one, empty, or a damaged manifest."""


@dataclass(frozen=True)
class WarcPointer:
    """Where the capture an article (version) was extracted from lives."""

    file: str | None
    offset: int | None
    record_id: str | None


@dataclass(frozen=True)
class ArticleVersion:
    """One text of an article: the numbered file (version 1) or a later re-crawl."""

    version: int
    text_file: str  # relative to the corpus directory
    fields: dict[str, Any]  # that version's manifest fields: URL, WARC pointer, metadata, hashes

    @property
    def warc(self) -> WarcPointer:
        return WarcPointer(self.fields.get("warc_file"), self.fields.get("warc_offset"),
                           self.fields.get("warc_record_id"))


@dataclass(frozen=True)
class CorpusArticle:
    """One article of the corpus, its manifest rows folded."""

    directory: Path
    entry: dict[str, Any]  # every key of its rows, later rows winning (no `update`)
    updates: tuple[str, ...]  # the kinds of update rows folded in, in order

    @property
    def file(self) -> str:
        return self.entry["file"]

    @property
    def number(self) -> int:
        number = self.entry.get("number")
        return number if isinstance(number, int) else _number_of(self.file)

    @cached_property
    def versions(self) -> tuple[ArticleVersion, ...]:
        """Oldest first; the last one is the latest text."""
        first = {k: v for k, v in self.entry.items() if k in VERSION_KEYS}
        found = [ArticleVersion(1, self.file, first)]
        for later in self.entry.get("versions") or ():
            fields = {k: v for k, v in later.items() if k not in ("version", "file")}
            found.append(ArticleVersion(int(later["version"]), later["file"], fields))
        return tuple(found)

    @property
    def latest(self) -> ArticleVersion:
        return self.versions[-1]

    @property
    def earlier_versions(self) -> tuple[ArticleVersion, ...]:
        return self.versions[:-1]

    @property
    def aliases(self) -> tuple[dict[str, Any], ...]:
        return tuple(self.entry.get("aliases") or ())

    @property
    def fields(self) -> dict[str, Any]:
        """The article's metadata as of its latest version."""
        return self.fields_of(self.latest)

    def fields_of(self, version: ArticleVersion) -> dict[str, Any]:
        """`version`'s fields with the article's own (see VERSION_KEYS): one row of an export."""
        own = {k: v for k, v in self.entry.items() if k not in VERSION_KEYS and k not in _STRUCTURE_KEYS}
        return {**own, "number": self.number, **version.fields}

    @property
    def warc(self) -> WarcPointer:
        return self.latest.warc

    @property
    def host(self) -> str:
        """The site as a host name (`nhandan.vn`): the manifest's `site` is a profile name for
        crawled articles but a host for seeds, so charts and filters group by this instead."""
        for fields in (self.latest.fields, self.entry):
            host = urlsplit(fields.get("canonical_url") or fields.get("url") or "").hostname
            if host:
                return host.removeprefix("www.")
        return str(self.entry.get("site") or "(no URL)")

    def text(self, version: ArticleVersion | None = None) -> str:
        """The text of `version` (default: the latest), exactly as the file holds it."""
        path = self.directory / (version or self.latest).text_file
        if not path.resolve().is_relative_to(self.directory.resolve()):
            raise CorpusReadError(f"{self.file}: text file {path} is outside the corpus directory")
        try:
            return path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise CorpusReadError(f"the manifest names {path} but the file is missing") from None
        except UnicodeDecodeError as exc:
            raise CorpusReadError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise CorpusReadError(f"cannot read {path}: {exc.strerror}") from None


@dataclass
class CorpusView:
    """A corpus directory folded: its articles in number order, and what the fold left out."""

    directory: Path
    articles: list[CorpusArticle]
    removed: list[str] = field(default_factory=list)  # files whose last row removed them
    lines: int = 0  # manifest rows read

    def __iter__(self) -> Iterator[CorpusArticle]:
        return iter(self.articles)

    def __len__(self) -> int:
        return len(self.articles)

    def warc_files(self) -> list[str]:
        """Every WARC file an article, version or alias points into, sorted."""
        names = set()
        for article in self.articles:
            names.update(v.fields.get("warc_file") for v in article.versions)
            names.update(a.get("warc_file") for a in article.aliases)
        return sorted(n for n in names if n)


def find_corpus_dir(directory: str | Path) -> Path:
    """`directory` itself when it holds a manifest, else its `corpus/` (a crawl's output directory)."""
    directory = Path(directory)
    if not directory.exists():
        raise CorpusReadError(f"{directory} does not exist")
    if not directory.is_dir():
        raise CorpusReadError(f"{directory} is not a directory")
    for candidate in (directory, directory / "corpus"):
        if (candidate / MANIFEST_NAME).is_file():
            return candidate
    raise CorpusReadError(f"{directory} is not a corpus: no {MANIFEST_NAME} in it or in {directory / 'corpus'}")


def read_corpus(directory: str | Path) -> CorpusView:
    """Fold `directory`'s manifest into one record per article (see the module docstring)."""
    corpus_dir = find_corpus_dir(directory)
    rows = list(_manifest_rows(corpus_dir / MANIFEST_NAME))
    entries, updates, removed = fold_manifest(rows)
    if not entries:
        what = f"every entry of its {len(rows)} row(s) was removed" if rows else f"{MANIFEST_NAME} is empty"
        raise CorpusReadError(f"{corpus_dir} is an empty corpus: {what}")
    articles = [CorpusArticle(corpus_dir, entry, tuple(updates[file])) for file, entry in entries.items()]
    articles.sort(key=lambda a: (a.number, a.file))
    return CorpusView(corpus_dir, articles, removed, len(rows))


def fold_manifest(rows: list[dict[str, Any]]) -> tuple[dict[str, dict], dict[str, list[str]], list[str]]:
    """Merge rows by `file` as `archive.corpus.consistency.fold` does (the one rule, shared with the
    corpus writer): (entries of the articles kept, update kinds per file, files removed)."""
    entries = fold(rows)
    updates: dict[str, list[str]] = {}
    for row in rows:
        if "update" not in row:
            updates[row["file"]] = []
        else:
            updates.setdefault(row["file"], []).append(str(row["update"]))
    removed = sorted({row["file"] for row in rows} - entries.keys())
    return entries, {file: updates.get(file, []) for file in entries}, removed


def _manifest_rows(path: Path) -> Iterator[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusReadError(f"cannot read {path}: {exc.strerror}") from None
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        torn = number == len(lines)  # a last line without its newline: the append was cut short
        try:
            row = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            what = "torn (an interrupted write?)" if torn else "not valid JSON"
            raise CorpusReadError(f"{path} line {number} is {what}: {_preview(line)}") from None
        if not (isinstance(row, dict) and isinstance(row.get("file"), str) and row["file"]):
            raise CorpusReadError(f"{path} line {number} is not a manifest row (no \"file\"): {_preview(line)}")
        yield row


def _preview(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace")
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _number_of(file: str) -> int:
    head = file.split("_", 1)[0]
    return int(head) if head.isdigit() else -1


# --- command ----------------------------------------------------------------------


def article_summary(article: CorpusArticle) -> dict[str, Any]:
    """The folded record as plain JSON: the latest metadata, versions and aliases spelled out."""
    return {
        **article.fields,
        "version": article.latest.version,
        "text_file": article.latest.text_file,
        "updates": list(article.updates),
        "versions": [{"version": v.version, "text_file": v.text_file, **v.fields} for v in article.versions],
        "aliases": list(article.aliases),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="a corpus directory (or a crawl's output directory "
                        "holding corpus/)")
    parser.add_argument("--json", action="store_true", help="one JSON object per article instead of a table")
    parser.add_argument("--article", metavar="FILE|URL", help="only this article: its file name, number or a URL "
                        "(its own, an alias or a version's); printed in full as JSON")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    try:
        view = read_corpus(args.directory)
    except CorpusReadError as exc:
        raise UserError(str(exc)) from None
    if args.article:
        found = [a for a in view if _names(a, args.article)]
        if not found:
            raise UserError(f"no article {args.article!r} in {view.directory}")
        for article in found:
            print(json.dumps(article_summary(article), ensure_ascii=False, indent=1))
        return 0
    if args.json:
        for article in view:
            print(json.dumps(article_summary(article), ensure_ascii=False))
        return 0
    _print_table(view)
    return 0


def _names(article: CorpusArticle, wanted: str) -> bool:
    if wanted in (article.file, Path(article.file).stem) or (wanted.isdigit() and int(wanted) == article.number):
        return True
    urls = {v.fields.get(k) for v in article.versions for k in ("url", "canonical_url")}
    urls |= {a.get(k) for a in article.aliases for k in ("url", "canonical_url")}
    return wanted in urls


def _print_table(view: CorpusView) -> None:
    """One line per article: every column at full width but the title, cut to the terminal's width."""
    print(f"{view.directory}: {len(view)} articles from {view.lines} manifest rows"
          + (f", {len(view.removed)} removed" if view.removed else "") + " (* seed file)")
    header = ("file", "site", "published", "words", "ver", "alias", "title")
    rows = [(article.file + ("*" if article.entry.get("seed") else ""), article.host,
             str(article.fields.get("published") or "-")[:10], str(article.fields.get("words") or "-"),
             str(len(article.versions)), str(len(article.aliases)), str(article.fields.get("title") or ""))
            for article in view]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    room = max(shutil.get_terminal_size().columns - sum(widths) - 2 * len(widths), 20)
    for row in [header, *rows]:
        cells = [cell.rjust(width) if i >= 3 else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))]
        title = row[-1] if len(row[-1]) <= room else row[-1][:room - 1] + "…"
        print("  ".join([*cells, title]))
