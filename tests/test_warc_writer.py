"""archive.warc.records and archive.warc.writer: exact record bytes, digests, rotation, `.open` renaming, failures."""
from __future__ import annotations

import base64
import hashlib
import itertools
import re
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc.exchange import Exchange, RecordLocation
from archive.warc.records import RecordBuilder, RevisitProfile, WarcInfo, warc_digest
from archive.warc.writer import WarcWriteError, WarcWriter

REPO = Path(__file__).resolve().parent.parent
WARCIO = Path(sys.executable).parent / "warcio"
FETCHED = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
INFO = WarcInfo(software="test-suite/1.0", hostname="test-host", crawl_id="crawl-1", robots="obey",
                extra=(("http-header-user-agent", "test-bot/1.0"),))

PLAIN = Exchange(
    url="http://example.com/a?b=1",
    request_head=b"GET /a?b=1 HTTP/1.1\r\nUser-Agent: test-bot/1.0\r\nHost: example.com\r\n\r\n",
    request_body=b"",
    response_head=b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n",
    response_block_body=b"hello",
    payload=b"hello",
    ip_address="192.0.2.7",
    fetched_at=FETCHED,
)
CHUNKED_BODY = b"5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: abc\r\n\r\n"
CHUNKED = Exchange(
    url="http://example.com/chunked",
    request_head=b"GET /chunked HTTP/1.1\r\nHost: example.com\r\n\r\n",
    request_body=b"",
    # Bare LF, padding and folding: must survive into the record untouched.
    response_head=b"HTTP/1.1 200 Fine\nx-odd-CASE:   padded   \r\nX-Folded: a\r\n\tb\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n",
    response_block_body=CHUNKED_BODY,
    payload=b"hello, world",
    ip_address="192.0.2.7",
    fetched_at=FETCHED,
)


def fixed_builder(**options) -> RecordBuilder:
    """Record ids 1, 2, 3, ... and a stopped clock, for byte-exact expectations."""
    counter = itertools.count(1)
    return RecordBuilder(
        make_record_id=lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>",
        clock=lambda: datetime(2025, 1, 2, 0, 0, 0, 1, tzinfo=timezone.utc),
        **options,
    )


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def dechunk(body: bytes) -> bytes:
    """Transfer-decode a chunked body (extensions and trailers allowed), independently of the code under test."""
    out, rest = [], body
    while True:
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]


# --- reading WARC files member by member (independent of warcio) ------------------


@dataclass
class Member:
    offset: int
    length: int
    headers: list[tuple[str, str]]
    block: bytes

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def type(self) -> str:
        return self.get("WARC-Type")


def read_members(path: Path) -> list[Member]:
    data, offset, members = path.read_bytes(), 0, []
    while offset < len(data):
        inflater = zlib.decompressobj(31)
        raw = inflater.decompress(data[offset:])
        length = len(data) - offset - len(inflater.unused_data)
        head, rest = raw.split(b"\r\n\r\n", 1)
        lines = head.decode("utf-8").split("\r\n")
        assert lines[0] == "WARC/1.1"
        headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
        member = Member(offset, length, headers, b"")
        size = int(member.get("Content-Length"))
        member.block = rest[:size]
        assert rest[size:] == b"\r\n\r\n", "record must end with CRLF CRLF and nothing else"
        members.append(member)
        offset += length
    return members


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(WARCIO), "check", "-v", str(path)], capture_output=True, text=True)


# --- record builder: exact bytes ------------------------------------------------------

EXPECTED_EXCHANGE = (
    b"WARC/1.1\r\n"
    b"WARC-Type: request\r\n"
    b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    b"WARC-Date: 2025-01-02T03:04:05.678901Z\r\n"
    b"WARC-Target-URI: http://example.com/a?b=1\r\n"
    b"WARC-IP-Address: 192.0.2.7\r\n"
    b"WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-0000000000aa>\r\n"
    b"WARC-Warcinfo-ID: <urn:uuid:00000000-0000-4000-8000-0000000000ff>\r\n"
    b"WARC-Payload-Digest: sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\r\n"
    b"WARC-Block-Digest: sha1:TLINJ37LJALKYHWWRDZGE62IHDOGEO4Y\r\n"
    b"Content-Type: application/http;msgtype=request\r\n"
    b"Content-Length: 68\r\n"
    b"\r\n"
    b"GET /a?b=1 HTTP/1.1\r\nUser-Agent: test-bot/1.0\r\nHost: example.com\r\n\r\n"
    b"\r\n\r\n"
    b"WARC/1.1\r\n"
    b"WARC-Type: response\r\n"
    b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-0000000000aa>\r\n"
    b"WARC-Date: 2025-01-02T03:04:05.678901Z\r\n"
    b"WARC-Target-URI: http://example.com/a?b=1\r\n"
    b"WARC-IP-Address: 192.0.2.7\r\n"
    b"WARC-Warcinfo-ID: <urn:uuid:00000000-0000-4000-8000-0000000000ff>\r\n"
    b"WARC-Payload-Digest: sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N\r\n"
    b"WARC-Block-Digest: sha1:LRYKYE6JURFXLGHETF373AYPQNPBXBUU\r\n"
    b"Content-Type: application/http;msgtype=response\r\n"
    b"Content-Length: 69\r\n"
    b"\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    b"\r\n\r\n"
)

EXPECTED_WARCINFO = (
    b"WARC/1.1\r\n"
    b"WARC-Type: warcinfo\r\n"
    b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    b"WARC-Date: 2025-01-02T00:00:00.000001Z\r\n"
    b"WARC-Filename: crawl-x.warc.gz\r\n"
    b"WARC-Block-Digest: sha1:FOI2SVGJ4NIQVJUIVGUQJ4RXG7RFNIWS\r\n"
    b"Content-Type: application/warc-fields\r\n"
    b"Content-Length: 240\r\n"
    b"\r\n"
    b"software: test-suite/1.0\r\n"
    b"format: WARC File Format 1.1\r\n"
    b"conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
    b"hostname: test-host\r\n"
    b"isPartOf: crawl-1\r\n"
    b"robots: obey\r\n"
    b"http-header-user-agent: test-bot/1.0\r\n"
    b"\r\n\r\n"
)


def test_exchange_records_are_byte_exact():
    records = fixed_builder().exchange_records(
        PLAIN,
        response_id="<urn:uuid:00000000-0000-4000-8000-0000000000aa>",
        warcinfo_id="<urn:uuid:00000000-0000-4000-8000-0000000000ff>",
    )
    assert [r.rec_type for r in records] == ["request", "response"]
    assert b"".join(r.to_bytes() for r in records) == EXPECTED_EXCHANGE


def test_warcinfo_record_is_byte_exact():
    assert fixed_builder().warcinfo(INFO, "crawl-x.warc.gz").to_bytes() == EXPECTED_WARCINFO


def test_digests_are_sha1_base32_of_block_and_payload():
    request, response = fixed_builder().exchange_records(PLAIN, response_id="<urn:uuid:r>")
    assert response.header("WARC-Block-Digest") == sha1_b32(PLAIN.response_head + b"hello")
    assert response.header("WARC-Payload-Digest") == sha1_b32(b"hello")
    assert request.header("WARC-Block-Digest") == sha1_b32(PLAIN.request_head)
    assert request.header("WARC-Payload-Digest") == sha1_b32(b"")


def test_chunked_payload_digest_covers_the_transfer_decoded_entity():
    response = fixed_builder().response(CHUNKED, record_id="<urn:uuid:r>")
    assert response.header("WARC-Payload-Digest") == sha1_b32(dechunk(CHUNKED_BODY)) == sha1_b32(b"hello, world")
    # The block keeps the chunking, extensions and trailer as sent.
    assert response.block == (CHUNKED.response_head, CHUNKED_BODY)
    assert response.header("WARC-Block-Digest") == sha1_b32(CHUNKED.response_head + CHUNKED_BODY)


def test_stored_policy_digests_the_body_as_stored_like_warcio():
    response = fixed_builder(payload_digest="stored").response(CHUNKED, record_id="<urn:uuid:r>")
    assert response.header("WARC-Payload-Digest") == sha1_b32(CHUNKED_BODY)


def test_warc_date_has_microseconds_and_refuses_naive_datetimes():
    record = fixed_builder().response(PLAIN, record_id="<urn:uuid:r>")
    assert record.header("WARC-Date") == "2025-01-02T03:04:05.678901Z"
    other_zone = FETCHED.astimezone(timezone(timedelta(hours=7)))
    assert fixed_builder().response(
        Exchange(**{**_fields(PLAIN), "fetched_at": other_zone}), record_id="<urn:uuid:r>"
    ).header("WARC-Date") == "2025-01-02T03:04:05.678901Z"
    with pytest.raises(ValueError):
        fixed_builder().response(Exchange(**{**_fields(PLAIN), "fetched_at": FETCHED.replace(tzinfo=None)}),
                                 record_id="<urn:uuid:r>")


def _fields(exchange: Exchange) -> dict:
    return {name: getattr(exchange, name) for name in exchange.__dataclass_fields__}


def test_revisit_identical_payload_keeps_the_head_and_refers_to_the_original():
    record = fixed_builder().revisit(
        PLAIN,
        record_id="<urn:uuid:rv>",
        profile=RevisitProfile.IDENTICAL_PAYLOAD_DIGEST,
        refers_to_uri="http://example.com/a?b=1",
        refers_to_date=datetime(2024, 12, 1, tzinfo=timezone.utc),
        refers_to_record_id="<urn:uuid:orig>",
    )
    assert record.to_bytes() == (
        b"WARC/1.1\r\n"
        b"WARC-Type: revisit\r\n"
        b"WARC-Record-ID: <urn:uuid:rv>\r\n"
        b"WARC-Date: 2025-01-02T03:04:05.678901Z\r\n"
        b"WARC-Target-URI: http://example.com/a?b=1\r\n"
        b"WARC-IP-Address: 192.0.2.7\r\n"
        b"WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest\r\n"
        b"WARC-Refers-To-Target-URI: http://example.com/a?b=1\r\n"
        b"WARC-Refers-To-Date: 2024-12-01T00:00:00.000000Z\r\n"
        b"WARC-Refers-To: <urn:uuid:orig>\r\n"
        b"WARC-Payload-Digest: sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N\r\n"
        b"WARC-Block-Digest: sha1:DT2LHVQSCIH7RVGUT3QYASAEELI6CKRT\r\n"
        b"Content-Type: application/http;msgtype=response\r\n"
        b"Content-Length: 64\r\n"
        b"\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"
        b"\r\n\r\n"
    )


def test_revisit_server_not_modified_stores_the_304_without_payload_digest():
    not_modified = Exchange(**{**_fields(PLAIN), "response_head": b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
                               "response_block_body": b"", "payload": b""})
    record = fixed_builder().revisit(
        not_modified, record_id="<urn:uuid:rv>", profile=RevisitProfile.SERVER_NOT_MODIFIED,
        refers_to_uri=PLAIN.url, refers_to_date="2024-12-01T00:00:00Z",
    )
    assert record.header("WARC-Profile").endswith("/revisit/server-not-modified")
    assert record.header("WARC-Payload-Digest") is None
    assert record.header("WARC-Refers-To") is None
    assert record.block == (not_modified.response_head, b"")


def test_metadata_record_holds_warc_fields():
    record = fixed_builder().metadata(
        "http://example.com/", record_id="<urn:uuid:m>", date=FETCHED,
        fields=[("outlink", "http://example.com/1"), ("outlink", "http://example.com/2")],
        concurrent_to="<urn:uuid:r>",
    )
    assert record.to_bytes() == (
        b"WARC/1.1\r\n"
        b"WARC-Type: metadata\r\n"
        b"WARC-Record-ID: <urn:uuid:m>\r\n"
        b"WARC-Date: 2025-01-02T03:04:05.678901Z\r\n"
        b"WARC-Target-URI: http://example.com/\r\n"
        b"WARC-Concurrent-To: <urn:uuid:r>\r\n"
        b"WARC-Block-Digest: sha1:7BNMPFJELLXSMM52AM73Q36WDI55CHYF\r\n"
        b"Content-Type: application/warc-fields\r\n"
        b"Content-Length: 62\r\n"
        b"\r\n"
        b"outlink: http://example.com/1\r\noutlink: http://example.com/2\r\n"
        b"\r\n\r\n"
    )


def test_interim_heads_and_rebuilt_heads_get_metadata_notes():
    early = b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
    exchange = Exchange(**{**_fields(PLAIN), "interim_heads": (early,), "exact": False})
    records = fixed_builder().exchange_records(exchange, response_id="<urn:uuid:r>")
    assert [r.rec_type for r in records] == ["request", "response", "metadata", "metadata"]
    interim, note = records[2:]
    assert interim.block == (early,)
    assert interim.header("Content-Type") == "application/http;msgtype=response"
    assert interim.header("WARC-Concurrent-To") == note.header("WARC-Concurrent-To") == "<urn:uuid:r>"
    assert b"not byte-exact" in note.block[0]


def test_line_breaks_in_field_values_are_refused():
    with pytest.raises(ValueError):
        fixed_builder().response(Exchange(**{**_fields(PLAIN), "url": "http://x/\r\nWARC-Type: evil"}),
                                 record_id="<urn:uuid:r>")


# --- writer ---------------------------------------------------------------------------


def writer_for(tmp_path: Path, **options) -> WarcWriter:
    options.setdefault("info", INFO)
    return WarcWriter(tmp_path / "warc", prefix="test", **options)


def exchange_n(n: int, body_size: int = 100) -> Exchange:
    body = (b"%d-" % n) * (body_size // 3)
    return Exchange(**{
        **_fields(PLAIN),
        "url": f"http://example.com/{n}",
        "request_head": b"GET /%d HTTP/1.1\r\nHost: example.com\r\n\r\n" % n,
        "response_head": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body),
        "response_block_body": body,
        "payload": body,
    })


def test_writer_writes_warcinfo_first_and_renames_on_close(tmp_path):
    writer = writer_for(tmp_path)
    location = writer.write_exchange(PLAIN).result(timeout=10)
    directory = tmp_path / "warc"
    open_files = list(directory.glob("*.warc.gz.open"))
    assert [p.name for p in open_files] == [location.warc_file + ".open"], "open while writing"
    assert not list(directory.glob("*.warc.gz"))
    writer.close()
    [path] = directory.glob("*.warc.gz")
    assert not list(directory.glob("*.open"))
    assert re.fullmatch(r"test-\d{17}-00000-test-host-\d+\.warc\.gz", path.name)
    members = read_members(path)
    assert [m.type for m in members] == ["warcinfo", "request", "response"]
    assert members[0].get("WARC-Filename") == path.name
    assert members[1].get("WARC-Warcinfo-ID") == members[0].get("WARC-Record-ID")
    assert members[1].get("WARC-Concurrent-To") == members[2].get("WARC-Record-ID") == location.record_id
    assert (location.offset, location.length) == (members[2].offset, members[2].length)
    assert location.payload_digest == sha1_b32(b"hello")
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_future_record_id_is_known_before_the_write(tmp_path):
    writer = writer_for(tmp_path)
    future = writer.write_exchange(PLAIN)
    record_id = future.record_id
    assert re.fullmatch(r"<urn:uuid:[0-9a-f-]{36}>", record_id)
    assert future.result(timeout=10).record_id == record_id
    writer.close()


def test_rotation_makes_several_closed_files_each_starting_with_warcinfo(tmp_path):
    writer = writer_for(tmp_path, max_size=3000)
    locations = [writer.write_exchange(exchange_n(n, 600)).result(timeout=10) for n in range(12)]
    writer.close()
    paths = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert len(paths) >= 3
    assert not list((tmp_path / "warc").glob("*.open"))
    assert writer.stats.files == len(paths)
    serials = [int(p.name.split("-")[2]) for p in paths]
    assert serials == list(range(len(paths)))
    total_records = 0
    for path in paths:
        members = read_members(path)
        assert members[0].type == "warcinfo"
        assert members[0].get("WARC-Filename") == path.name
        # A request and its response always share a file.
        assert [m.type for m in members[1:]] == ["request", "response"] * ((len(members) - 1) // 2)
        total_records += len(members)
        check = warcio_check(path)
        assert check.returncode == 0, check.stdout
    assert total_records == writer.stats.records
    assert writer.stats.bytes == sum(p.stat().st_size for p in paths)
    # Every location points at its response record.
    for n, location in enumerate(locations):
        data = (tmp_path / "warc" / location.warc_file).read_bytes()
        raw = zlib.decompress(data[location.offset : location.offset + location.length], 31)
        assert b"WARC-Type: response\r\n" in raw and b"WARC-Target-URI: http://example.com/%d\r\n" % n in raw


def test_files_are_readable_by_warcio_with_raw_heads_untouched(tmp_path):
    writer = writer_for(tmp_path, builder=RecordBuilder(payload_digest="stored"))
    writer.write_exchange(CHUNKED)
    writer.write_exchange(PLAIN)
    writer.close()
    [path] = (tmp_path / "warc").glob("*.warc.gz")
    with path.open("rb") as stream:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                    r.http_headers.protocol if r.http_headers else None) for r in ArchiveIterator(stream)]
    assert records == [
        ("warcinfo", None, None),
        ("request", CHUNKED.url, "GET"),
        ("response", CHUNKED.url, "HTTP/1.1"),
        ("request", PLAIN.url, "GET"),
        ("response", PLAIN.url, "HTTP/1.1"),
    ]
    response = read_members(path)[2]
    assert response.block == CHUNKED.response_head + CHUNKED_BODY
    # With the "stored" policy warcio check agrees with every digest, chunked included.
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout


def test_warcio_check_only_disputes_the_entity_digest_of_chunked_responses(tmp_path):
    """Pins warcio 1.8.1's known disagreement (webrecorder/warcio#74, #75).

    warcio digests the chunked bytes as stored; the WARC spec's payload is the
    transfer-decoded entity. If this starts passing, warcio was fixed.
    """
    writer = writer_for(tmp_path)
    response_id = writer.write_exchange(CHUNKED).record_id
    writer.write_exchange(PLAIN)
    writer.close()
    [path] = (tmp_path / "warc").glob("*.warc.gz")
    check = warcio_check(path)
    assert check.returncode == 1
    problems = [line.strip() for line in check.stdout.splitlines() if "failed" in line]
    assert problems == [f"payload digest failed {sha1_b32(b'hello, world')}"]
    assert f"WARC-Record-ID {response_id} response" in check.stdout


def test_revisit_and_metadata_are_written(tmp_path):
    writer = writer_for(tmp_path)
    original = writer.write_exchange(PLAIN).result(timeout=10)
    revisit = writer.write_revisit(
        PLAIN, profile=RevisitProfile.IDENTICAL_PAYLOAD_DIGEST, refers_to_uri=PLAIN.url,
        refers_to_date=FETCHED, refers_to_record_id=original.record_id,
    ).result(timeout=10)
    note = writer.write_metadata(PLAIN.url, {"outlink": "http://example.com/next"},
                                 concurrent_to=original.record_id).result(timeout=10)
    writer.close()
    [path] = (tmp_path / "warc").glob("*.warc.gz")
    members = {m.get("WARC-Record-ID"): m for m in read_members(path)}
    assert members[revisit.record_id].type == "revisit"
    assert members[revisit.record_id].get("WARC-Refers-To") == original.record_id
    assert members[revisit.record_id].get("WARC-Payload-Digest") == original.payload_digest
    assert members[note.record_id].block == b"outlink: http://example.com/next\r\n"
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout


def both_writers(tmp_path: Path, kind: str):
    """The thread writer, or the process writer (archive/warc/process.py): one contract."""
    if kind == "thread":
        return writer_for(tmp_path)
    from archive.warc.process import WarcWriterProcess
    return WarcWriterProcess(tmp_path / "warc", prefix="test", info=INFO)


WRITER_KINDS = pytest.mark.parametrize("kind", ["thread", "process"])


@WRITER_KINDS
def test_close_is_idempotent_and_later_writes_fail(tmp_path, kind):
    writer = both_writers(tmp_path, kind)
    writer.write_exchange(PLAIN)
    writer.close()
    writer.close()
    with pytest.raises(WarcWriteError, match="closed"):
        writer.write_exchange(PLAIN)
    assert writer.stats.records == 3


def test_close_without_records_leaves_no_file(tmp_path):
    writer = writer_for(tmp_path)
    writer.close()
    assert list((tmp_path / "warc").iterdir()) == []


@WRITER_KINDS
def test_unwritable_directory_fails_at_construction(tmp_path, kind):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(WarcWriteError, match="not writable"):
        both_writers(blocker, kind)


class _FullDisk:
    """A file whose writes fail like a full disk after `room` bytes."""

    def __init__(self, handle, room: int):
        self._handle, self._room = handle, room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            raise OSError(28, "No space left on device")
        self._room -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)


def _small_disk(monkeypatch, room: int = 1500) -> None:
    """Every WARC file opened from now on takes `room` bytes, then fails as a full disk does."""
    import archive.warc.warcfile as warcfile

    real_init = warcfile.OpenWarcFile.__init__

    def small_disk(self, directory, name):
        real_init(self, directory, name)
        self.handle = _FullDisk(self.handle, room=room)

    monkeypatch.setattr(warcfile.OpenWarcFile, "__init__", small_disk)


def test_write_errors_fail_futures_then_writes_and_close(tmp_path, monkeypatch):
    _small_disk(monkeypatch)
    writer = writer_for(tmp_path)
    first = writer.write_exchange(exchange_n(1, 100))
    assert isinstance(first.result(timeout=10), RecordLocation)
    failing = writer.write_exchange(exchange_n(2, 3000))
    with pytest.raises(WarcWriteError, match="No space left"):
        failing.result(timeout=10)
    with pytest.raises(WarcWriteError, match="failed earlier"):
        writer.write_exchange(PLAIN)
    with pytest.raises(WarcWriteError, match="No space left"):
        writer.close()
    writer.close()  # reported once; later closes are quiet
    # The damaged file keeps `.open`: it must never look complete.
    assert [p.suffix for p in (tmp_path / "warc").iterdir()] == [".open"]



def test_a_batch_of_jobs_is_answered_in_order_by_one_future_after_one_fsync(tmp_path, monkeypatch):
    """`write_jobs` (the writer process's way): each job's location, or the error of a record that would
    not build, in the jobs' order; the batch's one future resolves once its records are synced."""
    import archive.warc.warcfile as warcfile

    syncs = []
    real_sync = warcfile.OpenWarcFile.sync
    monkeypatch.setattr(warcfile.OpenWarcFile, "sync", lambda self: (syncs.append(self.size), real_sync(self)))
    writer = writer_for(tmp_path)
    jobs = [writer.exchange_job(exchange_n(1)),
            writer.metadata_job(PLAIN.url, {"note": "line\nbreak"}),  # refused when built, in the writer thread
            writer.exchange_job(exchange_n(2), record_id="<urn:uuid:00000000-0000-4000-8000-000000000002>")]
    outcomes = writer.write_jobs(jobs).result(timeout=10)
    assert [type(outcome) for outcome in outcomes] == [RecordLocation, ValueError, RecordLocation]
    assert [outcomes[0].record_id, outcomes[2].record_id] == [jobs[0][0], jobs[2][0]]
    assert len(syncs) == 1 and syncs[0] == outcomes[2].offset + outcomes[2].length  # the batch, once, all of it
    assert writer.write_exchange(PLAIN).result(timeout=10)  # a bad record fails its job, not the archive
    writer.close()
    members = read_members(next((tmp_path / "warc").glob("*.warc.gz")))
    assert [(m.type, m.offset) for m in members if m.type == "response"][:2] == \
        [("response", outcomes[0].offset), ("response", outcomes[2].offset)]


def test_a_batch_after_a_write_error_fails_every_job_with_it(tmp_path, monkeypatch):
    _small_disk(monkeypatch)
    writer = writer_for(tmp_path)
    outcomes = writer.write_jobs([writer.exchange_job(exchange_n(1, 100)),
                                  writer.exchange_job(exchange_n(2, 3000))]).result(timeout=10)
    # The first was written but never synced: it is lost with the archive, as the second.
    assert [type(outcome) for outcome in outcomes] == [WarcWriteError, WarcWriteError]
    assert "No space left" in str(outcomes[1])
    with pytest.raises(WarcWriteError, match="failed earlier"):
        writer.write_jobs([writer.exchange_job(PLAIN)])
    with pytest.raises(WarcWriteError):
        writer.close()


@WRITER_KINDS
def test_bad_input_is_refused_in_the_callers_thread(tmp_path, kind):
    writer = both_writers(tmp_path, kind)
    with pytest.raises(ValueError):
        writer.write_exchange(Exchange(**{**_fields(PLAIN), "fetched_at": datetime(2025, 1, 1)}))
    with pytest.raises(ValueError):
        writer.write_exchange(Exchange(**{**_fields(PLAIN), "url": "http://x/\nA: b"}))
    writer.write_exchange(PLAIN).result(timeout=10)  # the writer is still healthy
    writer.close()


ATEXIT_SCRIPT = """
import sys
sys.path.insert(0, {repo!r})
from tests.test_warc_writer import PLAIN
from archive.warc.writer import WarcWriter
writer = WarcWriter({directory!r}, prefix="atexit")
writer.write_exchange(PLAIN)
# no close(): the atexit hook must drain, fsync and rename
"""


def test_interpreter_exit_without_close_still_closes_the_file(tmp_path):
    directory = tmp_path / "warc"
    script = ATEXIT_SCRIPT.format(repo=str(REPO), directory=str(directory))
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, cwd=REPO)
    [path] = directory.iterdir()
    assert path.name.endswith(".warc.gz")
    assert [m.type for m in read_members(path)] == ["warcinfo", "request", "response"]


def test_writes_happen_off_the_calling_thread(tmp_path, monkeypatch):
    import threading

    import archive.warc.writer as warc

    threads = set()
    real_gzip = warc.WarcWriter._gzip_member

    def spy(self, record):
        threads.add(threading.current_thread().name)
        return real_gzip(self, record)

    monkeypatch.setattr(warc.WarcWriter, "_gzip_member", spy)
    writer = writer_for(tmp_path)
    writer.write_exchange(PLAIN).result(timeout=10)
    writer.close()
    assert threads == {"warc-writer"}


def test_digest_helper_matches_hashlib():
    assert warc_digest(b"he", b"llo") == sha1_b32(b"hello")


def test_record_ids_are_unique_uuid4_urns_and_a_forked_child_draws_its_own():
    import os

    from archive.warc.records import new_record_id

    ids = [new_record_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>", i)
               for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child writes its next id; without a re-seed it would equal the parent's next
        os.write(write, new_record_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() != new_record_id()


@WRITER_KINDS
def test_one_config_drives_either_writer(tmp_path, kind):
    """The crawler builds one WarcWriterConfig and hands it to the writer WARC_WRITER names."""
    from archive.warc.cdxj import warc_index_path
    from archive.warc.process import WarcWriterProcess
    from archive.warc.writer import WarcWriterConfig

    config = WarcWriterConfig(tmp_path / "warc", info=INFO, prefix="cfg", payload_digest="stored",
                              compress_level=1, index_closed_files=True)
    writer = (WarcWriter if kind == "thread" else WarcWriterProcess).from_config(config)
    location = writer.write_exchange(CHUNKED).result(timeout=30)
    writer.close()
    if kind == "process":
        writer.join(30)  # the child indexes the file it closed before it exits
    else:
        for thread in threading.enumerate():  # the thread writer indexes in a thread of its own
            if thread.name.startswith("cdxj-index-"):
                thread.join(30)
    [path] = (tmp_path / "warc").glob("*.warc.gz")
    assert path.name.startswith("cfg-") and location.warc_file == path.name
    assert location.payload_digest == sha1_b32(CHUNKED_BODY)  # "stored": the body as sent, still chunked
    assert [m.type for m in read_members(path)] == ["warcinfo", "request", "response"]
    assert warc_index_path(path).is_file()


def test_record_future_keeps_the_future_contract_its_consumers_use(caplog):
    """RecordFuture (no Condition, archive/warc/writer_base.py) against what concurrent.futures.Future
    does: callbacks in order, at once when settled, a raising callback logged; result and exception;
    timeouts; cancel; a second settling refused."""
    from concurrent.futures import CancelledError, InvalidStateError

    from archive.warc.writer_base import RecordFuture, settle

    future, seen = RecordFuture("<urn:uuid:a>"), []
    future.add_done_callback(lambda done: seen.append(("first", done.result())))
    future.add_done_callback(lambda done: 1 / 0)
    future.add_done_callback(lambda done: seen.append(("third", done.done())))
    assert not future.done() and not future.cancelled()
    with pytest.raises(TimeoutError):
        future.result(timeout=0.01)
    future.set_result("here")
    assert seen == [("first", "here"), ("third", True)]
    assert "exception calling callback" in caplog.text
    future.add_done_callback(lambda done: seen.append(("late", done.exception())))
    assert seen[-1] == ("late", None) and future.result() == "here"
    with pytest.raises(InvalidStateError):
        future.set_exception(ValueError("twice"))
    assert not future.cancel()

    failed = RecordFuture("<urn:uuid:b>")
    settle(failed, error=WarcWriteError("disk"))
    assert isinstance(failed.exception(timeout=0), WarcWriteError)
    with pytest.raises(WarcWriteError, match="disk"):
        failed.result()

    cancelled, called = RecordFuture("<urn:uuid:c>"), []
    cancelled.add_done_callback(lambda done: called.append(done.cancelled()))
    assert cancelled.cancel() and cancelled.cancel() and cancelled.done() and called == [True]
    settle(cancelled, result="written anyway")  # the writer settles it regardless: ignored
    with pytest.raises(CancelledError):
        cancelled.result()
    with pytest.raises(CancelledError):
        cancelled.exception()


def test_record_future_wakes_every_thread_blocked_on_it():
    from archive.warc.writer_base import RecordFuture

    future, got = RecordFuture("<urn:uuid:d>"), []
    waiters = [threading.Thread(target=lambda: got.append(future.result(timeout=30))) for _ in range(4)]
    for waiter in waiters:
        waiter.start()
    deadline = time.monotonic() + 10
    while future._done_event is None and time.monotonic() < deadline:  # a waiter is blocked
        time.sleep(0.001)
    future.set_result(7)
    for waiter in waiters:
        waiter.join(30)
    assert got == [7, 7, 7, 7]
