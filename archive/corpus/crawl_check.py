"""The full offline check of a crawl: every pointer of every corpus entry and state row resolves
to its WARC record, dense numbering, no `.open` file left (`python -m archive check --corpus
--state`, the crash-loop bench), and, when asked, every page requisite of every archived article
archived too. Read-only; the repairs a resume makes are archive/corpus/consistency.py's."""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from parsel import Selector
from warcio.archiveiterator import ArchiveIterator

from archive.corpus.consistency import MANIFEST_NAME, NUMBERED_FILE, WarcLocator, fold, pointer_problem
from archive.corpus.manifest_parse import manifest_lines
from archive.extract.article import parse_page
from archive.extract.requisites import css_requisites, page_requisites
from archive.sites import profile_for
from archive.state.requisites import refused_requisites
from archive.urls import canonical_url
from archive.warc.reader import READ_ERRORS, iter_responses

__all__ = ["ConsistencyReport", "archived_articles_missing", "corpus_problems", "missing_requisites",
           "state_problems", "verify_crawl"]

SHOWN = 20  # lines a check prints of one kind of problem; the rest are counted in one more line


@dataclass
class ConsistencyReport:
    problems: list[str] = field(default_factory=list)
    archived_pages: int = 0  # distinct URLs with a response record
    articles: int = 0  # folded, non-seed manifest entries
    pointers: int = 0
    requisites: int = 0  # requisite URLs the archived articles name (checked with `requisites=True`)
    requisites_missing: list[str] = field(default_factory=list)
    archived_articles: int = 0  # article pages with a 200 response record (checked with `archived_articles=True`)
    archived_articles_missing: list[str] = field(default_factory=list)


def corpus_problems(corpus_dir: str | os.PathLike, locator: WarcLocator) -> tuple[list[str], int]:
    """Everything wrong between a corpus and the archive, and how many pointers were checked:
    dangling or mismatched pointers (entries and versions), torn lines, files missing or without
    a manifest line, a URL held twice, gaps in the numbering."""
    corpus_dir = Path(corpus_dir)
    problems: list[str] = []
    pointers = 0
    lines = manifest_lines(corpus_dir / MANIFEST_NAME)
    problems += [f"manifest line at byte {line.start} is torn or unreadable" for line in lines if line.obj is None]
    entries = fold(line.obj for line in lines if line.obj is not None)
    by_url: dict[str, list[str]] = {}
    numbers = []
    for file, entry in entries.items():
        if not (corpus_dir / file).is_file():
            problems.append(f"{file}: in the manifest, but the file is missing")
        match = NUMBERED_FILE.match(file)
        if match:
            numbers.append(int(match.group(1)))
        provenances = [("", entry)] if entry.get("warc_record_id") or not entry.get("seed") else []
        provenances += [(f" version {v.get('version')}", v) for v in entry.get("versions") or []]
        for label, provenance in provenances:
            pointers += 1
            problem = pointer_problem(locator, provenance)
            if problem is not None:
                problems.append(f"{file}{label}: {problem}")
        if entry.get("canonical_url"):
            by_url.setdefault(entry["canonical_url"], []).append(file)
    for path in sorted(corpus_dir.iterdir()):
        if NUMBERED_FILE.match(path.name) and path.is_file() and path.name not in entries:
            problems.append(f"{path.name}: a corpus file without a manifest entry")
    problems += [f"{url}: in the corpus {len(files)} times ({', '.join(files)})"
                 for url, files in by_url.items() if len(files) > 1]
    if numbers:
        missing = sorted(set(range(min(numbers), max(numbers) + 1)) - set(numbers))
        if missing:
            problems.append(f"numbering is not dense: {len(missing)} gap(s), first {missing[:5]}")
    return problems, pointers


def state_problems(path: str | os.PathLike, locator: WarcLocator) -> list[str]:
    """State rows whose latest record (or last full capture) the archive does not hold."""
    problems = []
    with _read_only(path) as db:
        try:
            columns = {row[1] for row in db.execute("PRAGMA table_info(pages)")}
        except sqlite3.DatabaseError as exc:
            return [f"{path}: not a crawl state ({exc})"]
        if "record_id" not in columns:
            return problems
        for url, name, offset, record_id in db.execute(
                "SELECT url, record_file, record_offset, record_id FROM pages WHERE record_id IS NOT NULL"):
            problem = pointer_problem(locator, {"warc_file": name, "warc_offset": offset,
                                                "warc_record_id": record_id})
            if problem is not None:
                problems.append(f"state row {url}: {problem}")
    return problems


def _read_only(path: str | os.PathLike) -> closing[sqlite3.Connection]:
    """The crawl state at `path`, opened read-only (this check never writes), closed on leaving."""
    return closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True))


def _listed(urls: list[str], each: str, rest: str) -> list[str]:
    """Problem lines for `urls`: the first `SHOWN` as `each.format(url)`, then one line counting the
    others (`... N <rest>`), so a crawl that lost thousands does not print thousands."""
    lines = [each.format(url) for url in urls[:SHOWN]]
    if len(urls) > SHOWN:
        lines.append(f"... {len(urls) - SHOWN} {rest}")
    return lines


def _is_article_page(url: str, status: int) -> bool:
    profile = profile_for(url)
    return status == 200 and not profile.name.startswith("generic:") and profile.is_article_url(url)


def missing_requisites(paths: list[Path], archived: set[str], refused: set[str], *, css_depth: int = 2,
                       media: bool = False) -> tuple[int, list[str]]:
    """`(named, missing)`: the page requisites the archived article pages of a known site name (and
    their archived stylesheets, `css_depth` levels down, as the crawl reads them), and those of them
    with no response or revisit record (canonical URLs in `archived`), `refused` ones (robots.txt,
    size cap, address policy: the crawl state says) and media (unless `media`) left out."""
    named: dict[str, tuple[str, int]] = {}  # URL -> (kind, depth)
    styles: dict[str, str] = {}  # archived stylesheet URL -> its text

    def wanted(url: str, status: int) -> bool:
        return _is_article_page(url, status) or (status == 200 and url.split("?")[0].endswith(".css")) or \
            named.get(url, ("",))[0] == "style"

    for response in iter_responses(paths, select=wanted):
        if _is_article_page(response.url, response.status) and "html" in (response.content_type or "html"):
            page = parse_page(response.payload, response.url, encoding=response.charset)
            if page.tree is not None:
                for url, kind in page_requisites(Selector(root=page.tree, type="html"), page.base_url):
                    named.setdefault(url, (kind, 0))
        else:
            styles[response.url] = response.payload.decode(response.charset or "utf-8", "replace")
    level = [url for url, (kind, depth) in named.items() if kind == "style"]
    for depth in range(1, css_depth + 1):  # a stylesheet at depth d names requisites at depth d + 1
        found = [(url, kind) for style in level if style in styles for url, kind in css_requisites(styles[style], style)]
        level = []
        for url, kind in found:
            if url not in named:
                named[url] = (kind, depth)
                if kind == "style":
                    level.append(url)
    checked = [url for url, (kind, _) in named.items() if (media or kind != "media")
               and canonical_url(url) not in refused]
    return len(checked), sorted(url for url in checked if canonical_url(url) not in archived)


def archived_articles_missing(paths: list[Path], covered: set[str], state: str | os.PathLike | None
                              ) -> tuple[int, list[str]]:
    """`(archived, missing)`: the article pages of a known site with a 200 response record in `paths`
    (canonical URLs), and those of them not in `covered` (the corpus's entries and aliases) that the
    crawl state does not say it read to the end without an article (not an article, off topic)."""
    archived: set[str] = set()
    for path in paths:
        with path.open("rb") as fh:
            try:
                for record in ArchiveIterator(fh):
                    if record.rec_type == "response" and record.http_headers is not None:
                        uri = record.rec_headers.get_header("WARC-Target-URI")
                        if _is_article_page(uri, int(record.http_headers.get_statuscode() or 0)):
                            archived.add(canonical_url(uri))
            except READ_ERRORS:
                continue  # reported by verify_crawl's own walk
    judged: set[str] = set()
    if state is not None and Path(state).exists():
        with _read_only(state) as db:
            try:
                judged = {url for (url,) in db.execute(
                    "SELECT url FROM pages WHERE is_article = 0 OR (is_article IS NULL AND extracted_record = record_id)")}
            except sqlite3.OperationalError:  # a state older than schema v5
                judged = {url for (url,) in db.execute("SELECT url FROM pages WHERE is_article = 0")}
    return len(archived), sorted(archived - covered - judged)


def verify_crawl(warc_dir: str | os.PathLike, corpus_dir: str | os.PathLike, *, state: str | os.PathLike | None = None,
                 expected_urls: Iterable[str] | None = None, requisites: bool = False,
                 archived_articles: bool = False) -> ConsistencyReport:
    """The crash-loop's verdict: the corpus and state checks above, no `.open` file left, and,
    given `expected_urls`, each of them archived and in the corpus (as an entry or an alias).
    `requisites`: also every requisite of every archived article archived, unless the crawl state
    has it refused (`report.requisites_missing`, each also a problem). `archived_articles`: also
    every article page the archive holds a 200 response of in the corpus, unless the state says it
    is none or off topic (`report.archived_articles_missing`, each also a problem)."""
    warc_dir, corpus_dir = Path(warc_dir), Path(corpus_dir)
    report = ConsistencyReport()
    locator = WarcLocator(warc_dir)
    report.problems += [f"{p.name}: still named .open" for p in sorted(warc_dir.rglob("*.open"))]
    responses: set[str] = set()
    revisits: set[str] = set()
    paths = sorted(warc_dir.rglob("*.warc.gz"))
    for path in paths:
        with path.open("rb") as fh:
            try:
                for record in ArchiveIterator(fh, no_record_parse=True):
                    if record.rec_type in ("response", "revisit"):
                        uri = canonical_url(record.rec_headers.get_header("WARC-Target-URI"))
                        (responses if record.rec_type == "response" else revisits).add(uri)
            except READ_ERRORS as exc:
                report.problems.append(f"{path.name}: unreadable ({exc})")
    report.archived_pages = len(responses)
    problems, report.pointers = corpus_problems(corpus_dir, locator)
    report.problems += problems
    entries = fold(obj for obj in (line.obj for line in manifest_lines(corpus_dir / MANIFEST_NAME)) if obj)
    report.articles = sum(1 for entry in entries.values() if not entry.get("seed"))
    covered = {e["canonical_url"] for e in entries.values() if e.get("canonical_url")}
    covered |= {a["canonical_url"] for e in entries.values() for a in e.get("aliases") or []
                if a.get("canonical_url")}
    if archived_articles:
        report.archived_articles, report.archived_articles_missing = archived_articles_missing(paths, covered, state)
        report.problems += _listed(report.archived_articles_missing, "{}: archived, not in the corpus",
                                   "more archived, not in the corpus")
    if expected_urls is not None:
        expected = [canonical_url(u) for u in expected_urls]
        for label, missing in (("never archived", [u for u in expected if u not in responses]),
                               ("not in the corpus", [u for u in expected if u not in covered])):
            report.problems += _listed(missing, "{}: " + label, f"more {label}")
    if state is not None and Path(state).exists():
        report.problems += state_problems(state, locator)
    if requisites:
        refused: set[str] = set()
        if state is not None and Path(state).exists():
            with _read_only(state) as db:
                refused = refused_requisites(db)
        report.requisites, report.requisites_missing = missing_requisites(paths, responses | revisits, refused)
        report.problems += _listed(report.requisites_missing, "requisite {}: never archived",
                                   "more requisites never archived")
    return report
