"""`python -m archive check DIR|FILE…`: verify every record of WARC files.

For each record: the block digest over the block as stored, and the payload
digest over the payload (after the HTTP head). A chunked response passes when
its payload digest matches either the stored bytes (what warcio computes) or
the de-chunked entity (what WARC 1.1 defines; our writer's default), since
both conventions are in use. A record shorter than its Content-Length, a
damaged gzip member, bytes that are not a record, and any `*.warc.gz.open`
file (an unfinished or killed crawl: see `archive repair`) are failures.
Exit code 1 when anything failed.

Blocks are digested as they are read (`RecordCheck`), de-chunking included,
so memory stays flat whatever a record holds: a WARC record can be a
compression bomb too (gigabytes of zeros in a few MB of gzip member).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.warc.httpcodec import Dechunker
from archive.warc.reader import READ_ERRORS, find_warc_files

OPEN_SUFFIX = ".open"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Problem:
    offset: int | None
    message: str
    record_id: str | None = None


@dataclass
class FileReport:
    """What checking one WARC file found."""

    path: Path
    records: int = 0
    digests_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.path.name.endswith(OPEN_SUFFIX)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.is_open


# --- digests -----------------------------------------------------------------------


def digest_matches(declared: str, *candidates: bytes) -> bool | None:
    """Whether `declared` (`algo:value`, value in base32, hex or base64) is the digest of
    one of the candidates; None when the algorithm is unknown."""
    verdicts = []
    for data in candidates:
        digest = _Hash(declared)
        digest.update(data)
        verdicts.append(digest.matches())
    return None if None in verdicts else any(verdicts)


def _decode_digest_value(value: str) -> bytes | None:
    for decode in (lambda v: base64.b32decode(v, casefold=True), lambda v: bytes.fromhex(v),
                   lambda v: base64.b64decode(v, altchars=b"-_" if "-" in v or "_" in v else None, validate=True)):
        try:
            return decode(value)
        except (binascii.Error, ValueError):
            continue
    return None


class _Hash:
    """A declared digest (`algo:value`) and the running hash to compare it with."""

    def __init__(self, declared: str):
        algo, sep, value = declared.partition(":")
        self.expected = _decode_digest_value(value.strip()) if sep else None
        try:
            self.hasher = hashlib.new(algo.lower().replace("-", "")) if sep else None
        except ValueError:
            self.hasher = None
        self.unknown = bool(sep) and self.hasher is None

    def update(self, data) -> None:
        if self.hasher is not None:
            self.hasher.update(data)

    def copy(self) -> "_Hash":
        twin = object.__new__(_Hash)
        twin.expected, twin.unknown = self.expected, self.unknown
        twin.hasher = self.hasher.copy() if self.hasher is not None else None
        return twin

    def matches(self) -> bool | None:
        """As `digest_matches`: None for an unknown algorithm."""
        if self.unknown:
            return None
        return self.hasher is not None and self.expected is not None and self.hasher.digest() == self.expected


class RecordCheck:
    """The checks of one record, fed its block as it is read: block and payload digests (the
    payload also de-chunked when the head says chunked, as WARC 1.1 defines it) and length."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        self.length = 0
        block_digest = fields.get("warc-block-digest")
        self.block = _Hash(block_digest) if block_digest else None
        payload_digest = fields.get("warc-payload-digest")
        self.payload: _Hash | None = None
        self.dechunked: _Hash | None = None
        self.http = False
        if payload_digest and fields.get("warc-type") != "revisit":
            self.payload = _Hash(payload_digest)
            self.http = "application/http" in fields.get("content-type", "")
        self.in_head = self.http
        self.head_line = bytearray()
        self.head_lines = 0
        self.chunked = False
        self.dechunker: Dechunker | None = None

    def feed(self, data: bytes) -> None:
        self.length += len(data)
        if self.block is not None:
            self.block.update(data)
        if self.payload is None:
            return
        if self.in_head:
            data = self._head(data)
        if data:
            self.payload.update(data)
            if self.dechunker is not None:
                self.dechunker.feed(data)

    def _head(self, data: bytes) -> bytes:
        """Read head lines off `data` (a bare-LF head is accepted); returns what follows the head."""
        position = 0
        while True:
            end = data.find(b"\n", position)
            if end < 0:
                if len(self.head_line) < 4096:  # only a header's start is needed
                    self.head_line += data[position:position + 4096]
                return b""
            self.head_line += data[position:end]
            line, self.head_line = bytes(self.head_line), bytearray()
            position = end + 1
            self.head_lines += 1
            if line in (b"", b"\r"):
                self.in_head = False
                if self.chunked:
                    self.dechunked = self.payload.copy()  # fresh: nothing of the payload hashed yet
                    self.dechunker = Dechunker(self.dechunked.update)
                return data[position:]
            name, sep, value = line.partition(b":")
            if (self.head_lines > 1 and sep and name.strip().lower() == b"transfer-encoding"
                    and b"chunked" in value.lower()):
                self.chunked = True

    def problems(self) -> list[str]:
        declared = self.fields.get("content-length", "")
        if not declared.isdigit():
            return ["record header cut short or without Content-Length"]
        if self.length < int(declared):
            return [f"truncated: {int(declared) - self.length} bytes of the block are missing"]
        problems = []
        if self.block is not None and self.block.matches() is False:
            problems.append(f"block digest failed: {self.fields.get('warc-block-digest')}")
        if self.payload is not None:
            if self.dechunker is not None:
                self.dechunker.finish()
            verdicts = [self.payload.matches()] + ([self.dechunked.matches()] if self.dechunked else [])
            if None not in verdicts and not any(verdicts):
                problems.append(f"payload digest failed: {self.fields.get('warc-payload-digest')}")
        return problems


def check_record(fields: dict[str, str], block: bytes) -> list[str]:
    """Problems with one record, given its named fields (lower-cased names) and block as read."""
    check = RecordCheck(fields)
    check.feed(block)
    return check.problems()


def verify_warc_file(path: str | Path) -> FileReport:
    """Read every record of one file and check its digests and completeness."""
    report = FileReport(Path(path))
    offset = None
    # warcio prints its own warnings to stderr; they are counted below instead.
    with contextlib.redirect_stderr(io.StringIO()), report.path.open("rb") as fh:
        iterator = ArchiveIterator(fh, no_record_parse=True)
        try:
            for record in iterator:
                offset = iterator.offset
                fields = {name.lower(): value for name, value in record.rec_headers.headers}
                check = RecordCheck(fields)
                while piece := record.raw_stream.read(_CHUNK):
                    check.feed(piece)
                errors_before = iterator.err_count
                iterator.read_to_end()
                report.records += 1
                messages = check.problems()
                if iterator.err_count > errors_before:
                    messages.append("record not followed by its CRLF CRLF end: Content-Length may be wrong")
                report.digests_checked += bool(fields.get("warc-block-digest") or fields.get("warc-payload-digest"))
                record_id = fields.get("warc-record-id")
                report.problems += [Problem(offset, message, record_id) for message in messages]
        except READ_ERRORS as exc:
            first = str(exc).strip().splitlines()
            # warcio quotes the bytes it choked on: keep the message readable.
            text = "".join(ch if ch.isprintable() else "?" for ch in first[0])[:80] if first else ""
            reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
            report.problems.append(Problem(iterator.offset, f"unreadable from here on ({reason})"))
    if report.records == 0 and not report.problems:
        report.problems.append(Problem(0, "no WARC record in the file"))
    elif not report.problems and offset is not None and not _last_member_complete(report.path, offset):
        # The record may be whole while its gzip member is not: the file was cut short.
        report.problems.append(Problem(offset, "the last gzip member is cut short (file truncated)"))
    return report


def _last_member_complete(path: Path, offset: int) -> bool:
    with path.open("rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            return True  # not gzip-compressed: nothing to cut short but records
        fh.seek(offset)
        decompressor = zlib.decompressobj(wbits=31)
        try:
            while not decompressor.eof:
                piece = fh.read(_CHUNK)
                if not piece:
                    return False
                decompressor.decompress(piece)
        except zlib.error:
            return False
    return True


# --- command ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="DIR|FILE", help="WARC files or directories of them")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every file, not only failures")
    parser.add_argument("--corpus", type=Path, metavar="DIR",
                        help="also check that every manifest pointer of this corpus resolves to a whole record "
                             "of the same id, URL and payload digest; dense numbering; torn lines")
    parser.add_argument("--state", type=Path, metavar="FILE",
                        help="also check that every crawl-state row's record is in the archive")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    files = find_warc_files(args.paths)  # WarcFormatError: reported by archive.cli
    if not files:
        raise UserError(f"no WARC files under {', '.join(args.paths)}")
    failed = 0
    records = 0
    for path in files:
        report = verify_warc_file(path)
        records += report.records
        if report.ok:
            if args.verbose:
                print(f"ok    {path}  ({report.records} records)")
            continue
        failed += 1
        print(f"FAIL  {path}  ({report.records} records read)")
        if report.is_open:
            print("      still named .open: the crawl writing it was interrupted or is running;"
                  f" `python -m archive repair {path}` makes a valid copy")
        for problem in report.problems:
            where = f"offset {problem.offset}" if problem.offset is not None else "file"
            who = f" {problem.record_id}" if problem.record_id else ""
            print(f"      {where}{who}: {problem.message}")
    print(f"{len(files) - failed} of {len(files)} file(s) ok, {records} records checked")
    if args.corpus is not None or args.state is not None:
        failed += _check_pointers(args)
    return 1 if failed else 0


def _check_pointers(args: argparse.Namespace) -> int:
    """The corpus and the state against the archive (archive/corpus/consistency.py); the number of problems."""
    from archive.cli import UserError
    from archive.corpus.consistency import MANIFEST_NAME, WarcLocator
    from archive.corpus.crawl_check import corpus_problems, state_problems

    problems: list[str] = []
    locator = WarcLocator(args.paths)
    if args.corpus is not None:
        if not (args.corpus / MANIFEST_NAME).is_file():
            raise UserError(f"--corpus {args.corpus}: not a corpus directory (no {MANIFEST_NAME})")
        found, pointers = corpus_problems(args.corpus, locator)
        problems += found
        print(f"corpus {args.corpus}: {pointers} WARC pointer(s) checked")
    if args.state is not None:
        if not args.state.is_file():
            raise UserError(f"--state {args.state}: no such file")
        problems += state_problems(args.state, locator)
    for problem in problems:
        print(f"FAIL  {problem}")
    print(f"{len(problems)} pointer problem(s)")
    return len(problems)
