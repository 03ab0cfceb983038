"""Through the crawl: a page served from 127.0.0.1 with a Word paste's `\\x0b` after each end tag of its
body (the case that lost whole bodies: lxml refused the tail trafilatura merged) comes out in the corpus
with its body, the same text as without them; the archive holds the page as sent, `\\x0b` and all;
`python -m archive extract` of that archive writes the same corpus (archive/extract/xml_chars.py)."""
from __future__ import annotations

import subprocess
import sys

from archive.warc.reader import iter_responses
from bench.hostile_site import HTML, HostileSite
from tests.conftest import REPO, run_crawl
from tests.test_xml_chars import THOIDAI, _after_end_tags, _page
from testbed.fixtureserver import FixtureServer, Reply

GOLD = REPO / "tests" / "fixtures" / "gold"


def test_a_crawled_page_with_vertical_tabs_keeps_its_body_and_its_bytes(tmp_path):
    html, _ = _page(THOIDAI)
    served = _after_end_tags(html, b"\x0b")
    assert served.count(b"\x0b") >= 5
    site = HostileSite()
    site.add(THOIDAI, Reply(body=served, headers=[("Content-Type", HTML)], encoding="identity"))
    server = FixtureServer(site).start_background()
    try:
        run = run_crawl(tmp_path / "run", f"urls={THOIDAI}", "depth=0", "topic=none", "requisites=none",
                        server=server, settings={"CORPUS_SEEDS": "", "CRAWL_STATE": ""})
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    [entry] = run.manifest()
    assert entry["url"] == THOIDAI
    expected = (GOLD / f"{THOIDAI.split('://', 1)[1]}.txt").read_text("utf-8")  # the clean page's gold text
    assert (run.corpus_dir / entry["file"]).read_text("utf-8") == expected
    [record] = [r for r in iter_responses(sorted(run.warc_dir.glob("*.warc.gz"))) if r.url == THOIDAI]
    assert record.payload == served

    out = tmp_path / "rebuilt"
    proc = subprocess.run([sys.executable, "-m", "archive", "extract", str(run.warc_dir), "--out", str(out),
                           "--no-seeds"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert {p.name: p.read_text("utf-8") for p in out.glob("*.txt")} == {entry["file"]: expected}
