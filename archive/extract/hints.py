"""Per-site extraction hints (`ExtractionHints`) and the CSS selection they drive.

Why apart: the site profiles (archive/sites/) declare hints as data and need nothing else
of extraction; selectors are compiled once, when a profile is built."""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Iterable

from lxml import etree
from lxml.cssselect import CSSSelector

__all__ = ["DEFAULT_MIN_WORDS", "ExtractionHints", "select", "select_all"]

DEFAULT_MIN_WORDS = 100


@dataclass(frozen=True)
class ExtractionHints:
    """Per-site extraction knowledge, declared as data in the site profiles.

    Every selector field is a tuple of CSS selectors tried in order; the first
    that matches wins (for `drop`, `captions` and `tags`, all matches count).
    Selectors are compiled when the hints are built, so a typo fails at import
    of the profile, not in the middle of a crawl.
    """

    drop: tuple[str, ...] = ()  # removed before anything reads the body
    title: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    date: tuple[str, ...] = ()  # element with a datetime/content attribute or date text
    date_formats: tuple[str, ...] = ()  # strptime formats for date text, read as GMT+7
    author: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()  # caption cells/elements of photo boxes inside the body
    ignore_authors: tuple[str, ...] = ()  # site-wide default bylines, never reported
    min_words: int = DEFAULT_MIN_WORDS

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "min_words":
                if not isinstance(value, int) or value < 0:
                    raise ValueError(f"min_words must be a non-negative int, not {value!r}")
                continue
            if isinstance(value, str):  # a lone selector is an easy slip: ("a.b") is a str
                value = (value,)
            value = tuple(value)
            object.__setattr__(self, f.name, value)
            if f.name not in ("date_formats", "ignore_authors"):
                for selector in value:
                    _compiled(selector)


@lru_cache(maxsize=512)
def _compiled(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector, translator="html")
    except Exception as exc:  # cssselect raises several types; all mean "bad selector"
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc


def select(root: etree._Element, selectors: Iterable[str]) -> list[etree._Element]:
    """Elements matched by the first selector that matches anything."""
    for selector in selectors:
        found = _compiled(selector)(root)
        if found:
            return found
    return []


def select_all(root: etree._Element, selectors: Iterable[str]) -> list[etree._Element]:
    """Elements matched by any of the selectors, in document order, once each."""
    selectors = tuple(selectors)
    if not selectors:
        return []
    return _compiled_union(selectors)(root)


@lru_cache(maxsize=256)
def _compiled_union(selectors: tuple[str, ...]) -> etree.XPath:
    """One XPath union of the selectors: libxml2 returns a union in document order, without
    duplicates, so nothing has to sort by a walk over the whole tree (that walk, creating a
    Python proxy per element, was a quarter of extraction time on an 80 KB page)."""
    return etree.XPath(" | ".join(_compiled(selector).path for selector in selectors),
                       namespaces={"re": "http://exslt.org/regular-expressions"})


