"""Opening a corpus directory: a new one imports its seeds, an existing one is rebuilt from its manifest.

A mixin of `archive.corpus.store.Corpus` (the class is long; this is the part
that runs once, on open). Reopening rebuilds all dedupe state from the
manifest and the files, so a second run dedupes against the first; the
containment index on disk spares re-hashing files it already holds.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from archive.corpus.consistency import NUMBERED_FILE, ROLLED_BACK_DIR, fold, reconcile_corpus
from archive.corpus.documents import PROVENANCE, CorpusError, Doc, canonical_or_none
from archive.corpus.manifest import LOAD_KEYS, empty_entry, read_manifest_lines
from archive.corpus.manifest_parse import ParsedManifest
from archive.corpus.neardup.fingerprint import containment_sample, file_lines, hex64, sha256_hex, shingles, simhash
from archive.corpus.seeds import read_seed_file
from archive.corpus.syndication import claim_from_entry
from archive.urls import site_of
from archive.writable import ensure_writable_dir

__all__ = ["CorpusOpening"]

LOG = logging.getLogger(__name__)

# The sample cache of earlier versions, superseded by the on-disk index: removed on open.
_LEGACY_SAMPLE_CACHE = ".shingle-samples.jsonl"


class CorpusOpening:
    """`Corpus`'s setup: `_start` (a new corpus) and `_load` (an existing one)."""

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

    def _load(self, parsed: ParsedManifest | None = None) -> None:
        """Rebuild the dedupe state from the manifest and the files on disk; `parsed`: the manifest as
        the crawl's resume parsed it."""
        (self.directory / _LEGACY_SAMPLE_CACHE).unlink(missing_ok=True)
        # A crash mid-append leaves a torn line (ended here so the next one stays valid JSON), and a
        # crash between a file and its manifest line an orphan file: moved to rolled-back/, so its
        # page is extracted again with full provenance (archive/corpus/consistency.py). Pointers into the
        # archive are checked by the crawl's resume, which knows where the archive is.
        # The resume's parse of the manifest, if it handed one on (archive/corpus/manifest_parse.py).
        reconciled = reconcile_corpus(self.directory, None, parsed=parsed)
        for orphan in reconciled.orphans:
            LOG.warning("%s had no manifest line; moved to %s/", self.directory / orphan, ROLLED_BACK_DIR)
        # Only what dedupe needs is kept of each line: a manifest of a million articles, read whole,
        # would hold every title, lead and image list in memory at once (issue #25).
        parsed = reconciled.take_manifest()
        if parsed is not None and all(line.obj is not None for line in parsed.lines):
            lines, repaired = [{k: v for k, v in line.obj.items() if k in LOAD_KEYS or k == "file"}
                               for line in parsed.lines], 0
        else:  # changed by the reconciliation, or unreadable lines (read leniently here)
            lines, repaired = read_manifest_lines(self.manifest_path, keep=LOAD_KEYS)
        del parsed
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
                doc.provenance = tuple(entry.get(k) for k in PROVENANCE)
            own = ("extracted_text_sha256",) if doc.seed else ("text_sha256", "extracted_text_sha256")
            doc.text_shas = tuple({entry[k] for k in own if entry.get(k)} | {
                v["text_sha256"] for v in doc.versions if v.get("text_sha256")})
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
        canonical = canonical_or_none(doc_info.url) if doc_info.url else None
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
        self._docs.append(Doc(file=file, number=number, seed=seed, matched=False, aliases=[]))
        self._next_number = max(self._next_number, number + 1)
        return index


def _word_count(text: str) -> int:
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))
