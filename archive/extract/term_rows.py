"""The terms a process has measured, one row each: the term's one string, its specificity and each
topic profile's weight of it, so a batch of terms is looked up once and read as arrays.

A page's anchors and text are ~4,000 terms; measuring them asked three dicts per term (the
specificity, the profile's weight, the string the page's vectors share). A term's row is asked
once (`rows`, in C), and the rest is numpy's indexing: `specificities(rows)`,
`profile_weights(weights, key, rows)`, `strings(rows)` (the one string object a term is kept
as: a page text's heaviest terms are made of them), `packed_runs(rows, lengths)` (runs of the terms'
UTF-8 bytes, kept a row, joined by newlines: the anchors' packed vectors). The values
are the same floats the dicts held (`specificity` of the term, the profile's weight or 0.0).
Bounded: emptied before a batch that would take it past `MAX_ROWS` rows or `MAX_CHARS` characters
of terms, so a crawl's vocabulary, or a hostile page's huge words, are not held for long. One thread's: a row is read
after it is asked for, so the rows must not be emptied in between (the measures run in a worker
process, or inline in the crawl's reactor thread). No Scrapy here.
"""
from __future__ import annotations

from itertools import repeat
from typing import Callable

import numpy as np

__all__ = ["TermRows", "UTF8"]

UTF8 = ("utf-8", "surrogatepass")  # (what pickle does with a str: any str goes there and back)


class TermRows:
    """Rows of terms, learnt with `specificities` (topic.py's: each term's `specificity`, computed
    together), looked up as arrays."""

    MAX_ROWS = 200_000
    MAX_CHARS = 8_000_000

    def __init__(self, specificities: Callable[[list[str]], list[float]]):
        self.specificities_of = specificities
        self.generation = -1
        self.clear()

    def clear(self) -> None:
        self.generation += 1  # (what keeps the rows' strings knows them gone)
        self._row: dict[str, int] = {}
        self._strings = np.empty(1024, object)
        self._encoded = np.empty(1024, object)  # each term's UTF-8 bytes (`UTF8`), once it is packed
        self._encoded_sizes = np.empty(1024, np.intp)  # their lengths; -1: not encoded yet
        self._specificities = np.empty(1024)
        self._profiles: dict[str, tuple[np.ndarray, int]] = {}  # a profile's key: its weight of each row, how many rows are filled
        self._chars = 0

    def __len__(self) -> int:
        return len(self._row)

    def rows(self, terms: list[str]) -> np.ndarray:
        """Each term's row, learning the terms met for the first time."""
        try:
            return np.fromiter(map(self._row.__getitem__, terms), np.intp, len(terms))
        except KeyError:
            self._learn(terms)  # (which may empty the rows first: a new dict)
            return np.fromiter(map(self._row.__getitem__, terms), np.intp, len(terms))

    def reserve(self, rows: int, chars: int) -> bool:
        """Make room for up to `rows` new rows of up to `chars` characters in all, emptying the rows
        first if they would pass the bounds, so that learning them will not empty the rows in the
        middle of a batch (archive/extract/counted_terms.py holds rows between its look-ups);
        False when even empty rows could not take that many."""
        if rows > self.MAX_ROWS or chars > self.MAX_CHARS:
            return False
        if len(self._row) + rows > self.MAX_ROWS or self._chars + chars > self.MAX_CHARS:
            self.clear()
        return True

    def specificities(self, rows: np.ndarray) -> np.ndarray:
        return self._specificities[rows]

    def strings(self, rows: np.ndarray) -> list[str]:
        """The rows' terms, each the one string object its row keeps."""
        return self._strings[rows].tolist()

    def packed_runs(self, rows: np.ndarray, lengths: np.ndarray) -> list[bytes]:
        """The rows' terms cut into runs of `lengths` (none 0), each run's terms UTF-8 encoded
        (`UTF8`) and joined by newlines: what `"\\n".join(run).encode(*UTF8)` gives a run (encoding
        is character by character, so a join's bytes are the join of its pieces' bytes). The terms'
        bytes are kept a row (encoded the first time the row is packed: a page text's terms never
        are), joined once for all the runs, and each run cut out of that by the kept sizes (a
        page's ~133 anchors, ~2,600 terms: the strings were joined and encoded again at every
        page)."""
        if not len(lengths):
            return []
        sizes = self._encoded_sizes[rows]
        if sizes.min() < 0:  # terms not packed before: encoded now, once (most rows are a page text's only)
            missing = sizes < 0
            new = rows[missing]  # (a row twice is encoded twice: the same bytes)
            encoded = "\n".join(self._strings[new].tolist()).encode(*UTF8).split(b"\n")  # (no term holds a newline)
            self._encoded[new] = encoded  # (an object array: numpy stores the very bytes objects)
            sizes[missing] = self._encoded_sizes[new] = list(map(len, encoded))
        ends = np.cumsum(sizes + 1)  # (each term's bytes and the newline after them)
        last = np.cumsum(lengths) - 1  # each run's last term
        stops = (ends[last] - 1).tolist()
        starts = [0, *ends[last[:-1]].tolist()]
        joined = b"\n".join(self._encoded[rows].tolist())
        return list(map(joined.__getitem__, map(slice, starts, stops)))

    def profile_weights(self, weights: dict[str, float], key: str, rows: np.ndarray) -> np.ndarray:
        """The profile's weight of each row's term (0.0 off the profile); `key` names the weights."""
        column, done = self._profiles.get(key, (None, 0))
        learnt = len(self._row)
        if learnt == 0:  # nothing learnt yet (a process's first page had no terms): no row to weigh
            return np.zeros(len(rows))
        if done < learnt:
            if column is None or len(column) < learnt:  # (grown as the rows' own arrays are: not at every batch)
                column = np.concatenate([column[:done] if column is not None else np.empty(0), np.empty(len(self._strings) - done)])
            column[done:learnt] = np.fromiter(map(weights.get, self._strings[done:learnt].tolist(), repeat(0.0)), float, learnt - done)
            self._profiles[key] = column, learnt
        return column[rows]

    def _learn(self, terms: list[str]) -> None:
        missing = list(dict.fromkeys(term for term in terms if term not in self._row))
        chars = sum(map(len, missing))
        if len(self._row) + len(missing) > self.MAX_ROWS or self._chars + chars > self.MAX_CHARS:
            self.clear()
            missing = list(dict.fromkeys(terms))
            chars = sum(map(len, missing))
        start, end = len(self._row), len(self._row) + len(missing)
        if end > len(self._strings):
            size = max(end, 2 * len(self._strings))
            self._strings = np.concatenate([self._strings[:start], np.empty(size - start, object)])
            self._encoded = np.concatenate([self._encoded[:start], np.empty(size - start, object)])
            self._encoded_sizes = np.concatenate([self._encoded_sizes[:start], np.empty(size - start, np.intp)])
            self._specificities = np.concatenate([self._specificities[:start], np.empty(size - start)])
        self._strings[start:end] = missing
        self._encoded_sizes[start:end] = -1  # (encoded when first packed)
        self._specificities[start:end] = self.specificities_of(missing) if missing else []
        self._row.update(zip(missing, range(start, end)))
        self._chars += chars
