"""Which response record a revisit record stands for: the one revisit resolver.

A revisit record stores a response head without the body it repeats (profile
identical-payload-digest) or a 304 answer to a conditional request (profile
server-not-modified); its payload is that of an earlier response record. Both
readers resolve revisits here, from different candidates:

* the walk over WARC files (archive/warc/reader.py `iter_responses`): every
  response record met earlier in the walk;
* replay (archive/warc/replay.py): the URL's response captures in the CDXJ
  index, each read for its record header.

The rule (`OriginalIndex.resolve`), the same for both: the record
`WARC-Refers-To` names; else a capture of `WARC-Refers-To-Target-URI` at
`WARC-Refers-To-Date` (the same instant, whatever the precision each writer
gave its dates); else the first capture of that URI (or the revisit's own) with
the revisit's payload digest. Replay, which must answer with something, then
falls back to the capture nearest before the referred date (archive/warc/replay.py).

A server-not-modified revisit (or any revisit whose own status is 304) is
served with the original's status and headers; an identical-payload one with
its own (`serves_original_head`).

No Scrapy, no I/O.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from archive.warc.records import parse_warc_date

__all__ = ["Original", "OriginalIndex", "RevisitRef", "instant"]


@dataclass(frozen=True, slots=True)
class RevisitRef:
    """What a revisit record says about the record it repeats."""

    url: str  # the revisit's own WARC-Target-URI
    date: str  # the revisit's own WARC-Date
    refers_to: str | None  # WARC-Refers-To: the original's record id
    uri: str | None  # WARC-Refers-To-Target-URI
    refers_date: str | None  # WARC-Refers-To-Date
    digest: str | None  # WARC-Payload-Digest
    profile: str | None  # WARC-Profile

    @classmethod
    def from_fields(cls, get: Callable[[str], str | None]) -> "RevisitRef":
        """From a record's named fields; `get(name)` gives one field or None."""
        return cls(url=get("WARC-Target-URI") or "", date=get("WARC-Date") or "",
                   refers_to=get("WARC-Refers-To"), uri=get("WARC-Refers-To-Target-URI"),
                   refers_date=get("WARC-Refers-To-Date"), digest=get("WARC-Payload-Digest"),
                   profile=get("WARC-Profile"))

    @property
    def target_uri(self) -> str:
        """The URI whose captures can be the original."""
        return self.uri or self.url

    @property
    def named(self) -> str | None:
        """How the revisit names its original, for a report of unresolved revisits."""
        return self.refers_to or (f"{self.uri} @ {self.refers_date}" if self.uri else None)

    def serves_original_head(self, status: int) -> bool:
        """True when the original's status and headers stand for this revisit's (a 304)."""
        return (self.profile or "").endswith(_NOT_MODIFIED_SUFFIX) or status == 304


# WARC 1.0 and 1.1 name the profile under different prefixes.
_NOT_MODIFIED_SUFFIX = "/revisit/server-not-modified"


@dataclass(frozen=True, slots=True)
class Original:
    """A response record a revisit may stand for; `where` is the caller's handle to read it by."""

    record_id: str
    url: str
    date: str  # WARC-Date as written
    digest: str | None
    where: Any


def instant(value: str) -> str:
    """A WARC date as a comparable instant: writers differ in precision (seconds or microseconds)."""
    try:
        return parse_warc_date(value).isoformat()
    except ValueError:
        return value


class OriginalIndex:
    """Response records seen so far (a walk) or of one URL (replay), for resolving revisits."""

    def __init__(self, originals: Iterable[Original] = ()) -> None:
        self.by_id: dict[str, Original] = {}
        self.by_uri_date: dict[tuple[str, str], Original] = {}
        self.by_uri_digest: dict[tuple[str, str], Original] = {}
        for original in originals:
            self.add(original)

    def add(self, original: Original) -> None:
        self.by_id[original.record_id] = original
        self.by_uri_date[(original.url, instant(original.date))] = original
        if original.digest:
            self.by_uri_digest.setdefault((original.url, original.digest), original)

    def resolve(self, ref: RevisitRef) -> Original | None:
        """The original by the rule in the module docstring, or None."""
        if ref.refers_to and ref.refers_to in self.by_id:
            return self.by_id[ref.refers_to]
        if ref.uri and ref.refers_date:
            found = self.by_uri_date.get((ref.uri, instant(ref.refers_date)))
            if found is not None:
                return found
        if ref.digest:
            return self.by_uri_digest.get((ref.target_uri, ref.digest))
        return None
