"""Functions trafilatura (and lxml under it) runs, replaced by ones that compute the same
result with less work, while our extraction runs (`trafilatura_fast.faster_trafilatura`).

Each stand-in is used only when the source of the code it relies on is the one it was written
for (`FUNCTION_STAND_INS`: sha256 of that source), so an upgraded trafilatura or lxml runs its
own. What each one saves, on a page of a host with no profile (docs/performance.md, sessions
11 and 12):
- `text_content`: lxml.html's runs the XPath `string()`, whose per-call set-up costs ~1.3 µs
  of its ~1.7; libxml2's text serializer gives the same string (both read the element with
  xmlNodeGetContent's walk) in ~0.4. trafilatura and readability call it ~300 times a page.
- readability's `text_length` (and `score_paragraphs`'s own lengths) counted on the element's
  UTF-8 text in C (`trimmed_length`) instead of splitting it into words to join them: the
  blocks it measures hold ~60,000 characters a page (they nest: three times the page's text).
- readability's `score_paragraphs` measures each element's text length once (a link sits under
  its paragraph's parent and grandparent: ~470 lengths of ~210 elements a page); nothing
  changes the tree while it scores. A node's own score (its tag and `class_weight`'s regular
  expressions on its class and id) is computed once per distinct tag, class and id (session 14).
- readability's `remove_unlikely_candidates` passes over an element with neither class nor id
  without building the string it tests (~40 % of a page's elements).
- readability's `sanitize` serializes each block it weighs once (its commas, its length and its link
  density's total read off the one UTF-8 text) instead of three times (session 22).
- readability's best candidate found with the link densities of only the candidates that could be it
  (`best_candidate_first`, for trafilatura_readability_skip.py, which then may not need the others':
  session 23; ~1 of ~80 candidates weighed on a bench page of a host with no profile).
"""
from __future__ import annotations

import hashlib
import inspect
import re
from collections import Counter
from collections.abc import Callable
from operator import attrgetter

import lxml.html
from lxml import etree
from trafilatura import readability_lxml, utils

from archive.extract.text import text_content

__all__ = ["FUNCTION_STAND_INS", "best_candidate_first", "installable", "nonspace_characters", "source_digest"]

_TOSTRING = etree.tostring
_TEXT_CONTENT = lxml.html.HtmlMixin.text_content


def _text_content(self) -> str:
    """`HtmlMixin.text_content`: the XPath `string()` of an element is what the text serializer
    writes of it without its tail (libxml2's xmlNodeGetContent and xmlNodeBufGetContent, one
    walk of its text nodes), or its `text` when it has no children: text.py's `text_content`."""
    if self.tag.__class__ is str:
        return text_content(self)
    return _TEXT_CONTENT(self)  # a comment, processing instruction, entity: as before (XPath refuses them)


# What `str.split()` and `str.strip()` take for whitespace: the characters for which `str.isspace()`
# is true (tested against every code point).
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# The others, in UTF-8 (a whole character: its first byte is never part of another), and what every text
# holding one holds: the first byte c2, e2 or e3, or U+1680's last two (a quick test, true for many texts
# without one: `“` is \xe2\x80\x9c).
_WIDE_SPACE = re.compile(b"|".join(re.escape(c.encode()) for c in WHITESPACE if ord(c) >= 0x80))
WIDE_SPACE_HINTS = (b"\xc2", b"\xe2", b"\xe3", b"\x9a\x80")
_OGHAM = WIDE_SPACE_HINTS[3]
_OGHAM_FIRST = _OGHAM[:1]  # (one byte: `find` finds it at memchr's speed; the pair is looked for only then)
# A UTF-8 byte's class: b" " ASCII whitespace, b"c" a continuation byte (not a character of its own), b"h" a
# first byte of the hints, b"x" the first byte of another character (not whitespace).
_HINT_FIRST_BYTES = {hint[0] for hint in WIDE_SPACE_HINTS if len(hint) == 1}
_CLASSES = bytes(b" "[0] if i < 0x80 and chr(i) in WHITESPACE else b"c"[0] if 0x80 <= i < 0xC0
                 else b"h"[0] if i in _HINT_FIRST_BYTES else b"x"[0] for i in range(256))
_CLASSES_NO_HINT = _CLASSES.replace(b"h", b"x")  # once the wide spaces are replaced: a hint is a character


def trimmed_length(text: bytes) -> int:
    """`len(trim(text.decode()))` (trafilatura.utils.trim: the words joined by one space) of UTF-8
    text, counted in C: its characters that are not whitespace, plus one between each two words.
    A long text (readability measures the whole text of every block holding a paragraph, ~80,000
    bytes a generic page) is not split into thousands of words to be joined and counted."""
    classes = text.translate(_CLASSES)
    # (`find`, not `in`: `bytes in bytes` first tries its operand as an int, and the TypeError it makes and
    # drops costs ~900 instructions, two a call, ~1,300 calls a generic page)
    if classes.find(b"h") != -1 or (text.find(_OGHAM_FIRST) != -1 and _OGHAM in text):  # maybe a wide space: each made " "
        classes = _WIDE_SPACE.sub(b" ", text).translate(_CLASSES_NO_HINT)
    words = classes.count(b" x") + (classes[:1] == b"x")
    if not words:
        return 0
    return classes.count(b"x") + words - 1  # (the non-whitespace characters: their first bytes)


_SPACE_OR_CONTINUATION = b" \t\n" + bytes(range(0x80, 0xC0))


def nonspace_characters(text: bytes) -> int:
    """How many characters of UTF-8 text are not a space, a tab or a newline (the first bytes of the
    others: a continuation byte is never a character's first)."""
    return len(text.translate(None, _SPACE_OR_CONTINUATION))


_READABILITY_TEXT_LENGTH = readability_lxml.text_length


def _text_length(elem) -> int:
    """readability's `text_length`, `len(trim(elem.text_content()))`, from the element's UTF-8 text."""
    if elem.tag.__class__ is str:
        return trimmed_length(_TOSTRING(elem, method="text", encoding="utf-8", with_tail=False))
    return _READABILITY_TEXT_LENGTH(elem)  # (raises, as `text_content` does on a comment)


def _paragraph_scores(self) -> dict:
    """readability's `score_paragraphs` up to the link densities: the candidates (each paragraph's parent
    and grandparent) and their scores before their link density scales them. Each paragraph's length is
    counted on its UTF-8 text and its commas counted there (`len(trim(text).split(","))` is the commas + 1:
    trim removes only whitespace). The same candidates, scored with the same operations in the same order:
    the same floats."""
    candidates = {}
    # A node's score before its paragraphs count (`score_node`: its tag's score and `class_weight`, which
    # reads its class and id only) by those three values: a page repeats a few dozen of them.
    node_scores: dict[tuple, float] = {}

    def score_node(node: etree._Element) -> readability_lxml.Candidate:
        get = node.get
        key = (node.tag, get("class"), get("id"))
        score = node_scores.get(key)
        if score is None:
            score = node_scores[key] = self.score_node(node).score
        return readability_lxml.Candidate(score, node)

    for elem in self.doc.iter("p", "pre", "td"):
        parent_node = elem.getparent()
        if parent_node is None:
            continue
        grand_parent_node = parent_node.getparent()

        text = _TOSTRING(elem, method="text", encoding="utf-8", with_tail=False)
        elem_text_len = trimmed_length(text)

        # discard too short paragraphs
        if elem_text_len < self.min_text_length:
            continue

        for node in (parent_node, grand_parent_node):
            if node is not None and node not in candidates:
                candidates[node] = score_node(node)

        score = 1 + (text.count(b",") + 1) + min((elem_text_len / 100), 3)

        candidates[parent_node].score += score
        if grand_parent_node is not None:
            candidates[grand_parent_node].score += score / 2
    return candidates


def _weigh_links(candidates, length_of: Callable[[etree._Element], int]) -> None:
    """Each candidate's score scaled by its link density (`get_link_density`, written out: its length and
    its links' as `text_length` counts them, `length_of` measuring each element once). A candidate without
    links is scaled by 1.0 (`1 - 0 / total`, whatever its length: an int score becomes a float, as there),
    its own length unmeasured. `findall(".//a")` is lxml's `iterdescendants("a")` (ElementPath's `.//a`)."""
    for candidate in candidates:
        elem = candidate.elem
        link_length = sum(map(length_of, elem.iterdescendants("a")))
        candidate.score *= 1 - link_length / (length_of(elem) or 1) if link_length else 1.0


def _score_paragraphs(self) -> dict:
    """readability's `score_paragraphs` (`_paragraph_scores`, then `_weigh_links`): each paragraph's length
    counted on its UTF-8 text, each element's length measured once for the link densities (nothing changes
    the tree while it scores)."""
    candidates = _paragraph_scores(self)
    _weigh_links(candidates.values(), _Lengths().__getitem__)
    return candidates


_SCORE = attrgetter("score")


def best_candidate_first(self) -> tuple[dict, readability_lxml.Candidate | None, Callable[[], None]]:
    """`score_paragraphs` and then `select_best_candidate`, with the link densities weighed first only for
    the candidates that could be the best: (the candidates, the best, a function weighing the others),
    the others' scores read as before their link density until that function is called.

    A link density scales a score by `1 - l / t` (`l`, the links' length, is not negative): at most 1, so a
    score `s >= 0` can only fall (a factor below 0 makes it at most 0), while one below 0 could rise: those
    are weighed first, then the others from the highest score down, until the next one's score is below
    the best weighed. Whatever the others' factors, none of them can reach the best then, so the best is
    the first highest in the dict's order among the weighed, as `max` finds it among all. In floats too:
    the product's rounding is monotonic and the factor is at most 1.0. The factors are computed as in
    `_score_paragraphs` (each from the tree alone, which nothing changes), so the others' scores are the
    same whenever they are weighed. A bench page of a host with no profile weighs one of its ~78
    candidates, where its navigation's lengths are most of the scoring's cost."""
    candidates = _paragraph_scores(self)
    length_of = _Lengths().__getitem__
    weighed = [c for c in candidates.values() if c.score < 0]
    waiting = sorted((c for c in candidates.values() if c.score >= 0), key=_SCORE, reverse=True)  # (before weighing)
    _weigh_links(weighed, length_of)
    best = max(map(_SCORE, weighed), default=None)
    at = 0
    while at < len(waiting) and (best is None or waiting[at].score >= best):
        candidate = waiting[at]
        _weigh_links((candidate,), length_of)
        best = candidate.score if best is None else max(best, candidate.score)
        at += 1
    chosen = {id(c) for c in waiting[:at]}.union(map(id, weighed))
    best_candidate = max((c for c in candidates.values() if id(c) in chosen), key=_SCORE, default=None)

    def weigh_others() -> None:
        _weigh_links(waiting[at:], length_of)
    return candidates, best_candidate, weigh_others


class _Lengths(dict):
    """Elements' text lengths as `_text_length` counts them, each measured once (the dict holds the
    element, so its proxy, so its identity)."""

    def __missing__(self, elem: etree._Element) -> int:
        length = self[elem] = _text_length(elem)
        return length


def _remove_unlikely_candidates(self) -> None:
    """readability's `remove_unlikely_candidates`: the same elements (every element below the root,
    listed first) tested in the same order with the same verdicts by value, without building the
    joined string of an element with neither class nor id (~40 % of a page's elements: `attrs` is ''
    then, which the original passes over, as shorter than 2 characters), and without testing the
    elements below one it drops (session 22: ~a third of a generic page's). The original goes on with
    them, in the subtree it has just detached from the document: what it drops there changes only that
    subtree, which nothing reads (the list is dropped with it at the end), and the verdicts are a pure
    function of the attributes. The list is in document order, so an element's descendants are the
    entries right after it; none has been tested or changed yet when it is dropped (an earlier drop
    takes a subtree and moves a tail, never into this one), so they are as many as it has now."""
    regexes = readability_lxml.REGEXES
    unlikely, maybe = regexes["unlikelyCandidatesRe"].search, regexes["okMaybeItsACandidateRe"].search
    frame_tags = readability_lxml.FRAME_TAGS
    verdicts: dict[str, bool] = {}
    elements = list(self.doc.iterdescendants("*"))  # (what `findall(".//*")` lists, without ElementPath)
    at, end = 0, len(elements)
    while at < end:
        elem = elements[at]
        at += 1
        get = elem.get
        class_, id_ = get("class"), get("id")
        if class_ and id_:
            attrs = class_ + " " + id_
        elif class_ or id_:
            attrs = class_ or id_
            if len(attrs) < 2:
                continue
        else:
            continue
        if elem.tag in frame_tags:
            continue
        verdict = verdicts.get(attrs)
        if verdict is None:
            low = attrs.lower()
            verdict = verdicts[attrs] = bool(unlikely(low)) and not maybe(low)
        if verdict:
            for _ in elem.iterdescendants("*"):  # (their proxies are the list's: nothing made)
                at += 1
            elem.drop_tree()


def _sanitize(self, node: etree._Element, candidates: dict) -> str:
    """readability's `sanitize`, each block it weighs serialized once: its text's commas (`,` is one
    byte in UTF-8: the same count as in `text_content()`), its length (`text_length`) and its link
    density's total (`get_link_density` measures the block's `text_length` again, written out here)
    read off the one UTF-8 text, taken where the first of the three was (nothing changes the tree
    between them). The same blocks dropped, in the same order, for the same reasons."""
    log = readability_lxml.LOGGER
    for header in list(node.iter("h1", "h2", "h3", "h4", "h5", "h6")):
        if self.class_weight(header) < 0 or self.get_link_density(header) > 0.33:
            header.drop_tree()

    for elem in list(node.iter("form", "textarea")):
        elem.drop_tree()

    for elem in list(node.iter("iframe")):
        if "src" in elem.attrib and readability_lxml.REGEXES["videoRe"].search(elem.attrib["src"]):
            elem.text = "VIDEO"
        else:
            elem.drop_tree()

    for elem in reversed(list(node.iter("table", "ul", "div", "aside", "header", "footer", "section"))):
        weight = self.class_weight(elem)
        score = candidates[elem].score if elem in candidates else 0
        if weight + score < 0:
            log.debug("Removed %s with score %6.3f and weight %-3s", elem.tag, score, weight)
            elem.drop_tree()
            continue
        text = _TOSTRING(elem, method="text", encoding="utf-8", with_tail=False)
        if text.count(b",") >= 10:
            continue
        to_remove = True
        counts = Counter(e.tag for e in elem.iterdescendants(*readability_lxml.TEXT_CLEAN_ELEMS))
        counts["li"] -= 100
        counts["input"] -= len(elem.findall('.//input[@type="hidden"]'))

        content_length = trimmed_length(text)
        link_density = sum(_text_length(link) for link in elem.findall(".//a")) / (content_length or 1)
        if counts["p"] and counts["img"] > 1 + counts["p"] * 1.3:
            reason = f"too many images ({counts['img']})"
        elif counts["li"] > counts["p"] and elem.tag not in readability_lxml.LIST_TAGS:
            reason = "more <li>s than <p>s"
        elif counts["input"] > (counts["p"] / 3):
            reason = "less than 3x <p>s than <input>s"
        elif content_length < self.min_text_length and counts["img"] == 0:
            reason = f"too short content length {content_length} without a single image"
        elif content_length < self.min_text_length and counts["img"] > 2:
            reason = f"too short content length {content_length} and too many images"
        elif link_density > (0.5 if weight >= 25 else 0.2):
            reason = f"too many links {link_density:.3f} for its weight {weight}"
        elif (counts["embed"] == 1 and content_length < 75) or counts["embed"] > 1:
            reason = "<embed>s with too short content length, or too many <embed>s"
        elif not content_length:
            reason = "no content"
            nearest = (
                next((n for sib in sibs if (n := _text_length(sib))), 0)
                for sibs in (elem.itersiblings(), elem.itersiblings(preceding=True))
            )
            to_remove = sum(nearest) <= 1000
        else:
            to_remove = False

        if to_remove:
            elem.drop_tree()
            log.debug("Removed %6.3f %s with weight %s cause it has %s.", score, elem.tag, weight, reason or "")

    return readability_lxml.tostring(node, encoding=str, method="xml")


def source_digest(parts: tuple) -> str | None:
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
    (readability_lxml, "text_length", _text_length,
     (_READABILITY_TEXT_LENGTH, utils.trim, _TEXT_CONTENT, lxml.html._collect_string_content.path), "b3bdf6726341a379"),
    # (`get_link_density` is written out in it, its lengths as `text_length` counts them; `score_node`
    # and `class_weight` change nothing in the tree, and read only the node's tag, class and id)
    (_DOCUMENT, "score_paragraphs", _score_paragraphs,
     (_READABILITY_TEXT_LENGTH, utils.trim, _DOCUMENT.score_paragraphs, _DOCUMENT.get_link_density,
      _DOCUMENT.score_node, _DOCUMENT.class_weight, readability_lxml.Candidate, f"lxml {etree.LXML_VERSION}"),
     "bd7f83ecbe3e1179"),
    # (`findall(".//*")` is lxml's ElementPath, compiled: its version stands for its source)
    (_DOCUMENT, "remove_unlikely_candidates", _remove_unlikely_candidates,
     (_DOCUMENT.remove_unlikely_candidates, f"lxml {etree.LXML_VERSION}"), "a9d8e0d20954d303"),
    # (`get_link_density` written out for the blocks, its lengths as `text_length` counts them; the
    # siblings' lengths by `text_length` too; `text_content` as `_text_content` reads it)
    (_DOCUMENT, "sanitize", _sanitize,
     (_DOCUMENT.sanitize, _DOCUMENT.get_link_density, _READABILITY_TEXT_LENGTH, utils.trim, _TEXT_CONTENT,
      lxml.html._collect_string_content.path, repr(sorted(readability_lxml.TEXT_CLEAN_ELEMS)),
      repr(sorted(readability_lxml.LIST_TAGS)), f"lxml {etree.LXML_VERSION}"), "6c259d3741e49c54"),
)


def installable(stand_ins: tuple = FUNCTION_STAND_INS) -> list[tuple[object, str, Callable, Callable]]:
    """(owner, attribute, original, stand-in) of each of `stand_ins` (as `FUNCTION_STAND_INS`) whose
    code is the one it was written for."""
    return [(owner, attribute, getattr(owner, attribute), stand_in)
            for owner, attribute, stand_in, relied_on, digest in stand_ins
            if source_digest(relied_on) == digest]
