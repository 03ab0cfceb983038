"""`urljoin` of a page's hrefs, without urllib's general parse for the two common forms.

A generic page has ~200 hrefs and embeds (links, images, scripts), and
`urllib.parse.urljoin` parses each and its base again (~5 µs a call, ~1 ms a
page in the extraction worker). Nearly all are either absolute http(s) URLs or
root-relative paths (`/muc-1/bai.html`), for which urljoin's answer is known
without parsing: the href itself, or the base's `scheme://netloc` before it.
`join` and `split_joined` take that shortcut only for hrefs of a plain form
(regular expressions below: no control characters or spaces, no params, no
empty query or fragment, no dot segments in a root-relative path, an ASCII
host without brackets or user info) under an http(s) base with a host, where
urljoin gives exactly that; everything else goes to urllib
(tests/test_url_join.py compares the two on generated hrefs and bases). `join`
remembers those answers by the base's origin and the href (a site links the same hrefs from
page after page).
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import SplitResult, urljoin, urlsplit

from archive.extract.bounded_memo import remember

__all__ = ["join", "split_joined", "http_base", "base_free"]

_TAIL = r"(?:\?([^\x00-\x20\x7f#]+))?(?:#([^\x00-\x20\x7f]+))?\Z"  # a non-empty query, a non-empty fragment
_PATH = r"[^\x00-\x20\x7f?#;]*"
_ABSOLUTE = re.compile(r"(https?)://([-.0-9:A-Z_a-z~%]+)(/" + _PATH + ")?" + _TAIL)
_ROOTED = re.compile(r"(/(?!/)" + _PATH + ")" + _TAIL)


@lru_cache(maxsize=64)
def _origin(base: str) -> tuple[str, str] | None:
    """(scheme, netloc) of an http(s) base with a host that urllib parses; else None."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    return (parts.scheme, parts.netloc) if parts.scheme in ("http", "https") and parts.netloc else None


def _plain(base: str, href: str) -> tuple[bool, tuple[str, str, str, str, str]] | None:
    """(href is absolute, `urlsplit(urljoin(base, href))`) for an href of a plain form; else None."""
    origin = _origin(base)
    if origin is None:
        return None
    match = _ABSOLUTE.match(href)
    if match is not None:
        scheme, netloc, path, query, fragment = match.groups()
        return True, (scheme, netloc, path or "", query or "", fragment or "")
    match = _ROOTED.match(href)
    if match is not None:
        path, query, fragment = match.groups()
        if "/." not in path:  # a `.` or `..` segment is resolved by urljoin (as is `/.x`: left to it)
            return False, (*origin, path, query or "", fragment or "")
    return None


# `join` of the hrefs of a plain form met so far, by the base's origin and the href: `_plain` reads the
# base only through `_origin`, so the answer is a function of the two (a site's menus, sections and
# teasers link the same hrefs from page after page, ~8,000 instructions each to match and join).
# Bounded: emptied past `_JOINED_LIMIT`; an href longer than `_JOINED_MAX_CHARS` is joined, not kept.
_JOINED: dict[tuple[tuple[str, str], str], str] = {}
_JOINED_LIMIT, _JOINED_MAX_CHARS = 8192, 2048


def join(base: str, href: str) -> str:
    """`urllib.parse.urljoin(base, href)`."""
    origin = _origin(base) if base and href else None
    if origin is None:
        return urljoin(base, href)
    key = (origin, href)
    joined = _JOINED.get(key)
    if joined is not None:
        return joined
    plain = _plain(base, href)
    if plain is None:
        return urljoin(base, href)
    absolute, (scheme, netloc, _, _, _) = plain
    joined = href if absolute else f"{scheme}://{netloc}{href}"
    if len(href) <= _JOINED_MAX_CHARS:
        remember(_JOINED, key, joined, _JOINED_LIMIT)
    return joined


def split_joined(base: str, href: str) -> SplitResult:
    """`urlsplit(urljoin(base, href))`."""
    plain = _plain(base, href) if base and href else None
    if plain is None:
        return urlsplit(urljoin(base, href))
    return SplitResult(*plain[1])


def http_base(base: str) -> bool:
    """Whether `base` is an http(s) URL with a host that urllib parses (the bases the shortcut is
    taken under)."""
    return bool(base) and _origin(base) is not None


def base_free(base: str, href: str) -> bool:
    """Whether `join(base, href)` and `split_joined(base, href)` are a function of `href` alone: an
    absolute http(s) URL of the plain form under an `http_base` (the shortcut then reads nothing of
    the base), so the answers are the same under every `http_base`."""
    return bool(href) and http_base(base) and _ABSOLUTE.match(href) is not None
