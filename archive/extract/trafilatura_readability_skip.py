"""readability left out of trafilatura's comparison when its text is too short to be chosen.

With favor_precision, after its own extraction trafilatura runs readability on the raw page
(`external.compare_extraction`) and takes readability's body instead of its own only when
`_prefer_readability` says so. With an own text of `L > 0` characters in a body with paragraph
text and no more tables than paragraphs, that needs readability's text (trimmed: words joined by
one space) to be longer than `2 L`. On a page of a profiled host trafilatura reads the article
body alone (~35 % of its call is readability there): its own text is nearly all the tree holds.

An upper bound of readability's text, read off the tree it is given: readability's output is
made of the tree's own nodes (moved, dropped, `<div>`s retagged `<p>`, text moved into new `<p>`s;
the one text it writes, "VIDEO", goes into an `<iframe>`), serialized as XML and parsed again by
lxml.html with trafilatura's parser, which drops comments and processing instructions. The XML
serializer escapes `<`, `>` and `&` in text, so the parse gives back the same characters (fewer,
where it drops blank text or joins CR LF) unless an element reads its content as raw text
(libxml2 2.14: `script`, `style`, `iframe`, `noembed`, `noframes`, `plaintext`, `xmp`; `textarea`
and `title` as RCDATA, tested tag by tag) or a comment or processing instruction could come back
as text. readability drops every `script` and `style` before anything else. So on a tree with
none of the others (any letter case) and no comment, processing instruction or entity, every
character of readability's text comes from a distinct character of the tree's text, and those
that are not whitespace from ones that are not a space, tab or newline (the serializer writes
those three as they are and the parser keeps them as whitespace). With `N` such characters in
the tree, readability's trimmed text has at most `N` non-whitespace characters and `N - 1`
spaces: `2 N - 1`. When `N <= L`, readability cannot be chosen (`2 N - 1 < 2 L`), and trafilatura
goes on exactly as when readability finds nothing (its text length 0): the same body and text.
Nothing reads the raw tree readability would have changed (with favor_precision it is trafilatura's
own copy, or a copy of it). Only one debug log line differs (readability's length, 0).

Used only while our extraction runs (`faster_trafilatura`), and only when the code this relies
on is the code it was written for (sha256 of its source and libxml2's version).
"""
from __future__ import annotations

import threading
from string import ascii_lowercase, ascii_uppercase

from lxml import etree
from lxml.html import HtmlElement
from trafilatura import core, external, readability_lxml, utils

from archive.extract.trafilatura_fast_functions import nonspace_characters

__all__ = ["READABILITY_SKIP_STAND_INS", "readability_text_bound"]

_COMPARE_EXTRACTION = external.compare_extraction
_TRY_READABILITY = external.try_readability

# Elements whose content libxml2's HTML parser reads as raw text (or RCDATA), but `script` and
# `style`, which readability drops first; matched in any letter case (the tokenizer lowercases tags).
_RAW_TEXT_TAGS = ("iframe", "noembed", "noframes", "plaintext", "textarea", "title", "xmp")
_UNSAFE = etree.XPath(
    "boolean(//comment() | //processing-instruction() | //*[contains("
    f"'|{'|'.join(_RAW_TEXT_TAGS)}|', concat('|', translate(name(), '{ascii_uppercase}', '{ascii_lowercase}'), '|'))])")
# (a name holding '|' can only match more names than these: it is then left to readability)

_LIMIT = threading.local()  # `.text_length`: this thread's own text length, for the readability call it is comparing


def readability_text_bound(tree: etree._Element) -> int | None:
    """At most how many non-whitespace characters readability's text of `tree` holds (after
    trafilatura's round trip through XML); None when the tree holds what could make more."""
    if _UNSAFE(tree) or next(tree.iter(etree.Entity), None) is not None:
        return None
    return nonspace_characters(etree.tostring(tree, method="text", encoding="utf-8"))


def _compare_extraction(cleaned_tree, raw_tree, body, text, options):
    """`external.compare_extraction`, telling `_try_readability` the own text's length when a body
    like this one is kept against any readability text of at most twice that length."""
    deficient = not body.xpath(".//p//text()") or len(body.findall(".//table")) > len(body.findall(".//p"))
    _LIMIT.text_length = len(text) if options.focus == "precision" and text and not deficient else None
    try:
        return _COMPARE_EXTRACTION(cleaned_tree, raw_tree, body, text, options)
    finally:
        _LIMIT.text_length = None


def _try_readability(htmlinput):
    """`external.try_readability`, or what it gives on failure (an empty element) when its text
    could not be chosen."""
    limit, _LIMIT.text_length = getattr(_LIMIT, "text_length", None), None
    if limit is not None:
        bound = readability_text_bound(htmlinput)
        if bound is not None and bound <= limit:
            return HtmlElement()
    return _TRY_READABILITY(htmlinput)


_DOCUMENT = readability_lxml.Document
_RELIED_ON = (_COMPARE_EXTRACTION, external._prefer_readability, _TRY_READABILITY, utils.fromstring_bytes,
              _DOCUMENT.summary, _DOCUMENT.get_article, _DOCUMENT.sanitize, _DOCUMENT.transform_misused_divs_into_paragraphs,
              _DOCUMENT.remove_unlikely_candidates, core._extract_and_compare, f"libxml2 {etree.LIBXML_VERSION}")

# (owner, attribute, stand-in, the code it relies on, sha256 of that code's source (16 hex digits)), as
# trafilatura_fast_functions.FUNCTION_STAND_INS
READABILITY_SKIP_STAND_INS = (
    (core, "compare_extraction", _compare_extraction, _RELIED_ON, "0f2d4b59dee33d3d"),
    (external, "try_readability", _try_readability, _RELIED_ON, "0f2d4b59dee33d3d"),
)
