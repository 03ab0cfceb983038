"""Through the crawl: pages whose charset a browser reads otherwise than Python's codecs, served from
127.0.0.1. The crawl's extraction and `python -m archive extract` of its archive decode them the same
way, as a browser does (archive/extract/decoding.py, charsets.py); the WARC holds the bytes as sent.

- a real page (no site profile) turned into windows-1252 bytes, served as `charset=iso-8859-1` with
  no `<meta charset>`: a browser shows curly quotes; Latin-1 would make them C1 controls (and did in
  `archive extract`, which reads the header's label; the crawl read Scrapy's `cp1252` instead);
- the same page in UTF-8 with five bad bytes, no charset in the header and its `<meta charset>` at
  byte ~6,000: a browser shows UTF-8 with five U+FFFD; the crawl passed Scrapy's guess (`cp1252`,
  which decodes any bytes) and the corpus had `â€œ` for every opening quote."""
from __future__ import annotations

import re

import pytest

from archive.extract.article import extract_article
from archive.extract.render import render_seed_text
from tests.conftest import crawled_and_rebuilt
from tests.test_xml_chars import NYT, _after_end_tags, _page

_META = re.compile(rb"<meta[^>]*charset[^>]*>", re.I)


def _windows_1252(html: bytes) -> bytes:
    """The page as windows-1252 bytes, its `<meta charset>` gone (what it cannot say goes as references)."""
    return _META.sub(b"", html).decode("utf-8").encode("cp1252", errors="xmlcharrefreplace")


def _crawled(tmp_path, served: bytes, content_type: str) -> tuple[str, str]:
    """(the corpus file's text, `archive extract`'s text) for the page served at NYT."""
    return crawled_and_rebuilt(tmp_path, NYT, served, content_type)


@pytest.mark.parametrize("label", ["iso-8859-1", "latin1", "us-ascii"])
def test_a_page_served_as_latin1_is_read_as_windows_1252_by_the_crawl_and_by_archive_extract(tmp_path, label):
    html, hints = _page(NYT)
    expected = render_seed_text(extract_article(html, NYT, hints))
    assert "“" in expected and "’" in expected
    crawled, rebuilt = _crawled(tmp_path, _windows_1252(html), f"text/html; charset={label}")
    assert crawled == rebuilt == expected


def test_a_utf8_page_with_bad_bytes_and_no_charset_in_the_header_is_read_as_utf8(tmp_path):
    html, hints = _page(NYT)
    expected = render_seed_text(extract_article(html, NYT, hints))
    served = _after_end_tags(html, b"\xff", at_most=5)
    assert served.find(b"charset") > 4096
    crawled, rebuilt = _crawled(tmp_path, served, "text/html")
    assert crawled == rebuilt
    assert "â€" not in crawled and crawled.count("“") == expected.count("“")
    assert [line.replace("\ufffd", "").strip() for line in crawled.splitlines()] == \
        [line.strip() for line in expected.splitlines()]
