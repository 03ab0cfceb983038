"""Canonical URLs: the identity used for dedupe and in corpus file names."""
import hashlib
import sys

import pytest

from archive.urls import canonical_url, is_valid_http_url, url_hash16

ND = "https://nhandan.vn/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-post830201.html"

CANONICAL = [
    # (input, canonical) — one row per rule; the comment names the rule
    (ND, ND),
    ("http://nhandan.vn/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-post830201.html"
     "?utm_source=zalo&utm_medium=share", ND),  # http→https, utm_* gone
    ("HTTPS://NhanDan.VN/a-post1.html", "https://nhandan.vn/a-post1.html"),  # scheme/host case
    ("https://NhanDan.vn/A-Post1.html", "https://nhandan.vn/A-Post1.html"),  # path case kept
    ("https://www.nhandan.vn/a-post1.html", "https://www.nhandan.vn/a-post1.html"),  # www. kept
    ("https://nhandan.vn/a-post1.html#binh-luan", "https://nhandan.vn/a-post1.html"),  # fragment
    ("https://nhandan.vn/a-post1.html?fbclid=IwAR0x&gclid=abc&zarsrc=30&_ga=2.1",
     "https://nhandan.vn/a-post1.html"),  # social/ads trackers
    ("https://nhandan.vn/a-post1.html?b=2&a=1", "https://nhandan.vn/a-post1.html?a=1&b=2"),  # query sorted
    ("https://nhandan.vn/chinhtri/", "https://nhandan.vn/chinhtri"),  # trailing slash
    ("https://nhandan.vn/chinhtri/?page=2", "https://nhandan.vn/chinhtri?page=2"),  # ... even with a query
    ("https://nhandan.vn", "https://nhandan.vn/"),  # root keeps its slash
    ("http://nhandan.vn:80/a-post1.html", "https://nhandan.vn/a-post1.html"),  # default port
    ("https://nhandan.vn:443/a-post1.html", "https://nhandan.vn/a-post1.html"),
    ("http://localhost:8080/x/", "https://localhost:8080/x"),  # other ports stay
    ("https://nhandan.vn/amp/a-post1.html", "https://nhandan.vn/a-post1.html"),  # /amp/ segment
    ("https://nhandan.vn/a-post1.html/amp", "https://nhandan.vn/a-post1.html"),  # /amp suffix
    ("https://nhandan.vn/a-post1.amp", "https://nhandan.vn/a-post1.html"),  # .amp for .html
    ("https://www.vietnamplus.vn/a-post234366.amp", "https://www.vietnamplus.vn/a-post234366.vnp"),  # .amp for .vnp
    ("https://nhandan.vn/a-post1.html?amp", "https://nhandan.vn/a-post1.html"),  # ?amp
    ("https://nhandan.vn/a-post1.html?amp=1&page=2", "https://nhandan.vn/a-post1.html?page=2"),  # amp=1
    ("https://nhandan.vn/%c3%a1-post1.html", "https://nhandan.vn/%C3%A1-post1.html"),  # escape case
    ("https://nhandan.vn/á-post1.html", "https://nhandan.vn/%C3%A1-post1.html"),  # raw non-ASCII
    ("https://nhandan.vn/%7Ea%2Db-post1.html", "https://nhandan.vn/~a-b-post1.html"),  # unreserved decoded
    ("https://nhandan.vn/a%2Fb", "https://nhandan.vn/a%2Fb"),  # reserved escapes kept
    ("https://nhandan.vn//a//b-post1.html", "https://nhandan.vn/a/b-post1.html"),  # duplicate slashes
    ("  https://nhandan.vn/a-post1.html \n", "https://nhandan.vn/a-post1.html"),  # surrounding space
    ("https://thoidai.com.vn/huu-nghi/p2", "https://thoidai.com.vn/huu-nghi/p2"),
]


@pytest.mark.parametrize("url,expected", CANONICAL)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url,expected", CANONICAL)
def test_canonical_url_is_idempotent(url, expected):
    assert canonical_url(expected) == expected


def test_canonical_url_rejects_non_http():
    with pytest.raises(ValueError):
        canonical_url("ftp://nhandan.vn/x")
    with pytest.raises(ValueError):
        canonical_url("nhandan.vn/x")


def test_url_hash16_is_sha256_of_canonical_url():
    expected = hashlib.sha256(ND.encode()).hexdigest()[:16]
    assert url_hash16(ND) == expected
    assert url_hash16(ND.replace("https:", "http:") + "?utm_source=zalo#top") == expected
    assert len(expected) == 16


@pytest.mark.parametrize("url", [
    "https://nhandan.vn/a-post1.html",
    "http://thoidai.com.vn/huu-nghi",
    "http://localhost:8080/",
    "http://127.0.0.1:9/x",
    "https://[::1]/x",
    "https://báo.vn/x",
])
def test_valid_urls(url):
    assert is_valid_http_url(url)


@pytest.mark.parametrize("url", [
    "", "nhandan.vn/x", "ftp://nhandan.vn/x", "https://", "https://nhandan", "https://nhandan.vn/a b",
    "https://nhandan.vn:99999/", "https://nhandan.vn:abc/", "https://bad_host.vn/", "javascript:alert(1)",
    "https://-bad.vn/", "https://1.2.3/", None,
])
def test_invalid_urls(url):
    assert not is_valid_http_url(url)


def test_every_unicode_space_inside_a_url_makes_it_invalid_and_outer_ones_are_stripped():
    # is_valid_http_url scans with a regex `\s`: it must reject exactly what `str.isspace` calls a space.
    spaces = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]
    assert "\u00a0" in spaces and "\u3000" in spaces and "\x1c" in spaces
    for space in spaces:
        assert not is_valid_http_url(f"https://nhandan.vn/a{space}b.html"), repr(space)
        assert is_valid_http_url(f"{space}https://nhandan.vn/ab.html{space}"), repr(space)
    assert not is_valid_http_url(" \t\n")


def test_amp_copies_fold_into_the_page_suffix_their_site_profile_declares():
    from archive.sites import profiles

    for profile in profiles():
        host = profile.hosts[0]
        assert canonical_url(f"http://{host}/a-b-post12.amp") == f"https://{host}/a-b-post12{profile.amp_twin_suffix}"
    assert canonical_url("https://unknown.example.vn/tin-1.amp") == "https://unknown.example.vn/tin-1.html"
