"""The pages `make bench`'s headline rows crawl (issue #17): realistic article pages under a
profiled site's URLs or under a host with no profile.

Built on bench/scale_site.py's pages (own random text per article plus recurring stock
sentences: distinct pages, no near-duplicates; related links named by their headlines, so a
`topic=auto` crawl follows them), grown to 80–150 KB as real pages are: four more teaser
rails and a longer body. A teaser's thumbnail is its article's photo, as on the real sites,
so page requisites (on by default) are a few images an article, shared across pages;
images are served as small 200 responses.
"""
from __future__ import annotations

import random
import re

from bench.scale_site import ScaleSite
from testbed.bench_site import HOST, _teasers, _words
from testbed.fixtureserver import Reply

GENERIC_HOST = "tinbai.example.vn"  # no site profile: archive/sites/generic.py
# A 1 KB "JPEG" with a real file's first bytes (a JFIF header): Scrapy sniffs an image/* body for
# control characters (responsetypes.from_body) and stops at the first, as it does in a real JPEG
# (byte 5); 1 KB of NULs after the magic number made it read the whole body, 1 ms a page.
IMAGE = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(1004)
_THUMB = re.compile(rb'data-src="https://image\.nhandan\.vn/w390/Uploaded/2024/\d+\.jpg"')
_TEASER_LINK = re.compile(rb'href="http://nhandan\.vn/bai-viet-so-(\d+)-post\d+\.html"')


class DefaultSite(ScaleSite):
    """`pages` articles of ~85–100 KB, under nhandan.vn (`host=HOST`) or a host with no profile."""

    def __init__(self, pages: int, host: str = HOST):
        self.host = host
        super().__init__(pages)

    def render(self, n: int) -> bytes:
        html = super().render(n)
        rng = random.Random(f"default-{n}")
        more = "".join(_teasers(rng, self.pages, f"rail-{k}", f"Chuyên mục {k}", 8) for k in range(4))
        extra = "\n".join(f"<p>{_words(rng, 50, 90).capitalize()}.</p>" for _ in range(6))
        html = html.replace(b"</div>\n<div class=\"article__author\">", extra.encode() + b"</div>\n"
                            b"<div class=\"article__author\">", 1)
        html = html.replace(b"<footer", more.encode() + b"<footer", 1)
        html = _thumbs_of_their_articles(html)
        return html.replace(HOST.encode(), self.host.encode()) if self.host != HOST else html

    def start_url(self) -> str:
        return super().start_url().replace(HOST, self.host)

    def resolve(self, host: str, path_qs: str) -> Reply:
        if host.startswith("image."):
            return Reply(headers=[("Content-Type", "image/jpeg")], body=IMAGE, encoding="identity")
        if host != self.host:
            return Reply(status=404, headers=[("Content-Type", "text/html")], body=b"<h1>404</h1>")
        reply = super().resolve(HOST, path_qs)
        if self.host != HOST and reply.status == 200 and path_qs == "/tin-moi.html":
            reply.body = reply.body.replace(HOST.encode(), self.host.encode())
        return reply


def _thumbs_of_their_articles(html: bytes) -> bytes:
    """Each teaser's thumbnail becomes the photo of the article it links to."""
    out, last = [], 0
    for thumb in _THUMB.finditer(html):
        link = _TEASER_LINK.search(html, max(0, thumb.start() - 400), thumb.start())
        out += [html[last:thumb.start()], b'data-src="https://image.nhandan.vn/w800/Uploaded/2024/bai-'
                + (link.group(1) if link else b"0") + b'-anh-1.jpg"']
        last = thumb.end()
    return b"".join(out) + html[last:]
