"""Text helpers every extraction step shares: one clean line of NFC text, an element's text,
a reader's word count. Why here: metadata, body and rendering must clean text the same way,
or the same sentence compares unequal across them."""
from __future__ import annotations

import html as htmlmod
import re
import unicodedata

from lxml import etree

from archive.extract.page_gate import reading_words
from archive.extract.xml_chars import DROPPED_ILLEGAL

__all__ = ["WORD", "clean", "nfc", "text_content", "text_of", "word_count"]


WORD = re.compile(r"\w+")
# A regex, not str.translate: translate with a dict looks up every character in Python (~10x slower
# on a Vietnamese paragraph), and most text has none of these. With them, the characters XML does not
# allow that Python does not read as whitespace (a NUL, `\x01`–`\x08`, `\x0e`–`\x1b`, a lone surrogate,
# U+FFFE, U+FFFF: xml_chars.py's `DROPPED_ILLEGAL`): no output line holds one; the whitespace ones (`\x0b`, `\x0c`,
# `\x1c`–`\x1f`) become a space in `split()`.
_INVISIBLE = re.compile(f"[\u200b\u200c\u200d\u2060\ufeff\u00ad{DROPPED_ILLEGAL}]")
_TOSTRING = etree.tostring


def clean(text: str | None, *, unescape: bool = False) -> str:
    """One line of NFC text with collapsed whitespace and no invisible characters.

    `unescape` is for JSON-LD strings, which CMSs often fill with HTML
    entities; text from the parsed DOM is already unescaped.
    """
    if not text:
        return ""
    if unescape and "&" in text:
        text = htmlmod.unescape(text)
    if _is_clean(text):  # (a line cleaned before: the rendering cleans the article's lines again)
        return text
    return " ".join(nfc(_INVISIBLE.sub("", text)).split())  # split() = \s+, in C


def _is_clean(text: str) -> bool:
    """Whether `clean` leaves `text` as it is, told without splitting it: printable (no whitespace
    but the space, and no invisible character: `str.isprintable` excludes every other whitespace
    and format character), single spaces inside only, and NFC."""
    return (text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "
            and unicodedata.is_normalized("NFC", text))


def text_content(el: etree._Element) -> str:
    """`el.text_content()` (lxml.html: the string value of an element); for an element without
    children (a plain paragraph, a teaser's summary, a link's title), its `text`: the same string
    without an XPath evaluation (~3 µs a call); for an element with children, libxml2's text
    serializer without the tail, which writes the same string (both read the element's text nodes
    with xmlNodeGetContent's walk) without the XPath's set-up (~1.5 against ~2.6 µs a container
    of a bench page: the inline-related finder reads ~75 a page). (Only an element has children:
    a comment, a processing instruction cannot.)"""
    if len(el) == 0:
        return el.text or ""
    return _TOSTRING(el, method="text", encoding=str, with_tail=False)


def text_of(el: etree._Element) -> str:
    return clean(el.text_content() if hasattr(el, "text_content") else "".join(el.itertext()))


def word_count(text: str) -> int:
    """Words as a reader counts them (CJK-aware: one per Chinese/Japanese character)."""
    return reading_words(text)



def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
