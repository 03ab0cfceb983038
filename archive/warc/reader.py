"""Reading archived HTTP responses back out of WARC files, ready for a reader.

`iter_responses(paths)` walks the files with warcio and yields one
`CapturedResponse` per `response` record, and per `revisit` record whose
original payload is in the same set of files. `read_response_at(path, offset)`
reads one record from its offset (the manifest's and the CDXJ index's pointer).

The stored block is the HTTP response as it came off the wire, so the body is
undone here in two steps, as a browser would:

1. **transfer decoding**: our own de-chunker, because warcio's mis-decodes
   chunked bodies that carry a trailer (PITFALLS); a body that claims to be
   chunked but is not is kept as stored;
2. **content decoding**: gzip, deflate (zlib or raw), br, zstd, in reverse
   order of `Content-Encoding`. A stream cut short yields what it holds; a body
   that cannot be decoded is kept as stored and `decode_problem` says why.

Both steps are bounded (`max_body`, 32 MB by default: archive/warc/decompress.py):
a body that is larger as stored, or that decodes to more (a gzip bomb, which
the crawl archives as received), comes back with an empty payload and
`too_large` saying why, and never fills memory.

Damaged input never raises out of the iterator: a truncated last record (a
killed crawl's `*.open` file), garbage after the last record, or a file that is
not a WARC at all ends that file's walk and is noted in the `ReadReport`. Only
`WarcFormatError` from `read_response_at` and `check_warc_file` signal bad input.

No Scrapy; usable by re-extraction, replay and indexing alike.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archive.warc.decompress import DEFAULT_MAX_BODY, DECODERS, BodyTooLarge, decompress, read_bounded

__all__ = [
    "CapturedResponse",
    "ReadReport",
    "ReadProblem",
    "UnresolvedRevisit",
    "WarcFormatError",
    "iter_responses",
    "read_response_at",
    "check_warc_file",
    "find_warc_files",
    "transfer_decode",
    "content_decode",
    "declared_charset",
    "WARC_SUFFIXES",
]

WARC_SUFFIXES = (".warc", ".warc.gz", ".warc.open", ".warc.gz.open")
_HTTP_RESPONSE_RECORDS = ("response", "revisit")
_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.I)
# What warcio and zlib raise on a damaged stream; all mean "this file ends here".
_READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error, UnicodeDecodeError, IndexError)


class WarcFormatError(ValueError):
    """The file cannot be read as WARC (missing, not WARC, or no record at that offset)."""


# --------------------------------------------------------------------------- data
@dataclass(frozen=True, slots=True)
class CapturedResponse:
    """One archived HTTP response, its body decoded for reading, and where it lives."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]  # HTTP response headers as stored, in order
    payload: bytes = field(repr=False)  # transfer- and content-decoded body
    charset: str | None  # declared in the Content-Type header
    warc_date: str  # WARC-Date as written
    record_id: str
    warc_file: str  # file name, as manifests and CDXJ lines name it
    path: Path
    offset: int  # of the record's gzip member (or record, uncompressed)
    length: int  # of the record as stored (gzip member)
    record_type: str = "response"  # or "revisit"
    payload_digest: str | None = None
    truncated: str | None = None  # WARC-Truncated, or "length" when the stored block is short
    decode_problem: str | None = None  # set when the body is left (partly) encoded
    too_large: str | None = None  # set (and payload empty) when the body is over the reader's bound
    request_headers: tuple[tuple[str, str], ...] | None = None  # of the concurrent request record
    # A revisit's payload is that of an earlier response record:
    refers_to: str | None = None  # that record's WARC-Record-ID
    refers_to_file: str | None = None
    refers_to_offset: int | None = None

    def header(self, name: str) -> str | None:
        """The first response header called `name` (any case), or None."""
        return _header(self.headers, name)

    @property
    def content_type(self) -> str | None:
        return self.header("Content-Type")

    @property
    def fetched_at(self) -> datetime:
        """WARC-Date as an aware datetime (UTC)."""
        return datetime.fromisoformat(self.warc_date.replace("Z", "+00:00"))

    @property
    def referer(self) -> str | None:
        """The Referer of the request that fetched this page: the page that linked to it."""
        return _header(self.request_headers or (), "Referer")


@dataclass(frozen=True, slots=True)
class ReadProblem:
    warc_file: str
    offset: int | None
    message: str


@dataclass(frozen=True, slots=True)
class UnresolvedRevisit:
    warc_file: str
    offset: int
    url: str
    refers_to: str | None  # what the revisit names: a record id, or URI @ date


@dataclass
class ReadReport:
    """What a walk over WARC files met besides the responses it yielded."""

    files: int = 0
    records: int = 0
    responses: int = 0  # yielded, revisits included
    revisits: int = 0  # yielded with their original payload
    unresolved_revisits: list[UnresolvedRevisit] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)  # truncated/damaged files, bad records

    @property
    def clean(self) -> bool:
        return not self.problems and not self.unresolved_revisits


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
    except _READ_ERRORS as exc:
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
    index = _ResponseIndex(max_body)
    for path in paths:
        path = Path(path)
        report.files += 1
        yield from _walk_file(path, index, select, report)


def read_response_at(path: str | Path, offset: int, max_body: int = DEFAULT_MAX_BODY) -> CapturedResponse:
    """The response or revisit record at `offset` of `path`.

    A revisit comes back with an empty payload and its `refers_to` fields;
    resolving it needs the other files (`iter_responses` does that).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            iterator = ArchiveIterator(fh)
            record = next(iter(iterator), None)
            if record is None or record.rec_type not in _HTTP_RESPONSE_RECORDS or not record.http_headers:
                kind = record.rec_type if record is not None else "nothing"
                raise WarcFormatError(f"{path}@{offset}: {kind}, not an HTTP response record")
            return _captured(record, iterator, path, max_body)
    except WarcFormatError:
        raise
    except _READ_ERRORS as exc:
        raise WarcFormatError(f"{path}@{offset}: cannot read a WARC record ({_first_line(exc)})") from None


class _ResponseIndex:
    """Pointers to the response records seen so far, for resolving revisits."""

    def __init__(self, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.max_body = max_body
        self.by_id: dict[str, tuple[Path, int]] = {}
        self.by_uri_date: dict[tuple[str, str], str] = {}
        self.by_uri_digest: dict[tuple[str, str], str] = {}

    def add(self, record_id: str, url: str, date: str, digest: str | None, where: tuple[Path, int]) -> None:
        self.by_id[record_id] = where
        self.by_uri_date[(url, _date_key(date))] = record_id
        if digest:
            self.by_uri_digest.setdefault((url, digest), record_id)

    def original_of(self, refers_to: str | None, uri: str | None, date: str | None, url: str,
                    digest: str | None) -> str | None:
        if refers_to and refers_to in self.by_id:
            return refers_to
        if uri and date and (uri, _date_key(date)) in self.by_uri_date:
            return self.by_uri_date[(uri, _date_key(date))]
        if digest:
            return self.by_uri_digest.get((uri or url, digest))
        return None


def _date_key(value: str) -> str:
    """A WARC date as a comparable instant: writers differ in precision (seconds or microseconds)."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return value


def _walk_file(path: Path, index: _ResponseIndex, select, report: ReadReport) -> Iterator[CapturedResponse]:
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
                captured = _read_record(record, iterator, path, index, requests, select, report)
                problem = _incomplete(record)
                if problem:
                    report.problems.append(ReadProblem(name, iterator.get_record_offset(), problem))
            except _READ_ERRORS as exc:
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


def _read_record(record, iterator: ArchiveIterator, path: Path, index: _ResponseIndex,
                 requests: dict, select, report: ReadReport) -> CapturedResponse | None:
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
        stored, missing, too_large = _read_block(record, index.max_body)
        offset, length = iterator.get_record_offset(), iterator.get_record_length()
        index.add(record_id, url, date, headers.get_header("WARC-Payload-Digest"), (path, offset))
        if select is not None and not select(url, status):
            requests.pop(record_id, None)
            return None
        return _build(record, path, offset, length, stored, truncated="length" if missing else None,
                      too_large=too_large, max_body=index.max_body)
    # A revisit: its payload is an earlier response record's.
    record.raw_stream.read()
    offset, length = iterator.get_record_offset(), iterator.get_record_length()
    refers_to = headers.get_header("WARC-Refers-To")
    refers_uri = headers.get_header("WARC-Refers-To-Target-URI")
    refers_date = headers.get_header("WARC-Refers-To-Date")
    original_id = index.original_of(refers_to, refers_uri, refers_date, url,
                                    headers.get_header("WARC-Payload-Digest"))
    if original_id is None:
        named = refers_to or (f"{refers_uri} @ {refers_date}" if refers_uri else None)
        report.unresolved_revisits.append(UnresolvedRevisit(path.name, offset, url, named))
        requests.pop(record_id, None)
        return None
    if select is not None and not select(url, 200 if status == 304 else status):
        requests.pop(record_id, None)
        return None
    original = read_response_at(*index.by_id[original_id], max_body=index.max_body)
    return _revisit_response(record, path, offset, length, original)


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
            payload, problem = _decode_body(stored, headers, max_body)
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
        charset=declared_charset(_header(headers, "Content-Type")),
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


def _revisit_response(record, path: Path, offset: int, length: int, original: CapturedResponse
                      ) -> CapturedResponse:
    """A revisit with the original's payload; a 304's status and headers are the original's too."""
    own = _build(record, path, offset, length, b"")
    not_modified = own.status == 304
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


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# --------------------------------------------------------------------------- decoding
def declared_charset(content_type: str | None) -> str | None:
    """The `charset=` parameter of a Content-Type value, lower-cased."""
    if not content_type:
        return None
    found = _CHARSET.search(content_type)
    return found.group(1).lower() if found else None


def _decode_body(stored: bytes, headers: tuple[tuple[str, str], ...], max_body: int = DEFAULT_MAX_BODY
                 ) -> tuple[bytes, str | None]:
    problems = []
    body = stored
    transfer = [t.strip().lower() for t in (_header(headers, "Transfer-Encoding") or "").split(",") if t.strip()]
    if "chunked" in transfer:
        body, problem = transfer_decode(stored)
        if problem:
            problems.append(problem)
    codings = [c.strip().lower() for c in (_header(headers, "Content-Encoding") or "").split(",") if c.strip()]
    if codings:
        body, problem = content_decode(body, codings, max_body)
        if problem:
            problems.append(problem)
    return body, "; ".join(problems) or None


_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]+")


def transfer_decode(data: bytes) -> tuple[bytes, str | None]:
    """De-chunk an HTTP/1.1 chunked body; returns (body, problem or None).

    Chunk extensions and trailers are skipped, bare LF line ends accepted.
    A body that does not start with a chunk-size line is returned as stored
    (some archives store bodies already de-chunked and keep the header); one
    cut short returns the chunks it holds.
    """
    parts: list[bytes] = []
    pos = 0
    size_total = len(data)
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            if not parts and pos == 0:
                return data, "declared chunked but not chunked; kept as stored"
            return b"".join(parts), "chunked body cut short"
        size_field = data[pos:eol].split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_field):
            if pos == 0:
                return data, "declared chunked but not chunked; kept as stored"
            return b"".join(parts), f"bad chunk size line at byte {pos}"
        size = int(size_field, 16)
        start = eol + 1
        if size == 0:
            return b"".join(parts), None  # what follows is trailers, not payload
        end = start + size
        if end > size_total:
            parts.append(data[start:])
            return b"".join(parts), "chunked body cut short"
        parts.append(data[start:end])
        pos = end
        if data.startswith(b"\r\n", pos):
            pos += 2
        elif data.startswith(b"\n", pos):
            pos += 1


def content_decode(data: bytes, codings: list[str], max_body: int = DEFAULT_MAX_BODY) -> tuple[bytes, str | None]:
    """Undo `Content-Encoding` (applied in the listed order, so undone in reverse). Raises
    BodyTooLarge as soon as a step's output passes `max_body` (0: no bound)."""
    for coding in reversed(codings):
        if coding in ("identity", ""):
            continue
        if coding not in DECODERS:
            return data, f"unknown content-encoding {coding!r}; kept as stored"
        try:
            data, problem = decompress(data, coding, max_body)
        except BodyTooLarge:
            raise
        except Exception as exc:  # each codec library has its own error type; all mean "not this coding"
            return data, f"{coding} decoding failed ({_first_line(exc)}); kept as stored"
        if problem:
            return data, problem
    return data, None
