"""Reading archived HTTP responses back out of WARC files, ready for a reader.

The one record reader: every other module reads records through it.
`iter_responses(paths)` walks the files with warcio and yields one
`CapturedResponse` per `response` record, and per `revisit` record whose
original payload is in the same set of files (archive/warc/revisits.py says
which). `read_response_at(path, offset)` reads one record from its offset (the
manifest's and the CDXJ index's pointer), decoded; `read_record_at` the same
record for replay, only de-chunked; `read_record_fields` its header alone.

The stored block is the HTTP response as it came off the wire, so the body is
undone by the HTTP codec (archive/warc/httpcodec.py) in two steps, as a
browser would:

1. **transfer decoding**: our own de-chunker, because warcio's mis-decodes
   chunked bodies that carry a trailer (docs/pitfalls.md); a body that claims
   to be chunked but is not is kept as stored;
2. **content decoding**: gzip, deflate (zlib or raw), br, zstd, in reverse
   order of `Content-Encoding`. A stream cut short yields what it holds; a body
   that cannot be decoded is kept as stored and `decode_problem` says why.

Both steps are bounded (`max_body`, 32 MB by default):
a body that is larger as stored, or that decodes to more (a gzip bomb, which
the crawl archives as received), comes back with an empty payload and
`too_large` saying why, and never fills memory.

Damaged input never raises out of the iterator: a truncated last record (a
killed crawl's `*.open` file), garbage after the last record, or a file that is
not a WARC at all ends that file's walk and is noted in the `ReadReport`. Only
`WarcFormatError` from `read_response_at` and `check_warc_file` signal bad input.

No Scrapy; used by re-extraction, replay, indexing, check and stats alike.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archive.warc.httpcodec import (
    DEFAULT_MAX_BODY,
    BodyTooLarge,
    decode_body,
    declared_charset,
    header_value,
    read_bounded,
    transfer_decode,
)
from archive.warc.captured import CapturedResponse, ReadProblem, ReadReport, StoredRecord, UnresolvedRevisit
from archive.warc.revisits import Original, OriginalIndex, RevisitRef

__all__ = [
    "CapturedResponse",
    "StoredRecord",
    "READ_ERRORS",
    "ReadReport",
    "ReadProblem",
    "UnresolvedRevisit",
    "WarcFormatError",
    "iter_responses",
    "read_response_at",
    "read_record_at",
    "read_record_fields",
    "check_warc_file",
    "find_warc_files",
    "WARC_SUFFIXES",
]

WARC_SUFFIXES = (".warc", ".warc.gz", ".warc.open", ".warc.gz.open")
_HTTP_RESPONSE_RECORDS = ("response", "revisit")
# What warcio and zlib raise on a damaged stream; all mean "this file ends here".
READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error, IndexError)


class WarcFormatError(ValueError):
    """The file cannot be read as WARC (missing, not WARC, or no record at that offset)."""


# --------------------------------------------------------------------------- files
def find_warc_files(paths: Iterable[str | Path]) -> list[Path]:
    """The WARC files named by `paths`: files as given, directories searched recursively.

    Directory contents are sorted by name (our file names start with a UTC
    timestamp, so that is crawl order); `*.open` files are included, since a
    killed crawl's last file still holds good records. Missing paths raise
    `WarcFormatError`.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted((p for p in path.rglob("*") if p.is_file() and p.name.endswith(WARC_SUFFIXES)),
                            key=lambda p: (p.name, str(p)))
        elif path.is_file():
            found.append(path)
        else:
            raise WarcFormatError(f"no such file or directory: {path}")
    return list(dict.fromkeys(found))


def check_warc_file(path: str | Path) -> None:
    """Raise `WarcFormatError` unless the file starts with a readable WARC record."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            iterator = ArchiveIterator(fh)
            record = next(iter(iterator), None)
            if record is None:
                raise WarcFormatError(f"{path}: empty file, no WARC record")
            if record.format != "warc":
                raise WarcFormatError(f"{path}: an ARC file, not WARC")
    except WarcFormatError:
        raise
    except READ_ERRORS as exc:
        raise WarcFormatError(f"{path}: not a WARC file ({_first_line(exc)})") from None


# --------------------------------------------------------------------------- reading
def iter_responses(
    paths: Iterable[str | Path],
    *,
    select: Callable[[str, int], bool] | None = None,
    report: ReadReport | None = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> Iterator[CapturedResponse]:
    """Every archived response in `paths` (files in the order given), in record order.

    `select(url, status)` lets a caller skip records before their bodies are
    decoded (a revisit is judged by its own URL and status; a 304 revisit is
    judged as status 200 of its original when that is found). Revisits are
    resolved against response records met earlier in the walk, by
    WARC-Refers-To, then by WARC-Refers-To-Target-URI + Date, then by URI and
    payload digest; the others are listed in `report.unresolved_revisits`.
    A body over `max_body` bytes, as stored or decoded, is not kept (`too_large`).
    """
    report = report if report is not None else ReadReport()
    index = OriginalIndex()
    for path in paths:
        path = Path(path)
        report.files += 1
        yield from _walk_file(path, index, select, report, max_body)


def read_response_at(path: str | Path, offset: int, max_body: int = DEFAULT_MAX_BODY) -> CapturedResponse:
    """The response or revisit record at `offset` of `path`.

    A revisit comes back with an empty payload and its `refers_to` fields;
    resolving it needs the other files (`iter_responses` does that).
    """
    path = Path(path)
    try:
        with _record_at(path, offset) as (record, iterator):
            if record is None or record.rec_type not in _HTTP_RESPONSE_RECORDS or not record.http_headers:
                kind = record.rec_type if record is not None else "nothing"
                raise WarcFormatError(f"{path}@{offset}: {kind}, not an HTTP response record")
            return _captured(record, iterator, path, max_body)
    except WarcFormatError:
        raise
    except READ_ERRORS as exc:
        raise WarcFormatError(f"{path}@{offset}: cannot read a WARC record ({_first_line(exc)})") from None


def read_record_at(path: Path, offset: int, max_body: int = DEFAULT_MAX_BODY) -> StoredRecord:
    """One response/revisit record for replay: named fields, parsed HTTP head, body de-chunked only.
    Raises BodyTooLarge for a stored body over `max_body` bytes (0: no bound)."""
    try:
        with _record_at(path, offset) as (record, _):
            if record is None or record.http_headers is None:
                raise WarcFormatError(f"{path}@{offset}: no HTTP response record there")
            stored = read_bounded(record.raw_stream, max_body)
            fields = dict(record.rec_headers.headers)
            http = record.http_headers
    except (WarcFormatError, BodyTooLarge):
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise WarcFormatError(f"{path}@{offset}: cannot read the record ({exc})") from None
    headers = tuple((str(k), str(v)) for k, v in http.headers)
    if "chunked" in (header_value(headers, "Transfer-Encoding") or "").lower():
        body, _problem = transfer_decode(stored)
        # The client never sees the chunking: Twisted drops this header once it de-chunks.
        headers = tuple((k, v) for k, v in headers if k.lower() != "transfer-encoding")
    else:
        body = stored
    protocol = (http.protocol or "HTTP/1.1").split(" ", 1)[0]
    return StoredRecord(fields, protocol, _status(record), headers, body)


def read_record_fields(path: Path, offset: int) -> dict[str, str]:
    """The named fields of the record at `offset` (its header only, the block is not read)."""
    try:
        with _record_at(path, offset, parse_http=False) as (record, _):
            if record is None:
                raise WarcFormatError(f"{path}@{offset}: no WARC record there")
            return dict(record.rec_headers.headers)
    except WarcFormatError:
        raise
    except READ_ERRORS as exc:
        raise WarcFormatError(f"{path}@{offset}: cannot read a WARC record ({_first_line(exc)})") from None


@contextmanager
def _record_at(path: Path, offset: int, *, parse_http: bool = True):
    """(record or None, iterator) of the record at `offset`, while the file is open."""
    with path.open("rb") as fh:
        fh.seek(offset)
        iterator = ArchiveIterator(fh, no_record_parse=not parse_http)
        yield next(iter(iterator), None), iterator


def _walk_file(path: Path, index: OriginalIndex, select, report: ReadReport, max_body: int
               ) -> Iterator[CapturedResponse]:
    name = path.name
    requests: dict[str, tuple[tuple[str, str], ...]] = {}  # response id -> its request's headers
    # A response is held back one record: warcio-style writers put its request *after* it.
    pending: CapturedResponse | None = None
    try:
        fh = path.open("rb")
        size = path.stat().st_size
    except OSError as exc:
        report.problems.append(ReadProblem(name, None, f"cannot open: {exc}"))
        return
    with fh:
        iterator = ArchiveIterator(fh)
        records = iter(iterator)
        while True:
            try:
                record = next(records, None)
                if record is None:
                    # warcio ends quietly on a gzip member cut before its first full line.
                    if iterator.offset < size:
                        report.problems.append(ReadProblem(
                            name, iterator.offset,
                            f"file ends in an incomplete record ({size - iterator.offset} bytes unread)"))
                    break
                report.records += 1
                captured = _read_record(record, iterator, path, index, requests, select, report, max_body)
                problem = _incomplete(record)
                if problem:
                    report.problems.append(ReadProblem(name, iterator.get_record_offset(), problem))
            except READ_ERRORS as exc:
                report.problems.append(ReadProblem(name, iterator.offset, f"stopped reading: {_first_line(exc)}"))
                break
            if pending is not None:
                yield _with_request(pending, requests, report)
            pending = captured
    if pending is not None:
        yield _with_request(pending, requests, report)


def _with_request(captured: CapturedResponse, requests: dict, report: ReadReport) -> CapturedResponse:
    """Count the response and attach the headers of its request record, if one was met."""
    report.responses += 1
    report.revisits += captured.record_type == "revisit"
    request_headers = requests.pop(captured.record_id, None)
    return replace(captured, request_headers=request_headers) if request_headers is not None else captured


def _read_record(record, iterator: ArchiveIterator, path: Path, index: OriginalIndex,
                 requests: dict, select, report: ReadReport, max_body: int) -> CapturedResponse | None:
    """Decode one record if it is a wanted response (or resolvable revisit); note everything else."""
    headers = record.rec_headers
    rec_type = record.rec_type
    if rec_type == "request" and record.http_headers is not None:
        target = headers.get_header("WARC-Concurrent-To")
        if target:
            requests[target] = tuple((str(k), str(v)) for k, v in record.http_headers.headers)
        return None
    if rec_type not in _HTTP_RESPONSE_RECORDS or record.http_headers is None:
        return None
    url = headers.get_header("WARC-Target-URI") or ""
    record_id = headers.get_header("WARC-Record-ID") or ""
    date = headers.get_header("WARC-Date") or ""
    status = _status(record)
    if rec_type == "response":
        stored, missing, too_large = _read_block(record, max_body)
        offset, length = iterator.get_record_offset(), iterator.get_record_length()
        index.add(Original(record_id, url, date, headers.get_header("WARC-Payload-Digest"), (path, offset)))
        if select is not None and not select(url, status):
            requests.pop(record_id, None)
            return None
        return _build(record, path, offset, length, stored, truncated="length" if missing else None,
                      too_large=too_large, max_body=max_body)
    # A revisit: its payload is an earlier response record's.
    record.raw_stream.read()
    offset, length = iterator.get_record_offset(), iterator.get_record_length()
    ref = RevisitRef.from_fields(headers.get_header)
    found = index.resolve(ref)
    if found is None:
        report.unresolved_revisits.append(UnresolvedRevisit(path.name, offset, url, ref.named))
        requests.pop(record_id, None)
        return None
    if select is not None and not select(url, 200 if status == 304 else status):
        requests.pop(record_id, None)
        return None
    original = read_response_at(*found.where, max_body=max_body)
    return _revisit_response(record, path, offset, length, original, ref)


def _captured(record, iterator: ArchiveIterator, path: Path, max_body: int) -> CapturedResponse:
    if record.rec_type == "revisit":
        record.raw_stream.read()
        return _build(record, path, iterator.get_record_offset(), iterator.get_record_length(), b"")
    stored, missing, too_large = _read_block(record, max_body)
    return _build(record, path, iterator.get_record_offset(), iterator.get_record_length(), stored,
                  truncated="length" if missing else None, too_large=too_large, max_body=max_body)


def _incomplete(record) -> str | None:
    """Why the record just read is incomplete (the file ends inside it), or None."""
    headers = record.rec_headers
    what = f"{record.rec_type or 'record'} {headers.get_header('WARC-Target-URI') or ''}".strip()
    if headers.get_header("Content-Length") is None:
        return f"{what}: record header cut short (no Content-Length)"
    while record.raw_stream.read(1 << 16):  # whatever the handlers left unread
        pass
    missing = getattr(record.raw_stream, "limit", 0) or 0
    return f"{what}: record cut short ({missing} bytes missing)" if missing else None


def _read_block(record, max_body: int) -> tuple[bytes, int, str | None]:
    """The HTTP body as stored, how many of its bytes are missing (a truncated file), and why it
    was not kept (over `max_body`), if so."""
    try:
        stored, too_large = read_bounded(record.raw_stream, max_body), None
    except BodyTooLarge as exc:
        stored, too_large = b"", str(exc)
    return stored, getattr(record.raw_stream, "limit", 0) or 0, too_large


def _build(record, path: Path, offset: int, length: int, stored: bytes, *, truncated: str | None = None,
           too_large: str | None = None, max_body: int = DEFAULT_MAX_BODY) -> CapturedResponse:
    headers = tuple((str(k), str(v)) for k, v in record.http_headers.headers)
    problem = None
    if too_large is None:
        try:
            payload, problem = decode_body(stored, headers, max_body)
        except BodyTooLarge as exc:
            too_large = str(exc)
    if too_large is not None:
        payload = b""
    rec = record.rec_headers
    return CapturedResponse(
        url=rec.get_header("WARC-Target-URI") or "",
        status=_status(record),
        headers=headers,
        payload=payload,
        charset=declared_charset(header_value(headers, "Content-Type")),
        warc_date=rec.get_header("WARC-Date") or "",
        record_id=rec.get_header("WARC-Record-ID") or "",
        warc_file=path.name,
        path=path,
        offset=offset,
        length=length,
        record_type=record.rec_type,
        payload_digest=rec.get_header("WARC-Payload-Digest"),
        truncated=rec.get_header("WARC-Truncated") or truncated,
        decode_problem=problem,
        too_large=too_large,
        refers_to=rec.get_header("WARC-Refers-To") if record.rec_type == "revisit" else None,
    )


def _revisit_response(record, path: Path, offset: int, length: int, original: CapturedResponse,
                      ref: RevisitRef) -> CapturedResponse:
    """A revisit with the original's payload; a 304's status and headers are the original's too."""
    own = _build(record, path, offset, length, b"")
    not_modified = ref.serves_original_head(own.status)
    return replace(
        own,
        status=original.status if not_modified else own.status,
        headers=original.headers if not_modified else own.headers,
        payload=original.payload,
        charset=original.charset if not_modified else (own.charset or original.charset),
        payload_digest=own.payload_digest or original.payload_digest,
        truncated=original.truncated,
        decode_problem=original.decode_problem,
        too_large=original.too_large,
        refers_to=original.record_id,
        refers_to_file=original.warc_file,
        refers_to_offset=original.offset,
    )


def _status(record) -> int:
    try:
        return int(record.http_headers.get_statuscode())
    except (TypeError, ValueError):
        return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
