"""Issue #19, third pass: where a topic crawl's pages go (stat `topic/pages/<kind>/<how reached>`),
a start URL's listings counted by what its members are, and held teasers dropped when their
anchors look like every other link (crawler/anchor_background.py)."""
import json
from html import escape

import pytest

from archive.extract.topic import TopicProfile
from crawler.anchor_background import MIN_POSITIVES, AnchorBackground
from crawler.relevance import BACKGROUND_MARGIN, TopicGate
from crawler.topic_frontier import HeldLinks
from testbed.fixtureserver import FixtureServer, FixtureSite, Reply
from testbed.topic_site import _html, _not_found
from tests.conftest import REPO, run_crawl
from tests.test_topic_recall import ON_TEXT, WEATHER_TEXT

ND = "http://nhandan.vn"
START, ORPHAN, SECTION = f"{ND}/hop-tac-giao-duc-post1.html", f"{ND}/le-hoi-post2.html", f"{ND}/vanhoa"
WEATHER = f"{ND}/mua-ret-post3.html"


def _article(title: str, text: str, related=(), section: str | None = None) -> str:
    box = "".join(f'<article class="story"><h3 class="story__heading"><a class="cms-link" href="{url}">'
                  f'{escape(anchor)}</a></h3></article>' for url, anchor in related)
    crumbs = f'<div class="breadcrumbs"><a class="cms-link" href="{section}">Văn hóa</a></div>' if section else ""
    return (f'<html><head><title>{escape(title)}</title></head><body>{crumbs}<article class="article">'
            f'<h1 class="article__title cms-title">{escape(title)}</h1>'
            f'<div class="article__body zce-content-body cms-body"><p>{escape(text)}</p></div></article>'
            f'<div class="box-related"><h3>Tin liên quan</h3>{box}</div></body></html>')


class StartOnlyWeb(FixtureSite):
    """A start article whose related box leads off topic (a weather teaser) and whose section,
    "Văn hóa" (a generic name), lists an on-topic article nothing else links to."""

    def resolve(self, host: str, path_qs: str) -> Reply:
        if path_qs == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")], body=b"User-agent: *\nAllow: /\n")
        pages = {
            START: _article("Việt Nam - Lào tăng cường hợp tác giáo dục", ON_TEXT,
                            [(WEATHER, "Mưa đến bao giờ?")], SECTION),
            WEATHER: _article("Mưa đến bao giờ?", WEATHER_TEXT),
            ORPHAN: _article("Giao lưu văn hóa Việt Nam - Lào", ON_TEXT),
            SECTION: ('<html><head><title>Văn hóa</title></head><body><h1>Văn hóa</h1><div class="box-stream">'
                      f'<article class="story"><a class="cms-link" href="{ORPHAN}">Giao lưu văn hóa Việt Nam - '
                      'Lào tại Xiêng Khoảng</a></article></div></body></html>'),
        }
        page = pages.get(f"http://{host}{path_qs}")
        return _not_found() if page is None else _html(page)


def crawl_from(tmp_path, site: FixtureSite, start: str):
    """A topic crawl of `site` from `start` at depth 2: the run, and the kept articles' rules by URL."""
    server = FixtureServer(site).start_background()
    items = tmp_path / "items.jsonl"
    try:
        run = run_crawl(tmp_path, f"urls={start}", "depth=2", server=server, settings={
            "CORPUS_SEEDS": "", "EXTRACT_ENABLED": False,
            "FEEDS": json.dumps({str(items): {"format": "jsonlines"}}), "FEED_EXPORT_FIELDS": "url,extra"})
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    return run, {item["url"]: item["extra"]["rule"] for item in map(json.loads, items.read_text("utf-8").splitlines())}


def test_a_start_urls_section_is_fetched_for_its_members_and_the_pages_are_accounted(tmp_path):
    """The start URL is on topic by the user's word: its section counts it as an on-topic member
    (crawler/topic_listings.py), so the section is fetched when the crawl is idle and finds the
    article nothing else leads to; each fetch is counted by what it was and how it was reached."""
    run, kept = crawl_from(tmp_path, StartOnlyWeb(), START)
    assert kept == {START: "start", ORPHAN: "anchor"}
    spent = {key: n for key, n in run.stats.items() if key.startswith("topic/pages/")}
    assert spent == {"topic/pages/kept/start": 1, "topic/pages/off_topic/held": 1,
                     "topic/pages/listing/listing": 1, "topic/pages/kept/anchor": 1}
    # The article the section passed on is counted as what such a listing's links are worth (session 16)
    assert run.stats["topic/probed_links/on_topic"] == 1 and "topic/probed_links/off_topic" not in run.stats


# --------------------------------------------------------------------------- anchors against the background
ROUTINE = ("Giá vàng hôm nay tăng mạnh", "Giá vàng hôm nay giảm nhẹ", "Triển lãm mỹ thuật đương đại tại Quảng Bình",
           "Triển lãm mỹ thuật đương đại tại Nghệ An", "Thị trường chứng khoán phiên sáng tăng mạnh",
           "Dự báo thời tiết cuối tuần: mưa dông diện rộng", "V-League: Hải Phòng thắng kịch tính")
PAGES = 40  # read, each link once: a crawl's first minute
TOPIC_TEASERS = ("Sắc màu Bunpimay giữa lòng thủ đô", "Đêm lăm vông bên dòng Mê Kông",
                 "Té nước mừng năm mới Bunpimay ở Hà Tĩnh")


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def _read_page(model, n, anchors):
    model.read([(f"{ND}/tin-{n}-{i}-post{n}{i}.html", anchor, False) for i, anchor in enumerate(anchors)])


def test_an_anchor_is_weighed_against_every_anchor_read(topic):
    model = AnchorBackground(topic)
    for n in range(PAGES):  # pages whose boxes mix the topic's teasers with routine news
        _read_page(model, n, ROUTINE + TOPIC_TEASERS[n % 2:n % 2 + 1])
    assert model.log_odds("Giá vàng hôm nay đảo chiều") is None  # no on-topic page reached by a link yet
    for teaser in TOPIC_TEASERS[:MIN_POSITIVES - 1]:
        model.led_on_topic([teaser])
    assert model.log_odds("Giá vàng hôm nay đảo chiều") is None  # too few to say anything
    for teaser in TOPIC_TEASERS * 10:  # thirty on-topic pages reached by a teaser
        model.led_on_topic([teaser])
    assert model.log_odds("Giá vàng hôm nay đảo chiều") < BACKGROUND_MARGIN  # common in the background, never led to the topic
    assert model.log_odds("Sắc màu Bunpimay ở Savannakhet") > 0  # shares its terms with anchors that did
    assert model.log_odds("Xyzw") == 0.0  # no term either side used


def test_the_background_counts_a_link_once_and_forgets_the_oldest(topic):
    model = AnchorBackground(topic, max_anchors=3)
    link = (f"{ND}/a-post1.html", "Giá vàng hôm nay tăng mạnh", False)
    model.read([link, link, (f"{ND}/p2", "Trang sau", True)])  # the same URL once; next-page links not at all
    assert len(model._sides[1]) == 1
    model.read([(f"{ND}/b-post{n}.html", f"Thời tiết hôm nay {n}", False) for n in range(3)])
    assert len(model._sides[1]) == 3 and link[0] not in model._read  # the oldest forgotten
    model.read([link])  # then counted again
    assert len(model._sides[1]) == 3 and link[0] in model._read


def test_a_held_teaser_like_every_other_link_is_dropped(topic):
    gate = TopicGate(topic)
    for n in range(PAGES):
        gate.read_links([(f"{ND}/tin-{n}-{i}-post{n}{i}.html", anchor, False)
                         for i, anchor in enumerate(ROUTINE + TOPIC_TEASERS[:1])])
    for teaser in TOPIC_TEASERS * 10:  # thirty on-topic pages reached by a teaser
        gate.judge_page(ON_TEXT, "related", anchors=[teaser])
    held = HeldLinks()
    held.hold(f"{ND}/gia-vang-post9.html", "Giá vàng hôm nay đảo chiều", START, 0)
    held.hold(f"{ND}/bunpimay-post8.html", "Sắc màu Bunpimay ở Savannakhet", START, 0)
    released = held.pop(gate, 2)
    assert [link.url for link in released] == [f"{ND}/bunpimay-post8.html"] and held.dropped == 1
