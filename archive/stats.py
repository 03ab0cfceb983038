"""`python -m archive stats DIR|FILE…`: what an archive holds, as tables.

Records by WARC type, responses by HTTP status, host and MIME type, the
capture date range and sizes. Reads record headers only (bodies are skipped
by warcio), so it is as fast as decompressing the files. Exit 1 when a file
is not WARC or cannot be read to its end, as `check`.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from archive.warc.reader import READ_ERRORS, find_warc_files

HTTP_RECORDS = ("response", "revisit")


@dataclass
class ArchiveStats:
    files: int = 0
    open_files: int = 0
    compressed_bytes: int = 0  # of the files
    record_bytes: int = 0  # sum of the records' Content-Length (uncompressed blocks)
    records: Counter = field(default_factory=Counter)  # by WARC-Type
    record_sizes: Counter = field(default_factory=Counter)  # compressed bytes by WARC-Type
    statuses: Counter = field(default_factory=Counter)
    hosts: Counter = field(default_factory=Counter)
    mime_types: Counter = field(default_factory=Counter)
    largest: tuple[int, str] = (0, "")  # (block bytes, URL) of the largest response
    first: str | None = None  # earliest WARC-Date
    last: str | None = None
    unreadable: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "files": self.files, "open_files": self.open_files, "compressed_bytes": self.compressed_bytes,
            "record_bytes": self.record_bytes, "records": dict(self.records),
            "record_sizes": dict(self.record_sizes), "statuses": dict(self.statuses),
            "hosts": dict(self.hosts), "mime_types": dict(self.mime_types),
            "largest_response": {"bytes": self.largest[0], "url": self.largest[1]},
            "first_date": self.first, "last_date": self.last, "unreadable": self.unreadable,
        }


def collect_stats(paths: list[Path]) -> ArchiveStats:
    stats = ArchiveStats()
    for path in paths:
        stats.files += 1
        stats.open_files += path.name.endswith(".open")
        stats.compressed_bytes += path.stat().st_size
        _add_file(stats, path)
    return stats


def _add_file(stats: ArchiveStats, path: Path) -> None:
    records = 0
    with contextlib.redirect_stderr(io.StringIO()), path.open("rb") as fh:
        iterator = ArchiveIterator(fh)
        try:
            for record in iterator:
                _add_record(stats, record)
                iterator.read_to_end()
                stats.record_sizes[record.rec_type] += iterator.get_record_length()
                records += 1
        except READ_ERRORS as exc:
            stats.unreadable.append(f"{path.name} at offset {iterator.offset}: {type(exc).__name__}")
            return
    if not records:
        stats.unreadable.append(f"{path.name}: no WARC record")


def _add_record(stats: ArchiveStats, record) -> None:
    headers = record.rec_headers
    stats.records[record.rec_type] += 1
    length = int(headers.get_header("Content-Length") or 0)
    stats.record_bytes += length
    date = headers.get_header("WARC-Date")
    if date:
        stats.first = min(stats.first or date, date)
        stats.last = max(stats.last or date, date)
    if record.rec_type not in HTTP_RECORDS or record.http_headers is None:
        return
    url = headers.get_header("WARC-Target-URI") or ""
    stats.statuses[record.http_headers.get_statuscode() or "?"] += 1
    stats.hosts[urlsplit(url).hostname or "?"] += 1
    if record.rec_type == "response":
        mime = (record.http_headers.get_header("Content-Type") or "(none)").split(";", 1)[0].strip().lower()
        stats.mime_types[mime or "(none)"] += 1
        stats.largest = max(stats.largest, (length, url))
    else:
        stats.mime_types["warc/revisit"] += 1


def render(stats: ArchiveStats, console, top: int) -> None:
    from rich.table import Table

    overview = Table(title="Archive", show_header=False)
    overview.add_row("files", f"{stats.files}" + (f" ({stats.open_files} still .open)" if stats.open_files else ""))
    overview.add_row("size on disk", _size(stats.compressed_bytes))
    overview.add_row("record blocks", f"{_size(stats.record_bytes)} uncompressed")
    overview.add_row("captures from", stats.first or "-")
    overview.add_row("captures to", stats.last or "-")
    if stats.largest[0]:
        overview.add_row("largest response", f"{_size(stats.largest[0])}  {stats.largest[1]}")
    for problem in stats.unreadable:
        overview.add_row("[red]unreadable[/red]", problem)
    console.print(overview)
    by_type = Table(title="Records by WARC type", min_width=24)
    by_type.add_column("type")
    by_type.add_column("records", justify="right")
    by_type.add_column("compressed", justify="right")
    for rec_type, count in stats.records.most_common():
        by_type.add_row(rec_type, str(count), _size(stats.record_sizes[rec_type]))
    console.print(by_type)
    for title, column, counter in (("Responses by HTTP status", "status", stats.statuses),
                                   ("Responses by host", "host", stats.hosts),
                                   ("Responses by MIME type", "MIME type", stats.mime_types)):
        console.print(_counter_table(title, column, counter, top))


def _counter_table(title: str, column: str, counter: Counter, top: int):
    from rich.table import Table

    table = Table(title=title, min_width=len(title) + 4)  # keep the title on one line
    table.add_column(column)
    table.add_column("count", justify="right")
    shown = counter.most_common(top)
    for key, count in shown:
        table.add_row(str(key), str(count))
    rest = sum(counter.values()) - sum(count for _, count in shown)
    if rest:
        table.add_row(f"({len(counter) - len(shown)} more)", str(rest))
    return table


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024
    return str(count)  # pragma: no cover


# --- command ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="DIR|FILE", help="WARC files or directories of them")
    parser.add_argument("--top", type=int, default=20, help="rows per table (default 20)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON instead of tables")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from archive.cli import UserError

    files = find_warc_files(args.paths)  # WarcFormatError: reported by archive.cli
    if not files:
        raise UserError(f"no WARC files under {', '.join(map(str, args.paths))}")
    stats = collect_stats(files)
    if args.json:
        print(json.dumps(stats.as_dict(), indent=1, ensure_ascii=False))
    else:
        render(stats, Console(), args.top)
    if stats.unreadable:  # like `check`: a file that is not (all) WARC fails the command
        print(f"{len(stats.unreadable)} file(s) not read to the end: {'; '.join(stats.unreadable)}",
              file=sys.stderr)
        return 1
    return 0
