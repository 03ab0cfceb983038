"""Which sample hashes the containment index may hold: a Bloom filter in memory, so a look-up asks
SQLite only about those.

Why: most hashes of a new article's sample are in no indexed file (~175 of ~187 on the bench's
pages), and the look-up's stop-hash test (archive/corpus/neardup/shingle_index.py, `_stop_hashes`)
paid a B-tree seek for each, most of the look-up's CPU in a crawl's corpus writer
(docs/performance.md, session 19). A Bloom filter has no false negatives: a hash it leaves out has
no posting, so not asking about it changes no count, no stop hash and no answer; a false positive
costs only the seek every hash cost before.

Two probes a hash, from two 25-bit slices of the key itself (the hashes are already uniform; a
sample hash is ≡ 0 mod 8, so its three low bits are skipped). 2^25 bits, 4 MiB, whatever the corpus
size (peak RSS must not grow with it): ~0.01 % false positives at 1,000 articles' postings, ~4 % at
20,000. numpy: a Python loop over ~190 hashes cost 2-3x as much.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["KeyFilter"]

_SLOT_BITS = 25
_SLOT_MASK = (1 << _SLOT_BITS) - 1
_FIRST_SHIFT = 3  # sample hashes are multiples of 8 (archive/corpus/neardup/fingerprint.py)
_SECOND_SHIFT = _FIRST_SHIFT + _SLOT_BITS


def _slots(keys: Iterable[int], count: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """The two bit positions of each key (SQLite's signed 64-bit integers)."""
    array = np.fromiter(keys, dtype=np.int64, count=count)
    return (array >> _FIRST_SHIFT) & _SLOT_MASK, (array >> _SECOND_SHIFT) & _SLOT_MASK


class KeyFilter:
    """A set of integer keys that may answer "maybe" for a key never added, but never "no" for one
    that was. Not thread-safe (the index calls it under its lock)."""

    def __init__(self) -> None:
        self._bits = np.zeros(1 << (_SLOT_BITS - 3), dtype=np.uint8)
        self._every_key = False  # a key was added that has no 64-bit integer value: "maybe" to all

    def add(self, keys: Iterable[int]) -> None:
        try:
            first, second = _slots(keys)
        except (TypeError, ValueError, OverflowError):  # not what the index is given, but it must not lie
            self._every_key = True
            return
        slots = np.concatenate((first, second))
        # `bitwise_or.at`, not `bits[i] |= m`: two slots in one byte must both be set.
        np.bitwise_or.at(self._bits, slots >> 3, np.left_shift(np.uint8(1), (slots & 7).astype(np.uint8)))

    def maybe_held(self, keys: list[int]) -> list[int]:
        """Those of `keys` that may have been added, in their order."""
        if not keys:
            return []
        if self._every_key:
            return list(keys)
        try:
            first, second = _slots(keys, len(keys))
        except (TypeError, ValueError, OverflowError):
            return list(keys)
        bits = self._bits
        held = (bits[first >> 3] >> (first & 7)) & (bits[second >> 3] >> (second & 7)) & 1
        return [keys[i] for i in np.flatnonzero(held).tolist()]

    def clear(self) -> None:
        self._bits.fill(0)
        self._every_key = False
