"""Finding the whole topic, second pass (issue #19): series parts, and listings fetched for their
members by expected yield (crawler/topic_listings.py)."""
from dataclasses import replace

import pytest

from archive.extract.topic import TopicProfile
from bench.topic import crawl_topic_web
from crawler.relevance import TopicGate, continues_series, link_series_part, series_part
from crawler.topic_frontier import HeldLinks
from crawler.topic_listings import MIN_EXPECTED_YIELD, HeldListings, template_of
from testbed.fixtureserver import FixtureServer
from testbed.topic_web_hard import HardTopicWeb
from tests.conftest import REPO
from tests.test_topic_recall import ND, ON_TEXT, WEATHER_ANCHOR, WEATHER_TEXT, _is_listing


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


# --------------------------------------------------------------------------- series
def test_series_part_numbers_from_titles_anchors_and_slugs():
    assert series_part("Kỳ 3: Cột mốc 460 và những người giữ biên") == 3
    assert series_part("Phần 2 - Những mùa khô") == 2 and series_part("Hội nghị hữu nghị (Kỳ 4)") == 4
    assert series_part("Kỳ họp thứ 8 Quốc hội") is None and series_part("Bài học từ biên giới") is None
    assert link_series_part(f"{ND}/ky-2-nhung-nguoi-linh-post700078.html", "Đội K15 lên đường") == 2
    assert link_series_part(f"{ND}/a-post1.html", "Kỳ 5: Về đất mẹ") == 5
    assert link_series_part(f"{ND}/ky-niem-70-nam-post1.html", "Kỷ niệm 70 năm") is None
    assert continues_series("Kỳ 3: Cột mốc\nthân bài", "Kỳ 2: Bản kết nghĩa")
    assert not continues_series("Kỳ 3: Cột mốc", "Kỳ 1: Mùa khô") and not continues_series("Kỳ 3: Cột mốc", None)


def test_a_page_just_under_the_threshold_is_kept_when_it_continues_its_parents_series(topic):
    text = "Kỳ 3: Cột mốc và những người giữ biên\n" + ON_TEXT
    score = topic.score(text)
    gate = TopicGate(replace(topic, threshold=score / 0.9))  # the page scores 0.9 of the threshold
    gate.core = frozenset()  # the series rule alone: the page names Laos, which the core rule keeps (test_topic_core.py)
    kept = gate.judge_page(text, "related", parent_title="Kỳ 2: Bản kết nghĩa bên dãy Trường Son")
    assert kept.keep and kept.on_topic and kept.rule == "series"
    assert not gate.judge_page(text, "related").keep  # no parent: the threshold alone
    assert not gate.judge_page(text, "related", parent_title="Kỳ 5: Về đất mẹ").keep  # not its neighbour
    far = TopicGate(replace(topic, threshold=score / 0.7))  # under the margin: the series does not help
    assert not far.judge_page(text, "related", parent_title="Kỳ 2: Bản kết nghĩa").keep


def test_a_kept_parts_neighbour_is_followed_whatever_its_anchor_leans_to(topic):
    gate = TopicGate(topic)
    gate.judge_page(ON_TEXT, "related")
    gate.judge_page(WEATHER_TEXT, "related", anchors=[WEATHER_ANCHOR])  # the anchor now leans off topic
    next_part = (f"{ND}/ky-3-cot-moc-post700138.html", WEATHER_ANCHOR, False)
    far_part = (f"{ND}/ky-5-ve-dat-me-post700140.html", WEATHER_ANCHOR, False)
    chosen = gate.choose_links([next_part, far_part], "related", 0.25, _is_listing,
                               page_title="Kỳ 2: Bản kết nghĩa bên dãy Trường Sơn")
    assert [(link.url, link.rule, link.held) for link in chosen] == [(next_part[0], "series", False),
                                                                     (far_part[0], "series", False)]
    # The far part is a series entry (next test): once entries stop paying, only the neighbour is followed.
    gate.series_entries = [0, 2]
    chosen = gate.choose_links([next_part, far_part], "related", 0.25, _is_listing,
                               page_title="Kỳ 2: Bản kết nghĩa bên dãy Trường Sơn")
    assert [(link.url, link.rule) for link in chosen] == [(next_part[0], "series")]
    # Without a series on the kept page the same link is judged by its anchor: clearly off, dropped.
    assert gate.choose_links([next_part], "related", 0.25, _is_listing) == []


def test_a_series_part_on_a_kept_article_or_a_listing_is_fetched_while_series_entries_pay(topic):
    """"Kỳ 1: Chợ phiên nơi hai đất nước gặp nhau" in a kept article's related box or on a section
    listing: a teaser, but one fetch says whether the series is on topic."""
    gate = TopicGate(topic)
    gate.judge_page(ON_TEXT, "related")
    gate.judge_page(WEATHER_TEXT, "related", anchors=[WEATHER_ANCHOR])  # the anchor now leans off topic
    part = (f"{ND}/ky-1-cho-phien-post700000.html", WEATHER_ANCHOR, False)
    numbered = (f"{ND}/a-post700001.html", "Kỳ 4: Chợ phiên nơi hai đất nước gặp nhau", False)
    plain = (f"{ND}/cho-phien-post700002.html", WEATHER_ANCHOR, False)
    for mode in ("related", "listing"):
        chosen = gate.choose_links([part, numbered, plain], mode, 0.25, _is_listing)
        assert [(link.url, link.rule, link.held, link.recheck) for link in chosen] == [
            (part[0], "series", False, False), (numbered[0], "series", False, False)], mode
    assert gate.choose_links([part], "tunnel", 0.05, _is_listing) == []  # not from an off-topic article
    # Entries are counted by what they led to (a neighbour reached from its part is not an entry).
    gate.judge_page("Kỳ 1: Chợ phiên\n" + WEATHER_TEXT, "series")
    neighbour = gate.judge_page("Kỳ 2: Bản kết nghĩa\n" + ON_TEXT, "series", parent_title="Kỳ 1: Chợ phiên")
    assert neighbour.keep and gate.series_entries == [0, 1] and gate.series_entries_pay()  # 1/3
    gate.judge_page("Kỳ 3: Giá vàng\n" + WEATHER_TEXT, "series")
    assert gate.series_entries == [0, 2] and not gate.series_entries_pay()  # 1/4
    assert gate.choose_links([part, plain], "listing", 0.25, _is_listing) == []


# --------------------------------------------------------------------------- listings by expected yield
def test_listing_templates_keep_the_host_and_path_with_the_last_name_a_wildcard():
    assert template_of("http://nhandan.vn/tag/viet-nam-lao.html?page=2") == "nhandan.vn/tag/*.html"
    assert template_of("http://nhandan.vn/vanhoa") == template_of("http://nhandan.vn/kinhte") == "nhandan.vn/*"
    assert template_of("http://nhandan.vn/") == "nhandan.vn/"
    assert template_of("http://www.vietnamplus.vn/tag/le-hoi.vnp") == "www.vietnamplus.vn/tag/*.vnp"


def test_a_listing_is_fetched_by_its_members_share_then_only_while_its_kind_yields():
    listings = HeldListings()
    culture, sport, tag = "http://nhandan.vn/vanhoa", "http://nhandan.vn/thethao", "http://nhandan.vn/tag/le-hoi.html"
    for url in (culture, sport, tag):
        listings.hold(url, f"{ND}/a-post1.html", 1)
    assert listings.pop() is None  # no judged member names any of them yet
    listings.saw_member(culture, True)
    listings.saw_member(sport, True)
    for _ in range(3):
        listings.saw_member(sport, False)  # a quarter on topic: never fetched for its members
    listings.saw_member(tag, True)
    assert listings.best_yield() >= MIN_EXPECTED_YIELD
    first = listings.pop()[0]
    assert first in (culture, tag)
    listings.yielded(first, 0)  # its kind named nothing new: the other of that kind is not fetched
    nxt = listings.pop()
    assert nxt is not None and nxt[0] not in (first, sport)  # a kind not tried yet still is
    listings.yielded(nxt[0], 3)  # it yielded: more of its kind would be fetched
    assert listings.pop() is None and len(listings) == 1  # only the quarter-on-topic section is left


def test_a_yielding_kind_goes_on_and_a_barren_one_stops():
    listings = HeldListings()
    for n in range(4):
        url = f"http://thoidai.com.vn/section-{n}"
        listings.saw_member(url, True)
        listings.hold(url, "http://thoidai.com.vn/a-180001.html", 1)
    listings.yielded("http://thoidai.com.vn/done", 2)
    assert listings.expected_yield("http://thoidai.com.vn/section-0") > MIN_EXPECTED_YIELD
    for _ in range(4):  # a kind that stopped yielding: (2 + ½) / (5 + 1) links a page
        listings.yielded("http://thoidai.com.vn/done", 0)
    assert listings.expected_yield("http://thoidai.com.vn/section-0") < MIN_EXPECTED_YIELD


def test_a_listing_name_learns_its_yield_across_sites_from_its_templates_rate():
    listings = HeldListings()
    sections = {site: f"http://{site}/{path}" for site, path in
                (("nhandan.vn", "quocphong"), ("thoidai.com.vn", "quoc-phong"), ("www.vietnamplus.vn", "quocphong"))}
    for url in sections.values():
        listings.saw_member(url, True)
        listings.hold(url, "http://nhandan.vn/a-post1.html", 1, "Quốc phòng")
    listings.saw_member("http://nhandan.vn/vanhoa", True)
    listings.hold("http://nhandan.vn/vanhoa", "http://nhandan.vn/a-post1.html", 1, " VĂN  hóa ")
    # An untried name is worth its template's rate (half a link a page, untried too).
    assert listings.expected_yield(sections["thoidai.com.vn"]) == listings.expected_yield("http://nhandan.vn/vanhoa")
    listings.yielded(sections["www.vietnamplus.vn"], 0)  # counted for the name it was held by
    # Its name named nothing new on one site: under the bound on the others, whose templates are
    # untried; another name of the same template is still worth a try.
    assert listings.expected_yield(sections["thoidai.com.vn"]) < MIN_EXPECTED_YIELD
    assert listings.expected_yield("http://www.vietnamplus.vn/vanhoa") == 0.0  # no judged member names it
    assert listings.expected_yield("http://nhandan.vn/vanhoa") >= MIN_EXPECTED_YIELD
    listings.hold("http://thoidai.com.vn/van-hoa", "http://thoidai.com.vn/b-post2.html", 1, "Văn hóa")
    listings.yielded("http://thoidai.com.vn/van-hoa", 3)  # the culture section yielded on thoidai
    assert listings.expected_yield("http://nhandan.vn/vanhoa") > 1.0


def test_a_listing_whose_page_the_crawl_already_knows_most_of_is_worth_less():
    listings = HeldListings()
    known, fresh = "http://thoidai.com.vn/kinh-te", "http://thoidai.com.vn/van-hoa"
    for _ in range(12):
        listings.saw_member(known, True)  # twelve kept articles name it
    listings.saw_member(fresh, True)
    # No page of the template seen yet: its first listing is tried, whichever.
    assert listings.expected_yield(known) == listings.expected_yield(fresh) == MIN_EXPECTED_YIELD
    listings.listed("http://thoidai.com.vn/giao-duc", 15)  # a page of this template shows 15 articles
    listings.yielded("http://thoidai.com.vn/giao-duc", 2)  # and led to two new links
    assert listings.expected_yield(fresh) == pytest.approx(listings.expected_yield(known) * 14 / 3)
    assert listings.expected_yield(known) < MIN_EXPECTED_YIELD <= listings.expected_yield(fresh)
    for _ in range(3):
        listings.saw_member(known, True)  # all fifteen known: nothing left to find on it
    assert listings.expected_yield(known) == 0.0


def test_held_links_expected_yield_is_their_release_success_rate():
    held = HeldLinks()
    assert held.expected_yield() == 0.0  # nothing held
    held.hold(f"{ND}/a-post1.html", "Những người lính tình nguyện năm ấy", f"{ND}/p-post10.html", 0)
    assert held.expected_yield() == 0.5  # nothing released yet: one in two
    held.judged(False)
    held.judged(False)
    assert held.expected_yield() == 0.25
    held.judged(True)
    assert held.expected_yield() == 0.4


# --------------------------------------------------------------------------- the hard web, end to end
def test_hard_web_listings_and_series_find_what_related_boxes_do_not(tmp_path):
    """The hard bench web (`make bench-topic`): its orphans and series parts are found, no
    off-topic article is kept."""
    web = HardTopicWeb()
    server = FixtureServer(web).start_background()
    try:
        auto = crawl_topic_web(web, server, tmp_path, "auto", depth=3)
    finally:
        server.shutdown()
    assert auto["precision"] == 1.0 and auto["recall"] >= 0.9, auto
    assert "series" in auto["rules"], auto["rules"]
    orphans = {web.url(s.n) for s in web.stories if s.on_topic and s.hidden and not s.series}
    kept = {item["url"] for item in auto["items"]}
    assert len(orphans & kept) >= len(orphans) // 2  # only listings lead to them
