"""Page requisites: the images, stylesheets, scripts and fonts a page needs to be replayed as it looked.

Read from the page's parsed tree (the same parsel selector archive/extract/links.py
reads links from) and from fetched CSS (`url(…)`, `@import`). Each URL comes
with a kind (`image`, `style`, `script`, `font`, `media`) that decides its
size cap and whether it is fetched at all (media only when asked). This
module never imports Scrapy; the crawler's glue is crawler/requisites.py.
"""
from __future__ import annotations

import re
from posixpath import splitext
from urllib.parse import urlsplit, urlunsplit

from lxml import etree
from parsel import Selector

from archive.extract.bounded_memo import BoundedMemo, remember
from archive.extract.url_join import base_free, http_base, split_joined

__all__ = ["Requisite", "page_requisites", "css_requisites", "kind_by_extension", "largest_srcset"]

Requisite = tuple[str, str]  # (absolute URL without fragment, kind)

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".bmp", ".jfif"}
FONT_EXTENSIONS = {".woff", ".woff2", ".ttf", ".otf", ".eot"}
MEDIA_EXTENSIONS = {".mp4", ".webm", ".ogv", ".ogg", ".mov", ".m4v", ".mp3", ".m4a", ".aac", ".wav",
                    ".flac", ".m3u8", ".mpd", ".ts"}
SCRIPT_EXTENSIONS = {".js", ".mjs"}
# `link rel=preload as=…` values worth archiving, and the kind each is.
PRELOAD_KINDS = {"style": "style", "font": "font", "image": "image", "script": "script"}
ICON_RELS = {"icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon"}
# Lazy-loading attributes the sites use (docs/site-notes.md: data-src on both CMSes, data-original on older pages).
LAZY_SRC = ("data-src", "data-original", "data-lazy-src")
LAZY_SRCSET = ("data-srcset",)

# url(…) with or without quotes, and @import "…" / @import url(…).
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?(?:"([^"]*)"|'([^']*)'|([^\s;'")]+))""", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def absolute(raw: str | None, base_url: str) -> str | None:
    """An http(s) URL for `raw` resolved against `base_url`, fragment dropped; None for data:, blob:, …"""
    if not raw:
        return None
    raw = raw.strip()
    if not raw or raw.startswith(("data:", "blob:", "javascript:", "about:", "#")):
        return None
    try:
        parts = split_joined(base_url, raw)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def kind_by_extension(url: str, default: str = "image") -> str:
    """`image`, `font`, `media`, `style`, `script`, or `default`, by the URL path's extension."""
    extension = splitext(urlsplit(url).path)[1].lower()
    if extension in IMAGE_EXTENSIONS:
        return "image"
    if extension in FONT_EXTENSIONS:
        return "font"
    if extension in MEDIA_EXTENSIONS:
        return "media"
    if extension == ".css":
        return "style"
    if extension in SCRIPT_EXTENSIONS:
        return "script"
    return default


def largest_srcset(srcset: str | None) -> str | None:
    """The candidate of a `srcset` with the largest width (`w`) or density (`x`); the first if none says."""
    best, best_size = None, -1.0
    for candidate in (srcset or "").split(","):
        parts = candidate.split()
        if not parts:
            continue
        size = 1.0
        if len(parts) > 1 and parts[-1][-1:].lower() in ("w", "x"):
            try:
                size = float(parts[-1][:-1])
            except ValueError:
                size = 1.0
        if size > best_size:
            best, best_size = parts[0], size
    return best


# What a page embeds, in document order: `//img | //picture/source | //link | //script[@src] | //video |
# //audio | //video/source | //audio/source | //input[@type='image'] | //style`, read in one walk of the
# document by lxml's tag filter (in C) instead of ten (libxml2 walks the document for each `//` of a
# union): `_embeds` (tests/test_requisites.py compares it with that union).
_EMBED_TAGS = ("img", "source", "link", "script", "video", "audio", "input", "style")
_SOURCE_PARENTS = ("picture", "video", "audio")
_TEXTS = etree.XPath("text()")


def _embeds(root: etree._Element) -> list[etree._Element]:
    """The XPath union above, from `root`: the elements of the whole document (as `//` reads it: not only under
    `root`) that embed something, in document order."""
    found = []
    for element in root.getroottree().getroot().iter(_EMBED_TAGS):
        tag = element.tag
        if tag == "source":
            parent = element.getparent()
            if parent is None or parent.tag not in _SOURCE_PARENTS:
                continue
        elif tag == "script":
            if element.get("src") is None:
                continue
        elif tag == "input" and element.get("type") != "image":
            continue
        found.append(element)
    return found


# `absolute` of the attribute values met on earlier pages that resolve alone (`url_join.base_free`:
# plain absolute http(s) URLs), by value: a site's logo, scripts, stylesheets and its teasers' images
# come back page after page, and resolving a value cost ~23,000 instructions (a generic bench page
# has ~40 distinct ones, most of them met before). Read only under an `http_base`, where the
# answer is the same whatever the base. Bounded: emptied past `_ALONE_LIMIT` values; a value
# longer than `_ALONE_MAX_CHARS` (a hostile page's) is resolved but not kept.
_RESOLVED_ALONE: dict[str, str] = {}
_ALONE_LIMIT, _ALONE_MAX_CHARS = 4096, 2048


def _resolved(raw: str, base_url: str, alone: dict[str, str] | None) -> str | None:
    """`absolute(raw, base_url)`; `alone`: `_RESOLVED_ALONE` when `base_url` is an `http_base`."""
    if alone is None:
        return absolute(raw, base_url)
    url = alone.get(raw)
    if url is None:
        url = absolute(raw, base_url)
        if url is not None and len(raw) <= _ALONE_MAX_CHARS and base_free(base_url, raw.strip()):
            remember(alone, raw, url, _ALONE_LIMIT)
    return url


# A URL's kind by its extension, "" for none of them (`kind_by_extension(url, "")`), by URL: the
# same resolved URLs come back page after page (~9,000 instructions each to split and read).
class _ExtensionKinds(BoundedMemo):
    LIMIT, MAX_CHARS = _ALONE_LIMIT, _ALONE_MAX_CHARS


_EXTENSION_KIND = _ExtensionKinds(lambda url: kind_by_extension(url, ""))


def page_requisites(selector: Selector, base_url: str) -> tuple[Requisite, ...]:
    """`(url, kind)` of what the page embeds, in document order, each URL once. Read from the
    selector's lxml tree directly: the same query and attributes parsel would give, without a
    parsel object and an attribute dict made for each of a page's ~100 images and scripts.
    Each distinct attribute value is resolved once (`absolute` is a pure function of it and the
    base): a page repeats its teasers' images (a generic bench page: 64 image URLs, 38 distinct),
    and an attribute an element lacks is not looked at further (most images have 2 of the 6
    read)."""
    found: dict[str, str] = {}
    resolved: dict[str, str | None] = {}
    alone = _RESOLVED_ALONE if http_base(base_url) else None

    def add(raw: str | None, kind: str, by_extension: bool = True) -> None:
        if not raw:  # (absent or empty: `absolute` is None)
            return
        url = resolved[raw] if raw in resolved else resolved.setdefault(raw, _resolved(raw, base_url, alone))
        if url is not None and url not in found:
            found[url] = (_EXTENSION_KIND[url] or kind) if by_extension else kind

    for element in _embeds(selector.root):
        tag = element.tag if isinstance(element.tag, str) else ""
        get = element.get
        if tag == "style":
            for url, kind in css_requisites(" ".join(_TEXTS(element)), base_url):
                found.setdefault(url, kind)
            continue
        if tag == "link":
            rels = set((get("rel") or "").lower().split())
            if "stylesheet" in rels:
                add(get("href"), "style", by_extension=False)
            elif rels & ICON_RELS:
                add(get("href"), "image")
            elif "preload" in rels and (get("as") or "").lower() in PRELOAD_KINDS:
                add(get("href"), PRELOAD_KINDS[get("as").lower()], by_extension=False)
            continue
        if tag == "script":
            add(get("src"), "script", by_extension=False)
            continue
        if tag in ("video", "audio"):
            add(get("poster"), "image")
            add(get("src"), "media", by_extension=False)
            continue
        parent = element.getparent() if tag == "source" else None
        if parent is not None and parent.tag in ("video", "audio"):  # a media source
            add(get("src"), "media", by_extension=False)
            continue
        add(get("src"), "image")
        if srcset := get("srcset"):  # (`largest_srcset` of nothing is None)
            add(largest_srcset(srcset), "image")
        for name in LAZY_SRC:
            add(get(name), "image")
        for name in LAZY_SRCSET:
            if srcset := get(name):
                add(largest_srcset(srcset), "image")
    return tuple(found.items())


def css_requisites(css: str, base_url: str) -> tuple[Requisite, ...]:
    """`(url, kind)` of what a stylesheet loads: `@import`s are `style`, `url(…)` by extension
    (fonts, images), each URL once, relative URLs resolved against the stylesheet's own URL."""
    css = _CSS_COMMENT.sub("", css)
    found: dict[str, str] = {}
    for match in _CSS_IMPORT.finditer(css):
        url = absolute(next(g for g in match.groups() if g is not None), base_url)
        if url is not None:
            found.setdefault(url, "style")
    for match in _CSS_URL.finditer(css):
        url = absolute(next(g for g in match.groups() if g is not None), base_url)
        if url is not None:
            found.setdefault(url, kind_by_extension(url, "image"))
    return tuple(found.items())
