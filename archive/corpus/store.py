"""The seed-format corpus: numbered article files, their manifest, and the `Corpus` API callers use.

Layout (docs/design.md, "The seed format"): `NNN_<h16>.txt` files, `NNN`
continuing after the highest number in the directory, `<h16>` = `url_hash16`
of the canonical URL; `manifest.jsonl` beside them (its rows:
archive/corpus/manifest.py).

Dedupe, in order: the canonical URL (the article's own and every alias);
the SHA-256 of the article text (lead + body paragraphs); near-duplicates
(archive/corpus/neardup/: SimHash and shingle containment).

A crawl that reaches a seed writes no file: the seed's entry gains the URL,
WARC pointer and extracted metadata (`seed-match`). A seed whose file names
its own URL is matched only through that URL; the same text at another URL
is an alias of the seed, so the seed keeps its own address.

Files are written atomically and never renamed or rewritten afterwards
(archive/corpus/durable.py). With `deferred_sync=True` the fsyncs move out of
`add` into `sync()`; the crawler calls `sync()` after each `add`, outside the
ordered section, and reports a page done only once it returns. A killed
process loses nothing either way (the OS holds the written pages); only a
power cut between `add` and `sync` can lose the article being written.

Reopening a directory rebuilds all dedupe state from the manifest and the
files, so a second run dedupes against the first.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Literal

from archive.corpus.consistency import (
    MANIFEST_NAME,
    NUMBERED_FILE,
    ROLLED_BACK_DIR,
    SUPERSEDED_DIR,
    fold,
    move_aside,
    reconcile_corpus,
    remove_stale_temporaries,
)
from archive.corpus.durable import DurableFiles
from archive.corpus.manifest import LOAD_KEYS, ManifestLog, article_metadata, empty_entry, read_manifest_lines
from archive.corpus.neardup.finder import NearDuplicateFinder
from archive.corpus.neardup.fingerprint import (
    Fingerprint,
    containment_sample,
    file_lines,
    fingerprint_article,
    hex64,
    sha256_hex,
    shingles,
    simhash,
)
from archive.corpus.seeds import read_seed_file
from archive.corpus.syndication import Claim, claim_from_entry, claim_of, credit_of, is_original_over
from archive.extract.article import Article, render_seed_text
from archive.urls import canonical_url, site_of, url_hash16
from archive.writable import ensure_writable_dir, fsync_file

__all__ = ["Corpus", "CorpusError", "AddResult", "Status"]

LOG = logging.getLogger(__name__)

# The sample cache of earlier versions, superseded by the on-disk index: removed on open.
_LEGACY_SAMPLE_CACHE = ".shingle-samples.jsonl"
Status = Literal["written", "duplicate-url", "duplicate-text", "near-duplicate", "seed-match", "not-article",
                 "version", "supersedes"]
# The provenance keys of a written article, kept in memory so a superseded copy becomes a whole alias.
_PROVENANCE = ("url", "canonical_url", "site", "warc_file", "warc_offset", "warc_record_id", "warc_payload_digest",
               "fetched_at", "found_from")
VERSIONS_DIR = "versions"


class CorpusError(Exception):
    """The corpus directory cannot be used (not creatable, not writable, bad seed directory)."""


@dataclass(frozen=True)
class AddResult:
    """What `Corpus.add` did. `file` is the written file, or the existing one it matched."""

    status: Status
    file: Path | None = None
    number: int | None = None
    reason: str = ""


@dataclass(slots=True)
class _Doc:
    """In-memory state of one corpus file."""

    file: str
    number: int
    seed: bool
    matched: bool  # a seed that a crawl has reached (its manifest entry has a URL and WARC pointer)
    aliases: list[dict[str, Any]]
    has_url: bool = False  # the file names its own URL: only that URL can make it a seed match
    url: str | None = None  # its own canonical URL: only that URL gets new versions
    text_shas: set[str] = field(default_factory=set)  # extracted texts seen at that URL (all versions)
    versions: list[dict[str, Any]] = field(default_factory=list)  # version 2, 3, ... (the file is 1)
    fid: int | None = None  # its id in the containment index (None: its file is missing)
    claim: Claim | None = None  # a crawled article's: is a later copy the original? (syndication.py)
    provenance: dict[str, Any] | None = None  # a crawled article's URL and WARC pointer (for supersede)

    def awaits_match(self, how: str) -> bool:
        """True when reaching this document by `how` makes it a seed match (not an alias)."""
        return self.seed and not self.matched and (how == "url" or not self.has_url)


class Corpus:
    """A corpus directory: add articles, dedupe them, keep the manifest.

    `seeds_dir` is copied and imported only when the directory has no
    manifest yet (a new corpus); `None` or `""` starts an empty corpus.
    """

    def __init__(self, directory: str | Path, seeds_dir: str | Path | None = None, *,
                 containment_threshold: float = 0.8, deferred_sync: bool = False):
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
        self._docs: list[_Doc] = []
        self._doc_by_file: dict[str, int] = {}
        self._by_url: dict[str, int] = {}  # every canonical URL and alias URL: one probe per URL
        self._by_text: dict[str, int] = {}  # text SHA-256: one probe
        self._next_number = 0
        self._prepare_directory()
        remove_stale_temporaries(self.directory)
        try:  # SimHash bands in memory (4 probes); the containment index on disk, its look-up bounded
            self._near = NearDuplicateFinder(self.directory, containment_threshold)
        except sqlite3.Error as exc:
            raise CorpusError(f"cannot open the dedupe index in {self.directory}: {exc}") from exc
        try:
            if self.manifest_path.exists():
                self._load()
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
        canonical = _canonical_or_none(article.canonical_url) or _canonical_or_none(article.url)
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
        urls = [u for u in dict.fromkeys((canonical, _canonical_or_none(article.url))) if u]
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
        key = _canonical_or_none(url)
        with self._lock:
            index = self._by_url.get(key) if key else None
            return self.directory / self._docs[index].file if index is not None else None

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def next_number(self) -> int:
        return self._next_number

    # ----------------------------------------------------------------- setup
    def _prepare_directory(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise CorpusError(f"corpus path exists and is not a directory: {self.directory}")
        try:
            ensure_writable_dir(self.directory)
        except OSError as exc:
            raise CorpusError(f"corpus directory is not writable: {self.directory} ({exc})") from exc

    def _start(self, seeds_dir: Path | None) -> None:
        """A new corpus: copy the seed files in and import every numbered file into the manifest."""
        if seeds_dir is not None:
            if not seeds_dir.is_dir():
                raise CorpusError(f"seed directory does not exist or is not a directory: {seeds_dir}")
            for source in sorted(seeds_dir.iterdir()):
                if not (NUMBERED_FILE.match(source.name) and source.is_file()):
                    if source.suffix == ".txt":
                        LOG.warning("seed file %s has no NNN_ number; not imported", source)
                    continue
                target = self.directory / source.name
                if target.exists():
                    continue  # never rewrite an existing file, even with seed content
                self._write_file_atomically(target, source.read_bytes())
        # The seeds' lines go in at once (temporary file, then rename): a manifest that exists is a
        # complete import, so a crash here never leaves a seed looking like an orphan file.
        self.manifest.start_batch()
        for path in self._numbered_files():
            self._import_existing(path, seed=True)
        self._write_file_atomically(self.manifest_path, self.manifest.end_batch(), sync=True)

    def _index_file(self, path: Path, index: int, sample: Iterable[int] | None = None) -> None:
        self._docs[index].fid = self._near.index_file(path, index, sample)

    def _load(self) -> None:
        """Rebuild the dedupe state from the manifest and the files on disk."""
        (self.directory / _LEGACY_SAMPLE_CACHE).unlink(missing_ok=True)
        # A crash mid-append leaves a torn line (ended here so the next one stays valid JSON), and a
        # crash between a file and its manifest line an orphan file: moved to rolled-back/, so its
        # page is extracted again with full provenance (archive/corpus/consistency.py). Pointers into the
        # archive are checked by the crawl's resume, which knows where the archive is.
        reconciled = reconcile_corpus(self.directory, None)
        for orphan in reconciled.orphans:
            LOG.warning("%s had no manifest line; moved to %s/", self.directory / orphan, ROLLED_BACK_DIR)
        # Only what dedupe needs is kept of each line: a manifest of a million articles, read whole,
        # would hold every title, lead and image list in memory at once (issue #25).
        lines, repaired = read_manifest_lines(self.manifest_path, keep=LOAD_KEYS)
        if repaired:
            LOG.warning("%s: skipped %d unreadable line(s)", self.manifest_path, repaired)
        for file, entry in fold(lines).items():
            number = entry.get("number")
            match = NUMBERED_FILE.match(file)
            if not isinstance(number, int):
                number = int(match.group(1)) if match else -1
            index = self._new_doc(file, number, bool(entry.get("seed")))
            doc = self._docs[index]
            doc.matched = bool(entry.get("matched"))
            doc.aliases = list(entry.get("aliases") or [])
            doc.has_url = bool(entry.get("canonical_url"))
            doc.url = entry.get("canonical_url")
            doc.versions = list(entry.get("versions") or [])
            if not doc.seed:
                doc.claim = claim_from_entry(entry)
                doc.provenance = {k: entry.get(k) for k in _PROVENANCE}
            own = ("extracted_text_sha256",) if doc.seed else ("text_sha256", "extracted_text_sha256")
            doc.text_shas = {entry[k] for k in own if entry.get(k)} | {
                v["text_sha256"] for v in doc.versions if v.get("text_sha256")}
            for url in [entry.get("canonical_url"), *(a.get("canonical_url") for a in doc.aliases)]:
                if url:
                    self._by_url.setdefault(url, index)
            for key in ("text_sha256", "extracted_text_sha256"):
                if entry.get(key) and not (key == "text_sha256" and doc.seed):
                    self._by_text.setdefault(entry[key], index)
            for key in ("simhash", "extracted_simhash"):
                if entry.get(key):
                    self._near.add_simhash(int(entry[key], 16), index)
            path = self.directory / file
            if path.is_file():
                self._index_file(path, index)
            else:
                LOG.warning("manifest names %s but the file is missing", path)
        self._near.forget_missing(keep={self._docs[i].file for i in self._near.indexed_files()})

    def _numbered_files(self) -> list[Path]:
        found = [p for p in self.directory.iterdir() if NUMBERED_FILE.match(p.name) and p.is_file()]
        return sorted(found, key=lambda p: (int(NUMBERED_FILE.match(p.name).group(1)), p.name))

    def _import_existing(self, path: Path, *, seed: bool) -> None:
        """Add a file already on disk to the manifest (a seed of a new corpus)."""
        doc_info = read_seed_file(path)
        text = doc_info.text
        hashes = shingles(file_lines(text))
        text_simhash = simhash(hashes)
        number = doc_info.number if doc_info.number is not None else -1
        index = self._new_doc(path.name, number, seed)
        canonical = _canonical_or_none(doc_info.url) if doc_info.url else None
        self._docs[index].has_url = canonical is not None
        entry = empty_entry()
        entry.update({
            "file": path.name, "number": number, "seed": seed,
            "url": doc_info.url, "canonical_url": canonical,
            "site": site_of(canonical) if canonical else None,
            "title": doc_info.title or None,
            "published": doc_info.published.isoformat() if doc_info.published else None,
            "words": _word_count(text), "text_sha256": sha256_hex(text), "simhash": hex64(text_simhash),
        })
        self._append_manifest(entry)
        if canonical:
            self._by_url.setdefault(canonical, index)
        if not seed:
            self._by_text.setdefault(sha256_hex(text), index)
        self._near.add_simhash(text_simhash, index)
        self._index_file(path, index, sample=containment_sample(hashes))

    def _new_doc(self, file: str, number: int, seed: bool) -> int:
        """Register a corpus file; returns its index (the id used by every dedupe table)."""
        index = len(self._docs)
        self._doc_by_file[file] = index
        self._docs.append(_Doc(file=file, number=number, seed=seed, matched=False, aliases=[]))
        self._next_number = max(self._next_number, number + 1)
        return index

    # ----------------------------------------------------------------- outcomes
    def _write_article(self, article: Article, provenance: dict[str, Any], urls: list[str],
                       fp: Fingerprint) -> AddResult:
        rendered = fp.rendered.encode("utf-8")
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
        doc.text_shas.add(fp.text_sha)
        doc.claim = claim_of(article, provenance["canonical_url"])
        doc.provenance = {k: provenance.get(k) for k in _PROVENANCE}
        for url in urls:
            self._by_url.setdefault(url, index)
        self._by_text.setdefault(fp.text_sha, index)
        self._near.add_simhash(fp.simhash, index)
        self._index_file(self.directory / doc.file, index, sample=fp.file_sample)

    def _is_copy_of(self, doc: _Doc, article: Article, canonical: str) -> bool:
        """True when `doc` (a crawled article) is a syndicated copy of `article` (archive/corpus/syndication.py)."""
        return (doc.claim is not None and not doc.versions
                and is_original_over(claim_of(article, canonical), doc.claim))

    def _supersede(self, doc: _Doc, article: Article, provenance: dict[str, Any], urls: list[str],
                   fp: Fingerprint, how: str, score: float) -> AddResult:
        """`article` is the original of the copy `doc` holds: it takes the copy's number, the copy becomes
        its alias, and the copy's file moves to `superseded/` (docs/corpus-determinism.md)."""
        index = self._doc_by_file[doc.file]
        path = self.directory / f"{doc.number:03d}_{url_hash16(provenance['canonical_url'])}.txt"
        if not self._write_file_atomically(path, fp.rendered.encode("utf-8")):
            LOG.warning("%s exists already; %s stays the corpus's copy", path, doc.file)
            return self._record_alias(doc, provenance, urls, "near-duplicate", how, score)
        copy = {**(doc.provenance or {}), "status": "superseded", "matched_by": how, "similarity": round(score, 4)}
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
        self._docs[index] = _Doc(file=path.name, number=doc.number, seed=False, matched=False,
                                 aliases=entry["aliases"], text_shas=set(doc.text_shas))
        self._take_article(index, article, provenance, urls, fp)
        return AddResult("supersedes", path, doc.number, f"original of {doc.file} ({how}), which becomes its alias")

    def _record_seed_match(self, doc: _Doc, article: Article, provenance: dict[str, Any],
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
        doc.text_shas.add(text_sha)
        for url in {provenance["canonical_url"], _canonical_or_none(article.url)} - {None}:
            self._by_url.setdefault(url, index)
        self._by_text.setdefault(text_sha, index)
        self._near.add_simhash(simhash, index)
        if doc.fid is not None:
            self._near.add_postings(doc.fid, containment_sample(shingles))
        return self._result("seed-match", doc, f"seed {doc.file} matched by {how}")

    def _record_alias(self, doc: _Doc, provenance: dict[str, Any], urls: list[str],
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

    def _record_version(self, doc: _Doc, article: Article, provenance: dict[str, Any],
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
        doc.text_shas.add(text_sha)
        self._append_manifest({"file": doc.file, "update": "version", "version": number,
                               "version_file": rel, "version_entry": version})
        self._by_text.setdefault(text_sha, index)
        self._near.add_simhash(simhash, index)
        return AddResult("version", self.directory / rel, doc.number, f"version {number} of {doc.file}")

    def _result(self, status: Status, doc: _Doc, reason: str) -> AddResult:
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


def _canonical_or_none(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonical_url(url)
    except ValueError:
        return None


def _word_count(text: str) -> int:
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))
