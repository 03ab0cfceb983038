"""Charset labels → text, as browsers decode them (the WHATWG Encoding Standard).

Why apart: a label means what the standard says it means, not what Python's codec of that name does:
`iso-8859-1`, `latin1` and `us-ascii` are windows-1252 (0x93 is a curly quote, not a C1 control),
`iso-8859-9` is windows-1254, `gb2312` is GBK, `tis-620` is windows-874, `ks_c_5601-1987` is EUC-KR
(windows-949), and labels Python has no codec for (`windows-874`, `x-user-defined`, `iso-8859-8-i`)
or that browsers refuse (`iso-2022-kr`: the "replacement" encoding) have a meaning too. Labels the
standard does not list (`cp437`, `utf-7`) mean nothing to a browser, and nothing here.

The labels come from `webencodings` (the standard's label table, kept up to date on PyPI). The
decoders are Python's codecs, which match the standard's indexes byte for byte on every single-byte
encoding (checked against the standard's indexes.json: tests/test_charsets.py keeps a sample) except
where `_SINGLE_BYTE_FIXES` says; bad bytes decode to U+FFFD as the standard's decoders do. A table of
ours exists only for those few differences: no maintained library carries the standard's decoders.
The multi-byte ones match the standard's indexes but for 20 of GBK's 23,940 two-byte sequences
(GB18030-2022's moves out of the Private Use Area) and 203 of Big5's 18,590 (HKSCS-2008 additions):
left as they are (docs/extraction.md, session 23).
"""
from __future__ import annotations

import codecs
from functools import cache

import webencodings

__all__ = ["REPLACEMENT", "UTF8", "decode", "encoding_for"]

UTF8 = "utf-8"
REPLACEMENT = "replacement"  # the standard's encoding of labels browsers refuse: the whole body is one U+FFFD

# The standard's "legacy single-byte encodings" (its names).
_SINGLE_BYTE = frozenset({
    "ibm866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6", "iso-8859-7", "iso-8859-8",
    "iso-8859-8-i", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16", "koi8-r", "koi8-u",
    "macintosh", "windows-874", "windows-1250", "windows-1251", "windows-1252", "windows-1253", "windows-1254",
    "windows-1255", "windows-1256", "windows-1257", "windows-1258", "x-mac-cyrillic",
})
# Where the standard's index differs from Python's codec of that name (the index's byte: its character).
_SINGLE_BYTE_FIXES = {
    "windows-1255": {0xCA: "\u05ba"},  # HEBREW POINT HOLAM HASER FOR VAV, added to the index after cp1255
    "koi8-u": {0xAE: "\u045e", 0xBE: "\u040e"},  # the standard's KOI8-U is KOI8-RU: ў and Ў, not box drawings
}
# The standard's GBK decoder is its gb18030 decoder (Python's gbk codec refuses four-byte sequences).
_DECODER_OF = {"gbk": "gb18030"}


def encoding_for(label: str | None) -> str | None:
    """The standard's name of the encoding a charset label means (`latin1` → `windows-1252`), or None
    for a label the standard does not list (a browser ignores it)."""
    if not label:
        return None
    encoding = webencodings.lookup(label)
    return None if encoding is None else encoding.name


def decode(data: bytes, name: str) -> str:
    """`data` decoded with the standard's encoding `name` (from `encoding_for`), bad bytes as U+FFFD.
    (`replacement` is the caller's to handle: a browser shows one U+FFFD for the whole body.)"""
    if name in _SINGLE_BYTE:
        return codecs.charmap_decode(data, "strict", _single_byte_table(name))[0]
    if name == "x-user-defined":
        return webencodings.lookup(name).codec_info.decode(data)[0]
    return data.decode(_DECODER_OF.get(name) or webencodings.lookup(name).codec_info.name, errors="replace")


@cache
def _single_byte_table(name: str) -> str:
    """The standard's index of a single-byte encoding as a 256-character decoding table: Python's
    codec, U+FFFD for the bytes it leaves undefined, except that a windows-* encoding's undefined byte
    in 0x80–0x9F is the C1 control of that number (0x81 → U+0081: Windows' own decoder, which the
    standard follows), and `_SINGLE_BYTE_FIXES`."""
    table = list(bytes(range(256)).decode(webencodings.lookup(name).codec_info.name, errors="replace"))
    if name.startswith("windows-"):
        for byte in range(0x80, 0xA0):
            if table[byte] == "\ufffd":
                table[byte] = chr(byte)
    for byte, char in _SINGLE_BYTE_FIXES.get(name, {}).items():
        table[byte] = char
    return "".join(table)
