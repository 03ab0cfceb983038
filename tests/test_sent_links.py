"""A page's measured links travel from a worker to the crawl in columns
(archive/extract/sent_links.py): unpickled, they are the links that were sent, each made when read;
the crawl's readers of a page's links (the anchor background, the spider's filter) decide the same
on them as on the plain links."""
import pickle
import pickletools
from pathlib import Path

import pytest

from archive.extract import pool
from archive.extract.sent_links import ReceivedLinks, SentLinks, link_urls, links_at
from archive.extract.topic import MeasuredText, load_topic
from archive.sites.generic import generic_profile
from bench.worker_profile import spec_for
from tests.test_parse_once import PAGES, WEB

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def topic():
    topic = load_topic("auto", SEEDS)
    pool._use_topic(topic)
    return topic


@pytest.fixture(autouse=True)
def own_anchor_memory(monkeypatch):
    """The anchors these tests measure are not left remembered for other tests."""
    from archive.extract import topic as topic_mod

    monkeypatch.setattr(topic_mod, "_ANCHOR_MEMOS", {})


class Other(str):
    """An anchor of a type the columns do not carry."""


def _sent(value):
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _shown(links) -> list:
    """Everything the crawl reads of the links: URL, flag, the anchor's text, type and measurements."""
    return [(url, type(anchor).__name__, str(anchor), is_next,
             (anchor.topic_key, repr(anchor.score), anchor.enough, anchor.heaviest,
              [(t, repr(w)) for t, w in (anchor.vector or {}).items()]) if isinstance(anchor, MeasuredText) else None)
            for url, anchor, is_next in links]


def _analysed_pages(topic):
    """Every fixture page read as a host with no profile, then three of the default bench's generic
    pages (~138 links each)."""
    from bench.default_site import GENERIC_HOST, DefaultSite

    site = DefaultSite(2000, GENERIC_HOST)
    pages = [(path.read_bytes(), "https://" + path.relative_to(WEB).as_posix()) for path in PAGES]
    pages += [(site.render(n), f"http://{GENERIC_HOST}/bai-viet-so-{n}-post{100000 + n}.html") for n in (0, 1, 7)]
    for body, url in pages:
        profile = generic_profile(url)
        yield pool._analyse(body, url, profile.extraction, None, spec_for(profile, generic=True), True, topic.key)[2]


def _made(received: ReceivedLinks) -> int:
    """How many of the page's distinct anchors were made so far."""
    return sum(anchor is not None for anchor in received._anchors)


def test_the_crawl_receives_the_links_the_worker_read(topic):
    """On every fixture page read as a host with no profile: the same links, anchors and measurements
    (a vector still packed until read), in the same order, a text met twice on the page one object, an
    empty anchor the plain empty string; no anchor made before a link that carries it is read."""
    pages = columns = 0
    for reading in _analysed_pages(topic):
        if not reading.links:
            continue
        pages += 1
        assert type(reading.links) is SentLinks
        stream = pickle.dumps(reading.links, protocol=pickle.HIGHEST_PROTOCOL)
        assert "SentLinks" not in {arg for op, arg, _ in pickletools.genops(stream) if isinstance(arg, str)}
        received = pickle.loads(stream)
        if len(reading.links) < 16:  # (a page of a few links goes as the plain tuple it is)
            assert type(received) is tuple
        else:
            columns += 1
            assert type(received) is ReceivedLinks
            assert len(received) == len(reading.links) and _made(received) == 0
            assert link_urls(received) == tuple(url for url, _, _ in reading.links) and _made(received) == 0
        assert all(type(link) is tuple for link in received)
        assert all("vector" not in anchor.__dict__ for _, anchor, _ in received if isinstance(anchor, MeasuredText)
                   and "_packed" in anchor.__dict__)
        assert _shown(received) == _shown(reading.links)
        assert received == tuple(reading.links) and tuple(received) == tuple(reading.links)
        by_text = {}
        for _, anchor, _ in received:
            assert by_text.setdefault(str(anchor), anchor) is anchor
    assert pages > 10 and columns >= 7


def test_links_read_one_by_one_are_those_sent(topic):
    """`links_at` and indexing make only the anchors of the links read, and give the same links as
    the whole sequence does, in the order asked, on a received page and on a plain tuple."""
    for reading in _analysed_pages(topic):
        if len(reading.links) < 40:
            continue
        received = _sent(reading.links)
        places = [7, 3, 3, len(reading.links) - 1, 0]
        some = links_at(received, places)
        assert _made(received) <= len(set(places))
        assert _shown(some) == _shown(links_at(tuple(reading.links), places)) \
            == _shown([reading.links[i] for i in places])
        assert _shown([received[-1], received[5]]) == _shown([reading.links[-1], reading.links[5]])
        assert _shown(received[2:9]) == _shown(reading.links[2:9])
        assert some[1][1] is some[2][1] is received[3][1]  # one object an anchor, whenever made
        assert _shown(received) == _shown(reading.links)  # (all made at once, those made before kept)
        assert tuple(received)[3][1] is some[1][1] and received.at(places)[0][1] is some[0][1]
        assert _shown(_sent(received)) == _shown(reading.links)  # pickled again: the same
        assert link_urls(list(reading.links)) == link_urls(received)
        assert links_at(received, []) == []
        return
    raise AssertionError("no fixture page with 40 links")


def test_empty_anchors_and_repeated_links_come_back_as_sent(topic, monkeypatch):
    from archive.extract import sent_links

    monkeypatch.setattr(sent_links, "_MIN_LINKS", 1)
    measured = topic.measure_all(["Hợp tác Việt Nam - Lào", "Giá vàng hôm nay", "Việt\ud800Nam", "và"])
    unpacked = measured[1].vector  # a vector made a dict in the worker still goes packed
    links = SentLinks([("http://a/1", measured[0], False), ("http://a/2", "", False), ("http://a/1", measured[0], False),
                       ("http://a/3", measured[1], True), ("http://a/4", measured[2], False), ("http://a/5", "", True),
                       ("http://a/6", measured[3], False), ("http://a/7", topic.measure("Lào Cai"), False)])
    assert measured[3].vector == {}  # a stop word: no terms, a dict
    received = _sent(links)
    assert _shown(received) == _shown(links)
    assert received[0][1] is received[2][1] and type(received[1][1]) is str and received[1][1] == ""
    assert received[3][1].vector == unpacked
    assert sent_links._columns(links) is not None
    assert _sent(SentLinks()) == ()
    nul = SentLinks([*links, ("http://a/8", topic.measure("Việt\x00Nam"), False)])  # (a NUL cuts the texts)
    assert sent_links._columns(nul) is None and _shown(_sent(nul)) == _shown(nul) and type(_sent(nul)) is tuple
    monkeypatch.setattr(sent_links, "_MIN_LINKS", 16)  # a page of a few links goes as it is
    assert sent_links._columns(links) is None and _shown(_sent(links)) == _shown(links)
    assert type(_sent(links)) is tuple


def test_links_the_columns_would_not_rebuild_are_sent_as_they_are(topic, monkeypatch):
    """Equal anchors that are two objects, or an anchor of another type, go as the plain tuple."""
    from archive.extract import sent_links

    monkeypatch.setattr(sent_links, "_MIN_LINKS", 1)
    one, two = topic.measure_all(["Lào"]), [topic.measure("Lào")]
    twice = SentLinks([("http://a/1", one[0], False), ("http://a/2", two[0], False)])
    received = _sent(twice)
    assert _shown(received) == _shown(twice) and received[0][1] is not received[1][1]
    odd = SentLinks([("http://a/1", Other("Lào"), False), ("http://a/2", one[0], False)])
    assert type(_sent(odd)[0][1]) is Other
    assert sent_links._columns(twice) is None and sent_links._columns(odd) is None
    mixed = SentLinks([("http://a/1", "Lào", False), ("http://a/2", one[0], False)])
    assert [type(anchor) for _, anchor, _ in _sent(mixed)] == [str, MeasuredText]
    assert sent_links._columns(mixed) is None


def _former_read(background, links) -> None:
    """The links read one at a time, as `AnchorBackground.read` looked at every link in turn before
    the links came in columns (the oracle of the test below)."""
    for link in links:
        background.read([link])


def _state(background) -> tuple:
    return (list(background._read.items()), [dict(side.df) for side in background._sides],
            [list(side._order) for side in background._sides], background.version)


def test_the_anchor_background_counts_received_links_as_every_link_looked_at_in_turn(topic, monkeypatch):
    """A link seen for the first time is counted with the vector it was counted with before, and a
    URL forgotten while its page is read counts again further on the page: random pages of a small
    web, a background of a few anchors (so it forgets all the time), read from received links, from
    plain tuples and by the former per-link loop, give the same counts, order and version."""
    import random

    from archive.extract import sent_links
    from crawler.anchor_background import AnchorBackground

    monkeypatch.setattr(sent_links, "_MIN_LINKS", 1)
    words = ["Hợp tác", "Việt Nam", "Lào", "giá vàng", "hôm nay", "bóng đá", "thời tiết", "và", "Hà Nội", "kinh tế"]
    rng = random.Random(19)
    texts = list(dict.fromkeys(" ".join(rng.sample(words, rng.randint(1, 3))) for _ in range(60)))
    anchors = dict(zip(texts, topic.measure_all(texts)))
    backgrounds = [AnchorBackground(topic, max_anchors=bound) for bound in (4, 4, 4, 5000, 5000)]
    again = 0
    for _ in range(300):
        links = []
        for _ in range(rng.randint(1, 30)):
            text = rng.choice(texts + [""])
            links.append((f"http://a/{rng.randint(0, 40)}", anchors[text] if text else "", rng.random() < 0.1))
        counted = set(backgrounds[0]._read)
        received = _sent(SentLinks(links))
        _former_read(backgrounds[0], links)
        backgrounds[1].read(received)
        backgrounds[2].read(tuple(links))
        _former_read(backgrounds[3], links)
        backgrounds[4].read(_sent(SentLinks(links)))
        assert _state(backgrounds[1]) == _state(backgrounds[2]) == _state(backgrounds[0])
        assert _state(backgrounds[4]) == _state(backgrounds[3])
        urls = [url for url, _, _ in links]
        again += any(url in counted and url not in backgrounds[0]._read and urls.count(url) > 1 for url in urls)
    assert again  # (pages where a URL counted before was forgotten and met again)
    assert len(backgrounds[3]._read) > 4


def test_the_spider_s_filter_keeps_the_same_received_links(topic, monkeypatch):
    """`_unrequested` on received links: the links a per-link filter keeps, in order, only those made."""
    from archive.extract import sent_links
    from crawler.spiders.news import _unrequested

    monkeypatch.setattr(sent_links, "_MIN_LINKS", 1)
    measured = topic.measure_all([f"Hợp tác Việt Nam - Lào, bài số {n}" for n in range(10)])
    links = [(f"http://a/{n % 7}", measured[n % 10], n % 5 == 4) for n in range(30)]
    for requested in ({"http://a/1", "http://a/3", "http://a/6"}, {f"http://a/{n}" for n in range(7) if n != 2}):
        received = _sent(SentLinks(links))
        kept = _unrequested(received, lambda urls: set(urls) - requested)
        assert _shown(kept) == _shown([link for link in links if link[0] not in requested])
        made = {n % 10 for n in range(30) if f"http://a/{n % 7}" not in requested}
        # a few links: only their anchors are made; many (at least half): all of them at once
        assert _made(received) == (len(made) if 2 * len(kept) < 10 else 10)
    assert _unrequested(_sent(SentLinks(links)), lambda urls: set()) == []
