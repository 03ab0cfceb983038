"""Issue #19, session 16: at idle the held listings are weighed against the held links on one scale,
on-topic articles a page fetched (crawler/topic_listings.py, `articles_per_page`; crawler/topic_idle.py)."""
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import Settings

from archive.extract.topic import TopicProfile
from crawler.relevance import TopicGate
from crawler.topic_idle import IdleRelease
from crawler.topic_listings import HeldListings
from tests.conftest import REPO
from tests.test_topic_recall import ND, ON_TEXT
from tests.test_topic_reserve import _Stats

KEPT, TEASER = f"{ND}/hop-tac-post1.html", f"{ND}/nhung-nguoi-linh-post2.html"
SECTION = f"{ND}/vanhoa"


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def test_a_listing_is_worth_its_links_on_topic_rate_over_its_page_and_theirs():
    """A listing expected to lead to k new links costs its page and theirs, k + 1 fetches, for k × q
    on-topic articles, q the rate its kind's links were on topic so far (from one in two)."""
    listings = HeldListings()
    assert listings.articles_per_page(0.0) == 0.0
    assert listings.articles_per_page(3.0) == pytest.approx(3 * 0.5 / 4)
    for on_topic in (True, True, True, False):  # links such listings passed on: 3 of 4 on topic
        listings.member_judged(on_topic)
    assert listings.member_outcomes == [3, 4]
    assert listings.articles_per_page(3.0) == pytest.approx(3 * (4 / 6) / 4)
    assert listings.articles_per_page(3.0) < 1.0  # never more than one article a page fetched


def _idle_release(requested: list, one_scale: bool = True) -> IdleRelease:
    crawler = SimpleNamespace(stats=_Stats(), settings=Settings({"TOPIC_PAGES_PER_ARTICLE": 1.4,
                                                                 "TOPIC_IDLE_ONE_SCALE": one_scale}),
                              engine=SimpleNamespace(crawl=requested.append))
    return IdleRelease(crawler, lambda found_from, links, hops: (Request(url) for url, _, _ in links))


def _hold_both(release: IdleRelease, listing_links: float) -> None:
    """A teaser held from a kept article and a section the crawl's on-topic articles name, whose
    template led to `listing_links` new links a page so far."""
    release.links.hold(TEASER, "Những người lính tình nguyện năm ấy", KEPT, 0)
    release.listings.saw_member(SECTION, on_topic=True)
    release.listings.hold(SECTION, KEPT, 0, "Văn hóa")
    release.listings.yielded(f"{ND}/kinhte", listing_links)  # the same template, `nhandan.vn/*`


@pytest.mark.parametrize("one_scale, first", [(True, TEASER), (False, SECTION)])
def test_a_held_teaser_goes_before_a_listing_expected_to_lead_to_more_links_than_it_gives_articles(
        topic, one_scale, first):
    """The section expects ~1.2 new links a page (over the teaser's one in two), but those are
    2.2 fetches for 0.6 articles: the teaser, half an article a page, is released first; with
    TOPIC_IDLE_ONE_SCALE off, 1.2 links against one in two, the section."""
    gate = TopicGate(topic)
    gate.judge_page(ON_TEXT, "related", anchors=["Những người lính tình nguyện năm ấy"])
    requested: list = []
    release = _idle_release(requested, one_scale)
    _hold_both(release, 1.9)
    with pytest.raises(DontCloseSpider):
        release.on_idle(gate)
    assert [request.url for request in requested] == [first]


def test_a_listing_whose_links_pay_goes_first_once_the_teasers_do_not(topic):
    gate = TopicGate(topic)
    gate.judge_page(ON_TEXT, "related", anchors=["Những người lính tình nguyện năm ấy"])
    requested: list = []
    release = _idle_release(requested)
    _hold_both(release, 9.5)  # its template led to ~5 new links a page
    for _ in range(4):  # those links were all on topic; the released teasers were not
        release.listings.member_judged(True)
        release.links.judged(False)
    with pytest.raises(DontCloseSpider):
        release.on_idle(gate)
    assert [request.url for request in requested] == [SECTION]
