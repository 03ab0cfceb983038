"""The archive is the source of truth: check that the corpus and the crawl state agree with it.

The invariant (docs/crash-safety.md): a WARC record counts as written only
once its bytes are fsynced (the writer does that before it resolves the
record's future); the crawl state and the corpus record a page only after
that. So after any crash the state and the corpus can only *lag* the archive.
Where they lead it anyway (a disk that lied, a file copied by hand, a bug),
resuming rolls them back instead of trusting them:

* `reconcile_corpus`: every manifest line written since the last verified
  point (`.verified` in the corpus directory, advanced at each clean close and
  after each reconciliation) whose WARC pointer does not resolve to a record of
  the same id and URL is undone by a correcting line (`"update": "rollback"`);
  a rolled-back article's file is moved to `rolled-back/` (never deleted), and a
  numbered file without a manifest line (a crash between the two writes) is
  moved there too. Torn manifest lines are ended and counted.
* `reconcile_state`: every state row fetched since the state's verified point
  whose record does not resolve, and every row of a page the corpus rolled
  back, is deleted, so the page is due again and fetched in this run.
* The full offline check (`python -m archive check --corpus`, the crash-loop
  bench) reads the same pointers: archive/corpus/crawl_check.py.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from warcio.archiveiterator import ArchiveIterator

from archive.corpus.manifest_parse import ParsedManifest, parse_manifest
from archive.corpus.seeds import SeedError, read_seed_file
from archive.state.unrecorded import adopt_unrecorded, files_written_since
from archive.urls import canonical_url
from archive.warc.reader import READ_ERRORS
from archive.writable import fsync_directory, fsync_file

__all__ = ["RecordHead", "WarcLocator", "read_record_head", "pointer_problem", "reconcile_corpus",
           "reconcile_state", "mark_corpus_verified",
           "ReconcileSummary", "fold", "move_aside",
           "ROLLED_BACK_DIR", "SUPERSEDED_DIR", "VERIFIED_NAME"]

ROLLED_BACK_DIR = "rolled-back"
SUPERSEDED_DIR = "superseded"  # syndicated copies replaced by their original (archive/corpus/syndication.py)
VERIFIED_NAME = ".verified"  # JSON: {"manifest_bytes": N}: lines before byte N were verified
MANIFEST_NAME = "manifest.jsonl"
NUMBERED_FILE = re.compile(r"^(\d+)_[^/]*\.txt$")  # NNN_<h16>.txt: a corpus article's file


# --------------------------------------------------------------------------- records
@dataclass(frozen=True, slots=True)
class RecordHead:
    """What a pointer is checked against: one record's type, id, URL and digest, and whether it is whole."""

    rec_type: str
    record_id: str
    target_uri: str | None
    payload_digest: str | None
    complete: bool


def read_record_head(path: Path, offset: int) -> RecordHead | None:
    """The record at `offset` of `path`, read to its end (a cut-off record is not `complete`); None if none."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh, no_record_parse=True)), None)
            if record is None:
                return None
            headers = record.rec_headers
            declared = int(headers.get_header("Content-Length") or -1)
            read = 0
            while chunk := record.raw_stream.read(1 << 16):
                read += len(chunk)
            return RecordHead(rec_type=record.rec_type or "",
                              record_id=headers.get_header("WARC-Record-ID") or "",
                              target_uri=headers.get_header("WARC-Target-URI"),
                              payload_digest=headers.get_header("WARC-Payload-Digest"),
                              complete=read == declared)
    except READ_ERRORS:
        return None


class WarcLocator:
    """Finds the WARC file a pointer names (pointers hold the file name, not its directory)
    among `where`: a WARC directory, or several directories and files."""

    def __init__(self, where: str | os.PathLike | Iterable[str | os.PathLike]):
        self.where = [Path(where)] if isinstance(where, (str, os.PathLike)) else [Path(w) for w in where]
        self._paths: dict[str, Path] | None = None

    def files(self) -> list[Path]:
        """Every WARC file found, `.open` ones included."""
        self.path("")
        return list(self._paths.values())

    def path(self, name: str) -> Path | None:
        if self._paths is None:
            paths: dict[str, Path] = {}  # (whole before it is seen: threads may ask at once)
            for place in self.where:
                found = sorted(place.rglob("*.warc*")) if place.is_dir() else [place]
                for path in found:
                    if path.is_file() and path.name.endswith((".warc", ".warc.gz", ".open")):
                        paths.setdefault(path.name.removesuffix(".open"), path)
            self._paths = paths
        return self._paths.get(name.removesuffix(".open"))


def pointer_problem(locator: WarcLocator, entry: dict[str, Any], *, url_key: str = "url") -> str | None:
    """Why `entry`'s WARC pointer (warc_file, warc_offset, warc_record_id) does not hold, or None."""
    name, offset, record_id = entry.get("warc_file"), entry.get("warc_offset"), entry.get("warc_record_id")
    if not name or offset is None or not record_id:
        return "no WARC pointer"
    path = locator.path(Path(str(name)).name)
    if path is None:
        return f"WARC file {name} is missing"
    size = path.stat().st_size
    if not isinstance(offset, int) or offset < 0 or offset >= size:
        return f"offset {offset} is past the end of {path.name} ({size} bytes)"
    head = read_record_head(path, offset)
    if head is None:
        return f"no WARC record at {path.name}@{offset}"
    if head.record_id != record_id:
        return f"{path.name}@{offset} holds {head.record_id or 'a record without id'}, not {record_id}"
    if not head.complete:
        return f"the record at {path.name}@{offset} is cut short"
    url = entry.get(url_key)
    if url and head.target_uri and _same_url(head.target_uri, url) is False:
        return f"{path.name}@{offset} is a capture of {head.target_uri}, not {url}"
    digest = entry.get("warc_payload_digest")
    if digest and head.payload_digest and digest != head.payload_digest:
        return f"{path.name}@{offset}: payload digest {head.payload_digest}, manifest says {digest}"
    return None


def _same_url(a: str, b: str) -> bool | None:
    try:
        return a == b or canonical_url(a) == canonical_url(b)
    except ValueError:
        return None


# --------------------------------------------------------------------------- manifest
def fold(lines: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The manifest log as one entry per file, in order of first appearance.

    A full record (no `update` key) starts its file's entry afresh (a rolled-back article's
    number and name are taken again when its page is extracted again); an update overrides
    the keys it holds; an entry whose last rollback `removed` it is left out."""
    merged: dict[str, dict[str, Any]] = {}
    for line in lines:
        if "update" not in line:
            merged.pop(line["file"], None)
        entry = merged.setdefault(line["file"], {})
        for key, value in line.items():
            if key in _APPENDED:  # one element a row: the list grows in O(1) bytes per row
                entry[_APPENDED[key]] = [*(entry.get(_APPENDED[key]) or []), value]
            elif key in _DROPPED:  # a rollback of such a row: the element with that record id goes
                entry[_DROPPED[key]] = [x for x in entry.get(_DROPPED[key]) or []
                                        if x.get("warc_record_id") != value]
            elif key != "update":
                entry[key] = value
    return {file: entry for file, entry in merged.items() if not entry.get("removed")}


_APPENDED = {"alias": "aliases", "version_entry": "versions"}
_DROPPED = {"drop_alias": "aliases", "drop_version": "versions"}
_UNDO_APPEND = {"alias": "drop_alias", "version_entry": "drop_version"}


def verified_bytes(corpus_dir: Path) -> int:
    try:
        return int(json.loads((corpus_dir / VERIFIED_NAME).read_text())["manifest_bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def mark_corpus_verified(corpus_dir: str | os.PathLike) -> None:
    """Record that every manifest line so far was checked against the archive and is durable."""
    corpus_dir = Path(corpus_dir)
    manifest = corpus_dir / MANIFEST_NAME
    if not manifest.exists():
        return
    fsync_file(manifest)
    target = corpus_dir / VERIFIED_NAME
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps({"manifest_bytes": manifest.stat().st_size}))
    fsync_file(temporary)
    os.replace(temporary, target)
    fsync_directory(corpus_dir)


@dataclass
class ReconcileSummary:
    """What a resume found and undid; `as_counts()` goes to the run summary and runs.jsonl."""

    checked: int = 0
    torn_lines: int = 0
    rolled_back: list[str] = field(default_factory=list)  # manifest files (or version files) undone
    orphans: list[str] = field(default_factory=list)  # numbered files without a manifest line, moved aside
    urls: set[str] = field(default_factory=set)  # canonical URLs of pages that must be fetched again
    state_rows: int = 0  # forgotten
    state_reopened: int = 0  # kept, "never extracted" again: their record is archived (rolled back from the corpus)
    state_adopted: int = 0  # rows given to archived pages the state never heard of (archive/state/unrecorded.py)
    repaired_files: list[str] = field(default_factory=list)
    # The manifest as parsed by the reconciliation, when it left the file unchanged: the corpus
    # opens from it instead of parsing again (archive/corpus/manifest_parse.py). Taken once.
    manifest: ParsedManifest | None = field(default=None, repr=False, compare=False)

    def take_manifest(self) -> ParsedManifest | None:
        parsed, self.manifest = self.manifest, None
        return parsed

    def as_counts(self) -> dict[str, int]:
        return {"checked": self.checked, "torn_lines": self.torn_lines, "corpus_rolled_back": len(self.rolled_back),
                "corpus_orphans": len(self.orphans), "state_rows": self.state_rows,
                "state_reopened": self.state_reopened, "state_adopted": self.state_adopted,
                "warc_repaired": len(self.repaired_files)}

    @property
    def changed(self) -> bool:
        return any(self.as_counts()[k] for k in self.as_counts() if k != "checked")


def reconcile_corpus(corpus_dir: str | os.PathLike, locator: WarcLocator | None,
                     summary: ReconcileSummary | None = None,
                     parsed: ParsedManifest | None = None) -> ReconcileSummary:
    """Undo manifest lines past the verified point whose record the archive does not hold (module doc).

    `locator` None: the crawl archives nothing (WARC capture off), so pointers are not checked;
    torn lines and orphan files are still handled. `parsed`: the manifest as an earlier
    reconciliation parsed it (used if the file is unchanged); the parse goes on in
    `summary.manifest` when this one leaves the file unchanged too.
    """
    corpus_dir = Path(corpus_dir)
    summary = summary or ReconcileSummary()
    remove_stale_temporaries(corpus_dir)
    manifest = corpus_dir / MANIFEST_NAME
    if not manifest.exists():
        return summary
    parsed = parse_manifest(manifest, reuse=parsed)
    lines = parsed.lines
    unchanged = True
    with manifest.open("rb+") as fh:
        if fh.seek(0, os.SEEK_END) and (fh.seek(-1, os.SEEK_END), fh.read(1))[1] != b"\n":
            fh.write(b"\n")  # end a torn last line so the next one stays valid JSON
            unchanged = False
    start = verified_bytes(corpus_dir)
    if start > manifest.stat().st_size:
        start = 0  # the manifest was replaced: verify it all
    good = [line.obj for line in lines if line.obj is not None]
    summary.torn_lines += sum(1 for line in lines if line.obj is None and line.start >= start)
    bad: list[tuple[int, str]] = []  # (index in `good`, reason)
    if locator is not None:
        index = 0
        for line in lines:
            if line.obj is None:
                continue
            if line.start >= start and _carries_pointer(line.obj):
                summary.checked += 1
                problem = pointer_problem(locator, _pointer_of(line.obj))
                if problem is not None:
                    bad.append((index, problem))
            index += 1
    corrections = []
    for index, reason in reversed(bad):  # newest first: each correction restores what came before it
        corrections += _undo(corpus_dir, good, index, reason, summary)
    known = {obj["file"] for obj in good}
    for path in sorted(corpus_dir.iterdir()):
        if NUMBERED_FILE.match(path.name) and path.is_file() and path.name not in known:
            url = _source_url(path)
            move_aside(corpus_dir, path)
            summary.orphans.append(path.name)
            if url:
                summary.urls.add(url)
            corrections.append({"file": path.name, "update": "rollback", "removed": True, "url": url,
                                "reason": "file without a manifest line (a crash between the two writes)"})
    if corrections:
        with manifest.open("a", encoding="utf-8", newline="\n") as fh:
            for row in corrections:
                fh.write(json.dumps(row, ensure_ascii=False, separators=(", ", ": ")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    if locator is not None:  # only a check against the archive moves the verified point
        mark_corpus_verified(corpus_dir)
    summary.manifest = parsed if unchanged and not corrections else None
    return summary


def remove_stale_temporaries(corpus_dir: Path) -> None:
    """Delete the temporary files of writes cut short before their rename (their names were never
    taken, so nothing points at them). A corpus has one writer at a time (distributed crawls shard it)."""
    for stale in [*corpus_dir.glob(".tmp-*"), *corpus_dir.glob("versions/.tmp-*")]:
        stale.unlink(missing_ok=True)


def _carries_pointer(obj: dict[str, Any]) -> bool:
    return obj.get("update") != "rollback" and bool(_pointer_of(obj).get("warc_record_id"))


def _pointer_of(obj: dict[str, Any]) -> dict[str, Any]:
    """The provenance a line adds: its own fields, or its new version's or alias's (rows of older
    releases carried the whole list, newest last)."""
    if obj.get("update") == "version":
        return obj.get("version_entry") or (obj.get("versions") or [{}])[-1]
    if obj.get("update") == "alias":
        return obj.get("alias") or (obj.get("aliases") or [{}])[-1]
    if obj.get("update") == "superseded":  # stands or falls with the original that replaced the copy
        return obj.get("by") or {}
    return obj


def _undo(corpus_dir: Path, good: list[dict[str, Any]], index: int, reason: str,
          summary: ReconcileSummary) -> list[dict[str, Any]]:
    line = good[index]
    file = line["file"]
    pointer = _pointer_of(line)
    url = pointer.get("canonical_url") or pointer.get("url")
    if url:
        try:
            summary.urls.add(canonical_url(url))
        except ValueError:
            summary.urls.add(url)
    kind = line.get("update")
    if kind is None:  # a written article: its file goes aside, its entry is removed
        path = corpus_dir / file
        if path.exists():
            move_aside(corpus_dir, path)
        summary.rolled_back.append(file)
        return [{"file": file, "update": "rollback", "removed": True, "url": pointer.get("url"), "reason": reason}]
    # An update of an earlier entry: restore the keys it set to what they were before it, and
    # drop the element it appended.
    before = fold(g for g in good[:index] if g["file"] == file).get(file, {})
    restore = {k: before.get(k) for k in line if k not in ("file", "update", *_APPENDED)}
    restore.update({_UNDO_APPEND[k]: pointer.get("warc_record_id") for k in line if k in _APPENDED})
    if kind == "superseded":  # the original is undone: the copy it replaced comes back
        kept = corpus_dir / SUPERSEDED_DIR / file
        if kept.exists() and not (corpus_dir / file).exists():
            os.rename(kept, corpus_dir / file)
            fsync_directory(corpus_dir)
    if kind == "version" and line.get("version_file"):
        version = corpus_dir / line["version_file"]
        if version.exists():
            move_aside(corpus_dir, version)
        summary.rolled_back.append(line["version_file"])
    else:
        summary.rolled_back.append(f"{file} ({kind})")
    return [{"file": file, "update": "rollback", **restore, "reason": f"{kind}: {reason}"}]


def move_aside(corpus_dir: Path, path: Path, folder: str = ROLLED_BACK_DIR) -> Path:
    """Move `path` into `corpus_dir/folder` (never over an existing file); returns where it went."""
    target_dir = corpus_dir / folder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    serial = 1
    while target.exists():
        serial += 1
        target = target_dir / f"{path.stem}.{serial}{path.suffix}"
    os.rename(path, target)
    fsync_directory(target_dir)
    fsync_directory(path.parent)
    return target


def _source_url(path: Path) -> str | None:
    """The canonical URL a corpus file names on its `Nguồn:` line (the seed-format reader's rule)."""
    try:
        url = read_seed_file(path).url
        return canonical_url(url) if url else None
    except (SeedError, ValueError):
        return None


# --------------------------------------------------------------------------- state
def reconcile_state(state, locator: WarcLocator | None, summary: ReconcileSummary) -> ReconcileSummary:
    """Delete state rows that lead the archive, and those of pages the corpus rolled back whose own
    record is not archived either; a rolled-back page whose record is archived is "never extracted"
    again instead, so this run extracts it from that record (module doc)."""
    doomed: set[str] = set()
    verified = state.verified_until()
    if locator is not None:
        for row in state.rows_fetched_since(verified):
            if row.record_id and _row_problem(locator, row) is not None:
                doomed.add(row.url)
    rolled_back = set(summary.urls) - doomed
    archived = set()
    if locator is not None:
        archived = {url for url in rolled_back
                    if (row := state.get(url)) is not None and row.record_id and _row_problem(locator, row) is None}
    summary.state_rows += state.forget(doomed | (rolled_back - archived))
    summary.state_reopened += state.reopen(archived)
    if locator is not None:  # records a kill left archived before the state heard of them
        summary.state_adopted += adopt_unrecorded(state, files_written_since(locator.files(), verified))
    state.mark_verified()
    return summary


def _row_problem(locator: WarcLocator, row) -> str | None:
    """Why a state row's own record (its latest fetch's) does not resolve, or None."""
    return pointer_problem(locator, {"warc_file": row.record_file, "warc_offset": row.record_offset,
                                     "warc_record_id": row.record_id})
