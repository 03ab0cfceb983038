"""archive/warc/gzip_member.py: members from libdeflate (when the system has it) or zlib inflate to the record."""
from __future__ import annotations

import gzip
import random
import zlib

import pytest

from archive.warc.gzip_member import LIBDEFLATE, GzipMembers

TEXT = "<p>Hợp tác Việt Nam - Lào, trang %d.</p>\n"
SAMPLES = [b"", b"W", TEXT.encode() * 3, "".join(TEXT % n for n in range(5000)).encode(),
           random.Random(7).randbytes(70_000), random.Random(8).randbytes(300_000) + b"\r\n\r\n"]
BACKENDS = pytest.mark.parametrize("libdeflate", [
    False, pytest.param(True, marks=pytest.mark.skipif(LIBDEFLATE is None, reason="no libdeflate here"))])


@BACKENDS
@pytest.mark.parametrize("level", [0, 1, 6, 9, -1])
def test_each_member_inflates_alone_to_its_bytes(libdeflate, level):
    members = GzipMembers(libdeflate=libdeflate)
    assert members.uses_libdeflate == libdeflate
    made = [members.member(data, level) for data in SAMPLES]
    for data, member in zip(SAMPLES, made):
        assert zlib.decompress(member, wbits=31) == data  # one member, read from its offset alone
        assert member[:3] == b"\x1f\x8b\x08"
    assert gzip.decompress(b"".join(made)) == b"".join(SAMPLES)  # and as a series, as a WARC file
    text = SAMPLES[3]
    assert len(made[3]) < len(text) // 4 if level else len(made[3]) > len(text)  # level 0 stores
    members.close()


@pytest.mark.skipif(LIBDEFLATE is None, reason="no libdeflate here")
def test_libdeflate_shrinks_as_zlib_does_and_after_close_zlib_takes_over():
    with_libdeflate, with_zlib = GzipMembers(), GzipMembers(libdeflate=False)
    text = SAMPLES[3]
    ours, theirs = with_libdeflate.member(text, 1), with_zlib.member(text, 1)
    assert ours != theirs and len(ours) <= len(theirs) * 1.05
    with_libdeflate.close()
    with_libdeflate.close()
    assert with_libdeflate.member(text, 1) == theirs


def test_without_the_library_zlib_makes_the_members(monkeypatch):
    import ctypes

    import archive.warc.gzip_member as gzip_member

    def no_library(name, *args, **kwargs):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert gzip_member._load_libdeflate() is None
    monkeypatch.setattr(gzip_member, "LIBDEFLATE", None)
    members = GzipMembers()
    assert not members.uses_libdeflate
    assert members.member(SAMPLES[3], 1) == zlib.compress(SAMPLES[3], 1, wbits=31)
