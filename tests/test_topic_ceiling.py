"""The hard ceiling on pages per kept article (issue #19; TOPIC_MAX_PAGES_PER_ARTICLE, crawler/topic_idle.py):
idle releases stop at it once the crawl has kept CEILING_MIN_KEPT articles, and not before."""
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import Settings

from archive.extract.topic import TopicProfile
from crawler.topic_frontier import RELEASE_ONE_PER
from crawler.topic_idle import CEILING_MIN_KEPT, IdleRelease
from tests.conftest import REPO
from tests.test_topic_recall import ND
from tests.test_topic_reserve import KEPT, OTHER, _gate, _Stats

NEUTRAL = "Những người lính tình nguyện năm ấy"  # a teaser that says nothing either way: worth a page
LISTING = f"{ND}/tag/van-hoa.html"


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def _release(kept: int, pages: int, ceiling: float = 1.5):
    """An IdleRelease whose crawl has fetched `pages` pages and kept `kept` articles."""
    requested = []
    settings = Settings({"TOPIC_PAGES_PER_ARTICLE": 1.4, "TOPIC_MAX_PAGES_PER_ARTICLE": ceiling})
    crawler = SimpleNamespace(stats=_Stats(), settings=settings, engine=SimpleNamespace(crawl=requested.append))
    crawler.stats.update({"topic/pages/kept/related": kept, "topic/pages/off_topic/held": pages - kept})
    release = IdleRelease(crawler, lambda found_from, links, hops: (Request(url) for url, _, _ in links))
    return release, crawler.stats, requested


def _hold_a_link_and_a_listing(release: IdleRelease) -> None:
    release.links.hold(OTHER, NEUTRAL, KEPT, 0)
    release.listings.saw_member(LISTING, on_topic=True)  # an untried tag with an on-topic member: 0.5 a page
    release.listings.hold(LISTING, KEPT, 0, "Văn hóa")


def test_at_the_ceiling_a_crawl_that_kept_enough_releases_nothing_worth_a_page_or_spare(topic):
    kept = CEILING_MIN_KEPT
    release, stats, requested = _release(kept, int(1.5 * kept))  # 30 pages for 20: one more is 1.55
    _hold_a_link_and_a_listing(release)
    release.on_idle(_gate(topic))  # no DontCloseSpider: the crawl may end
    assert requested == [] and len(release.links) == 1 and len(release.listings) == 1
    assert stats["topic/ceiling_reached"] == 30
    release, stats, requested = _release(kept, int(1.5 * kept) - 1)  # 29 pages: room for one
    _hold_a_link_and_a_listing(release)
    with pytest.raises(DontCloseSpider):
        release.on_idle(_gate(topic))
    assert len(requested) == 1 and "topic/ceiling_reached" not in stats


def test_under_the_floor_a_crawl_over_the_ceiling_still_explores(topic):
    """A crawl from one start page whose links are all held (1 page for 1 kept) must release them."""
    for kept, pages in ((1, 1), (CEILING_MIN_KEPT - 1, 3 * CEILING_MIN_KEPT)):
        release, stats, requested = _release(kept, pages)
        _hold_a_link_and_a_listing(release)
        for _ in range(2):
            with pytest.raises(DontCloseSpider):
                release.on_idle(_gate(topic))
        assert sorted(r.url for r in requested) == sorted([OTHER, LISTING])
        assert "topic/ceiling_reached" not in stats


def test_a_ceiling_of_0_is_none(topic):
    release, stats, requested = _release(50, 200, ceiling=0)
    _hold_a_link_and_a_listing(release)
    with pytest.raises(DontCloseSpider):
        release.on_idle(_gate(topic))
    assert len(requested) == 1 and "topic/ceiling_reached" not in stats


def test_a_batch_of_held_links_is_cut_to_the_room_under_the_ceiling(topic):
    release, _, requested = _release(40, 59)  # 60 pages allowed: room for one
    for n in range(2 * RELEASE_ONE_PER):  # a large frontier: released three at a time
        release.links.hold(f"{ND}/tin-{n}-post{1000 + n}.html", NEUTRAL, KEPT, 0)
    assert release.links.batch() == 3
    with pytest.raises(DontCloseSpider):
        release.on_idle(_gate(topic))
    assert len(requested) == 1


# --------------------------------------------------------------------------- links followed at once (session 15)
def test_an_off_topic_pages_links_have_the_room_under_the_ceiling_less_the_topic_requests_in_flight():
    release, _, _ = _release(40, 55)  # 60 pages allowed: room for 5
    this, other, requisite = Request(f"{ND}/a-post1.html"), Request(f"{ND}/b-post2.html"), Request(f"{ND}/i.jpg")
    for request in (this, other):
        request.meta["topic_hops"] = 1  # topic requests (crawler/topic_idle.py, TOPIC_HOPS)
    release.crawler.engine._slot = SimpleNamespace(inprogress={this, other, requisite})
    assert release.room_to_follow(this) == 4  # its own request and a requisite are no page to come
    assert _release(CEILING_MIN_KEPT - 1, 100)[0].room_to_follow(this) == float("inf")  # under the floor
    assert _release(40, 100, ceiling=0)[0].room_to_follow(this) == float("inf")


def test_past_the_ceiling_the_spider_follows_the_best_links_the_room_leaves():
    from crawler.relevance import Link
    from crawler.spiders.news import NewsSpider
    release, stats, _ = _release(40, 58)  # room for 2
    spider = SimpleNamespace(held=release, crawler=release.crawler)
    links = [Link(f"{ND}/tin-{n}-post{n}.html", "", priority, "tunnel", 0.0) for n, priority in enumerate((120, 300, 200))]
    assert [link.priority for link in NewsSpider._within_ceiling(spider, links, Request(f"{ND}/x-post9.html"))] == [300, 200]
    assert stats["topic/ceiling_cut"] == 1
    assert NewsSpider._within_ceiling(spider, links[:2], Request(f"{ND}/x-post9.html")) == links[:2]
