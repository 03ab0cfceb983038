"""The dataset card (`README.md`) written beside a corpus export.

A shared corpus is judged by its card: what each field means, where the texts
came from and under what terms, how the export was made, and which crawls and
WARC files hold the original captures, so anyone can go back to the bytes.
The YAML header is the Hugging Face dataset-card header: `load_dataset(DIR)`
on the export's directory finds the data file through its `configs`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

from archive.corpus.columns import Column
from archive.corpus.crawl_history import WarcFile

CARD_NAME = "README.md"
MARKER = "<!-- written by `python -m archive export-corpus`; the next export here rewrites it -->"

LICENCE_NOTE = """\
The texts are news articles whose copyright belongs to their publishers
({sites}). This export grants no licence to them: it is made for research
(text and data mining, corpus linguistics, media studies), and whether you may
copy or share it depends on the copyright exceptions of your jurisdiction and
each publisher's terms; check both before publishing the texts. The metadata
that is ours (hashes, WARC pointers, scores) may be shared freely."""


@dataclass(frozen=True)
class ExportFacts:
    """What the card says about one export."""

    data_file: str  # the export's file name, beside the card
    data_format: str  # parquet | jsonl | csv
    rows: int
    articles: int
    seeds: int
    versions: int  # later versions (rows of --include-versions beyond one per article)
    aliases: int
    removed: int  # entries the manifest's removal rows left out
    sites: Counter  # articles by site
    published: tuple[str, str] | None  # first and last publication day
    extractors: Counter  # "name version" by rows
    corpus_dir: str
    command: str
    filters: str  # "" or what --since / --site kept
    warc_files: list[WarcFile]
    made_at: datetime | None = None


def is_our_card(text: str) -> bool:
    return MARKER in text


def render_card(facts: ExportFacts, columns: tuple[Column, ...]) -> str:
    made_at = (facts.made_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    loader = {"parquet": "parquet", "jsonl": "json", "csv": "csv"}[facts.data_format]
    sites = ", ".join(f"{site} ({count})" for site, count in sorted(facts.sites.items()))
    crawl_ids = sorted({w.crawl_id for w in facts.warc_files if w.crawl_id})
    lines = [
        "---",
        "pretty_name: Vietnamese news articles (vn-news-archiver corpus export)",
        "language:",
        "- vi",
        "license: other",
        f"size_categories:\n- {_size_category(facts.rows)}",
        "configs:",
        "- config_name: default",
        f"  data_files: {facts.data_file}",
        "---",
        MARKER,
        "",
        "# Vietnamese news articles",
        "",
        f"{facts.articles} articles ({facts.seeds} of them seed files) in `{facts.data_file}`, "
        f"{facts.rows} rows: " + ("one per article, its latest text" if facts.rows == facts.articles
                                  else "one per version of each article") + ".",
        f"Sites: {sites or '-'}.",
        f"Published {facts.published[0]} to {facts.published[1]} (GMT+7)." if facts.published else
        "No article has a publication date.",
        "",
        "## Loading",
        "",
        "```python",
        "import pandas as pd",
        f'df = pd.read_{"parquet" if loader == "parquet" else loader}("{facts.data_file}"'
        + (", lines=True)" if loader == "json" else ")"),
        "",
        "from datasets import load_dataset",
        f'ds = load_dataset("{loader}", data_files="{facts.data_file}", split="train")',
        "```",
        "",
        "## Fields",
        "",
        "One row per article (its latest text) unless exported with `--include-versions` (one row per "
        "version, `is_latest` marking the newest). Fields a row's article lacks are null.",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
        *(f"| `{c.name}` | {c.type_name} | {c.meaning} |" for c in columns),
        "",
        "## How it was made",
        "",
        "- Crawled with vn-news-archiver (Scrapy): every response is stored byte-exact in WARC 1.1 files,",
        "  the archive being the source of truth; articles are extracted from it with "
        + (", ".join(f"{name} ({count} rows)" for name, count in sorted(facts.extractors.items()))
           or "no extractor (seed files only)") + ",",
        "  deduplicated by canonical URL, text hash and near-duplicate detection (SimHash, shingle",
        "  containment), and written as one seed-format text file per article plus `manifest.jsonl`.",
        "- Seed files are the corpus the crawl started from, as supplied (raw page text); when a crawl",
        "  reached a seed, its manifest entry gained the crawled URL, WARC pointer and metadata.",
        f"- The manifest (an append-only log) was folded into one record per article: {facts.aliases} "
        f"alias URL(s), {facts.versions} later version(s), {facts.removed} removed entr"
        + ("y" if facts.removed == 1 else "ies") + ".",
        f"- Exported {made_at} from `{facts.corpus_dir}` by `{facts.command}`"
        + (f"; kept: {facts.filters}" if facts.filters else "") + ".",
        "",
        "## Source crawls and WARC files",
        "",
        ("Crawl ids (warcinfo `isPartOf`): " + ", ".join(f"`{c}`" for c in crawl_ids) + "."
         if crawl_ids else "No crawl id is known: the WARC files were not found beside the corpus."),
        "",
    ]
    if facts.warc_files:
        lines += ["| WARC file | crawl id |", "|---|---|",
                  *(f"| `{w.name}` | {f'`{w.crawl_id}`' if w.crawl_id else ('(no warcinfo id)' if w.path else '(not found)')} |"
                    for w in facts.warc_files), ""]
    else:
        lines += ["No row points into a WARC file (seed files only).", ""]
    lines += ["## Licence", "", LICENCE_NOTE.format(sites=", ".join(sorted(s for s in facts.sites if "." in s)) or "-"), ""]
    return "\n".join(lines)


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "n>1M"
