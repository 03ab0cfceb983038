"""`python -m archive check DIR|FILE…`: verify every record of WARC files.

For each record: the block digest over the block as stored, and the payload
digest over the payload (after the HTTP head). A chunked response passes when
its payload digest matches either the stored bytes (what warcio computes) or
the de-chunked entity (what WARC 1.1 defines; our writer's default), since
both conventions are in use. A record shorter than its Content-Length, a
damaged gzip member, bytes that are not a record, and any `*.warc.gz.open`
file (an unfinished or killed crawl: see `archive repair`) are failures.
Exit code 1 when anything failed.
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
from warcio.exceptions import ArchiveLoadFailed

from archive.warc.reader import find_warc_files, transfer_decode

OPEN_SUFFIX = ".open"
READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error, IndexError)
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
    algo, sep, value = declared.partition(":")
    if not sep:
        return False
    try:
        hashlib.new(algo.lower().replace("-", ""))
    except ValueError:
        return None
    expected = _decode_digest_value(value.strip())
    if expected is None:
        return False
    return any(hashlib.new(algo.lower().replace("-", ""), data).digest() == expected for data in candidates)


def _decode_digest_value(value: str) -> bytes | None:
    for decode in (lambda v: base64.b32decode(v, casefold=True), lambda v: bytes.fromhex(v),
                   lambda v: base64.b64decode(v, altchars=b"-_" if "-" in v or "_" in v else None, validate=True)):
        try:
            return decode(value)
        except (binascii.Error, ValueError):
            continue
    return None


def split_http_block(block: bytes) -> tuple[bytes, bytes]:
    """(HTTP head, payload) of an application/http block; bare-LF heads are accepted."""
    position = 0
    while True:
        end = block.find(b"\n", position)
        if end < 0:
            return block, b""
        if block[position:end] in (b"", b"\r"):
            return block[: end + 1], block[end + 1:]
        position = end + 1


def _is_chunked(head: bytes) -> bool:
    for line in head.split(b"\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            return True
    return False


# --- checking ------------------------------------------------------------------------


def check_record(fields: dict[str, str], block: bytes) -> list[str]:
    """Problems with one record, given its named fields (lower-cased names) and block as read."""
    declared = fields.get("content-length", "")
    if not declared.isdigit():
        return ["record header cut short or without Content-Length"]
    if len(block) < int(declared):
        return [f"truncated: {int(declared) - len(block)} bytes of the block are missing"]
    problems = []
    block_digest = fields.get("warc-block-digest")
    if block_digest and digest_matches(block_digest, block) is False:
        problems.append(f"block digest failed: {block_digest}")
    payload_digest = fields.get("warc-payload-digest")
    if payload_digest and fields.get("warc-type") != "revisit":
        if "application/http" in fields.get("content-type", ""):
            head, payload = split_http_block(block)
            candidates = [payload]
            if _is_chunked(head):
                candidates.append(transfer_decode(payload)[0])
        else:
            candidates = [block]
        if digest_matches(payload_digest, *candidates) is False:
            problems.append(f"payload digest failed: {payload_digest}")
    return problems


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
                block = _read_all(record.raw_stream)
                errors_before = iterator.err_count
                iterator.read_to_end()
                report.records += 1
                messages = check_record(fields, block)
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


def _read_all(stream) -> bytes:
    parts = []
    while True:
        piece = stream.read(_CHUNK)
        if not piece:
            return b"".join(parts)
        parts.append(piece)


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
    from archive.corpus.consistency import MANIFEST_NAME, WarcLocator, corpus_problems, state_problems

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
