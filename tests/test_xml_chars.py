"""Characters XML does not allow never cost a page its body (archive/extract/xml_chars.py, session 22).

A Word paste's `\\x0b` (or any C0 control, U+FFFE, a `&#x0b;` reference) in a tail next to an element
trafilatura deletes made lxml refuse the merged tail, and the page came out with no body at all."""
from __future__ import annotations

import gzip
import re
from pathlib import Path
from unittest import mock

import lxml.html
import pytest

from archive.extract import article as article_mod, xml_chars
from archive.extract.article import extract_article, parse_page
from archive.extract.decoding import decode_html
from archive.extract.render import render_seed_text
from archive.extract.text import clean
from archive.extract.xml_chars import XML_ILLEGAL, holds_xml_illegal, refused_by_lxml, xml_safe, xml_safe_tree
from archive.sites import profile_for
from archive.sites.generic import generic_profile

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "tests" / "fixtures" / "web"
THOIDAI = "https://thoidai.com.vn/hoi-cho-thuong-mai-viet-nam-lao-2025-thu-hut-hon-300-gian-hang-211420.html"
NHANDAN = ("https://nhandan.vn/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-"
           "lien-tuc-phat-trien-post830183.html")
NYT = "https://www.nytimes.com/2019/11/19/opinion/republicans-elections-impeachment.html"
NYT_ID = "04a6711caa7c687592777718866e781e976e0fe684faebe8b3cedcef8cd0ea34"


def _page(url: str) -> tuple[bytes, object]:
    """(the page's bytes, the hints a crawl extracts it with)."""
    if url == NYT:
        return gzip.decompress((REPO / "tests" / "fixtures" / "eval-generic" / "html" / f"{NYT_ID}.html.gz")
                               .read_bytes()), generic_profile(url).extraction
    return (WEB / url.split("://", 1)[1]).read_bytes(), profile_for(url).extraction


def _after_end_tags(html: bytes, stray: bytes, at_most: int | None = None) -> bytes:
    """`stray` put right after every end tag of the body that a space follows (or `at_most` of them,
    evenly spread): at the start of the tails trafilatura joins to a neighbour when it deletes the
    element before them."""
    start = html.find(b"<body")
    ends = [m.end() for m in re.compile(rb"</[a-z0-9]+>(?= )").finditer(html, start)]
    if at_most is not None:
        ends = ends[::max(1, len(ends) // at_most)][:at_most]
    for end in reversed(ends):
        html = html[:end] + stray + html[end:]
    return html


def _shown(article) -> tuple:
    return (article.is_article, article.reason, article.title, article.lead, article.author, article.category,
            article.tags, article.paragraphs, article.images, article.published, article.words, article.language,
            article.canonical_url)


def _extracted_again(html: bytes, url: str, hints, encoding: str | None = None) -> tuple[object, int]:
    """The article, and how many times the extraction took the characters out of a fresh tree."""
    real, calls = xml_chars.xml_safe_tree, []
    with mock.patch.object(article_mod, "xml_safe_tree", side_effect=lambda tree: calls.append(1) or real(tree)):
        article = extract_article(html, url, hints, encoding=encoding)
    return article, len(calls)


# --------------------------------------------------------------------------- the characters
def test_xml_illegal_is_exactly_what_lxml_refuses_to_set():
    """Every code point of the BMP and a few astral ones: lxml refuses it as text, tail or attribute
    exactly when `XML_ILLEGAL` matches it, and `refused_by_lxml` recognises the refusal (surrogates,
    which lxml refuses with a UnicodeEncodeError, are left to the decoding: no tree holds one)."""
    element = lxml.html.fromstring("<p>a</p>")
    for code in [*range(0xD800), *range(0xE000, 0x10000), 0x1FFFE, 0x10FFFF, 0x1F600]:
        text = f"a{chr(code)}b"
        for setter in (lambda: setattr(element, "text", text), lambda: setattr(element, "tail", text),
                       lambda: element.set("title", text)):
            try:
                setter()
                refused = None
            except ValueError as exc:
                refused = exc
            assert (refused is not None) == bool(XML_ILLEGAL.search(text)), hex(code)
            assert refused is None or refused_by_lxml(refused), (hex(code), refused)
    assert not refused_by_lxml(ValueError("something else")) and not refused_by_lxml(TypeError("All strings"))


def test_xml_safe_turns_the_whitespace_ones_into_a_space_and_drops_the_rest():
    assert xml_safe("a\x0bb\x0cc\x1cd\x1fe") == "a b c d e"
    assert xml_safe("a\x00b\x01c\x08d\x0ee\x1bf\ufffeg\uffffh\ud800i") == "abcdefghi"
    kept = "tab\t lf\n cr\r del\x7f c1\x80\x85\x9f nbsp\xa0 bom\ufeff astral\U0001fffe\U0001F600 ừ"
    assert xml_safe(kept) == kept


def test_clean_leaves_no_xml_illegal_character_in_a_line():
    """`clean` (every output line passes it) drops them; the whitespace ones separate words."""
    for code in [*range(0x20), 0xFFFE, 0xFFFF, 0xD800, 0xDFFF]:
        line = clean(f"Việt{chr(code)}Nam và Lào")
        assert not XML_ILLEGAL.search(line), hex(code)
        assert line in ("Việt Nam và Lào", "ViệtNam và Lào"), (hex(code), line)
    assert clean("a\x0bb") == "a b" and clean("a\x01b") == "ab"


def test_xml_safe_tree_cleans_texts_tails_attributes_and_comments_in_place():
    tree = lxml.html.document_fromstring(
        "<html><body><p title='t\x0bi&#1;'>a&#x0b;b<span>x</span>\x01 tail &#xFFFE;</p><!-- c\x02 --></body></html>")
    assert holds_xml_illegal(tree)
    assert xml_safe_tree(tree) is tree
    p = tree.find(".//p")
    assert (p.get("title"), p.text, p[0].tail) == ("t i", "a b", " tail ")
    assert tree.find(".//body")[-1].text == " c "
    assert not holds_xml_illegal(tree)
    p[0].drop_tree()  # lxml.html's drop_tree joins the tail: refused before the cleaning
    assert p.text == "a b tail "


def test_holds_xml_illegal_reads_attributes_too():
    assert holds_xml_illegal(lxml.html.fromstring("<div><img alt='a\x0bb'></div>"))
    assert not holds_xml_illegal(lxml.html.fromstring("<div title='\x7f\x85'><p>\t a\xa0b\ufeff</p></div>"))


# --------------------------------------------------------------------------- extraction
_REFUSED = [b"\x0b", b"\x01", b"\x1f", "\ufffe".encode(), "\uffff".encode(), b"&#x0b;", b"&#xFFFF;", b"&#1;",
            b"&#x1B;"]


@pytest.mark.parametrize("stray", _REFUSED, ids=repr)
@pytest.mark.parametrize("url", [THOIDAI, NYT], ids=["thoidai (profile)", "real page (no profile)"])
def test_a_page_with_xml_illegal_characters_keeps_its_body(url, stray):
    """Next to deleted elements they made lxml refuse the merged tail (the page lost its body or
    extraction raised); now the page is read again from a tree without them, and its article is
    the clean page's, field for field."""
    html, hints = _page(url)
    clean_article = extract_article(html, url, hints)
    assert clean_article.is_article
    article, retries = _extracted_again(_after_end_tags(html, stray), url, hints)
    if url == NYT and stray in (b"\x0b", b"\x1f", b"&#x0b;"):
        assert retries == 0  # (whitespace trafilatura trims before it joins any tail of this page)
    elif stray not in (b"\x0b", b"\x1f", b"&#x0b;"):
        assert retries == 1
    assert _shown(article) == _shown(clean_article)
    assert not XML_ILLEGAL.search(render_seed_text(article))


def test_the_thoidai_page_with_a_word_paste_vertical_tab_is_read_again():
    html, hints = _page(THOIDAI)
    article, retries = _extracted_again(_after_end_tags(html, b"\x0b"), THOIDAI, hints)
    assert retries == 1 and article.is_article and article.words == extract_article(html, THOIDAI, hints).words


_BOM, _BAD_UTF8 = "\ufeff".encode(), (b"\xff", b"\xed\xa0\x80")


@pytest.mark.parametrize("stray", [b"\x00", b"\x7f", "\x85".encode(), "\x93".encode(), _BOM, *_BAD_UTF8,
                                   b"&#0;", b"&#xD800;", b"&#x80;", b"&#x110000;"], ids=repr)
@pytest.mark.parametrize("url", [THOIDAI, NHANDAN, NYT], ids=["thoidai", "nhandan", "real page"])
def test_other_strays_keep_the_body_and_leave_no_xml_illegal_character(url, stray):
    """A NUL (read as U+FFFD), DEL, C1 controls (XML allows them: kept as they are), a BOM, bad UTF-8
    bytes, references to NUL, a surrogate or past U+10FFFF, five of them in the body: the same words
    once those characters are set aside (the real page has no charset in the first 4 KB and few
    non-ASCII letters: its good UTF-8 sequences say UTF-8, with a U+FFFD for each bad byte)."""
    html, hints = _page(url)
    clean_article = extract_article(html, url, hints)
    article, retries = _extracted_again(_after_end_tags(html, stray, at_most=5), url, hints)
    assert retries == 0
    assert not XML_ILLEGAL.search(render_seed_text(article))
    strays = re.compile("[\x7f\x80-\x9f\ufffd\ufeff€]")
    words = strays.sub("", " ".join(article.text.split())).split()
    if stray == _BOM:  # dropped in decoding (trafilatura read a tail of a BOM as text: paragraphs came twice)
        assert _shown(article) == _shown(clean_article)
    assert article.is_article and len(article.paragraphs) == len(clean_article.paragraphs)
    assert words == strays.sub("", " ".join(clean_article.text.split())).split()


def test_bad_utf8_bytes_in_a_mostly_ascii_page_with_no_charset_in_sight_read_as_utf8():
    """Five bad bytes, 163 non-ASCII letters, `<meta charset>` after the first 4 KB and no HTTP charset:
    charset detection used to decide (a Cyrillic code page: every curly quote turned to mojibake). Now
    the page's good UTF-8 sequences, and its late `<meta charset>`, say UTF-8, as a browser reads it:
    the clean page's paragraphs, with a U+FFFD where a bad byte was."""
    html, hints = _page(NYT)
    clean_article = extract_article(html, NYT, hints)
    article = extract_article(_after_end_tags(html, b"\xff", at_most=5), NYT, hints)
    assert article.is_article and article.encoding == "utf-8"
    assert [p.replace("\ufffd", "").strip() for p in article.paragraphs] == clean_article.paragraphs


def test_a_nul_in_the_head_of_a_page_does_not_make_it_binary():
    """One stray NUL in the first 2 KB (a page's `<title>`) made the whole page 'binary body'."""
    html, hints = _page(THOIDAI)
    nul = html.replace(b"<title>", b"<title>\x00", 1)
    assert html.index(b"<title>") < 2048
    article = extract_article(nul, THOIDAI, hints)
    assert article.is_article and article.paragraphs == extract_article(html, THOIDAI, hints).paragraphs
    assert "binary" in extract_article(b"<html>" + bytes(200) + b"<p>x</p>" * 10, THOIDAI, hints).reason


def test_a_lone_surrogate_in_a_callers_text_no_longer_ends_the_page():
    text = "<html><body><p>trước\ud800 sau</p><p>đoạn cuối</p></body></html>"
    assert decode_html(text)[0] == text.replace("\ud800", "\ufffd")
    tree = parse_page(text, "https://example.org/a").tree
    assert [p.text_content() for p in tree.iter("p")] == ["trước\ufffd sau", "đoạn cuối"]


def test_the_crawl_workers_path_reads_the_page_again_too():
    """`archive.extract.pool._analyse` (what a crawl's worker runs): the same article as the clean page."""
    from archive.extract import pool
    from bench.worker_profile import spec_for

    html, hints = _page(THOIDAI)
    spec = spec_for(profile_for(THOIDAI), generic=False)
    clean_article = pool._analyse(html, THOIDAI, hints, None, spec, True)[0]
    article, fingerprint, reading = pool._analyse(_after_end_tags(html, b"\x0b"), THOIDAI, hints, None, spec, True)
    assert _shown(article) == _shown(clean_article) and fingerprint is not None and reading.links
