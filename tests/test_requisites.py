"""Page requisites (issue 24): what a page embeds is found, fetched once, archived, and kept apart.

The crawl tests run against tests/fixtures/requisites/: two nhandan.vn article
pages sharing a stylesheet, a script, a logo and a photo, with images on a CDN
host (`cdn.nhandan-static.vn`), a stylesheet that @imports a CDN stylesheet
that loads a font, a srcset, data-src/data-original/data-srcset lazy images,
one image disallowed by the CDN's robots.txt, one over the (test-lowered)
image size cap, and a video whose mp4 is not fetched (media are off by default).
"""
from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from parsel import Selector
from warcio.archiveiterator import ArchiveIterator

from archive.replay_check import archived_url, failed, read_net_log
from archive.extract.requisites import css_requisites, largest_srcset, page_requisites
from archive.serve import (BIND, PywbNotInstalled, free_port, prepare_collection, pywb_program, replay_url,
                           start_pywb, stop, take_screenshot)
from archive.warc.wacz import page_list
from crawler.arguments import ArgumentError, parse_crawl_arguments
from tests.conftest import run_crawl
from testbed.fixtureserver import FixtureServer, FixtureSite

ROOT = Path(__file__).resolve().parent / "fixtures" / "requisites"
SITE, CDN = "https://nhandan.vn", "https://cdn.nhandan-static.vn"
PAGE_A = f"{SITE}/bai-a-post990001.html"
PAGE_B = f"{SITE}/bai-b-post990002.html"
PAGES = {PAGE_A, PAGE_B, f"{SITE}/robots.txt", f"{CDN}/robots.txt"}
REQUISITES = {
    f"{SITE}/assets/site.css", f"{CDN}/css/theme.css",  # imported by site.css
    f"{CDN}/fonts/body.woff2", f"{CDN}/fonts/body.woff",  # preloaded, and in theme.css
    f"{SITE}/assets/bg.png",  # url() in site.css, relative to the stylesheet
    f"{SITE}/favicon.ico", f"{SITE}/assets/app.js", f"{SITE}/assets/logo.png",
    f"{SITE}/assets/masthead.png",  # url() in an inline <style>
    f"{CDN}/photos/a-small.jpg", f"{CDN}/photos/a-large.jpg",  # src + largest srcset candidate
    f"{CDN}/photos/a-lazy.jpg", f"{CDN}/photos/a-poster.jpg",
    f"{CDN}/photos/b-photo.jpg", f"{CDN}/photos/b-wide.webp",  # data-original, data-srcset 2x
}
NOT_ARCHIVED = {f"{CDN}/private/secret.jpg", f"{SITE}/assets/huge.jpg", f"{CDN}/video/a.mp4",
                f"{CDN}/photos/b-narrow.webp", f"{SITE}/assets/commented-out.png"}
SETTINGS = {"REQUISITES_MAX_BYTES": json.dumps({"image": 20_000}), "WARC_WRITER": "thread"}


@pytest.fixture(scope="module")
def requisite_server():
    server = FixtureServer(FixtureSite(ROOT)).start_background()
    yield server
    server.shutdown()


def _records(warc_dir: Path) -> Counter:
    """(record type, target URI) → how many times it was written."""
    found: Counter = Counter()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                uri = record.rec_headers.get_header("WARC-Target-URI")
                if uri:
                    found[(record.rec_type, uri)] += 1
    return found


def _fixture_and_eval_pages() -> list[str]:
    """Every fixture page and every eval-generic page, as text."""
    fixtures = Path(__file__).resolve().parent / "fixtures"
    pages = [p.read_bytes().decode("utf-8", "replace") for p in sorted(fixtures.rglob("*.html"))]
    return pages + [gzip.decompress(p.read_bytes()).decode("utf-8", "replace")
                    for p in sorted((fixtures / "eval-generic" / "html").glob("*.gz"))]


def test_page_requisites_reads_every_embedding_kind():
    html = (ROOT / "nhandan.vn" / "bai-a-post990001.html").read_text("utf-8")
    found = dict(page_requisites(Selector(text=html), PAGE_A))
    assert found == {
        f"{SITE}/assets/site.css": "style", f"{SITE}/favicon.ico": "image",
        f"{CDN}/fonts/body.woff2": "font", f"{SITE}/assets/app.js": "script",
        f"{SITE}/assets/masthead.png": "image", f"{SITE}/assets/logo.png": "image",
        f"{CDN}/photos/a-small.jpg": "image", f"{CDN}/photos/a-large.jpg": "image",
        f"{CDN}/photos/a-lazy.jpg": "image", f"{CDN}/private/secret.jpg": "image",
        f"{SITE}/assets/huge.jpg": "image", f"{CDN}/photos/a-poster.jpg": "image",
        f"{CDN}/video/a.mp4": "media",
    }  # the data: URI placeholder and the canonical link are not requisites


def test_css_requisites_imports_urls_and_comments():
    css = """@import "print.css"; @import url('https://cdn.example/t.css');
    /* url(ignored.png) */ a { background: url( "img/a.png" ) } b { src: url(../f/x.woff2?v=2#iefix) }
    i { background: url(data:image/png;base64,AAAA) }"""
    assert css_requisites(css, "https://site.example/css/main.css") == (
        ("https://site.example/css/print.css", "style"), ("https://cdn.example/t.css", "style"),
        ("https://site.example/css/img/a.png", "image"), ("https://site.example/f/x.woff2?v=2", "font"))


@pytest.mark.parametrize("srcset, largest", [
    ("a.jpg 400w, b.jpg 1200w, c.jpg 800w", "b.jpg"), ("a.jpg, b.jpg 2x", "b.jpg"), ("only.jpg", "only.jpg"),
    ("", None)])
def test_largest_srcset(srcset, largest):
    assert largest_srcset(srcset) == largest


def test_requisites_argument_is_validated():
    assert parse_crawl_arguments(urls=PAGE_A).requisites == "article"
    assert parse_crawl_arguments(urls=PAGE_A, requisites="ALL").requisites == "all"
    with pytest.raises(ArgumentError, match="requisites"):
        parse_crawl_arguments(urls=PAGE_A, requisites="images")


@pytest.fixture(scope="module")
def archived(tmp_path_factory, requisite_server):
    """One crawl of both pages (A, then B by its related link), shared by the tests that read it."""
    run = run_crawl(tmp_path_factory.mktemp("requisites") / "run", f"urls={PAGE_A}", "depth=1", "topic=none",
                    server=requisite_server, settings=SETTINGS)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_crawl_archives_each_requisite_once(archived):
    run = archived
    records = _records(run.warc_dir)
    responses = {uri: n for (kind, uri), n in records.items() if kind == "response"}
    requests = {uri: n for (kind, uri), n in records.items() if kind == "request"}
    assert responses == {uri: 1 for uri in PAGES | REQUISITES}
    assert requests == responses
    assert not NOT_ARCHIVED & set(responses)
    stats = run.stats
    assert stats["requisites/requested"] == len(REQUISITES) + 2  # + the robots-refused and too-large images
    assert stats["requisites/fetched"] == len(REQUISITES)
    # Page B's stylesheet, script, logo, favicon and photo, and the font in theme.css, were requested before.
    assert stats["requisites/deduplicated"] == 6
    assert stats["requisites/refused/robots"] == 1 and stats["requisites/refused/too_large"] == 1
    assert stats["requisites/skipped_media"] == 1
    assert stats.get("urls/failed", 0) == 0 and stats["urls/ok"] == 2  # the two pages; requisites apart
    report = json.loads((run.out / "runs.jsonl").read_text().splitlines()[-1])
    assert report["pages_fetched"] == len(PAGES)
    assert report["pages_by_status"] == {"200": len(PAGES)}
    assert report["requisites"]["fetched"] == len(REQUISITES)
    assert report["requisites"]["refused_by"] == {"robots": 1, "too_large": 1}
    assert "requisites        fetched 15" in run.stdout
    # The CDXJ index has every requisite; the WACZ page list still has only the two pages.
    indexed = {json.loads(line.split(" ", 2)[2])["url"]
               for path in run.warc_dir.glob("*.cdxj") for line in path.read_text().splitlines()}
    assert REQUISITES <= indexed
    assert {page["url"] for page in page_list(run.warc_dir)} == {PAGE_A, PAGE_B}
    # Requisites never reach extraction or the corpus.
    assert not any(url in REQUISITES for url in (r.get("url") for r in run.manifest()))


def test_requisites_none_archives_pages_only(tmp_path, requisite_server):
    run = run_crawl(tmp_path / "run", f"urls={PAGE_A}", "depth=1", "topic=none", "requisites=none",
                    server=requisite_server, settings=SETTINGS)
    assert run.returncode == 0, run.stderr[-2000:]
    responses = {uri for kind, uri in _records(run.warc_dir) if kind == "response"}
    assert responses == PAGES - {f"{CDN}/robots.txt"}  # the CDN is never visited
    assert not any(key.startswith("requisites/") for key in run.stats)
    assert "requisites " not in run.stdout


def test_recrawl_revisits_requisites(tmp_path, requisite_server):
    """A second crawl on the same state revalidates requisites (If-None-Match, stylesheets excepted:
    their fonts and images are read from the body) and writes revisit records, not second copies."""
    for _ in range(2):
        run = run_crawl(tmp_path / "run", f"urls={PAGE_A}", "depth=0", "topic=none", server=requisite_server,
                        settings={**SETTINGS, "REVISIT_FRESH_EVERY": "0", "REVISIT_OLD_EVERY": "0"})
        assert run.returncode == 0, run.stderr[-2000:]
    records = _records(run.warc_dir)
    assert records[("response", f"{SITE}/assets/logo.png")] == 1
    assert records[("revisit", f"{SITE}/assets/logo.png")] == 1
    assert records[("revisit", f"{CDN}/fonts/body.woff2")] == 1  # found again through the stylesheets
    conditional = {}
    for path in sorted(run.warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "request":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    conditional.setdefault(uri, []).append(bool(record.http_headers.get_header("If-None-Match")))
    assert conditional[f"{SITE}/assets/logo.png"] == [False, True]
    assert conditional[f"{SITE}/assets/site.css"] == [False, False]


def test_replayed_article_loads_every_archived_requisite(archived, tmp_path):
    """Headless Chromium on the replayed page A, every other host blocked: all it asks the archive for is
    served, but for what the crawl refused on purpose (robots.txt, size cap, media)."""
    try:
        pywb_program("wayback")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    except PywbNotInstalled as exc:
        pytest.skip(f"{exc} (make pywb)")
    if not chromium:
        pytest.skip("Chromium is not installed (Debian package `chromium`)")
    root = tmp_path / "pywb"
    prepare_collection(archived.warc_dir, root)
    port = free_port()
    process = start_pywb(root, port, quiet=True)
    try:
        take_screenshot(replay_url(port, PAGE_A), tmp_path / "a.png", net_log=tmp_path / "net.json")
    finally:
        stop(process)
    server = f"http://{BIND}:{port}/news/"
    requests = read_net_log(tmp_path / "net.json")
    failures, _ = failed(requests, server)
    missing = {archived_url(r.url) for r in failures}
    assert missing <= NOT_ARCHIVED
    served = {archived_url(r.url) for r in requests if r.url.startswith(server)} - missing
    assert {PAGE_A, f"{SITE}/assets/site.css", f"{CDN}/css/theme.css", f"{CDN}/fonts/body.woff2",
            f"{SITE}/assets/bg.png", f"{SITE}/assets/masthead.png", f"{SITE}/assets/app.js",
            f"{SITE}/assets/logo.png", f"{CDN}/photos/a-large.jpg", f"{CDN}/photos/a-poster.jpg"} <= served


def test_compressed_bodies_are_stored_not_deflated_again(tmp_path, monkeypatch):
    """A JPEG's gzip member is stored (level 0), and so is a page sent gzip- or br-encoded (chunked
    or not); a plain HTML page and one with `Content-Encoding: identity` are deflated as before.
    All read back intact."""
    import random
    import zlib
    from datetime import datetime, timezone

    from archive.warc.exchange import Exchange
    from archive.warc.records import WarcInfo
    from archive.warc.writer import WarcWriter

    import archive.warc.writer as writer_module

    levels = {}  # record bytes -> the level its member was made at
    real_member = writer_module.gzip_member

    def member(data, level):
        levels[data] = level
        return real_member(data, level)

    monkeypatch.setattr(writer_module, "gzip_member", member)

    photo, html = random.Random(1).randbytes(50_000), b"<p>" + "Hợp tác Việt Nam - Lào. ".encode() * 2000
    packed = gzip.compress(b"<p>%s</p>" % random.Random(2).randbytes(20_000).hex().encode(), 6)  # > 4 KB
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(packed), packed)
    writer = WarcWriter(tmp_path / "warc", prefix="t", info=WarcInfo(software="t", hostname="h"))
    cases = {  # name: (head fields, block, payload, stored at level 0)
        "jpeg": ("Content-Type: image/jpeg", photo, photo, True),
        "html": ("Content-Type: text/html", html, html, False),
        "identity": ("Content-Type: text/html\r\ncontent-encoding: identity", html, html, False),
        "gzip": ("Content-Type: text/html\r\nContent-Encoding: gzip", packed, packed, True),
        "br chunked": ("Content-Type: text/html\r\nTransfer-Encoding: chunked\r\ncontent-encoding:  br",
                       chunked, packed, True),
    }
    locations = {}
    for name, (fields, block, payload, _) in cases.items():
        head = f"HTTP/1.1 200 OK\r\n{fields}\r\nContent-Length: {len(block)}\r\n\r\n".encode()
        locations[name] = writer.write_exchange(Exchange(
            url=f"{SITE}/{name.replace(' ', '-')}", request_head=b"GET / HTTP/1.1\r\n\r\n", request_body=b"",
            response_head=head, response_block_body=block, payload=payload, ip_address="192.0.2.7",
            fetched_at=datetime(2025, 1, 2, tzinfo=timezone.utc))).result(timeout=10)
    writer.close()
    data = (tmp_path / "warc" / locations["jpeg"].warc_file).read_bytes()
    for name, (_, block, _, stored) in cases.items():
        member = data[locations[name].offset:locations[name].offset + locations[name].length]
        record = zlib.decompress(member, wbits=31)
        assert record.endswith(block + b"\r\n\r\n"), name
        assert levels[record] == (0 if stored else writer.config.compress_level), name
        assert (len(member) > len(block)) == stored, name  # stored, or deflated: the text shrinks
    assert _records(tmp_path / "warc")[("response", f"{SITE}/jpeg")] == 1


def test_the_embeds_are_read_in_one_walk_as_the_xpath_union_finds_them():
    """page_requisites finds what a page embeds in one walk of the document (`_embeds`), not ten
    (the XPath union it stands for): the same elements in the same order, on every fixture and eval
    page and on markup that tests each condition, read from the root and from an element
    inside it (`//` reads the whole document either way)."""
    import lxml.html

    from archive.extract.html_parser import HTML_PARSER
    from lxml import etree

    from archive.extract.requisites import _embeds

    union = etree.XPath("//img | //picture/source | //link | //script[@src] | //video | //audio"
                        " | //video/source | //audio/source | //input[@type='image'] | //style")

    pages = _fixture_and_eval_pages()
    pages.append("<html><head><link rel=x><style>a{}</style><script>x</script><script src=''></script></head><body>"
                 "<picture><source srcset=a><img src=b></picture><video poster=p><source src=v></video>"
                 "<audio><source src=s></audio><div><source src=no></div><source src=top>"
                 "<input type=image src=i><input type=Image src=j><input src=k><IMG SRC=u><svg:img src=n/>"
                 "<object><embed src=e></object><p><img src=c><video src=w></video></p></body></html>")
    for page in pages:
        tree = lxml.html.document_fromstring(page, parser=HTML_PARSER)
        expected = union(tree)
        assert _embeds(tree) == expected
        body = tree.find("body")
        if body is not None:
            assert _embeds(body) == union(body) == expected
    assert len(_embeds(lxml.html.document_fromstring(pages[-1], parser=HTML_PARSER))) == 13


def test_each_attribute_value_is_resolved_once_with_the_same_answers(monkeypatch):
    """page_requisites resolves each distinct attribute value once a page (a site repeats its
    teasers' images) and skips the attributes an element lacks; the answers, their order and their
    kinds are those of resolving every attribute as it comes."""
    from archive.extract import requisites

    html = ("<html><head><link rel=stylesheet href=/s.css><link rel=icon href=/s.css>"
            "<script src=/a.js></script><script src=/a.js></script></head><body>"
            "<img src=/p/1.jpg data-src=/p/1.jpg srcset=''>"
            "<img src='data:image/gif;base64,R0l=' data-src=/p/2.jpg class=lazy>"
            "<img src=https://nhandan.vn/p/2.jpg data-srcset='/p/3.webp 1x, /p/4.webp 2x'>"
            "<img src=/p/2.jpg data-original='javascript:void(0)' data-lazy-src=''>"
            "<img srcset='/p/5.png 300w, /p/6.png 600w' src=/p/6.png>"
            "<video poster=/p/1.jpg src=/v.mp4></video><img></body></html>")
    calls: list[str] = []
    resolve = requisites.absolute

    def counted(raw, base_url):
        calls.append(raw)
        return resolve(raw, base_url)

    monkeypatch.setattr(requisites, "absolute", counted)
    found = page_requisites(Selector(text=html), PAGE_A)
    assert found == (
        (f"{SITE}/s.css", "style"), (f"{SITE}/a.js", "script"), (f"{SITE}/p/1.jpg", "image"),
        (f"{SITE}/p/2.jpg", "image"), (f"{SITE}/p/4.webp", "image"), (f"{SITE}/p/6.png", "image"),
        (f"{SITE}/v.mp4", "media"))
    assert sorted(calls) == sorted(set(calls))  # each value once
    assert set(calls) == {"/s.css", "/a.js", "/p/1.jpg", "data:image/gif;base64,R0l=", "/p/2.jpg",
                          "https://nhandan.vn/p/2.jpg", "/p/4.webp", "javascript:void(0)", "/p/6.png",
                          "/v.mp4"}


def test_values_remembered_across_pages_resolve_as_on_their_own_page(monkeypatch):
    """page_requisites remembers across pages the values that resolve alone (plain absolute http(s)
    URLs) and the URLs' kinds: every fixture and eval page, read under its own URL and under
    other bases (another site, a base without an http origin), after all the others, gives what
    it gives with nothing remembered; a long value is answered but not kept."""
    from archive.extract import requisites

    pages = _fixture_and_eval_pages()
    pages.append("<html><head><script src=' http://h.vn/a.js '></script><script src=http://h.vn/a.js></script>"
                 "<link rel=icon href='HTTP://H.vn/i.ico'></head><body><img src=http://h.vn/p.jpg?x=1>"
                 "<img src=https://h.vn/p><img src=//h.vn/q.png><img src=http:/no-host.png><img src=/r.gif>"
                 f"<img src='http://h.vn/{'x' * 3000}.jpg'></body></html>")
    bases = [PAGE_A, "https://other.example/dir/page.html", "ftp://h.vn/x", ""]
    selectors = [Selector(text=page) for page in pages]

    class Computed:  # `_EXTENSION_KIND` remembering nothing
        def __getitem__(self, url):
            return requisites.kind_by_extension(url, "")

    def plain(selector, base):
        with monkeypatch.context() as patched:  # every value resolved and every kind read anew
            patched.setattr(requisites, "_resolved", lambda raw, base_url, alone: requisites.absolute(raw, base_url))
            patched.setattr(requisites, "_EXTENSION_KIND", Computed())
            return page_requisites(selector, base)

    expected = {(n, base): plain(selector, base) for n, selector in enumerate(selectors) for base in bases}
    requisites._RESOLVED_ALONE.clear()
    requisites._EXTENSION_KIND.clear()
    for _ in range(2):  # (the second round: every value met before, under every base)
        for base in bases:
            for n, selector in enumerate(selectors):
                assert page_requisites(selector, base) == expected[(n, base)], (n, base)
    assert requisites._RESOLVED_ALONE and requisites._EXTENSION_KIND
    assert all(len(raw) <= requisites._ALONE_MAX_CHARS for raw in requisites._RESOLVED_ALONE)
    assert "http://h.vn/a.js" in requisites._RESOLVED_ALONE and "/r.gif" not in requisites._RESOLVED_ALONE
