"""trafilatura's pruning XPaths (and its first body XPath), selected in Python: the same elements
in the same order, faster.

On a page of a host with no profile trafilatura reads the whole page (~900 elements), and
before its readability comparison and its own extraction it prunes the tree with XPaths that
test each element's `id`, `class` and `style` with EXSLT regular expressions (`re:test`).
lxml runs every `re:test` as a call from libxml2 back into Python: ~3,000 calls a page,
~8 ms of the worker's ~40 ms (docs/performance.md, session 11). The functions below select
what those XPaths select, reading the same attributes with the same regular expressions
(taken from the XPath's own text) in one walk of the tree.

Only while `faster_trafilatura()` is active, and only for an XPath whose text is the one each
function was written for (a trafilatura upgrade that changes one leaves it as it was). The
equivalence is tested element by element on every fixture page and on generated attribute
soups (tests/test_trafilatura_fast.py). trafilatura's output cannot change: it gets the
same elements to delete, in the same order.

Functions of trafilatura, readability and lxml.html that do more work than their result needs
(an XPath's set-up for each text, a length measured many times ...) have stand-ins too, with
the same guard: trafilatura_fast_functions.py; and readability is not run where its text could
not be chosen: trafilatura_readability_skip.py.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lxml import etree
from trafilatura import xpaths

from archive.extract.trafilatura_fast_functions import installable
from archive.extract.trafilatura_readability_skip import READABILITY_SKIP_STAND_INS
from archive.extract.bounded_memo import VerdictMemo

__all__ = ["faster_trafilatura", "STAND_INS"]

_RE_TEST = re.compile(r"re:test\((@[\w|@-]+), '([^']*)'\)")


def _first(el: etree._Element, a: str, b: str) -> str:
    """XPath `string(@a|@b)`: the value of whichever attribute comes first on the element (the
    union is in document order, attributes in their source order); '' with neither."""
    va, vb = el.get(a), el.get(b)
    if va is None:
        return vb or ""
    if vb is None:
        return va
    for key in el.keys():
        if key == a:
            return va
        if key == b:
            return vb
    return va  # not reached: both are keys


def _tests(path: str) -> list[Callable[[str], bool]]:
    """Whether each `re:test` pattern of an XPath is found in a value, in the order they appear
    (lxml compiles them as `re.compile(pattern)`: str patterns are Unicode-aware by default)."""
    return [VerdictMemo(re.compile(pattern).search).__getitem__ for _, pattern in _RE_TEST.findall(path)]


_CONTAINS = re.compile(r"contains\((?:translate\(@([\w-]+), '([^']*)', '([^']*)'\)|@([\w-]+)), '([^']*)'\)")


def _contains_tests(path: str) -> list[tuple[str, Callable[[str], bool]]]:
    """(attribute name, test of its value) of each `contains(@a, 'x')` or
    `contains(translate(@a, 'F', 'f'), 'x')` of an XPath, in the order they appear (`translate`:
    each character of the first list replaced by the one at its place in the second, or removed
    when the second is shorter; a character listed twice, as first listed)."""
    tests = []
    for translated, old, new, plain, needle in _CONTAINS.findall(path):
        table: dict[int, str | None] = {}
        for n, char in reversed(list(enumerate(old))):
            table[ord(char)] = new[n] if n < len(new) else None

        def test(value: str, table=table or None, needle=needle) -> bool:
            return needle in (value.translate(table) if table else value)
        tests.append((translated or plain, VerdictMemo(test).__getitem__))  # (remembered by value, as `_tests`)
    return tests


def _raw_tree_share_buttons(path: str):
    """RAW_TREE_PRUNE_XPATH[1]: div/section/aside share-button bars (by a page builder's class)."""
    ((name, in_class),) = _contains_tests(path)

    def select(tree: etree._Element) -> list[etree._Element]:
        return [el for el in tree.iterdescendants("div", "section", "aside") if in_class(el.get(name) or "")]
    return select


# The blocks trafilatura's discarding XPaths of an extracted body look at.
_DISCARDED_BLOCKS = ("div", "item", "list", "p", "section", "span")


def _discard_by_names(path: str):
    """TEASER_DISCARD_XPATH[0] (teaser boxes) and DISCARD_IMAGE_ELEMENTS[0] (captions, when images
    are not kept): blocks whose id or class holds a word (`contains`, the teaser's after `translate`)."""
    (first_name, first), (second_name, second) = _contains_tests(path)

    def select(tree: etree._Element) -> list[etree._Element]:
        found = []
        for el in tree.iterdescendants(*_DISCARDED_BLOCKS):
            get = el.get
            if first(get(first_name) or "") or second(get(second_name) or ""):
                found.append(el)
        return found
    return select


def _precision_discard(path: str):
    """PRECISION_DISCARD_XPATH[1]: blocks named as a bottom bar or a link (`re:test(@id|@class, …)`
    reads whichever of the two comes first), or with a border in their style."""
    bottom, link = _tests(path)
    ((style_name, in_style),) = _contains_tests(path)

    def select(tree: etree._Element) -> list[etree._Element]:
        found = []
        for el in tree.iterdescendants(*_DISCARDED_BLOCKS):
            get = el.get
            i, c = get("id") or "", get("class") or ""
            # (`_first` is asked only when one of the two attributes passes the test)
            if (((bottom(i) or bottom(c)) and bottom(_first(el, "id", "class")))
                    or ((link(i) or link(c)) and link(_first(el, "id", "class")))
                    or in_style(get(style_name) or "")):
                found.append(el)
        return found

    # An element with neither id nor class: `@id|@class` reads '' then, as `get(…) or ""` does.
    if bottom("") or link(""):
        return None
    return select


def _raw_tree_prune(path: str):
    """RAW_TREE_PRUNE_XPATH[0]: infinite-scroll boxes of div/section/aside (any, unless it
    holds an h1, when only the `mvp-post-add` ones)."""
    any_id, any_class, box_id, box_class = _tests(path)

    def select(tree: etree._Element) -> list[etree._Element]:
        found = []
        for el in tree.iterdescendants("div", "section", "aside"):
            i, c = el.get("id") or "", el.get("class") or ""
            if (any_id(i) or any_class(c)) and (
                    next(el.iterdescendants("h1"), None) is None or box_id(i) or box_class(c)):
                found.append(el)
        return found
    return select


def _overall_discard_blocks(path: str):
    """OVERALL_DISCARD_XPATH[0]: div/item/list/p/section/span blocks named as navigation, ads,
    share bars, footers, related links ..."""
    cookie, by_id, by_class = _tests(path)

    def select(tree: etree._Element) -> list[etree._Element]:
        found = []
        for el in tree.iterdescendants("div", "item", "list", "p", "section", "span"):
            names = el.keys()  # (as in `_overall_discard_hidden`: only the attributes it has are read)
            if not names:
                continue
            get = el.get
            i, c = get("id") or "", get("class") or ""
            if (by_class(c) or by_id(i) or ((cookie(i) or cookie(c)) and cookie(_first(el, "id", "class")))
                    or "data-lp-replacement-content" in names
                    or ("role" in names and "nav" in get("role").replace("N", "n"))
                    or ("data-component" in names and "MostPopularStories" in get("data-component"))):
                found.append(el)
        return found

    # An element without attributes: every test reads '' (no pattern matches '': else no stand-in).
    if cookie("") or by_id("") or by_class(""):
        return None
    return select


def _overall_discard_hidden(path: str):
    """OVERALL_DISCARD_XPATH[1]: any element hidden, or named as comments' furniture.

    Every element is visited (~470 a tree, twice a page), so each is read as little as can be:
    its attribute names first (one call; `get` costs ~90 ns a name), and only the attributes it
    has. Most have none of id, class, style (then only aria-hidden can select one) or a class
    alone, whose verdict is a function of the class value, remembered by value."""
    hidden, by_id, by_class = _tests(path)
    # With no id and no style, every test of those reads '' (no pattern matches '': checked below),
    # and `string(@id|@class)` is the class: the element is selected by its class alone thus.
    class_alone = VerdictMemo(lambda c: by_class(c) or c == "comments-title" or c.startswith("reply-")).__getitem__

    def named(el: etree._Element) -> bool:
        """The tests of id, class and style, for an element with an id or a style."""
        get = el.get
        i, c, style = get("id") or "", get("class") or "", get("style") or ""
        # (`_first` is asked only when one of the two attributes passes the test)
        return (by_class(c) or by_id(i) or c == "comments-title" or "display:none" in style
                or "display: none" in style
                or ((i.startswith("reply-") or c.startswith("reply-")) and _first(el, "id", "class").startswith("reply-"))
                or ((hidden(i) or hidden(style)) and hidden(_first(el, "id", "style"))))

    def select(tree: etree._Element) -> list[etree._Element]:
        found = []
        for el in tree.iterdescendants(etree.Element):
            names = el.keys()  # (attributes without a namespace by their names, as `@id` finds them)
            if not names:
                continue
            if "id" in names or "style" in names:
                selected = named(el)
            else:
                selected = "class" in names and class_alone(el.get("class"))
            if selected or ("aria-hidden" in names and el.get("aria-hidden") == "true"):
                found.append(el)
        return found

    # An element with none of id, class, style is selected only by aria-hidden: every other test
    # reads '' then, which none of the patterns matches (else no stand-in: trafilatura's XPath runs).
    if hidden("") or by_id("") or by_class(""):
        return None
    return select


def _remove_comments(path: str):
    """REMOVE_COMMENTS_XPATH[0]: div/list/section/details blocks of reader comments."""
    by_id, by_class = _tests(path)

    def select(tree: etree._Element) -> list[etree._Element]:
        return [el for el in tree.iterdescendants("div", "list", "section", "details")
                if by_id(el.get("id") or "") or by_class(el.get("class") or "")]
    return select


def _remove_comments_and_lists(path: str):
    """REMOVE_COMMENTS_AND_LISTS_XPATH[0]: the same, and ol/ul lists of comments (not by the
    disqus ids)."""
    by_id, by_class, list_id, list_class = _tests(path)

    def select(tree: etree._Element) -> list[etree._Element]:
        found = []
        for el in tree.iterdescendants("div", "list", "section", "details", "ol", "ul"):
            i, c = el.get("id") or "", el.get("class") or ""
            if (by_id(i) or by_class(c)) and (el.tag not in ("ol", "ul") or list_id(i) or list_class(c)):
                found.append(el)
        return found
    return select


def _article_body(path: str):
    """BODY_XPATH[0], where trafilatura looks for the article first: of each element's children,
    the first article/div/main/section named as an article body (`.//*[…][1]`: first per parent)."""
    by_id, by_class = _tests(path)

    def select(tree: etree._Element) -> list[etree._Element]:
        found, parents = [], set()
        for el in tree.iterdescendants("article", "div", "main", "section"):
            get = el.get
            c, i = get("class"), get("id")
            if (by_class(c or "") or by_id(i or "") or c == "post" or c == "entry"
                    or get("itemprop") == "articleBody" or i == "articleContent"):
                parent = el.getparent()
                if parent not in parents:  # (document order: a parent's first such child comes first)
                    parents.add(parent)
                    found.append(el)
        return found
    return select


# (list in trafilatura.xpaths, index, sha256 of the XPath's text (first 16 hex digits), maker)
STAND_INS = (
    ("RAW_TREE_PRUNE_XPATH", 0, "01e7c660fd6406f2", _raw_tree_prune),
    ("OVERALL_DISCARD_XPATH", 0, "a837e58a1b1ea116", _overall_discard_blocks),
    ("OVERALL_DISCARD_XPATH", 1, "c1d5b70b8cd03783", _overall_discard_hidden),
    ("REMOVE_COMMENTS_XPATH", 0, "5d97216ca15d0558", _remove_comments),
    ("REMOVE_COMMENTS_AND_LISTS_XPATH", 0, "9cc18d34e6e2d258", _remove_comments_and_lists),
    ("BODY_XPATH", 0, "caaa561ceca17064", _article_body),
    ("RAW_TREE_PRUNE_XPATH", 1, "3c7afe92279543d5", _raw_tree_share_buttons),
    ("PRECISION_DISCARD_XPATH", 1, "53d31ea1df47920a", _precision_discard),
    ("TEASER_DISCARD_XPATH", 0, "ebb02f066626551d", _discard_by_names),
    ("DISCARD_IMAGE_ELEMENTS", 0, "cb1ab981e44913f7", _discard_by_names),
)


class _StandIn:
    """Called as trafilatura calls its XPath (`expression(tree)`), selecting in Python."""

    def __init__(self, original: etree.XPath, select: Callable[[etree._Element], list]):
        self.original = original
        self.path = original.path
        self._select = select

    def __call__(self, tree: etree._Element) -> list[etree._Element]:
        return self._select(tree)

    def __str__(self) -> str:
        return str(self.original)


def _swaps() -> list[tuple[list, int, object, _StandIn]]:
    swaps = []
    for name, index, digest, make in STAND_INS:
        holder = getattr(xpaths, name, None)
        original = holder[index] if isinstance(holder, list) and len(holder) > index else None
        path = getattr(original, "path", None)
        if path is None or hashlib.sha256(path.encode()).hexdigest()[:16] != digest:
            continue  # not the XPath the stand-in was written for: trafilatura's own runs
        select = make(path)
        if select is not None:
            swaps.append((holder, index, original, _StandIn(original, select)))
    return swaps


_SWAPS = _swaps()


_FUNCTIONS = installable() + installable(READABILITY_SKIP_STAND_INS)


@contextmanager
def faster_trafilatura() -> Iterator[int]:
    """trafilatura's pruning XPaths and the functions of trafilatura_fast_functions.py and
    trafilatura_readability_skip.py replaced by their stand-ins for the block (yields how many were: XPaths + functions); trafilatura's
    own code is back after it."""
    for holder, index, _, stand_in in _SWAPS:
        holder[index] = stand_in
    for owner, attribute, _, stand_in in _FUNCTIONS:
        setattr(owner, attribute, stand_in)
    try:
        yield len(_SWAPS) + len(_FUNCTIONS)
    finally:
        for holder, index, original, _ in _SWAPS:
            holder[index] = original
        for owner, attribute, original, _ in _FUNCTIONS:
            setattr(owner, attribute, original)
