"""Through the crawl: pages whose charset a browser reads otherwise than Python's codecs, served from
127.0.0.1. The crawl's extraction and `python -m archive extract` of its archive decode them the same
way, as a browser does (archive/extract/decoding.py, charsets.py); the WARC holds the bytes as sent.

- a real page (no site profile) turned into windows-1252 bytes, served as `charset=iso-8859-1` with
  no `<meta charset>`: a browser shows curly quotes; Latin-1 would make them C1 controls (and did in
  `archive extract`, which reads the header's label; the crawl read Scrapy's `cp1252` instead);
- the same page in UTF-8 with five bad bytes, no charset in the header and its `<meta charset>` at
  byte ~6,000: a browser shows UTF-8 with five U+FFFD; the crawl passed Scrapy's guess (`cp1252`,
  which decodes any bytes) and the corpus had `â€œ` for every opening quote."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from archive.extract.article import extract_article
from archive.extract.render import render_seed_text
from archive.warc.reader import iter_responses
from bench.hostile_site import HostileSite
from tests.conftest import REPO, run_crawl
from tests.test_xml_chars import NYT, _after_end_tags, _page
from testbed.fixtureserver import FixtureServer, Reply

_META = re.compile(rb"<meta[^>]*charset[^>]*>", re.I)


def _windows_1252(html: bytes) -> bytes:
    """The page as windows-1252 bytes, its `<meta charset>` gone (what it cannot say goes as references)."""
    return _META.sub(b"", html).decode("utf-8").encode("cp1252", errors="xmlcharrefreplace")


def _crawled(tmp_path, served: bytes, content_type: str) -> tuple[str, str]:
    """(the corpus file's text, `archive extract`'s text of the crawl's archive) for the page served."""
    site = HostileSite()
    site.add(NYT, Reply(body=served, headers=[("Content-Type", content_type)], encoding="identity"))
    server = FixtureServer(site).start_background()
    try:
        run = run_crawl(tmp_path / "run", f"urls={NYT}", "depth=0", "topic=none", "requisites=none",
                        server=server, settings={"CORPUS_SEEDS": "", "CRAWL_STATE": ""})
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    [entry] = run.manifest()
    [record] = [r for r in iter_responses(sorted(run.warc_dir.glob("*.warc.gz"))) if r.url == NYT]
    assert record.payload == served  # only extraction decodes
    out = tmp_path / "rebuilt"
    proc = subprocess.run([sys.executable, "-m", "archive", "extract", str(run.warc_dir), "--out", str(out),
                           "--no-seeds"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    [rebuilt] = out.glob("*.txt")
    return (run.corpus_dir / entry["file"]).read_text("utf-8"), rebuilt.read_text("utf-8")


@pytest.mark.parametrize("label", ["iso-8859-1", "latin1", "us-ascii"])
def test_a_page_served_as_latin1_is_read_as_windows_1252_by_the_crawl_and_by_archive_extract(tmp_path, label):
    html, hints = _page(NYT)
    expected = render_seed_text(extract_article(html, NYT, hints))
    assert "“" in expected and "’" in expected
    crawled, rebuilt = _crawled(tmp_path, _windows_1252(html), f"text/html; charset={label}")
    assert crawled == rebuilt == expected


def test_a_utf8_page_with_bad_bytes_and_no_charset_in_the_header_is_read_as_utf8(tmp_path):
    html, hints = _page(NYT)
    expected = render_seed_text(extract_article(html, NYT, hints))
    served = _after_end_tags(html, b"\xff", at_most=5)
    assert served.find(b"charset") > 4096
    crawled, rebuilt = _crawled(tmp_path, served, "text/html")
    assert crawled == rebuilt
    assert "â€" not in crawled and crawled.count("“") == expected.count("“")
    assert [line.replace("\ufffd", "").strip() for line in crawled.splitlines()] == \
        [line.strip() for line in expected.splitlines()]
