"""The corpus manifest (`manifest.jsonl`): rows appended durably, read back and folded.

The manifest is append-only. A line is either a full record (an imported
seed, a written article) or an *update* of an earlier record, marked by
`"update"`: `"seed-match"` (a crawl reached a seed: URL, WARC pointer and
extracted metadata), `"alias"` (another URL carries the same article; the
line holds the new alias under `alias`; rows of older versions held the whole
`aliases` list), `"rollback"` (a resume found that an earlier line points at a
WARC record the archive does not hold, or a file on disk without a manifest
line: the line restores what came before, or removes the entry, and the file
goes to `rolled-back/`; archive/corpus/consistency.py), `"version"` (the
article at the entry's own URL was re-crawled with different text: the line
holds `version` (latest number), `version_file` and the new version's
provenance and hashes under `version_entry`; rows of older releases held the
whole `versions` list) or `"superseded"` (the original publisher's copy of a
syndicated article arrived after the copy was kept: the copy's entry is
`removed`, its file moves to `superseded/`, and the original's full record,
which takes the copy's number, lists the copy among its `aliases`;
archive/corpus/syndication.py). Readers merge the lines of one `file` in order with
`archive.corpus.consistency.fold` (later keys win, `alias` and
`version_entry` appended to `aliases` and `versions`, a full record starts
afresh), which is the one implementation of that merge.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from archive.corpus.consistency import fold
from archive.extract.article import EXTRACTOR, Article
from archive.writable import write_all

__all__ = ["ManifestLog", "read_manifest_lines", "empty_entry", "article_metadata", "LOAD_KEYS"]

# The manifest keys the corpus reads on open (besides "file"). The fold needs `update` (a full record
# starts afresh), `removed`, and the one-element rows (`alias`, `version_entry`) and their rollbacks.
LOAD_KEYS = frozenset({"number", "seed", "matched", "aliases", "canonical_url", "versions", "text_sha256",
                       "extracted_text_sha256", "simhash", "extracted_simhash", "update", "removed", "alias",
                       "version_entry", "drop_alias", "drop_version",
                       # a crawled article's claim to be the original, and its provenance (a superseded copy's alias)
                       "url", "site", "published", "credit", "warc_file", "warc_offset", "warc_record_id",
                       "warc_payload_digest", "fetched_at", "found_from"})


class ManifestLog:
    """Appends rows to one manifest file. `deferred_sync`: the fsync waits for the caller's
    `sync()` (see archive/corpus/store.py), else each row is fsynced as it is written."""

    def __init__(self, path: Path, *, deferred_sync: bool, on_unsynced):
        self.path = path
        self.deferred_sync = deferred_sync
        self._on_unsynced = on_unsynced  # called with the path when a row awaits its fsync
        self._batch: list[str] | None = None

    def start_batch(self) -> None:
        """Collect rows instead of appending them (a new corpus's seed import, written at once)."""
        self._batch = []

    def end_batch(self) -> bytes:
        lines, self._batch = self._batch or [], None
        return "".join(lines).encode("utf-8")

    def append(self, *entries: dict[str, Any]) -> None:
        """Rows, in one write (OSError to the caller)."""
        line = "".join(json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) + "\n" for entry in entries)
        if self._batch is not None:
            self._batch.append(line)
            return
        data = line.encode("utf-8")
        # The bytes themselves, appended by the descriptor: a text file object (its codec and buffer built
        # for one write) cost a crawl's corpus writer a third of this call (docs/performance.md, session 19).
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            write_all(fd, data)
            if self.deferred_sync:
                self._on_unsynced(self.path)
            else:
                os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> dict[str, dict[str, Any]]:
        """The manifest with each file's lines merged (later keys win), in manifest order."""
        return fold(read_manifest_lines(self.path)[0])


def read_manifest_lines(path: Path, keep: frozenset[str] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Parsed manifest lines (only `file` and the `keep` keys, if given) and the number of unreadable
    ones (a torn last line)."""
    lines, bad = [], 0
    if not path.exists():
        return lines, bad
    with path.open(encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                bad += 1
                continue
            if isinstance(obj, dict) and isinstance(obj.get("file"), str):
                lines.append(obj if keep is None else {k: v for k, v in obj.items() if k in keep or k == "file"})
            else:
                bad += 1
    return lines, bad


def empty_entry() -> dict[str, Any]:
    """Every docs/design.md manifest field, so each full record has the same keys."""
    return dict.fromkeys((
        "file", "url", "canonical_url", "site", "title", "published", "author", "category", "lead",
        "words", "text_sha256", "simhash", "warc_file", "warc_offset", "warc_record_id",
        "fetched_at", "found_from", "extractor"))


def article_metadata(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "date_line": article.date_line,
        "author": article.author,
        "category": article.category,
        "tags": list(article.tags),
        "lead": article.lead,
        "language": article.language,
        "words": article.words,
        "images": [dict(image) for image in article.images],  # {src, caption}
        "extractor": dict(EXTRACTOR),
    }
