"""A nhandan-style site that changes between crawls, for the incremental tests and bench.

Articles are generated (nhandan markup, ~300 words, so extraction keeps them).
`articles` maps n → text revision; a missing n is deleted (410). Pages send
`ETag` and `Last-Modified` (unless `validators` is off for n) and answer a
matching `If-None-Match` / `If-Modified-Since` with 304. The site also serves
`/tin-moi.html` (a listing of every live article), `/sitemap.xml` (a sitemap
index of monthly shards), `/sitemaps/news-YYYY-M.xml` shards, a Google News
sitemap and `/rss/home.rss`, with per-article publication dates. The shards'
`<lastmod>` is the publication date unless `lastmod` has a later one for n
(set it when editing an article, as a CMS does).
"""
from __future__ import annotations

import hashlib
import random
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from testbed.fixtureserver import FixtureHandler, FixtureServer, FixtureSite, Reply

HOST = "nhandan.vn"
VN = timezone(timedelta(hours=7))
WORDS = ("Việt Nam Lào hợp tác hữu nghị đặc biệt đoàn kết nhân dân hai nước phát triển kinh tế xã hội "
         "giáo dục đào tạo thương mại đầu tư biên giới hòa bình ổn định thủ đô Hà Nội hội đàm").split()


_request = threading.local()  # the request being answered, for conditional GET


class ConditionalHandler(FixtureHandler):
    """The fixture proxy handler, exposing request headers to the site."""

    def do_GET(self, head: bool = False):
        _request.headers = self.headers
        try:
            super().do_GET(head)
        finally:
            _request.headers = None


def serve(site: "ChangingSite") -> FixtureServer:
    return FixtureServer(site, handler=ConditionalHandler).start_background()


def article_url(n: int) -> str:
    return f"http://{HOST}/bai-so-{n}-post{200000 + n}.html"


class ChangingSite(FixtureSite):
    def __init__(self, articles: dict[int, int], *, published: dict[int, datetime] | None = None,
                 no_validators: set[int] = frozenset(), delay: float = 0.0, paragraphs: int = 6):
        super().__init__()
        self.routes = {}
        self.articles = dict(articles)
        self.published = published or {}
        self.no_validators = set(no_validators)
        self.delay = delay
        self.paragraphs = paragraphs
        self.not_modified = 0
        self.listed: set[int] | None = None  # what /tin-moi.html links to (default: the live articles)
        self.lastmod: dict[int, datetime] = {}  # n -> sitemap <lastmod> (default: the publication date)
        self.lock = threading.Lock()

    def date(self, n: int) -> datetime:
        return self.published.get(n) or datetime(2024, 9, 1, 8, 0, tzinfo=VN) + timedelta(days=n % 28)

    def html(self, n: int) -> bytes:
        revision = self.articles[n]
        rng = random.Random(n)
        paras = ["<p>" + " ".join(rng.choice(WORDS) for _ in range(50)).capitalize() + ".</p>"
                 for _ in range(self.paragraphs)]
        if revision > 1:
            paras.append(f"<p>Cập nhật lần {revision}: bài viết được bổ sung thông tin mới về hợp tác.</p>")
        when = self.date(n)
        return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Bài số {n}</title>
<link rel="canonical" href="{article_url(n)}"><meta property="og:type" content="article">
<meta property="article:published_time" content="{when.isoformat()}"></head><body>
<article class="article"><h1 class="article__title cms-title">Hợp tác hữu nghị, bài số {n}</h1>
<div class="article__meta"><time class="time" datetime="{when.strftime('%Y-%m-%dT%H:%M:%S+0700')}">x</time></div>
<div class="article__sapo cms-desc">Tóm tắt bài số {n} về quan hệ hữu nghị.</div>
<div class="article__body zce-content-body cms-body">{''.join(paras)}</div>
<div class="article__author">PHÓNG VIÊN {n}</div></article></body></html>""".encode()

    def resolve(self, host: str, path_qs: str) -> Reply:
        reply = self.resolve_plain(host, path_qs)
        headers = getattr(_request, "headers", None)
        if headers is not None and reply.status == 200 and "-post" in path_qs:
            inm, ims = headers.get("If-None-Match"), headers.get("If-Modified-Since")
            etag = dict(reply.headers).get("ETag")
            lm = dict(reply.headers).get("Last-Modified")
            if (inm and etag and inm == etag) or (not inm and ims and lm and ims == lm):
                with self.lock:
                    self.not_modified += 1
                return Reply(status=304, headers=[(k, v) for k, v in reply.headers
                                                  if k in ("ETag", "Last-Modified")], encoding="identity")
        return reply

    def resolve_plain(self, host: str, path_qs: str) -> Reply:
        html = [("Content-Type", "text/html; charset=utf-8")]
        xml = [("Content-Type", "application/xml; charset=utf-8")]
        live = sorted(self.articles)
        if path_qs == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")],
                         body=f"User-agent: *\nDisallow: /api/\nSitemap: http://{HOST}/sitemap.xml\n".encode())
        if path_qs == "/tin-moi.html":
            links = "".join(f'<article class="story"><a class="cms-link" href="{article_url(n)}">{n}</a></article>'
                            for n in sorted(self.listed if self.listed is not None else live))
            return Reply(headers=html, body=f'<html><body><div class="box-stream">{links}</div></body></html>'.encode())
        if path_qs in ("/sitemap.xml", "/sitemaps.xml"):
            months = sorted({(self.date(n).year, self.date(n).month) for n in live})
            items = "".join(f"<sitemap><loc>http://{HOST}/sitemaps/news-{y}-{m}.xml</loc></sitemap>" for y, m in months)
            return Reply(headers=xml, body=f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode())
        if path_qs.startswith("/sitemaps/news-"):
            y, m = (int(x) for x in path_qs[len("/sitemaps/news-"):-4].split("-"))
            items = "".join(f"<url><loc>{article_url(n)}</loc>"
                            f"<lastmod>{self.lastmod.get(n, self.date(n)).isoformat()}</lastmod></url>"
                            for n in live if (self.date(n).year, self.date(n).month) == (y, m))
            return Reply(headers=xml, body=f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode())
        if path_qs == "/sitemaps/google-news.xml":
            items = "".join(
                f"<url><loc>{article_url(n)}</loc><news:news><news:publication><news:name>Nhân Dân</news:name>"
                f"<news:language>vi</news:language></news:publication><news:publication_date>"
                f"{self.date(n).isoformat()}</news:publication_date><news:title>Bài {n}</news:title></news:news></url>"
                for n in live)
            return Reply(headers=xml, body=(
                '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{items}</urlset>').encode())
        if path_qs == "/rss/home.rss":
            items = "".join(f"<item><title>Bài {n}</title><link>{article_url(n)}</link>"
                            f"<pubDate>{format_datetime(self.date(n))}</pubDate></item>" for n in live)
            return Reply(headers=[("Content-Type", "application/rss+xml")], body=(
                f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>ND</title>{items}'
                '</channel></rss>').encode())
        try:
            n = int(path_qs.rsplit("-post", 1)[1].split(".")[0]) - 200000
        except (IndexError, ValueError):
            return Reply(status=404, headers=html, body=b"<h1>404</h1>")
        if n not in self.articles:
            return Reply(status=410, headers=html, body=b"<h1>410 Gone</h1>")
        body = self.html(n)
        headers = list(html)
        if n not in self.no_validators:
            headers.append(("ETag", '"%s"' % hashlib.sha1(body).hexdigest()[:16]))
            headers.append(("Last-Modified", format_datetime(self.date(n).astimezone(timezone.utc), usegmt=True)))
        return Reply(headers=headers, body=body, delay=self.delay, chunked=n % 3 == 0)
