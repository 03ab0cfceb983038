"""Functions trafilatura (and lxml under it) runs, replaced by ones that compute the same
result with less work, while our extraction runs (`trafilatura_fast.faster_trafilatura`).

Each stand-in is used only when the source of the code it relies on is the one it was written
for (`FUNCTION_STAND_INS`: sha256 of that source), so an upgraded trafilatura or lxml runs its
own. What each one saves, on a page of a host with no profile (docs/performance.md, sessions
11 and 12):
- `text_content`: lxml.html's runs the XPath `string()`, whose per-call set-up costs ~1.3 µs
  of its ~1.7; libxml2's text serializer gives the same string (both read the element with
  xmlNodeGetContent's walk) in ~0.4. trafilatura and readability call it ~300 times a page.
- readability's `score_paragraphs` measures each element's text length once (a link sits under
  its paragraph's parent and grandparent: ~470 lengths of ~210 elements a page); nothing
  changes the tree while it scores.
"""
from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable

import lxml.html
from lxml import etree
from trafilatura import readability_lxml

__all__ = ["FUNCTION_STAND_INS", "installable"]

_TOSTRING = etree.tostring
_TEXT_CONTENT = lxml.html.HtmlMixin.text_content


def _text_content(self) -> str:
    """`HtmlMixin.text_content`: the XPath `string()` of an element is what the text serializer
    writes of it without its tail (libxml2's xmlNodeGetContent and xmlNodeBufGetContent, one
    walk of its text nodes)."""
    if self.tag.__class__ is str:
        return _TOSTRING(self, method="text", encoding=str, with_tail=False)
    return _TEXT_CONTENT(self)  # a comment, processing instruction, entity: as before (XPath refuses them)


_SCORE_PARAGRAPHS = readability_lxml.Document.score_paragraphs
_TEXT_LENGTH = readability_lxml.text_length


def _memo_lengths(self) -> dict:
    """readability's `score_paragraphs`, with each element's text length measured once."""
    lengths: dict[etree._Element, int] = {}  # (holding the element keeps its proxy, so its identity)

    def text_length(elem: etree._Element) -> int:
        length = lengths.get(elem)
        if length is None:
            length = lengths[elem] = _TEXT_LENGTH(elem)
        return length
    readability_lxml.text_length = text_length
    try:
        return _SCORE_PARAGRAPHS(self)
    finally:
        readability_lxml.text_length = _TEXT_LENGTH


def _source_digest(parts: tuple) -> str | None:
    """sha256 (16 hex digits) of the source of `parts` (functions, or text as it is), None where
    it cannot be read (an install without sources)."""
    try:
        source = "".join(part if isinstance(part, str) else inspect.getsource(part) for part in parts)
    except (OSError, TypeError):
        return None
    return hashlib.sha256(source.encode()).hexdigest()[:16]


_DOCUMENT = readability_lxml.Document

# (owner, attribute, stand-in, the code it relies on, sha256 of that code's source (16 hex digits))
FUNCTION_STAND_INS: tuple[tuple[object, str, Callable, tuple, str], ...] = (
    (lxml.html.HtmlMixin, "text_content", _text_content,
     (_TEXT_CONTENT, lxml.html._collect_string_content.path), "645b3947ddfa2cdd"),
    # `score_paragraphs` changes nothing in the tree and reads lengths only through
    # `get_link_density` → `text_length`.
    (_DOCUMENT, "score_paragraphs", _memo_lengths,
     (readability_lxml.text_length, _DOCUMENT.score_paragraphs, _DOCUMENT.get_link_density,
      _DOCUMENT.score_node, _DOCUMENT.class_weight), "d64a99e35156894a"),
)


def installable() -> list[tuple[object, str, Callable, Callable]]:
    """(owner, attribute, original, stand-in) of each stand-in whose code is the one it was
    written for."""
    return [(owner, attribute, getattr(owner, attribute), stand_in)
            for owner, attribute, stand_in, relied_on, digest in FUNCTION_STAND_INS
            if _source_digest(relied_on) == digest]
