"""Extraction: fixture pages → seed-format text equal to the hand-written gold files."""
import dataclasses
import gzip
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest

from archive.extract.article import EXTRACTOR, Article, ExtractionHints, extract_article, render_seed_text
from testbed.fixture_pages import article_pages, gold_for, host_of, page, pages, url_for
from tests.site_hints import HINTS_BY_HOST, NHANDAN_HINTS, THOIDAI_HINTS

GMT7 = timezone(timedelta(hours=7))
N1 = "/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-lien-tuc-phat-trien-post830183.html"
N2 = "/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-post830201.html"
N3 = "/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html"
N_SHORT = "/doan-dai-bieu-tinh-savannakhet-tham-va-lam-viec-tai-quang-tri-post830203.html"
T1 = "/thuc-day-hop-tac-giua-hai-ban-doi-ngoai-trung-uong-viet-nam-va-lao-182579.html"
T2 = "/that-chat-quan-he-mo-rong-hop-tac-chien-luoc-viet-nam-lao-viet-nam-campuchia-211111.html"
T4 = "/giao-luu-huu-nghi-thanh-nien-viet-nam-lao-tai-dien-bien-211206.html"
LEAKS = ("Đọc nhiều", "Tin liên quan", "Tin bài liên quan", "In bài viết", "Phiên bản di động",
         "Đường dẫn bài viết", "ảnh 1", "| Chính trị | Vietnam+", "Sao chép liên kết", "Tags:")


def extract(host: str, path: str, hints=None, **kwargs) -> Article:
    return extract_article(page(host, path).read_bytes(), f"https://{host}{path}",
                           HINTS_BY_HOST[host] if hints is None else hints, **kwargs)


def _id(p):
    return url_for(p).split("://", 1)[1][-48:]


# --------------------------------------------------------------------------- gold
@pytest.mark.parametrize("fixture", article_pages(), ids=_id)
def test_article_matches_gold(fixture):
    article = extract_article(fixture.read_bytes(), url_for(fixture), HINTS_BY_HOST[host_of(fixture)])
    assert article.is_article, article.reason
    assert render_seed_text(article) == gold_for(fixture).read_text("utf-8")


@pytest.mark.parametrize("fixture", article_pages(), ids=_id)
def test_gold_files_are_clean_seed_format(fixture):
    text = gold_for(fixture).read_bytes().decode("utf-8")
    assert text == unicodedata.normalize("NFC", text)
    assert text.endswith("\n") and not text.endswith("\n\n") and "\r" not in text
    assert "\n\n\n" not in text
    assert text.rsplit("\n\n", 1)[1] == f"Nguồn: {url_for(fixture)}\n"
    for leak in LEAKS:
        assert leak not in text
    assert not any(line in ("aa", "Tin liên quan") for line in text.splitlines())


@pytest.mark.parametrize("fixture", article_pages(), ids=_id)
def test_unknown_site_without_hints_still_gets_the_body(fixture):
    """Plain trafilatura + JSON-LD/OG: the same body, minus what only hints know (bylines)."""
    article = extract_article(fixture.read_bytes(), url_for(fixture), None)
    assert article.is_article, article.reason
    gold_blocks = gold_for(fixture).read_text("utf-8").rstrip("\n").split("\n\n")
    got = render_seed_text(article).rstrip("\n").split("\n\n")
    body = gold_blocks[:-2]  # everything but the byline and the Nguồn line
    assert [b for b in got if b in body] == body
    for leak in LEAKS:
        assert leak not in render_seed_text(article)


# --------------------------------------------------------------------------- not articles
LISTINGS = [p for p in pages() if not gold_for(p).exists() and N_SHORT.lstrip("/") not in str(p)]


@pytest.mark.parametrize("fixture", LISTINGS, ids=_id)
@pytest.mark.parametrize("with_hints", [True, False], ids=["hints", "no-hints"])
def test_listing_pages_are_not_articles(fixture, with_hints):
    hints = HINTS_BY_HOST[host_of(fixture)] if with_hints else None
    article = extract_article(fixture.read_bytes(), url_for(fixture), hints)
    assert not article.is_article
    assert "listing" in article.reason


def test_very_short_article_is_not_emitted():
    article = extract("nhandan.vn", N_SHORT)
    assert not article.is_article
    assert article.reason.startswith("too few words")
    assert article.title == "Đoàn đại biểu tỉnh Savannakhet thăm và làm việc tại Quảng Trị"
    assert 20 < article.words < NHANDAN_HINTS.min_words


@pytest.mark.parametrize("body,reason", [
    (b"", "empty body"),
    (b" \r\n\t ", "empty body"),
    ("", "empty body"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary"),
    (b"<html>\x00\x01\x02\x03" + bytes(500), "binary"),
    (bytes(range(256)) * 16, "binary"),
])
def test_empty_or_binary_body_is_not_an_article(body, reason):
    article = extract_article(body, "https://nhandan.vn/x-post1.html", NHANDAN_HINTS)
    assert not article.is_article
    assert reason in article.reason


def test_page_without_title_is_not_an_article():
    html = "<html><body><div class='article__body'>" + "<p>Một đoạn văn khá dài về hợp tác.</p>" * 40 + "</div></body></html>"
    article = extract_article(html, "https://nhandan.vn/x-post1.html", NHANDAN_HINTS)
    assert not article.is_article
    assert article.reason == "no title"


# --------------------------------------------------------------------------- charsets
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _windows_1258(text: str) -> bytes:
    """Encode as windows-1258 does for Vietnamese: base letter + combining tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
        out += (base + "".join(c for c in decomposed if c in _TONE_MARKS)).encode("cp1258")
    return bytes(out)


UTF8_META = b'<meta charset="utf-8">'


@pytest.mark.parametrize("variant", [
    "utf8-declared-windows-1258", "utf8-undeclared", "utf8-http-says-windows-1258",
    "windows-1258-declared", "windows-1258-undeclared", "windows-1258-from-http-header",
    "utf8-nfd", "utf8-bom", "utf8-one-bad-byte-declared-windows-1258", "gzip", "str",
])
def test_charsets_decode_to_the_same_text(variant):
    fixture = page("thoidai.com.vn", T1)
    raw = fixture.read_bytes()
    text = raw.decode("utf-8")
    encoding = None
    data: bytes | str
    if variant == "utf8-declared-windows-1258":
        data = raw.replace(UTF8_META, b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">')
    elif variant == "utf8-undeclared":
        data = raw.replace(UTF8_META, b"")
    elif variant == "utf8-http-says-windows-1258":
        data, encoding = raw.replace(UTF8_META, b""), "windows-1258"
    elif variant == "windows-1258-declared":
        data = _windows_1258(text.replace('<meta charset="utf-8">', '<meta charset="windows-1258">'))
    elif variant == "windows-1258-undeclared":
        data = _windows_1258(text.replace('<meta charset="utf-8">', ""))
    elif variant == "windows-1258-from-http-header":
        data, encoding = _windows_1258(text.replace('<meta charset="utf-8">', "")), "windows-1258"
    elif variant == "utf8-nfd":
        data = unicodedata.normalize("NFD", text).encode("utf-8")
    elif variant == "utf8-bom":
        data = b"\xef\xbb\xbf" + raw
    elif variant == "utf8-one-bad-byte-declared-windows-1258":
        data = raw.replace(UTF8_META, b'<meta charset="windows-1258">').replace(b"</head>", b"<!-- \xff --></head>")
    elif variant == "gzip":
        data = gzip.compress(raw)
    else:
        data = text
    article = extract_article(data, url_for(fixture), THOIDAI_HINTS, encoding=encoding)
    assert article.is_article, article.reason
    assert render_seed_text(article) == gold_for(fixture).read_text("utf-8")


# --------------------------------------------------------------------------- metadata
def test_metadata_of_a_nhandan_article():
    article = extract("nhandan.vn", N2)
    assert article.canonical_url == "https://nhandan.vn" + N2
    assert article.published == datetime(2024, 9, 12, 9, 30, tzinfo=GMT7)
    assert article.published.utcoffset() == timedelta(hours=7)
    assert article.date_line == "09:30 | 12/09/2024"
    assert article.author == "THU HÀ"
    assert article.category == "Chính trị"
    assert article.tags == ["Việt Nam - Lào"]
    assert article.language == "vi"
    assert article.images == [{
        "src": "https://image.nhandan.vn/w800/Uploaded/2024/synthetic/2024_09_12/hoi-nghi-hop-tac-giao-duc.jpg",
        "caption": "Quang cảnh hội nghị đánh giá kết quả hợp tác giáo dục Việt Nam - Lào. (Ảnh: TTXVN)"}]
    assert "(Ảnh: TTXVN)" in article.paragraphs[2]
    # words: whitespace tokens with a letter or digit (a lone "-" is not a word)
    assert article.words == sum(1 for t in article.text.split() if any(c.isalnum() for c in t)) == 384


def test_site_wide_default_byline_is_never_the_author():
    # JSON-LD author is the paper (an Organization), meta author is "Báo Nhân Dân điện tử".
    assert extract("nhandan.vn", N1).author is None
    assert extract_article(page("nhandan.vn", N1).read_bytes(), "https://nhandan.vn" + N1, None).author \
        == "Báo Nhân Dân điện tử"  # without hints nothing says it is a default


def test_date_only_in_json_ld():
    page_bytes = page("nhandan.vn", N3).read_bytes()
    assert b"article:published_time" not in page_bytes and b"<time" not in page_bytes
    article = extract("nhandan.vn", N3)
    assert article.published == datetime(2024, 9, 13, 16, 45, tzinfo=GMT7)
    assert article.date_line == "16:45 | 13/09/2024"


def test_utc_metadata_date_is_shown_in_gmt7():
    page_bytes = page("thoidai.com.vn", T2).read_bytes()
    assert b'content="2024-11-07T00:00:00Z"' in page_bytes
    assert extract("thoidai.com.vn", T2).date_line == "07:00 | 07/11/2024"


def test_date_from_visible_text_only():
    page_bytes = page("thoidai.com.vn", T1).read_bytes()
    assert b"2023-02-22" not in page_bytes and b"datePublished" not in page_bytes
    article = extract("thoidai.com.vn", T1)
    assert article.published == datetime(2023, 2, 22, 18, 29, tzinfo=GMT7)
    without_hints = extract_article(page_bytes, "https://thoidai.com.vn" + T1, None)
    assert without_hints.date_line == "18:29 | 22/02/2023"


def test_date_text_with_gmt_suffix():
    html = page("thoidai.com.vn", T4).read_text("utf-8").replace(
        '<meta property="article:published_time" content="2024-11-10T09:15:00+07:00">', "")
    article = extract_article(html, "https://thoidai.com.vn" + T4, THOIDAI_HINTS)
    assert article.date_line == "09:15 | 10/11/2024"


def test_json_ld_with_raw_newlines_and_trailing_commas():
    html = """<html lang="vi"><head><title>x</title>
    <script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "Trang"},
      {"@type": ["NewsArticle"], "headline": "Hợp tác &quot;Việt - Lào&quot;
    bền vững", "datePublished": "2024-05-01T01:02:03+00:00",
       "author": [{"@type": "Person", "name": "Lan Anh"}, {"@type": "Person", "name": "Minh Đức"}],
       "articleSection": ["Thế giới"], "keywords": ["Lào", "Hợp tác"],}
    ]}</script></head><body><article>""" + "<p>Hai nước tiếp tục hợp tác chặt chẽ trên nhiều lĩnh vực quan trọng.</p>" * 20 + \
        "</article></body></html>"
    article = extract_article(html, "https://example.vn/a-1.html")
    assert article.title == 'Hợp tác "Việt - Lào" bền vững'
    assert article.date_line == "08:02 | 01/05/2024"
    assert article.author == "Lan Anh, Minh Đức"
    assert article.category == "Thế giới"
    assert article.tags == ["Lào", "Hợp tác"]


def test_headline_and_dateline_echoed_at_top_of_body_are_removed():
    body = "".join(f"<p>Đoạn văn số {i} nói về quan hệ hữu nghị đặc biệt giữa hai nước Việt Nam và Lào.</p>"
                   for i in range(12))
    html = f"""<html lang="vi"><head><meta charset="utf-8"><title>t</title></head><body>
    <h1 class="article-detail-title">Tiêu đề bài viết</h1>
    <span class="article-detail-date">10:00 | 01/03/2024</span>
    <div class="__MASTERCMS_CONTENT"><p>Tiêu đề bài viết</p><p>10:00 | 01/03/2024 GMT+7</p><p>aa</p>
    {body}<p>In bài viết</p><p>Theo TTXVN</p></div>
    <div class="article-detail-author">Theo TTXVN</div></body></html>"""
    article = extract_article(html, "https://thoidai.com.vn/x-123.html", THOIDAI_HINTS)
    assert article.is_article, article.reason
    assert article.paragraphs[0].startswith("Đoạn văn số 0")
    assert article.paragraphs[-1].startswith("Đoạn văn số 11")
    assert article.author == "Theo TTXVN"


def test_doubled_teaser_lines_are_dropped_without_hints():
    teaser = "Việt Nam - Lào trao đổi nhiều vấn đề quốc tế"
    body = "".join(f"<p>Đoạn văn số {i} nói về quan hệ hữu nghị đặc biệt giữa hai nước Việt Nam và Lào.</p>"
                   for i in range(12))
    html = f"""<html lang="vi"><head><meta charset="utf-8"><title>Tin</title>
    <meta property="og:type" content="article"><meta property="og:title" content="Tin bài"></head>
    <body><article><h1>Tin bài</h1>{body[:400]}<p>{teaser} {teaser}</p>{body[400:]}</article></body></html>"""
    article = extract_article(html, "https://example.vn/tin-1.html")
    assert article.is_article
    assert not any(teaser in p for p in article.paragraphs)


def test_foreign_canonical_is_not_trusted():
    html = page("thoidai.com.vn", T1).read_text("utf-8").replace(
        '<link rel="canonical" href="https://thoidai.com.vn',
        '<link rel="canonical" href="https://www.vietnamplus.vn/elsewhere-post1.vnp" data-x="')
    article = extract_article(html, "http://thoidai.com.vn" + T1 + "?utm_source=fb", THOIDAI_HINTS)
    assert article.canonical_url == "https://thoidai.com.vn" + T1


def test_same_site_canonical_wins_over_fetched_url():
    article = extract("nhandan.vn", N2)
    fetched = extract_article(page("nhandan.vn", N2).read_bytes(),
                              "http://nhandan.vn/amp" + N2 + "?utm_source=zalo", NHANDAN_HINTS)
    assert fetched.canonical_url == article.canonical_url == "https://nhandan.vn" + N2
    assert render_seed_text(fetched) == render_seed_text(article)


# --------------------------------------------------------------------------- hints, rendering
def test_hints_are_data_and_check_their_selectors():
    hints = ExtractionHints(title="h1.x", drop=["div.a", "div.b"])
    assert hints.title == ("h1.x",) and hints.drop == ("div.a", "div.b")
    with pytest.raises(ValueError, match="invalid CSS selector"):
        ExtractionHints(body=("div[",))
    with pytest.raises(ValueError):
        ExtractionHints(min_words=-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hints.title = ()
    assert {f.name for f in dataclasses.fields(ExtractionHints)} == {
        "drop", "title", "lead", "body", "date", "date_formats", "author", "category", "tags",
        "captions", "ignore_authors", "min_words"}


def test_render_seed_text_leaves_out_missing_blocks():
    article = Article(url="https://nhandan.vn/a-post1.html", canonical_url="https://nhandan.vn/a-post1.html",
                      title="Tiêu đề", paragraphs=["Đoạn một\ncó xuống dòng.", "  Đoạn hai.  "])
    assert render_seed_text(article) == \
        "Tiêu đề\n\nĐoạn một có xuống dòng.\n\nĐoạn hai.\n\nNguồn: https://nhandan.vn/a-post1.html\n"


def test_render_seed_text_is_nfc():
    decomposed = unicodedata.normalize("NFD", "Hợp tác Việt Nam - Lào")
    article = Article(url="u", canonical_url="https://x.vn/", title=decomposed, paragraphs=[decomposed],
                      date_line="01:02 | 03/04/2024", lead=decomposed, author=decomposed)
    text = render_seed_text(article)
    assert text == unicodedata.normalize("NFC", text)
    assert text.count("\n\n") == 5


def test_extractor_identity_for_the_manifest():
    assert EXTRACTOR["name"] == "trafilatura"
    import trafilatura

    assert EXTRACTOR["version"] == trafilatura.__version__
    assert EXTRACTOR["options"]["favor_precision"] is True
    assert EXTRACTOR["options"]["include_comments"] is False


def test_truncated_description_is_replaced_by_the_full_sapo_without_hints():
    sapo = ("Ngày 5/7, Thủ tướng Chính phủ nước Cộng hòa Dân chủ Nhân dân Lào cùng đoàn đại biểu cấp cao "
            "Chính phủ Lào đã có chuyến thăm và làm việc tại Việt Nam.")
    body = "".join(f"<p>Đoạn văn số {i} nói về quan hệ hữu nghị đặc biệt giữa hai nước Việt Nam và Lào.</p>"
                   for i in range(12))
    html = f"""<html lang="vi"><head><meta charset="utf-8"><title>Tin</title>
    <meta property="og:type" content="article"><meta name="description" content="{sapo[:90]}...">
    </head><body><article><h1>Tin bài</h1><p>{sapo}</p>{body}</article></body></html>"""
    article = extract_article(html, "https://example.vn/tin-2.html")
    assert article.lead == sapo
    assert article.paragraphs[0].startswith("Đoạn văn số 0")


def test_nhandan_time_text_is_parsed_when_no_iso_date_is_left():
    html = page("nhandan.vn", N2).read_text("utf-8")
    html = html.replace('"datePublished": "2024-09-12T09:30:00+07:00",', "").replace(
        '<meta property="article:published_time" content="2024-09-12T09:30:00+07:00">', "").replace(
        ' datetime="2024-09-12T09:30:00+0700"', "")
    assert "2024-09-12T" not in html.replace('"dateModified": "2024-09-12T09:30:00+07:00"', "")
    html = html.replace('"dateModified": "2024-09-12T09:30:00+07:00"', '"x": 1')
    article = extract_article(html, "https://nhandan.vn" + N2, NHANDAN_HINTS)
    assert article.date_line == "09:30 | 12/09/2024"  # from "Thứ Năm, 12/09/2024 - 09:30"


def test_extraction_trees_have_lxml_html_element_classes():
    """archive/extract/html_parser.py picks element classes in C: each node of a parsed page, and
    of a copy of it (trafilatura works on copies), has the class lxml.html's own parser gives it."""
    import copy

    import lxml.html

    from archive.extract.article import parse_page

    page = ("<html><head><title>t</title></head><body><form action=x><input name=a><select><option>o</option>"
            "</select><textarea>t</textarea><label>l</label></form><!-- c --><p>p &amp; <b>b</b></p></body></html>")
    expected = [type(node) for node in lxml.html.document_fromstring(page).iter()]
    tree = parse_page(page, "https://example.org/").tree
    assert [type(node) for node in tree.iter()] == expected
    assert [type(node) for node in copy.copy(tree).iter()] == expected
    assert {cls.__name__ for cls in expected} >= {"FormElement", "InputElement", "SelectElement", "TextareaElement",
                                                  "LabelElement", "HtmlComment", "HtmlElement"}


_ODD_PAGES = [
    "<html><head><meta charset='windows-1258'></head><body><p>Việt Nam ầ</p></body></html>",
    "<html><head><meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'></head><body>é</body></html>",
    "<meta charset=utf-16><p>Việt</p>", "<p>\x01\x0b\x0c\x7f\x80\x9f controls</p>" + "<p>x</p>" * 300 + "<p>a\x00b</p>",
    "<p>\ufeff mid-text BOM \ufffe \uffff \U0001F600 𝔘</p>", "<p>a\r\nb\rc</p>", "é ÿ latin-1 only", "plain <b>x",
    "<p>&#0; &#x80; &#xD800; &nbsp; &amp;</p>", "<div>" * 300 + "deep", "<?xml-stylesheet href='a'?><p>x</p>",
    "<!DOCTYPE html><!-- c --><html><p>x</p></html><!-- after -->", "<p>ア漢字한국어</p>",
]


def test_a_utf8_page_is_parsed_from_its_bytes_into_the_tree_its_text_gives():
    """parse_page reads a UTF-8 page in NFC from its own bytes (UTF8_HTML_PARSER) instead of the
    decoded text: the same document, node for node, on every fixture and eval page and on odd
    markup (other declared charsets, controls, NULs, non-characters, astral characters)."""
    from pathlib import Path

    import lxml.html
    from lxml import etree

    from archive.extract.article import parse_page
    from archive.extract.decoding import XML_DECLARATION, decode_html_source
    from archive.extract.html_parser import HTML_PARSER

    fixtures = Path(__file__).parent / "fixtures"
    bodies = [p.read_bytes() for p in sorted((fixtures / "web").rglob("*.html"))]
    bodies += [gzip.decompress(p.read_bytes()) for p in sorted((fixtures / "eval-generic" / "html").glob("*.gz"))]
    bodies += [text.encode("utf-8") for text in _ODD_PAGES]
    from_bytes = 0
    for body in bodies:
        text, _, source = decode_html_source(body)
        # (a few eval pages are not in NFC; a page with a U+FEFF inside is parsed from its bytes without it)
        assert (source is body) == (text == body.decode("utf-8"))
        assert source is None or source.decode("utf-8") == text
        from_bytes += source is not None
        tree = parse_page(body, "https://example.org/").tree
        expected = lxml.html.document_fromstring(XML_DECLARATION.sub("", text, count=1), parser=HTML_PARSER)  # as before
        assert etree.tostring(tree.getroottree()) == etree.tostring(expected.getroottree())
        assert [type(node) for node in tree.iter()] == [type(node) for node in expected.iter()]
        # and the document lxml.html's own parser gives (it keeps a table of the `id`s, which ours do not)
        default = lxml.html.document_fromstring(XML_DECLARATION.sub("", text, count=1))
        assert etree.tostring(tree.getroottree()) == etree.tostring(default.getroottree())
        assert [type(node) for node in tree.iter()] == [type(node) for node in default.iter()]
    assert from_bytes > 0.9 * len(bodies)
    # Text that is not its bytes' strict UTF-8 decoding in NFC is parsed from the text, as before.
    assert decode_html_source("e\u0301".encode())[2] is None  # NFC composes it
    assert decode_html_source(b"\xef\xbb\xbf<p>x</p>")[2] is None  # a BOM
    assert decode_html_source(b"<p>caf\xe9 \xe0 la carte, d\xe9j\xe0 vu</p>")[2] is None  # not UTF-8
    assert parse_page(b"<?xml version='1.0' encoding='utf-8'?><p>x</p>", "https://example.org/").tree is not None


def test_the_parsed_page_keeps_no_table_of_ids_which_only_xpath_id_reads():
    """Our parsers do not collect the `id`s (html_parser.py): XPath's `id()` is what differs from
    lxml.html's parser, and no XPath of trafilatura's calls it."""
    import re

    import lxml.html
    from trafilatura import xpaths

    from archive.extract.article import parse_page

    page = b"<html><body><div id='main'><p id='lead'>x</p></div></body></html>"
    assert parse_page(page, "https://example.org/").tree.xpath("id('lead')") == []
    assert [el.tag for el in lxml.html.document_fromstring(page).xpath("id('lead')")] == ["p"]
    paths = [x.path for name in dir(xpaths) if isinstance(getattr(xpaths, name), list)
             for x in getattr(xpaths, name) if hasattr(x, "path")]
    assert len(paths) > 30 and not any(re.search(r"(?<![\w@-])id\s*\(", path) for path in paths)


def test_the_captions_are_looked_for_only_when_a_paragraph_comes_twice():
    """tidy_paragraphs keeps a repeated caption once and a repeated paragraph that is no caption;
    it asks for the page's captions (a whole-page walk) only once a paragraph repeats."""
    from archive.extract.body import tidy_paragraphs

    asked = []

    def captions():
        asked.append(1)
        return {"(Ảnh: TTXVN)"}

    paragraphs = ["Đoạn một của bài.", "(Ảnh: TTXVN)", "Đoạn hai.", "(Ảnh: TTXVN)", "Đoạn ba.", "Đoạn hai.",
                  "(Ảnh: TTXVN)"]
    tidy = dict(title="Tiêu đề", lead=None, author=None, date_texts=set(), captions=captions)
    assert tidy_paragraphs(paragraphs, **tidy) == ["Đoạn một của bài.", "(Ảnh: TTXVN)", "Đoạn hai.", "Đoạn ba.",
                                                   "Đoạn hai."]
    assert asked == [1]
    asked.clear()
    assert tidy_paragraphs(["Đoạn một.", "Đoạn hai.", "(Ảnh: TTXVN)"], **tidy) == ["Đoạn một.", "Đoạn hai.",
                                                                                 "(Ảnh: TTXVN)"]
    assert asked == []


def test_a_line_too_long_for_a_widget_label_is_told_without_casefolding_it():
    """`_is_boilerplate` casefolds a line only when it could be one of the labels: what it answers is
    what comparing the casefolded, stripped line answers, on labels, their spellings and paddings,
    paragraphs and random lines; and the facts it rests on hold for every code point of the running
    Python (casefolding makes each character one or more, none but a whitespace or colon a
    whitespace or colon; a printable whitespace character is the space)."""
    import random
    import sys

    from archive.extract import body

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        folded = char.casefold()
        assert folded, hex(code)
        if not char.isspace() and char != ":":
            assert not any(c.isspace() or c == ":" for c in folded), hex(code)
        if char.isspace() and char.isprintable():
            assert char == " ", hex(code)

    def reference(line: str) -> bool:
        return line.casefold().rstrip(":").strip() in body._BOILERPLATE_LINES

    rng = random.Random(9)
    labels = sorted(body._BOILERPLATE_LINES)
    lines = [*labels, *(label.upper() + " :" for label in labels), *(f"  {label}:\t" for label in labels),
             "Tin liên quan::", "ẞ" * 30, "ﬁ" * 13, "Xem thêm " * 40, " " * 200 + "tags", ":" * 90 + "aa",
             "Hà Nội, ngày 12/3, Đảng và Nhà nước đã tổ chức lễ kỷ niệm trọng thể."]
    alphabet = [*"aA ẞß:ﬁ\t\u00a0İı", "tags", "Đọc thêm", "\u0130"]
    lines += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(20_000)]
    for line in lines:
        assert (not body._too_long_for_a_label(line) and reference(line)) == reference(line), line
