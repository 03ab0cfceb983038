"""Issue #19, session 14: a teaser seen on a listing or an off-topic article is held when the pages
the crawl judged say its anchor leans on topic (TOPIC_HOLD_SEEN_TEASERS; crawler/relevance.py)."""
import pytest

from archive.extract.topic import TopicProfile
from crawler.relevance import TopicGate
from crawler.topic_frontier import HeldLinks
from tests.conftest import REPO
from tests.test_topic_recall import ND, ON_TEXT, TEASER, WEATHER_ANCHOR, WEATHER_TEXT, _is_listing

LISTED_TEASER = (f"{ND}/nhung-nguoi-linh-post1.html", TEASER, False)
WEATHER = (f"{ND}/thoi-tiet-post2.html", WEATHER_ANCHOR, False)
UNKNOWN = (f"{ND}/cuoc-dua-post3.html", "Cuộc đua của những chiếc xe đạp", False)  # no judged page used its words
TAG = (f"{ND}/tag/quan-tinh-nguyen.html", TEASER, False)


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def _gate(topic, hold: bool = True) -> TopicGate:
    """A gate that judged an on-topic page reached by TEASER and a weather page reached by WEATHER_ANCHOR."""
    gate = TopicGate(topic, hold_seen_teasers=hold)
    assert gate.judge_page(ON_TEXT, "related", anchors=[TEASER]).on_topic
    assert not gate.judge_page(WEATHER_TEXT, "related", anchors=[WEATHER_ANCHOR]).on_topic
    return gate


@pytest.mark.parametrize("mode", ["listing", "probe", "tunnel"])
def test_a_teaser_leaning_on_topic_is_held_from_a_listing_or_an_off_topic_article(topic, mode):
    gate = _gate(topic)
    assert topic.score(TEASER) < topic.anchor_threshold  # no topic evidence of its own
    links = gate.choose_links([LISTED_TEASER, WEATHER, UNKNOWN, TAG], mode, 0.0, _is_listing)
    # Only the teaser the judged pages lean on topic for; not the weather headline (leans off), not
    # the anchor no judged page used (a listing shows mostly other news), not a tag link.
    assert [(link.url, link.held, link.rule) for link in links] == [(LISTED_TEASER[0], True, "related")]


def test_without_the_setting_a_listings_teaser_is_not_followed(topic):
    gate = _gate(topic, hold=False)
    assert gate.choose_links([LISTED_TEASER, WEATHER, UNKNOWN], "probe", 0.0, _is_listing) == []


def test_a_listing_vouched_for_passes_its_links_on_at_once_not_held(topic):
    links = _gate(topic).choose_links([LISTED_TEASER, WEATHER], "topic-listing", 0.8, _is_listing)
    assert {link.url for link in links} == {LISTED_TEASER[0], WEATHER[0]} and not any(link.held for link in links)


def test_a_held_teaser_from_a_listing_joins_the_held_frontier_and_is_released_by_its_leaning(topic):
    gate, held = _gate(topic), HeldLinks()
    (link,) = gate.choose_links([LISTED_TEASER], "probe", 0.0, _is_listing)
    held.hold(link.url, link.anchor, f"{ND}/vanhoa", 1)
    held.hold(WEATHER[0], WEATHER[1], f"{ND}/a-post9.html", 0)  # a kept article's teaser leaning off
    assert [released.url for released in held.pop(gate, 2)] == [LISTED_TEASER[0]] and held.dropped == 1
