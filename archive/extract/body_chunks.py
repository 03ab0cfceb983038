"""An article body split into several containers of one template: the chunks trafilatura left.

Some CMSs cut a long article into chunks with ads or embeds between them, each
chunk a container of the same kind (`<div class="article__body …">` twice or
more). trafilatura takes the first container its body patterns match and
reads no further: on a real page that lost more than half of the article.
The container of the extracted paragraphs is found from the page, and every
other element of the same tag and class that holds prose paragraphs is read
too, in page order, unless a headline or an `<article>` boundary separates it
from the first (a page that loads the next story below repeats the template).
Only pages without site hints need this: hint selectors return every chunk.
No Scrapy here.
"""
from __future__ import annotations

from collections import Counter

from lxml import etree

from archive.extract.page_gate import is_prose
from archive.extract.text import text_content

__all__ = ["other_chunks"]

_MIN_PROSE = 2  # prose paragraphs a container needs to count as a chunk of the body
_CHUNK_TEXT = ("p", "h2", "h3", "h4", "blockquote")


def _text(el: etree._Element) -> str:
    return " ".join(text_content(el).split())


def other_chunks(tree: etree._Element, paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Paragraphs of the body's other chunks: (those before the extracted one, those after)."""
    if not _may_be_chunked(tree):
        return [], []
    known = set(paragraphs)
    holders: Counter = Counter()
    for p in tree.iter("p"):
        if _text(p) in known and p.getparent() is not None:
            holders[p.getparent()] += 1
    if not holders:
        return [], []
    main, count = holders.most_common(1)[0]
    template = main.get("class")
    if not template or count < _MIN_PROSE:
        return [], []
    candidates: list[etree._Element] = []
    for el in tree.iter(main.tag):
        if el is main or (el.get("class") == template and not _nested(el, main)):
            candidates.append(el)
    if len(candidates) == 1:
        return [], []
    # Another article's chunks are not this one's: pages that load the next story below the first
    # repeat the template, under a new headline or in another <article>.
    order = {el: i for i, el in enumerate(tree.iter())}
    headlines = [order[h] for h in tree.iter("h1")]
    story = _story(main)
    before: list[str] = []
    after: list[str] = []
    found = before
    for el in candidates:
        if el is main:
            found = after
            continue
        low, high = sorted((order[el], order[main]))
        if _story(el) is not story or any(low < h < high for h in headlines):
            continue
        texts = [t for t in (_text(child) for child in el.iterchildren(*_CHUNK_TEXT)) if t and t not in known]
        if sum(is_prose(t) for t in texts) >= _MIN_PROSE:
            found.extend(texts)
    return before, after


def _may_be_chunked(tree: etree._Element) -> bool:
    """Whether an element holding `_MIN_PROSE` `<p>`s or more has a class that another element of
    its tag, neither inside nor around it, has too. The body's container (the one holding most of
    the extracted paragraphs) has other chunks only then, so without one the page's paragraphs
    need not be read (most pages: an article's body is one container)."""
    held = Counter(parent for p in tree.iter("p") if (parent := p.getparent()) is not None)
    for parent, count in held.items():
        template = parent.get("class") if count >= _MIN_PROSE else None
        if template and any(el is not parent and el.get("class") == template and not _nested(el, parent)
                            for el in tree.iter(parent.tag)):
            return True
    return False


def _nested(a: etree._Element, b: etree._Element) -> bool:
    return any(x is b for x in a.iterancestors()) or any(x is a for x in b.iterancestors())


def _story(el: etree._Element) -> etree._Element | None:
    """The `<article>` element around `el`, if any."""
    return next(el.iterancestors("article"), None)
