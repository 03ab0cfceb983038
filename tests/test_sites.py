"""Site profiles: which URLs are articles, listings, and which hosts belong to a site."""
import pytest

from archive.sites import profile_for, profiles
from tests.test_new_sites import NEW_SITE_URLS

ND = "https://nhandan.vn/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-lien-tuc-phat-trien-post830183.html"
TD = "https://thoidai.com.vn/thuc-day-hop-tac-giua-hai-ban-doi-ngoai-trung-uong-viet-nam-va-lao-182579.html"


@pytest.mark.parametrize("url,site,article", [
    (ND, "nhandan", True),
    (ND.replace("https://", "http://"), "nhandan", True),
    ("https://www.nhandan.vn/x-post1.html", "nhandan", True),
    ("https://nhandan.vn/chinhtri", "nhandan", False),
    ("https://nhandan.vn/tag/viet-nam-lao-12345.html", "nhandan", False),
    ("https://nhandan.vn/tin-moi.html", "nhandan", False),
    (TD, "thoidai", True),
    ("https://thoidai.com.vn/huu-nghi", "thoidai", False),
    ("https://thoidai.com.vn/huu-nghi/p2", "thoidai", False),
    ("https://thoidai.com.vn/tags/viet-nam-lao.html", "thoidai", False),
    *NEW_SITE_URLS,
])
def test_article_and_site(url, site, article):
    profile = profile_for(url)
    assert profile.name == site
    assert profile.is_article_url(url) is article
    if not article:
        assert profile.is_listing_url(url)


@pytest.mark.parametrize("url", [
    "https://en.nhandan.vn/politics-post1.html",
    "https://cn.nhandan.vn/article-post156813.html",
    "https://shidai.thoidai.com.vn/x-12345.html",
    "https://vietnamtimes.thoidai.com.vn/x-12345.html",
    "https://en.vietnamplus.vn/x-post1.vnp",
    "https://en.qdnd.vn/politics/news/x-123456",
])
def test_foreign_editions_and_sister_sites_are_not_the_site(url):
    assert profile_for(url).name.startswith("generic:")


def test_generic_profile_is_per_host_and_guesses_articles_by_url_shape():
    a = profile_for("https://baomoi.example/tin-tuc/viet-lao-hop-tac-123456.html")
    assert a.name == "generic:baomoi.example"
    assert a.is_article_url("https://baomoi.example/tin-tuc/viet-lao-hop-tac-123456.html")
    assert not a.is_article_url("https://baomoi.example/the-thao")
    assert not a.owns("https://other.example/x-123456.html")


def test_every_profile_declares_its_knowledge():
    for profile in profiles():
        assert profile.hosts and profile.article_path and profile.related_links
        assert profile.listing_links and profile.entry_points
        assert profile.extraction.title and profile.extraction.body
