"""The real-page set of `python -m archive eval`: hosts with no site profile, scored by shingle F1.

`tests/fixtures/eval-generic/` holds 88 real article pages in many languages
with hand-checked article bodies: half of the public article-extraction
benchmark by Scrapinghub/Zyte (MIT licence, its `LICENSE`); the other half is
held out and scored elsewhere. Three extractors run on the same pages in the
same process, timed alike:

- `ours`: the path a crawl takes on a host without a profile: the generic
  page gate (`archive.sites.generic.is_article_page`, on a parsel Selector as
  the spider has it), then `extract_article` with the generic profile's hints;
  the text is what the corpus stores of the body, lead + paragraphs (the
  benchmark's body has no headline or byline). A page the gate or the
  extractor turns down scores as an empty text and counts as *rejected*;
- `trafilatura`: plain `trafilatura.extract(html, url=url)`, its defaults;
- `justext`: jusText with the stop list of the page's `<html lang>` (English
  when it has none or jusText has no list for it).

Scores are archive/shingle_f1.py's; the gate (`violations`) wants ours at or
above trafilatura's F1 of the same run, at or above a floor, and no page
rejected (every page of the set is an article).
"""
from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from archive.shingle_f1 import PageCounts, Totals, page_counts, totals

__all__ = ["RealPage", "load_pages", "EXTRACTORS", "Run", "evaluate", "format_table", "violations"]



@dataclass(frozen=True)
class RealPage:
    id: str
    url: str
    html: bytes = field(repr=False)  # the page as saved (UTF-8)
    truth: str = field(repr=False)  # the hand-checked article body


def load_pages(directory: Path) -> list[RealPage]:
    """Every page of `directory/ground-truth.json` with its `html/<id>.html.gz`, in id order."""
    truth = json.loads((directory / "ground-truth.json").read_text("utf-8"))
    pages = []
    for page_id in sorted(truth):
        html = gzip.decompress((directory / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append(RealPage(page_id, truth[page_id]["url"], html, truth[page_id]["articleBody"]))
    return pages


# --------------------------------------------------------------------------- extractors
def _decoded(page: RealPage) -> str:
    from archive.extract.article import decode_html

    return decode_html(page.html)[0]


def extract_ours(page: RealPage) -> str | None:
    """The crawl's path on an unknown host; None when the page is turned down."""
    from parsel import Selector

    from archive.sites import profile_for  # pure data, no Scrapy
    from archive.sites.generic import is_article_page

    from archive.extract.article import extract_article

    if not is_article_page(page.url, Selector(text=_decoded(page))):
        return None
    article = extract_article(page.html, page.url, profile_for(page.url).extraction)
    return article.text if article.is_article else None


def extract_trafilatura(page: RealPage) -> str | None:
    import trafilatura

    return trafilatura.extract(_decoded(page), url=page.url) or None


# ISO 639-1 codes of the set's languages (and a few more) → jusText stop list names.
_JUSTEXT_LISTS = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "pt": "Portuguese", "it": "Italian",
    "nl": "Dutch", "ru": "Russian", "ko": "Korean", "id": "Indonesian", "ms": "Malay", "vi": "Vietnamese",
    "pl": "Polish", "tr": "Turkish", "sv": "Swedish", "da": "Danish", "cs": "Czech", "uk": "Ukrainian",
}


def extract_justext(page: RealPage) -> str | None:
    import justext
    import lxml.html

    text = _decoded(page)
    lang = (lxml.html.document_fromstring(text).get("lang") or "").strip().lower()[:2]
    stoplist = justext.get_stoplist(_JUSTEXT_LISTS.get(lang, "English"))
    paragraphs = [p.text for p in justext.justext(text, stoplist) if not p.is_boilerplate]
    return "\n".join(paragraphs) or None


EXTRACTORS: dict[str, Callable[[RealPage], str | None]] = {
    "ours": extract_ours,
    "trafilatura": extract_trafilatura,
    "justext": extract_justext,
}


# --------------------------------------------------------------------------- running
@dataclass
class Run:
    """One extractor over the set."""

    extractor: str
    counts: list[PageCounts]
    rejected: list[str]  # page ids with no text
    seconds: float

    @property
    def totals(self) -> Totals:
        return totals(self.counts)

    @property
    def seconds_per_page(self) -> float:
        return self.seconds / len(self.counts) if self.counts else 0.0


def evaluate(pages: list[RealPage], extractors: Iterable[str] = tuple(EXTRACTORS)) -> dict[str, Run]:
    runs = {name: Run(name, [], [], 0.0) for name in extractors}
    for page in pages:
        for name, run in runs.items():
            started = time.perf_counter()
            text = EXTRACTORS[name](page)
            run.seconds += time.perf_counter() - started
            if text is None:
                run.rejected.append(page.id)
            run.counts.append(page_counts(text or "", page.truth))
    return runs


def format_table(runs: dict[str, Run]) -> str:
    rows = ["| extractor | pages | F1 | precision | recall | exact pages | rejected | s/page |",
            "|---|---|---|---|---|---|---|---|"]
    for run in runs.values():
        t = run.totals
        rows.append(f"| {run.extractor} | {t.pages} | {t.f1:.3f} | {t.precision:.3f} | {t.recall:.3f} | "
                    f"{t.accuracy:.3f} | {len(run.rejected)} | {run.seconds_per_page:.3f} |")
    return "\n".join(rows)


def violations(runs: dict[str, Run], floor: dict) -> list[str]:
    """What breaks the gate (`floor`: `min_f1`, `max_rejected`, `beat`); empty when all is well."""
    ours = runs.get("ours")
    if ours is None:
        return []
    problems = []
    f1 = ours.totals.f1
    if "min_f1" in floor and f1 < floor["min_f1"]:
        problems.append(f"F1 {f1:.4f} < {floor['min_f1']}")
    if "max_rejected" in floor and len(ours.rejected) > floor["max_rejected"]:
        problems.append(f"{len(ours.rejected)} articles rejected ({', '.join(i[:8] for i in ours.rejected)})")
    rival = runs.get(floor.get("beat", ""))
    if rival is not None and f1 < rival.totals.f1:
        problems.append(f"F1 {f1:.4f} < {rival.extractor} {rival.totals.f1:.4f} in the same run")
    return problems
