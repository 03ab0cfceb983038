"""The seed-format corpus: numbered article files plus an append-only manifest.

Layout (docs/design.md, "The seed format"): `NNN_<h16>.txt` files, `NNN` continuing
after the highest number in the directory, `<h16>` = `url_hash16` of the
canonical URL; `manifest.jsonl` beside them.

The manifest is append-only. A line is either a full record (an imported
seed, a written article) or an *update* of an earlier record, marked by
`"update"`: `"seed-match"` (a crawl reached a seed: URL, WARC pointer and
extracted metadata), `"alias"` (another URL carries the same article; the
line holds the new alias under `alias`; rows of older versions held the whole
`aliases` list), `"rollback"` (a resume found that an
earlier line points at a WARC record the archive does not hold, or a file on
disk without a manifest line: the line restores what came before, or removes
the entry, and the file goes to `rolled-back/`; archive/corpus/consistency.py) or `"version"`
(the article at the entry's own URL was re-crawled with different text: the
new text goes to `versions/<NNN_h16>.v<N>.txt`, the numbered file stays as
first written, and the line holds `version` (latest number), `version_file`
and the new version's provenance and hashes under `version_entry`; rows of older
releases held the whole `versions` list). Readers merge the lines of one `file`
in order, later keys winning, `alias` and `version_entry` appended to the
entry's `aliases` and `versions` (a full record starts afresh):
`Corpus.entries()` does exactly that (`archive.corpus.consistency.fold`).

Dedupe, in order: the canonical URL (the article's own and every alias);
the SHA-256 of the article text (lead + body paragraphs); near-duplicates.
Near-duplicate text is found two ways: a 64-bit SimHash over 5-word shingles
(Hamming distance <= 3: the same text lightly edited), and *containment* of
the new article's shingles in an earlier document (>= 0.8 by default: a
syndicated copy with another sapo and byline, or a seed, whose raw page dump
holds the article plus menus and teasers, so only containment can match it).
Containment is estimated on a 1-in-8 sample of shingle hashes (chosen by
value, so both sides sample alike), kept in an inverted index on disk
(`archive/corpus/shingle_index.py`, `.dedupe-index.sqlite`) so memory stays flat
however large the corpus grows.

A crawl that reaches a seed writes no file: the seed's entry gains the URL,
WARC pointer and extracted metadata (`seed-match`). A seed whose file names
its own URL is matched only through that URL; the same text at another URL
is an alias of the seed, so the seed keeps its own address.

Files are written atomically (temporary file in the same directory, fsync,
hard link to the final name so an existing file is never replaced) and
never renamed or rewritten afterwards. With `deferred_sync=True` the fsyncs
move out of `add` into `sync()`: a crawl serialises `add` (dense numbering in
emission order), and three fsyncs per article inside that serial section
capped a whole crawl at the disk's fsync rate. The crawler calls `sync()`
after each `add`, outside the ordered section, and reports a page done only
once it returns; concurrent syncs share the work. A killed process loses
nothing either way (the OS holds the written pages); only a power cut
between `add` and `sync` can lose the article being written.

Reopening a directory rebuilds all dedupe state from the manifest and the
files, so a second run dedupes against the first.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import tempfile
import threading
import unicodedata
from array import array
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Literal

import numpy as np

from archive.corpus.consistency import (
    MANIFEST_NAME,
    NUMBERED_FILE,
    ROLLED_BACK_DIR,
    fold,
    reconcile_corpus,
    remove_stale_temporaries,
)
from archive.extract.article import EXTRACTOR, Article, render_seed_text
from archive.corpus.shingle_index import INDEX_NAME, ShingleIndex
from archive.writable import ensure_writable_dir, fsync_directory, fsync_file
from archive.corpus.seeds import read_seed_file
from archive.urls import canonical_url, site_of, url_hash16

__all__ = ["Corpus", "CorpusError", "AddResult", "Status", "MANIFEST_NAME", "INDEX_NAME"]

LOG = logging.getLogger(__name__)

# The sample cache of earlier versions, superseded by the on-disk index: removed on open.
_LEGACY_SAMPLE_CACHE = ".shingle-samples.jsonl"
Status = Literal["written", "duplicate-url", "duplicate-text", "near-duplicate", "seed-match", "not-article",
                 "version"]
VERSIONS_DIR = "versions"

SHINGLE_WORDS = 5
SAMPLE_MODULUS = 8  # keep shingle hashes ≡ 0 (mod 8) for the containment index
SIMHASH_BITS = 64
SIMHASH_MAX_DISTANCE = 3
_SIMHASH_BANDS = SIMHASH_MAX_DISTANCE + 1  # pigeonhole: distance <= 3 leaves one 16-bit band equal
_BAND_BITS = SIMHASH_BITS // _SIMHASH_BANDS
_BAND_MASK = (1 << _BAND_BITS) - 1

_WORD = re.compile(r"\w+")
_SOURCE_LINE = re.compile(r"^(?:Nguồn|Đường dẫn bài viết)\s*:\s*(?:https?://\S*)?\s*$", re.I)
_DATE_ONLY_LINE = re.compile(r"^\d{1,2}:\d{2}\s*\|\s*\d{1,2}/\d{1,2}/\d{4}(?:\s*GMT\+7)?$", re.I)


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
        self._unsynced: list[Path] = []  # files (and the manifest) written since the last sync()
        self._sync_lock = threading.Lock()
        self.manifest_path = self.directory / MANIFEST_NAME
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
        # SimHash band -> documents: 4 probes; a bucket holds ~N / 65,536 documents (15 at a million).
        self._bands: dict[int, tuple[int, ...]] = {}
        self._simhashes: dict[int, tuple[int, ...]] = {}
        self._doc_by_fid: dict[int, int] = {}
        # The containment index is on disk, its look-up bounded (archive/corpus/shingle_index.py).
        self._next_number = 0
        self._seed_lines: list[str] | None = None
        self._prepare_directory()
        remove_stale_temporaries(self.directory)
        try:
            self._containment = ShingleIndex(self.directory / INDEX_NAME)
        except sqlite3.Error as exc:
            raise CorpusError(f"cannot open the dedupe index in {self.directory}: {exc}") from exc
        try:
            if self.manifest_path.exists():
                self._load()
            else:
                self._start(Path(seeds_dir) if seeds_dir not in (None, "") else None)
        except BaseException:
            self._containment.close()
            raise

    def sync(self) -> None:
        """Make every file and manifest line written so far durable (see `deferred_sync`)."""
        with self._sync_lock:
            with self._lock:
                pending, self._unsynced = self._unsynced, []
            try:
                for path in dict.fromkeys(pending):
                    fsync_file(path)
            except OSError as exc:
                raise CorpusError(f"cannot sync the corpus in {self.directory}: {exc}") from exc
            for directory in dict.fromkeys(p.parent for p in pending):
                fsync_directory(directory)

    def close(self) -> None:
        """Sync what is pending and close the on-disk dedupe index."""
        self.sync()
        self._containment.close()

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
                return self._record_alias(doc, provenance, urls, "duplicate-text", "same text", 1.0)
            near = self._near_duplicate(shingles, simhash)
            if near is not None:
                doc, how, score = near
                if doc.awaits_match(how):
                    return self._record_seed_match(doc, article, provenance, text_sha, simhash,
                                                   shingles, how, score)
                return self._record_alias(doc, provenance, urls, "near-duplicate", how, score)
            return self._write_article(article, provenance, urls, fp)

    def entries(self) -> dict[str, dict[str, Any]]:
        """The manifest with each file's lines merged (later keys win), in manifest order."""
        return fold(_read_manifest_lines(self.manifest_path)[0])

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
        self._seed_lines = []
        for path in self._numbered_files():
            self._import_existing(path, seed=True)
        lines, self._seed_lines = self._seed_lines, None
        self._write_file_atomically(self.manifest_path, "".join(lines).encode("utf-8"), sync=True)

    def _index_file(self, path: Path, index: int, sample: Iterable[int] | None = None) -> None:
        """Put a numbered file's shingle sample in the containment index, unless it is there already."""
        stat = path.stat()
        fid = None if sample is not None else self._containment.file_id(path.name, stat.st_size, stat.st_mtime_ns)
        if fid is None:
            if sample is None:
                sample = _sample(_shingles(_file_lines(_read_text(path))))
            fid = self._containment.add_file(path.name, stat.st_size, stat.st_mtime_ns, sample)
        self._docs[index].fid = fid
        self._doc_by_fid[fid] = index

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
        lines, repaired = _read_manifest_lines(self.manifest_path, keep=_LOAD_KEYS)
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
                    self._index_simhash(int(entry[key], 16), index)
            path = self.directory / file
            if path.is_file():
                self._index_file(path, index)
            else:
                LOG.warning("manifest names %s but the file is missing", path)
        self._containment.forget(keep={self._docs[i].file for i in self._doc_by_fid.values()})

    def _numbered_files(self) -> list[Path]:
        found = [p for p in self.directory.iterdir() if NUMBERED_FILE.match(p.name) and p.is_file()]
        return sorted(found, key=lambda p: (int(NUMBERED_FILE.match(p.name).group(1)), p.name))

    def _import_existing(self, path: Path, *, seed: bool) -> None:
        """Add a file already on disk to the manifest (a seed of a new corpus)."""
        doc_info = read_seed_file(path)
        text = doc_info.text
        shingles = _shingles(_file_lines(text))
        simhash = _simhash(shingles)
        number = doc_info.number if doc_info.number is not None else -1
        index = self._new_doc(path.name, number, seed)
        canonical = _canonical_or_none(doc_info.url) if doc_info.url else None
        self._docs[index].has_url = canonical is not None
        entry = _empty_entry()
        entry.update({
            "file": path.name, "number": number, "seed": seed,
            "url": doc_info.url, "canonical_url": canonical,
            "site": _host(canonical) if canonical else None,
            "title": doc_info.title or None,
            "published": doc_info.published.isoformat() if doc_info.published else None,
            "words": _word_count(text), "text_sha256": _sha256(text), "simhash": _hex(simhash),
        })
        self._append_manifest(entry)
        if canonical:
            self._by_url.setdefault(canonical, index)
        if not seed:
            self._by_text.setdefault(_sha256(text), index)
        self._index_simhash(simhash, index)
        self._index_file(path, index, sample=_sample(shingles))

    def _new_doc(self, file: str, number: int, seed: bool) -> int:
        """Register a corpus file; returns its index (the id used by every dedupe table)."""
        index = len(self._docs)
        self._doc_by_file[file] = index
        self._docs.append(_Doc(file=file, number=number, seed=seed, matched=False, aliases=[]))
        self._next_number = max(self._next_number, number + 1)
        return index

    # ----------------------------------------------------------------- dedupe
    def _near_duplicate(self, shingles: set[int], simhash: int) -> tuple[_Doc, str, float] | None:
        """The earlier document this text nearly duplicates, how, and how closely."""
        best: tuple[float, int, str] | None = None
        for key in _band_keys(simhash):
            for index in self._bands.get(key, ()):
                for other in self._simhashes.get(index, ()):
                    distance = (simhash ^ other).bit_count()
                    if distance <= SIMHASH_MAX_DISTANCE:
                        score = 1 - distance / SIMHASH_BITS
                        if best is None or score > best[0]:
                            best = (score, index, f"simhash distance {distance}")
        sample = _sample(shingles)
        if sample:
            need = _least_count(self.containment_threshold, len(sample))
            for fid, count in self._containment.hits(sample, at_least=need).items():
                index = self._doc_by_fid.get(fid)
                if index is None:
                    continue  # indexed before, but its file has gone missing since
                score = count / len(sample)
                if score >= self.containment_threshold and (best is None or score > best[0]):
                    best = (score, index, f"containment {score:.2f}")
        if best is None:
            return None
        score, index, how = best
        return self._docs[index], how, score

    def _index_simhash(self, simhash: int, index: int) -> None:
        known = self._simhashes.get(index, ())
        if simhash in known:
            return
        # Tuples, not lists: almost every one holds a single int, and a tuple is half a list's size.
        self._simhashes[index] = (*known, simhash)
        for key in _band_keys(simhash):
            bucket = self._bands.get(key, ())
            if index not in bucket:
                self._bands[key] = (*bucket, index)

    # ----------------------------------------------------------------- outcomes
    def _write_article(self, article: Article, provenance: dict[str, Any], urls: list[str],
                       fp: Fingerprint) -> AddResult:
        text_sha, simhash = fp.text_sha, fp.simhash
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
        self._docs[index].url = provenance["canonical_url"]
        self._docs[index].text_shas.add(text_sha)
        entry = _empty_entry()
        entry.update({"file": path.name, "number": number, "seed": False, **provenance})
        entry.update(_article_metadata(article))
        entry.update({"text_sha256": text_sha, "simhash": _hex(simhash)})
        self._append_manifest(entry)
        for url in urls:
            self._by_url.setdefault(url, index)
        self._by_text.setdefault(text_sha, index)
        self._index_simhash(simhash, index)
        self._index_file(path, index, sample=fp.file_sample)
        return AddResult("written", path, number)

    def _record_seed_match(self, doc: _Doc, article: Article, provenance: dict[str, Any],
                           text_sha: str, simhash: int, shingles: set[int], how: str,
                           score: float) -> AddResult:
        """A crawl reached a seed: no new file; the seed's entry gains URL, WARC pointer, metadata."""
        index = self._doc_by_file[doc.file]
        update = {"file": doc.file, "update": "seed-match", "seed": True, "matched": True,
                  **provenance, **_article_metadata(article),
                  "extracted_text_sha256": text_sha, "extracted_simhash": _hex(simhash),
                  "matched_by": how, "similarity": round(score, 4)}
        self._append_manifest(update)
        doc.matched = doc.has_url = True
        doc.url = doc.url or provenance["canonical_url"]
        doc.text_shas.add(text_sha)
        for url in {provenance["canonical_url"], _canonical_or_none(article.url)} - {None}:
            self._by_url.setdefault(url, index)
        self._by_text.setdefault(text_sha, index)
        self._index_simhash(simhash, index)
        if doc.fid is not None:
            self._containment.add_postings(doc.fid, _sample(shingles))
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
        version = {"version": number, "file": rel, **provenance, **_article_metadata(article),
                   "text_sha256": text_sha, "simhash": _hex(simhash)}
        doc.versions.append(version)
        doc.text_shas.add(text_sha)
        self._append_manifest({"file": doc.file, "update": "version", "version": number,
                               "version_file": rel, "version_entry": version})
        self._by_text.setdefault(text_sha, index)
        self._index_simhash(simhash, index)
        return AddResult("version", self.directory / rel, doc.number, f"version {number} of {doc.file}")

    def _result(self, status: Status, doc: _Doc, reason: str) -> AddResult:
        return AddResult(status, self.directory / doc.file, doc.number, reason)

    # ----------------------------------------------------------------- I/O
    def _write_file_atomically(self, path: Path, data: bytes, *, sync: bool = False) -> bool:
        """Create `path` with `data` all at once; False if `path` already exists (never replaced).
        `sync`: fsync now even with `deferred_sync`."""
        try:
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".txt", dir=self.directory)
        except OSError as exc:
            raise CorpusError(f"cannot write in corpus directory {self.directory}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), 0o644)  # mkstemp makes 0600; corpus files are for sharing
                fh.write(data)
                fh.flush()
                if sync or not self.deferred_sync:
                    os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # fails if `path` exists: no overwrite, even in a race
            except FileExistsError:
                return False
            except OSError:
                # Filesystems without hard links: rename, after a last existence check.
                if path.exists():
                    return False
                os.rename(tmp, path)
            if self.deferred_sync:
                self._unsynced.append(path)
            else:
                fsync_directory(path.parent)
            return True
        except OSError as exc:
            raise CorpusError(f"cannot write {path}: {exc}") from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _append_manifest(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) + "\n"
        if self._seed_lines is not None:  # a new corpus's seed import: written all at once by _start
            self._seed_lines.append(line)
            return
        try:
            with self.manifest_path.open("a", encoding="utf-8", newline="\n") as fh:
                fh.write(line)
                fh.flush()
                if self.deferred_sync:
                    self._unsynced.append(self.manifest_path)
                else:
                    os.fsync(fh.fileno())
        except OSError as exc:
            raise CorpusError(f"cannot append to {self.manifest_path}: {exc}") from exc

# --------------------------------------------------------------------------- helpers
def _empty_entry() -> dict[str, Any]:
    """Every docs/design.md manifest field, so each full record has the same keys."""
    return dict.fromkeys((
        "file", "url", "canonical_url", "site", "title", "published", "author", "category", "lead",
        "words", "text_sha256", "simhash", "warc_file", "warc_offset", "warc_record_id",
        "fetched_at", "found_from", "extractor"))


def _article_metadata(article: Article) -> dict[str, Any]:
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


# The manifest keys Corpus._load reads (besides "file").
# The fold (archive/corpus/consistency.py) needs `update` (a full record starts afresh), `removed`, and the
# one-element rows (`alias`, `version_entry`) and their rollbacks (`drop_*`).
_LOAD_KEYS = frozenset({"number", "seed", "matched", "aliases", "canonical_url", "versions", "text_sha256",
                        "extracted_text_sha256", "simhash", "extracted_simhash", "update", "removed", "alias",
                        "version_entry", "drop_alias", "drop_version"})


def _read_manifest_lines(path: Path, keep: frozenset[str] | None = None) -> tuple[list[dict[str, Any]], int]:
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




def _canonical_or_none(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonical_url(url)
    except ValueError:
        return None


def _host(url: str) -> str | None:
    return site_of(url)


def _read_text(path: Path) -> str:
    return unicodedata.normalize("NFC", path.read_bytes().decode("utf-8", errors="replace"))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hex(value: int) -> str:
    return f"{value:016x}"


def _word_count(text: str) -> int:
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


def _article_lines(article: Article) -> list[str]:
    """The text an article is compared by: headline, sapo, body (no byline, date or URL)."""
    return [article.title, *([article.lead] if article.lead else []), *article.paragraphs]


def _file_lines(text: str) -> list[str]:
    """The comparable lines of a corpus file: everything but blank, date and source-URL lines."""
    return [line for line in (ln.strip() for ln in text.splitlines())
            if line and not _SOURCE_LINE.match(line) and not _DATE_ONLY_LINE.match(line)]


def _shingles(lines: Iterable[str]) -> set[int]:
    """64-bit hashes of 5-word shingles, taken within each line (blocks are paragraphs).

    Vietnamese words are mostly several syllables, so five tokens span two
    or three words: long enough to be specific, short enough to survive edits.
    Each word is hashed once (blake2b, stable across runs, cached: the
    vocabulary is small) and a shingle's hash is a polynomial of its words'
    hashes, mixed so every bit is usable by SimHash and the mod-8 sample. A
    line of fewer than 5 words is one shingle of all its words.
    """
    return set(_shingle_array(lines).tolist())


# Why numpy: this runs for every article in the extraction workers, and as
# Python big-int loops it was a quarter of their time per page. numpy does the
# same mod-2^64 arithmetic (uint64 wraps) over a whole article at once, ~4x
# faster, with identical values. The constants are np.uint64 so that nothing is
# promoted to int64/float64 or overflows.
_GRAM_BASE = np.uint64(0x100000001B3)  # FNV-64 prime: odd, so the polynomial keeps word order
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)  # splitmix64
_SHIFT1, _SHIFT2, _SHIFT3 = np.uint64(30), np.uint64(27), np.uint64(31)
_PAD = (0,) * (SHINGLE_WORDS - 1)


@lru_cache(maxsize=200_000)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "big")


@lru_cache(maxsize=8192)  # an article's lines come back when its rendered file is fingerprinted
def _line_words(line: str) -> bytes:
    """SHINGLE_WORDS - 1 zeros, then the line's word hashes, as native uint64s (b"" if no words).

    Bytes: immutable in the cache, and an article's lines join by plain copies.
    """
    words = _WORD.findall(unicodedata.normalize("NFC", line).casefold())
    return array("Q", [*_PAD, *map(_word_hash, words)]).tobytes() if words else b""


def _shingle_array(lines: Iterable[str]) -> np.ndarray:
    """The distinct shingle hashes of `lines` (see `_shingles`) as a uint64 array.

    Each line's word hashes follow SHINGLE_WORDS - 1 zeros, so one pass over
    all lines computes every window: no window spans two lines, and a short
    line's only window (zeros, then all its words) is the polynomial of its
    words alone. So a line of n words keeps its last max(n - 4, 1) windows.
    """
    words = bytearray()
    runs: list[int] = []  # alternating lengths of dropped and kept windows
    for line in lines:
        padded = _line_words(line)
        if padded:
            words += padded
            length = len(padded) // 8
            kept = max(length - 2 * len(_PAD), 1)
            runs += (length - kept, kept)
    if not words:
        return np.empty(0, dtype=np.uint64)
    h = np.frombuffer(words, dtype=np.uint64)
    width = len(h) - len(_PAD)  # number of windows, by their last word
    grams = h[:width]
    for i in range(1, SHINGLE_WORDS):  # Horner: poly = poly * base + next word
        grams = grams * _GRAM_BASE + h[i:i + width]
    keep = np.repeat(np.resize([False, True], len(runs)), runs)  # by each window's last word
    x = grams[keep[len(_PAD):]]
    x = (x ^ (x >> _SHIFT1)) * _MIX1  # splitmix64 finaliser: spreads the polynomial's bits evenly
    x = (x ^ (x >> _SHIFT2)) * _MIX2
    x = np.sort(x ^ (x >> _SHIFT3))
    return x[np.concatenate(([True], x[1:] != x[:-1]))]  # unique: np.unique is ~5x slower here


def _as_array(shingles: Iterable[int] | np.ndarray) -> np.ndarray:
    if isinstance(shingles, np.ndarray):
        return shingles
    return np.fromiter(shingles, dtype=np.uint64)


@dataclass(frozen=True)
class Fingerprint:
    """What dedupe needs to know of an article: computable anywhere, e.g. in an extraction worker."""

    text_sha: str
    sample: frozenset[int]  # containment-index sample of the article's shingles
    simhash: int
    rendered: str  # the seed-format file text
    file_sample: frozenset[int]  # the sample of the rendered file, as a reopened corpus sees it


def fingerprint_article(article: Article) -> Fingerprint:
    shingles = _shingle_array(_article_lines(article))
    rendered = render_seed_text(article)
    return Fingerprint(_sha256(article.text), frozenset(_sample(shingles)), _simhash(shingles),
                       rendered, frozenset(_sample(_shingle_array(_file_lines(rendered)))))


def _sample(shingles: Iterable[int] | np.ndarray) -> set[int]:
    """The hashes ≡ 0 (mod SAMPLE_MODULUS), as Python ints (they go into SQLite)."""
    hashes = _as_array(shingles)
    return set(hashes[hashes % np.uint64(SAMPLE_MODULUS) == 0].tolist())


def _least_count(threshold: float, size: int) -> int:
    """The fewest shared hashes `count` with `count / size >= threshold`, as `_near_duplicate` compares."""
    count = max(math.ceil(threshold * size), 1)
    while count > 1 and (count - 1) / size >= threshold:  # float rounding either way
        count -= 1
    while count <= size and count / size < threshold:
        count += 1
    return count


def _band_keys(simhash: int) -> list[int]:
    """The SimHash's bands, each tagged with its band number: one int a key (a tuple took ~3x the memory)."""
    return [band << _BAND_BITS | (simhash >> (band * _BAND_BITS)) & _BAND_MASK for band in range(_SIMHASH_BANDS)]


def _simhash(shingles: Iterable[int] | np.ndarray) -> int:
    """Charikar SimHash of the distinct shingle hashes (each one votes on every bit).

    Bit b is set when strictly more than half of the hashes have it set; the
    big-endian bytes unpack to one row of bits per hash, bit 63 in column 0.
    """
    hashes = _as_array(shingles)
    if not hashes.size:
        return 0
    bits = np.unpackbits(hashes.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)
    votes = bits.sum(axis=0, dtype=np.uint32)
    majority = votes > hashes.size // 2  # the same as 2 * votes > n, without overflow
    return int.from_bytes(np.packbits(majority).tobytes(), "big")
