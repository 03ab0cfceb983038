"""Through the crawl: a page served from 127.0.0.1 with a Word paste's `\\x0b` after each end tag of its
body (the case that lost whole bodies: lxml refused the tail trafilatura merged) comes out in the corpus
with its body, the same text as without them; the archive holds the page as sent, `\\x0b` and all;
`python -m archive extract` of that archive writes the same corpus (archive/extract/xml_chars.py)."""
from __future__ import annotations

from bench.hostile_site import HTML
from tests.conftest import REPO, crawled_and_rebuilt
from tests.test_xml_chars import THOIDAI, _after_end_tags, _page

GOLD = REPO / "tests" / "fixtures" / "gold"


def test_a_crawled_page_with_vertical_tabs_keeps_its_body_and_its_bytes(tmp_path):
    html, _ = _page(THOIDAI)
    served = _after_end_tags(html, b"\x0b")
    assert served.count(b"\x0b") >= 5
    expected = (GOLD / f"{THOIDAI.split('://', 1)[1]}.txt").read_text("utf-8")  # the clean page's gold text
    crawled, rebuilt = crawled_and_rebuilt(tmp_path, THOIDAI, served, HTML)
    assert crawled == rebuilt == expected
