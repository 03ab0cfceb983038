"""`python -m archive extract`: the corpus rebuilt from the WARC equals the one the crawl wrote."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from archive.corpus.store import Corpus
from archive.warc.reader import read_response_at
from archive.corpus.reextract import SiteRules, reextract
from tests.conftest import REPO, run_crawl


def archive_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, fixture_server):
    """One real crawl of the fixture sites, one request at a time so the order is fixed."""
    run = run_crawl(tmp_path_factory.mktemp("crawl"), server=fixture_server, settings={"CONCURRENT_REQUESTS": 1})
    assert run.returncode == 0, run.stderr
    assert len(list(run.corpus_dir.glob("*.txt"))) > 5
    return run


def corpus_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.txt"))}


# Known only to the crawl, not to the WARC: its clock at parse time (the WARC has
# WARC-Date instead) and the topic gate's verdict on the page (crawler/relevance.py).
CRAWL_TIME_FIELDS = {"score", "rule"}  # fetched_at is the WARC-Date in both


def archive_fields(value):
    """A manifest entry minus the fields only the crawl can know."""
    if isinstance(value, dict):
        return {k: archive_fields(v) for k, v in value.items() if k not in CRAWL_TIME_FIELDS}
    if isinstance(value, list):
        return [archive_fields(v) for v in value]
    return value


def assert_same_corpus(crawl_dir: Path, rebuilt_dir: Path) -> None:
    assert corpus_files(rebuilt_dir) == corpus_files(crawl_dir)  # same names, same bytes
    crawl_entries, rebuilt_entries = Corpus(crawl_dir).entries(), Corpus(rebuilt_dir).entries()
    assert list(rebuilt_entries) == list(crawl_entries)
    for name, entry in crawl_entries.items():
        again = rebuilt_entries[name]
        # Everything the manifest says, WARC pointers and found_from included ...
        assert archive_fields(again) == archive_fields(entry), name


def test_cli_rebuilds_the_crawl_corpus_byte_for_byte(crawled, tmp_path):
    out = tmp_path / "rebuilt"
    proc = archive_cli("extract", crawled.warc_dir, "--out", out, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr == ""
    assert "written 4" in proc.stdout
    assert_same_corpus(crawled.corpus_dir, out)
    found_from = [e.get("found_from") for e in Corpus(out).entries().values() if not e.get("seed")]
    assert found_from and all(f and f.startswith("https://") for f in found_from)  # from the Referer


def test_in_process_inline_extraction_gives_the_same_corpus(crawled, tmp_path):
    corpus = Corpus(tmp_path / "rebuilt", REPO / "seeds")
    stats = reextract(sorted(crawled.warc_dir.glob("*.warc.gz")), corpus,
                      rules=SiteRules.from_site_profiles(), workers=0)
    assert stats.outcomes["written"] == 4 and stats.report.clean
    assert_same_corpus(crawled.corpus_dir, tmp_path / "rebuilt")


def test_killed_crawl_file_is_read_up_to_the_cut(crawled, tmp_path):
    (warc,) = crawled.warc_dir.glob("*.warc.gz")
    entries = [e for e in Corpus(crawled.corpus_dir).entries().values() if e.get("warc_offset")]
    last = max(entries, key=lambda e: e["warc_offset"])
    cut = tmp_path / "in" / (warc.name + ".open")
    cut.parent.mkdir()
    length = read_response_at(warc, last["warc_offset"]).length
    cut.write_bytes(warc.read_bytes()[: last["warc_offset"] + length // 2])  # inside the body
    (cut.parent / "news-just-started.warc.gz.open").write_bytes(b"")  # a crawl that died at once
    out = tmp_path / "rebuilt"
    proc = archive_cli("extract", cut.parent, "--out", out, "--workers", "1", "--no-seeds")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "warning:" in proc.stderr and "cut short" in proc.stderr
    assert "skipped 1 truncated" in proc.stdout
    assert "warning: skipped" in proc.stderr and "news-just-started" in proc.stderr
    pointers = {json.loads(line).get("warc_offset") for line in (out / "manifest.jsonl").read_text().splitlines()}
    assert last["warc_offset"] not in pointers


@pytest.mark.parametrize("case", ["missing", "not-warc", "empty-dir", "out-under-a-file", "out-is-a-file",
                                  "workers-negative", "seeds-missing"])
def test_bad_input_is_one_error_line(case, tmp_path, crawled):
    warc_dir = crawled.warc_dir
    out = tmp_path / "out"
    args = {
        "missing": [tmp_path / "nope.warc.gz", "--out", out],
        "not-warc": [REPO / "README.md", "--out", out],
        "empty-dir": [tmp_path, "--out", out],
        "out-under-a-file": [warc_dir, "--out", REPO / "README.md" / "corpus"],
        "out-is-a-file": [warc_dir, "--out", REPO / "README.md"],
        "workers-negative": [warc_dir, "--out", out, "--workers", "-1"],
        "seeds-missing": [warc_dir, "--out", out, "--seeds", tmp_path / "no-seeds"],
    }[case]
    proc = archive_cli("extract", *args)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert not out.exists()  # refused before anything was written


def test_pages_on_hosts_without_a_profile_are_judged_by_content_as_the_crawl_does(tmp_path):
    """Generic hosts: the page tells an article (archive/extract/article/article/page_gate.py), whatever its URL shape: a slug
    URL with an article is extracted, a listing at an article-shaped URL is not."""
    from archive.warc.exchange import Exchange
    from archive.warc.writer import WarcWriter
    from testbed.fixture_pages import page

    def exchange(url: str, body: bytes) -> Exchange:
        return Exchange(url=url, request_head=b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n", request_body=b"",
                        response_head=b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                                      b"Content-Length: %d\r\n\r\n" % len(body),
                        response_block_body=body, payload=body, ip_address=None,
                        fetched_at=datetime.fromisoformat("2025-01-02T03:04:05+00:00"))

    writer = WarcWriter(tmp_path / "warc", prefix="t")
    article = page("nhandan.vn", "/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html")
    writer.write_exchange(exchange("https://example.org/tin-tuc/ky-niem-quan-he", article.read_bytes())).result()
    writer.write_exchange(exchange("https://example.org/", page("nhandan.vn", "/").read_bytes())).result()
    listing = page("nhandan.vn", "/tag/viet-nam-lao-12345.html").read_bytes()
    writer.write_exchange(exchange("https://example.org/tin-tuc/viet-nam-lao-1234567.html", listing)).result()
    writer.close()
    corpus = Corpus(tmp_path / "corpus", None)
    stats = reextract(sorted((tmp_path / "warc").glob("*.warc.gz")), corpus, rules=SiteRules.from_site_profiles())
    assert stats.pages == 1 and stats.outcomes["written"] == 1
    (entry,) = corpus.entries().values()
    assert entry["url"] == "https://example.org/tin-tuc/ky-niem-quan-he" and entry["site"] == "example.org"


def test_a_page_whose_extraction_fails_is_skipped_alone_and_named(crawled, tmp_path, monkeypatch, capsys):
    """As the crawl does (pages/extraction_failed): any error of one page's extraction skips that page."""
    import archive.extract.pool as pool_module

    real = pool_module._extract_with_fingerprint
    warcs = sorted(crawled.warc_dir.glob("*.warc.gz"))
    with Corpus(tmp_path / "all", None) as corpus:
        every = reextract(warcs, corpus, rules=SiteRules.from_site_profiles(), workers=0)
    victim = sorted(Corpus(tmp_path / "all", None).entries().values(), key=lambda e: e["url"])[0]["url"]

    def failing(body, url, *args):
        if url == victim:
            raise ValueError("a parser bug on this page")
        return real(body, url, *args)

    monkeypatch.setattr(pool_module, "_extract_with_fingerprint", failing)
    with Corpus(tmp_path / "rebuilt", None) as corpus:
        stats = reextract(warcs, corpus, rules=SiteRules.from_site_profiles(), workers=0)
    assert stats.failed == 1 and stats.timed_out == 0 and stats.pages == every.pages - 1
    warning = [line for line in capsys.readouterr().err.splitlines() if victim in line]
    assert len(warning) == 1 and "a parser bug on this page" in warning[0]
    assert victim not in {e["url"] for e in Corpus(tmp_path / "rebuilt", None).entries().values()}


def test_extract_stops_with_an_error_when_the_workers_break(crawled, tmp_path, monkeypatch, capsys):
    """A broken pool can extract nothing more: exit 1, one line, no traceback, nothing half-added."""
    import archive.extract.pool as pool_module
    from archive.cli import main as archive_main
    from archive.extract.process_pool import PoolBroken

    def broken(*args):
        raise PoolBroken("the extraction pool's dispatcher failed")

    monkeypatch.setattr(pool_module, "_extract_with_fingerprint", broken)
    out = tmp_path / "rebuilt"
    assert archive_main(["extract", str(crawled.warc_dir), "--out", str(out), "--workers", "0", "--no-seeds"]) == 1
    err = capsys.readouterr().err
    assert "error: the extraction workers failed" in err and "Traceback" not in err
    assert Corpus(out, None).entries() == {}
