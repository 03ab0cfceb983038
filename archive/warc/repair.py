"""`python -m archive repair FILE.warc.gz.open|DIR`: make an interrupted WARC file valid.

The writer puts each record in its own gzip member and drops the `.open`
suffix only after fsync, so a killed crawl leaves `NAME.warc.gz.open` whose
last member may be cut short. Repair keeps the longest prefix of whole gzip
members that each hold one whole record with good digests, and never loses a
byte on the way:

1. the prefix is written to a temporary file beside the original and fsynced;
2. that file is verified (`archive check`); if it fails, nothing is changed;
3. bytes after the prefix, if any, are saved as `NAME.warc.gz.tail`;
4. the temporary file becomes `NAME.warc.gz` (never over an existing file),
   and only then is the `.open` original removed. A repair killed between the
   two is finished by the next one: an existing `NAME.warc.gz` that is byte for
   byte the `.open` file's whole-record prefix lets it remove the original.

Only for files no running crawl is still writing: the writer holds an
exclusive `flock` on its `.open` file (archive/warc/warcfile.py), so repair refuses a
locked file, and a resuming crawl (`repair_left_open`) waits for an orphaned
writer process to finish its file before it looks.
"""
from __future__ import annotations

import argparse
import fcntl
import time
import mmap
import os
import re
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archive.warc.check import check_record, verify_warc_file
from archive.writable import fsync_directory

OPEN_SUFFIX = ".warc.gz.open"
TAIL_SUFFIX = ".tail"
_FEED = 1 << 20
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)


class RepairError(RuntimeError):
    """The file cannot be repaired safely; it was left as it was."""


@dataclass(frozen=True, slots=True)
class RepairResult:
    original: Path
    repaired: Path
    records: int
    kept_bytes: int
    tail: Path | None  # the bytes cut off, saved; None when there were none


def complete_prefix(data) -> tuple[int, int]:
    """(bytes, records) of the longest run of whole, verified one-record gzip members."""
    position = records = 0
    while position < len(data):
        member = _gzip_member_at(data, position)
        if member is None:
            break
        record, size = member
        if not _is_good_record(record):
            break
        position += size
        records += 1
    return position, records


def _gzip_member_at(data, start: int) -> tuple[bytes, int] | None:
    """(decompressed bytes, compressed size) of a complete gzip member at `start`, else None."""
    decompressor = zlib.decompressobj(wbits=31)
    out = []
    position = start
    try:
        while not decompressor.eof:
            if position >= len(data):
                return None  # cut short
            piece = data[position:position + _FEED]
            out.append(decompressor.decompress(piece))
            position += len(piece)
    except zlib.error:
        return None
    size = position - start - len(decompressor.unused_data)
    return b"".join(out), size


def _is_good_record(record: bytes) -> bool:
    if not record.startswith(b"WARC/"):
        return False
    head_end = record.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    head = record[:head_end + 2]
    length = _CONTENT_LENGTH.search(head)
    if length is None:
        return False
    block_start = head_end + 4
    block_end = block_start + int(length.group(1))
    if len(record) != block_end + 4 or record[block_end:] != b"\r\n\r\n":
        return False
    fields = {}
    for line in head.decode("utf-8", "replace").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    return not check_record(fields, record[block_start:block_end])


def repair_open_file(path: str | Path) -> RepairResult:
    """Turn `NAME.warc.gz.open` into a verified `NAME.warc.gz` (see the module docstring)."""
    original = Path(path)
    if not original.name.endswith(OPEN_SUFFIX):
        raise RepairError(f"{original}: repair takes a *{OPEN_SUFFIX} file")
    final = original.with_name(original.name[: -len(".open")])
    if final.exists():
        finished = _finish_interrupted_repair(original, final)
        if finished is not None:
            return finished
        raise RepairError(f"{final} already exists; not overwriting it")
    with _locked_prefix(original) as view:
        if view is None:
            raise RepairError(f"{original}: a running writer still holds it; left untouched")
        data, size, kept, records = view
        if records == 0:
            raise RepairError(f"{original}: no complete record at the start; left untouched")
        temporary = _write_copy(data, 0, kept, final.parent, f".{final.name}.repair-")
        report = verify_warc_file(temporary)
        if not report.ok:
            temporary.unlink()
            problems = "; ".join(p.message for p in report.problems[:3])
            raise RepairError(f"{original}: the repaired copy does not verify ({problems}); left untouched")
        tail = None
        if kept < size:
            tail = final.with_name(final.name + TAIL_SUFFIX)
            staged_tail = _write_copy(data, kept, size, final.parent, f".{tail.name}.")
            os.replace(staged_tail, tail)
    os.link(temporary, final)  # fails instead of overwriting, unlike rename
    temporary.unlink()
    fsync_directory(final.parent)
    original.unlink()
    fsync_directory(final.parent)
    return RepairResult(original, final, records, kept, tail)


def _finish_interrupted_repair(original: Path, final: Path) -> RepairResult | None:
    """A repair killed after step 4 made `final` but before it removed `original`: when `final` holds
    exactly the whole-record prefix of `original` (and any cut bytes are in the tail already), only
    the removal is left to do. None: `final` is some other file, not to be touched."""
    tail = final.with_name(final.name + TAIL_SUFFIX)
    with _locked_prefix(original) as view, final.open("rb") as done:
        if view is None:
            return None
        data, size, kept, records = view
        if (records == 0 or os.fstat(done.fileno()).st_size != kept or (kept < size and not tail.exists())
                or any(done.read(_FEED) != data[p:min(p + _FEED, kept)] for p in range(0, kept, _FEED))):
            return None
    original.unlink()
    fsync_directory(final.parent)
    return RepairResult(original, final, records, kept, tail if kept < size else None)


@contextmanager
def _locked_prefix(path: Path):
    """Lock `path` (the writer's `flock`) and map it: yields `(data, size, kept, records)` with
    `complete_prefix`'s answer, or None when a live writer holds the lock. Both the repair and the
    finishing of an interrupted one read the `.open` file this way, under the same lock."""
    with path.open("rb") as fh:
        if not _try_lock(fh):
            yield None
            return
        size = os.fstat(fh.fileno()).st_size
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        try:
            yield (data, size, *complete_prefix(data))
        finally:
            if isinstance(data, mmap.mmap):
                data.close()


def _try_lock(fh) -> bool:
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def is_being_written(path: Path) -> bool:
    """True while a live writer holds `path`'s lock."""
    try:
        with path.open("rb") as fh:
            if _try_lock(fh):
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
                return False
            return True
    except FileNotFoundError:
        return False


def repair_left_open(directory: str | Path, *, wait: float = 60.0) -> tuple[list[RepairResult], list[str]]:
    """What a resuming crawl does first: repair every `.open` file a killed crawl left in `directory`.

    A file whose writer is still alive (the crawler was killed, its writer process is finishing
    the file) is waited for, up to `wait` seconds; one still locked after that belongs to another
    running crawl and is left alone. A file with no whole record is kept as `NAME.warc.gz.tail`
    (bytes are never thrown away), an empty one is removed. Returns (repaired, notes).
    """
    directory = Path(directory)
    if not directory.is_dir():
        return [], []
    deadline = time.monotonic() + wait
    results, notes = [], []
    for path in sorted(directory.rglob("*" + OPEN_SUFFIX)):
        while is_being_written(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not path.exists():
            continue  # its writer finished and renamed it
        if is_being_written(path):
            notes.append(f"{path.name}: still being written by another crawl; left alone")
            continue
        try:
            results.append(repair_open_file(path))
        except RepairError as exc:
            if path.exists() and path.stat().st_size == 0:
                path.unlink()
                notes.append(f"{path.name}: empty, removed")
                continue
            tail = path.with_name(path.name[: -len(".open")] + TAIL_SUFFIX)
            if path.exists() and not tail.exists() and "no complete record" in str(exc):
                os.rename(path, tail)
                fsync_directory(path.parent)
                notes.append(f"{path.name}: no whole record; its bytes kept in {tail.name}")
            else:
                notes.append(str(exc))
    return results, notes


def _write_copy(data, start: int, end: int, directory: Path, prefix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    with os.fdopen(fd, "wb") as out:
        for position in range(start, end, _FEED):
            out.write(data[position:min(position + _FEED, end)])
        out.flush()
        os.fsync(out.fileno())
    return Path(name)


# --- command ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="FILE.warc.gz.open|DIR",
                        help="interrupted WARC files, or directories holding them")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    targets: list[Path] = []
    for raw in args.paths:
        path = Path(raw)
        if path.is_dir():
            targets += sorted(path.rglob("*" + OPEN_SUFFIX))
        elif path.is_file():
            if not path.name.endswith(OPEN_SUFFIX):
                raise UserError(f"{path}: repair takes a *{OPEN_SUFFIX} file (closed files need no repair)")
            targets.append(path)
        else:
            raise UserError(f"no such file or directory: {path}")
    if not targets:
        print("nothing to repair: no *.warc.gz.open file")
        return 0
    failed = 0
    for path in targets:
        try:
            result = repair_open_file(path)
        except RepairError as exc:
            failed += 1
            print(f"FAIL  {exc}")
            continue
        cut = f"; {result.tail.stat().st_size} bytes after the last complete record kept in {result.tail}" \
            if result.tail else ""
        print(f"ok    {result.repaired}  ({result.records} records, {result.kept_bytes} bytes){cut}")
    return 1 if failed else 0
