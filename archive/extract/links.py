"""What a crawl reads of a page to decide on it: the topic gate's text and the links to follow.

One implementation for both places a page is read: the extraction worker, over
the lxml tree it already parsed for the article (`read_parsed`), and the
spider's fallback in the reactor, over Scrapy's `response.selector`
(`read_page`). Both readers are parsel, so the worker's answers are the ones
the reactor would compute on the same tree (tests/test_parse_once.py checks it
on every fixture page). The decisions themselves are crawler/relevance.py's.
This module never imports Scrapy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cssselect import SelectorError, parse
from cssselect.parser import Attrib, CombinedSelector, Element
from cssselect.xpath import ExpressionError
from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from archive.extract.article import ExtractionHints, ParsedPage, followable
from archive.extract.page_gate import PageVerdict, judge_page
from archive.extract.requisites import Requisite, page_requisites

__all__ = ["ReadSpec", "PageReading", "LinkCandidate", "read_page", "read_parsed", "page_text",
           "listing_title", "anchor_text", "link_candidates", "matching_elements"]

LinkCandidate = tuple[str, str, bool]  # (absolute URL, anchor text, is a next-page link)


@dataclass(frozen=True)
class ReadSpec:
    """What to read of a page; plain data, so the spider can send it to a worker."""

    text: str = ""  # "article": `page_text`; "listing": `listing_title`; "": no text
    links: tuple[str, ...] = ()  # CSS selectors of links to follow
    next_pages: tuple[str, ...] = ()  # CSS selectors of next-page links (is_next=True)
    anchors: bool = False  # read each link's anchor text (only a topic gate looks at it)
    max_links: int = 0  # read at most this many links (0: no cap); a hostile page may hold 300,000
    requisites: bool = False  # list what the page embeds (archive/extract/requisites.py), to archive it too
    # A page of a host with no profile: the page gate (page_gate.py) decides whether it is an article;
    # if not, this is what to read instead (the listing's spec). None: the caller knows what the page is.
    listing: "ReadSpec | None" = None


@dataclass(frozen=True)
class PageReading:
    """The inputs of the spider's decisions on one page."""

    text: str | None = None  # None: not asked for
    links: tuple[LinkCandidate, ...] = ()  # anchor text is "" unless asked for
    links_capped: bool = False  # the page had more links than `ReadSpec.max_links`
    unread: str | None = None  # why the page was not read at all (too many tags, extraction timed out)
    requisites: tuple[Requisite, ...] = ()  # (url, kind) of images, styles, scripts, fonts; () unless asked for
    is_article: bool | None = None  # the page gate's verdict, when `ReadSpec.listing` asked for it


def read_parsed(page: ParsedPage, spec: ReadSpec, hints: ExtractionHints | None) -> PageReading:
    """`read_page` on the tree the worker parsed (an unparseable page reads as nothing)."""
    if page.tree is None:
        return PageReading(None if not spec.text else "", unread=page.refused)
    if spec.listing is not None and page.verdict is None:
        page.verdict = judge_page(page.tree)  # kept on the page: its extraction needs it too
    return read_page(Selector(root=page.tree, type="html"), page.base_url, spec, hints, verdict=page.verdict)


def read_page(selector: Selector, base_url: str, spec: ReadSpec,
              hints: ExtractionHints | None, *, verdict: PageVerdict | None = None) -> PageReading:
    """What `spec` asks for; `base_url` resolves relative links (the page's `<base href>`);
    `verdict`: the page gate's on this page, if already known."""
    is_article = None
    if spec.listing is not None:
        is_article = (verdict or judge_page(selector.root)).is_article
        spec = spec if is_article else spec.listing
    text = None
    if spec.text == "article":
        text = page_text(selector, hints or ExtractionHints())
    elif spec.text == "listing":
        text = listing_title(selector)
    groups = ((spec.links, False), (spec.next_pages, True))
    links = link_candidates(selector, base_url, groups, anchors=spec.anchors, limit=spec.max_links + 1
                            if spec.max_links else 0)
    capped = bool(spec.max_links) and len(links) > spec.max_links
    return PageReading(text, tuple(links[:spec.max_links] if capped else links), capped,
                       requisites=page_requisites(selector, base_url) if spec.requisites else (),
                       is_article=is_article)


def page_text(selector: Selector, hints: ExtractionHints) -> str:
    """Title, lead and body paragraphs, found with the site's extraction selectors. The selectors
    are parsel's own translation to XPath (`_css`), evaluated on the selector's lxml tree without
    a parsel object for each of the page's ~50 paragraphs."""
    root = selector.root
    parts: list[str] = []
    for group in (hints.title or ("h1",), hints.lead):
        for css in group:
            found = _css(root, css)
            if found:
                parts.append(_joined_text(found[0]))
                break
    body = next((found for css in hints.body if (found := _css(root, css))), None)
    scope = body[0] if body else root
    parts.extend(_joined_text(p) for p in _css(scope, "p"))
    if not parts[0:1] or not parts[0].strip():
        parts.insert(0, " ".join(_css(root, "title::text")))
    return "\n".join(p.strip() for p in parts if p.strip())


def _css(node, css: str) -> list:
    """What parsel's `Selector.css(css)` finds under `node`, as lxml results (elements, or strings
    for `::text`); under a string (a `::text` result) nothing, as parsel finds there."""
    return _css_xpath(css)(node) if isinstance(node, etree._Element) else []


@lru_cache(maxsize=256)
def _css_xpath(css: str) -> etree.XPath:
    return etree.XPath(HTMLTranslator().css_to_xpath(css))


def _joined_text(node) -> str:
    """parsel's `" ".join(node.xpath(".//text()").getall())`: a string result has no text nodes."""
    return " ".join(_TEXTS(node)) if isinstance(node, etree._Element) else ""


def listing_title(selector: Selector) -> str:
    """A listing page's own title: its `<h1>`, else `<title>`."""
    return (" ".join(selector.css("h1 ::text").getall()).strip()
            or " ".join(selector.css("title::text").getall()).strip())


def anchor_text(link: etree._Element | Selector) -> str:
    """What a link says about its target: its text, else its title attribute or image alt. Its
    text nodes as `itertext()` yields them (`_text_nodes`): those of `.//text()` (comments' and
    processing instructions' own text left out, their tails kept), without an XPath evaluation
    (~0.4 µs a link less); of a link without children (`len` counts comments and processing
    instructions too), its `text`."""
    element = link.root if isinstance(link, Selector) else link
    text = " ".join((element.text or "").split() if not len(element) else _text_nodes(element).split())
    return text or (element.get("title") or "").strip() or " ".join(_IMAGE_ALTS(element))


def _text_nodes(element: etree._Element) -> str:
    """`" ".join(element.itertext())` up to spaces between its words: for a link whose children have
    no children (a photo's `a > img`, ~half of a generic page's links), its text, each child's
    text (an element's; a comment's or a processing instruction's is not a text node) and tail,
    read directly, without the iterator `itertext` sets up (~18,000 instructions a link)."""
    pieces = [element.text]
    for child in element:
        tag = child.tag
        if len(child) or not (isinstance(tag, str) or tag is etree.Comment or tag is etree.ProcessingInstruction):
            return " ".join(element.itertext())
        if isinstance(tag, str):
            pieces.append(child.text)
        pieces.append(child.tail)
    return " ".join(piece for piece in pieces if piece)


# Compiled once: `element.xpath(...)` compiles its expression at every call (~140 links a page).
_TEXTS = etree.XPath(".//text()")
_IMAGE_ALTS = etree.XPath("descendant-or-self::img/@alt")


def link_candidates(selector: Selector, base_url: str, groups, *, anchors: bool,
                    limit: int = 0) -> list[LinkCandidate]:
    """`(url, anchor, is_next)` of each link the selectors of `groups` (`(selectors, is_next)`
    pairs) match, in group, selector, then document order; hrefs that lead to no page are left
    out. At most `limit` of them (0: all)."""
    found: list[LinkCandidate] = []
    root = selector.root
    # A page's hrefs repeat (a generic bench page: 138 links, 46 hrefs) and two selectors may match
    # one element: each href is resolved once, each element read once (the same answers: both are
    # pure functions of what they read; held elements keep their Python objects, so they match).
    urls: dict[str | None, str | None] = {}
    read: dict[etree._Element, tuple[str | None, str]] = {}
    attributes: dict[str, list[str]] = {}  # (`matching_elements`: the page's class values, read once)
    for selectors, is_next in groups:
        for css in selectors:
            for link in matching_elements(root, css, attributes):
                known = read.get(link)
                if known is None:
                    href = link.get("href")
                    url = urls[href] if href in urls else urls.setdefault(href, followable(href, base_url))
                    known = read[link] = (url, anchor_text(link) if anchors and url is not None else "")
                if known[0] is None:
                    continue
                found.append((known[0], known[1], is_next))
                if len(found) == limit:
                    return found
    return found


def matching_elements(root: etree._Element, css: str,
                      attributes: dict[str, list[str]] | None = None) -> list[etree._Element]:
    """The elements under `root` that `css` matches, in document order, as parsel's `css()` finds
    them, in time linear in the page. `attributes`: a memo of the values of an attribute under
    `root` by its name, for the selectors of one page (`_AttributeHolders`).

    A CSS selector's usual XPath (`div.box//article//a`) walks down from every
    match of each step, and libxml2 merges those node-sets pairwise: on a page
    with 100,000 `<article>`s that took 12 s, 300,000 several minutes. The same
    selector read right to left (every `a` that has an `article` ancestor that
    has a `div.box` ancestor) is one pass over the page; ancestor tests are
    bounded by the parser's depth limit (255 for lxml.html).

    The commonest form, `X Y` (`div.article-relate a[href]`), is cheaper still top down when
    the page has a few `X`s, none inside another: every `Y` under each, container after
    container, is the same list in the same order, and no `a` has its ancestors tested
    (half the time of the right-to-left pass on a news page, where `X` is one box or none).
    """
    split = _containers_and_items(css)
    if split is not None and root.getparent() is None:  # (an `X` above `root` would count too)
        containers = split[0](root, attributes) if isinstance(split[0], _AttributeHolders) else split[0](root)
        if not containers:
            return []
        if len(containers) <= _FEW_CONTAINERS and not _nested(containers):
            return [element for container in containers for element in split[1](container)]
    return _ancestor_xpath(css)(root)


_FEW_CONTAINERS = 64  # more, and the right-to-left pass (all in C) is used: a hostile page has 100,000


def _nested(elements: list[etree._Element]) -> bool:
    """Whether one of `elements` is inside another (ancestors are bounded by the parser's depth limit)."""
    kept = set(elements)
    return any(ancestor in kept for element in elements for ancestor in element.iterancestors())


@lru_cache(maxsize=256)
def _containers_and_items(css: str) -> tuple[etree.XPath | _AttributeHolders, etree.XPath] | None:
    """For a selector `X Y` (one descendant combinator, simple `X` and `Y`, no pseudo-element):
    the `X`s under a root (an XPath, or `_AttributeHolders` for a bare `[name*=value]`) and the
    XPath of the `Y`s under an `X`, as parsel's translation finds them; else None."""
    try:
        selectors = parse(css)
    except SelectorError:
        return None
    if len(selectors) != 1 or selectors[0].pseudo_element:
        return None
    tree = selectors[0].parsed_tree
    if not isinstance(tree, CombinedSelector) or tree.combinator != " " or isinstance(tree.selector, CombinedSelector) \
            or isinstance(tree.subselector, CombinedSelector):
        return None
    translator = HTMLTranslator()
    try:
        return (_substring_container(tree.selector, translator)
                or etree.XPath(f"descendant-or-self::{translator.xpath(tree.selector)}"),
                etree.XPath(f"descendant::{translator.xpath(tree.subselector)}"))
    except (ExpressionError, etree.XPathError):
        return None


_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def _substring_container(selector, translator: HTMLTranslator) -> _AttributeHolders | None:
    """For a bare `[name*=value]` (the host with no profile's `[class*=relate]`): its
    `_AttributeHolders`. None for any other selector."""
    if not isinstance(selector, Attrib) or selector.operator != "*=" or selector.namespace is not None \
            or selector.flag is not None or not isinstance(selector.selector, Element) \
            or selector.selector.element is not None or selector.selector.namespace is not None:
        return None
    name, value = selector.attrib.lower(), selector.value.value  # (HTMLTranslator lower-cases names)
    if not value or not _PLAIN_NAME.fullmatch(name):
        return None
    return _AttributeHolders(name, value, translator)


class _AttributeHolders:
    """The elements under a root whose attribute `name` holds `value` (a bare `[name*=value]`), in
    document order: what `path` finds, reading the attribute nodes (the translation's
    `descendant-or-self::*[@name and contains(@name, ...)]` is libxml2's predicate on every
    element, twice as slow).

    libxml2 spends ~2,500 instructions testing `contains` on an attribute (a generic bench page
    has ~540 classes: 1.7 M for each of `[class*=relate]` and `[class*=tag]`). So the values
    are read once for all a page's selectors (`attributes`, as plain strings: ~1 M), tested in
    Python, and the few holders found (at most `_FEW_HOLDERS`; many pages have none) taken by
    their place among the attribute nodes, `(descendant-or-self::*/@name)[n]/..` (~0.5 M each);
    with more, `path` is evaluated as before. The same elements: the places are those of the
    same node-set, in document order, and an element has one attribute of a name."""

    def __init__(self, name: str, value: str, translator: HTMLTranslator):
        self.name, self.value = name, value
        self.path = f"descendant-or-self::*/@{name}[contains(., {translator.xpath_literal(value)})]/.."
        self._holders = etree.XPath(self.path)

    def __call__(self, root: etree._Element, attributes: dict[str, list[str]] | None = None) -> list[etree._Element]:
        values = None if attributes is None else attributes.get(self.name)
        if values is None:
            values = _attribute_values(self.name)(root)
            if attributes is not None:
                attributes[self.name] = values
        places = [place for place, held in enumerate(values, 1) if self.value in held]
        if len(places) > _FEW_HOLDERS:
            return self._holders(root)
        return [element for place in places for element in _attribute_holder(self.name, place)(root)]


_FEW_HOLDERS = 3  # more, and `contains` over every attribute is cheaper than one look-up by place each


@lru_cache(maxsize=16)
def _attribute_values(name: str) -> etree.XPath:
    """The values of the attributes `name` under a root, in document order, as plain strings."""
    return etree.XPath(f"descendant-or-self::*/@{name}", smart_strings=False)


@lru_cache(maxsize=256)
def _attribute_holder(name: str, place: int) -> etree.XPath:
    """The element holding the `place`-th attribute `name` under a root (a page of a site puts its
    boxes at the same places: the compiled expressions are kept)."""
    return etree.XPath(f"(descendant-or-self::*/@{name})[{place}]/..")


class _AncestorTranslator(HTMLTranslator):
    """Combinators as conditions on the rightmost element (see `matching_elements`)."""

    def xpath_descendant_combinator(self, left, right):
        return right.add_condition(f"ancestor::{_step(left)}")

    def xpath_child_combinator(self, left, right):
        return right.add_condition(f"parent::{_step(left)}")

    def xpath_direct_adjacent_combinator(self, left, right):
        return right.add_condition(f"preceding-sibling::*[1][self::{_step(left)}]")

    def xpath_indirect_adjacent_combinator(self, left, right):
        return right.add_condition(f"preceding-sibling::{_step(left)}")


def _step(expr) -> str:
    if expr.path:  # a form this translation does not cover; parsel's own is used instead
        raise NotImplementedError(str(expr))
    return f"{expr.element}[{expr.condition}]" if expr.condition else expr.element


@lru_cache(maxsize=256)
def _ancestor_xpath(css: str) -> etree.XPath:
    try:
        return etree.XPath(_AncestorTranslator().css_to_xpath(css))
    except NotImplementedError:
        return _css_xpath(css)  # parsel's own translation
