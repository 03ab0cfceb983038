"""A generated nhandan-style site of N article pages for throughput benchmarks.

Pages use the nhandan markup (so the real site profile decides what to follow)
and are served over plain http through the fixture proxy. Each page links to
five others in its related box, so a breadth-first crawl from the listing page
reaches every page. Bodies are ~40 KB of Vietnamese text; a third are sent
chunked, a quarter without compression, the rest gzip.
"""
from __future__ import annotations

import gzip
import random

from tests.fixtureserver import FixtureSite, Reply

HOST = "nhandan.vn"
WORDS = ("Việt Nam Lào hợp tác hữu nghị đặc biệt đoàn kết Đảng Nhà nước nhân dân hai nước "
         "phát triển kinh tế xã hội quốc phòng an ninh giáo dục đào tạo thương mại đầu tư "
         "biên giới hòa bình ổn định thủ đô Viêng Chăn Hà Nội chuyến thăm hội đàm lãnh đạo").split()


def article_url(n: int) -> str:
    return f"http://{HOST}/bai-viet-so-{n}-post{100000 + n}.html"


def _paragraphs(rng: random.Random, count: int) -> str:
    return "\n".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 110))).capitalize() + ".</p>"
        for _ in range(count))


def article_html(n: int, pages: int) -> bytes:
    rng = random.Random(n)
    related = "".join(
        f'<article class="story"><h3 class="story__heading"><a class="cms-link" '
        f'href="{article_url((n * 7 + k * 131 + 1) % pages)}">Bài liên quan {k}</a></h3></article>'
        for k in range(5))
    menu = "".join(f'<a href="/muc-{i}">Mục {i}</a>' for i in range(40))
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Bài viết số {n}</title><link rel="canonical" href="{article_url(n)}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="2024-09-11T20:15:00+07:00">
<meta name="author" content="Báo Nhân Dân điện tử"></head><body>
<header><nav class="menu">{menu}</nav></header>
<div class="breadcrumbs"><a href="/">Trang chủ</a></div>
<article class="article"><h1 class="article__title cms-title">Hợp tác Việt Nam - Lào, bài số {n}</h1>
<div class="article__meta"><time class="time" datetime="2024-09-11T20:15:00+0700">11-09-2024</time></div>
<div class="article__sapo cms-desc">{" ".join(rng.choice(WORDS) for _ in range(40))}.</div>
<div class="article__body zce-content-body cms-body" itemprop="articleBody">{_paragraphs(rng, 40)}</div>
<div class="article__author">PHÓNG VIÊN {n}</div></article>
<div class="box-related"><h3>Tin liên quan</h3>{related}</div>
<aside class="box-most-viewed"><h3>Đọc nhiều</h3>{_paragraphs(rng, 3)}</aside>
<footer class="footer">Báo Nhân Dân điện tử. {_paragraphs(rng, 2)}</footer></body></html>""".encode()


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
        self._ready: dict[int, tuple[bytes, bytes]] = {}
        if pages <= precompute:
            for n in range(pages):
                html = article_html(n, pages)
                self._ready[n] = (html, gzip.compress(html, compresslevel=6, mtime=0))

    def start_url(self) -> str:
        return f"http://{HOST}/tin-moi.html"

    def resolve(self, host: str, path_qs: str) -> Reply:
        if path_qs == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")], body=b"User-agent: *\nDisallow: /api/\n")
        if path_qs == "/tin-moi.html":
            links = "".join(f'<article class="story"><a class="cms-link" href="{article_url(i)}">{i}</a></article>'
                            for i in range(0, self.pages, max(1, self.pages // 20)))
            return Reply(headers=[("Content-Type", "text/html; charset=utf-8")],
                         body=f'<html><body><div class="box-stream">{links}</div></body></html>'.encode())
        try:
            n = int(path_qs.rsplit("-post", 1)[1].split(".")[0]) - 100000
        except (IndexError, ValueError):
            n = -1
        if host != HOST or not 0 <= n < self.pages:
            return Reply(status=404, headers=[("Content-Type", "text/html")], body=b"<h1>404</h1>")
        headers = [("Content-Type", "text/html; charset=utf-8")]
        if n in self._ready and n % 4:
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
            return Reply(headers=headers, body=self._ready[n][1], chunked=n % 3 == 0, encoding="identity")
        body = self._ready[n][0] if n in self._ready else article_html(n, self.pages)
        return Reply(headers=headers, body=body, chunked=n % 3 == 0,
                     encoding="identity" if n % 4 == 0 else "auto")
