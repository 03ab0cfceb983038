"""CDXJ indexes of WARC files: built per file, merged per directory (lookups: cdxj_lookup.py).

Lines are written by `cdxj-indexer` (the indexer pywb and the WACZ tools use):
``SURT-KEY TIMESTAMP {json}`` sorted by line, so a lookup is a binary search
over the sorted file and never opens a WARC. Each closed ``NAME.warc.gz`` gets
``NAME.cdxj`` beside it; a directory gets one merged ``index.cdxj`` made by
merging those (cheap: no WARC is read twice). `.open` files are never indexed:
they are still being written, or are damaged until `archive repair` fixes them.
"""
from __future__ import annotations

import heapq
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer

from archive.warc.cdxj_lookup import CdxjIndex, timestamp14
from archive.warc.reader import WarcFormatError, check_warc_file

logger = logging.getLogger(__name__)

INDEX_NAME = "index.cdxj"
WARC_SUFFIX = ".warc.gz"
# Metadata records (1xx heads, capture notes) are not captures of a URL: leave them out.
INDEXED_RECORDS = "response,revisit,resource"


# --- building ---------------------------------------------------------------------


def warc_index_path(warc: str | os.PathLike) -> Path:
    """`NAME.warc.gz` → `NAME.cdxj` beside it."""
    warc = Path(warc)
    name = warc.name[: -len(WARC_SUFFIX)] if warc.name.endswith(WARC_SUFFIX) else warc.stem
    return warc.with_name(name + ".cdxj")


def index_warc_file(path: str | os.PathLike) -> Path:
    """Write the sorted CDXJ index of one closed WARC file beside it; return its path.

    Safe to call from the WARC writer's thread when it closes a file: the index
    appears atomically (temp file + rename), so a reader never sees half of it.
    Raises `archive.warc.reader.WarcFormatError` for a file that is not WARC.
    """
    path = Path(path)
    check_warc_file(path)  # warcio would index a non-WARC file as ARC lines of nonsense
    target = warc_index_path(path)
    with _atomic_text(target) as out:
        with path.open("rb") as warc:
            CDXJIndexer(out, [warc], sort=True, filename=path.name, records=INDEXED_RECORDS).process_all()
    return target


def index_closed_warc(path: str | os.PathLike) -> Path | None:
    """`index_warc_file` for the WARC writer's close hook: logs a failure instead of raising,
    since a missing index is rebuilt on demand and must never fail the archive itself."""
    try:
        return index_warc_file(path)
    except Exception:  # noqa: BLE001 - whatever went wrong, the WARC file is fine
        logger.exception("indexing %s failed; `python -m archive index` rebuilds it", path)
        return None


def index_in_background(path: str | os.PathLike) -> threading.Thread:
    """`index_closed_warc` in its own thread, for the WARC writer's close hook.

    Re-reading a 1 GB file takes ~30 s (bench/replay_speed.py: ~36 MB/s); done
    in the writer's thread it would stall the crawl at every rotation. The
    thread is not a daemon, so interpreter exit waits for the index.
    """
    thread = threading.Thread(target=index_closed_warc, args=(path,), name=f"cdxj-index-{Path(path).name}")
    thread.start()
    return thread


def warc_files(directory: str | os.PathLike) -> list[Path]:
    """Closed WARC files under `directory`, in name order (the writer's time order)."""
    return sorted(Path(directory).rglob("*" + WARC_SUFFIX))


def open_warc_files(directory: str | os.PathLike) -> list[Path]:
    return sorted(Path(directory).rglob("*" + WARC_SUFFIX + ".open"))


@dataclass(frozen=True, slots=True)
class IndexSummary:
    index: Path
    files: int
    reindexed: int
    captures: int
    not_warc: tuple[str, ...] = ()  # files named *.warc.gz that are not WARC: left out, with why


def index_directory(directory: str | os.PathLike, *, rebuild: bool = False) -> IndexSummary:
    """Bring every per-file index up to date, then merge them into `DIR/index.cdxj`."""
    directory = Path(directory)
    warcs, reindexed, not_warc = [], 0, []
    built = {name: signature for name, *signature in _built_from(directory / INDEX_NAME) or []}
    for warc in warc_files(directory):
        [[name, *signature]] = _sources(directory, [warc])
        changed = name in built and built[name] != signature  # replaced in place since the last build
        if rebuild or changed or not _is_fresh(warc_index_path(warc), [warc]):
            try:
                index_warc_file(warc)
            except WarcFormatError as exc:
                not_warc.append(str(exc))
                continue
            reindexed += 1
        warcs.append(warc)
    target = directory / INDEX_NAME
    captures = merge_indexes(target, [(warc_index_path(w), _relative_dir(w, directory)) for w in warcs])
    with _atomic_text(_sources_path(target)) as out:
        json.dump(_sources(directory, warcs), out)
    return IndexSummary(target, len(warcs), reindexed, captures, tuple(not_warc))


def ensure_directory_index(directory: str | os.PathLike) -> Path:
    """The merged index of `directory`, rebuilt when a WARC or per-file index is newer, or when the
    set of WARC files differs from the one it was built from (a file deleted, added or replaced:
    times alone miss a deletion, and a replacement copied with its old time)."""
    directory = Path(directory)
    target = directory / INDEX_NAME
    warcs = warc_files(directory)
    per_file = [warc_index_path(w) for w in warcs]
    if (all(_is_fresh(p, [w]) for p, w in zip(per_file, warcs, strict=True)) and _is_fresh(target, per_file)
            and _built_from(target) == _sources(directory, warcs)):
        return target
    return index_directory(directory).index


def _sources_path(target: Path) -> Path:
    return target.with_name(target.name + ".sources.json")


def _sources(directory: Path, warcs: list[Path]) -> list[list]:
    """What a merged index was built from: each WARC's path under `directory`, size, inode, mtime and
    ctime (which no copy can set back: a file rewritten in place with its old mtime still shows)."""
    found = []
    for warc in warcs:
        stat = warc.stat()
        found.append([warc.relative_to(directory).as_posix(), stat.st_size, stat.st_ino, stat.st_mtime_ns,
                      stat.st_ctime_ns])
    return found


def _built_from(target: Path) -> list[list] | None:
    try:
        return json.loads(_sources_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # built by an older version, or never: rebuild


def merge_indexes(target: Path, sources: list[tuple[Path, str]]) -> int:
    """Merge sorted per-file indexes into one sorted file; `sources` pairs each index with
    the directory (relative to the target's) its WARC lives in, so `filename` stays resolvable."""
    handles = [source.open("r", encoding="utf-8") for source, _ in sources]
    count = 0
    try:
        streams = [_with_dir_prefix(fh, prefix) for fh, (_, prefix) in zip(handles, sources, strict=True)]
        with _atomic_text(target) as out:
            for line in heapq.merge(*streams):
                out.write(line)
                count += 1
    finally:
        for fh in handles:
            fh.close()
    return count


def _with_dir_prefix(lines, prefix: str) -> Iterator[str]:
    if not prefix:
        yield from lines
        return
    for line in lines:
        head, data = line.split("{", 1)
        fields = json.loads("{" + data)
        fields["filename"] = f"{prefix}/{fields['filename']}"
        yield head + json.dumps(fields) + "\n"


def _relative_dir(warc: Path, directory: Path) -> str:
    parent = warc.parent.relative_to(directory)
    return "" if parent == Path(".") else parent.as_posix()


def _is_fresh(derived: Path, sources: list[Path]) -> bool:
    try:
        built = derived.stat().st_mtime_ns
    except FileNotFoundError:
        return False
    return all(source.stat().st_mtime_ns <= built for source in sources)


class _atomic_text:
    """Write a text file under a temporary name and rename it into place on success."""

    def __init__(self, target: Path):
        self.target = target

    def __enter__(self):
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent)
        self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        return self.handle

    def __exit__(self, exc_type, exc, tb):
        self.handle.close()
        if exc_type is None:
            os.replace(self.tmp, self.target)
        else:
            os.unlink(self.tmp)
        return False


# --- command ----------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument("directory", metavar="DIR", type=Path, help="directory of WARC files")
    parser.add_argument("--rebuild", action="store_true", help="re-index every file, even up-to-date ones")
    parser.add_argument("--url", help="after indexing, print this URL's captures (latest last)")
    parser.add_argument("--at", metavar="TIMESTAMP", help="with --url: print only the capture nearest this "
                        "time (YYYYMMDDhhmmss, a prefix of it, or ISO 8601)")


def run(args) -> int:
    from archive.cli import UserError

    if not args.directory.is_dir():
        raise UserError(f"archive directory {str(args.directory)!r} does not exist")
    if args.at and not args.url:
        raise UserError("--at needs --url")
    try:
        at = timestamp14(args.at) if args.at else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    summary = index_directory(args.directory, rebuild=args.rebuild)
    leftovers = open_warc_files(args.directory)
    print(f"{summary.index}: {summary.captures} captures from {summary.files} WARC file(s) "
          f"({summary.reindexed} indexed now)")
    if leftovers:
        print(f"not indexed: {len(leftovers)} *.warc.gz.open file(s) (run `python -m archive repair`)")
    for problem in summary.not_warc:
        print(f"not indexed: {problem}")
    if args.url:
        with CdxjIndex(summary.index) as index:
            found = [index.nearest(args.url, at)] if at else index.captures(args.url)
        found = [c for c in found if c is not None]
        if not found:
            print(f"no capture of {args.url}")
            return 1
        for capture in found:
            print(f"{capture.timestamp} {capture.status or '-'} {capture.mime} {capture.url} "
                  f"{capture.filename}@{capture.offset}")
    return 1 if summary.not_warc else 0
