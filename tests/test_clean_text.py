"""`clean` (archive/extract/text.py) returns a text it would leave unchanged without cleaning it again
(`_is_clean`): the same line as the full cleaning on generated text of every kind of space, invisible
character, combining mark and character NFC changes, and on every line of the fixture and eval pages."""
from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import lxml.html

from archive.eval_generic import load_pages
from archive.extract.text import _INVISIBLE, _is_clean, clean, nfc
from testbed.fixture_pages import pages

EVAL = Path(__file__).parent / "fixtures" / "eval-generic"
SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]
# Characters NFC composes, decomposes or reorders, and the invisible ones `clean` deletes.
ODD = ["e\u0301", "\u0301", "\u0323\u0302", "\u0302\u0323", "\u212b", "\u2126", "\u2000", "\u1100\u1161", "\u1161",
       "\uf900", "\u0344", "\u0958", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "&amp;", "ệ", "Đ", "中"]


def _cleaned_in_full(text: str | None) -> str:
    return " ".join(nfc(_INVISIBLE.sub("", text)).split()) if text else ""


def test_clean_is_the_full_cleaning_on_generated_text():
    rnd = random.Random(16)
    words = ["Một", "câu", "x", "2024", "-", "."] + ODD
    texts = ["", " ", "a", "a ", " a", "a  b", "a\xa0b", "a\u3000b", "a\nb", "a b", "a\u0301 b", " \u0301a"]
    texts += [space.join(("a", "b")) for space in SPACES] + [space for space in SPACES]
    for _ in range(20_000):
        texts.append("".join(rnd.choice(words) + (rnd.choice(SPACES) if rnd.random() < 0.2 else " " * rnd.randint(0, 2))
                             for _ in range(rnd.randint(1, 12))))
    for text in texts:
        cleaned = clean(text)
        assert cleaned == _cleaned_in_full(text), repr(text)
        assert clean(cleaned) == cleaned and (not cleaned or _is_clean(cleaned)), repr(text)
        assert clean(text, unescape=True) == _cleaned_in_full(text.replace("&amp;", "&")), repr(text)


def test_clean_is_the_full_cleaning_on_every_text_of_the_pages():
    htmls = [p.read_bytes() for p in pages()] + [p.html for p in load_pages(EVAL)]
    checked = unchanged = 0
    for html in htmls:
        for el in lxml.html.document_fromstring(html).iter():
            for text in (el.text, el.tail):
                if text:
                    cleaned = clean(text)
                    assert cleaned == _cleaned_in_full(text)
                    assert clean(cleaned) == cleaned
                    checked += 1
                    unchanged += cleaned == text
    assert checked > 10_000 and unchanged > 1_000


def test_a_clean_text_is_in_nfc_with_single_spaces():
    for text in ("a b", "Một câu.", "中文", "a\u0301", "e\u0301 b", "a  b", " a", "a ", "a\tb", "a\u200bb"):
        assert _is_clean(text) == (text == " ".join(text.split()) and unicodedata.is_normalized("NFC", text)
                                   and _INVISIBLE.search(text) is None)


def test_clean_unescapes_first_then_tells_a_clean_text():
    """JSON-LD strings are unescaped before the test: an entity of an invalid code point unescapes to
    nothing (an empty text is clean), others to spaces, controls or invisible characters."""
    import html

    for text in ("&#1;", "a&#1;", "&#1; a", "&nbsp;a", "a&#32;&#32;b", "&#x200b;", "&amp;amp;", "&#xD800;", "&lt;b&gt;",
                 "Tin&#8203; m&#7899;i", "&#9;x&#10;"):
        assert clean(text, unescape=True) == _cleaned_in_full(html.unescape(text)), text
