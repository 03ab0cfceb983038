"""Finding the whole topic, ninth pass (issue #19): held links ranked by a model learned within the crawl from
the outcomes of the links it fetched (crawler/topic_learner.py)."""
import json
import re
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import Settings

from archive.extract.topic import TopicProfile
from crawler.relevance import TopicGate
from crawler.topic_frontier import HeldLinks
from crawler.topic_idle import TOPIC_ANCHORS, TOPIC_GUESS, TOPIC_HOPS, IdleRelease
from crawler.topic_learner import GuessLearner, link_features
from testbed.fixtureserver import FixtureServer
from tests.conftest import REPO, run_crawl
from tests.test_topic_recall import ND, ON_TEXT
from tests.test_topic_reserve import KEPT, _Stats
from tests.topic_chain_web import ChainWeb, name_of, url

TV = "https://thoidai.com.vn"
NEUTRAL = "Những người lính tình nguyện năm ấy"  # says nothing either way by the profile or the judged pages


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def test_the_learner_is_deterministic_and_learns_which_feature_predicts_the_outcome():
    def fitted():
        learner = GuessLearner()
        for n in range(40):  # site a's guesses lead to the topic, site b's away from it, in crawl order
            learner.learn({"bias": 1.0, "kind:held": 1.0, "site:a": 1.0}, True)
            learner.learn({"bias": 1.0, "kind:held": 1.0, "site:b": 1.0}, n % 10 == 0)
        return learner
    first, second = fitted(), fitted()
    assert first.weights == second.weights and first.examples == 80
    on = first.probability({"bias": 1.0, "kind:held": 1.0, "site:a": 1.0})
    off = first.probability({"bias": 1.0, "kind:held": 1.0, "site:b": 1.0})
    assert on > 0.8 and off < 0.3
    assert GuessLearner().probability({"bias": 1.0, "site:a": 1.0}) == 0.5  # untrained: no preference
    assert 0.0 < first.probability({"bias": 1.0, "site:a": 1e6}) < 1.0  # clipped, no overflow


def test_a_links_features_are_what_the_crawl_knows_of_it(topic):
    gate = TopicGate(topic)
    features = link_features(gate, f"{ND}/viet-nam-lao-hop-tac-giao-duc-post5.html",
                             ["Việt Nam - Lào hợp tác giáo dục", NEUTRAL], 3, 1, "held")
    assert features["bias"] == features["kind:held"] == features["site:nhandan.vn"] == 1.0
    assert features["anchor"] > 0 and features["slug"] > 0 and features["parents"] > 0 and features["hops"] == 1.0
    assert features["odds_unknown"] == 1.0 and "odds" not in features  # nothing judged yet
    teaser = link_features(gate, f"{ND}/post6.html", [NEUTRAL], 1, 0, "reserve")
    assert teaser["anchor"] == teaser["slug"] == teaser["parents"] == teaser["hops"] == 0.0
    assert all(-1.0 <= value <= 1.0 for value in (*features.values(), *teaser.values()))


def test_held_links_are_released_best_first_by_what_the_learner_learned_of_their_site(topic):
    gate = TopicGate(topic)
    gate.judge_page(ON_TEXT, "related")
    learner = GuessLearner()
    for n in range(30):  # this crawl's thoidai teasers led to the topic, its nhandan ones did not
        learner.learn(link_features(gate, f"{TV}/a-post{n}.html", [NEUTRAL], 1, 0, "held"), True)
        learner.learn(link_features(gate, f"{ND}/b-post{n}.html", [NEUTRAL], 1, 0, "held"), False)
    held = HeldLinks()
    held.hold(f"{ND}/c-post100.html", NEUTRAL, KEPT, 0)
    held.hold(f"{ND}/c-post100.html", NEUTRAL, f"{ND}/other-post7.html", 0)  # two kept pages link to it
    held.hold(f"{TV}/d-post101.html", NEUTRAL, KEPT, 0)
    # Without a learner the link more kept pages name comes first; learned, the site that paid.
    assert [link.url for link in HeldLinks.pop(_copy(held), gate, 1)] == [f"{ND}/c-post100.html"]
    assert _copy(held).pop(gate, 1)[0].features is None
    first = held.pop(gate, 1, learner)
    assert [link.url for link in first] == [f"{TV}/d-post101.html"]
    assert first[0].features == link_features(gate, f"{TV}/d-post101.html", [NEUTRAL], 1, 0, "held")


def _copy(held: HeldLinks) -> HeldLinks:
    twin = HeldLinks()
    for link in held._links.values():
        for parent in sorted(link.parents):
            for anchor in link.anchors:
                twin.hold(link.url, anchor, parent, link.hops)
    return twin


def _release(learned: bool):
    requested = []
    settings = Settings({"TOPIC_PAGES_PER_ARTICLE": 1.4, "TOPIC_MAX_PAGES_PER_ARTICLE": 1.5,
                         "TOPIC_LEARNED_RANKING": learned})
    crawler = SimpleNamespace(stats=_Stats(), settings=settings, engine=SimpleNamespace(crawl=requested.append))
    release = IdleRelease(crawler, lambda found_from, links, hops: (Request(url) for url, _, _ in links))
    return release, requested


def test_a_released_link_carries_its_features_and_its_verdict_teaches_the_learner(topic):
    gate = TopicGate(topic)
    release, requested = _release(True)
    release.links.hold(f"{ND}/c-post100.html", NEUTRAL, KEPT, 0)
    with pytest.raises(DontCloseSpider):
        release.on_idle(gate)
    meta = requested[0].meta
    assert meta[TOPIC_GUESS]["kind:held"] == 1.0
    assert release.guess(gate, {**meta, "found_from": KEPT}, requested[0].url) is meta[TOPIC_GUESS]
    followed = release.guess(gate, {"found_from": KEPT, TOPIC_ANCHORS: [NEUTRAL], TOPIC_HOPS: 1}, f"{ND}/e-post9.html")
    assert followed["kind:followed"] == 1.0 and followed["hops"] == 1.0
    assert release.guess(gate, {}, f"{ND}/start-post1.html") is None  # a start URL: no link, no guess
    release.learn(meta[TOPIC_GUESS], True)
    assert release.learner.examples == 1 and release.learner.probability(meta[TOPIC_GUESS]) > 0.5
    release.learn(None, False)  # nothing to learn from
    assert release.learner.examples == 1


def test_without_the_setting_there_is_no_learner_and_no_guess(topic):
    release, _ = _release(False)
    assert release.learner is None
    assert release.guess(TopicGate(topic), {"found_from": KEPT}, f"{ND}/e-post9.html") is None


def test_a_crawl_with_the_learner_ranks_and_learns_from_what_it_fetches(tmp_path):
    """The spider's side (crawler/spiders/news.py): every judged article teaches the learner, a held link
    released at idle carries its features; on the chain web the crawl is the one without it."""
    server = FixtureServer(ChainWeb()).start_background()
    try:
        items = tmp_path / "items.jsonl"
        run = run_crawl(tmp_path, f"urls={url('S')}", "depth=1", server=server, settings={
            "CORPUS_SEEDS": "", "EXTRACT_ENABLED": False, "TOPIC_LEARNED_RANKING": True, "LOG_LEVEL": "DEBUG",
            "FEEDS": json.dumps({str(items): {"format": "jsonlines"}}), "FEED_EXPORT_FIELDS": "url,extra"})
        assert run.returncode == 0, run.stderr
        with server.site.lock:
            fetched = {name_of(u) for u in server.site.hits if not u.endswith("/robots.txt")}
    finally:
        server.shutdown()
    kept = {name_of(item["url"]) for item in map(json.loads, items.read_text("utf-8").splitlines())}
    assert fetched == {"S", "A1", "A2", "A3", "A4", "O1", None} and kept == {"S", "A1", "A2", "A3", "A4"}
    log = run.log()
    assert log.count("learner example 1 ") == 4 and log.count("learner example 0 ") == 1  # A1–A4; O1
    assert re.search(rf"learned guess released \(held, p 0\.\d+\): {re.escape(url('O1'))}", log)
