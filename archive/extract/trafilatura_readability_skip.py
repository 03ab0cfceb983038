"""readability left out of trafilatura's comparison when its text is too short to be chosen.

With favor_precision, after its own extraction trafilatura runs readability on the raw page
(`external.compare_extraction`) and takes readability's body instead of its own only when
`_prefer_readability` says so. With an own text of `L > 0` characters in a body with paragraph
text and no more tables than paragraphs, that needs readability's text (trimmed: words joined by
one space) to be longer than `2 L`. readability is ~35 % of trafilatura's call on a profiled
host's article body, ~30 % on a page of a host with no profile.

An upper bound of readability's text, read off the tree after readability's first step (it drops
every `script`, `style` and `fencedframe`: `try_readability` and `summary` are written out here, the
same steps in the same order, and the bound is taken between the first and the second): its output is
made of the tree's nodes (moved, dropped, `<div>`s retagged `<p>`, text moved into new `<p>`s; the one
text it writes, "VIDEO", goes into an `<iframe>` it keeps), serialized as XML and parsed again by
lxml.html with trafilatura's parser, which drops comments and processing instructions. The XML
serializer escapes `<`, `>`, `&` (and CR) in text, and the parser reads the escapes back: the same
characters (fewer, where it drops blank text), unless an element reads its content as raw text
(libxml2 2.14: `iframe`, `noembed`, `noframes`, `xmp`; `plaintext` to the end of the page; `textarea`
and `title` as RCDATA, which reads escapes but not markup; tested tag by tag) or a comment could come
back as text. So when the tree holds no entity or processing instruction, no comment that could be
read back otherwise than as a comment, no `plaintext`, none of those elements with a child or (raw
text) with what the serializer escapes, and no element name but in small letters (a name in capitals
is read as raw text, or left by readability's first step, all the same): every character of
readability's text comes from a distinct character of the tree's text, or from an "VIDEO", and those
that are not whitespace from ones that are not a space, tab or newline (the serializer writes those
three as they are and the parser keeps them as whitespace). With `N` such characters (and 5 an
`<iframe>`), readability's trimmed text has at most `N` non-whitespace characters and `N - 1` spaces:
`2 N - 1`. When `N <= L`, readability cannot be chosen (`2 N - 1 < 2 L`), and trafilatura goes on
exactly as when readability finds nothing (its text length 0): the same body and text. Nothing reads
the raw tree readability would have changed further (with favor_precision it is trafilatura's own
copy, or a copy of it). Only one debug log line differs (readability's length, 0). The tests cheapest
first: the text's characters (one serialization, ~0.13 ms a page, all a page pays when readability
runs), then the few nodes above, then every element's name (~0.3 ms). Taken on about half of the
real pages of hosts with no profile (tests/fixtures/eval-generic/) and on every article body of a
profiled host, where trafilatura's own text is nearly all the tree holds; not on the bench's generic
pages, whose navigation and teasers hold twice the article's text.

Failing that, the same bound is taken once readability has chosen its best candidate, on the part of
the tree its article is made of (`_article_source`: the candidate's parent; `get_article` moves some of
its children into the article, `sanitize` drops elements and writes "VIDEO" into iframes, and the
rules above are about what the nodes serialized are, whatever subtree they make): readability's
scoring has run, but the article's building, `sanitize`, its serialization and the parse back do not
(session 23: on every bench page of the host with no profile, and 70 of the 88 real pages in all). The
best candidate is found with the link densities of only the candidates that could be it
(trafilatura_fast_functions.best_candidate_first, when that module's `score_paragraphs` stand-in is in
place); the others' are weighed only when readability goes on (its article and `sanitize` read them).

Used only while our extraction runs (`faster_trafilatura`), and only when the code this relies
on is the code it was written for (sha256 of its source and libxml2's version).
"""
from __future__ import annotations

import re
import threading
from operator import attrgetter

from lxml import etree
from lxml.html import HtmlElement
from trafilatura import core, external, readability_lxml, utils

from archive.extract.trafilatura_fast_functions import _score_paragraphs as _SCORE_PARAGRAPHS
from archive.extract.trafilatura_fast_functions import best_candidate_first, nonspace_characters

__all__ = ["READABILITY_SKIP_STAND_INS", "readability_text_bound"]

_COMPARE_EXTRACTION = external.compare_extraction
_TRY_READABILITY = external.try_readability  # (written out below)

# Elements readability drops first (with what they hold, their tails kept); elements whose content
# libxml2's HTML parser reads as raw text (escapes and markup left as they are written), or as RCDATA
# (markup as text, escapes read). Matched as written: a name in capitals fails `_all_lowercase`.
_DROPPED = ("script", "style", "fencedframe")
_RAW_TEXT = ("iframe", "noembed", "noframes", "xmp")
_RCDATA = ("title", "textarea")
_READ = (etree.Comment, etree.ProcessingInstruction, etree.Entity, *_DROPPED, *_RAW_TEXT, *_RCDATA, "plaintext")
_ESCAPED = re.compile("[&<>\r]")  # what the XML serializer writes as an escape in text
_VIDEO = len("VIDEO")  # the text readability's `sanitize` gives an <iframe> it keeps
_TAG = attrgetter("tag")

_LIMIT = threading.local()  # `.text_length`: this thread's own text length, for the readability call it is comparing


def _comes_back_as_comment(comment: etree._Element) -> bool:
    """Whether a comment serialized as `<!--text-->` is read back as one comment (then dropped by
    trafilatura's parser): no `--` inside, no `>` or `->` first (an empty comment, then text), no
    `-` last."""
    text = comment.text or ""
    return "--" not in text and not text.startswith((">", "->")) and not text.endswith("-")


def _text_characters(tree: etree._Element) -> int:
    """The tree's characters that are not a space, a tab or a newline."""
    return nonspace_characters(etree.tostring(tree, method="text", encoding="utf-8", with_tail=False))


def _read_back(tree: etree._Element, bound: int) -> int | None:
    """`bound` and an "VIDEO" an `<iframe>`, or None for a node that could be read back as more text
    (one walk of the tree, in C, for the few nodes it looks at)."""
    for node in tree.iter(*_READ):
        name = node.tag
        if name is etree.Comment:
            if not _comes_back_as_comment(node):
                return None
        elif name not in _RAW_TEXT + _RCDATA:
            return None  # a processing instruction, an entity, `plaintext` (the rest of the page read as text), or
            # one of what readability drops: left in a tree it dropped them from only as a name in capitals
        elif len(node) or (name in _RAW_TEXT and _ESCAPED.search(node.text or "")):
            return None  # (an element holds nodes here only if put there: the parser gives it text alone)
        elif name == "iframe":
            bound += _VIDEO
    return bound


def _all_lowercase(tree: etree._Element) -> bool:
    """Whether every element's name is in small letters (readability drops only `script`, `style`,
    `fencedframe` as written; the tokenizer lowercases names): each element read, ~0.3 ms a page."""
    return all(map(str.islower, map(_TAG, tree.iter(etree.Element))))


def readability_text_bound(tree: etree._Element, limit: int | None = None) -> int | None:
    """At most how many non-whitespace characters readability's text holds (after trafilatura's round trip
    through XML), for a tree it has dropped its `script`, `style` and `fencedframe` elements from (its first
    step); None when the tree holds what could make more, or, with `limit`, as soon as the bound is
    known to pass it (the tests cheapest first: the text's characters, the few nodes, every name)."""
    bound = _text_characters(tree)
    if limit is not None and bound > limit:
        return None
    bound = _read_back(tree, bound)
    if bound is None or (limit is not None and bound > limit) or not _all_lowercase(tree):
        return None
    return bound


def _bounded(tree: etree._Element, limit: int) -> bool:
    """Whether readability's text of this tree (its first step made) is at most `limit` non-whitespace
    characters (`readability_text_bound`); False should the bound fail (readability then runs and meets
    the failure, or not, itself)."""
    try:
        return readability_text_bound(tree, limit) is not None
    except Exception:
        return False


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
    """`external.try_readability` with readability's `summary` written out, left after its first step
    (what it drops) with what trafilatura gets on a failure (an empty element) when its text could not
    be chosen; the same steps in the same order otherwise."""
    limit, _LIMIT.text_length = getattr(_LIMIT, "text_length", None), None
    try:
        doc = external.ReadabilityDocument(htmlinput, min_text_length=25)
        summary = _summary(doc, limit)
        if summary is None:
            return HtmlElement()
        summary = external.fromstring_bytes(summary)
        return summary if summary is not None else HtmlElement()
    except Exception as err:
        external.LOGGER.warning("readability_lxml failed: %s", err)
        return HtmlElement()


def _article_source(best: etree._Element) -> etree._Element:
    """The element whose text holds all that readability's article can hold, once its best candidate is
    chosen: `get_article` moves into a new `<div>` some children of the candidate's parent (the candidate
    and siblings that score or read well, each with its tail, in their order), or the candidate alone
    when it has no parent; `sanitize` then drops elements and writes "VIDEO" into the `<iframe>`s it keeps.
    So the article's text is a part of this element's text (without its tail), read in its order."""
    parent = best.getparent()
    return best if parent is None else parent


def _summary(doc: readability_lxml.Document, limit: int | None) -> str | None:
    """`Document.summary`, or None when its text is within `limit`: tested after its first step on the
    whole tree, and, failing that, after the best candidate is chosen on the part of the tree its article
    is made of (`_article_source`; the bound's rules hold for any subtree: session 23), which on pages
    whose navigation and teasers outweigh the article spares the article's building, `sanitize`, and its
    serialization and parse back (~5 % of trafilatura's call on a bench page of a host with no profile)."""
    for elem in list(doc.doc.iter("script", "style", "fencedframe")):
        elem.drop_tree()
    if limit is not None and _bounded(doc.doc, limit):
        return None
    # no retry: it would rerun on the same mutated tree
    doc.remove_unlikely_candidates()
    doc.transform_misused_divs_into_paragraphs()
    weigh_others = None
    if limit is not None and type(doc).score_paragraphs is _SCORE_PARAGRAPHS:  # (our stand-in is in place)
        candidates, best_candidate, weigh_others = best_candidate_first(doc)
    else:
        candidates = doc.score_paragraphs()
        best_candidate = doc.select_best_candidate(candidates)
    if limit is not None and best_candidate and _bounded(_article_source(best_candidate.elem), limit):
        return None
    if weigh_others is not None:
        weigh_others()  # (what `get_article` and `sanitize` read: every candidate's score)
    if best_candidate:
        article = doc.get_article(candidates, best_candidate)
    else:
        readability_lxml.LOGGER.debug("No candidate found, returning raw html")
        body = doc.doc.find("body")
        article = body if body is not None else doc.doc
    return doc.sanitize(article, candidates)


_DOCUMENT = readability_lxml.Document
_RELIED_ON = (_COMPARE_EXTRACTION, external._prefer_readability, _TRY_READABILITY, utils.fromstring_bytes,
              _DOCUMENT.__init__, _DOCUMENT.summary, _DOCUMENT.select_best_candidate, _DOCUMENT.get_article, _DOCUMENT.sanitize, _DOCUMENT.transform_misused_divs_into_paragraphs,
              _DOCUMENT.remove_unlikely_candidates, core._extract_and_compare, f"libxml2 {etree.LIBXML_VERSION}")

# (owner, attribute, stand-in, the code it relies on, sha256 of that code's source (16 hex digits)), as
# trafilatura_fast_functions.FUNCTION_STAND_INS
READABILITY_SKIP_STAND_INS = (
    (core, "compare_extraction", _compare_extraction, _RELIED_ON, "1b26fa74f5e70e80"),
    (external, "try_readability", _try_readability, _RELIED_ON, "1b26fa74f5e70e80"),
)
