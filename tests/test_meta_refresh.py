"""crawler/downloadermiddlewares/meta_refresh.py decides as Scrapy's MetaRefreshMiddleware does."""
import codecs
import gzip
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from testbed.crawlers import project_crawler

from crawler.downloadermiddlewares.meta_refresh import HEAD_CHARS, HeadMetaRefreshMiddleware, head_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REFRESH = '<meta http-equiv="refresh" content="0; url=/elsewhere">'


def fixture_pages():
    for path in sorted((FIXTURES / "web").rglob("*.html")):
        yield path.name, path.read_bytes()
    for path in sorted((FIXTURES / "eval-generic" / "html").glob("*.html.gz"))[:40]:
        yield path.name, gzip.decompress(path.read_bytes())


def crafted_pages():
    filler = "Tin tức Việt Nam – Lào, đường biên giới 😀 " * 200  # 2-, 3- and 4-byte characters
    yield "refresh in head", f"<html><head>{REFRESH}</head><body>{filler}</body></html>".encode(), "utf-8"
    yield "refresh past 4,096 characters", f"<html><body>{filler}{REFRESH}</body></html>".encode(), "utf-8"
    for cut in range(4):  # a multi-byte character across the prefix's end
        yield f"shifted {cut}", ("x" * cut + filler + REFRESH).encode(), "utf-8"
    yield "utf-8 with a BOM", codecs.BOM_UTF8 + f"<head>{REFRESH}</head>{filler}".encode(), "utf-8"
    yield "cp1252", f"<head>{REFRESH}</head>café ".encode("cp1252") * 3000, "cp1252"
    yield "invalid utf-8", b"<head>\xff\xfe\xc3</head>" + REFRESH.encode() + b"\xe2\x82" * 5000, "utf-8"
    yield "short", f"<head>{REFRESH}</head>".encode(), "utf-8"
    base = '<base href="https://other.example.vn/section/">'
    yield "base, then a refresh", f"<head>{base}{REFRESH}</head>{filler}".encode(), "utf-8"
    yield "base and a relative refresh", (f'<head>{base}<meta http-equiv="refresh" content="5;url=next.html">'
                                          f"</head>{filler}").encode(), "utf-8"
    yield "base, no refresh", f"<head>{base}</head>{filler}".encode(), "utf-8"


@pytest.fixture(scope="module")
def middlewares(tmp_path_factory):
    crawler = project_crawler(WARC_DIR=str(tmp_path_factory.mktemp("meta-refresh") / "warc"))
    return HeadMetaRefreshMiddleware.from_crawler(crawler), MetaRefreshMiddleware.from_crawler(crawler)


def decisions(middleware, body: bytes, encoding: str | None):
    headers = {"Content-Type": f"text/html; charset={encoding}"} if encoding else {}
    request = Request("https://example.vn/a/page.html")
    response = HtmlResponse(request.url, body=body, headers=headers, request=request)
    result = middleware.process_response(request, response)
    return ("response", None) if result is response else (type(result).__name__, result.url), response


def test_the_project_uses_the_head_reading_middleware(tmp_path):
    # (a WARC_DIR of its own: the crawler's state would otherwise open the checkout's data/state.sqlite,
    # whose lock a second test run in the same checkout holds)
    middlewares = project_crawler(WARC_DIR=str(tmp_path / "warc")).settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert middlewares["crawler.downloadermiddlewares.meta_refresh.HeadMetaRefreshMiddleware"] == 580


def test_same_decisions_and_same_characters_as_scrapy(middlewares):
    ours, scrapys = middlewares
    cases = [(name, body, None) for name, body in fixture_pages()] + list(crafted_pages())
    followed = 0
    for name, body, encoding in cases:
        (mine, response), (theirs, _) = decisions(ours, body, encoding), decisions(scrapys, body, encoding)
        assert mine == theirs, name
        followed += mine[0] != "response"
        text = head_text(response)
        assert text is None or text == response.text[:HEAD_CHARS], name
    assert followed >= 5  # the crafted refreshes were followed, by both


def test_only_a_prefix_is_decoded_for_utf8():
    body = ("<html>" + "Việt Nam " * 20_000 + "</html>").encode()
    response = HtmlResponse("https://example.vn/", body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    assert head_text(response) == body.decode()[:HEAD_CHARS]
    assert response._cached_ubody is None  # Scrapy's whole-body text was never built
    latin = HtmlResponse("https://example.vn/", body=b"caf\xe9" * 9000,
                         headers={"Content-Type": "text/html; charset=cp1252"})
    assert head_text(latin) is None  # Scrapy's own path


def test_the_base_url_is_not_read_without_a_refresh(middlewares, monkeypatch):
    from crawler.downloadermiddlewares import meta_refresh

    def no_base(*args, **kwargs):
        raise AssertionError("the base URL was read for a page without a refresh")

    monkeypatch.setattr(meta_refresh.html, "get_base_url", no_base)
    body = ('<html><head><base href="https://other.example.vn/"></head><body>' + "Việt Nam " * 3000
            + "</body></html>").encode()
    outcome, response = decisions(middlewares[0], body, "utf-8")
    assert outcome == ("response", None)
