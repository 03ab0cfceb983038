"""Session 19: an idle release the scheduler refuses (its URL requested by then through another link) is
followed by the next choice in the same `spider_idle` call, not on the engine's next pass; the choices,
the requests handed to the engine and the stats are the same as one choice a call (crawler/topic_idle.py)."""
import random
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import Settings

from archive.extract.topic import TopicProfile
from crawler.engine_state import engine_idle
from crawler.topic_idle import IdleRelease
from tests.conftest import REPO
from tests.test_topic_recall import ND, ON_TEXT, WEATHER_ANCHOR, WEATHER_TEXT
from tests.test_topic_reserve import _gate, _Stats

ANCHORS = ("Những người lính tình nguyện năm ấy", WEATHER_ANCHOR, "Hợp tác kinh tế Việt Nam", "Giá vàng hôm nay",
           "Lễ hội mùa xuân", "Rét đậm ở vùng núi", "Đoàn đại biểu thăm hữu nghị")


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


class _Engine:
    """The scheduler's part of the engine: refuses a URL it was given before (the dupe filter); an
    admitted request waits until the crawl fetches it. `tells_idle`: whether it answers
    `spider_is_idle` (without it, `engine_idle` cannot tell and every choice ends the call)."""

    def __init__(self, requested: set, tells_idle: bool):
        self.requested, self.handed, self.waiting = requested, [], []
        if tells_idle:
            self.spider_is_idle = lambda: not self.waiting

    def crawl(self, request):
        self.handed.append(request.url)
        if request.url not in self.requested:
            self.requested.add(request.url)
            self.waiting.append(request.url)


def _crawl_at_idle(topic, seed: int, tells_idle: bool):
    """Idle calls as the engine makes them: until one lets the crawl close, fetching (and judging) what
    each admitted in between. Returns the URLs handed to the engine, in order, those fetched, the
    stats and how many idle calls it took."""
    rng = random.Random(seed)
    gate = _gate(topic)
    kept = [f"{ND}/kept-{n}-post{n}.html" for n in range(30)]
    teasers = [f"{ND}/teaser-{n}-post{1000 + n}.html" for n in range(400)]
    engine = _Engine({url for url in teasers if rng.random() < 0.8}, tells_idle)  # most requested meanwhile
    stats = _Stats({"topic/pages/kept/related": 25, "topic/pages/off_topic/related": 5})
    settings = Settings({"TOPIC_PAGES_PER_ARTICLE": 1.4, "TOPIC_MAX_PAGES_PER_ARTICLE": 0})
    crawler = SimpleNamespace(stats=stats, settings=settings, engine=engine)
    release = IdleRelease(crawler, lambda found_from, links, hops: (Request(url) for url, _, _ in links))
    for url in teasers:
        for parent in rng.sample(kept, rng.randint(1, 3)):
            release.links.hold(url, rng.choice(ANCHORS), parent, 0)
    fetched, calls = [], 0
    while True:
        calls += 1
        try:
            release.on_idle(gate)
        except DontCloseSpider:
            for url in engine.waiting:  # fetched and judged before the crawl is idle again
                on_topic = rng.random() < 0.5
                gate.judge_page(ON_TEXT if on_topic else WEATHER_TEXT, "related", anchors=[rng.choice(ANCHORS)])
                release.links.judged(on_topic)
                stats.inc_value(f"topic/pages/{'kept' if on_topic else 'off_topic'}/held")
                fetched.append(url)
            engine.waiting.clear()
            continue
        return engine.handed, fetched, dict(stats), calls


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_refused_releases_are_followed_at_once_by_the_same_choices(topic, seed):
    handed, fetched, stats, calls = _crawl_at_idle(topic, seed, tells_idle=False)  # one choice a call
    handed_now, fetched_now, stats_now, calls_now = _crawl_at_idle(topic, seed, tells_idle=True)
    assert handed_now == handed and fetched_now == fetched and stats_now == stats
    assert stats["topic/held_released"] == len(handed) > len(fetched) > 0  # some refused, some fetched
    assert calls_now <= len(fetched) + 1 < calls  # no call whose releases were all refused, but the last


def test_engine_idle_is_false_when_the_engine_cannot_say():
    assert engine_idle(None) is False
    assert engine_idle(SimpleNamespace(engine=SimpleNamespace(crawl=print))) is False
    assert engine_idle(SimpleNamespace(engine=SimpleNamespace(spider_is_idle=lambda: True))) is True

    def no_slot():
        raise RuntimeError("Engine slot not assigned")
    assert engine_idle(SimpleNamespace(engine=SimpleNamespace(spider_is_idle=no_slot))) is False
