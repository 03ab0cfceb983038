"""Finding the whole topic, fifth pass (issue #19): what the frontiers dropped is spent while the crawl
has pages to spare (TOPIC_PAGES_PER_ARTICLE; crawler/topic_idle.py)."""
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import Settings

from archive.extract.topic import TopicProfile
from crawler.relevance import TopicGate
from crawler.topic_frontier import HeldLinks
from crawler.topic_idle import RESERVE, TOPIC_HELD, IdleRelease
from crawler.topic_listings import MIN_EXPECTED_YIELD, HeldListings
from tests.conftest import REPO
from tests.test_topic_recall import ND, ON_TEXT, WEATHER_ANCHOR, WEATHER_TEXT

KEPT, TEASER, OTHER = f"{ND}/hop-tac-post1.html", f"{ND}/mua-ret-post2.html", f"{ND}/le-hoi-post3.html"


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def _gate(topic) -> TopicGate:
    """A gate that has judged one on-topic page and one weather page reached by WEATHER_ANCHOR."""
    gate = TopicGate(topic)
    gate.judge_page(ON_TEXT, "related")
    gate.judge_page(WEATHER_TEXT, "related", anchors=[WEATHER_ANCHOR])
    return gate


def test_a_dropped_held_link_is_kept_in_reserve_and_released_from_it_only_when_asked(topic):
    gate, held = _gate(topic), HeldLinks()
    held.hold(TEASER, WEATHER_ANCHOR, KEPT, 0)  # leans off topic: dropped when popped
    held.hold(OTHER, "Những người lính tình nguyện năm ấy", KEPT, 0)  # says nothing either way
    assert [link.url for link in held.pop(gate, 2)] == [OTHER] and held.dropped == 1 and len(held) == 0
    assert held.reserve_yield() == 0.5  # from one in two
    held.hold(TEASER, "Rét đậm ở vùng núi", f"{ND}/khac-post4.html", 0)  # another kept page links to it
    assert held.pop(gate) == [] and len(held) == 0  # still in the reserve, not back in the frontier
    link = held.pop_reserve(gate)
    assert link.url == TEASER and link.anchors == [WEATHER_ANCHOR, "Rét đậm ở vùng núi"] and len(link.parents) == 2
    assert held.pop_reserve(gate) is None and held.reserve_yield() == 0.0
    held.judged(False, reserve=True)
    assert held.reserve_outcomes == [0, 1] and held.outcomes == [0, 0]


def test_a_listing_under_the_bound_is_released_only_below_it_and_never_one_off_topic():
    listings = HeldListings()
    for n in range(9):  # nine of a ten-article tag page judged already: worth a tenth of an untried one
        listings.saw_member(f"{ND}/tag/van-hoa.html", on_topic=True)
    listings.hold(f"{ND}/tag/van-hoa.html", KEPT, 0, "Văn hóa")
    listings.listed(f"{ND}/tag/khac.html", 10)
    listings.saw_member(f"{ND}/tag/gia-vang.html", on_topic=False)
    listings.hold(f"{ND}/tag/gia-vang.html", KEPT, 0, "Giá vàng")
    assert 0 < listings.expected_yield(f"{ND}/tag/van-hoa.html") < MIN_EXPECTED_YIELD
    assert listings.pop() is None
    assert listings.pop(0.0)[0] == f"{ND}/tag/van-hoa.html"
    assert listings.pop(0.0) is None and len(listings) == 1  # "Giá vàng": no on-topic member, never


class _Stats(dict):
    def get_stats(self):
        return self

    def inc_value(self, key, n=1):
        self[key] = self.get(key, 0) + n

    def set_value(self, key, value):
        self[key] = value


def _release(pages_per_article: float):
    requested = []
    crawler = SimpleNamespace(stats=_Stats(), settings=Settings({"TOPIC_PAGES_PER_ARTICLE": pages_per_article}),
                              engine=SimpleNamespace(crawl=requested.append))
    release = IdleRelease(crawler, lambda found_from, links, hops: (Request(url) for url, _, _ in links))
    return release, crawler.stats, requested


def test_the_reserve_is_spent_only_while_pages_per_kept_article_stay_under_the_budget(topic):
    gate = _gate(topic)
    release, stats, requested = _release(1.4)
    release.links.hold(TEASER, WEATHER_ANCHOR, KEPT, 0)
    stats.update({"topic/pages/kept/start": 3, "topic/pages/off_topic/held": 1, "topic/pages/listing/related": 1})
    release.on_idle(gate)  # dropped to the reserve; one more page for 3 kept would be 2.0 a kept article
    assert requested == [] and release.links.dropped == 1
    stats["topic/pages/kept/related"] = 5  # 10 pages for 8 kept: one more makes 1.375, under 1.4
    with pytest.raises(DontCloseSpider):
        release.on_idle(gate)
    assert [(r.url, r.meta[TOPIC_HELD]) for r in requested] == [(TEASER, RESERVE)]
    assert stats["topic/reserve_released"] == 1
    never, stats, requested = _release(0)  # TOPIC_PAGES_PER_ARTICLE = 0: nothing from the reserve
    never.links.hold(TEASER, WEATHER_ANCHOR, KEPT, 0)
    stats.update({"topic/pages/kept/start": 50})
    never.on_idle(gate)
    never.on_idle(gate)
    assert requested == []


def _background_gate(topic) -> TopicGate:
    """A gate whose anchor background has read a kept article's box: three topic headlines that led
    to on-topic pages, then two teasers, one naming nothing else on the pages, one a gold-price headline
    the pages read repeat."""
    gate = TopicGate(topic)
    topical = [f"Việt Nam - Lào hợp tác {word}" for word in ("giáo dục", "quốc phòng", "văn hóa")]
    for n, anchor in enumerate(topical):
        gate.judge_page(ON_TEXT, "related", anchors=[anchor])
    gate.read_links([(f"{ND}/tin-{n}-post{n}.html", anchor, False) for n, anchor in enumerate(topical)]
                    + [(f"{ND}/gia-vang-{n}-post{90 + n}.html", f"Giá vàng hôm nay tăng {n} đồng", False)
                       for n in range(6)]
                    + [(TEASER, "Sắc màu Bunpimay giữa lòng thủ đô", False),
                       (OTHER, "Giá vàng hôm nay tăng 9 đồng", False)])
    return gate


def test_a_teasers_own_anchor_is_left_out_of_the_background_it_is_judged_by(topic):
    gate = _background_gate(topic)
    teaser = topic.vector("Sắc màu Bunpimay giữa lòng thủ đô")
    # Counted in the background once (it was read), never in the positives: its own words lean it off ...
    assert gate.background.log_odds(teaser) < -3
    # ... and left out, words no other anchor used say nothing: no evidence either way.
    assert gate.background.log_odds(teaser, leave_out=TEASER) == 0.0
    # A gold-price headline stays against the topic without its own entry: its siblings are read.
    gold = topic.vector("Giá vàng hôm nay tăng 9 đồng")
    assert gate.background.log_odds(gold, leave_out=OTHER) < gate.background.log_odds(teaser, leave_out=TEASER)
    assert gate.background.log_odds(teaser, leave_out=f"{ND}/never-read-post7.html") == gate.background.log_odds(teaser)


def test_the_reserve_releases_first_the_teaser_least_like_the_background_by_the_model_without_it(topic):
    gate, held = _background_gate(topic), HeldLinks()
    held.hold(OTHER, "Giá vàng hôm nay tăng 9 đồng", KEPT, 0)
    held.hold(TEASER, "Sắc màu Bunpimay giữa lòng thủ đô", KEPT, 0)
    held._reserve.update(held._links)  # both dropped by the frontier (as `pop` does)
    held._links.clear()
    assert [held.pop_reserve(gate).url, held.pop_reserve(gate).url] == [TEASER, OTHER]
