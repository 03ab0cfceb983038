"""Issue #19, session 15: a site's section page the crawl never saw, guessed by the name of a section
that led to the topic on another site and spelled as the site spells its sections
(crawler/topic_sections.py), held as a listing worth its namesakes' members (crawler/topic_listings.py)."""
import json
from html import escape

from crawler.topic_listings import MIN_EXPECTED_YIELD, HeldListings
from crawler.topic_sections import SectionSpelling, section_segment, section_words
from testbed.fixtureserver import FixtureServer, FixtureSite, Reply
from testbed.topic_site import _html, _not_found
from tests.conftest import run_crawl
from tests.test_topic_recall import ON_TEXT, WEATHER_TEXT

ND, VP, TD = "http://nhandan.vn", "http://www.vietnamplus.vn", "http://thoidai.com.vn"


def test_a_section_name_is_folded_into_its_parts_words_and_a_section_url_is_one_segment_under_the_root():
    assert section_words("Khoa học - Công nghệ") == [["khoa", "hoc"], ["cong", "nghe"]]
    assert section_words("Địa phương") == [["dia", "phuong"]]
    assert section_segment(f"{ND}/vanhoa") == "vanhoa" and section_segment(f"{TD}/van-hoa?page=2") == "van-hoa"
    assert section_segment(f"{ND}/tag/viet-nam-lao.html") is None  # a tag, not a section
    assert section_segment(f"{ND}/") is None  # the home page


def test_a_site_spells_its_sections_as_its_links_show_and_a_one_word_name_says_little():
    spelling = SectionSpelling()
    spelling.saw(f"{ND}/the", "Thể")  # "the" every way: a one-word name is spelled alike by them all
    assert spelling.spell_on(f"{ND}/", "Kinh tế") is None and spelling.spell_on(f"{ND}/", "Tin") == f"{ND}/tin"
    spelling.saw(f"{ND}/kinhte", "Kinh tế")
    spelling.saw(f"{TD}/kinh-te", "Kinh tế")
    spelling.saw(f"{VP}/tag/giao-luu-van-hoa.vnp", "Giao lưu văn hóa")  # a tag teaches no section spelling
    assert spelling.spell_on(f"{ND}/", "Văn hóa") == f"{ND}/vanhoa"
    assert spelling.spell_on(f"{TD}/", "Văn hóa") == f"{TD}/van-hoa"
    assert spelling.spell_on(f"{TD}/", "Khoa học - Công nghệ") == f"{TD}/khoa-hoc-cong-nghe"
    assert spelling.spell_on(f"{ND}/", "Khoa học - Công nghệ") is None  # "khoahoccongnghe" or "khoahoc-congnghe"
    spelling.saw(f"{ND}/khoahoc-congnghe", "Khoa học - Công nghệ")  # the parts of a name joined by "-"
    assert spelling.spell_on(f"{ND}/", "Thể thao - Văn hóa") == f"{ND}/thethao-vanhoa"
    assert spelling.spell_on(f"{VP}/", "Văn hóa") is None  # none of its sections seen
    spelling.saw(f"{ND}/giao-duc", "Giáo dục")  # links that disagree: no spelling to trust
    assert spelling.spell_on(f"{ND}/", "Văn hóa") is None
    spelling.saw(f"{TD}/thoi-su-24h", "Thời sự")  # a section named apart from its URL says nothing
    assert spelling.spell_on(f"{TD}/", "Văn hóa") == f"{TD}/van-hoa"


def test_a_topic_section_of_one_site_is_guessed_on_each_site_that_never_showed_it_once():
    spelling = SectionSpelling()
    spelling.saw(f"{ND}/vanhoa", "Văn hóa")
    spelling.saw(f"{TD}/kinh-te", "Kinh tế")
    spelling.saw(f"{VP}/the", "Thể")  # a page of vietnamplus seen, its spelling not shown
    names = {"văn hóa": f"{ND}/vanhoa", "tiếng việt": f"{ND}/tag/tieng-viet.html"}  # a tag's name: not guessed
    assert spelling.guesses(names) == [(f"{TD}/van-hoa", "văn hóa", f"{ND}/vanhoa")]  # nhandan has shown it;
    assert spelling.guesses(names) == []  # vietnamplus's spelling is not known yet; each guess once
    spelling.saw(f"{VP}/thegioi", "Thế giới")
    assert spelling.guesses(names) == [(f"{VP}/vanhoa", "văn hóa", f"{ND}/vanhoa")]
    spelling.saw(f"{VP}/quocphong", "Quốc phòng")
    assert spelling.guesses({"quốc phòng": f"{ND}/quocphong"}) == [(f"{TD}/quoc-phong", "quốc phòng",
                                                                    f"{ND}/quocphong")]  # shown on vietnamplus


def _listings_with_culture_on_nhandan(on: int, off: int) -> HeldListings:
    listings = HeldListings()
    for n in range(on + off):
        listings.judged_article(f"{ND}/bai-{n}-post{n}.html", [f"{ND}/vanhoa"], on_topic=n < on)
    listings.hold(f"{ND}/vanhoa", f"{ND}/bai-0-post0.html", 0, "Văn hóa")
    return listings


def test_a_guessed_section_is_worth_what_its_namesakes_members_say_until_its_own_say_more():
    listings = _listings_with_culture_on_nhandan(on=3, off=1)
    assert listings.topic_names() == {"văn hóa": "https://nhandan.vn/vanhoa"}  # by its canonical URL
    listings.hold_guess(f"{VP}/vanhoa", f"{ND}/vanhoa", "văn hóa")
    assert f"{VP}/vanhoa" in listings.remaining()
    # Its namesake (one listing) held 3 on-topic articles, 3 of 4 of its members: that many, none known here.
    assert listings.expected_yield(f"{VP}/vanhoa") == 0.75 * 3
    assert list(listings.topic_names()) == ["văn hóa"]  # a guess names no section itself
    listings.hold_guess(f"{TD}/van-hoa", f"{ND}/vanhoa", "văn hóa")
    listings.yielded(f"{TD}/van-hoa", 0)  # a guess fetched that led to nothing new: the next ones are worth less
    assert listings.expected_yield(f"{VP}/vanhoa") == 0.75 * 3 / 2
    listings.yielded(f"{ND}/vanhoa", 0)  # a section seen, not a guess: the guesses' yield is their own
    assert listings.expected_yield(f"{VP}/vanhoa") == 0.75 * 3 / 2
    listings.judged_article(f"{VP}/le-hoi-post9.html", [f"{VP}/vanhoa"], on_topic=False)  # its own member
    assert listings.expected_yield(f"{VP}/vanhoa") == 0.0


def test_a_name_mostly_off_topic_is_no_topic_section_and_a_guess_is_held_once():
    assert _listings_with_culture_on_nhandan(on=1, off=2).topic_names() == {}
    listings = _listings_with_culture_on_nhandan(on=2, off=0)
    listings.hold_guess(f"{VP}/vanhoa", f"{ND}/vanhoa", "văn hóa")
    assert listings.pop(MIN_EXPECTED_YIELD) == (f"{VP}/vanhoa", f"{ND}/vanhoa", 0)  # 2 new links expected: first
    assert listings.expected_yield(f"{ND}/vanhoa") == MIN_EXPECTED_YIELD  # an untried kind, its members known
    held = len(listings)
    listings.hold_guess(f"{VP}/vanhoa", f"{ND}/vanhoa", "văn hóa")  # fetched once: not held again
    assert len(listings) == held and f"{VP}/vanhoa" not in listings.remaining()


# --------------------------------------------------------------------------- a crawl
START, SECOND = f"{ND}/le-hoi-bunpimay-viet-nam-lao-post1.html", f"{VP}/hop-tac-viet-nam-lao-post2.vnp"
ORPHAN = f"{VP}/te-nuoc-mung-nam-moi-post3.vnp"


def _article(title: str, text: str, related=(), section=("", "")) -> str:
    box = "".join(f'<article class="story"><h3 class="story__heading"><a class="cms-link" href="{url}">'
                  f'{escape(anchor)}</a></h3></article>' for url, anchor in related)
    crumb = f'<a class="cms-link" href="{section[0]}">{escape(section[1])}</a>' if section[0] else ""
    return (f'<html><head><title>{escape(title)}</title></head><body><div class="breadcrumbs breadcrumb">{crumb}'
            f'</div><article class="article"><h1 class="article__title cms-title">{escape(title)}</h1>'
            f'<div class="article__body zce-content-body cms-body"><p>{escape(text)}</p></div></article>'
            f'<div class="box-related"><h3>Tin liên quan</h3>{box}</div></body></html>')


class TwoSiteWeb(FixtureSite):
    """A start article filed under nhandan's "Văn hóa", linking to an on-topic vietnamplus article
    filed under its "Kinh tế"; vietnamplus's "Văn hóa" section, which no page links to, lists an
    on-topic article that nothing else leads to."""

    def resolve(self, host: str, path_qs: str) -> Reply:
        if path_qs == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")], body=b"User-agent: *\nAllow: /\n")
        pages = {
            START: _article("Việt Nam - Lào: Tết Bunpimay ở Hà Nội", ON_TEXT,
                            [(SECOND, "Hợp tác Việt Nam - Lào")], (f"{ND}/vanhoa", "Văn hóa")),
            SECOND: _article("Hợp tác Việt Nam - Lào", ON_TEXT, section=(f"{VP}/kinhte", "Kinh tế")),
            ORPHAN: _article("Té nước mừng năm mới", ON_TEXT),
            f"{VP}/vanhoa": ('<html><head><title>Văn hóa</title></head><body><h1>Văn hóa</h1><div class="box-stream">'
                             f'<article class="story"><a class="cms-link" href="{ORPHAN}">Giao lưu văn hóa Việt Nam'
                             ' - Lào tại Xiêng Khoảng</a></article><article class="story"><a class="cms-link" '
                             f'href="{VP}/mua-ret-post4.vnp">Mưa rét</a></article></div></body></html>'),
            f"{VP}/mua-ret-post4.vnp": _article("Mưa rét", WEATHER_TEXT),
            **{url: '<html><head><title>Trang chủ</title></head><body></body></html>' for url in (f"{ND}/", f"{VP}/",
                                                                                              f"{ND}/vanhoa")},
        }
        page = pages.get(f"http://{host}{path_qs.split('?')[0]}")
        return _not_found() if page is None else _html(page)


def _crawl(tmp_path, guess: bool):
    server = FixtureServer(TwoSiteWeb()).start_background()
    items = tmp_path / "items.jsonl"
    try:
        run = run_crawl(tmp_path, f"urls={START}", "depth=2", server=server, settings={
            "CORPUS_SEEDS": "", "EXTRACT_ENABLED": False, "TOPIC_GUESS_SECTIONS": guess,
            "FEEDS": json.dumps({str(items): {"format": "jsonlines"}}), "FEED_EXPORT_FIELDS": "url,extra"})
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    return run, {item["url"] for item in map(json.loads, items.read_text("utf-8").splitlines())}


def test_a_crawl_guesses_a_sites_culture_section_from_anothers_and_finds_what_it_lists(tmp_path):
    run, kept = _crawl(tmp_path / "on", guess=True)
    assert kept == {START, SECOND, ORPHAN}
    assert run.stats["topic/sections_guessed"] == 2  # www.vietnamplus.vn/vanhoa and nhandan.vn/kinhte
    # nhandan.vn/kinhte does not exist here: a guess missing, not a URL the crawl failed to fetch
    assert run.stats["urls/guesses_missed"] == 1 and "urls/failed" not in run.stats
    _, kept = _crawl(tmp_path / "off", guess=False)
    assert kept == {START, SECOND}
