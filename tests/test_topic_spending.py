"""Where a topic crawl's pages go (stat `topic/pages/<kind>/<how reached>`), and a start URL's
listings counted by what its members are (issue #19, third pass)."""
import json
from html import escape

from testbed.fixtureserver import FixtureServer, FixtureSite, Reply
from testbed.topic_site import _html, _not_found
from tests.conftest import run_crawl
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


def test_a_start_urls_section_is_fetched_for_its_members_and_the_pages_are_accounted(tmp_path):
    """The start URL is on topic by the user's word: its section counts it as an on-topic member
    (crawler/topic_listings.py), so the section is fetched when the crawl is idle and finds the
    article nothing else leads to; each fetch is counted by what it was and how it was reached."""
    server = FixtureServer(StartOnlyWeb()).start_background()
    items = tmp_path / "items.jsonl"
    try:
        run = run_crawl(tmp_path, f"urls={START}", "depth=2", server=server, settings={
            "CORPUS_SEEDS": "", "EXTRACT_ENABLED": False,
            "FEEDS": json.dumps({str(items): {"format": "jsonlines"}}), "FEED_EXPORT_FIELDS": "url,extra"})
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    kept = {item["url"]: item["extra"]["rule"] for item in map(json.loads, items.read_text("utf-8").splitlines())}
    assert kept == {START: "start", ORPHAN: "anchor"}
    spent = {key: n for key, n in run.stats.items() if key.startswith("topic/pages/")}
    assert spent == {"topic/pages/kept/start": 1, "topic/pages/off_topic/held": 1,
                     "topic/pages/listing/listing": 1, "topic/pages/kept/anchor": 1}
