"""One gzip member a WARC record, made by libdeflate (the `deflate` package).

A WARC file is a series of gzip members so that any record can be read from its
offset alone. Deflating them is the largest part of the WARC writer's CPU: zlib
took ~0.17 ms a page at level 1, libdeflate ~0.11, and its members are ~1.3 %
smaller at the same level (docs/performance.md, session 16). Any gzip reader
(warcio, pywb, cdxj-indexer, zlib) inflates them to the same record bytes.

Why a pinned package rather than the system's libdeflate: the wheel bundles one
libdeflate, so every installation writes the same compressed bytes at a level
and no machine silently falls back to the slower zlib. Plain library, no I/O.
"""
from __future__ import annotations

import deflate

__all__ = ["gzip_member"]

DEFAULT_LEVEL = 6  # zlib's -1 ("default"); libdeflate takes 0–12


def gzip_member(data: bytes, level: int) -> bytes:
    """`data` as one gzip member, deflated at `level` (0: stored; -1: the default, 6)."""
    return bytes(deflate.gzip_compress(data, DEFAULT_LEVEL if level < 0 else level))
