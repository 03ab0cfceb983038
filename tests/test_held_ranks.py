"""The held frontier's kept ranks and log ratios (crawler/topic_frontier.py, crawler/judged_pages.py,
crawler/anchor_background.py) give what computing them afresh gives, bit for bit, whatever the
crawl learned between two pops."""
import random

import pytest

from archive.extract.topic import TopicProfile
from crawler.anchor_background import AnchorBackground
from crawler.judged_pages import JudgedPages
from crawler.relevance import TopicGate
from crawler.topic_frontier import HeldLinks
from testbed.topic_site import OFF_TOPICS, ON_TOPIC_SENTENCES
from tests.conftest import REPO

SLOTS = {"vn": "Hà Tĩnh", "lao": "Savannakhet", "x": "y tế", "w": "mưa rào và dông", "m": "tăng mạnh", "s": "vòng 3"}
ON = [sentence.format(**SLOTS) for sentence in ON_TOPIC_SENTENCES]
OFF = [sentence.format(**SLOTS) for _, sentences in OFF_TOPICS.values() for sentence in sentences]
TEASERS = ["Những người lính tình nguyện năm ấy", "Sắc màu Bunpimay giữa lòng thủ đô", "Giá vàng hôm nay tăng mạnh",
           "Mùa lúa mới trên cao nguyên", "Hai bên nhất trí tiếp tục phối hợp", "Đội bóng con cưng của thành phố",
           "Không khí lạnh tăng cường, vùng núi rét", "Hàng nghìn cổ động viên đã có mặt"]
ND = "https://nhandan.vn"


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def _page(rng: random.Random) -> tuple[str, bool]:
    on_topic = rng.random() < 0.5
    return " ".join(rng.sample(ON if on_topic else OFF, 3)), on_topic


def _links(rng: random.Random, n: int) -> list:
    return [(f"{ND}/bai-{rng.randrange(60)}-post.html", rng.choice(TEASERS + OFF), rng.random() < 0.05)
            for _ in range(n)]


def _learn(gate: TopicGate, step: tuple) -> None:
    """One thing a crawl learns: a page judged (and, on topic, the anchors that led to it), or a page's links read."""
    kind, *args = step
    if kind == "page":
        text, on_topic, anchors = args
        gate.judged.remember(text, on_topic, anchors)
        if on_topic:
            gate.background.led_on_topic(anchors)
    else:
        gate.background.read(*args)


def _small_gate(topic) -> TopicGate:
    """A gate whose bounds are small, so that pages and anchors are forgotten within a test."""
    gate = TopicGate(topic, hold_seen_teasers=True)
    gate.judged = JudgedPages(topic, max_pages=4)
    gate.background = AnchorBackground(topic, max_anchors=12, max_positives=4)
    return gate


def _afresh(topic, history: list) -> TopicGate:
    """A new gate taught `history`: nothing kept from an earlier question (what the caches must give)."""
    gate = _small_gate(topic)
    for step in history:
        _learn(gate, step)
    return gate


def _learn_something(rng: random.Random, gate: TopicGate, history: list) -> None:
    """A page judged (mostly) or a page's links read, taught to `gate` and added to `history`."""
    text, on_topic = _page(rng)
    step = ("page", text, on_topic, [rng.choice(TEASERS)]) if rng.random() < 0.7 else ("read", _links(rng, 6))
    _learn(gate, step)
    history.append(step)


def _pop_both(rng: random.Random, topic, gate: TopicGate, history: list, kept: HeldLinks, fresh: HeldLinks) -> list:
    """Pop 1 or 2 from `kept` with `gate` and from `fresh` with a gate taught `history` afresh: the same."""
    n = rng.choice((1, 1, 2))
    got = [link.url for link in kept.pop(gate, n)]
    assert got == [link.url for link in fresh.pop(_afresh(topic, history), n)]
    assert kept.dropped == fresh.dropped and list(kept._reserve) == list(fresh._reserve)
    return got


def test_kept_log_ratios_equal_fresh_ones_as_pages_are_remembered_and_forgotten(topic):
    rng = random.Random(18)
    kept, history = _small_gate(topic), []
    anchors = TEASERS + rng.sample(OFF, 10) + rng.sample(ON, 4)
    for _ in range(60):
        if rng.random() < 0.5:
            text, on_topic = _page(rng)
            step = ("page", text, on_topic, [rng.choice(TEASERS)])
        else:
            step = ("read", _links(rng, 5))
        _learn(kept, step)
        history.append(step)
        fresh = _afresh(topic, history)
        for anchor in anchors:
            assert kept.judged.log_odds(anchor) == fresh.judged.log_odds(anchor)
            assert kept.background.log_odds(anchor) == fresh.background.log_odds(anchor)
            for url in (f"{ND}/bai-{rng.randrange(60)}-post.html", f"{ND}/bai-{rng.randrange(60)}-post.html"):
                assert kept.background.log_odds(anchor, url) == fresh.background.log_odds(anchor, url)
    assert kept.judged.version > 0 and len(kept.judged) == 8  # both sides forgot pages
    assert len(kept.background._sides[1]) == 12


def test_a_judged_page_between_two_pops_changes_the_ranks_as_without_the_kept_ones(topic):
    rng = random.Random(7)
    kept_gate, history = _small_gate(topic), []
    kept, fresh = HeldLinks(), HeldLinks()
    for step in [("page", ON[0] + " " + ON[1], True, [TEASERS[0]]), ("page", OFF[0] + " " + OFF[1], False, []),
                 ("read", _links(rng, 20))]:
        _learn(kept_gate, step)
        history.append(step)
    released = dropped = 0
    for round_ in range(40):
        for _ in range(rng.randrange(4)):
            url, anchor, _ = _links(rng, 1)[0]
            parent = f"{ND}/kept-{rng.randrange(5)}.html"
            for held in (kept, fresh):
                held.hold(url, anchor, parent, 0)
        if round_ % 3:  # the crawl learns between most pops, not all (a refused release teaches nothing)
            _learn_something(rng, kept_gate, history)
        got = _pop_both(rng, topic, kept_gate, history, kept, fresh)
        if rng.random() < 0.3:
            spare, again = kept.pop_reserve(kept_gate), fresh.pop_reserve(_afresh(topic, history))
            assert (spare and spare.url) == (again and again.url)
        released += len(got)
        dropped = kept.dropped
    assert released > 10 and dropped > 3  # the test went through both releases and drops


def test_pops_in_a_row_with_nothing_learned_or_held_release_what_ranking_afresh_releases(topic):
    """Session 19: a pop after a pop, with no page judged or read and no link held in between (a release
    the scheduler refused), takes the links left as the last pop ranked them; any change ranks anew."""
    rng = random.Random(19)
    gate, history = _small_gate(topic), []
    for step in [("page", ON[0] + " " + ON[1], True, [TEASERS[0]]), ("page", OFF[0] + " " + OFF[1], False, []),
                 ("read", _links(rng, 20))]:
        _learn(gate, step)
        history.append(step)
    kept, fresh = HeldLinks(), HeldLinks()

    def hold(count: int) -> None:  # mostly teasers that say nothing either way, some more than once
        for _ in range(count):
            url, anchor = f"{ND}/tin-{rng.randrange(150)}-post.html", rng.choice(TEASERS * 3 + OFF)
            parent = f"{ND}/kept-{rng.randrange(5)}.html"
            for held in (kept, fresh):
                held.hold(url, anchor, parent, 0)
    hold(120)
    ranked_anew = []
    rank = kept._rank
    kept._rank = lambda *args: ranked_anew.append(1) or rank(*args)
    pops = released = 0
    while len(fresh):
        if rng.random() < 0.1:
            hold(rng.randrange(1, 4))
        if rng.random() < 0.1:
            _learn_something(rng, gate, history)
        got = _pop_both(rng, topic, gate, history, kept, fresh)
        assert list(kept._links) == list(fresh._links)
        pops, released = pops + 1, released + len(got)
    assert released > 20 and kept.dropped > 3
    assert 3 < len(ranked_anew) < pops / 2  # most pops ranked nothing again; those after a change did


def test_a_held_rank_is_kept_until_the_gate_learns_or_the_link_gains_an_anchor_or_a_parent(topic):
    gate = _small_gate(topic)
    _learn(gate, ("page", ON[0] + " " + ON[2], True, [TEASERS[1]]))
    _learn(gate, ("page", OFF[3] + " " + OFF[4], False, []))
    held = HeldLinks()
    held.hold(f"{ND}/a-post1.html", TEASERS[0], f"{ND}/kept-1.html", 0)
    link = held._links[f"{ND}/a-post1.html"]
    calls = []

    def rank(gate, link):
        calls.append(1)
        return 0.0, len(link.parents)
    assert link.ranked(gate, "held", rank) == link.ranked(gate, "held", rank) == (0.0, 1) and len(calls) == 1
    held.hold(f"{ND}/a-post1.html", TEASERS[0], f"{ND}/kept-2.html", 0)  # a new parent
    assert link.ranked(gate, "held", rank) == (0.0, 2) and len(calls) == 2
    held.hold(f"{ND}/a-post1.html", TEASERS[1], f"{ND}/kept-2.html", 0)  # a new anchor
    link.ranked(gate, "held", rank)
    _learn(gate, ("page", OFF[5] + " " + OFF[6], False, []))  # the judged pages learn
    link.ranked(gate, "held", rank)
    _learn(gate, ("read", [(f"{ND}/b-post2.html", TEASERS[2], False)]))  # the anchor background learns
    link.ranked(gate, "held", rank)
    link.ranked(_small_gate(topic), "held", rank)  # another gate
    assert len(calls) == 6
