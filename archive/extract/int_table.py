"""A table of non-negative integer keys to integers, asked for thousands of keys at once in numpy.

A page's ~2,800 word pairs (archive/extract/counted_terms.py) were looked up in a dict: each key
made a Python int, was hashed, found and compared, and its value made an int again. Here the keys
stay an array: open addressing (linear probing, Fibonacci hashing), each round of probes a few
numpy operations over the keys not settled yet. Exact: a key is found only where it was put.
No Scrapy here.
"""
from __future__ import annotations

import numpy as np

__all__ = ["IntTable"]

_EMPTY = -1
_FIBONACCI = np.uint64(0x9E3779B97F4A7C15)  # 2 ** 64 / golden ratio: spreads keys over the high bits


class IntTable:
    """`key -> value` for keys 0 ≤ key < 2 ** 63, kept at most half full (probes stay short)."""

    def __init__(self, bits: int = 12):
        self._bits = bits
        self._keys = np.full(1 << bits, _EMPTY, np.int64)
        self._values = np.zeros(1 << bits, np.int64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def get(self, keys: np.ndarray) -> np.ndarray:
        """Each key's value, -1 for a key not in the table."""
        keys = np.asarray(keys, np.int64)
        found = np.full(len(keys), -1, np.int64)
        todo, slots, mask = np.arange(len(keys)), self._slots(keys), len(self._keys) - 1
        asked = keys
        while len(todo):
            there = self._keys[slots]
            hit = there == asked
            found[todo[hit]] = self._values[slots[hit]]
            again = ~hit & (there != _EMPTY)
            todo, slots, asked = todo[again], (slots[again] + 1) & mask, asked[again]
        return found

    def put(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add keys not in the table (distinct), with their values."""
        keys, values = np.asarray(keys, np.int64), np.asarray(values, np.int64)
        if 2 * (self._size + len(keys)) > len(self._keys):
            self._grow(self._size + len(keys))
        self._place(keys, values)
        self._size += len(keys)

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.astype(np.uint64) * _FIBONACCI) >> np.uint64(64 - self._bits)).astype(np.intp)

    def _place(self, keys: np.ndarray, values: np.ndarray) -> None:
        slots, mask = self._slots(keys), len(self._keys) - 1
        while len(keys):
            free = np.flatnonzero(self._keys[slots] == _EMPTY)
            _, first = np.unique(slots[free], return_index=True)
            taking = free[first]  # (one key a free slot; the others probe on)
            self._keys[slots[taking]], self._values[slots[taking]] = keys[taking], values[taking]
            rest = np.ones(len(keys), bool)
            rest[taking] = False
            keys, values, slots = keys[rest], values[rest], (slots[rest] + 1) & mask

    def _grow(self, size: int) -> None:
        kept = self._keys != _EMPTY
        keys, values = self._keys[kept], self._values[kept]
        while (1 << self._bits) < 2 * size:
            self._bits += 1
        self._keys = np.full(1 << self._bits, _EMPTY, np.int64)
        self._values = np.zeros(1 << self._bits, np.int64)
        self._place(keys, values)
