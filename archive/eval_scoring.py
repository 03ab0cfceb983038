"""How `python -m archive eval` scores one extraction against a gold text, and the summary table.

Token precision/recall/F1 of the body, exact title/day/date line/byline, and leaked page furniture
(archive/evaluate.py's docstring says what each means); the gold pages and the extractors are
archive/evaluate.py's.
"""
from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.evaluate import Extraction, GoldPage

DATE_LINE = re.compile(r"^(\d{2}):(\d{2}) \| (\d{2})/(\d{2})/(\d{4})$")
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


def clean_line(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _key(text: str) -> str:
    return clean_line(text).casefold().rstrip(":").strip()


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
    gold_day = day_of(page.date_line)

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


def day_of(date_line: str | None) -> date | None:
    found = DATE_LINE.match(date_line or "")
    return date(int(found[5]), int(found[4]), int(found[3])) if found else None


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


