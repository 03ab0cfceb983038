"""archive/extract/url_join.py: the same answers as urllib's urljoin (and urlsplit of it), faster."""
from __future__ import annotations

import random
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from archive.eval_generic import load_pages
from archive.extract.url_join import join, split_joined
from testbed.fixture_pages import pages

FIXTURES = Path(__file__).parent / "fixtures"

BASES = ["http://tinbai.example.vn/bai-viet-so-3-post100003.html", "https://nhandan.vn/a/b/c.html?x=1#top",
         "http://Host.Example:8080", "https://h.vn/dir/", "http://[::1]/x", "http://[bad/x", "ftp://h.vn/x",
         "http:/no-host", "", "/relative/base", "HTTPS://UPPER.example/x", " http://h.vn/x", "http://h.vn/x;p?q#f",
         "http://user@h.vn/x", "mailto:a@b.vn"]
# Pieces hrefs are built from: every character urllib treats specially, in and out of place.
PIECES = ["http://", "https://", "HTTP://", "ftp://", "//", "/", "/", "/", "a", "b.html", "muc-1", "h.vn", "x.y",
          "?", "?q=1", "#", "#frag", ";", ";p", ".", "..", "/./", "/../", "/.x", ":", ":80", "@", "[", "]", "%20",
          " ", "\t", "\n", "\x00", "\x7f", "é", "Đường", "~", "&", "=", "data:", "javascript:", "mailto:", "\\"]


def _both(function, *args):
    try:
        return function(*args)
    except ValueError as exc:
        return ("ValueError", str(exc))


def _generated_hrefs(n: int, seed: int = 17) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 7))) for _ in range(n)]


def _fixture_hrefs() -> list[str]:
    """The hrefs and srcs of the fixture pages and the real pages of hosts with no profile."""
    texts = [page.read_text("utf-8", errors="replace") for page in pages()]
    texts += [page.html if isinstance(page.html, str) else page.html.decode("utf-8", "replace")
              for page in load_pages(FIXTURES / "eval-generic")]
    return sorted({href for text in texts for href in re.findall(r'(?:href|src)="([^"]*)"', text)})


@pytest.fixture(scope="module")
def hrefs() -> list[str]:
    return _generated_hrefs(3000) + _fixture_hrefs() + ["http://h.vn", "https://h.vn/", "/", "/?", "/#", "/a?b#",
                                                         "http://h.vn/a;b", "/a/./b", "/a/../b", "/a//b", "//h2.vn/x"]


@pytest.mark.parametrize("base", BASES)
def test_join_is_urljoin(base, hrefs):
    for href in hrefs:
        assert _both(join, base, href) == _both(urljoin, base, href), (base, href)
        assert _both(split_joined, base, href) == _both(lambda b, h: urlsplit(urljoin(b, h)), base, href), (base, href)


def test_the_plain_forms_take_the_shortcut(monkeypatch):
    """The common hrefs of a page are answered without urllib (else the module gains nothing)."""
    import archive.extract.url_join as url_join

    def refuse(*args):
        raise AssertionError(f"urljoin called for {args}")

    monkeypatch.setattr(url_join, "urljoin", refuse)
    base = "http://tinbai.example.vn/bai-viet-so-3-post100003.html"
    assert join(base, "/muc-0/chuyen-muc-1") == "http://tinbai.example.vn/muc-0/chuyen-muc-1"
    assert join(base, "https://image.tinbai.example.vn/w800/a.jpg?v=2") == "https://image.tinbai.example.vn/w800/a.jpg?v=2"
    assert split_joined(base, "/a.css?v=1#x") == ("http", "tinbai.example.vn", "/a.css", "v=1", "x")


def test_a_base_free_href_joins_the_same_under_every_http_base(hrefs):
    """`base_free(base, href)`: the answers for `href` are the same under every base `http_base` accepts
    (what archive/extract/requisites.py relies on to remember them across pages), and only then."""
    from archive.extract.url_join import base_free, http_base

    accepted = [base for base in BASES if http_base(base)]
    assert accepted and all(urlsplit(base.strip()).scheme.lower() in ("http", "https") for base in accepted)
    assert not http_base("ftp://h.vn/x") and not http_base("") and not http_base("http:/no-host")
    alone = 0
    for href in hrefs:
        for base in BASES:
            if base_free(base, href):
                alone += 1
                assert http_base(base)
                for other in accepted:
                    assert split_joined(other, href) == split_joined(base, href), (base, other, href)
                    assert join(other, href) == join(base, href), (base, other, href)
    assert alone


def test_joins_remembered_across_bases_are_urljoin(hrefs):
    """`join` remembers the hrefs of a plain form by their base's origin: under every base, the hrefs
    joined again in another order (answered from what the first round kept, under other bases of the
    same origin too) are still urljoin's; a long href is joined but not kept."""
    from archive.extract import url_join

    url_join._JOINED.clear()
    bases = BASES + ["http://tinbai.example.vn/other/page.html", "http://tinbai.example.vn", "https://nhandan.vn/"]
    for round_hrefs in (hrefs, list(reversed(hrefs))):
        for base in bases:
            for href in round_hrefs:
                assert _both(join, base, href) == _both(urljoin, base, href), (base, href)
    assert url_join._JOINED
    long_href = "/" + "x" * (url_join._JOINED_MAX_CHARS + 1)
    assert join(bases[0], long_href) == urljoin(bases[0], long_href)
    assert all(len(href) <= url_join._JOINED_MAX_CHARS for _, href in url_join._JOINED)
