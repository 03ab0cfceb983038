"""Page bytes → NFC text (`decode_html`) as a browser reads them: a BOM, UTF-8, the declared charset, detection.

Why apart: the crawl, re-extraction and the evaluation all decode bodies the same way, and
most of the subtle cases (a UTF-8 page declaring windows-1258, a gzip body read raw from a
WARC, a binary body served as HTML) live here."""
from __future__ import annotations

import re

import charset_normalizer

from archive.extract.charsets import REPLACEMENT, UTF8, decode, encoding_for
from archive.extract.text import nfc
from archive.warc.httpcodec import BodyTooLarge, decompress

__all__ = ["Undecodable", "XML_DECLARATION", "decode_html", "decode_html_source"]


class Undecodable(Exception):
    """The body is not an HTML document (empty, binary)."""


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# A `<meta>` naming a charset (`charset=` or http-equiv's `content="...; charset=..."`), or a comment to skip.
_META_OR_COMMENT = re.compile(rb"""<!--.*?-->|<meta[\s/][^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""",
                              re.I | re.S)
_BODY = re.compile(rb"<body[\s>/]", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""")
_IN_PAGE = {"utf-16le": UTF8, "utf-16be": UTF8, "x-user-defined": "windows-1252"}  # as the HTML Standard reads them
_UTF16 = ("utf-16le", "utf-16be")
_UTF8_BOM = b"\xef\xbb\xbf"
_BOMS = ((_UTF8_BOM, UTF8), (b"\xfe\xff", "utf-16be"), (b"\xff\xfe", "utf-16le"))
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"RIFF", b"\x00\x00\x01\x00", b"OggS", b"ID3")


def decode_html(data: bytes | str, declared: str | None = None) -> tuple[str, str]:
    """Decode a page body to NFC text; returns (text, encoding used). See `decode_html_source`."""
    return decode_html_source(data, declared)[:2]


def decode_html_source(data: bytes | str, declared: str | None = None) -> tuple[str, str, bytes | None]:
    """Decode a page body to NFC text; returns (text, encoding used, source): `source` is the bytes
    the text is exactly the strict UTF-8 decoding of (the common case: a UTF-8 page already in
    NFC), else None. The parser can read those bytes as they are instead of the text
    (archive/extract/article.py `parse_page`).

    `declared` is the `charset` of the HTTP Content-Type header, as sent. The order is a browser's
    (the HTML Standard's encoding sniffing, labels as the Encoding Standard reads them: charsets.py),
    with two steps of ours before the declarations:
    1. a BOM (UTF-8, UTF-16LE, UTF-16BE) decides, whatever else is declared;
    2. a UTF-16 `declared` decodes a body without a BOM that has the NULs of UTF-16 (before the binary
       test); *ours*: on a body without them it is ignored (ASCII markup is not UTF-16);
    3. *ours*: bytes that are valid UTF-8 are UTF-8 whatever is declared (a UTF-8 page that declares
       windows-1258: valid multi-byte UTF-8 almost never happens by accident in a legacy charset);
    4. *ours*: so is a body with at least 20 good multi-byte UTF-8 sequences and more than 50 a bad
       byte (a spliced or truncated page, which a legacy codec would turn into mojibake);
    5. `declared`, if the Encoding Standard lists it (`latin1` is windows-1252; an unknown label is
       ignored, as browsers ignore it); bad bytes become U+FFFD;
    6. the first `<meta charset>` (either form) in the `<head>`, outside comments, wherever it is (the
       prescan reads 1,024 bytes, and browsers go on reading the head); UTF-16 there means UTF-8 and
       x-user-defined windows-1252, as the HTML Standard says;
    7. the `encoding` of an XML declaration the body starts with (the same two rules);
    8. nothing declared: UTF-8 with U+FFFD for the bad bytes when there are at least two good
       multi-byte sequences a bad byte (`_utf8_sequences`: legacy text makes far fewer), else charset
       detection (charset_normalizer), else UTF-8 with U+FFFD.
    A label browsers refuse to decode (`iso-2022-kr`: the "replacement" encoding) raises Undecodable: a
    browser shows one U+FFFD. Every U+FEFF inside the text is dropped: a browser shows nothing of it,
    but trafilatura reads a tail of one as text (after every end tag: paragraphs came twice); a UTF-8
    page loses them from its bytes too, and is still parsed from them.

    Raises Undecodable for an empty or binary body.
    """
    if isinstance(data, str):
        if not data.strip():
            raise Undecodable("empty body")
        # A lone surrogate (only a caller's text can hold one: no decoding here makes one) would end
        # the parsed text where it stands; a decoder gives U+FFFD for it, and so does this.
        return _text(_LONE_SURROGATE.sub("\ufffd", data)), "str", None
    data = _maybe_decompress(data)
    if not data.strip():
        raise Undecodable("empty body")
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _text(data[len(bom):].decode(name, errors="replace")), name, None
    if _looks_binary(data):
        header = encoding_for(declared)
        if header in _UTF16:  # (UTF-16 markup without a BOM: a NUL in every ASCII character)
            return _text(decode(data, header)), header, None
        raise Undecodable("binary body (not an HTML document)")
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # (U+FEFF is EF BB BF: a memchr of the bytes for 0xEF, which Vietnamese text never has, costs a
        # third of a search of the text; a search of the bytes for all three, forty times as much.)
        if b"\xef" in data and "\ufeff" in decoded:
            decoded, data = decoded.replace("\ufeff", ""), data.replace(_UTF8_BOM, b"")
        text = nfc(decoded)  # (the very object when it is in NFC already: no comparison then)
        exact = isinstance(data, bytes) and (text is decoded or text == decoded)
        return text, UTF8, data if exact else None
    lenient = data.decode("utf-8", errors="replace")
    good, bad = _utf8_sequences(lenient)
    if good >= 20 and good > 50 * bad:
        return _text(lenient), UTF8, None
    header = encoding_for(declared)
    if header in _UTF16:
        header = None  # markup with no NULs is not UTF-16 (a misconfigured server): as in a `<meta>`
    name = header or _declared_in_page(data)
    if name == REPLACEMENT:
        raise Undecodable(f"charset {declared or name!r} is one browsers refuse to decode (WHATWG replacement)")
    if name == UTF8 or (name is None and good >= 2 * bad):
        return _text(lenient), UTF8, None
    if name is not None:
        return _text(decode(data, name)), name, None
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding:
        return _text(str(best)), best.encoding, None
    return _text(lenient), UTF8, None


def _utf8_sequences(lenient: str) -> tuple[int, int]:
    """(good multi-byte characters, bad bytes) of a lenient UTF-8 decode (each bad byte a U+FFFD).

    Legacy text almost never makes good sequences: on real texts in 27 legacy code pages the lenient
    decode found at most 0.56 good ones a bad byte (session 22: double-byte CJK), 0 in windows-1252 and
    1258; on 3,000 texts of 5 common words (wordfreq's lists) in each of 12 legacy code pages of Chinese,
    Japanese, Korean, Russian, Ukrainian, Greek, German and Polish, at most 1.25 (session 23)."""
    bad = lenient.count("\ufffd")
    return len(lenient) - len(lenient.encode("ascii", errors="ignore")) - bad, bad


def _declared_in_page(data: bytes) -> str | None:
    """The encoding the page declares in itself: the first `<meta charset>` or `http-equiv` Content-Type
    of its head outside comments, else the `encoding` of the XML declaration it starts with. UTF-16
    there is UTF-8 (bytes that spell `<meta` in ASCII are not UTF-16) and x-user-defined is windows-1252,
    as the HTML Standard's prescan says. The head ends at `<body` (or the page, without one)."""
    end = _BODY.search(data)
    for found in _META_OR_COMMENT.finditer(data, 0, end.start() if end else len(data)):
        if found.group(1) is not None:
            name = encoding_for(found.group(1).decode("ascii"))
            if name is not None:
                return _IN_PAGE.get(name, name)
    xml = _XML_ENCODING.match(data)
    name = encoding_for(xml.group(1).decode("ascii")) if xml else None
    return _IN_PAGE.get(name, name)


def _text(decoded: str) -> str:
    """Decoded text as the parser gets it: NFC, no U+FEFF."""
    return nfc(_without_bom(decoded))


def _without_bom(text: str) -> str:
    return text.replace("\ufeff", "") if "\ufeff" in text else text


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

