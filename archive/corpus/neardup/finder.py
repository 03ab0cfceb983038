"""Which earlier corpus document an article nearly duplicates: the SimHash band index and the containment look-up.

The corpus (archive/corpus/store.py) numbers its documents 0, 1, 2, ...; this
module knows them only by that index. Two tests, the best score winning:

- SimHash within Hamming distance 3 (the same text lightly edited): the 64
  bits are cut into 4 bands of 16, and by pigeonhole two hashes that close
  share one band exactly, so a look-up probes 4 buckets. In memory; a bucket
  holds ~N / 65,536 documents (15 at a million).
- containment of the article's shingle sample in an earlier document's
  (>= the threshold, 0.8 by default: a syndicated copy with another sapo and
  byline, or a seed, whose raw page dump holds the article plus menus and
  teasers, so only containment can match it). The postings are on disk
  (archive/corpus/neardup/shingle_index.py, which owns its SQLite tables), so
  memory stays flat however large the corpus grows, and the look-up cost does
  not depend on the corpus size (issue #25).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from archive.corpus.neardup.fingerprint import (
    SIMHASH_BITS,
    SIMHASH_MAX_DISTANCE,
    band_keys,
    containment_sample,
    file_lines,
    least_count,
    read_text,
    shingles,
)
from archive.corpus.neardup.shingle_index import INDEX_NAME, ShingleIndex

__all__ = ["NearDuplicateFinder", "INDEX_NAME"]


class NearDuplicateFinder:
    """Near-duplicate look-ups over the documents indexed so far. Not thread-safe: the corpus serialises."""

    def __init__(self, directory: Path, containment_threshold: float, *, batched: bool = False):
        self.containment_threshold = containment_threshold
        self.containment = ShingleIndex(directory / INDEX_NAME, batched=batched)  # sqlite3.Error: the caller reports it
        # SimHash band -> documents: 4 probes a look-up; document -> its SimHashes. Almost every
        # bucket holds one value: it is then that int itself, not a 1-tuple (`_members`): 56 bytes
        # less a band, 5 a document, ~5 MB over 20,000 articles (docs/performance.md, session 17).
        self._bands: dict[int, int | tuple[int, ...]] = {}
        self._simhashes: dict[int, int | tuple[int, ...]] = {}
        self._doc_by_fid: dict[int, int] = {}  # containment-index file id -> document index

    def find(self, sample: Iterable[int], simhash: int) -> tuple[int, str, float] | None:
        """`(document index, how, score)` of the closest earlier document, or None."""
        best: tuple[float, int, str] | None = None
        for key in band_keys(simhash):
            for index in _members(self._bands.get(key)):
                for other in _members(self._simhashes.get(index)):
                    distance = (simhash ^ other).bit_count()
                    if distance <= SIMHASH_MAX_DISTANCE:
                        score = 1 - distance / SIMHASH_BITS
                        if best is None or score > best[0]:
                            best = (score, index, f"simhash distance {distance}")
        sample = set(sample)
        if sample:
            need = least_count(self.containment_threshold, len(sample))
            for fid, count in self.containment.hits(sample, at_least=need).items():
                index = self._doc_by_fid.get(fid)
                if index is None:
                    continue  # indexed before, but its file has gone missing since
                score = count / len(sample)
                if score >= self.containment_threshold and (best is None or score > best[0]):
                    best = (score, index, f"containment {score:.2f}")
        if best is None:
            return None
        score, index, how = best
        return index, how, score

    def add_simhash(self, simhash: int, index: int) -> None:
        known = _members(self._simhashes.get(index))
        if simhash in known:
            return
        self._simhashes[index] = _bucket((*known, simhash))
        for key in band_keys(simhash):
            bucket = _members(self._bands.get(key))
            if index not in bucket:
                self._bands[key] = _bucket((*bucket, index))

    def remove(self, index: int, fid: int | None) -> None:
        """Document `index` (containment id `fid`) no longer takes part (it became an alias of another)."""
        for simhash in _members(self._simhashes.pop(index, None)):
            for key in band_keys(simhash):
                bucket = tuple(i for i in _members(self._bands.get(key)) if i != index)
                if bucket:
                    self._bands[key] = _bucket(bucket)
                else:
                    self._bands.pop(key, None)
        if fid is not None and self._doc_by_fid.get(fid) == index:
            del self._doc_by_fid[fid]

    def index_file(self, path: Path, index: int, sample: Iterable[int] | None = None) -> int:
        """Put a numbered file's shingle sample in the containment index, unless it is there already;
        returns its file id there. `sample` given: index exactly that (a file just written)."""
        stat = path.stat()
        fid = None if sample is not None else self.containment.file_id(path.name, stat.st_size, stat.st_mtime_ns)
        if fid is None:
            if sample is None:
                sample = containment_sample(shingles(file_lines(read_text(path))))
            fid = self.containment.add_file(path.name, stat.st_size, stat.st_mtime_ns, sample)
        self._doc_by_fid[fid] = index
        return fid

    def add_postings(self, fid: int, sample: Iterable[int]) -> None:
        self.containment.add_postings(fid, sample)

    def commit(self, older_than: float = 0.0) -> None:
        """Commit the containment index's batched writes if they began `older_than` s ago (shingle_index.py)."""
        self.containment.commit(older_than)

    def forget_missing(self, keep: set[str]) -> None:
        """Drop indexed files not in `keep` from the on-disk index (gone from the corpus)."""
        self.containment.forget(keep=keep)

    def indexed_files(self) -> Iterable[int]:
        return self._doc_by_fid.values()

    def close(self) -> None:
        self.containment.close()


def _members(bucket: int | tuple[int, ...] | None) -> tuple[int, ...]:
    """The values of a bucket as stored: none, one int, or a tuple of several."""
    if bucket is None:
        return ()
    return (bucket,) if type(bucket) is int else bucket


def _bucket(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """How a non-empty bucket is stored: its one int alone, else the tuple."""
    return values[0] if len(values) == 1 else values
