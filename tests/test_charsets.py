"""Pages decoded as a browser decodes them (archive/extract/charsets.py, decoding.py).

Each case is bytes built here and what a browser shows of them: the WHATWG Encoding Standard's label
table and indexes, and the HTML Standard's encoding sniffing (BOM, HTTP charset, `<meta>` prescan,
XML declaration). Where decoding.py deliberately reads a page better than a browser would (valid
UTF-8 bytes under a legacy label), tests/test_extract.py `test_charsets_decode_to_the_same_text` says so.
"""
from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from archive.extract.charsets import decode, encoding_for
from archive.extract.decoding import Undecodable, decode_html, decode_html_source
from crawler.spiders.news import header_charset

# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(("label", "name"), [
    ("iso-8859-1", "windows-1252"), ("ISO_8859-1:1987", "windows-1252"), ("latin1", "windows-1252"),
    ("us-ascii", "windows-1252"), ("ascii", "windows-1252"), ("l1", "windows-1252"), (" Windows-1252 ", "windows-1252"),
    ("iso-8859-9", "windows-1254"), ("latin5", "windows-1254"), ("tis-620", "windows-874"),
    ("iso-8859-11", "windows-874"), ("gb2312", "gbk"), ("GB_2312-80", "gbk"), ("ks_c_5601-1987", "euc-kr"),
    ("windows-949", "euc-kr"), ("x-sjis", "shift_jis"), ("big5-hkscs", "big5"), ("utf-16", "utf-16le"),
    ("unicode", "utf-16le"), ("x-user-defined", "x-user-defined"), ("iso-2022-kr", "replacement"),
    ("hz-gb-2312", "replacement"), ("unicode-1-1-utf-8", "utf-8"), ("UTF8", "utf-8"), ("visual", "iso-8859-8"),
    ("logical", "iso-8859-8-i"), ("x-mac-ukrainian", "x-mac-cyrillic"),
    # labels the standard does not list: a browser ignores them, whatever Python's codecs know
    ("cp437", None), ("utf-7", None), ("latin-1", None), ("utf-32", None), ("x-foo", None), ("", None), (None, None),
])
def test_a_label_means_the_encoding_the_encoding_standard_gives_it(label, name):
    assert encoding_for(label) == name


# --------------------------------------------------------------------------- decoders


@pytest.mark.parametrize(("name", "data", "shown"), [
    # windows-1252: 0x80-0x9F are punctuation; its five undefined bytes are C1 controls, not errors
    ("windows-1252", b"\x80\x81\x85\x8d\x8f\x90\x91\x92\x93\x94\x96\x97\x9d\xe9", "€\x81…\x8d\x8f\x90‘’“”–—\x9dé"),
    ("windows-1254", b"\xd0\xdd\xfd\x80", "Ğİı€"),
    ("windows-1253", b"\x81\xaa\xd2\xff\xe1", "\x81\ufffd\ufffd\ufffdα"),  # undefined above 0x9F: U+FFFD
    ("windows-1255", b"\xca\xe0", "\u05baא"),  # Python's cp1255 predates U+05BA
    ("windows-874", b"\x80\x81\xa1\xdb", "€\x81ก\ufffd"),  # Python has no codec named windows-874
    ("windows-1258", b"\x81\xd2\xde", "\x81\u0309\u0303"),
    ("koi8-u", b"\xae\xbe\xa4", "ўЎє"),  # the standard's KOI8-U is KOI8-RU: not box drawings
    ("iso-8859-8-i", b"\xe0\xe1", "אב"),
    ("iso-8859-3", b"\xa5a", "\ufffda"),
    ("x-mac-cyrillic", b"\x80\xdf", "Ая"),
    ("x-user-defined", b"a\x80\xff", "a\uf780\uf7ff"),
    ("gbk", "中文".encode("gb18030") + "𠀀".encode("gb18030"), "中文𠀀"),  # the gb18030 decoder: four-byte sequences too
    ("euc-kr", "한국어 똠방각하".encode("cp949"), "한국어 똠방각하"),  # windows-949: Python's euc_kr refuses 똠
    ("shift_jis", "①日本".encode("cp932"), "①日本"),  # windows-31J: Python's shift_jis refuses ①
    ("big5", "香港嘅".encode("big5hkscs"), "香港嘅"),  # with HKSCS: Python's big5 refuses 嘅
    ("utf-8", b"a\xffb\xe2\x80", "a\ufffdb\ufffd"),
])
def test_each_encoding_decodes_as_the_standards_index_says(name, data, shown):
    assert decode(data, name) == shown


def test_every_byte_of_a_single_byte_encoding_decodes_to_one_character():
    for label in ("windows-1252", "windows-1253", "windows-874", "koi8-u", "iso-8859-6", "ibm866", "macintosh"):
        text = decode(bytes(range(256)), encoding_for(label))
        assert len(text) == 256 and text[:128] == "".join(map(chr, range(128)))


# --------------------------------------------------------------------------- the order a browser reads them in
_QUOTES_1252 = b"<p>\x93Vi\xeat Nam\x94 \x96 caf\xe9 \x85</p>"  # windows-1252 bytes
_QUOTES = "<p>“Viêt Nam” – café …</p>"


@pytest.mark.parametrize("data, declared", [
    (_QUOTES_1252, "iso-8859-1"), (_QUOTES_1252, "ISO-8859-1"), (_QUOTES_1252, "latin1"), (_QUOTES_1252, "us-ascii"),
    (b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">' + _QUOTES_1252, None),
    (b"<meta charset='US-ASCII'>" + _QUOTES_1252, None),
])
def test_latin1_and_ascii_labels_are_windows_1252_curly_quotes_not_c1_controls(data, declared):
    text, encoding = decode_html(data, declared)
    assert text.endswith(_QUOTES) and encoding == "windows-1252"
    assert not any("\x80" <= ch <= "\x9f" for ch in text)


def test_an_undefined_windows_1252_byte_is_a_c1_control_not_a_reason_to_guess():
    """0x81 has no character in Python's cp1252: it used to fail the declared charset and send the page
    to detection, which read every other byte otherwise too."""
    text, encoding = decode_html(b"<p>\x93x\x94 \x81 caf\xe9</p>", "windows-1252")
    assert (text, encoding) == ("<p>“x” \x81 café</p>", "windows-1252")


def _head_of(size: int) -> bytes:
    return b"<html><head><title>t</title>" + b"<script>var x = 1;</script>\n" * (size // 28)


def test_a_meta_charset_past_the_first_kilobytes_of_the_head_is_read():
    """The prescan reads 1,024 bytes, browsers go on through the head: here at byte ~6,000."""
    cyrillic = "Привет, мир".encode("windows-1251")
    data = _head_of(6000) + b"<meta charset='windows-1251'></head><body><p>" + cyrillic + b"</p></body></html>"
    assert data.index(b"<meta") > 5000
    text, encoding = decode_html(data)
    assert "<p>Привет, мир</p>" in text and encoding == "windows-1251"


def test_a_meta_charset_in_a_comment_or_in_the_body_is_not_read():
    data = (b"<html><head><!-- <meta charset=koi8-r> --><meta charset=windows-1252></head>"
            b"<body><meta charset=koi8-r><p>\x93x\x94</p></body></html>")
    assert decode_html(data) == (data.decode("cp1252"), "windows-1252")


def test_the_http_charset_comes_before_the_meta_and_the_meta_before_the_xml_declaration():
    koi8 = "Кот".encode("koi8-r")
    page = b"<?xml version='1.0' encoding='iso-8859-5'?><html><head><meta charset=windows-1251></head><p>" + koi8
    assert decode_html(page, "koi8-r")[1] == "koi8-r"
    assert decode_html(page)[1] == "windows-1251"
    assert decode_html(page.replace(b"<meta charset=windows-1251>", b""))[1] == "iso-8859-5"
    assert decode_html(page.replace(b"<meta charset=windows-1251>", b""), "koi8-r")[0].endswith("<p>Кот")
    # only a declaration the body starts with counts, as in the HTML Standard
    assert decode_html(b"<p>x</p><?xml version='1.0' encoding='koi8-r'?>" + koi8)[1] != "koi8-r"


def test_a_label_the_encoding_standard_does_not_list_is_ignored_and_the_meta_decides():
    data = b"<meta charset=windows-1252><p>\x93x\x94</p>"
    for header in ("x-foo", "cp437", "utf-7"):
        assert decode_html(data, header) == (data.decode("cp1252"), "windows-1252")


def test_labels_python_has_no_codec_for_are_decoded():
    assert decode_html("<p>ภาษาไทย €</p>".encode("cp874"), "windows-874") == ("<p>ภาษาไทย €</p>", "windows-874")
    assert decode_html("<p>Кот</p>".encode("mac-cyrillic"), "x-mac-cyrillic")[0] == "<p>Кот</p>"
    assert decode_html("<p>שלום</p>".encode("iso8859-8"), "iso-8859-8-i")[0] == "<p>שלום</p>"
    assert decode_html(b"<p>\x80\xff</p>", "x-user-defined")[0] == "<p>\uf780\uf7ff</p>"
    assert decode_html("<p>中文</p>".encode("gb18030") + "𠀀".encode("gb18030"), "gb2312")[0] == "<p>中文</p>𠀀"
    assert decode_html("<p>똠방각하</p>".encode("cp949"), "ks_c_5601-1987")[0] == "<p>똠방각하</p>"
    assert decode_html(b"<p>\xd0\xdd\xfd</p>", "iso-8859-9")[0] == "<p>Ğİı</p>"


def test_utf16_or_x_user_defined_in_a_meta_mean_utf8_and_windows_1252():
    """Bytes that spell `<meta` in ASCII are not UTF-16 (the HTML Standard's prescan reads it as UTF-8)."""
    assert decode_html(b"<meta charset=utf-16><p>caf\xc3\xa9 \xff</p>") == \
        ("<meta charset=utf-16><p>café \ufffd</p>", "utf-8")
    assert decode_html(b"<meta charset=x-user-defined><p>\x93x\x94</p>")[1] == "windows-1252"


def test_utf16_from_http_decodes_a_body_without_a_bom_and_is_ignored_on_a_body_that_is_not_utf16():
    assert decode_html("<p>Việt Nam</p>".encode("utf-16le"), "utf-16") == ("<p>Việt Nam</p>", "utf-16le")
    assert decode_html("<p>Việt Nam</p>".encode("utf-16be"), "utf-16be") == ("<p>Việt Nam</p>", "utf-16be")
    assert decode_html(b"<meta charset=windows-1252><p>\x93x\x94</p>", "utf-16") == \
        ("<meta charset=windows-1252><p>“x”</p>", "windows-1252")


def test_a_bom_comes_before_everything_declared():
    assert decode_html(b"\xef\xbb\xbf<meta charset=koi8-r><p>Vi\xe1\xbb\x87t</p>", "windows-1252") == \
        ("<meta charset=koi8-r><p>Việt</p>", "utf-8")
    assert decode_html(b"\xff\xfe" + "<p>Việt</p>".encode("utf-16le"), "windows-1252") == ("<p>Việt</p>", "utf-16le")
    assert decode_html(b"\xfe\xff" + "<p>Việt</p>".encode("utf-16be")) == ("<p>Việt</p>", "utf-16be")


def test_a_label_browsers_refuse_to_decode_gives_no_page():
    with pytest.raises(Undecodable, match="replacement"):
        decode_html(b"<p>\x93x\x94</p>", "iso-2022-kr")
    with pytest.raises(Undecodable, match="replacement"):
        decode_html(b"<meta charset=hz-gb-2312><p>\x93x\x94</p>")
    # (valid UTF-8 is UTF-8 whatever the label: decoding.py's own rule before the declarations)
    assert decode_html("<p>Việt</p>".encode(), "iso-2022-kr") == ("<p>Việt</p>", "utf-8")


# --------------------------------------------------------------------------- no charset in sight
_ENGLISH = ("<p>“It’s not what you think,” she said — and the room went quiet. The café’s "
            "owner, who’d heard it all before, smiled.</p>\n")


@pytest.mark.parametrize("bad", [b"\xff", b"\xed\xa0\x80", b"\xc3", b"\x93"])
def test_utf8_with_stray_bad_bytes_and_no_charset_reads_as_utf8_with_replacement_characters(bad):
    """A mostly-ASCII UTF-8 page (eleven curly quotes and dashes a paragraph) with five bad bytes and no
    charset anywhere: before, detection read it as cp855 or cp775 and every quote turned to mojibake;
    a browser shows the page with U+FFFD where the bad bytes are."""
    paragraphs = [_ENGLISH.encode()] * 5
    data = b"<html><head><title>t</title></head><body>" + bad.join(paragraphs) + b"</body></html>"
    text, encoding = decode_html(data)
    assert encoding == "utf-8"
    assert text.count("“It’s not what you think,”") == 5
    assert text.count("\ufffd") == 4 * len(bad.decode("utf-8", errors="replace"))


def test_a_late_utf8_meta_decides_a_page_with_bad_bytes_and_few_good_ones():
    """Too few good sequences to tell by themselves (one a bad byte): the `<meta charset=utf-8>` at byte
    ~6,000 decides, as it does in a browser."""
    data = (_head_of(6000) + b'<meta charset="utf-8"></head><body><p>caf\xc3\xa9 \xff</p>'
            + b"<p>plain words</p>" * 50 + b"</body></html>")
    text, encoding = decode_html(data)
    assert encoding == "utf-8" and "<p>café \ufffd</p>" in text


def test_a_legacy_page_with_no_charset_is_still_detected():
    """No good UTF-8 sequence: the page is not UTF-8, and charset detection reads it (as before)."""
    data = b"<html><body>" + ("<p>Привет, как дела? Всё хорошо, спасибо.</p>" * 20).encode("windows-1251")
    text, _ = decode_html(data)
    assert "<p>Привет, как дела? Всё хорошо, спасибо.</p>" in text


# --------------------------------------------------------------------------- U+FEFF inside the page
def test_a_bom_inside_the_page_is_dropped():
    """A browser shows nothing of U+FEFF inside a page (UTF-8 files concatenated with their BOMs); to
    trafilatura a tail of one is text. Dropped, whatever the page's encoding; a UTF-8 page is still
    parsed from its bytes, without them (unless dropping one leaves text that is not in NFC)."""
    bom = "\ufeff".encode()
    assert decode_html_source(b"<p>a</p>" + bom + b" <p>Vi\xe1\xbb\x87t</p>" + bom) == \
        ("<p>a</p> <p>Việt</p>", "utf-8", b"<p>a</p> <p>Vi\xe1\xbb\x87t</p>")
    assert decode_html_source("<p>e\ufeff\u0301</p>".encode()) == ("<p>é</p>", "utf-8", None)
    assert decode_html(bom + b"<p>a</p>" + bom + b"<p>b\xff</p>", None)[0] == "<p>a</p><p>b\ufffd</p>"
    assert decode_html(b"<p>\x93x\x94</p>" + bom, "windows-1252")[0] == "<p>“x”</p>ï»¿"  # (not UTF-8: three letters)
    assert decode_html("<p>a\ufeffb</p>")[0] == "<p>ab</p>"
    assert decode_html(b"\xff\xfe" + "<p>a\ufeffb</p>".encode("utf-16le"))[0] == "<p>ab</p>"


def test_a_valid_utf8_page_is_still_parsed_from_its_own_bytes():
    data = "<html><body><p>Việt Nam “x”</p></body></html>".encode()
    assert decode_html_source(data, "utf-8") == (data.decode(), "utf-8", data)
    assert decode_html_source(data, "windows-1258")[2] is data


# --------------------------------------------------------------------------- what the crawl passes
@pytest.mark.parametrize(("content_type", "charset"), [
    (b"text/html; charset=ISO-8859-1", "iso-8859-1"), (b'text/html;charset="utf-8"', "utf-8"),
    (b"text/html; charset=x-user-defined", "x-user-defined"), (b"text/html", None), (None, None),
])
def test_the_crawl_passes_the_header_charset_as_sent_not_scrapys_guess(content_type, charset):
    """Scrapy's `response.encoding` is, with no charset in the header, a guess from the body (here
    `koi8-r`, from the `<meta>`: decoding.py reads the page's own `<meta>` itself, in its order), and
    otherwise a codec name from w3lib's table; the extraction wants what re-extraction reads from the
    WARC: the header's label as sent."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = HtmlResponse("https://example.org/a", body=b"<meta charset=koi8-r><p>\x93x\x94</p>", headers=headers)
    assert header_charset(response) == charset
