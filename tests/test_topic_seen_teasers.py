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


# Session 17: with no page judged off topic the judged pages lean every anchor neither way (UNKNOWN); the
# anchors that led to on-topic pages against every anchor read (crawler/anchor_background.py) decide.
LED_ON_TOPIC = ("Những người lính tình nguyện trở lại chiến trường xưa", "Người lính tình nguyện và mùa khô",
                "Ký ức của người lính tình nguyện")
PAGE_NEWS = tuple((f"{ND}/tin-{n}-post{100 + n}.html", f"Giá vàng hôm nay {move}", False)
                  for n, move in enumerate(("tăng mạnh", "giảm nhẹ", "đi ngang", "đảo chiều", "tăng nhẹ")))
SOLDIERS = (f"{ND}/nhung-nguoi-linh-nam-xua-post200.html", "Những người lính tình nguyện năm xưa", False)
GOLD = (f"{ND}/gia-vang-post201.html", "Giá vàng hôm nay giảm mạnh", False)


def _gate_with_nothing_judged_off(topic) -> TopicGate:
    gate = TopicGate(topic, hold_seen_teasers=True)
    for anchor in LED_ON_TOPIC:  # three on-topic pages reached by link: the background model speaks
        assert gate.judge_page(ON_TEXT, "related", anchors=[anchor]).on_topic
    gate.read_links([*PAGE_NEWS, SOLDIERS, GOLD])  # a section page's links, the two teasers among them
    return gate


def test_a_teaser_the_judged_pages_say_nothing_of_is_held_when_it_looks_like_the_links_to_the_topic(topic):
    gate = _gate_with_nothing_judged_off(topic)
    assert gate.judged.leaning(SOLDIERS[1]) == gate.judged.leaning(GOLD[1]) == 0  # UNKNOWN: nothing judged off
    links = gate.choose_links([SOLDIERS, GOLD], "probe", 0.0, _is_listing)
    assert [(link.url, link.held) for link in links] == [(SOLDIERS[0], True)]


def test_a_teaser_leaning_off_by_the_judged_pages_is_not_held_whatever_the_background_says(topic):
    gate = _gate_with_nothing_judged_off(topic)
    gate.judge_page(WEATHER_TEXT, "related", anchors=[SOLDIERS[1]])  # a page reached by its words was off
    assert gate.judged.leaning(SOLDIERS[1]) == -1  # OFF
    assert gate.choose_links([SOLDIERS, GOLD], "probe", 0.0, _is_listing) == []
