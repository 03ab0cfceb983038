"""HTML page → `Article`: the clean text and metadata the corpus stores. This module runs the
steps; each lives in its own module:

1. **Decode** the bytes (decoding.py): a BOM, strict UTF-8, the declared charset, detection;
   NFC. Empty or binary bodies stop here with a reason. A page of more than `MAX_TAGS` tags
   is not parsed (`markup_refusal`).
2. **Parse** once (`parse_page`): the tree serves the article, the links (links.py) and the
   topic text (topic.py).
3. **Metadata** (metadata.py: JSON-LD, meta tags, the hinted elements; published.py: the date)
   with per-site `ExtractionHints` (hints.py) from the site profiles (archive/sites/).
4. **Body** (body.py): trafilatura on the hinted body element, or on the whole page once the
   page gate (page_gate.py) says it is an article; edges and widget lines tidied.
5. **Verdict**: `is_article` with a `reason` when not (no body element, a listing page, too
   few words, no title, ...). Never raises on bad input.

A page whose text holds a character XML does not allow (a Word paste's `\\x0b`) is extracted again
from a fresh parse with those characters taken out, when lxml refuses one (xml_chars.py).

`render_seed_text` (render.py) turns an `Article` into the seed format of docs/design.md.
This module never imports Scrapy.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

import htmldate
import lxml.html
import trafilatura
from lxml import etree

from archive.extract.body import TRAFILATURA_OPTIONS, photo_box_texts, raw_body, tidy_paragraphs
from archive.extract.decoding import XML_DECLARATION, Undecodable, decode_html, decode_html_source
from archive.extract.hints import ExtractionHints, select_all
from archive.extract.html_parser import HTML_PARSER, UTF8_HTML_PARSER
from archive.extract.metadata import canonical_for, fill_shown_metadata, lead_from_description, looks_vietnamese, \
    read_structured
from archive.extract.page_gate import PageVerdict, lines_reading_words
from archive.extract.published import guessed_date, stated_date
from archive.extract.render import DATE_LINE_FORMAT, render_seed_text
from archive.extract.url_join import join
from archive.extract.xml_chars import refused_by_lxml, xml_safe_tree
from archive.urls import page_canonical_url as canonicalise

__all__ = [
    "ExtractionHints",
    "Article",
    "extract_article",
    "parse_page",
    "ParsedPage",
    "markup_refusal",
    "MAX_TAGS",
    "article_of",
    "followable",
    "NOT_FOLLOWED",
    "render_seed_text",
    "decode_html",
    "EXTRACTOR",
]

# A page with more tags than this is not parsed (no article, no links): a news page has a few
# thousand; 300,000 links or a 200,000-deep nest are an attack on the parser and the extractor,
# whose time and memory grow with the tree (a 19 MB page of links: ~1 GB and minutes).
MAX_TAGS = 100_000

# The extraction settings are part of the output's identity: a corpus built
# with other settings is a different corpus, so they go in the manifest.
EXTRACTOR = {
    "name": "trafilatura",
    "version": trafilatura.__version__,
    "htmldate": htmldate.__version__,
    "options": dict(TRAFILATURA_OPTIONS),
    "module": "archive.extract.article",
    "format": 2,  # bump when the output of this module changes for the same input (2: issue 18)
}


@dataclass
class Article:
    """One extracted page. `is_article` False means: do not put it in the corpus."""

    url: str
    canonical_url: str
    title: str = ""
    published: datetime | None = None  # aware, +07:00
    date_line: str | None = None  # `HH:MM | DD/MM/YYYY`, GMT+7
    author: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    lead: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    images: list[dict[str, str | None]] = field(default_factory=list)
    language: str | None = None
    words: int = 0
    is_article: bool = False
    reason: str = ""
    encoding: str | None = None  # how the bytes were decoded

    @property
    def text(self) -> str:
        """Lead and body paragraphs, one per line: what hashes and near-dup checks read."""
        return "\n".join(self.text_lines)

    @property
    def text_lines(self) -> list[str]:
        """The lines of `text`: the lead, if any, and the body paragraphs."""
        return ([self.lead] if self.lead else []) + self.paragraphs

    def last_paragraphs(self, n: int) -> list[str]:
        """`paragraphs[-n:]`; of an article received from a worker, only those are decoded."""
        received = self.__dict__.get("_paragraphs_utf8")
        if received is None or n <= 0:
            return self.paragraphs[-n:]
        return [line.decode(*_UTF8) for line in received.rsplit(b"\0", n)[-n:]]

    def __reduce__(self):
        # Pickled in a worker for the crawl, the paragraphs go as one UTF-8 bytes object, a NUL between
        # two, decoded where first read (`__getattr__`): the crawl reads only the last few
        # (archive/corpus/syndication.py `credit_of`); the corpus file's text travels apart
        # (archive/corpus/neardup/fingerprint.py). A list that could not be cut apart again (a
        # paragraph holding a NUL, not a str, an empty list) goes as it is.
        state = self.__dict__.copy()
        received = state.pop("_paragraphs_utf8", None)
        if received is None:
            paragraphs = state.pop("paragraphs", None)
            if type(paragraphs) is not list or not paragraphs or set(map(type, paragraphs)) != {str}:
                return _article, (self.__dict__,)
            joined = "\0".join(paragraphs)
            if joined.count("\0") != len(paragraphs) - 1:
                return _article, (self.__dict__,)
            received = joined.encode(*_UTF8)
        return _received_article, (state, received)

    def __getattr__(self, name: str):
        """`paragraphs` of an article received from a worker (`__reduce__`), decoded on its first reading."""
        received = self.__dict__.get("_paragraphs_utf8") if name == "paragraphs" else None
        if received is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.paragraphs = paragraphs = received.decode(*_UTF8).split("\0")
        del self.__dict__["_paragraphs_utf8"]
        return paragraphs


_UTF8 = ("utf-8", "surrogatepass")  # (what pickle does with a str: any str goes there and back)


def _article(state: dict) -> Article:
    article = Article.__new__(Article)
    article.__dict__.update(state)
    return article


def _received_article(state: dict, paragraphs_utf8: bytes) -> Article:
    """An `Article` pickled by `Article.__reduce__` with its paragraphs as UTF-8."""
    article = _article(state)
    article.__dict__["_paragraphs_utf8"] = paragraphs_utf8
    return article


def extract_article(html: bytes | str, url: str, hints: ExtractionHints | None = None, *,
                    encoding: str | None = None) -> Article:
    """Extract one page. Never raises for bad content: `is_article` and `reason` say why not.

    `encoding` is the charset from the HTTP Content-Type header, if any.
    """
    return article_of(parse_page(html, url, encoding=encoding), hints, spend_tree=True)


@dataclass
class ParsedPage:
    """A page decoded and parsed once, for everything read from it (article, links, topic text).

    Why once: a crawl needs the page's links (to follow them) and its article; parsing an
    80 KB page twice, once for each, cost the crawl's reactor ~1 ms a page. The links and
    the topic gate's text are read from the same tree by links.py."""

    article: Article  # URL, canonical URL, encoding; `reason` when there is no tree
    tree: etree._Element | None
    base_url: str  # what relative links resolve against: the page's `<base href>`, else its URL
    refused: str | None = None  # why the page was not parsed at all (`markup_refusal`)
    # The page gate's verdict (page_gate.py) on `tree`, once a reader has asked for it (links.py): the
    # extraction of a page of a host with no profile reuses it instead of judging the page again.
    verdict: PageVerdict | None = None
    # What `tree` was parsed from (UTF-8 bytes, else text; the caller's page or its decoding, no
    # copy): parsed again only when lxml refuses a character of it (`article_of`).
    markup: bytes | str | None = None


def parse_page(html: bytes | str, url: str, *, encoding: str | None = None) -> ParsedPage:
    """Decode and parse a page; never raises for bad content (`tree` None, `article.reason` why)."""
    article = _blank_article(url)
    try:
        text, article.encoding, source = decode_html_source(html, encoding)
    except Undecodable as exc:
        article.reason = str(exc)
        return ParsedPage(article, None, url)
    refusal = markup_refusal(text if source is None else source)  # (the same count: `<` is one byte in UTF-8)
    if refusal is not None:
        article.reason = refusal
        return ParsedPage(article, None, url, refused=refusal)
    markup = source if source is not None and XML_DECLARATION.match(text) is None else text
    try:
        tree = _parsed(markup)
    except (etree.ParserError, ValueError) as exc:
        article.reason = f"unparseable HTML ({exc})"
        return ParsedPage(article, None, url)
    base = tree.find(".//base[@href]")
    return ParsedPage(article, tree, urljoin(url, base.get("href").strip()) if base is not None else url,
                      markup=markup)


def _blank_article(url: str) -> Article:
    """The article of `url` before anything is read of its page."""
    try:
        canonical = canonicalise(url)
    except ValueError:
        canonical = url
    return Article(url=url, canonical_url=canonical)


def _parsed(markup: bytes | str) -> etree._Element:
    """The tree of a page's markup: UTF-8 bytes (those of its decoded text itself) or its text."""
    if isinstance(markup, bytes):
        return lxml.html.document_fromstring(markup, parser=UTF8_HTML_PARSER)
    return lxml.html.document_fromstring(XML_DECLARATION.sub("", markup, count=1), parser=HTML_PARSER)


def markup_refusal(page: bytes | str) -> str | None:
    """Why a page is too much markup to parse (`MAX_TAGS`), or None. Counting `<` costs
    microseconds where parsing costs seconds; a stray `<` in a script only makes it stricter.

    Each character not counted yet can add at most one `<`, so only as much of the page is counted
    as it takes to show the count cannot pass `MAX_TAGS` (nothing of a page of at most MAX_TAGS
    characters, ~7 KB of a 106 KB one: it runs on the event loop for every page); a refused page
    is counted whole, so its message gives the same number."""
    tag, size = (b"<" if isinstance(page, bytes) else "<"), len(page)
    tags, end = 0, max(0, size - MAX_TAGS)
    if end:
        tags = page.count(tag, 0, end)
    while tags + size - end > MAX_TAGS:  # the most the whole page could hold
        if end == size:
            return f"too many tags ({tags:,} > {MAX_TAGS:,})"
        start, end = end, min(size, end + max(tags + size - end - MAX_TAGS, _COUNTED_AT_LEAST))
        tags += page.count(tag, start, end)
    return None


_COUNTED_AT_LEAST = 8192  # characters `markup_refusal` counts in one go after its first count


def article_of(page: ParsedPage, hints: ExtractionHints | None, *, spend_tree: bool = False) -> Article:
    """The parsed page's article (without a tree: the article saying why not). `spend_tree`: the
    caller reads nothing of `page.tree` after this, so the extraction may work on the tree itself
    instead of a copy of it when it needs the untouched page no more (see `_extract_tree`)."""
    if page.tree is None:
        return page.article
    try:
        return _extract_tree(page.article, page.tree, page.article.url, hints, page.verdict, spend_tree)
    except ValueError as exc:
        if not refused_by_lxml(exc) or page.markup is None:
            raise
    # lxml refused to set a text holding a character XML does not allow (trafilatura joining a tail
    # to its neighbour, `drop_tree`): the page is read again, from a fresh tree (this one may be
    # half-extracted) without those characters, and judged again on it (xml_chars.py).
    article = _blank_article(page.article.url)
    article.encoding = page.article.encoding
    return _extract_tree(article, xml_safe_tree(_parsed(page.markup)), article.url, hints, None, True)


NOT_FOLLOWED = ("#", "javascript:", "mailto:", "tel:")  # hrefs that lead to no page


def followable(href: str | None, base_url: str) -> str | None:
    """The absolute URL an href leads to, or None for no page (empty, `#`, `javascript:` ...)."""
    href = (href or "").strip()
    if not href or href.startswith(NOT_FOLLOWED):
        return None
    return join(base_url, href)


def _extract_tree(article: Article, tree: etree._Element, url: str, hints: ExtractionHints | None,
                  verdict: PageVerdict | None = None, spend_tree: bool = False) -> Article:
    """`article_of`'s extraction, on the parsed page; `verdict`: the page gate's on `tree`, if known."""
    hints = hints or ExtractionHints()  # no hints: every selector tuple is empty
    info = read_structured(tree)
    article.canonical_url = canonical_for(url, info) or article.canonical_url
    fill_shown_metadata(article, tree, info, hints)
    article.published, date_texts = stated_date(tree, info, hints)

    # The body is read from a working copy of the page (`tree` stays intact for the date and the
    # lead). When the caller gives the tree up and neither of those will read it again (the date
    # is known already; the lead is known, or no description could be looked for on the page:
    # `lead_from_description`), the copy is the tree itself: a whole page's deepcopy less.
    spent = spend_tree and article.published is not None and (article.lead is not None or not info.description)
    work = tree if spent else copy.deepcopy(tree)
    # A comment inside a paragraph (`<p>a<!-- -->b</p>`, as React renders) ends the paragraph for
    # trafilatura; stripping keeps the text around it (tails) in place.
    etree.strip_tags(work, etree.Comment, etree.ProcessingInstruction)
    for el in select_all(work, hints.drop):
        if el.getparent() is not None:
            el.drop_tree()
    article.published = article.published or guessed_date(tree, work, url)
    if article.published:
        article.date_line = article.published.strftime(DATE_LINE_FORMAT)

    # The gate reads `work` as it reads `tree`: it skips comments and processing instructions and
    # joins the text around them, so stripping them changes nothing it sees (tests/test_page_gate.py);
    # elements dropped by the hints would, so then it judges `work` itself.
    paragraphs, article.images, article.reason = raw_body(work, hints, url,
                                                          verdict=None if hints.drop else verdict)
    if article.reason:
        return article
    if article.lead is None:
        article.lead = lead_from_description(info.description, paragraphs, tree, article.title)

    def captions() -> set[str]:  # asked for only when a paragraph comes twice (photo boxes: a whole-page walk)
        return {image["caption"] for image in article.images if image["caption"]} | photo_box_texts(work)

    article.paragraphs = tidy_paragraphs(paragraphs, title=article.title, lead=article.lead,
                                         author=article.author, date_texts=date_texts, captions=captions)
    article.words = lines_reading_words(article.text_lines)  # (the gate's counts of its paragraphs reused)
    if article.language is None and looks_vietnamese(article.text):
        article.language = "vi"

    if not article.title:
        article.reason = "no title"
    elif not article.paragraphs:
        article.reason = "no body text"
    elif article.words < hints.min_words:
        article.reason = f"too few words ({article.words} < {hints.min_words})"
    else:
        article.is_article = True
    return article
