"""Do stray characters cost a page its article body? Inject them into real pages and extract.

    .venv/bin/python -m bench.extraction_robustness [--seed 22] [--trials 2] [--per-page 5] [--json OUT]

Real CMS text carries characters XML does not allow (a Word paste's vertical tab `\\x0b`, a
NUL, U+FFFE) and other strays (C1 controls, a BOM mid-page, a bad UTF-8 byte, a numeric reference
to a code point XML forbids). libxml2's HTML parser keeps most of them in the tree, and lxml then
refuses any text or tail set from them ("All strings must be XML compatible"): trafilatura merging
a tail next to an element it deletes raised, and the page came out with no body (docs/extraction.md,
session 22).

The pages: the 88 real pages of tests/fixtures/eval-generic/ (the path of a host with no profile)
and every article page of tests/fixtures/web/ with its site's profile. For each page and each kind
of character (`KINDS`), `--trials` times, `--per-page` characters of that kind are put at random
positions of the page's text (outside tags, scripts and styles; seeded by `--seed`, the page and
the kind), and the page is extracted two ways: `extract_article` (what `python -m archive
extract` and `eval` run) and the crawl worker's `archive.extract.pool._analyse` (spider's spec,
`topic=auto`). Against the same page without the characters, counted per kind and path:

- **lost**: the clean page is an article with a body, the injected one is not or has none;
- **shrunk**: its body keeps under half the clean page's words;
- **raised**: an exception came out (extraction promises never to raise on bad content);
- **illegal out**: a character XML does not allow (one lxml refuses to set as text) in the article's fields or seed text;
- **decoded otherwise**: the page was decoded with another charset than the clean page (invalid UTF-8
  bytes in a page with few non-ASCII letters and no charset in sight: charset detection decides, and
  what is not ASCII comes out garbled; not counted as a failure).

Deterministic: the same seed gives the same injections, so two trees can be compared run for run.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parent.parent



def _utf8(*code_points: int) -> list[bytes]:
    return [chr(c).encode("utf-8", "surrogatepass") for c in code_points]


# kind -> the byte strings one injection picks from (a page's bytes are UTF-8).
KINDS: dict[str, list[bytes]] = {
    "vertical tab \\x0b": [b"\x0b"],
    "other C0 controls": [bytes([c]) for c in range(1, 32) if c not in (9, 10, 11, 13)],
    "NUL": [b"\x00"],
    "DEL": [b"\x7f"],
    "C1 controls U+0080-9F": _utf8(*range(0x80, 0xA0)),
    "U+FFFE, U+FFFF": _utf8(0xFFFE, 0xFFFF),
    "BOM mid-page": _utf8(0xFEFF),
    "invalid UTF-8 bytes": [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\x80", b"\x80"],
    "&#x0b; and C0 references": [f"&#x{c:x};".encode() for c in range(1, 32) if c not in (9, 10, 13)]
                                + [b"&#11;", b"&#x0B;", b"&#x0b"],
    "&#0; NUL reference": [b"&#0;", b"&#x0;"],
    "surrogate references": [b"&#xD800;", b"&#xDFFF;", b"&#55296;"],
    "&#xFFFE; &#xFFFF;": [b"&#xFFFE;", b"&#xffff;", b"&#65534;"],
    "DEL and C1 references": [b"&#127;", b"&#x80;", b"&#x9F;", b"&#x85;"],
    "out-of-range references": [b"&#x110000;", b"&#99999999;"],
}

_TAG = re.compile(rb"<(/?)([A-Za-z][^\s/>]*)[^>]*>")
_RAW_TEXT = {b"script", b"style", b"textarea", b"title", b"noscript", b"template", b"xmp", b"iframe"}


@dataclass(frozen=True)
class Page:
    key: str
    body: bytes
    url: str
    generic: bool


def pages(repo: Path = REPO) -> list[Page]:
    """The real pages (no profile) and the target sites' fixture pages (their profile)."""
    from bench.analysis_identity import pages as identity_pages

    return [Page(key, body, url, generic) for key, body, url, generic in identity_pages(repo)
            if key.startswith("eval-generic/") or key.startswith("web/")]


def text_positions(body: bytes) -> list[int]:
    """Byte offsets inside the page's visible text: after `<body`, outside tags, scripts, styles
    and the like, at a character boundary (not inside a UTF-8 sequence nor an entity)."""
    start = body.lower().find(b"<body")
    positions: list[int] = []
    raw: bytes | None = None  # the raw-text element we are in
    for match in _TAG.finditer(body, max(start, 0)):
        closing, name = match.group(1), match.group(2).lower()
        if raw is not None:
            if closing and name == raw:
                raw = None
            continue
        if not closing and name in _RAW_TEXT:
            raw = name
            continue
        end = body.find(b"<", match.end())
        end = len(body) if end < 0 else end
        entity = False
        for offset in range(match.end(), end):
            byte = body[offset]
            if byte == 0x26:  # &
                entity = True
            elif entity and byte in b"; \n<":
                entity = False
            if not entity and not 0x80 <= byte < 0xC0 and byte not in b" \t\r\n":
                positions.append(offset)
    return positions


def inject(body: bytes, choices: list[bytes], count: int, rng: random.Random) -> bytes:
    """`body` with `count` picks of `choices` put at random text positions (the same rng, the same page)."""
    positions = text_positions(body)
    if not positions:
        return body
    picked = sorted(rng.sample(positions, min(count, len(positions))), reverse=True)
    for offset in picked:
        body = body[:offset] + rng.choice(choices) + body[offset:]
    return body


def _extractors(topic_key: str):
    """name -> (page) -> Article | None: the two paths measured."""
    from archive.extract import pool
    from archive.extract.article import extract_article
    from archive.sites import profile_for
    from archive.sites.generic import generic_profile
    from bench.worker_profile import spec_for

    def profile(page: Page):
        return generic_profile(page.url) if page.generic else profile_for(page.url)

    def extract(page: Page, body: bytes):
        return extract_article(body, page.url, profile(page).extraction)

    def worker(page: Page, body: bytes):
        chosen = profile(page)
        spec = spec_for(chosen, generic=page.generic or chosen.name.startswith("generic"))
        return pool._analyse(body, page.url, chosen.extraction, None, spec, True, topic_key)[0]

    return {"extract_article": extract, "worker _analyse": worker}


def _illegal_output(article) -> bool:
    from archive.extract.render import render_seed_text

    fields = [article.title, article.lead, article.author, article.category, *article.tags, *article.paragraphs,
              *(image.get("caption") or "" for image in article.images)]
    if article.is_article:
        fields.append(render_seed_text(article))
    return any(_refused_by_lxml(text) for text in fields if text)


def _refused_by_lxml(text: str) -> bool:
    """Whether lxml refuses `text` (a character XML does not allow): asked of lxml itself, not of the
    code under test's list of such characters (archive/extract/xml_chars.py), so the bench judges
    any tree, one from before that list too."""
    try:
        etree.Element("p").text = text
    except ValueError:  # (a lone surrogate: UnicodeEncodeError, a ValueError too)
        return True
    return False


def _words(article) -> int:
    return len(article.text.split()) if article is not None and article.is_article else 0


def _encoding(article) -> str | None:
    return None if article is None else article.encoding


def run(seed: int, trials: int, per_page: int, kinds: list[str] | None = None) -> dict:
    from archive.extract import pool
    from archive.extract.topic import load_topic

    topic = load_topic("auto", REPO / "seeds")
    pool._use_topic(topic)
    extractors = _extractors(topic.key)
    chosen = kinds or list(KINDS)
    counts = {kind: {path: Counter() for path in extractors} for kind in chosen}
    examples: dict[str, list[str]] = {}
    all_pages = pages()
    for page in all_pages:
        clean_articles = {path: extractor(page, page.body) for path, extractor in extractors.items()}
        clean_words = {path: _words(article) for path, article in clean_articles.items()}
        for kind in chosen:
            for trial in range(trials):
                rng = random.Random(zlib.crc32(f"{seed}/{page.key}/{kind}/{trial}".encode()))
                body = inject(page.body, KINDS[kind], per_page, rng)
                for path, extractor in extractors.items():
                    tally = counts[kind][path]
                    tally["runs"] += 1
                    try:
                        article = extractor(page, body)
                    except Exception as exc:  # what the bench is here to find
                        tally["raised"] += 1
                        examples.setdefault(f"{kind} / {path} / raised", []).append(f"{page.key}: {exc!r}"[:200])
                        continue
                    words, before = _words(article), clean_words[path]
                    if before and not words:
                        tally["lost"] += 1
                        examples.setdefault(f"{kind} / {path} / lost", []).append(
                            f"{page.key} (trial {trial}): {article.reason}")
                    elif before and words < before / 2:
                        tally["shrunk"] += 1
                        examples.setdefault(f"{kind} / {path} / shrunk", []).append(
                            f"{page.key} (trial {trial}): {words} of {before} words")
                    if article is not None and _illegal_output(article):
                        tally["illegal out"] += 1
                        examples.setdefault(f"{kind} / {path} / illegal out", []).append(page.key)
                    if article is not None and _encoding(article) != _encoding(clean_articles[path]):
                        tally["decoded otherwise"] += 1
                        examples.setdefault(f"{kind} / {path} / decoded otherwise", []).append(
                            f"{page.key} (trial {trial}): {_encoding(article)}")
                    if before:
                        tally["articles"] += 1
    return {"seed": seed, "trials": trials, "per_page": per_page, "pages": len(all_pages),
            "counts": {kind: {path: dict(tally) for path, tally in by_path.items()} for kind, by_path in counts.items()},
            "examples": {key: values[:5] for key, values in examples.items()}}


_COLUMNS = ("lost", "shrunk", "raised", "illegal out", "decoded otherwise")


def format_table(result: dict) -> str:
    paths = list(next(iter(result["counts"].values())))
    head = "| kind | " + " | ".join(f"{path}: {column}" for path in paths for column in _COLUMNS) + " |"
    lines = [f"seed {result['seed']}, {result['pages']} pages, {result['trials']} trials of {result['per_page']} "
             f"characters each; counts of injected pages (runs per path and kind: "
             f"{next(iter(next(iter(result['counts'].values())).values())).get('runs', 0)}; 'articles': of them, "
             f"those whose clean page is an article)", head, "|" + "---|" * (1 + len(paths) * len(_COLUMNS))]
    totals = {path: Counter() for path in paths}
    for kind, by_path in result["counts"].items():
        cells = []
        for path in paths:
            totals[path].update(by_path[path])
            cells += [str(by_path[path].get(column, 0)) for column in _COLUMNS]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(str(totals[p].get(c, 0)) for p in paths for c in _COLUMNS) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--trials", type=int, default=2, help="injected copies of each page, per kind")
    parser.add_argument("--per-page", type=int, default=5, help="characters injected into one copy")
    parser.add_argument("--kind", action="append", choices=list(KINDS), help="only these kinds (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the counts and examples here")
    args = parser.parse_args(argv)
    result = run(args.seed, args.trials, args.per_page, args.kind)
    print(format_table(result))
    for key, values in result["examples"].items():
        print(f"{key}: " + "; ".join(values[:3]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    bad = sum(tally.get(column, 0) for by_path in result["counts"].values() for tally in by_path.values()
              for column in ("lost", "raised", "illegal out"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
