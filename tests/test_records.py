"""archive.warc.reader: archived responses read back, bodies decoded, damage reported not raised."""
from __future__ import annotations

import gzip
import io
import zlib
from datetime import datetime, timezone
from pathlib import Path

import brotli
import pytest
import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.warc.exchange import Exchange
from archive.warc.httpcodec import content_decode, declared_charset, transfer_decode
from archive.warc.reader import (
    ReadReport,
    WarcFormatError,
    check_warc_file,
    find_warc_files,
    iter_responses,
    read_response_at,
)
from archive.warc.records import RevisitProfile, parse_warc_date, warc_date
from archive.warc.writer import WarcWriter

FETCHED = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
HTML = "<html><head><title>Tiêu đề</title></head><body><p>Hợp tác Việt Nam – Lào.</p></body></html>".encode()
# Compresses badly, so a cut through its gzip member lands in the middle of the text.
BIG = b"<html><body>" + b"".join(b"%d " % (i * 2654435761 % 1000003) for i in range(5000)) + b"</body></html>"


def chunked(body: bytes, *, trailer: bytes = b"", step: int = 7) -> bytes:
    pieces = [b"%x;ext=1\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step]) for i in range(0, len(body), step)]
    return b"".join(pieces) + b"0\r\n" + trailer + b"\r\n"


def exchange(url: str, body: bytes, *, headers: str = "Content-Type: text/html; charset=utf-8",
             status: str = "200 OK", block: bytes | None = None, referer: str | None = None) -> Exchange:
    """An exchange whose stored block is `block` (default: `body` with a Content-Length)."""
    path = "/" + url.split("/", 3)[3]
    request = f"GET {path} HTTP/1.1\r\nHost: example.vn\r\n" + (f"Referer: {referer}\r\n" if referer else "")
    if block is None:
        headers += f"\r\nContent-Length: {len(body)}"
        block = body
    return Exchange(
        url=url,
        request_head=(request + "\r\n").encode(),
        request_body=b"",
        response_head=f"HTTP/1.1 {status}\r\n{headers}\r\n\r\n".encode(),
        response_block_body=block,
        payload=body if block is body else transfer_decode(block)[0],
        ip_address="192.0.2.1",
        fetched_at=FETCHED,
    )


def write_warc(directory: Path, exchanges, *, revisits=()) -> Path:
    """One WARC file written by our own writer; returns its path."""
    writer = WarcWriter(directory, prefix="t")
    for ex in exchanges:
        writer.write_exchange(ex).result()
    for ex, kwargs in revisits:
        writer.write_revisit(ex, **kwargs).result()
    writer.close()
    (path,) = directory.glob("*.warc.gz")
    return path


# --------------------------------------------------------------------------- decoding
def test_chunked_body_with_trailer_and_gzip_is_decoded(tmp_path):
    """warcio mis-decodes chunked bodies with a trailer (PITFALLS); ours does not."""
    block = chunked(gzip.compress(HTML), trailer=b"X-Checksum: abc\r\n")
    path = write_warc(tmp_path, [exchange(
        "https://example.vn/a-1.html", b"", block=block,
        headers="Content-Type: text/html; charset=UTF-8\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked")])
    (response,) = iter_responses([path])
    assert response.payload == HTML
    assert response.status == 200 and response.charset == "utf-8" and response.decode_problem is None
    assert response.header("transfer-encoding") == "chunked"  # headers stay as stored


@pytest.mark.parametrize("coding,encode", [
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate, as many servers send
    ("br", brotli.compress),
    ("zstd", lambda b: zstandard.ZstdCompressor(write_content_size=False).compress(b)),
    ("gzip, br", lambda b: brotli.compress(gzip.compress(b))),
    ("identity", lambda b: b),
])
def test_content_codings_are_undone(coding, encode):
    assert content_decode(encode(HTML), [c.strip() for c in coding.split(",")]) == (HTML, None)


def test_bad_or_unknown_coding_keeps_the_stored_bytes():
    body, problem = content_decode(b"not gzip at all", ["gzip"])
    assert body == b"not gzip at all" and "gzip decoding failed" in problem
    body, problem = content_decode(b"abc", ["compress"])
    assert body == b"abc" and "unknown content-encoding" in problem


def test_gzip_cut_short_gives_what_it_holds():
    body, problem = content_decode(gzip.compress(BIG)[:-200], ["gzip"])
    assert problem == "gzip body cut short" and BIG.startswith(body) and len(body) > 1000


@pytest.mark.parametrize("block,expected,problem", [
    (b"5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n", b"hello, world", None),
    (b"5\nhello\n0\n\n", b"hello", None),  # bare LF
    (b"5\r\nhello\r\n0\r\nTrailer: 1\r\nOther: 2\r\n\r\n", b"hello", None),
    (b"<html>not chunked</html>", b"<html>not chunked</html>", "not chunked"),
    (b"5\r\nhel", b"hel", "cut short"),
    (b"5\r\nhello\r\n", b"hello", "cut short"),
])
def test_transfer_decode(block, expected, problem):
    body, found = transfer_decode(block)
    assert body == expected
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize("value,charset", [
    ("text/html; charset=UTF-8", "utf-8"),
    ('text/html; charset="windows-1258"', "windows-1258"),
    ("text/html;charset=utf-8;q=1", "utf-8"),
    ("text/html", None),
    (None, None),
])
def test_declared_charset(value, charset):
    assert declared_charset(value) == charset


# --------------------------------------------------------------------------- records
def test_pointers_referer_and_random_access(tmp_path):
    path = write_warc(tmp_path, [
        exchange("https://example.vn/a-1.html", HTML),
        exchange("https://example.vn/b-2.html", HTML.replace(b"Ti", b"Ti2"), referer="https://example.vn/a-1.html"),
    ])
    first, second = iter_responses([path])
    assert (first.referer, second.referer) == (None, "https://example.vn/a-1.html")
    assert first.warc_file == path.name and 0 < first.offset < second.offset
    assert first.fetched_at == FETCHED and first.warc_date == "2025-01-02T03:04:05.678901Z"
    assert first.record_id.startswith("<urn:uuid:")
    again = read_response_at(path, second.offset)
    assert (again.url, again.payload, again.record_id) == (second.url, second.payload, second.record_id)
    with pytest.raises(WarcFormatError):
        read_response_at(path, second.offset + 1)


def test_request_after_response_is_paired_too(tmp_path):
    """warcio-style writers put the request record after its response."""
    path = tmp_path / "w.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        response = writer.create_warc_record("https://example.vn/a-1.html", "response",
                                             payload=io.BytesIO(HTML), http_headers=http)
        request = writer.create_warc_record(
            "https://example.vn/a-1.html", "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders("GET /a-1.html HTTP/1.1", [("Referer", "https://example.vn/")],
                                          is_http_request=True))
        request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID"))
        writer.write_record(response)
        writer.write_record(request)
    (got,) = iter_responses([path])
    assert got.payload == HTML and got.referer == "https://example.vn/"


def test_select_skips_records_before_decoding(tmp_path):
    path = write_warc(tmp_path, [
        exchange("https://example.vn/a-1.html", HTML),
        exchange("https://example.vn/missing-2.html", b"gone", status="404 Not Found"),
        exchange("https://example.vn/robots.txt", b"User-agent: *"),
    ])
    report = ReadReport()
    got = list(iter_responses([path], select=lambda url, status: status == 200 and url.endswith(".html"),
                              report=report))
    assert [r.url for r in got] == ["https://example.vn/a-1.html"]
    assert report.records == 7 and report.responses == 1 and report.clean  # warcinfo + 3 × (request, response)


def test_revisits_get_the_original_payload(tmp_path):
    original = exchange("https://example.vn/a-1.html", HTML)
    unchanged = exchange("https://example.vn/a-1.html", HTML)
    not_modified = exchange("https://example.vn/a-1.html", b"", status="304 Not Modified", headers="ETag: x")
    first = write_warc(tmp_path / "1", [original])
    (orig,) = iter_responses([first])
    second = write_warc(tmp_path / "2", [], revisits=[
        (unchanged, dict(profile=RevisitProfile.IDENTICAL_PAYLOAD_DIGEST, refers_to_uri=orig.url,
                         refers_to_date=orig.warc_date, refers_to_record_id=orig.record_id)),
        (not_modified, dict(profile=RevisitProfile.SERVER_NOT_MODIFIED, refers_to_uri=orig.url,
                            refers_to_date=orig.warc_date)),  # no WARC-Refers-To: found by URI + date
    ])
    report = ReadReport()
    got = list(iter_responses([first, second], report=report))
    assert [(r.record_type, r.status, r.payload) for r in got] == [
        ("response", 200, HTML), ("revisit", 200, HTML), ("revisit", 200, HTML)]
    assert got[2].header("Content-Type") == "text/html; charset=utf-8"  # the 304's headers are the original's
    assert all(r.refers_to == orig.record_id and r.refers_to_file == first.name for r in got[1:])
    assert report.revisits == 2 and report.clean

    # Without the original's file, the revisits are listed, not yielded.
    report = ReadReport()
    assert list(iter_responses([second], report=report)) == []
    assert [u.refers_to for u in report.unresolved_revisits] == [
        orig.record_id, f"{orig.url} @ {orig.warc_date}"]


def test_uncompressed_warc_is_read(tmp_path):
    gz = write_warc(tmp_path, [exchange("https://example.vn/a-1.html", HTML)])
    plain = tmp_path / "plain.warc"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    (got,) = iter_responses([plain])
    assert got.payload == HTML
    assert read_response_at(plain, got.offset).payload == HTML


# --------------------------------------------------------------------------- damage
@pytest.fixture
def three_pages(tmp_path):
    return write_warc(tmp_path, [exchange(f"https://example.vn/p-{i}.html", BIG) for i in range(3)])


def test_file_cut_inside_a_record_yields_the_rest_and_reports(three_pages, tmp_path):
    full = list(iter_responses([three_pages]))
    cut = tmp_path / "killed.warc.gz.open"
    cut.write_bytes(three_pages.read_bytes()[: full[2].offset + full[2].length // 2])
    report = ReadReport()
    got = list(iter_responses([cut], report=report))
    assert [r.payload == BIG for r in got] == [True, True, False]
    assert got[2].truncated == "length"
    assert len(report.problems) == 1 and "cut short" in report.problems[0].message


def test_file_cut_inside_a_record_header_is_reported(three_pages, tmp_path):
    full = list(iter_responses([three_pages]))
    cut = tmp_path / "killed.warc.gz.open"
    cut.write_bytes(three_pages.read_bytes()[: full[2].offset + 60])
    report = ReadReport()
    assert len(list(iter_responses([cut], report=report))) == 2
    assert report.problems and report.problems[0].offset == full[2].offset


def test_garbage_after_the_last_record_stops_cleanly(three_pages, tmp_path):
    damaged = tmp_path / "damaged.warc.gz"
    damaged.write_bytes(three_pages.read_bytes() + b"\x00garbage\r\n")
    report = ReadReport()
    assert len(list(iter_responses([damaged], report=report))) == 3
    assert "stopped reading" in report.problems[0].message


def test_not_a_warc(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    for path in (text, empty):
        with pytest.raises(WarcFormatError):
            check_warc_file(path)
    report = ReadReport()
    assert list(iter_responses([text], report=report)) == []
    assert report.problems


def test_find_warc_files(tmp_path, three_pages):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.warc.gz.open").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    assert find_warc_files([tmp_path]) == [tmp_path / "sub" / "b.warc.gz.open", three_pages]
    with pytest.raises(WarcFormatError, match="no such file"):
        find_warc_files([tmp_path / "missing"])


def test_revisit_found_by_uri_and_date_of_another_precision(tmp_path):
    """Writers differ in WARC-Date precision: 03:04:05Z and 03:04:05.000000Z are one instant."""
    on_the_second = FETCHED.replace(microsecond=0)
    original = exchange("https://example.vn/a-1.html", HTML)
    original = Exchange(**{**{f: getattr(original, f) for f in original.__slots__}, "fetched_at": on_the_second})
    first = write_warc(tmp_path / "1", [original])
    second = write_warc(tmp_path / "2", [], revisits=[(
        exchange("https://example.vn/a-1.html", b"", status="304 Not Modified", headers="ETag: x"),
        dict(profile=RevisitProfile.SERVER_NOT_MODIFIED, refers_to_uri=original.url,
             refers_to_date="2025-01-02T03:04:05Z"))])
    report = ReadReport()
    assert [r.payload for r in iter_responses([first, second], report=report)] == [HTML, HTML]
    assert report.clean


@pytest.mark.parametrize("text", ["2024-09-01T03:04:05Z", "2024-09-01T03:04:05.123456Z",
                                  "2024-09-01T10:04:05+07:00", "2024-09-01T03:04:05"])
def test_warc_dates_of_any_writer_read_as_utc(text):
    moment = parse_warc_date(text)
    assert moment.utcoffset().total_seconds() == 0
    assert moment.replace(microsecond=0) == datetime(2024, 9, 1, 3, 4, 5, tzinfo=timezone.utc)
    assert parse_warc_date(warc_date(moment)) == moment


@pytest.mark.parametrize("text", ["", "yesterday", "20240901030405"])
def test_a_warc_date_that_is_not_iso_is_refused(text):
    with pytest.raises(ValueError, match="not a WARC-Date"):
        parse_warc_date(text)


def test_utc_text_is_strftime_of_the_utc_instant():
    """warc_date and the corpus order's format_instant use isoformat for speed: the same text as
    strftime("%Y-%m-%dT%H:%M:%S.%fZ") of the instant in UTC, whatever its zone and precision."""
    import random
    from datetime import timedelta

    from archive.warc.records import utc_text

    rng = random.Random(5)
    zones = [timezone.utc, timezone(timedelta(hours=7)), timezone(timedelta(hours=-9, minutes=-30))]
    for _ in range(2000):
        moment = datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                          rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, rng.randint(0, 999999)]),
                          tzinfo=rng.choice(zones))
        try:
            expected = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        except OverflowError:  # year 1 in a zone east of UTC
            continue
        assert utc_text(moment) == expected
        assert warc_date(moment) == expected
