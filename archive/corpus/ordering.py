"""The order a corpus is written in: the response record's WARC-Date, then its URL.

Why this order: it is in the archive, so a live crawl, a replay crawl of its
archive and `python -m archive extract` of it all know it and write the same
corpus (docs/corpus-determinism.md). The order pages arrive in at the corpus
writer is not: it follows network and worker timing.

Keys are `(date, url)` with the date as `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC,
so they compare as strings.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from archive.vietnam_time import parse_iso
from archive.warc.records import utc_text

__all__ = ["order_key", "format_instant", "SortedSpill"]



def format_instant(moment: datetime) -> str:
    return utc_text(moment)


def order_key(warc_date: str | datetime, url: str) -> tuple[str, str]:
    """`(date, url)`: a WARC-Date (any precision WARC allows) normalised so keys compare as strings;
    a record without a readable date sorts first (date "")."""
    if isinstance(warc_date, str):
        warc_date = parse_iso(warc_date, timezone.utc)  # WARC-Date is UTC by definition
        if warc_date is None:
            return "", url
    elif warc_date.tzinfo is None:
        warc_date = warc_date.replace(tzinfo=timezone.utc)
    return format_instant(warc_date), url


class SortedSpill:
    """Objects kept in a temporary file (pickled), handed back in key order: memory per object is its
    key and two ints, so sorting a whole archive's articles does not hold their text in memory."""

    def __init__(self):
        self._file = tempfile.TemporaryFile()
        self._index: list[tuple[tuple[str, str], int, int, int]] = []  # key, serial, offset, length

    def add(self, key: tuple[str, str], obj: Any) -> None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        offset = self._file.seek(0, os.SEEK_END)
        self._file.write(data)
        self._index.append((key, len(self._index), offset, len(data)))

    def __len__(self) -> int:
        return len(self._index)

    def drain(self) -> Iterator[Any]:
        """Every object added, smallest key first (equal keys in the order they were added); then empty."""
        index, self._index = sorted(self._index), []
        for _, _, offset, length in index:
            self._file.seek(offset)
            yield pickle.loads(self._file.read(length))
        self._file.seek(0)
        self._file.truncate()

    def close(self) -> None:
        self._file.close()
