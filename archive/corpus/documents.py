"""What the corpus modules share: the in-memory document, the outcome of an add, the corpus's error."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from archive.corpus.syndication import Claim
from archive.urls import canonical_url

__all__ = ["CorpusError", "AddResult", "Status", "Doc", "PROVENANCE", "VERSIONS_DIR", "canonical_or_none"]

Status = Literal["written", "duplicate-url", "duplicate-text", "near-duplicate", "seed-match", "not-article",
                 "version", "supersedes"]
# The provenance keys of a written article, kept in memory so a superseded copy becomes a whole alias.
PROVENANCE = ("url", "canonical_url", "site", "warc_file", "warc_offset", "warc_record_id", "warc_payload_digest",
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
class Doc:
    """In-memory state of one corpus file."""

    file: str
    number: int
    seed: bool
    matched: bool  # a seed that a crawl has reached (its manifest entry has a URL and WARC pointer)
    aliases: list[dict[str, Any]]
    has_url: bool = False  # the file names its own URL: only that URL can make it a seed match
    url: str | None = None  # its own canonical URL: only that URL gets new versions
    # Extracted texts seen at that URL (all versions): a tuple, almost always of one, not a set (216
    # bytes); `add_text_sha`. Memory held a document: docs/performance.md, session 17.
    text_shas: tuple[str, ...] = ()
    versions: list[dict[str, Any]] = field(default_factory=list)  # version 2, 3, ... (the file is 1)
    fid: int | None = None  # its id in the containment index (None: its file is missing)
    claim: Claim | None = None  # a crawled article's: is a later copy the original? (syndication.py)
    # A crawled article's URL and WARC pointer (for supersede): the values of PROVENANCE in its order,
    # a tuple rather than a dict (160 bytes less a document); `provenance_entry` gives the dict.
    provenance: tuple[Any, ...] | None = None

    def add_text_sha(self, text_sha: str) -> None:
        if text_sha not in self.text_shas:
            self.text_shas = (*self.text_shas, text_sha)

    def provenance_entry(self) -> dict[str, Any]:
        """Its provenance by PROVENANCE key (empty for a seed or a document with none)."""
        return dict(zip(PROVENANCE, self.provenance)) if self.provenance is not None else {}

    def awaits_match(self, how: str) -> bool:
        """True when reaching this document by `how` makes it a seed match (not an alias)."""
        return self.seed and not self.matched and (how == "url" or not self.has_url)


def canonical_or_none(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonical_url(url)
    except ValueError:
        return None
