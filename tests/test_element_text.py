"""`text_content` (archive/extract/text.py) is lxml.html's `text_content()`, read from `text` when an
element has no children and written by libxml2's text serializer when it has (session 22): the same
string on every element of the fixture and eval pages (parsed as the worker parses them, from the
UTF-8 bytes, and from text) and on markup where the two could part (comments, processing
instructions, entities, CDATA-like script text, empty and whitespace-only elements, CR, astral and
East Asian characters, nesting)."""
from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from archive.eval_generic import load_pages
from archive.extract.article import parse_page
from archive.extract.html_parser import HTML_PARSER
from archive.extract.text import text_content
from testbed.fixture_pages import pages, url_for

EVAL = Path(__file__).parent / "fixtures" / "eval-generic"


def _elements(html):
    return [el for el in lxml.html.document_fromstring(html, parser=HTML_PARSER).iter() if isinstance(el.tag, str)]


def test_every_element_of_the_fixture_and_eval_pages():
    htmls = [p.read_bytes() for p in pages()] + [p.html for p in load_pages(EVAL)]
    checked = childless = 0
    for html in htmls:
        for el in _elements(html):
            assert text_content(el) == el.text_content()
            checked += 1
            childless += len(el) == 0
    assert checked > 60_000 and childless > 30_000 and checked - childless > 20_000  # both paths, many times


def test_every_element_of_the_pages_as_the_worker_parses_them():
    parents = 0
    for html, url in [(p.read_bytes(), url_for(p)) for p in pages()] + [
            (p.html, p.url) for p in load_pages(EVAL)]:
        tree = parse_page(html, url).tree
        if tree is None:
            continue
        for el in tree.iter():
            if isinstance(el.tag, str):
                got = text_content(el)
                assert got == el.text_content() and type(got) is str
                parents += len(el) > 0
    assert parents > 20_000


@pytest.mark.parametrize("markup", [
    "<p></p>", "<p> </p>", "<p>\n\t x \xa0</p>", "<p>a<!-- c -->b</p>", "<p><!-- only --></p>", "<p>a<?pi x?>b</p>",
    "<p>&amp;&lt;&#x1F600;&nbsp;</p>", "<p>a<br>b</p>", "<p>a<b></b></p>", "<p><b>x</b>tail</p>",
    "<script>if (a < b) { x = '</p>'; }</script>", "<style>p::after { content: '&amp;' }</style>",
    "<textarea>  raw &amp; text </textarea>", "<p>Một câu tiếng Việt. 中文。한국어</p>",
    "<p>a<span>&#13;b\r\nc</span>\U0001F600<i>\U00020000</i></p>", "<p><b><i><u>deep</u>er</i></b> end</p>",
    "<ul><li>one<li>two <!-- c --> three</ul>", "<p>x<span></span><span> </span>y</p>",
])
def test_edge_markup(markup):
    for el in _elements(f"<html><body><div>{markup}</div>tail</body></html>"):
        assert text_content(el) == el.text_content(), lxml.html.tostring(el)
