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
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from archive.paths import PROJECT_ROOT

from archive import eval_generic

__all__ = [
    "GoldPage", "Extraction", "PageScore", "Summary", "EXTRACTORS",
    "load_gold", "evaluate", "summarize", "floor_violations", "format_table", "leaked_lines",
    "add_arguments", "run",
]

REPO = PROJECT_ROOT
DEFAULT_WEB = REPO / "tests" / "fixtures" / "web"
DEFAULT_GOLD = REPO / "tests" / "fixtures" / "gold"
DEFAULT_BASELINE = REPO / "tests" / "eval_baseline.json"
BYLINES_FILE = "bylines.json"

_DATE_LINE = re.compile(r"^(\d{2}):(\d{2}) \| (\d{2})/(\d{2})/(\d{4})$")
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
_ONLY_DATE = re.compile(r"^[\d\s:|/.,()+-]*(?:gmt[\s+\d]*)?$", re.I)
_LONG_TEXT_WORDS = 4  # page texts this long count as leaked when contained in a longer line
# Widget and box labels of Vietnamese news pages (compared casefolded, trailing colon ignored).
KNOWN_BOILERPLATE = (
    "Tin liên quan", "Tin bài liên quan", "Bài liên quan", "Đọc nhiều", "Đọc thêm", "Xem thêm",
    "aa", "In bài viết", "In bài", "Phiên bản di động", "Chia sẻ", "Bình luận", "Tags", "Từ khóa",
    "Lên đầu trang", "Về đầu trang", "Trang chủ", "Sao chép liên kết", "Tin mới", "Mới nhất",
    "Cùng chuyên mục", "Tin khác", "Đường dẫn bài viết",
)


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
        return next((line for line in self.lines[1:2] if _DATE_LINE.match(line)), None)

    @property
    def body_lines(self) -> list[str]:
        return _body_lines(self.lines, self.title)


def _body_lines(lines: list[str], title: str | None) -> list[str]:
    """Seed-format lines minus the title, the date line and the `Nguồn:` line."""
    body = list(lines)
    if body and title is not None and body[0] == title:
        body.pop(0)
    if body and _DATE_LINE.match(body[0]):
        body.pop(0)
    if body and body[-1].startswith("Nguồn: "):
        body.pop()
    return body


def load_gold(web: Path = DEFAULT_WEB, gold: Path = DEFAULT_GOLD) -> list[GoldPage]:
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
    lines = [_clean(line) for line in (data.get("text") or "").splitlines()]
    return Extraction([line for line in lines if line], data.get("title") or None, day, None,
                      data.get("author") or None, reports=("title", "day", "author"))


def extract_justext(page: GoldPage, hints_for: Hints) -> Extraction:
    import justext

    paragraphs = justext.justext(_decoded(page), justext.get_stoplist("Vietnamese"))
    lines = [_clean(p.text) for p in paragraphs if not p.is_boilerplate]
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


# --------------------------------------------------------------------------- scoring
@dataclass
class PageScore:
    extractor: str
    url: str
    precision: float
    recall: float
    f1: float
    title: bool | None  # None: the extractor does not report it
    day: bool | None
    date_line: bool | None
    author: bool | None
    leaked: list[str]
    rejected: bool = False  # the extractor gave no text (ours: not an article)
    seconds: float = 0.0  # the extractor's time on the page


def _clean(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _key(text: str) -> str:
    return _clean(text).casefold().rstrip(":").strip()


def tokens(lines: Iterable[str]) -> Counter:
    return Counter(_WORD.findall(unicodedata.normalize("NFC", "\n".join(lines)).casefold()))


def token_scores(got: list[str], gold: list[str]) -> tuple[float, float, float]:
    """Bag-of-tokens precision, recall and F1 of `got` against `gold`."""
    got_tokens, gold_tokens = tokens(got), tokens(gold)
    common = sum((got_tokens & gold_tokens).values())
    precision = common / sum(got_tokens.values()) if got_tokens else 0.0
    recall = common / sum(gold_tokens.values()) if gold_tokens else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def page_furniture(page: GoldPage) -> tuple[set[str], list[str]]:
    """Texts on the page that are not article text: (exact-line keys, long texts to find inside lines).

    Every element text and image alt/title of the page that is not a gold
    line, plus the known labels; texts that are only a date are left out
    (a dateline echo is not furniture).
    """
    import lxml.html

    from archive.extract.article import decode_html

    tree = lxml.html.document_fromstring(decode_html(page.html)[0])
    for junk in tree.iter("script", "style", "noscript", "head"):
        junk.drop_tree() if junk.getparent() is not None else None
    gold_keys = {_key(line) for line in page.lines}
    gold_text = _key("\n".join(page.lines))
    texts = [el.text_content() for el in tree.iter() if isinstance(el.tag, str)]
    texts += [el.get(attr) or "" for el in tree.iter("img", "a") for attr in ("alt", "title")]
    exact = {_key(label) for label in KNOWN_BOILERPLATE}
    long_texts = []
    for text in texts:
        key = _key(text)
        if not key or key in gold_keys or _ONLY_DATE.match(key):
            continue
        exact.add(key)
        # Long texts count inside a line too, unless gold text holds them (inline links).
        if len(_WORD.findall(key)) >= _LONG_TEXT_WORDS and key not in gold_text:
            long_texts.append(key)
    return exact - gold_keys, sorted(set(long_texts), key=len)


def leaked_lines(page: GoldPage, lines: Iterable[str], furniture=None) -> list[str]:
    """Output lines that are page furniture rather than article text (see the module docstring)."""
    exact, long_texts = furniture or page_furniture(page)
    gold_keys = {_key(line) for line in page.lines}
    leaked = []
    for line in lines:
        key = _key(line)
        if not key or key in gold_keys:
            continue
        if key in exact or any(text in key for text in long_texts):
            leaked.append(line)
    return leaked


def score_page(name: str, page: GoldPage, got: Extraction, furniture=None) -> PageScore:
    precision, recall, f1 = token_scores(got.body_lines, page.body_lines)
    gold_day = _day(page.date_line)

    def judged(field_name: str, ok: bool) -> bool | None:
        return ok if field_name in got.reports else None

    all_lines = ([got.title] if got.title else []) + ([got.date_line] if got.date_line else []) + got.body_lines
    return PageScore(
        extractor=name, url=page.url, precision=precision, recall=recall, f1=f1,
        title=judged("title", got.title == page.title),
        day=judged("day", got.day is not None and got.day == gold_day),
        date_line=judged("date_line", got.date_line == page.date_line),
        author=judged("author", (got.author or None) == page.byline),
        leaked=leaked_lines(page, all_lines, furniture),
    )


def _day(date_line: str | None) -> date | None:
    found = _DATE_LINE.match(date_line or "")
    return date(int(found[5]), int(found[4]), int(found[3])) if found else None


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


@dataclass
class Summary:
    extractor: str
    pages: int
    precision: float
    recall: float
    f1: float
    min_f1: float
    title: float | None  # share of pages exactly right; None when not reported
    day: float | None
    date_line: float | None
    author: float | None
    leaked_lines: int
    rejected: int = 0  # pages the extractor gave no text for
    seconds_per_page: float = 0.0


def summarize(scores: list[PageScore]) -> dict[str, Summary]:
    by_name: dict[str, list[PageScore]] = {}
    for score in scores:
        by_name.setdefault(score.extractor, []).append(score)

    def rate(rows: list[PageScore], field_name: str) -> float | None:
        values = [getattr(r, field_name) for r in rows if getattr(r, field_name) is not None]
        return sum(values) / len(values) if values else None

    return {name: Summary(
        extractor=name, pages=len(rows),
        precision=statistics.fmean(r.precision for r in rows),
        recall=statistics.fmean(r.recall for r in rows),
        f1=statistics.fmean(r.f1 for r in rows),
        min_f1=min(r.f1 for r in rows),
        title=rate(rows, "title"), day=rate(rows, "day"), date_line=rate(rows, "date_line"),
        author=rate(rows, "author"), leaked_lines=sum(len(r.leaked) for r in rows),
        rejected=sum(r.rejected for r in rows), seconds_per_page=statistics.fmean(r.seconds for r in rows),
    ) for name, rows in by_name.items()}


def floor_violations(summary: Summary, baseline: dict) -> list[str]:
    """What falls below the pinned floor (`tests/eval_baseline.json`); empty when all is well."""
    checks = [
        ("min_mean_f1", summary.f1, lambda got, floor: got >= floor),
        ("min_page_f1", summary.min_f1, lambda got, floor: got >= floor),
        ("max_leaked_lines", summary.leaked_lines, lambda got, ceiling: got <= ceiling),
        ("min_title_exact", summary.title, lambda got, floor: got is not None and got >= floor),
        ("min_date_exact", summary.date_line, lambda got, floor: got is not None and got >= floor),
        ("min_author_exact", summary.author, lambda got, floor: got is not None and got >= floor),
    ]
    return [f"{key}: {_fmt(got)} vs {baseline[key]}" for key, got, ok in checks
            if key in baseline and not ok(got, baseline[key])]


# --------------------------------------------------------------------------- report
def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def format_table(summaries: dict[str, Summary]) -> str:
    """The summary as a Markdown table (what the README shows)."""
    header = ("| extractor | pages | precision | recall | F1 (mean) | F1 (worst page) | title | day "
              "| date + time | byline | leaked lines | rejected | s/page |")
    rows = [header, "|" + "---|" * 13]
    for s in summaries.values():
        rows.append(f"| {s.extractor} | {s.pages} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | "
                    f"{s.min_f1:.3f} | {_pct(s.title)} | {_pct(s.day)} | {_pct(s.date_line)} | "
                    f"{_pct(s.author)} | {s.leaked_lines} | {s.rejected} | {s.seconds_per_page:.3f} |")
    return "\n".join(rows)


def format_pages(scores: list[PageScore]) -> str:
    rows = ["| page | extractor | P | R | F1 | leaked |", "|---|---|---|---|---|---|"]
    for s in scores:
        leaked = "; ".join(line[:40] for line in s.leaked[:3]) + (" …" if len(s.leaked) > 3 else "")
        rows.append(f"| {s.url.split('://', 1)[1][-50:]} | {s.extractor} | {s.precision:.3f} | {s.recall:.3f} "
                    f"| {s.f1:.3f} | {len(s.leaked)}{': ' + leaked if leaked else ''} |")
    return "\n".join(rows)


# --------------------------------------------------------------------------- command
SETS = ("gold", "generic")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", default=",".join(SETS),
                        help="comma-separated: gold (the target sites' fixture pages, hand-written gold), "
                             "generic (real pages of hosts with no profile, tests/fixtures/eval-generic)")
    parser.add_argument("--web", type=Path, default=DEFAULT_WEB, help="fixture pages (<host>/<path>)")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold texts (<host>/<path>.txt)")
    parser.add_argument("--generic", type=Path, default=eval_generic.DEFAULT_DIR,
                        help="real-page set (ground-truth.json + html/<id>.html.gz)")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE, help="floor for our extractor")
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
