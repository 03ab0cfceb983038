"""A generated nhandan-style site of N article pages for throughput benchmarks.

Pages use the nhandan markup (so the real site profile decides what to follow)
and are served over plain http through the fixture proxy. Each page links to
five others in its related box, so a breadth-first crawl from the listing page
reaches every page. A page is ~80 KB, as real article pages are: a ~900-word
article with two captioned photos amid a mega-menu, inline ad scripts and three
rails of teasers (issue #9 measures on "a realistic 80 KB nhandan-style page").
A third are sent chunked, a quarter without compression, the rest gzip. The
image host answers for the photos (12 KB) and teaser thumbnails (4 KB, a pool
of 400 the pages share), so a default crawl (page requisites on) archives them.
"""
from __future__ import annotations

import gzip
import random
from typing import Callable

from testbed.fixtureserver import FixtureSite, Reply

HOST = "nhandan.vn"
IMAGE_HOST = "image.nhandan.vn"  # the photos (two a page, its own) and teaser thumbnails (a shared pool)
THUMBS = 400
IMAGE_BYTES = {"/w800/": 12_000, "/w390/": 4_000}
WORDS = ("Việt Nam Lào hợp tác hữu nghị đặc biệt đoàn kết Đảng Nhà nước nhân dân hai nước "
         "phát triển kinh tế xã hội quốc phòng an ninh giáo dục đào tạo thương mại đầu tư "
         "biên giới hòa bình ổn định thủ đô Viêng Chăn Hà Nội chuyến thăm hội đàm lãnh đạo").split()


def article_url(n: int) -> str:
    return f"http://{HOST}/bai-viet-so-{n}-post{100000 + n}.html"


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _paragraphs(rng: random.Random, count: int) -> str:
    return "\n".join(f"<p>{_words(rng, 50, 90).capitalize()}.</p>" for _ in range(count))


def _photo(rng: random.Random, n: int, k: int) -> str:
    """nhandan's table-based photo box, caption in td.caption (docs/site-notes.md)."""
    return (f'<table class="picture" align="center"><tbody><tr><td class="pic"><img loading="lazy" '
            f'src="https://{IMAGE_HOST}/w800/Uploaded/2024/bai-{n}-anh-{k}.jpg" alt="{_words(rng, 6, 10)}" '
            f'data-width="800" data-height="533"></td></tr><tr><td class="caption">'
            f'{_words(rng, 12, 20).capitalize()}. Ảnh: TTXVN</td></tr></tbody></table>')


def _teasers(rng: random.Random, pages: int, css: str, title: str, count: int) -> str:
    """A box of story teasers (image, headline, sapo) as nhandan's sidebars and rails carry."""
    stories = "".join(
        f'<article class="story story--{css}"><figure class="story__thumb"><a class="cms-link" '
        f'href="{article_url(rng.randrange(pages))}" title="{_words(rng, 8, 14)}"><img class="lazyload" '
        f'src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="https://{IMAGE_HOST}/w390/'
        f'Uploaded/2024/{rng.randrange(10**8) % THUMBS}.jpg" alt=""></a></figure><h3 class="story__heading">'
        f'<a class="cms-link" href="{article_url(rng.randrange(pages))}">{_words(rng, 8, 14).capitalize()}</a>'
        f'</h3><div class="story__summary">{_words(rng, 25, 40)}.</div></article>'
        for _ in range(count))
    return f'<div class="box-{css}"><h3 class="box-title">{title}</h3>{stories}</div>'


_MENU = "".join(
    f'<li class="menu-item"><a class="menu-link" href="/muc-{i}" title="Mục {i}">Mục {i}</a><ul class="sub">'
    + "".join(f'<li><a href="/muc-{i}/chuyen-muc-{j}" title="Chuyên mục {i}.{j}">Chuyên mục {i}.{j}</a></li>'
              for j in range(12)) + "</ul></li>"
    for i in range(14))
_SCRIPT = "\n".join(  # ad-slot and analytics configuration, as news pages inline in <head>
    f'window.adSlots.push({{"id":"div-gpt-ad-{i}","path":"/21806/nhandan/slot_{i}","sizes":[[300,250],[728,90]],'
    f'"targeting":{{"zone":"chinh-tri","pos":"{i}"}}}});' for i in range(150))


def article_html(n: int, pages: int,
                 paragraphs: Callable[[random.Random, int], str] = _paragraphs) -> bytes:
    """A realistic ~80 KB nhandan-style page: ~900-word article amid menus, scripts and teaser rails.

    `paragraphs(rng, count)` writes the body's paragraphs (bench/scale_site.py: another text model)."""
    rng = random.Random(n)
    related = "".join(
        f'<article class="story"><h3 class="story__heading"><a class="cms-link" '
        f'href="{article_url((n * 7 + k * 131 + 1) % pages)}">Bài liên quan {k}</a></h3></article>'
        for k in range(5))
    body = "\n".join([paragraphs(rng, 5), _photo(rng, n, 1), paragraphs(rng, 5), _photo(rng, n, 2),
                      paragraphs(rng, 4)])
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<!-- synthetic benchmark page: nhandan-style markup (SITES.md), generated text -->
<title>Bài viết số {n}</title><link rel="canonical" href="{article_url(n)}">
<meta property="og:type" content="article"><meta property="og:title" content="Hợp tác Việt Nam - Lào, bài số {n}">
<meta property="og:image" content="https://image.nhandan.vn/w800/Uploaded/2024/bai-{n}-anh-1.jpg">
<meta property="article:published_time" content="2024-09-11T20:15:00+07:00">
<meta name="author" content="Báo Nhân Dân điện tử"><meta name="keywords" content="Việt Nam, Lào, hợp tác">
<script>window.adSlots = [];
{_SCRIPT}</script></head><body>
<header><nav class="menu"><ul class="menu-list">{_MENU}</ul></nav></header>
<div class="breadcrumbs"><a href="/">Trang chủ</a></div>
<article class="article"><h1 class="article__title cms-title">Hợp tác Việt Nam - Lào, bài số {n}</h1>
<div class="article__meta"><time class="time" datetime="2024-09-11T20:15:00+0700">11-09-2024</time></div>
<div class="article__sapo cms-desc">{_words(rng, 35, 45)}.</div>
<div class="article__body zce-content-body cms-body" itemprop="articleBody">{body}</div>
<div class="article__author">PHÓNG VIÊN {n}</div></article>
<div class="box-related"><h3>Tin liên quan</h3>{related}</div>
{_teasers(rng, pages, "latest", "Tin mới", 12)}
{_teasers(rng, pages, "most-viewed", "Đọc nhiều", 10)}
{_teasers(rng, pages, "category", "Cùng chuyên mục", 10)}
<footer class="footer">Báo Nhân Dân điện tử. {_paragraphs(rng, 2)}</footer></body></html>""".encode()


def listing_reply(pages: int) -> Reply:
    """The start page: a listing linking every twentieth page."""
    links = "".join(f'<article class="story"><a class="cms-link" href="{article_url(i)}">{i}</a></article>'
                    for i in range(0, pages, max(1, pages // 20)))
    return Reply(headers=[("Content-Type", "text/html; charset=utf-8")],
                 body=f'<html><body><div class="box-stream">{links}</div></body></html>'.encode())


def image_reply(path_qs: str) -> Reply:
    """A page's photo or a teaser thumbnail: bytes as incompressible as a JPEG's, the same for a path every time."""
    body = random.Random(path_qs).randbytes(IMAGE_BYTES[path_qs[:6]])
    return Reply(headers=[("Content-Type", "image/jpeg"), ("Cache-Control", "max-age=86400")], body=body,
                 encoding="identity")


def page_number(path_qs: str) -> int:
    """n of `article_url(n)`'s path, -1 for any other path."""
    try:
        return int(path_qs.rsplit("-post", 1)[1].split(".")[0]) - 100000
    except (IndexError, ValueError):
        return -1


class BenchSite(FixtureSite):
    """Serves `pages` generated articles plus a listing page and robots.txt.

    Up to `precompute` pages are rendered and compressed once, up front, so
    the server (which shares this 2-core machine with the crawler) spends as
    little CPU as possible per request and the benchmark measures the crawler.
    """

    def __init__(self, pages: int, precompute: int = 5000):
        super().__init__()
        self.routes = {}
        self.pages = pages
        self._ready: dict[int, bytes] = {}  # only the bytes sent: gzip for n % 4, else the page
        if pages <= precompute:
            for n in range(pages):
                html = self.render(n)
                self._ready[n] = gzip.compress(html, compresslevel=6, mtime=0) if n % 4 else html

    def render(self, n: int) -> bytes:
        """Article page `n`."""
        return article_html(n, self.pages)

    def start_url(self) -> str:
        return f"http://{HOST}/tin-moi.html"

    def resolve(self, host: str, path_qs: str) -> Reply:
        if path_qs == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")], body=b"User-agent: *\nDisallow: /api/\n")
        if path_qs == "/tin-moi.html":
            return listing_reply(self.pages)
        if host == IMAGE_HOST and path_qs[:6] in IMAGE_BYTES:
            return image_reply(path_qs)
        n = page_number(path_qs)
        if host != HOST or not 0 <= n < self.pages:
            return Reply(status=404, headers=[("Content-Type", "text/html")], body=b"<h1>404</h1>")
        headers = [("Content-Type", "text/html; charset=utf-8")]
        if n in self._ready and n % 4:
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
            return Reply(headers=headers, body=self._ready[n], chunked=n % 3 == 0, encoding="identity")
        body = self._ready[n] if n in self._ready else self.render(n)
        return Reply(headers=headers, body=body, chunked=n % 3 == 0,
                     encoding="identity" if n % 4 == 0 else "auto")
