"""`python -m archive eval`: score our extractor against the gold set, beside two baselines.

For each gold page (a fixture page with a hand-written seed-format text), three
extractors run on the same bytes:

- `ours`: `archive.extract.article.extract_article` with the site's hints (and
  `ours-no-hints`, the same on a site without a profile);
- `trafilatura`: plain `trafilatura.extract` with its defaults (JSON output
  with metadata, so it reports a title, date and author too);
- `justext`: jusText with its Vietnamese stop list (body paragraphs only).

Scores per page, then averaged per extractor:

- token precision / recall / F1 of the *body*: lowercased `\\w+` tokens as a
  bag, gold body = every gold line but the title, the date line and the
  `Nguồn:` line (so lead, paragraphs, captions and byline);
- exact match of the title, the day (DD/MM/YYYY), the full date line
  (`HH:MM | DD/MM/YYYY`) and the byline (expected bylines: `bylines.json` in
  the gold directory, null when the page has none);
- *leaked boilerplate lines*: output lines that are not gold lines and are
  page furniture: a known label ("Tin liên quan", "Đọc nhiều", "aa", "In bài
  viết", ...) or a text of the page itself that the gold does not hold (menu
  items, teaser titles in related/most-read boxes, image alt texts, footer
  lines); a line *containing* such a text of four words or more counts too
  (teaser titles printed twice, "X X").

The leak list is derived from the page and the gold, not from our hints, so it
judges every extractor alike. `tests/eval_baseline.json` pins the floor our
extractor must stay above; `make eval` fails below it.

The second set (`--sets generic`, archive/eval_generic.py) is 88 real pages of
hosts with no profile, scored by shingle F1 (archive/shingle_f1.py); its gate
is in the same baseline file under `eval_generic`. Each extractor's time per
page and its rejected pages (no text) are reported for both sets.
"""
from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterable
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from archive.paths import EVAL_BASELINE, EVAL_GENERIC, EVAL_GOLD, EVAL_WEB

from archive import eval_generic
from archive.eval_scoring import (
    DATE_LINE,
    PageScore,
    clean_line,
    floor_violations,
    format_pages,
    format_table,
    page_furniture,
    score_page,
    summarize,
)

__all__ = [
    "GoldPage", "Extraction", "EXTRACTORS", "load_gold", "evaluate", "add_arguments", "run",
]

BYLINES_FILE = "bylines.json"



# --------------------------------------------------------------------------- gold
@dataclass(frozen=True)
class GoldPage:
    url: str
    html: bytes = field(repr=False)
    text: str = field(repr=False)  # the hand-written seed-format text
    byline: str | None

    @property
    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]

    @property
    def title(self) -> str:
        return self.lines[0]

    @property
    def date_line(self) -> str | None:
        return next((line for line in self.lines[1:2] if DATE_LINE.match(line)), None)

    @property
    def body_lines(self) -> list[str]:
        return _body_lines(self.lines, self.title)


def _body_lines(lines: list[str], title: str | None) -> list[str]:
    """Seed-format lines minus the title, the date line and the `Nguồn:` line."""
    body = list(lines)
    if body and title is not None and body[0] == title:
        body.pop(0)
    if body and DATE_LINE.match(body[0]):
        body.pop(0)
    if body and body[-1].startswith("Nguồn: "):
        body.pop()
    return body


def load_gold(web: Path, gold: Path) -> list[GoldPage]:
    """Every page of `web` (`<host>/<path>`) that has a gold text at `gold/<host>/<path>.txt`."""
    bylines_path = gold / BYLINES_FILE
    bylines = json.loads(bylines_path.read_text("utf-8")) if bylines_path.exists() else {}
    pages = []
    for expected in sorted(gold.rglob("*.txt")):
        rel = expected.relative_to(gold).with_suffix("").as_posix()
        html = web / rel
        if not html.is_file():
            continue
        host, _, path = rel.partition("/")
        url = f"https://{host}/" + ("" if path == "index.html" else path)
        pages.append(GoldPage(url, html.read_bytes(), expected.read_text("utf-8"), bylines.get(rel)))
    return pages


# --------------------------------------------------------------------------- extractors
@dataclass
class Extraction:
    """What one extractor says about a page; None = the extractor does not report it."""

    body_lines: list[str]
    title: str | None = None
    day: date | None = None
    date_line: str | None = None
    author: str | None = None
    reports: tuple[str, ...] = ("title", "day", "date_line", "author")  # which fields it can report


Hints = Callable[[str], object]


def extract_ours(page: GoldPage, hints_for: Hints) -> Extraction:
    from archive.extract.article import extract_article, render_seed_text

    article = extract_article(page.html, page.url, hints_for(page.url))
    if not article.is_article:
        return Extraction([])
    lines = [line for line in render_seed_text(article).splitlines() if line]
    published = article.published.date() if article.published else None
    return Extraction(_body_lines(lines, article.title), article.title or None, published, article.date_line,
                      article.author)


def extract_ours_without_hints(page: GoldPage, hints_for: Hints) -> Extraction:
    """Ours on a site it has no profile for: what the hints are worth."""
    return extract_ours(page, lambda url: None)


def extract_trafilatura_defaults(page: GoldPage, hints_for: Hints) -> Extraction:
    import trafilatura

    result = trafilatura.extract(_decoded(page), url=page.url, output_format="json", with_metadata=True)
    if not result:
        return Extraction([], reports=("title", "day", "author"))
    data = json.loads(result)
    day = None
    if data.get("date"):
        try:
            day = date.fromisoformat(data["date"][:10])
        except ValueError:
            pass
    lines = [clean_line(line) for line in (data.get("text") or "").splitlines()]
    return Extraction([line for line in lines if line], data.get("title") or None, day, None,
                      data.get("author") or None, reports=("title", "day", "author"))


def extract_justext(page: GoldPage, hints_for: Hints) -> Extraction:
    import justext

    paragraphs = justext.justext(_decoded(page), justext.get_stoplist("Vietnamese"))
    lines = [clean_line(p.text) for p in paragraphs if not p.is_boilerplate]
    return Extraction([line for line in lines if line], reports=())


EXTRACTORS: dict[str, Callable[[GoldPage, Hints], Extraction]] = {
    "ours": extract_ours,
    "ours-no-hints": extract_ours_without_hints,
    "trafilatura": extract_trafilatura_defaults,
    "justext": extract_justext,
}


def _decoded(page: GoldPage) -> str:
    from archive.extract.article import decode_html

    return decode_html(page.html)[0]


def evaluate(pages: list[GoldPage], hints_for: Hints, extractors: Iterable[str] = tuple(EXTRACTORS)
             ) -> list[PageScore]:
    scores = []
    for page in pages:
        furniture = page_furniture(page)
        for name in extractors:
            started = time.perf_counter()
            got = EXTRACTORS[name](page, hints_for)
            seconds = time.perf_counter() - started
            scores.append(replace(score_page(name, page, got, furniture), rejected=not got.body_lines,
                                  seconds=seconds))
    return scores


# --------------------------------------------------------------------------- command
SETS = ("gold", "generic")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", default=",".join(SETS),
                        help="comma-separated: gold (the target sites' fixture pages, hand-written gold), "
                             "generic (real pages of hosts with no profile, tests/fixtures/eval-generic)")
    parser.add_argument("--web", type=Path, default=EVAL_WEB, help="fixture pages (<host>/<path>)")
    parser.add_argument("--gold", type=Path, default=EVAL_GOLD, help="gold texts (<host>/<path>.txt)")
    parser.add_argument("--generic", type=Path, default=EVAL_GENERIC,
                        help="real-page set (ground-truth.json + html/<id>.html.gz)")
    parser.add_argument("--baseline", type=Path, default=EVAL_BASELINE, help="floor for our extractor")
    parser.add_argument("--extractors", default=",".join(EXTRACTORS),
                        help=f"comma-separated subset of {', '.join(EXTRACTORS)} (the generic set runs "
                             f"those of {', '.join(eval_generic.EXTRACTORS)})")
    parser.add_argument("--pages", action="store_true", help="print the per-page scores too (gold set)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write all scores as JSON here")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    names = [n.strip() for n in args.extractors.split(",") if n.strip()]
    unknown = [n for n in names if n not in EXTRACTORS]
    if unknown or not names:
        raise UserError(f"--extractors: unknown {', '.join(unknown) or '(none given)'}; "
                        f"choose from {', '.join(EXTRACTORS)}")
    sets = [n.strip() for n in args.sets.split(",") if n.strip()]
    if not sets or set(sets) - set(SETS):
        raise UserError(f"--sets: choose from {', '.join(SETS)}")
    try:
        baseline = json.loads(args.baseline.read_text("utf-8")) if "ours" in names else {}
    except (OSError, ValueError) as exc:
        raise UserError(f"--baseline {args.baseline}: {exc}") from None
    problems: list[str] = []
    report: dict = {}
    if "gold" in sets:
        problems += _run_gold(args, names, baseline, report)
    if "generic" in sets:
        problems += _run_generic(args, names, baseline.get("eval_generic", {}), report)
    if args.json:
        staged = args.json.with_name(f".{args.json.name}.tmp")
        staged.write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
        os.replace(staged, args.json)
    if problems:
        print("below the floor in " + str(args.baseline) + ": " + "; ".join(problems))
        return 1
    if baseline:
        print(f"ours is at or above the floor in {args.baseline.name}")
    return 0


def _run_gold(args: argparse.Namespace, names: list[str], baseline: dict, report: dict) -> list[str]:
    """The target sites' fixture pages against their hand-written gold; floor violations."""
    from archive.cli import UserError

    if not args.web.is_dir() or not args.gold.is_dir():
        raise UserError(f"gold set not found: {args.web} and {args.gold} must be directories")
    pages = load_gold(args.web, args.gold)
    if not pages:
        raise UserError(f"no gold pages: no {args.gold}/<host>/<path>.txt matches a page in {args.web}")

    from archive.sites import hints_for  # pure data, no Scrapy

    scores = evaluate(pages, hints_for, names)
    summaries = summarize(scores)
    print(f"## gold set: {len(pages)} target-site pages, hand-written gold (token F1 per page, mean)")
    if args.pages:
        print(format_pages(scores), end="\n\n")
    print(format_table(summaries), end="\n\n")
    report["gold"] = {"summary": {k: vars(v) for k, v in summaries.items()}, "pages": [vars(s) for s in scores]}
    return floor_violations(summaries["ours"], baseline) if "ours" in summaries and baseline else []


def _run_generic(args: argparse.Namespace, names: list[str], floor: dict, report: dict) -> list[str]:
    """The real pages of hosts with no profile (shingle F1); the gate against trafilatura."""
    from archive.cli import UserError

    try:
        pages = eval_generic.load_pages(args.generic)
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"--generic {args.generic}: {exc}") from None
    runs = eval_generic.evaluate(pages, [n for n in eval_generic.EXTRACTORS if n in names])
    if not runs:
        return []
    print(f"## generic set: {len(pages)} real pages of hosts with no profile (shingle F1 over the set)")
    print(eval_generic.format_table(runs), end="\n\n")
    report["generic"] = {name: {**vars(run.totals), "rejected": run.rejected, "seconds": run.seconds}
                         for name, run in runs.items()}
    return [f"generic set: {problem}" for problem in eval_generic.violations(runs, floor)]
