"""The corpus as a table: its columns (name, type, meaning) and how an article becomes rows.

One place says what the export holds, so the Parquet schema, the JSONL and
CSV key order and the dataset card's field list cannot drift apart. The
columns are fixed and typed, whatever a particular corpus happens to hold:
exports of different crawls concatenate. Manifest keys that no column names
(fields added after this list was written) go to `extra`, as JSON, so every
manifest field reaches the export.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from archive.corpus.reader import ArticleVersion, CorpusArticle, CorpusReadError
from archive.vietnam_time import VIETNAM_TZ, parse_iso

__all__ = ["Column", "COLUMNS", "VIETNAM_TZ", "article_rows", "arrow_schema", "plain_value", "parse_time",
           "published_time"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # string | int | float | bool | time_vn | time_utc | strings | json | records
    meaning: str
    fields: tuple["Column", ...] = ()  # the struct fields of a `records` column (a list of structs)

    @property
    def type_name(self) -> str:
        """The type as the dataset card shows it."""
        if self.kind == "records":
            return "list of {" + ", ".join(f"{f.name}: {f.type_name}" for f in self.fields) + "}"
        return _TYPE_NAMES[self.kind]


_TYPE_NAMES = {"string": "string", "int": "int64", "float": "float64", "bool": "bool",
               "time_vn": "timestamp (µs, +07:00)", "time_utc": "timestamp (µs, UTC)",
               "strings": "list of string", "json": "string (JSON)"}

_PROVENANCE = (
    Column("url", "string", "the URL as fetched"),
    Column("canonical_url", "string", "the canonical URL"),
    Column("site", "string", "site profile name (crawled) or host (seed files)"),
    Column("warc_file", "string", "WARC file of the capture"),
    Column("warc_offset", "int", "byte offset of the response record in that file"),
    Column("warc_record_id", "string", "WARC-Record-ID of the response record"),
    Column("warc_payload_digest", "string", "WARC-Payload-Digest of that record when the article was extracted"),
    Column("fetched_at", "time_utc", "when it was fetched"),
    Column("found_from", "string", "the page that linked to it"),
    Column("score", "float", "topic score when it was kept (topic-filtered crawls)"),
    Column("rule", "string", "why a topic crawl kept it: start, related, series, core, topic-listing, anchor, tunnel, discovered, unjudged (docs/topic-rules.md)"),
)

COLUMNS: tuple[Column, ...] = (
    Column("file", "string", "the article's numbered file `NNN_<h16>.txt`: its id in the corpus"),
    Column("number", "int", "NNN, the article's sequence number"),
    Column("version", "int", "version of this row's text: 1 = the numbered file, 2… = later re-crawls"),
    Column("is_latest", "bool", "this row holds the article's latest text"),
    Column("text_file", "string", "the text's file, relative to the corpus directory"),
    Column("seed", "bool", "a seed file (imported, not crawled)"),
    Column("matched", "bool", "a seed that a crawl reached (URL, WARC pointer and metadata added)"),
    *_PROVENANCE[:3],
    Column("title", "string", "headline"),
    Column("published", "time_vn", "publication time, in the sites' zone GMT+7"),
    Column("date_line", "string", "the date line as the file shows it (HH:MM | DD/MM/YYYY)"),
    Column("author", "string", "author / attribution line"),
    Column("category", "string", "the site's section"),
    Column("tags", "strings", "the site's tags"),
    Column("lead", "string", "lead paragraph (sapo)"),
    Column("language", "string", "language code"),
    Column("words", "int", "words of the extracted article (for a matched seed: of the crawled extraction)"),
    Column("images", "records", "images in the article body",
           (Column("src", "string", "image URL"), Column("caption", "string", "caption"))),
    Column("text_sha256", "string", "SHA-256 of the text dedupe compares (a seed: of its file)"),
    Column("simhash", "string", "64-bit SimHash of its 5-word shingles, hex"),
    Column("extracted_text_sha256", "string", "a matched seed: SHA-256 of the crawled extraction"),
    Column("extracted_simhash", "string", "a matched seed: SimHash of the crawled extraction"),
    Column("matched_by", "string", "a matched seed: how (url, simhash distance, containment)"),
    Column("similarity", "float", "a matched seed: how closely (1.0 = same URL or text)"),
    *_PROVENANCE[3:],
    Column("extractor", "json", "extractor name, version and options"),
    Column("updates", "strings", "kinds of manifest update rows folded into this article, in order"),
    Column("aliases", "records", "other URLs carrying the same article",
           (*_PROVENANCE, Column("status", "string", "duplicate-text or near-duplicate"),
            Column("matched_by", "string", "how it was matched"),
            Column("similarity", "float", "how closely"),
            Column("extra", "json", "alias keys no field names"))),
    Column("earlier_versions", "records", "versions before this row's, oldest first",
           (Column("version", "int", "version number"), Column("text_file", "string", "its text file"),
            *_PROVENANCE[:2], *_PROVENANCE[3:7],
            Column("title", "string", "headline"), Column("published", "time_vn", "publication time"),
            Column("words", "int", "words"), Column("text_sha256", "string", "SHA-256 of its text"),
            Column("extra", "json", "version keys no field names"))),
    Column("extra", "json", "manifest keys no column names, as a JSON object (null: none)"),
    Column("text", "string", "the article text, exactly as its file holds it"),
)

_PUBLISHED = next(c for c in COLUMNS if c.name == "published")
_COMPUTED = {"version", "is_latest", "text_file", "updates", "aliases", "earlier_versions", "extra", "text"}
_NAMED = {c.name for c in COLUMNS} - _COMPUTED


def article_rows(article: CorpusArticle, *, all_versions: bool = False) -> list[dict[str, Any]]:
    """The article's row (its latest text), or one row per version, values typed as the columns say."""
    chosen = article.versions if all_versions else (article.latest,)
    return [_version_row(article, version) for version in chosen]


def _version_row(article: CorpusArticle, version: ArticleVersion) -> dict[str, Any]:
    fields = article.fields_of(version)
    where = f"{article.file} v{version.version}"
    row = {name: fields.get(name) for name in _NAMED}
    earlier = [v for v in article.versions if v.version < version.version]
    row.update({
        "version": version.version,
        "is_latest": version is article.latest,
        "text_file": version.text_file,
        "updates": list(article.updates),
        "aliases": list(article.aliases),
        "earlier_versions": [{"version": v.version, "text_file": v.text_file, **v.fields} for v in earlier],
        "extra": {k: v for k, v in fields.items() if k not in _NAMED} or None,
        "text": article.text(version),
    })
    return {c.name: _typed(row.get(c.name), c, where) for c in COLUMNS}


def _typed(value: Any, column: Column, where: str) -> Any:
    """`value` as the column's Python type (None stays None); a value that cannot be is an error."""
    if value is None:
        return [] if column.kind in ("strings", "records") else None
    kind = column.kind
    try:
        if kind == "string":
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise ValueError
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == "bool":
            return bool(value)
        if kind in ("time_vn", "time_utc"):
            return parse_time(value, VIETNAM_TZ if kind == "time_vn" else timezone.utc)
        if kind == "strings":
            return [str(item) for item in value]
        if kind == "json":
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        if kind == "records":
            return [_record(item, column, where) for item in value]
    except (TypeError, ValueError):
        pass
    raise CorpusReadError(f"{where}: {column.name} = {value!r} is not a {column.type_name}")


def _record(item: dict[str, Any], column: Column, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise TypeError
    names = {f.name for f in column.fields}
    rest = {k: v for k, v in item.items() if k not in names}
    item = {**item, "extra": rest or None} if "extra" in names else item
    return {f.name: _typed(item.get(f.name), f, f"{where} {column.name}") for f in column.fields}


def parse_time(value: Any, zone: timezone) -> datetime:
    """An ISO 8601 time in `zone`; a time without a zone is taken to be in `zone` already."""
    if not isinstance(value, str):
        raise TypeError
    moment = parse_iso(value, zone)
    if moment is None:
        raise ValueError(value)
    return moment.astimezone(zone)


def published_time(article: CorpusArticle) -> datetime | None:
    """When the article's latest version was published, in GMT+7 (None: undated)."""
    value = article.fields.get("published")
    return None if value is None else _typed(value, _PUBLISHED, article.file)


def plain_value(value: Any) -> Any:
    """A typed value as JSON can hold it (times in ISO 8601, with their zone)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    return value


def arrow_schema():
    """The columns as a pyarrow schema (pyarrow is imported only here: other commands don't pay for it)."""
    import pyarrow as pa

    def arrow_type(column: Column):
        simple = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
                  "time_vn": pa.timestamp("us", tz="+07:00"), "time_utc": pa.timestamp("us", tz="UTC"),
                  "strings": pa.list_(pa.string()), "json": pa.string()}
        if column.kind == "records":
            return pa.list_(pa.struct([pa.field(f.name, arrow_type(f)) for f in column.fields]))
        return simple[column.kind]

    return pa.schema([pa.field(c.name, arrow_type(c), metadata={"description": c.meaning}) for c in COLUMNS])
