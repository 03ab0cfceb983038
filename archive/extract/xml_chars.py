"""Characters XML does not allow, in a page's text: told apart, and taken out of a parsed tree.

Why: real CMS text carries them (a Word paste's vertical tab `\\x0b`, a form feed, a stray NUL, a
`&#x0b;` reference, U+FFFE). libxml2's HTML parser keeps them in the tree, but lxml refuses any
string holding one when it is *set* as an element's text, tail or attribute ("All strings must be
XML compatible"): trafilatura joining a tail to its neighbour when it deletes an element, or
lxml.html's `drop_tree`, then raises, and the page lost its whole body. Looking for them in every
page first would cost every page a scan (a regex ~0.45 ms a 140 KB page, `bytes.translate` ~0.06 ms,
and `&#x0b;` references besides: more than the extraction may spend on a check), and the parser does
not report them; lxml's refusal itself tells which pages need cleaning, so the extraction cleans a
fresh tree only then (archive/extract/article.py `article_of`). No Scrapy here.
"""
from __future__ import annotations

import re

from lxml import etree

__all__ = ["DROPPED_ILLEGAL", "SPACE_ILLEGAL", "XML_ILLEGAL", "RefusedCharacter", "holds_xml_illegal", "refused_by_lxml",
           "xml_safe", "xml_safe_tree"]

# XML 1.0's `Char` production, negated: C0 controls but tab, LF and CR; UTF-16 surrogates (a lone
# one is all a Python string can hold); U+FFFE and U+FFFF. Exactly what lxml refuses to set
# (tests/test_xml_chars.py checks every code point of the BMP but the surrogates, which lxml refuses
# with a UnicodeEncodeError and no parsed tree holds). DEL and the C1 controls are allowed (and kept).
# Two parts, as character-class bodies (text.py's `clean` drops the first part in its own regex):
# those Python does not read as whitespace, dropped; those it does (`str.split` separates words at
# them: a Word line break `\x0b` between two words), which become a space.
DROPPED_ILLEGAL = "\x00-\x08\x0e-\x1b\ud800-\udfff\ufffe\uffff"
SPACE_ILLEGAL = "\x0b\x0c\x1c-\x1f"
XML_ILLEGAL = re.compile(f"[{DROPPED_ILLEGAL}{SPACE_ILLEGAL}]")
_SPACES = re.compile(f"[{SPACE_ILLEGAL}]")

_LXML_REFUSAL = "All strings must be XML compatible"


def xml_safe(text: str) -> str:
    """`text` without XML-illegal characters: those Python reads as whitespace turned into a space."""
    return XML_ILLEGAL.sub("", _SPACES.sub(" ", text))


class RefusedCharacter(ValueError):
    """A step gave up on a tree because lxml refused an XML-illegal character of it (raised where the
    refusal itself was caught and taken for "no text", as trafilatura's `bare_extraction` does)."""


def refused_by_lxml(exc: BaseException) -> bool:
    """Whether `exc` is lxml refusing a string that holds an XML-illegal character (or says so)."""
    return isinstance(exc, RefusedCharacter) or (isinstance(exc, ValueError) and str(exc).startswith(_LXML_REFUSAL))


def holds_xml_illegal(tree: etree._Element) -> bool:
    """Whether any text, tail or attribute value of `tree` holds an XML-illegal character (one
    serialization of its text, in C, and its attribute values: ~0.3 ms a news page; asked only when
    an extraction found nothing)."""
    if XML_ILLEGAL.search(etree.tostring(tree, method="text", encoding="unicode")):
        return True
    return any(XML_ILLEGAL.search(value) for value in tree.xpath("//@*"))


def xml_safe_tree(tree: etree._Element) -> etree._Element:
    """Take XML-illegal characters out of every text, tail, attribute value, comment and processing
    instruction of `tree`, in place (`xml_safe`); returns `tree`. Elements, their order and every
    other character stay as parsed."""
    for node in tree.iter():
        if node.text and XML_ILLEGAL.search(node.text):
            node.text = xml_safe(node.text)
        if node.tail and XML_ILLEGAL.search(node.tail):
            node.tail = xml_safe(node.tail)
        if isinstance(node.tag, str):
            for name, value in node.attrib.items():
                if XML_ILLEGAL.search(value):
                    node.set(name, xml_safe(value))
    return tree
