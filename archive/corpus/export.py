"""`python -m archive export-corpus DIR --out PATH`: the corpus as one table, with a dataset card.

One row per article (its latest text, every manifest field, typed columns in
a fixed order: archive/corpus/columns.py), or with `--include-versions` one
row per version. Parquet (pyarrow) loads as-is in pandas, polars and
Hugging Face `datasets`; JSONL and CSV carry the same columns (times in ISO
8601, lists and structs as JSON in CSV). A `README.md` dataset card is
written beside the file. Both appear at once, by rename, only when the whole
export succeeded: a bad corpus leaves nothing half-written.
"""
from __future__ import annotations

import argparse
import csv
import json
import shlex
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.corpus.columns import (COLUMNS, VIETNAM_TZ, arrow_schema, article_rows, parse_time, plain_value,
                             published_time)
from archive.corpus.reader import CorpusArticle, CorpusReadError, CorpusView, read_corpus
from archive.corpus.crawl_history import locate_history
from archive.corpus.dataset_card import CARD_NAME, ExportFacts, is_our_card, render_card
from archive.writable import staged_file

FORMATS = {"parquet": ".parquet", "jsonl": ".jsonl", "csv": ".csv"}
PARQUET_BATCH = 1000  # rows per row group: memory stays flat however large the corpus


def select_articles(view: CorpusView, *, since: datetime | None = None,
                    sites: Iterable[str] = ()) -> list[CorpusArticle]:
    """The articles published at or after `since` (undated ones are left out) on any of `sites`.

    A site matches the manifest's `site` or the article's host (`nhandan.vn`, `www.` ignored), or
    the host's first label (`nhandan`, as site profiles are named), case-insensitively.
    """
    wanted = {s.lower().removeprefix("www.") for s in sites}
    chosen = []
    for article in view:
        names = {str(article.fields.get("site") or "").lower(), article.host.lower()}
        names |= {name.split(".", 1)[0] for name in names}
        if wanted and not names & wanted:
            continue
        if since is not None:
            published = published_time(article)
            if published is None or published < since:
                continue
        chosen.append(article)
    return chosen


def export_rows(articles: Iterable[CorpusArticle], *, all_versions: bool = False) -> Iterator[dict[str, Any]]:
    for article in articles:
        yield from article_rows(article, all_versions=all_versions)


def write_parquet(rows: Iterable[dict[str, Any]], path: Path, metadata: dict[str, str]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema().with_metadata({**metadata})
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in _batches(rows, PARQUET_BATCH):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


def write_jsonl(rows: Iterable[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            out.write(json.dumps(plain_value(row), ensure_ascii=False) + "\n")
            count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([c.name for c in COLUMNS])
        for row in rows:
            writer.writerow([_csv_cell(row[c.name]) for c in COLUMNS])
            count += 1
    return count


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(plain_value(value), ensure_ascii=False)
    return plain_value(value) if isinstance(value, datetime) else value


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def parse_since(raw: str) -> datetime:
    """`YYYY-MM-DD` (midnight GMT+7, the sites' zone) or an ISO 8601 time (no zone: GMT+7)."""
    try:
        return parse_time(raw.strip(), VIETNAM_TZ)
    except ValueError:
        raise CorpusReadError(f"--since {raw!r}: expected a date (2024-09-01) or a time "
                              "(2024-09-01T08:00+07:00)") from None


def output_path(raw: str, fmt: str | None) -> tuple[Path, str]:
    """The data file and its format: `--format`, else the suffix of `--out`, else Parquet.
    An existing directory (or a path ending in /) gets `corpus.<ext>` inside it."""
    out = Path(raw)
    suffix_format = {ext: name for name, ext in FORMATS.items()}.get(out.suffix.lower())
    fmt = fmt or suffix_format or "parquet"
    if out.is_dir() or raw.endswith("/"):
        out = out / f"corpus{FORMATS[fmt]}"
    return out, fmt


# --- command ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="a corpus directory (or a crawl's output directory "
                        "holding corpus/)")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="the data file (a directory: corpus.<format> in it); README.md goes beside it")
    parser.add_argument("--format", choices=sorted(FORMATS), help="default: from the --out suffix, else parquet")
    parser.add_argument("--since", metavar="DATE", help="only articles published at or after DATE "
                        "(YYYY-MM-DD, midnight GMT+7, or an ISO 8601 time); undated articles are left out")
    parser.add_argument("--site", action="append", default=[], metavar="SITE",
                        help="only this site (profile name like nhandan, or host); repeat or comma-separate")
    parser.add_argument("--include-versions", action="store_true",
                        help="one row per version of each article (a long table), not just the latest")
    parser.add_argument("--warc", type=Path, metavar="DIR", help="the WARC files, for the card's crawl ids "
                        "(default: warc/ beside the corpus)")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    out = Path(args.out)
    try:
        out, fmt = output_path(args.out, args.format)
        since = parse_since(args.since) if args.since else None
        sites = [s.strip() for value in args.site for s in value.split(",") if s.strip()]
        view = read_corpus(args.directory)
        history = locate_history(view.directory, warc_dir=args.warc)
        articles = select_articles(view, since=since, sites=sites)
        if not articles:
            raise CorpusReadError(f"no article of {view.directory} matches "
                                  + " and ".join(f for f in (f"--since {args.since}" if since else "",
                                                             f"--site {','.join(sites)}" if sites else "") if f))
        card = out.parent / CARD_NAME
        _check_outputs(out, card)
        facts = _facts(view, articles, args, out, fmt, history.warc_files(view.warc_files()))
        with staged_file(out) as data_tmp, staged_file(card) as card_tmp:
            rows = export_rows(articles, all_versions=args.include_versions)
            if fmt == "parquet":
                metadata = {"vn_news_archiver.command": facts.command, "vn_news_archiver.corpus": facts.corpus_dir}
                count = write_parquet(rows, data_tmp, metadata)
            else:
                count = (write_jsonl if fmt == "jsonl" else write_csv)(rows, data_tmp)
            facts = replace(facts, rows=count)
            card_tmp.write_text(render_card(facts, COLUMNS), encoding="utf-8")
    except CorpusReadError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"{facts.rows} rows ({facts.articles} articles) → {out} ({fmt}); dataset card → {card}")
    return 0


def _check_outputs(out: Path, card: Path) -> None:
    if out.name == CARD_NAME:
        raise CorpusReadError(f"--out {out}: {CARD_NAME} is the dataset card's name")
    if out.exists() and out.is_dir():
        raise CorpusReadError(f"--out {out} is a directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    if card.exists() and not is_our_card(card.read_text("utf-8", errors="replace")):
        raise CorpusReadError(f"{card} exists and is not a card this command wrote: export elsewhere, "
                              "or move it away")


def _facts(view: CorpusView, articles: list[CorpusArticle], args, out: Path, fmt: str, warc_files) -> ExportFacts:
    days = sorted(p.date().isoformat() for p in map(published_time, articles) if p)
    versions = sum(len(a.earlier_versions) for a in articles)
    extractors = Counter()
    for article in articles:
        for version in (article.versions if args.include_versions else (article.latest,)):
            extractor = version.fields.get("extractor") or {}
            if extractor.get("name"):
                extractors[f"{extractor['name']} {extractor.get('version', '')}".strip()] += 1
    filters = " and ".join(f for f in (f"published since {args.since}" if args.since else "",
                                       f"site {', '.join(args.site)}" if args.site else "") if f)
    argv = ["python", "-m", "archive", "export-corpus", str(args.directory), "--out", str(args.out),
            *(["--format", args.format] if args.format else []), *(["--since", args.since] if args.since else []),
            *[x for s in args.site for x in ("--site", s)], *(["--include-versions"] if args.include_versions else [])]
    return ExportFacts(
        data_file=out.name, data_format=fmt, rows=0, articles=len(articles),
        seeds=sum(bool(a.entry.get("seed")) for a in articles), versions=versions,
        aliases=sum(len(a.aliases) for a in articles), removed=len(view.removed),
        sites=Counter(a.host for a in articles), published=(days[0], days[-1]) if days else None,
        extractors=extractors, corpus_dir=str(view.directory), command=shlex.join(argv), filters=filters,
        warc_files=warc_files)

