"""Issue #19, session 16: a series part reached from a listing rejoins its series when a kept
neighbour part links to it, whichever of the two the crawl fetched first (crawler/topic_series.py)."""
from crawler.topic_series import SeriesParts
from testbed.fixtureserver import FixtureSite, Reply
from testbed.topic_site import _html, _not_found
from tests.test_topic_recall import ON_TEXT
from tests.test_topic_spending import _article, crawl_from

TD = "http://thoidai.com.vn"
PART2, PART3, PART4 = (f"{TD}/ky-2-cho-phien-noi-hai-dat-nuoc-gap-nhau-180040.html",
                       f"{TD}/ky-3-ban-ket-nghia-ben-day-truong-son-180094.html",
                       f"{TD}/ban-ket-nghia-180118.html")  # part 4's slug does not number it
TITLE2, TITLE3 = "Kỳ 2: Chợ phiên nơi hai đất nước gặp nhau", "Kỳ 3: Bản kết nghĩa bên dãy Trường Sơn"
BODY = "\nHai tỉnh kết nghĩa cùng xây dựng bản văn hóa dọc biên giới."


def test_a_part_linking_to_a_kept_neighbour_part_as_such_gets_its_title():
    parts = SeriesParts()
    parts.kept(PART2, TITLE2 + BODY)
    parts.kept(f"{TD}/tin-khac-180001.html", "Tuần tra song phương trên biên giới" + BODY)  # no part: not remembered
    links = [(PART2, "Chợ phiên nơi hai đất nước gặp nhau", False)]  # a short title: the slug numbers it
    assert parts.neighbour_title(TITLE3 + BODY, links) == TITLE2
    assert parts.neighbour_title(TITLE3 + BODY, [(PART2, "Kỳ 5: Chợ phiên", False)]) is None  # not as its neighbour
    assert parts.neighbour_title("Kỳ 5: Mốc 15.000 giữa đại ngàn" + BODY, links) is None  # part 2 is not part 5's
    assert parts.neighbour_title("Bản kết nghĩa bên dãy Trường Sơn" + BODY, links) is None  # not a part itself


def test_a_part_judged_off_at_the_margin_waits_for_a_kept_neighbour_and_is_given_back_once():
    parts, item = SeriesParts(), object()
    parts.wait(PART3, TITLE3 + BODY, item)
    parts.wait(f"{TD}/gia-vang-180002.html", "Giá vàng hôm nay tăng mạnh" + BODY, object())  # no part: never waits
    assert parts.released_by(TITLE2 + BODY, [(PART4, "Kỳ 3: Bản kết nghĩa", False)]) == []  # another URL
    assert parts.released_by(TITLE2 + BODY, [(PART3, "Bản kết nghĩa bên dãy Trường Sơn", False)]) == [item]
    assert parts.released_by(TITLE2 + BODY, [(PART3, TITLE3, False)]) == []  # given back once


# --------------------------------------------------------------------------- a crawl
ND = "http://nhandan.vn"
START = f"{ND}/viet-nam-lao-tang-cuong-hop-tac-post1.html"
SERIES = {n: f"{ND}/ky-{n}-bien-gioi-post{n + 10}.html" for n in (2, 3)}
# Part 3 scores 0.154 (threshold 0.18, the series margin 0.144); part 2 is plainly on topic.
MARGIN_TEXT = ("Hai tỉnh kết nghĩa cùng xây dựng bản văn hóa, trạm y tế và trường học dọc biên giới Việt - Lào. "
               "Tỉnh đầu tư hàng trăm tỷ đồng xây dựng đường giao thông nông thôn.")


class ReverseSeriesWeb(FixtureSite):
    """A kept start article links to part 3 of a series, just under the threshold; part 3 links back
    to part 2 by an anchor with topic words, and part 2, on topic, links to part 3 as its next part.
    Each page is reached only from the one before: the crawl fetches them in this order."""

    def resolve(self, host: str, path_qs: str) -> Reply:
        if path_qs == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")], body=b"User-agent: *\nAllow: /\n")
        pages = {
            START: _article("Việt Nam - Lào tăng cường hợp tác", ON_TEXT, [(SERIES[3], TITLE3)]),
            SERIES[3]: _article(TITLE3, MARGIN_TEXT, [(SERIES[2], "Kỳ 2: Chợ phiên ở biên giới Việt Nam - Lào")]),
            SERIES[2]: _article("Kỳ 2: Chợ phiên ở biên giới Việt Nam - Lào", ON_TEXT, [(SERIES[3], TITLE3)]),
        }
        page = pages.get(f"http://{host}{path_qs}")
        return _not_found() if page is None else _html(page)


def test_a_part_judged_just_off_topic_is_kept_when_its_kept_neighbour_links_to_it(tmp_path):
    run, kept = crawl_from(tmp_path, ReverseSeriesWeb(), START)
    assert kept == {START: "start", SERIES[2]: "tunnel", SERIES[3]: "series"}
    assert run.stats["topic/series_rejoined"] == 1 and run.stats["topic/kept"] == 3
    # Part 3's page, first counted off topic, counts as kept: the page ceiling weighs what was kept.
    assert run.stats["topic/pages/kept/series"] == 1 and not run.stats.get("topic/pages/off_topic/series")


def test_the_waiting_parts_are_bounded_the_oldest_forgotten_first(monkeypatch):
    monkeypatch.setattr("crawler.topic_series.MAX_WAITING", 2)
    parts = SeriesParts()
    for n in (1, 2, 3):
        parts.wait(f"{TD}/ky-3-phan-{n}-18000{n}.html", TITLE3 + BODY, n)
    links = [(f"{TD}/ky-3-phan-{n}-18000{n}.html", TITLE3, False) for n in (1, 2, 3)]
    assert parts.released_by(TITLE2 + BODY, links) == [2, 3]
