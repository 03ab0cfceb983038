"""The manifest parsed once, with each line's offset, and the file it was parsed from.

Opening a crawl's corpus used to parse `manifest.jsonl` three times: the
resume's reconciliation (crawler/extensions/recovery.py), the corpus's own
reconciliation of torn lines and orphan files, and its load of the dedupe
state (archive/corpus/opening.py). `ParsedManifest` carries one parse from the
first to the others; it is used only while the file is the one parsed (same
inode, size and modification time), so any write in between means a fresh
read. Memory: the parsed lines live only while the corpus opens.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ManifestLine", "ParsedManifest", "manifest_lines", "parse_manifest"]


@dataclass
class ManifestLine:
    start: int  # byte offset in the manifest
    obj: dict[str, Any] | None  # None: a torn or unreadable line


def manifest_lines(path: Path) -> list[ManifestLine]:
    """Every non-blank line of the manifest, parsed (strict UTF-8 JSON objects with a `file`)."""
    lines, position = [], 0
    with path.open("rb") as fh:
        for raw in fh:
            obj = None
            if raw.strip():
                try:
                    parsed = json.loads(raw)
                    if isinstance(parsed, dict) and isinstance(parsed.get("file"), str):
                        obj = parsed
                except ValueError:
                    pass
                lines.append(ManifestLine(position, obj))
            position += len(raw)
    return lines


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@dataclass(frozen=True)
class ParsedManifest:
    """`lines` as parsed from the file whose identity (device, inode, size, mtime) is `identity`."""

    identity: tuple[int, int, int, int]
    lines: list[ManifestLine]

    def lines_if_current(self, path: Path) -> list[ManifestLine] | None:
        """The lines, if `path` is still the file they were parsed from; else None (read again)."""
        return self.lines if self.identity is not None and _identity(path) == self.identity else None


def parse_manifest(path: Path, reuse: ParsedManifest | None = None) -> ParsedManifest:
    """`reuse`'s lines when the file has not changed since, else a fresh parse."""
    lines = reuse.lines_if_current(path) if reuse is not None else None
    if lines is not None:
        return reuse
    before = _identity(path)
    lines = manifest_lines(path)
    # Written to while being read: no identity, so never reused.
    return ParsedManifest(before if _identity(path) == before else None, lines)
