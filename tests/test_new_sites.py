"""The site profiles added for issue 7: vietnamplus, baoquocte, huunghivietlao, qdnd, dangcongsan,
the shared MasterCMS data, the generic fallback, and `python -m archive.sites`."""
import subprocess
import sys
from pathlib import Path

import pytest
from parsel import Selector

from archive.extract.article import extract_article, render_seed_text
from archive.sites import SITE_MODULES, profile_for, profiles
from archive.sites.generic import is_article_page, is_crawlable
from archive.sites.mastercms import EXTRACTION as MASTERCMS_EXTRACTION
from testbed.fixture_pages import GOLD, WEB, article_pages, gold_for, url_for

REPO = Path(__file__).resolve().parent.parent
NEW_HOSTS = ("www.vietnamplus.vn", "baoquocte.vn", "huunghivietlao.thoidai.com.vn", "www.qdnd.vn", "dangcongsan.vn")
VNP = "https://www.vietnamplus.vn/viet-nam-lao-ky-ket-ke-hoach-hop-tac-nam-2025-giua-hai-bo-ngoai-giao-post1101437.vnp"
HNVL = "https://huunghivietlao.thoidai.com.vn/tinh-xieng-khoang-trao-huan-chuong-cho-chuyen-gia-viet-nam-215001.html"


# URL shapes of the new sites; tests/test_sites.py runs them through the same check as nhandan/thoidai.
NEW_SITE_URLS = [
    (VNP, "vietnamplus", True),
    ("https://vietnamplus.vn/x-post1101437.vnp", "vietnamplus", True),
    ("https://www.vietnamplus.vn/x-post234366.amp", "vietnamplus", True),
    ("https://www.vietnamplus.vn/chinhtri/", "vietnamplus", False),
    ("https://www.vietnamplus.vn/tag/viet-nam-lao.vnp", "vietnamplus", False),
    ("https://baoquocte.vn/den-luc-xay-dung-thuong-hieu-viet-nam-1897.html", "baoquocte", True),
    ("https://baoquocte.vn/ngoai-giao", "baoquocte", False),
    (HNVL, "huunghivietlao", True),
    ("https://huunghivietlao.thoidai.com.vn/huu-nghi", "huunghivietlao", False),
    ("https://www.qdnd.vn/chinh-tri/tin-tuc/dai-tuong-phan-van-giang-tiep-doan-lao-1052548", "qdnd", True),
    ("https://qdnd.vn/chinh-tri/tin-tuc/x-323302?utm_source=a", "qdnd", True),
    ("https://www.qdnd.vn/chinh-tri/tin-tuc", "qdnd", False),
    ("https://www.qdnd.vn/kinh-te", "qdnd", False),
    ("https://dangcongsan.vn/thoi-su/hoi-dam-cap-cao-giua-hai-dang-viet-nam-lao-654321.html", "dangcongsan", True),
    ("https://dangcongsan.vn/thoi-su", "dangcongsan", False),
]


def test_registry_lists_every_new_site_with_its_knowledge():
    assert {"vietnamplus", "baoquocte", "huunghivietlao", "qdnd", "dangcongsan"} <= set(SITE_MODULES)
    names = [p.name for p in profiles()]
    assert len(names) == len(set(names))
    hosts = [h for p in profiles() for h in p.hosts]
    assert len(hosts) == len(set(hosts)), "a host belongs to one site"


def test_mastercms_sites_share_one_set_of_rules():
    by_name = {p.name: p for p in profiles()}
    for name in ("thoidai", "baoquocte", "huunghivietlao"):
        profile = by_name[name]
        assert profile.extraction.body == MASTERCMS_EXTRACTION.body
        assert profile.related_links == by_name["thoidai"].related_links
        assert set(MASTERCMS_EXTRACTION.drop) <= set(profile.extraction.drop)
    assert "div.follow-news" in by_name["baoquocte"].extraction.drop  # "Theo dõi Baoquocte.vn trên …"


NEW_PAGES = [p for p in article_pages() if p.relative_to(WEB).parts[0] in NEW_HOSTS]


def test_every_new_site_has_a_gold_page():
    assert {p.relative_to(WEB).parts[0] for p in NEW_PAGES} == set(NEW_HOSTS)
    assert all((GOLD / host).is_dir() for host in NEW_HOSTS)


@pytest.mark.parametrize("fixture", NEW_PAGES, ids=lambda p: p.relative_to(WEB).parts[0])
def test_new_site_page_extracts_to_gold_through_the_registry(fixture):
    url = url_for(fixture)
    article = extract_article(fixture.read_bytes(), url, profile_for(url).extraction)
    assert article.is_article, article.reason
    text = render_seed_text(article)
    assert text == gold_for(fixture).read_text("utf-8")
    for leak in ("Theo dõi Baoquocte.vn", "Đọc nhiều", "Tin liên quan", "Chia sẻ", "Phiên bản di động", "Tags:"):
        assert leak not in text


def test_qdnd_byline_drops_the_office_address_of_json_ld():
    fixture = next(p for p in NEW_PAGES if "qdnd" in str(p))
    article = extract_article(fixture.read_bytes(), url_for(fixture), profile_for(url_for(fixture)).extraction)
    assert article.author == "QUANG HUY"  # the visible byline, not JSON-LD's "QUANG HUY - Số 7 …"
    assert article.published.isoformat() == "2025-01-15T09:40:00+07:00"


def test_a_republished_story_is_followed_into_the_other_sites_profile(crawl):
    run = crawl(f"urls={HNVL}", "depth=1", settings={"CORPUS_SEEDS": ""})
    assert run.returncode == 0, run.stderr
    fetched = [u for u in run.hits if not u.endswith("/robots.txt")]
    assert VNP in fetched
    assert not any("thoi-tiet" in u for u in fetched)  # the "Đọc nhiều" sidebar is not followed
    entries = {e["url"]: e for e in run.manifest()}
    assert entries[HNVL]["site"] == "huunghivietlao.thoidai.com.vn" and entries[HNVL]["rule"] == "start"
    vnp = entries[VNP]
    assert vnp["site"] == "vietnamplus.vn" and vnp["found_from"] == HNVL and vnp["rule"] == "related"
    assert vnp["author"] == "Phạm Kiên (TTXVN/Vietnam+)"
    expected = (GOLD / "www.vietnamplus.vn" / (VNP.split("www.vietnamplus.vn/", 1)[1] + ".txt")).read_text("utf-8")
    assert (run.corpus_dir / vnp["file"]).read_text("utf-8") == expected


# --------------------------------------------------------------------------- generic fallback
LONG = "<p>" + " ".join(["Đoàn đại biểu tỉnh thăm và làm việc tại Lào."] * 20) + "</p>"
HEADLINE = "<h1>Đoàn đại biểu tỉnh thăm Lào</h1>"
TEASERS = "".join(f'<article><h3><a href="/tin-{i}-12345{i}.html">Tin số {i} về hợp tác Việt - Lào</a></h3>'
                  f"<p>Hai bên trao đổi về hợp tác giáo dục và thương mại.</p></article>" for i in range(12))


@pytest.mark.parametrize("url,html,expected", [
    # The page decides, not the URL shape: an article-shaped URL with no article text is no article.
    ("https://baomoi.example/tin-tuc/viet-lao-hop-tac-123456.html", "<p>x</p>", False),
    ("https://tin.example/hop-tac-viet-lao", f'<meta property="og:type" content="article">{HEADLINE}{LONG}', True),
    ("https://tin.example/hop-tac-viet-lao",
     f'<script type="application/ld+json">{{"@type": "NewsArticle"}}</script>{HEADLINE}{LONG}', True),
    ("https://tin.example/chuyen-muc", f'<meta property="og:type" content="article">{HEADLINE}<p>Ngắn.</p>', False),
    # og:type "website" on a news story (seen on real sites) does not make it a listing.
    ("https://tin.example/hop-tac-viet-lao", f'<meta property="og:type" content="website">{HEADLINE}{LONG}', True),
    # A listing with an article-shaped URL and og:type article: teasers, each a title and one sentence.
    ("https://tin.example/tag/viet-lao-123456.html",
     f'<meta property="og:type" content="article"><h1>Việt - Lào</h1>{TEASERS}', False),
])
def test_generic_article_detection(url, html, expected):
    assert is_article_page(url, Selector(text=f"<html><head></head><body>{html}</body></html>")) is expected


def test_generic_links_are_filtered_with_courlan():
    assert is_crawlable("https://tintuc.example.vn/tin-tuc/hop-tac-123456.html")
    assert not is_crawlable("https://tintuc.example.vn/uploads/anh.jpg")
    assert not is_crawlable("https://tintuc.example.vn/login")


# --------------------------------------------------------------------------- table
def test_sites_table_lists_sites_and_entry_points():
    proc = subprocess.run([sys.executable, "-m", "archive.sites", "--width", "250"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for profile in profiles():
        assert profile.name in proc.stdout
        for entry in profile.entry_points:
            assert entry in proc.stdout
    assert "generic" in proc.stdout and "hints:" in proc.stdout
