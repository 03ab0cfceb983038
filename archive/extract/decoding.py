"""Page bytes → NFC text (`decode_html`): a BOM, strict UTF-8, the declared charset, detection.

Why apart: the crawl, re-extraction and the evaluation all decode bodies the same way, and
most of the subtle cases (a UTF-8 page declaring windows-1258, a gzip body read raw from a
WARC, a binary body served as HTML) live here."""
from __future__ import annotations

import codecs
import re

import charset_normalizer

from archive.extract.text import nfc
from archive.warc.httpcodec import BodyTooLarge, decompress

__all__ = ["Undecodable", "XML_DECLARATION", "decode_html", "decode_html_source"]


class Undecodable(Exception):
    """The body is not an HTML document (empty, binary)."""


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"RIFF", b"\x00\x00\x01\x00", b"OggS", b"ID3")
_UTF8_NAMES = {"utf-8", "utf8", "utf_8", "unicode-1-1-utf-8", "x-unicode20utf8"}


def decode_html(data: bytes | str, declared: str | None = None) -> tuple[str, str]:
    """Decode a page body to NFC text; returns (text, encoding used). See `decode_html_source`."""
    return decode_html_source(data, declared)[:2]


def decode_html_source(data: bytes | str, declared: str | None = None) -> tuple[str, str, bytes | None]:
    """Decode a page body to NFC text; returns (text, encoding used, source): `source` is the bytes
    the text is exactly the strict UTF-8 decoding of (the common case: a UTF-8 page already in
    NFC), else None. The parser can read those bytes as they are instead of the text
    (archive/extract/article.py `parse_page`).

    Order: BOM; strict UTF-8 (a page of UTF-8 bytes that declares
    windows-1258 is UTF-8 – valid multi-byte UTF-8 almost never happens by
    accident in a single-byte charset); the declared charset (HTTP header
    `declared`, then `<meta charset>`), strictly; charset detection; UTF-8
    with replacement characters as the last resort.

    Raises Undecodable for an empty or binary body.
    """
    if isinstance(data, str):
        if not data.strip():
            raise Undecodable("empty body")
        # A lone surrogate (only a caller's text can hold one: no decoding here makes one) would end
        # the parsed text where it stands; a decoder gives U+FFFD for it, and so does this.
        return nfc(_LONE_SURROGATE.sub("\ufffd", data)), "str", None
    data = _maybe_decompress(data)
    if not data.strip():
        raise Undecodable("empty body")
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return nfc(data.decode(codec, errors="replace")), codec.removesuffix("-sig"), None
    if _looks_binary(data):
        raise Undecodable("binary body (not an HTML document)")
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        text = nfc(decoded)  # (the very object when it is in NFC already: no comparison then)
        exact = isinstance(data, bytes) and (text is decoded or text == decoded)
        return text, "utf-8", data if exact else None
    lenient = data.decode("utf-8", errors="replace")
    if _mostly_utf8(lenient):
        # UTF-8 with a stray bad byte (a spliced or truncated page): a legacy
        # codec would turn every other Vietnamese letter into mojibake.
        return nfc(lenient), "utf-8", None
    meta = _META_CHARSET.search(data[:4096])
    for label in (declared, meta.group(1).decode("ascii", "ignore") if meta else None):
        codec = _codec(label)
        if codec is None:
            continue
        if codec in _UTF8_NAMES:
            # Declared UTF-8 with a few bad bytes (a truncated or spliced page):
            # keep UTF-8 rather than let detection guess a legacy codec.
            return nfc(data.decode("utf-8", errors="replace")), "utf-8", None
        try:
            return nfc(data.decode(codec)), codec, None
        except (UnicodeDecodeError, LookupError):
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding:
        return nfc(str(best)), best.encoding, None
    return nfc(data.decode("utf-8", errors="replace")), "utf-8", None


def _mostly_utf8(text: str) -> bool:
    """True when a lenient UTF-8 decode has many good multi-byte characters per bad byte."""
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return good >= 20 and good > 50 * bad


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return "utf-8" if name in _UTF8_NAMES else name


def _maybe_decompress(data: bytes) -> bytes:
    """Undo gzip/zlib content-encoding left on a body (e.g. a payload read raw from WARC), within
    the bound every reader keeps (archive/warc/httpcodec.py)."""
    try:
        if data[:2] == b"\x1f\x8b":
            return decompress(data, "gzip")[0]
        if data[:1] == b"\x78" and len(data) > 2 and (data[0] * 256 + data[1]) % 31 == 0:
            return decompress(data, "deflate")[0]
    except BodyTooLarge as exc:
        raise Undecodable(str(exc)) from None
    except Exception:  # not that coding after all: the bytes as they are
        pass
    return data


def _looks_binary(data: bytes) -> bool:
    head = data[:2048]
    if head.startswith(_BINARY_MAGIC):
        return True
    # (NULs count as control bytes: one stray NUL in a page's text, which the parser reads as U+FFFD,
    # does not make it binary; a binary body or UTF-16 without a BOM has far more than 5 %.)
    controls = len(head.translate(None, _NOT_CONTROL))  # the control bytes, counted in C
    return controls > len(head) * 0.05


_NOT_CONTROL = bytes(b for b in range(256) if b >= 32 or b in (9, 10, 12, 13))  # deleted before counting

