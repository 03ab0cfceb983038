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

from dataclasses import dataclass

from parsel import Selector

from .extract import ExtractionHints, ParsedPage, followable
from .requisites import Requisite, page_requisites

__all__ = ["ReadSpec", "PageReading", "LinkCandidate", "read_page", "read_parsed", "page_text",
           "listing_title", "anchor_text", "link_candidates"]

LinkCandidate = tuple[str, str, bool]  # (absolute URL, anchor text, is a next-page link)


@dataclass(frozen=True)
class ReadSpec:
    """What to read of a page; plain data, so the spider can send it to a worker."""

    text: str = ""  # "article": `page_text`; "listing": `listing_title`; "": no text
    links: tuple[str, ...] = ()  # CSS selectors of links to follow
    next_pages: tuple[str, ...] = ()  # CSS selectors of next-page links (is_next=True)
    anchors: bool = False  # read each link's anchor text (only a topic gate looks at it)
    requisites: bool = False  # list what the page embeds (archive/requisites.py), to archive it too


@dataclass(frozen=True)
class PageReading:
    """The inputs of the spider's decisions on one page."""

    text: str | None = None  # None: not asked for
    links: tuple[LinkCandidate, ...] = ()  # anchor text is "" unless asked for
    requisites: tuple[Requisite, ...] = ()  # (url, kind) of images, styles, scripts, fonts; () unless asked for


def read_parsed(page: ParsedPage, spec: ReadSpec, hints: ExtractionHints | None) -> PageReading:
    """`read_page` on the tree the worker parsed (an unparseable page reads as nothing)."""
    if page.tree is None:
        return PageReading(None if not spec.text else "")
    return read_page(Selector(root=page.tree, type="html"), page.base_url, spec, hints)


def read_page(selector: Selector, base_url: str, spec: ReadSpec,
              hints: ExtractionHints | None) -> PageReading:
    """What `spec` asks for; `base_url` resolves relative links (the page's `<base href>`)."""
    text = None
    if spec.text == "article":
        text = page_text(selector, hints or ExtractionHints())
    elif spec.text == "listing":
        text = listing_title(selector)
    groups = ((spec.links, False), (spec.next_pages, True))
    return PageReading(text, tuple(link_candidates(selector, base_url, groups, anchors=spec.anchors)),
                       page_requisites(selector, base_url) if spec.requisites else ())


def page_text(selector: Selector, hints: ExtractionHints) -> str:
    """Title, lead and body paragraphs, found with the site's extraction selectors."""
    parts: list[str] = []
    for group in (hints.title or ("h1",), hints.lead):
        for css in group:
            found = selector.css(css)
            if found:
                parts.append(" ".join(found[0].xpath(".//text()").getall()))
                break
    body = next((found for css in hints.body if (found := selector.css(css))), None)
    scope = body[0] if body else selector
    parts.extend(" ".join(p.xpath(".//text()").getall()) for p in scope.css("p"))
    if not parts[0:1] or not parts[0].strip():
        parts.insert(0, " ".join(selector.css("title::text").getall()))
    return "\n".join(p.strip() for p in parts if p.strip())


def listing_title(selector: Selector) -> str:
    """A listing page's own title: its `<h1>`, else `<title>`."""
    return (" ".join(selector.css("h1 ::text").getall()).strip()
            or " ".join(selector.css("title::text").getall()).strip())


def anchor_text(link: Selector) -> str:
    """What a link says about its target: its text, else its title attribute or image alt."""
    text = " ".join(" ".join(link.xpath(".//text()").getall()).split())
    return text or (link.attrib.get("title") or "").strip() or " ".join(link.css("img::attr(alt)").getall())


def link_candidates(selector: Selector, base_url: str, groups, *, anchors: bool) -> list[LinkCandidate]:
    """`(url, anchor, is_next)` of each link the selectors of `groups` (`(selectors, is_next)`
    pairs) match, in group, selector, then document order; hrefs that lead to no page are left out."""
    found: list[LinkCandidate] = []
    for selectors, is_next in groups:
        for css in selectors:
            for link in selector.css(css):
                url = followable(link.attrib.get("href"), base_url)
                if url is not None:
                    found.append((url, anchor_text(link) if anchors else "", is_next))
    return found
