"""A page's measured links travel from a worker to the crawl in columns
(archive/extract/sent_links.py): unpickled, they are the links that were sent."""
import pickle
import pickletools
from pathlib import Path

import pytest

from archive.extract import pool
from archive.extract.sent_links import SentLinks
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
    for path in PAGES:
        url = "https://" + path.relative_to(WEB).as_posix()
        profile = generic_profile(url)
        yield pool._analyse(path.read_bytes(), url, profile.extraction, None, spec_for(profile, generic=True), True,
                            topic.key)[2]


def test_the_crawl_receives_the_links_the_worker_read(topic):
    """On every fixture page read as a host with no profile: the same links, anchors and measurements
    (a vector still packed until read), in a plain tuple, a text met twice on the page one object, and
    an empty anchor the plain empty string."""
    pages = 0
    for reading in _analysed_pages(topic):
        if not reading.links:
            continue
        pages += 1
        assert type(reading.links) is SentLinks
        stream = pickle.dumps(reading.links, protocol=pickle.HIGHEST_PROTOCOL)
        assert "SentLinks" not in {arg for op, arg, _ in pickletools.genops(stream) if isinstance(arg, str)}
        received = pickle.loads(stream)
        assert type(received) is tuple
        assert all(type(link) is tuple for link in received)
        assert all("vector" not in anchor.__dict__ for _, anchor, _ in received if isinstance(anchor, MeasuredText)
                   and "_packed" in anchor.__dict__)
        assert _shown(received) == _shown(reading.links)
        by_text = {}
        for _, anchor, _ in received:
            assert by_text.setdefault(str(anchor), anchor) is anchor
    assert pages > 10


def test_empty_anchors_and_repeated_links_come_back_as_sent(topic, monkeypatch):
    from archive.extract import sent_links

    monkeypatch.setattr(sent_links, "_MIN_LINKS", 1)
    measured = topic.measure_all(["Hợp tác Việt Nam - Lào", "Giá vàng hôm nay", "Việt\x00Nam"])
    links = SentLinks([("http://a/1", measured[0], False), ("http://a/2", "", False), ("http://a/1", measured[0], False),
                       ("http://a/3", measured[1], True), ("http://a/4", measured[2], False), ("http://a/5", "", True)])
    received = _sent(links)
    assert _shown(received) == _shown(links)
    assert received[0][1] is received[2][1] and type(received[1][1]) is str
    assert sent_links._columns(links) is not None
    assert _sent(SentLinks()) == ()
    monkeypatch.setattr(sent_links, "_MIN_LINKS", 16)  # a page of a few links goes as it is
    assert sent_links._columns(links) is None and _shown(_sent(links)) == _shown(links)


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
