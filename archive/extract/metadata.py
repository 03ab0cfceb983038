"""What a page says about its article besides the body: title, lead (sapo), byline, section,
tags, language, canonical URL, from JSON-LD and meta tags (`read_structured`) and from the
elements a reader sees (`fill_shown_metadata`, the site hints).

Precedence, field by field: what the reader sees beats structured data (JSON-LD headlines
and descriptions are often cut to SEO lengths; bylines lose their attribution); without
hints, structured data comes first. The publication date is published.py's job."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from archive.extract.hints import ExtractionHints, select, select_all
from archive.extract.json_ld import ARTICLE_TYPES, json_ld_objects
from archive.extract.text import WORD, clean, text_of
from archive.urls import page_canonical_url as canonicalise
from archive.vietnam_time import in_vietnam, parse_iso

if TYPE_CHECKING:
    from archive.extract.article import Article

__all__ = ["Structured", "read_structured", "fill_shown_metadata", "canonical_for", "lead_from_description",
           "looks_vietnamese"]


@dataclass
class Structured:
    """What JSON-LD and meta tags say about the page."""

    headline: str | None = None
    og_title: str | None = None
    html_title: str | None = None
    description: str | None = None
    published: datetime | None = None
    authors: list[str] = field(default_factory=list)
    meta_author: str | None = None
    section: str | None = None
    keywords: list[str] = field(default_factory=list)
    canonical: str | None = None
    og_url: str | None = None
    language: str | None = None


def read_structured(tree: etree._Element) -> Structured:
    info = Structured()
    article_ld = None
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        for obj in json_ld_objects(script.text or ""):
            types = obj.get("@type")
            types = [types] if isinstance(types, str) else (types or [])
            if any(isinstance(t, str) and t.lower() in ARTICLE_TYPES for t in types):
                article_ld = article_ld or obj
    if article_ld is not None:
        info.headline = clean(_first_str(article_ld.get("headline")) or _first_str(article_ld.get("name")),
                              unescape=True)
        info.description = clean(_first_str(article_ld.get("description")), unescape=True) or None
        info.published = in_vietnam(parse_iso(_first_str(article_ld.get("datePublished"))))
        info.authors = _ld_person_names(article_ld.get("author"))
        info.section = clean(_first_str(article_ld.get("articleSection"))) or None
        info.keywords = _split_keywords(article_ld.get("keywords"))
        info.language = clean(_first_str(article_ld.get("inLanguage"))) or None

    # Every `<meta>` with a content, read once in document order (the questions below were each
    # a walk over the whole page): (key, cleaned content).
    metas = [((el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower(), clean(content))
             for el in tree.iter("meta") if (content := el.get("content"))]

    def meta(*keys: str) -> list[str]:
        return [value for key, value in metas if key in keys and value]

    info.og_title = next(iter(meta("og:title")), None)
    info.description = info.description or next(iter(meta("og:description", "description")), None)
    if info.published is None:
        for value in meta("article:published_time", "datepublished", "pubdate", "og:published_time"):
            info.published = in_vietnam(parse_iso(value))
            if info.published:
                break
    info.meta_author = next(iter(meta("author", "article:author")), None)
    info.section = info.section or next(iter(meta("article:section")), None)
    info.keywords = info.keywords or meta("article:tag")
    info.og_url = next(iter(meta("og:url")), None)
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            info.canonical = link.get("href").strip()
            break
    titles = [t for t in tree.iter("title")]
    info.html_title = clean(titles[0].text_content()) if titles else None
    lang = tree.get("lang") or tree.get("xml:lang")
    info.language = info.language or (lang.strip().lower() if lang else None)
    return info


def _first_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in value:
            found = _first_str(item)
            if found:
                return found
    if isinstance(value, dict):
        return _first_str(value.get("name") or value.get("@value"))
    return None


def _ld_person_names(value: Any) -> list[str]:
    """Author names from JSON-LD, skipping organisations (the paper itself)."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(clean(item, unescape=True))
        elif isinstance(item, dict):
            kind = item.get("@type")
            kinds = [kind] if isinstance(kind, str) else (kind or [])
            if any(isinstance(k, str) and k.lower() == "organization" for k in kinds):
                continue
            names.append(clean(_first_str(item.get("name")), unescape=True))
    return [n for n in names if n]


def _split_keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list):
        parts = [v for v in value if isinstance(v, str)]
    else:
        return []
    return [p for p in (clean(x, unescape=True) for x in parts) if p]



def fill_shown_metadata(article: Article, tree: etree._Element, info: Structured,
                        hints: ExtractionHints) -> None:
    """Title, lead, byline, category, tags, language: hinted elements first, then structured data."""

    def first_text(selectors: tuple[str, ...], accept=lambda value: value) -> str | None:
        for el in select(tree, selectors):
            value = accept(text_of(el))
            if value:
                return value
        return None

    ignored = {name.casefold() for name in hints.ignore_authors}

    def usable_author(name: str | None) -> str | None:
        return name if name and name.casefold() not in ignored else None

    article.title = first_text(hints.title) or info.headline or info.og_title or _first_h1(tree) \
        or info.html_title or ""
    article.lead = first_text(hints.lead)  # the description is only a fallback, once the body is known
    article.author = first_text(hints.author, usable_author) \
        or usable_author(", ".join(info.authors) or None) or usable_author(info.meta_author)
    crumbs = [t for t in (text_of(el) for el in select(tree, hints.category)) if t]
    article.category = (crumbs[-1] if crumbs else None) or info.section  # the deepest breadcrumb
    shown_tags = [t for t in (text_of(el) for el in select_all(tree, hints.tags)) if t]
    article.tags = list(dict.fromkeys(shown_tags or info.keywords))
    article.language = info.language or None


def canonical_for(url: str, info: Structured) -> str | None:
    """The page's declared canonical URL, trusted only on the same site.

    A syndicated copy may point its rel=canonical at the original publisher;
    taking that would make two sites' pages one URL and lose the copy's
    provenance, so a canonical on another host is ignored.
    """
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    for candidate in (info.canonical, info.og_url):
        if not candidate:
            continue
        absolute = urljoin(url, candidate)
        if (urlsplit(absolute).hostname or "").lower().removeprefix("www.") != host:
            continue
        try:
            return canonicalise(absolute)
        except ValueError:
            continue
    return None


def _first_h1(tree: etree._Element) -> str | None:
    for h1 in tree.iter("h1"):
        text = text_of(h1)
        if text:
            return text
    return None


def lead_from_description(description: str | None, paragraphs: list[str], tree: etree._Element,
                          title: str) -> str | None:
    """The sapo when no hint found it: the meta description, or the first paragraph it truncates.

    Descriptions are often the sapo cut at ~160 characters with "..."; when the
    body starts with the full text, that paragraph is the lead (and its echo
    is then removed from the body). Otherwise the description is the lead only
    when a reader sees it as one: shown on the page (many are SEO summaries
    no reader sees), not the headline again, and not what the body already
    says (on some sites it *is* the first paragraphs, up to 250 words); the
    lead is then the text as shown (a description cut short is the start of
    the sapo the page shows in full).
    """
    if not description:
        return None
    stem = description.rstrip(".… ")
    for paragraph in paragraphs[:3]:
        if len(stem) >= 40 and paragraph != description and paragraph.startswith(stem):
            return paragraph
    if stem.casefold() == title.rstrip(".… ").casefold() or _said_in(stem, paragraphs):
        return None
    return _shown_lead(description, stem, tree)


_WORD_RUN = 5  # words in a row that count as "the same wording"
_SAID_SHARE = 0.8  # share of a text's word runs found in the body for it to be already said


def _said_in(text: str, paragraphs: list[str]) -> bool:
    """True when the paragraphs already say `text`: most of its runs of five words are in them
    (a sapo that quotes one sentence of the body is not said by it)."""
    words = WORD.findall(text.casefold())
    body = WORD.findall(" ".join(paragraphs).casefold())
    if len(words) < _WORD_RUN:
        return f" {' '.join(words)} " in f" {' '.join(body)} "
    runs = [tuple(words[i:i + _WORD_RUN]) for i in range(len(words) - _WORD_RUN + 1)]
    body_runs = {tuple(body[i:i + _WORD_RUN]) for i in range(len(body) - _WORD_RUN + 1)}
    return sum(run in body_runs for run in runs) >= _SAID_SHARE * len(runs)


_VISIBLE_TEXT = etree.XPath("//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript "
                            "or ancestor::template)]")
_SHOWN_WORDS = 12  # leading words of a text that must be on the page, in order
_SHOWN_SLACK = 3  # a shown sapo may be this many times longer than the description that cuts it


def _shown_lead(description: str, stem: str, tree: etree._Element) -> str | None:
    """The description as the page shows it, or None when no reader sees it.

    Shown means its first words appear in a row in the page's visible text.
    The element whose text starts with it gives the full wording (a cut
    description is the start of the sapo); shown inside longer text (the
    body's first paragraphs), the description is kept as it is.
    """
    words = WORD.findall(stem.casefold())
    key = " ".join(words[:_SHOWN_WORDS])
    if not key:
        return None
    visible = _VISIBLE_TEXT(tree)
    if f" {key} " not in f" {' '.join(WORD.findall(' '.join(visible).casefold()))} ":
        return None
    whole = " ".join(words)
    for node in visible:
        if words[0] not in node.casefold():
            continue
        holder = node.getparent().getparent() if node.is_tail else node.getparent()
        while holder is not None and holder.tag not in ("body", "html"):
            shown = text_of(holder)
            shown_words = " ".join(WORD.findall(shown.casefold()))
            if shown_words.startswith(whole):
                return shown if len(shown) <= _SHOWN_SLACK * len(description) else description
            if key in shown_words or len(shown) > _SHOWN_SLACK * len(description):
                break
            holder = holder.getparent()
    return description


_VIETNAMESE_LETTERS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


def looks_vietnamese(text: str) -> bool:
    letters = [ch for ch in text.lower() if ch.isalpha()]
    if len(letters) < 50:
        return False
    return sum(ch in _VIETNAMESE_LETTERS for ch in letters) / len(letters) > 0.05
