"""The seed-format corpus: numbered article files, their manifest, and the `Corpus` API callers use.

Layout (docs/design.md, "The seed format"): `NNN_<h16>.txt` files, `NNN`
continuing after the highest number in the directory, `<h16>` = `url_hash16`
of the canonical URL; `manifest.jsonl` beside them (its rows:
archive/corpus/manifest.py).

Dedupe, in order: the canonical URL (the article's own and every alias);
the SHA-256 of the article text (lead + body paragraphs); near-duplicates
(archive/corpus/neardup/: SimHash and shingle containment). Of two copies of
one article the original publisher's is kept, whichever came first: a later
original supersedes the copy (archive/corpus/syndication.py).

A crawl that reaches a seed writes no file: the seed's entry gains the URL,
WARC pointer and extracted metadata (`seed-match`). A seed whose file names
its own URL is matched only through that URL; the same text at another URL
is an alias of the seed, so the seed keeps its own address.

Files are written atomically and never renamed or rewritten afterwards
(archive/corpus/durable.py). With `deferred_sync=True` the fsyncs move out of
`add` into `sync()`; the crawler calls `sync()` at checkpoints, off the writer
thread, and reports a page done only once its checkpoint returns. A killed
process loses nothing either way (the OS holds the written pages); only a
power cut between `add` and `sync` can lose the articles being written.

Opening a directory (archive/corpus/opening.py) imports the seeds of a new
corpus, or rebuilds all dedupe state from the manifest and the files, so a
second run dedupes against the first.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.corpus.consistency import (
    MANIFEST_NAME,
    SUPERSEDED_DIR,
    move_aside,
    remove_stale_temporaries,
)
from archive.corpus.durable import DurableFiles
from archive.corpus.documents import (
    PROVENANCE,
    VERSIONS_DIR,
    AddResult,
    CorpusError,
    Doc,
    Status,
    canonical_or_none,
)
from archive.corpus.opening import CorpusOpening
from archive.corpus.manifest import ManifestLog, article_metadata, empty_entry
from archive.corpus.manifest_parse import ParsedManifest
from archive.corpus.neardup.finder import NearDuplicateFinder
from archive.corpus.neardup.shingle_index import COMMIT_AGE
from archive.corpus.neardup.fingerprint import (
    Fingerprint,
    containment_sample,
    fingerprint_article,
    hex64,
)
from archive.corpus.syndication import claim_of, credit_of, is_original_over
from archive.extract.article import Article, render_seed_text
from archive.urls import url_hash16
from archive.writable import fsync_file

__all__ = ["Corpus", "CorpusError", "AddResult", "Status"]

LOG = logging.getLogger(__name__)

class Corpus(CorpusOpening):
    """A corpus directory: add articles, dedupe them, keep the manifest.

    `seeds_dir` is copied and imported only when the directory has no
    manifest yet (a new corpus); `None` or `""` starts an empty corpus.
    """

    def __init__(self, directory: str | Path, seeds_dir: str | Path | None = None, *,
                 containment_threshold: float = 0.8, deferred_sync: bool = False,
                 manifest: ParsedManifest | None = None):
        self.directory = Path(directory)
        self.deferred_sync = deferred_sync
        self._files = DurableFiles(self.directory, deferred=deferred_sync)
        self.manifest_path = self.directory / MANIFEST_NAME
        self.manifest = ManifestLog(self.manifest_path, deferred_sync=deferred_sync, on_unsynced=self._files.note)
        self.containment_threshold = containment_threshold
        self._lock = threading.Lock()
        # Dedupe state (issue #25 audit): each page costs a fixed number of probes, whatever the
        # corpus size. Memory: ~2 KB a document (RSS grew 59 MB over 20,000 articles, SQLite's
        # 16 MB page cache included), plus each document's aliases and versions (their manifest
        # lines repeat the whole list, so it is kept).
        self._docs: list[Doc] = []
        self._doc_by_file: dict[str, int] = {}
        self._by_url: dict[str, int] = {}  # every canonical URL and alias URL: one probe per URL
        self._by_text: dict[str, int] = {}  # text SHA-256: one probe
        self._next_number = 0
        self._prepare_directory()
        remove_stale_temporaries(self.directory)
        try:  # SimHash bands in memory (4 probes); the containment index on disk, its look-up bounded
            self._near = NearDuplicateFinder(self.directory, containment_threshold, batched=deferred_sync)
        except sqlite3.Error as exc:
            raise CorpusError(f"cannot open the dedupe index in {self.directory}: {exc}") from exc
        try:
            if self.manifest_path.exists():
                self._load(manifest)  # `manifest`: the resume's parse of it (archive/corpus/manifest_parse.py)
            else:
                self._start(Path(seeds_dir) if seeds_dir not in (None, "") else None)
        except BaseException:
            self._near.close()
            raise

    def sync(self) -> None:
        """Make every file and manifest line written so far durable (see `deferred_sync`)."""
        try:
            self._files.sync()
        except OSError as exc:
            raise CorpusError(f"cannot sync the corpus in {self.directory}: {exc}") from exc
        # The dedupe index is derived data: committed in batches, never synced (shingle_index.py; thread-safe).
        self._near.commit(older_than=COMMIT_AGE)

    @property
    def fsyncs(self) -> int:
        """fsync and syncfs calls made for this corpus's files so far (archive/corpus/durable.py)."""
        return self._files.fsyncs

    def close(self) -> None:
        """Sync what is pending and close the on-disk dedupe index."""
        self.sync()
        self._near.close()

    def __enter__(self) -> "Corpus":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------------- public
    def add(self, article: Article, *, site: str, warc_file: str | Path | None = None,
            warc_offset: int | None = None, warc_record_id: str | None = None,
            warc_payload_digest: str | None = None, fetched_at: datetime | str | None = None, found_from: str | None = None,
            topic_score: float | None = None, topic_rule: str | None = None,
            fingerprint: Fingerprint | None = None) -> AddResult:
        """Write `article` as a new numbered file, or record why not (see the module docstring).

        `topic_score` and `topic_rule` say why a topic-filtered crawl kept the page
        (crawler/relevance.py); they go in the manifest as `score` and `rule`, only when given.
        """
        if not article.is_article:
            return AddResult("not-article", reason=article.reason or "not an article")
        canonical = canonical_or_none(article.canonical_url) or canonical_or_none(article.url)
        if canonical is None:  # no URL, no file name: nothing to key the article by
            return AddResult("not-article", reason=f"no valid http(s) URL: {article.url!r}")
        provenance = {
            "url": article.url,
            "canonical_url": canonical,
            "site": site,
            "warc_file": str(warc_file) if warc_file is not None else None,
            "warc_offset": warc_offset,
            "warc_record_id": warc_record_id,
            # The record's digest as the writer computed it: `archive check --corpus` checks the pointer
            # still leads to the very capture the article was extracted from.
            "warc_payload_digest": warc_payload_digest,
            "fetched_at": fetched_at.isoformat() if isinstance(fetched_at, datetime) else fetched_at,
            "found_from": found_from,
        }
        provenance.update({k: v for k, v in (("score", topic_score), ("rule", topic_rule)) if v is not None})
        urls = [u for u in dict.fromkeys((canonical, canonical_or_none(article.url))) if u]
        # The hashing is most of add()'s CPU: callers with worker processes pass it precomputed.
        fp = fingerprint if fingerprint is not None else fingerprint_article(article)
        text_sha, shingles, simhash = fp.text_sha, fp.sample, fp.simhash
        with self._lock:
            for url in urls:
                if url in self._by_url:
                    doc = self._docs[self._by_url[url]]
                    if doc.awaits_match("url"):
                        return self._record_seed_match(doc, article, provenance, text_sha, simhash,
                                                       shingles, "url", 1.0)
                    if url == doc.url and doc.text_shas and text_sha not in doc.text_shas:
                        return self._record_version(doc, article, provenance, text_sha, simhash)
                    return self._result("duplicate-url", doc, f"canonical URL already in {doc.file}")
            if text_sha in self._by_text:
                doc = self._docs[self._by_text[text_sha]]
                if doc.awaits_match("text"):
                    return self._record_seed_match(doc, article, provenance, text_sha, simhash,
                                                   shingles, "text", 1.0)
                if self._is_copy_of(doc, article, canonical):
                    return self._supersede(doc, article, provenance, urls, fp, "same text", 1.0)
                return self._record_alias(doc, provenance, urls, "duplicate-text", "same text", 1.0)
            near = self._near.find(shingles, simhash)
            if near is not None:
                index, how, score = near
                doc = self._docs[index]
                if doc.awaits_match(how):
                    return self._record_seed_match(doc, article, provenance, text_sha, simhash,
                                                   shingles, how, score)
                if self._is_copy_of(doc, article, canonical):
                    return self._supersede(doc, article, provenance, urls, fp, how, score)
                return self._record_alias(doc, provenance, urls, "near-duplicate", how, score)
            return self._write_article(article, provenance, urls, fp)

    def entries(self) -> dict[str, dict[str, Any]]:
        """The manifest with each file's lines merged (later keys win), in manifest order."""
        return self.manifest.entries()

    def file_for_url(self, url: str) -> Path | None:
        """The corpus file holding the article at `url` (itself or an alias), if any."""
        key = canonical_or_none(url)
        with self._lock:
            index = self._by_url.get(key) if key else None
            return self.directory / self._docs[index].file if index is not None else None

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def next_number(self) -> int:
        return self._next_number

    # ----------------------------------------------------------------- outcomes
    def _write_article(self, article: Article, provenance: dict[str, Any], urls: list[str],
                       fp: Fingerprint) -> AddResult:
        rendered = fp.file_bytes()
        h16 = url_hash16(provenance["canonical_url"])
        while True:
            number = self._next_number
            path = self.directory / f"{number:03d}_{h16}.txt"
            self._next_number += 1
            if self._write_file_atomically(path, rendered):
                break
            LOG.warning("%s appeared meanwhile (another writer?); taking the next number", path)
        index = self._new_doc(path.name, number, seed=False)
        self._append_manifest(self._article_entry(path.name, number, article, provenance, fp))
        self._take_article(index, article, provenance, urls, fp)
        return AddResult("written", path, number)

    def _article_entry(self, file: str, number: int, article: Article, provenance: dict[str, Any],
                       fp: Fingerprint) -> dict[str, Any]:
        """A written article's full manifest record."""
        entry = empty_entry()
        entry.update({"file": file, "number": number, "seed": False, **provenance})
        entry.update(article_metadata(article))
        entry.update({"text_sha256": fp.text_sha, "simhash": hex64(fp.simhash)})
        credit = credit_of(article)
        if credit:
            entry["credit"] = credit
        return entry

    def _take_article(self, index: int, article: Article, provenance: dict[str, Any], urls: list[str],
                      fp: Fingerprint) -> None:
        """Document `index` now holds `article` (just written): index its URLs, text and fingerprints."""
        doc = self._docs[index]
        doc.url = provenance["canonical_url"]
        doc.add_text_sha(fp.text_sha)
        doc.claim = claim_of(article, provenance["canonical_url"])
        doc.provenance = tuple(provenance.get(k) for k in PROVENANCE)
        for url in urls:
            self._by_url.setdefault(url, index)
        self._by_text.setdefault(fp.text_sha, index)
        self._near.add_simhash(fp.simhash, index)
        self._index_file(self.directory / doc.file, index, sample=fp.file_sample)

    def _is_copy_of(self, doc: Doc, article: Article, canonical: str) -> bool:
        """True when `doc` (a crawled article) is a syndicated copy of `article` (archive/corpus/syndication.py)."""
        return (doc.claim is not None and not doc.versions
                and is_original_over(claim_of(article, canonical), doc.claim))

    def _supersede(self, doc: Doc, article: Article, provenance: dict[str, Any], urls: list[str],
                   fp: Fingerprint, how: str, score: float) -> AddResult:
        """`article` is the original of the copy `doc` holds: it takes the copy's number, the copy becomes
        its alias, and the copy's file moves to `superseded/` (docs/corpus-determinism.md)."""
        index = self._doc_by_file[doc.file]
        path = self.directory / f"{doc.number:03d}_{url_hash16(provenance['canonical_url'])}.txt"
        if not self._write_file_atomically(path, fp.file_bytes()):
            LOG.warning("%s exists already; %s stays the corpus's copy", path, doc.file)
            return self._record_alias(doc, provenance, urls, "near-duplicate", how, score)
        copy = {**doc.provenance_entry(), "status": "superseded", "matched_by": how, "similarity": round(score, 4)}
        entry = {**self._article_entry(path.name, doc.number, article, provenance, fp),
                 "aliases": [*doc.aliases, copy], "supersedes": doc.file}
        pointer = {k: provenance.get(k) for k in ("url", "warc_file", "warc_offset", "warc_record_id",
                                                  "warc_payload_digest")}
        # One append for both rows: a crash leaves both or neither (a torn line is ended on resume).
        self._append_manifest(entry, {"file": doc.file, "update": "superseded", "removed": True,
                                      "superseded_by": path.name, "by": pointer})
        try:
            fsync_file(self.directory / doc.file)  # its pending deferred fsync would find it gone
            move_aside(self.directory, self.directory / doc.file, SUPERSEDED_DIR)
        except OSError as exc:
            raise CorpusError(f"cannot move {doc.file} to {SUPERSEDED_DIR}/: {exc}") from exc
        del self._doc_by_file[doc.file]
        self._doc_by_file[path.name] = index
        # The same index: every URL, text and SimHash that led to the copy now leads to the original.
        self._docs[index] = Doc(file=path.name, number=doc.number, seed=False, matched=False,
                                 aliases=entry["aliases"], text_shas=doc.text_shas)
        self._take_article(index, article, provenance, urls, fp)
        return AddResult("supersedes", path, doc.number, f"original of {doc.file} ({how}), which becomes its alias")

    def _record_seed_match(self, doc: Doc, article: Article, provenance: dict[str, Any],
                           text_sha: str, simhash: int, shingles: set[int], how: str,
                           score: float) -> AddResult:
        """A crawl reached a seed: no new file; the seed's entry gains URL, WARC pointer, metadata."""
        index = self._doc_by_file[doc.file]
        update = {"file": doc.file, "update": "seed-match", "seed": True, "matched": True,
                  **provenance, **article_metadata(article),
                  "extracted_text_sha256": text_sha, "extracted_simhash": hex64(simhash),
                  "matched_by": how, "similarity": round(score, 4)}
        self._append_manifest(update)
        doc.matched = doc.has_url = True
        doc.url = doc.url or provenance["canonical_url"]
        doc.add_text_sha(text_sha)
        for url in {provenance["canonical_url"], canonical_or_none(article.url)} - {None}:
            self._by_url.setdefault(url, index)
        self._by_text.setdefault(text_sha, index)
        self._near.add_simhash(simhash, index)
        if doc.fid is not None:
            self._near.add_postings(doc.fid, containment_sample(shingles))
        return self._result("seed-match", doc, f"seed {doc.file} matched by {how}")

    def _record_alias(self, doc: Doc, provenance: dict[str, Any], urls: list[str],
                      status: Status, how: str, score: float) -> AddResult:
        """Another URL carries an article already in the corpus: note it on that entry."""
        index = self._doc_by_file[doc.file]
        alias = {**provenance, "status": status, "matched_by": how, "similarity": round(score, 4)}
        doc.aliases.append(alias)
        # Only the new alias: readers append it (archive.corpus.consistency.fold), so an article reached
        # through n URLs costs O(n) manifest bytes, not O(n^2).
        self._append_manifest({"file": doc.file, "update": "alias", "alias": alias})
        for url in urls:
            self._by_url.setdefault(url, index)
        return self._result(status, doc, f"{how} with {doc.file}")

    def _record_version(self, doc: Doc, article: Article, provenance: dict[str, Any],
                        text_sha: str, simhash: int) -> AddResult:
        """The article at this entry's URL changed: keep the new text as the next version.

        The numbered file is never rewritten; the new text goes beside it under
        `versions/`, and an `update: "version"` line carries the whole version list.
        """
        index = self._doc_by_file[doc.file]
        (self.directory / VERSIONS_DIR).mkdir(exist_ok=True)
        rendered = render_seed_text(article).encode("utf-8")
        number = len(doc.versions) + 2
        while True:
            rel = f"{VERSIONS_DIR}/{Path(doc.file).stem}.v{number}.txt"
            if self._write_file_atomically(self.directory / rel, rendered):
                break
            number += 1  # left by a run killed before its manifest line; keep it, take the next
        version = {"version": number, "file": rel, **provenance, **article_metadata(article),
                   "text_sha256": text_sha, "simhash": hex64(simhash)}
        doc.versions.append(version)
        doc.add_text_sha(text_sha)
        self._append_manifest({"file": doc.file, "update": "version", "version": number,
                               "version_file": rel, "version_entry": version})
        self._by_text.setdefault(text_sha, index)
        self._near.add_simhash(simhash, index)
        return AddResult("version", self.directory / rel, doc.number, f"version {number} of {doc.file}")

    def _result(self, status: Status, doc: Doc, reason: str) -> AddResult:
        return AddResult(status, self.directory / doc.file, doc.number, reason)

    # ----------------------------------------------------------------- I/O
    def _write_file_atomically(self, path: Path, data: bytes, *, sync: bool = False) -> bool:
        """Create `path` with `data` all at once; False if it exists (never replaced); `sync`: fsync now."""
        try:
            return self._files.create(path, data, sync=sync)
        except OSError as exc:
            raise CorpusError(f"cannot write {path} in the corpus directory: {exc}") from exc

    def _append_manifest(self, *entries: dict[str, Any]) -> None:
        try:
            self.manifest.append(*entries)
        except OSError as exc:
            raise CorpusError(f"cannot append to {self.manifest_path}: {exc}") from exc
