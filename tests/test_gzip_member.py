"""archive/warc/gzip_member.py: libdeflate's members inflate, alone and as a series, to each record."""
from __future__ import annotations

import gzip
import random
import threading
import zlib

import deflate
import pytest

import archive.warc.gzip_member as gzip_member_module
from archive.warc.gzip_member import gzip_member

TEXT = "<p>Hợp tác Việt Nam - Lào, trang %d.</p>\n"
SAMPLES = [b"", b"W", TEXT.encode() * 3, "".join(TEXT % n for n in range(5000)).encode(),
           random.Random(7).randbytes(70_000), random.Random(8).randbytes(300_000) + b"\r\n\r\n"]


@pytest.mark.parametrize("level", [0, 1, 6, 9, -1])
def test_each_member_inflates_alone_to_its_bytes(level):
    made = [gzip_member(data, level) for data in SAMPLES]
    for data, member in zip(SAMPLES, made):
        assert type(member) is bytes
        assert zlib.decompress(member, wbits=31) == data  # one member, read from its offset alone
        assert member[:3] == b"\x1f\x8b\x08"
    assert gzip.decompress(b"".join(made)) == b"".join(SAMPLES)  # and as a series, as a WARC file
    text = SAMPLES[3]
    assert len(made[3]) < len(text) // 4 if level else len(made[3]) > len(text)  # level 0 stores


def test_members_are_the_same_bytes_every_time_and_no_larger_than_zlibs():
    # The wheel bundles one libdeflate: a record gzips to the same bytes on every machine.
    text = SAMPLES[3]
    assert gzip_member(text, 1) == gzip_member(text, 1)
    assert gzip_member(text, -1) == gzip_member(text, 6)
    assert len(gzip_member(text, 6)) <= len(zlib.compress(text, 6, wbits=31)) * 1.05


# Around the buffer a thread keeps (256 KiB): inputs whose bound fits it, and inputs that need one of their own.
EDGES = [random.Random(9).randbytes(size) for size in (261_000, 261_861, 261_862, 262_144, 600_000)]


@pytest.mark.parametrize("level", [0, 1, 2, 6, 9, 12, -1])
def test_members_are_the_packages_bytes_with_a_kept_compressor(level):
    # A compressor kept between calls (and the thread's buffer) must not change a byte: the same
    # members as the `deflate` package's own call, which allocates a fresh compressor each time.
    for data in [*SAMPLES, *EDGES, *SAMPLES]:  # the small ones again after the large: nothing carried over
        assert gzip_member(data, level) == bytes(deflate.gzip_compress(data, 6 if level < 0 else level))


def test_each_thread_uses_its_own_compressor():
    # One compressor is not to be used by two threads at once: threads writing together each get theirs.
    texts = [("".join(TEXT % (n * 1000 + k) for k in range(3000))).encode() for n in range(4)]
    expected = [bytes(deflate.gzip_compress(text, 1)) for text in texts]
    failures = []

    def work(n):
        for _ in range(30):
            if gzip_member(texts[n], 1) != expected[n]:
                failures.append(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_without_libdeflates_own_api_the_package_writes_the_same_bytes(monkeypatch):
    # Another wheel build that does not export libdeflate's symbols: slower, never different.
    text = SAMPLES[3]
    kept = gzip_member(text, 1)
    monkeypatch.setattr(gzip_member_module, "_API", None)
    assert gzip_member(text, 1) == kept
    assert gzip_member(bytearray(text), 1) == kept  # not bytes: the package's call, as before
