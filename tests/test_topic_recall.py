"""Finding the whole topic (issue #19): tunnelling depth, related-box links of kept articles,
what the crawl learns from the pages it judged, and the late re-check of a link."""
import json
from types import SimpleNamespace

import pytest
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.settings import Settings

from archive.extract.topic import LISTING_THRESHOLD, TopicProfile
from testbed.topic_site import OFF_TOPICS, ON_TOPIC_SENTENCES
from testbed.topic_web_hard import HardTopicWeb, slugify
from crawler.judged_pages import OFF, ON, UNKNOWN, JudgedPages
from crawler.dupefilter import REQUEST_RELEASED
from crawler.relevance import TopicGate
from crawler.topic_frontier import HeldLinks
from archive.sites import profile_for
from crawler.downloadermiddlewares.topic_recheck import RECHECK_ANCHOR, TopicRecheckMiddleware
from tests.conftest import REPO, run_crawl
from testbed.fixtureserver import FixtureServer
from tests.topic_chain_web import ON_TOPIC, ChainWeb, name_of, url

SLOTS = {"vn": "Hà Tĩnh", "lao": "Savannakhet", "x": "y tế", "w": "mưa rào và dông", "m": "tăng mạnh"}
ON_TEXT = " ".join(s.format(**SLOTS) for s in ON_TOPIC_SENTENCES)
WEATHER_TEXT = " ".join(s.format(**SLOTS) for s in OFF_TOPICS["weather"][1] * 3)
WEATHER_ANCHOR = "Không khí lạnh tăng cường, vùng núi rét dưới 5 độ C"
TEASER = "Những người lính tình nguyện năm ấy"


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


# --------------------------------------------------------------------------- judged pages
def test_an_anchor_leans_to_the_side_of_the_most_similar_judged_page(topic):
    judged = JudgedPages(topic)
    assert judged.leaning(WEATHER_ANCHOR) == UNKNOWN  # nothing judged yet
    judged.remember(ON_TEXT, on_topic=True)
    judged.remember(WEATHER_TEXT, on_topic=False)
    assert judged.leaning(WEATHER_ANCHOR) == OFF
    assert judged.leaning("Lưu học sinh Lào tại Hà Tĩnh") == ON
    assert judged.leaning("Xyz qwv") == UNKNOWN  # shares no term with any judged page
    assert len(judged) == 2


def test_judged_pages_forget_the_oldest_beyond_their_bound(topic):
    judged = JudgedPages(topic, max_pages=1)
    judged.remember(WEATHER_TEXT, on_topic=False)
    assert judged.leaning("Nhiệt độ vùng núi") == UNKNOWN  # nothing on topic to contrast it with
    judged.remember(ON_TEXT, on_topic=True)
    assert judged.leaning("Nhiệt độ vùng núi") == OFF
    judged.remember(" ".join(s.format(**SLOTS) for s in OFF_TOPICS["sport"][1]), on_topic=False)
    assert len(judged) == 2 and judged.leaning("Nhiệt độ vùng núi") == UNKNOWN  # the weather page is gone



def test_an_anchors_log_odds_are_the_m_estimated_rates_of_the_pages_remembered(topic):
    """`log_odds` is Σ weight × (log((on + m·pooled) / (n_on + m)) − log((off + m·pooled) / (n_off + m)))
    over the anchor's terms some remembered page used, computed here from the pages' terms directly,
    through pages remembered on both sides and past the bound (the oldest forgotten)."""
    import math
    import random

    from crawler.judged_pages import SMOOTHING, TERMS_PER_PAGE

    rng = random.Random(23)
    texts = [ON_TEXT, WEATHER_TEXT, *(" ".join(s.format(**SLOTS) for s in sentences)
                                      for _, sentences in OFF_TOPICS.values())]
    anchors = [WEATHER_ANCHOR, TEASER, "Lưu học sinh Lào tại Hà Tĩnh", "Nhiệt độ vùng núi", "Xyz qwv"]
    judged, sides = JudgedPages(topic, max_pages=3), ([], [])
    for _ in range(12):
        on_topic = rng.random() < 0.5
        text = " ".join(rng.sample(texts, 2))
        judged.remember(text, on_topic=on_topic)
        side = sides[0 if on_topic else 1]
        side.append(set(topic.heaviest_terms(text, TERMS_PER_PAGE)))
        del side[:-3]
        for anchor in anchors:
            total, seen = 0.0, False
            for term, weight in topic.vector(anchor).items():
                on, off = (sum(term in page for page in pages) for pages in sides)
                if not (on or off):
                    continue
                pooled = (on + off) / (len(sides[0]) + len(sides[1]))
                seen, total = True, total + weight * (
                    math.log((on + SMOOTHING * pooled) / (len(sides[0]) + SMOOTHING))
                    - math.log((off + SMOOTHING * pooled) / (len(sides[1]) + SMOOTHING)))
            assert judged.log_odds(anchor) == (round(total, 6) if seen else None)


# --------------------------------------------------------------------------- gate
ND = "https://nhandan.vn"


def _is_listing(link_url):
    return profile_for(link_url).is_listing_url(link_url)


def test_a_kept_articles_teaser_link_is_followed_tentatively_until_judged_pages_say_off(topic):
    gate = TopicGate(topic)
    teaser = (f"{ND}/a-post1.html", TEASER, False)
    weather = (f"{ND}/b-post2.html", WEATHER_ANCHOR, False)
    on = (f"{ND}/c-post3.html", "Việt Nam và Lào đẩy mạnh hợp tác đào tạo", False)
    links = {link.url: link for link in gate.choose_links([teaser, weather, on], "related", 0.3, _is_listing)}
    assert set(links) == {teaser[0], weather[0], on[0]}  # nothing learned yet: only the anchor's words count
    # Tentative links are held until the crawl is idle (crawler/topic_frontier.py); the link with
    # evidence is requested now and judged again when its turn comes.
    assert links[teaser[0]].held and links[weather[0]].held and not links[on[0]].held
    assert all(link.rule == "related" for link in links.values()) and links[on[0]].recheck
    gate.judge_page(WEATHER_TEXT, "related")  # the crawl has now seen a weather page: off topic
    assert gate.judge_page(ON_TEXT, "related").on_topic
    followed = {link.url for link in gate.choose_links([teaser, weather, on], "related", 0.3, _is_listing)}
    assert followed == {teaser[0], on[0]}  # the weather headline is now clearly off topic
    assert not gate.still_worth_fetching(WEATHER_ANCHOR) and gate.still_worth_fetching(TEASER)


def test_a_kept_articles_tag_and_section_links_are_judged_by_their_name(topic):
    gate = TopicGate(topic)
    tags = [(f"{ND}/tag/viet-nam-lao-1.html", "Việt Nam - Lào", False),
            (f"{ND}/tag/thoi-tiet-2.html", "Thời tiết", False), (f"{ND}/kinhte", "Kinh tế", False)]
    chosen = gate.choose_links(tags, "related", 0.3, _is_listing)
    assert [link.url for link in chosen if not link.held] == [tags[0][0]]
    # Generic names are held for what their members say (crawler/topic_listings.py).
    assert [link.url for link in chosen if link.listing and link.held] == [tags[1][0], tags[2][0]]
    # A tag named partly in topic words ("Đầu tư sang Lào": a sub-topic, most of whose articles the
    # related boxes already lead to) is held too; only a topic page's name is fetched at once.
    partly = (f"{ND}/tag/dau-tu-sang-lao.html", "Đầu tư sang Lào", False)
    assert topic.anchor_threshold <= topic.score(partly[1]) < LISTING_THRESHOLD
    (link,) = gate.choose_links([partly], "related", 0.3, _is_listing)
    assert link.listing and link.held


def test_an_off_topic_page_passes_on_only_links_whose_anchor_is_on_topic(topic):
    gate = TopicGate(topic)
    on = (f"{ND}/c-post3.html", "Việt Nam và Lào đẩy mạnh hợp tác đào tạo", False)
    chosen = gate.choose_links([on, (f"{ND}/a-post1.html", TEASER, False)], "tunnel", 0.05, _is_listing)
    assert [(link.url, link.rule) for link in chosen] == [(on[0], "tunnel")]


def test_judge_page_marks_what_resets_the_off_topic_run(topic):
    gate = TopicGate(topic)
    assert gate.judge_page(ON_TEXT, "related").on_topic
    off = gate.judge_page(WEATHER_TEXT, "related")
    assert not off.keep and not off.on_topic
    start = gate.judge_page(WEATHER_TEXT, "start")
    assert start.keep and start.on_topic  # the user named it: its related links are followed
    short = gate.judge_page("Lào", "related")
    assert short.keep and not short.on_topic and short.rule == "unjudged"


# --------------------------------------------------------------------------- late re-check
def _middleware(gate, enabled=True):
    stats, released = {}, []
    spider = SimpleNamespace(topic_gate=gate)
    crawler = SimpleNamespace(settings=Settings({"TOPIC_RECHECK": enabled}), spider=spider,
                              stats=SimpleNamespace(inc_value=lambda key: stats.update({key: stats.get(key, 0) + 1})),
                              signals=SimpleNamespace(send_catch_log=lambda signal, request: released.append(
                                  (signal, request.url))))
    return TopicRecheckMiddleware.from_crawler(crawler), stats, released


def test_a_link_that_leans_off_topic_by_its_turn_is_dropped_and_given_back(topic):
    gate = TopicGate(topic)
    middleware, stats, released = _middleware(gate)
    weather = Request(f"{ND}/b-post2.html", meta={RECHECK_ANCHOR: WEATHER_ANCHOR})
    assert middleware.process_request(weather) is None  # nothing learned yet
    gate.judge_page(ON_TEXT, "related")
    gate.judge_page(WEATHER_TEXT, "related")
    with pytest.raises(IgnoreRequest):
        middleware.process_request(weather)
    assert released == [(REQUEST_RELEASED, weather.url)] and stats == {"topic/dropped_on_recheck": 1}
    assert middleware.process_request(Request(f"{ND}/a-post1.html", meta={RECHECK_ANCHOR: TEASER})) is None
    assert middleware.process_request(Request(f"{ND}/x-post9.html")) is None  # not a topic link
    with pytest.raises(NotConfigured):
        _middleware(gate, enabled=False)


# --------------------------------------------------------------------------- crawls of tests/topic_chain_web.py
@pytest.fixture(scope="module")
def chain_crawl(tmp_path_factory):
    server = FixtureServer(ChainWeb()).start_background()
    runs = iter(range(100))

    def _crawl(*args):
        with server.site.lock:
            server.site.hits.clear()
        out = tmp_path_factory.mktemp(f"chain{next(runs)}")
        items = out / "items.jsonl"
        run = run_crawl(out, f"urls={url('S')}", *args, server=server, settings={
            "CORPUS_SEEDS": "", "EXTRACT_ENABLED": False,
            "FEEDS": json.dumps({str(items): {"format": "jsonlines"}}), "FEED_EXPORT_FIELDS": "url,extra"})
        assert run.returncode == 0, run.stderr
        with server.site.lock:
            fetched = {name_of(u) for u in server.site.hits if not u.endswith("/robots.txt")}
        kept = {name_of(item["url"]): item["extra"].get("rule")
                for item in map(json.loads, items.read_text("utf-8").splitlines())}
        return fetched, kept, run
    yield _crawl
    server.shutdown()


def test_tunnelling_follows_an_on_topic_chain_past_depth_and_stops_at_off_topic_pages(chain_crawl):
    fetched, kept, run = chain_crawl("depth=1")
    # The chain S → A1 → … → A4 is 4 hops long; depth=1 allows one off-topic page in a row.
    # None: the site's home page (404 on this web), a listing of the kept articles (crawler/topic_listings.py).
    assert fetched == {"S", "A1", "A2", "A3", "A4", "O1", None}
    assert set(kept) == {"S", "A1", "A2", "A3", "A4"} and kept["A1"] == "related"
    # O1 (a teaser link, judged after the fetch) is archived, not emitted; its links are not followed.
    assert f"archived only: {url('O1')}" in run.log()
    assert run.stats["topic/tunnel_ends"] == 1


def test_tunnelling_crosses_as_many_off_topic_pages_in_a_row_as_depth(chain_crawl):
    fetched, kept, _ = chain_crawl("depth=2")
    assert fetched == {"S", "A1", "A2", "A3", "A4", "O1", "B", "W"}  # C lies behind two off-topic pages
    assert set(kept) == ON_TOPIC - {"C"} and kept["B"] == "tunnel"


def test_depth_counts_hops_from_the_start_without_a_topic(chain_crawl):
    fetched, kept, _ = chain_crawl("depth=1", "topic=none")
    assert fetched == set(kept) == {"S", "A1", "O1"}


# --------------------------------------------------------------------------- the hard bench web
def test_hard_bench_web_is_what_its_docstring_says():
    web = HardTopicWeb()
    stories, labels = web.stories, web.labels()
    assert len(stories) == 270 and len(labels) == round(270 * 0.24)
    assert {s.kind for s in stories if s.on_topic} == {"economy", "education", "defence", "culture", "border"}
    series = [s for s in stories if s.series]
    assert series and all(3 <= len(s.series) <= 5 for s in series)
    for s in series:  # each part links the next; parts after the first are in no other related box
        k = s.series.index(s.n)
        if k + 1 < len(s.series):
            assert s.series[k + 1] in s.related
        if k:
            assert s.hidden and not s.tags
            assert not any(s.n in o.related for o in stories if o.n not in s.series)
    assert len(web.start_urls()) == 5 and set(web.start_urls()) <= labels
    assert any("Lào" in p for s in stories if not s.on_topic for p in s.paragraphs)  # Laos in passing
    for page_url in web.start_urls():  # the real site profiles read the pages
        assert profile_for(page_url).is_article_url(page_url)
    assert slugify("Đoàn đại biểu tỉnh Hủa Phăn") == "doan-dai-bieu-tinh-hua-phan"


# --------------------------------------------------------------------------- learning from anchors, siblings, held links
def test_judged_pages_remember_the_anchors_a_page_was_found_by(topic):
    judged = JudgedPages(topic)
    judged.remember(ON_TEXT, on_topic=True)
    quote = "Ông Lê Minh Tuấn: 'Đường mở, bản đổi thay'"  # a related box's quote: nowhere in the page
    assert judged.leaning("Ông Trần Văn Hùng: 'Đường mở, bản đổi thay'") == UNKNOWN
    judged.remember(WEATHER_TEXT, on_topic=False, anchors=[quote])
    assert judged.leaning("Ông Trần Văn Hùng: 'Đường mở, bản đổi thay'") == OFF


def test_a_listing_whose_links_are_mostly_on_topic_vouches_for_its_teasers(topic):
    gate = TopicGate(topic)
    on = [(f"{ND}/a-post1.html", "Lưu học sinh Lào tại Thanh Hóa tổng kết năm học", False),
          (f"{ND}/b-post2.html", "Lào xuất khẩu điện sang Việt Nam tăng 350%", False)]
    teaser = (f"{ND}/c-post3.html", TEASER, False)
    chosen = gate.choose_links(on + [teaser], "listing", 0.1, _is_listing)
    assert {link.url for link in chosen} == {on[0][0], on[1][0], teaser[0]}
    assert {link.rule for link in chosen} == {"topic-listing"}
    others = [(f"{ND}/d-post{n}.html", f"Giá vàng hôm nay tăng mạnh phiên {n}", False) for n in range(4, 7)]
    chosen = gate.choose_links(on[:1] + [teaser] + others, "listing", 0.1, _is_listing)
    assert [(link.url, link.rule) for link in chosen] == [(on[0][0], "anchor")]  # a mixed listing: by anchor


def test_a_few_judged_pages_do_not_let_a_listing_vouch_for_its_teasers(topic):
    """Early in a crawl the judged pages differ by more than topic (one site's kept articles against
    a few off-topic ones of other sites): their leaning alone does not make a listing a topic listing
    until MIN_JUDGED_FOR_SIBLINGS pages are judged on each side (a 60-article web fetched a home
    page's 17 off-topic articles when it came back after 12 + 3 judgements)."""
    from crawler.relevance import MIN_JUDGED_FOR_SIBLINGS
    gate = TopicGate(topic)
    teasers = [(f"{ND}/t-post{n}.html", f"Những người lính tình nguyện năm ấy ở Hà Tĩnh, phần {n}", False) for n in range(4)]
    for _ in range(12):
        gate.judged.remember(ON_TEXT, on_topic=True)
    for _ in range(MIN_JUDGED_FOR_SIBLINGS - 1):
        gate.judged.remember(WEATHER_TEXT, on_topic=False)
    assert all(gate.judged.leaning(anchor) == ON for _, anchor, _ in teasers)
    chosen = gate.choose_links(teasers, "listing", 0.1, _is_listing)
    assert "topic-listing" not in {link.rule for link in chosen}
    gate.judged.remember(WEATHER_TEXT, on_topic=False)  # now enough on each side: the leaning counts
    chosen = gate.choose_links(teasers, "listing", 0.1, _is_listing)
    assert [link.url for link in chosen] == [url for url, _, _ in teasers]
    assert {link.rule for link in chosen} == {"topic-listing"}


def test_held_links_gather_their_anchors_and_release_the_best_first(topic):
    gate = TopicGate(topic)
    held = HeldLinks()
    held.hold(f"{ND}/a-post1.html", TEASER, f"{ND}/p-post10.html", 0)
    held.hold(f"{ND}/b-post2.html", WEATHER_ANCHOR, f"{ND}/p-post10.html", 0)
    held.hold(f"{ND}/a-post1.html?utm_source=x", "Kỳ 2: " + TEASER, f"{ND}/q-post11.html", 1)
    assert len(held) == 2
    gate.judge_page(ON_TEXT + " Những người lính tình nguyện", "related")
    gate.judge_page(WEATHER_TEXT, "related")
    [first] = held.pop(gate, held.batch())  # the weather headline now leans off topic: dropped on the way
    assert first.url == f"{ND}/a-post1.html" and first.parents == {f"{ND}/p-post10.html", f"{ND}/q-post11.html"}
    assert first.anchors == [TEASER, "Kỳ 2: " + TEASER] and first.hops == 0
    assert held.pop(gate) == [] and held.dropped == 1


def test_a_large_frontier_is_released_a_few_at_a_time():
    held = HeldLinks()
    assert held.batch() == 1
    for n in range(250):
        held.hold(f"{ND}/t-post{n}.html", f"Tin {n}", f"{ND}/p-post1.html", 0)
    assert held.batch() == 3  # one per hundred held: draining a large frontier stays ~linear
