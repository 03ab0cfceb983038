"""archive/warc/gzip_member.py: libdeflate's members inflate, alone and as a series, to each record."""
from __future__ import annotations

import gzip
import random
import zlib

import pytest

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
