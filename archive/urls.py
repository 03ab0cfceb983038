"""URL identity for dedupe and file naming.

Two URLs name the same article when their *canonical* forms are equal. The
canonical form is built with courlan (lowercase scheme and host, default
ports, tracker parameters, sorted query, dot segments, percent-quoting of the
path) plus the few rules courlan leaves out, each marked where it is done:
https for http, no fragment, no trailing slash, AMP variants folded into the
page they mirror, Zalo's tracking parameter, and percent-escapes with one
spelling.

`url_hash16` names corpus files, so the canonical form must stay stable: a
change here renames nothing on disk, but breaks URL dedupe against old
manifests. Pin it with the table test in tests/test_urls.py.
"""
from __future__ import annotations

import hashlib
import ipaddress
from functools import lru_cache
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url, scrub_url

__all__ = ["canonical_url", "page_canonical_url", "url_hash16", "is_valid_http_url"]

# Query parameters courlan's TRACKERS_RE does not know: Zalo's share tracker
# (zarsrc), the Vietnamese-web share params, and AMP switches (the AMP page is
# the same article as the plain one).
_EXTRA_DROPPED_PARAMS = frozenset({"zarsrc", "zarsrc_id", "amp", "outputtype", "_ga", "_gl", "gidzl"})

_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SPACE = re.compile(r"\s")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9\u00a1-\uffff-]{1,63}(?<!-)$", re.IGNORECASE)


def _canonical_url(url: str) -> str:
    """The identity of the page at `url`, for dedupe (see the module docstring).

    Raises ValueError for something that is not an http(s) URL at all.
    """
    raw = url.strip()
    if not is_valid_http_url(raw):
        raise ValueError(f"not an http(s) URL: {url!r}")
    parts = urlsplit(scrub_url(raw))
    # Percent-escapes first: courlan keeps existing escapes verbatim, so
    # `%c3%a1`, `%C3%A1` and `á` would otherwise stay three different URLs.
    path = _normalise_escapes(parts.path)
    query = _drop_extra_params(parts.query)
    # courlan: lowercase scheme/host, punycode, default port, duplicate and
    # dot-segment slashes, tracker params (utm_*, fbclid, gclid, ...), sorted
    # query, quoting of the path.
    normalised = normalize_url(urlunsplit((parts.scheme, parts.netloc, path, query, "")),
                               trailing_slash=False)
    parts = urlsplit(normalised)
    # http and https serve the same article on every site we crawl.
    scheme = "https"
    netloc = parts.netloc
    if netloc.endswith(":443"):
        netloc = netloc[: -len(":443")]
    netloc = netloc.rstrip(".")  # `nhandan.vn.` is the same host
    path = _fold_amp_path(parts.path, parts.hostname or "")
    # courlan keeps a trailing slash whenever a query is present; we never want it.
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    if not path:
        path = "/"
    # Fragments never select a different article (courlan keeps them unless strict).
    canonical = urlunsplit((scheme, netloc, path, parts.query, ""))
    # A URL already canonical (most https links and page requisites) is answered with itself: the
    # cache then holds one string for it, not two (~40,000 requisites in a 20,000-page crawl).
    return url if canonical == url and type(url) is str else canonical


canonical_url = lru_cache(maxsize=65536)(_canonical_url)  # pages repeat the same menu and related links; courlan is ~0.3 ms a call
# `canonical_url` of a page's own URL where the page is read (archive/extract/article.py
# `parse_page`, then the page's rel=canonical, mostly the same URL): a crawl reads each page once, so
# these filled `canonical_url`'s cache with one entry a page it never asked again (~290 bytes; an
# extraction worker of a 20,000-page crawl held ~10,000 of them). Kept apart, a few pages deep.
page_canonical_url = lru_cache(maxsize=64)(_canonical_url)


def site_of(url: str) -> str | None:
    """The manifest's `site`, on seed and crawled rows alike: the URL's host, lowercase, without
    `www.` (`nhandan.vn`, `qdnd.vn`); None for a URL without a host."""
    return (urlsplit(url).hostname or "").removeprefix("www.") or None


def url_hash16(url: str) -> str:
    """First 16 hex digits of SHA-256 of the canonical URL: the `<h16>` of `NNN_<h16>.txt`."""
    return hashlib.sha256(canonical_url(url).encode("utf-8")).hexdigest()[:16]


def is_valid_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a plausible host, for checking user input.

    Accepts domain names (including IDN), `localhost` and IP literals with an
    optional port; rejects whitespace, missing hosts, bad ports and other schemes.
    """
    if not isinstance(url, str) or not url:
        return False
    url = url.strip()
    if _SPACE.search(url):  # `\s` is `str.isspace` (both Py_UNICODE_ISSPACE): a scan in C, not a generator
        return False
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        return False
    hostname = parts.hostname  # a property that re-parses the netloc on each read
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        return False
    if port == 0:
        return False
    host = hostname.rstrip(".")
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    return len(labels) >= 2 and all(_HOST_LABEL.match(label) for label in labels) \
        and not labels[-1].isdigit()


def _normalise_escapes(path: str) -> str:
    """Uppercase every %XX escape and decode the ones for unreserved ASCII (RFC 3986 §6.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _ESCAPE.sub(fix, path)


def _drop_extra_params(query: str) -> str:
    """Remove the params in `_EXTRA_DROPPED_PARAMS` (any case); keep the rest as given."""
    if not query:
        return ""
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
            if k.lower() not in _EXTRA_DROPPED_PARAMS]
    return urlencode(kept, doseq=True)


def _fold_amp_path(path: str, host: str) -> str:
    """Map an AMP page's path to the page it mirrors.

    Handles an `amp` path segment anywhere (`/amp/x.html`, `/x.html/amp`,
    `/x/amp`) and an `.amp` suffix standing in for the site's page suffix
    (the site profile's `amp_twin_suffix`).
    """
    segments = path.split("/")
    if any(seg.lower() == "amp" for seg in segments):
        segments = [seg for seg in segments if seg.lower() != "amp"]
        path = "/".join(segments) or "/"
        if not path.startswith("/"):
            path = "/" + path
    if path.lower().endswith(".amp"):
        path = path[: -len(".amp")] + _amp_twin_suffix(host)
    return path


def _amp_twin_suffix(host: str) -> str:
    """The site profile's `amp_twin_suffix` (`.vnp` on vietnamplus, else `.html`)."""
    # Here, not at the top: the profiles import this module (through the extraction hints).
    from archive.sites import profile_for

    return profile_for(f"https://{host}/").amp_twin_suffix
