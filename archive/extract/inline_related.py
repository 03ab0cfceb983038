"""Inline related-article blocks inside an article body, found by what they are.

News CMSs put teasers of other articles of the same site *between the body's
paragraphs*: MasterCMS's `table.__MB_ARTICLE_A` (one or two headline links in
a shaded box), a thumbnail plus a headline and a one-line teaser laid out as
a small table, a `div` box, a list of headline links, a block-level
`<a class="read-more">` with "Also on …" and a title. Each site names them
differently, so a class name catches one site's one template; what they have
in common is their content:

- a *headline link*: a link of three or more words to another article of the
  same site (not this page, not a tag/category/author page), standing on its
  own line rather than inside a sentence;
- at most a few such targets (a teaser box, not a list of sources);
- around it, little else: a label ("Xem thêm:", "Also on rt.com"), a
  thumbnail, a teaser of at most two sentences;
- and a place between paragraphs: its parent holds the body's prose.

A paragraph that merely contains a link ("Như Thời Đại đã đưa tin, …") is
prose: its link runs inside a sentence. Dropping keeps each block's tail
text (lxml's drop_tree). No Scrapy here.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree

from archive.extract.page_gate import is_prose, sentence_ends
from archive.extract.text import text_content

__all__ = ["drop_inline_related", "is_inline_related"]

_CANDIDATES = ("table", "div", "section", "aside", "figure", "ul", "ol", "p", "a")
_MAX_TARGETS = 4  # a teaser box shows one to a few articles; more is a list the extractor judges
_MIN_HEADLINE_WORDS = 3
_MAX_LABEL_WORDS = 4  # text before the first headline link: "Xem thêm:", "Also on rt.com"
_MAX_TEASER_WORDS = 50  # text outside links: label plus a teaser of one or two sentences
_MAX_TEASER_SENTENCES = 2
_MAX_BLOCK_WORDS = 100
_MIN_PROSE_SIBLINGS = 2  # paragraphs of prose beside it: the block sits inside a body
_NOT_ARTICLES = re.compile(
    r"/(?:tags?|topics?|chu-de|chude|tac-gia|author|authors|category|categories|chuyen-muc|search|tim-kiem|"
    r"video|videos|photos?|gallery)(?:/|$|[-.])", re.I)
_ARTICLE_SLUG = re.compile(r"\d{4,}|[^/]*-[^/]*-[^/]*")  # an id, or a slug of three words or more
_SEPARATORS = re.compile(r"^[\s|/·•–—:»›>-]*$")


def _words(text: str | None) -> int:
    return len((text or "").split())


def _site(host: str) -> str:
    return host.lower().removeprefix("www.")


def _same_site(host: str, page_host: str) -> bool:
    """The same site: one host, or one a subdomain of the other (huunghivietlao.thoidai.com.vn)."""
    a, b = _site(host), _site(page_host)
    return bool(a) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def _article_target(href: str | None, page_url: str) -> str | None:
    """The URL of another article of the page's site that `href` leads to, or None."""
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    target = urlsplit(urljoin(page_url, href))
    page = urlsplit(page_url)
    if target.scheme not in ("http", "https") or not _same_site(target.hostname or "", page.hostname or ""):
        return None
    path = target.path.rstrip("/")
    if not path or path == page.path.rstrip("/") or _NOT_ARTICLES.search(path):
        return None
    if not _ARTICLE_SLUG.search(path.rsplit("/", 1)[-1]) and not target.query:
        return None
    return f"{_site(target.hostname or '')}{path}?{target.query}"


def _text_events(block: etree._Element):
    """(text, element holding it, enclosing link or None) for every text of `block`, in order."""

    def walk(el: etree._Element, link: etree._Element | None):
        if el.text:
            yield el.text, el, link
        for child in el:
            if isinstance(child.tag, str):
                yield from walk(child, child if child.tag == "a" else link)
            if child.tail:
                yield child.tail, el, link

    yield from walk(block, block if block.tag == "a" else None)


def _headline(link: etree._Element, page_url: str) -> str | None:
    """The article a headline link leads to: a link of a few words to another article of the
    site, standing on its own line (nothing but a separator follows it), else None."""
    if _words(text_content(link)) < _MIN_HEADLINE_WORDS or not _SEPARATORS.match(link.tail or ""):
        return None
    return _article_target(link.get("href"), page_url)


def is_inline_related(block: etree._Element, page_url: str) -> bool:
    """True when `block` is a teaser box for other articles of the site (see the module docstring)."""
    return _box_sized(text_content(block)) and _teaser_box(block, page_url)


def _box_sized(text: str) -> bool:
    """Whether a block of this text has a teaser box's size: some words, at most `_MAX_BLOCK_WORDS`
    (`str.split` stops after that many: an article's container need not be split whole)."""
    return 0 < len(text.split(None, _MAX_BLOCK_WORDS)) <= _MAX_BLOCK_WORDS


def _teaser_box(block: etree._Element, page_url: str) -> bool:
    """`is_inline_related` of a block of a teaser box's size (`_box_sized`)."""
    headlines: dict[etree._Element, str] = {}
    for link in block.iter("a"):
        target = _headline(link, page_url)
        if target is not None:
            headlines[link] = target
        elif _words(text_content(link)):
            return False  # a link elsewhere, or one inside a sentence: not a teaser box
    if not headlines or len(set(headlines.values())) > _MAX_TARGETS:
        return False
    before: list[tuple[str, etree._Element]] = []  # (text, holder) before the first headline
    outside: list[str] = []  # text outside headline links: label, teaser
    first_link = None
    for text, holder, link in _text_events(block):
        if link is None:
            outside.append(text)
        if first_link is None:
            if link in headlines:
                first_link = link
            elif text.strip():
                before.append((text, holder))
    if sum(_words(t) for t, _ in before) > _MAX_LABEL_WORDS:
        return False
    if before:  # "Theo <a>…</a>" runs into the link; a label is its own element or ends in ":"
        text, holder = before[-1]
        if holder is first_link.getparent() and not _SEPARATORS.match(text.strip()[-1]):
            return False
    teaser = " ".join(" ".join(outside).split())
    return _words(teaser) <= _MAX_TEASER_WORDS and sentence_ends(teaser) <= _MAX_TEASER_SENTENCES


_PROSE_TAGS = ("p", "div")  # the elements that can be the body's paragraphs


def drop_inline_related(root: etree._Element, page_url: str) -> int:
    """Remove the inline related-article blocks under `root` (tails kept); returns how many."""
    # Prose children per parent, keyed by the element itself: lxml makes element proxies on
    # demand, so an id() can be reused.
    prose_children: dict[etree._Element, int] = {}
    prose: dict[etree._Element, bool] = {}
    texts: dict[etree._Element, str] = {}  # each element's text is read once (text_content is O(subtree))

    def text_in(el: etree._Element) -> str:
        text = texts.get(el)
        if text is None:
            text = texts[el] = text_content(el)
        return text

    def is_prose_element(el: etree._Element) -> bool:
        """Whether a `<p>` or `<div>` is prose (callers ask only of those)."""
        known = prose.get(el)
        if known is None:
            known = prose[el] = is_prose(text_in(el))
        return known

    def between_paragraphs(el: etree._Element, parent: etree._Element) -> bool:
        """Whether `el` has two prose siblings (`parent`: its parent, with more than two children)."""
        count = prose_children.get(parent)
        if count is None:
            count = prose_children[parent] = sum(
                1 for child in parent.iterchildren(*_PROSE_TAGS) if is_prose_element(child))
        if el.tag in _PROSE_TAGS and is_prose_element(el):
            count -= 1
        return count >= _MIN_PROSE_SIBLINGS

    found: list[etree._Element] = []
    for el in root.iter(*_CANDIDATES):
        # The tests cheapest first (each is a pure test of the untouched tree, so their order changes
        # nothing found): a parent with too few children for `el` and two prose siblings (a menu's
        # `li > a`, a heading's link: most candidates) ends it at once.
        parent = el.getparent()
        if parent is None or len(parent) <= _MIN_PROSE_SIBLINGS:
            continue
        if found and any(anc in found for anc in el.iterancestors()):
            continue
        # Cheap, and most blocks have none (an lxml iterator: `find(".//a")` walks in Python).
        if el.tag != "a" and next(el.iterdescendants("a"), None) is None:
            continue
        # Then `is_inline_related`'s size test before the prose siblings: a linked image (a `figure`,
        # most of what is left) has no words, and its siblings need not be read.
        if _box_sized(text_in(el)) and between_paragraphs(el, parent) and _teaser_box(el, page_url):
            found.append(el)
    for el in found:
        el.drop_tree()
    return len(found)
