"""Hostile pages, served from 127.0.0.1 for tests/test_hostile.py and `make bench-hostile`.

A `HostileSite` answers only the URLs it was given, as the fixture proxy's
site (testbed/fixtureserver.py), and records every URL it is asked for in
`hits`; it forwards nothing, so a request for 169.254.169.254 that reaches it
is seen and goes no further. The page builders make what issue #22 measured:
a gzip bomb (a few hundred KB that inflate to hundreds of MB), a page of
300,000 links, a 200,000-deep nest of elements, and the SSRF pointers
(redirect, meta refresh, sitemap) to internal addresses.
"""
from __future__ import annotations

import zlib
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from testbed.fixtureserver import FixtureSite, Reply

HTML = "text/html; charset=utf-8"
_HEAD = "<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"


class HostileSite(FixtureSite):
    """`add(url, reply)`; everything else is a 404. Hits are `scheme://host/path?query`."""

    def __init__(self):
        super().__init__(root=Path("/nonexistent"))
        self.pages: dict[str, Reply] = {}

    def add(self, url: str, reply: Reply) -> str:
        parts = urlsplit(url)
        self.pages[f"{parts.hostname}{parts.path or '/'}{'?' + parts.query if parts.query else ''}"] = reply
        return url

    def hosts(self) -> list[str]:  # names on the TLS certificate of CONNECT tunnels
        return sorted({key.split("/", 1)[0] for key in self.pages})

    def resolve(self, host: str, path_qs: str) -> Reply:
        reply = self.pages.get(f"{host}{path_qs}")
        if reply is None:
            return Reply(status=404, body=b"<html><body>404</body></html>", headers=[("Content-Type", HTML)],
                         encoding="identity")
        return replace(reply, headers=list(reply.headers))  # the handler appends to the list

    def hits_on(self, host: str) -> list[str]:
        with self.lock:
            return [hit for hit in self.hits if urlsplit(hit).hostname == host]


def html(body: str, title: str = "Trang") -> Reply:
    return Reply(body=(_HEAD.format(title=title) + body + "</body></html>").encode(), headers=[("Content-Type", HTML)],
                 encoding="identity")


def redirect(location: str, status: int = 301) -> Reply:
    return Reply(status=status, headers=[("Location", location)], encoding="identity")


def meta_refresh(target: str) -> Reply:
    return html(f'<meta http-equiv="refresh" content="0; url={target}"><p>Chuyển trang…</p>')


def gzip_bomb(inflated: int) -> Reply:
    """An HTML page sent with `Content-Encoding: gzip` that inflates to `inflated` bytes (~1,000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(_HEAD.format(title="bomb").encode() + b"<p>")]
    block = b"A" * (1 << 20)
    left = inflated - 100
    while left > 0:
        parts.append(compressor.compress(block[:min(left, len(block))]))
        left -= len(block)
    parts.append(compressor.compress(b"</p></body></html>") + compressor.flush())
    return Reply(body=b"".join(parts), headers=[("Content-Type", HTML), ("Content-Encoding", "gzip")],
                 encoding="identity")


def link_flood(count: int, host: str = "nhandan.vn") -> Reply:
    """An nhandan article page whose related box holds `count` links (~65 bytes each: 300,000 ≈ 19 MB)."""
    links = "".join(f'<a href="https://{host}/tin-lien-quan-so-{i}-post{i}.html">Tin số {i}</a>\n'
                    for i in range(count))
    return html('<h1 class="article__title">Tin</h1><div class="article__body"><p>Bài viết.</p></div>'
                f'<div class="article-relate">{links}</div>')


def deep_nest(depth: int) -> Reply:
    """A page of `depth` nested `<div>`s around one paragraph."""
    return html("<div>" * depth + "<p>Sâu.</p>" + "</div>" * depth)
