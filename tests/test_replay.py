"""Offline replay: archive.warc.replay lookups, and `scrapy crawl news -s ARCHIVE_REPLAY=DIR` end to end."""
from __future__ import annotations

import gzip
import json

import pytest

from archive.warc.replay import ArchiveNotFound, ArchiveReplay
from archive.warc.records import RevisitProfile
from testbed.archive_samples import Revisit, at, fixture_page, sample_exchange, write_archive

ND = "https://nhandan.vn"
ARTICLE_PATH = "nhandan.vn/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html"
ARTICLE = f"https://{ARTICLE_PATH}"
MOVED = f"{ND}/chuyen-huong-post900001.html"
MISSING = f"{ND}/chua-luu-tru-post900002.html"


@pytest.fixture
def archive(tmp_path):
    """robots.txt, a 301 to a gzip + chunked article, revisits of two kinds."""
    directory = tmp_path / "archive"
    items = [
        sample_exchange(f"{ND}/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain"),
        sample_exchange(MOVED, b"", status=301, content_type="", headers=(("Location", ARTICLE),)),
        sample_exchange(ARTICLE, fixture_page(ARTICLE_PATH), gzipped=True, chunked=True,
                        when=at("2024-01-01T00:00:00"), headers=(("X-Capture", "first"),)),
        sample_exchange(f"{ND}/same-post1.html", b"<p>same</p>", when=at("2024-01-01T00:00:00"),
                        headers=(("X-Capture", "first"),)),
        sample_exchange(f"{ND}/not-modified-post2.html", b"<p>kept</p>", when=at("2024-01-01T00:00:00")),
    ]
    items += [
        Revisit(3, sample_exchange(f"{ND}/same-post1.html", b"<p>same</p>", when=at("2024-03-01T00:00:00"),
                                   headers=(("X-Capture", "revisit"),))),
        Revisit(4, sample_exchange(f"{ND}/not-modified-post2.html", b"", status=304, content_type="",
                                   when=at("2024-03-01T00:00:00")),
                profile=RevisitProfile.SERVER_NOT_MODIFIED),
    ]
    locations = write_archive(directory, items)
    return directory, items, locations


# One page at a time, each one decided on before the next is fetched: which of two syndicated
# copies is written first depends on arrival order, and so do the file numbers. The spider
# decides in an extraction worker, after an await: without the scraper's backout (any response
# still being scraped) the next request would start meanwhile, and the order would depend on
# which finishes first.
SEQUENTIAL = {"CONCURRENT_REQUESTS": 1, "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 1}


def test_body_is_served_as_stored_only_de_chunked(archive):
    directory, items, locations = archive
    with ArchiveReplay(directory) as replay:
        stored = replay.lookup(ARTICLE)
    assert stored.status == 200 and stored.protocol == "HTTP/1.1"
    assert stored.body == items[2].payload  # gzip bytes, chunking undone
    assert gzip.decompress(stored.body) == fixture_page(ARTICLE_PATH)
    names = [name.lower() for name, _ in stored.headers]
    assert "content-encoding" in names and "transfer-encoding" not in names
    assert (stored.location.warc_file, stored.location.offset, stored.location.record_id) == (
        locations[2].warc_file, locations[2].offset, locations[2].record_id)
    assert stored.fetched_at.startswith("2024-01-01T00:00:00")


def test_a_stored_redirect_stays_a_redirect(archive):
    directory, _, _ = archive
    with ArchiveReplay(directory) as replay:
        stored = replay.lookup(MOVED)
    assert stored.status == 301 and ("Location", ARTICLE) in stored.headers and stored.body == b""


def test_revisits_resolve_to_the_stored_payload(archive):
    directory, items, locations = archive
    with ArchiveReplay(directory) as replay:
        same = replay.lookup(f"{ND}/same-post1.html")
        kept = replay.lookup(f"{ND}/not-modified-post2.html")
    # Identical payload: the revisit's own head, the original's body.
    assert same.body == b"<p>same</p>" and ("X-Capture", "revisit") in same.headers
    assert same.location.record_id == locations[5].record_id
    assert same.revisit_of.record_id == locations[3].record_id
    # Server not modified: the 304 answered a conditional request; replay serves the original whole.
    assert kept.status == 200 and kept.body == b"<p>kept</p>"
    assert kept.revisit_of.record_id == locations[4].record_id


def test_replay_at_a_time_serves_the_nearest_capture(archive):
    directory, _, locations = archive
    with ArchiveReplay(directory, at="20240110") as replay:
        stored = replay.lookup(f"{ND}/same-post1.html")
    assert stored.revisit_of is None and ("X-Capture", "first") in stored.headers
    assert stored.location.record_id == locations[3].record_id


def test_a_url_not_archived_is_none(archive):
    directory, _, _ = archive
    with ArchiveReplay(directory) as replay:
        assert replay.lookup(MISSING) is None


def test_an_empty_or_missing_archive_is_refused(tmp_path):
    with pytest.raises(ArchiveNotFound, match="does not exist"):
        ArchiveReplay(tmp_path / "nope")
    with pytest.raises(ArchiveNotFound, match="no closed WARC") as empty:
        ArchiveReplay(tmp_path)
    assert "repair" not in str(empty.value)  # no guessing about a crash when nothing says so
    (tmp_path / "news-1.warc.gz.open").write_bytes(b"")
    with pytest.raises(ArchiveNotFound, match="1 [*].warc.gz.open file.*repair"):
        ArchiveReplay(tmp_path)


def test_replay_crawl_follows_redirects_decodes_and_counts_missing(crawl, archive):
    directory, _, locations = archive
    run = crawl(f"urls={MOVED},{MISSING}", "depth=0", offline=True,
                settings={"ARCHIVE_REPLAY": directory, "CORPUS_SEEDS": ""})
    assert run.returncode == 0, run.stderr
    assert run.hits == []
    stats = run.stats
    assert stats["replay/missing"] == 1
    assert stats["downloader/response_status_count/301"] == 1
    assert stats["replay/responses"] == 3  # robots.txt, the 301, the article
    assert "Not in the archive: " + MISSING in run.log()
    [entry] = run.manifest()
    assert entry["url"] == ARTICLE
    gold = f"tests/fixtures/gold/{ARTICLE_PATH}.txt"
    assert (run.corpus_dir / entry["file"]).read_text("utf-8") == open(gold, encoding="utf-8").read()
    # The corpus points into the archive it was replayed from; nothing was archived again.
    assert (entry["warc_file"], entry["warc_offset"], entry["warc_record_id"]) == (
        locations[2].warc_file, locations[2].offset, locations[2].record_id)
    assert not list(run.out.rglob("*.warc.gz*"))
    assert "warc/records" not in stats


def test_round_trip_live_crawl_then_replay_crawl_gives_the_same_corpus(crawl):
    settings = SEQUENTIAL
    live = crawl(settings=settings)
    assert live.returncode == 0, live.stderr
    replayed = crawl(settings={**settings, "ARCHIVE_REPLAY": live.warc_dir}, offline=True)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.hits == []  # the fixture sites were not asked for anything
    assert "replay/missing" not in replayed.stats
    assert replayed.stats["replay/responses"] == live.stats["downloader/response_count"]
    live_files = {p.name: p.read_bytes() for p in live.corpus_dir.glob("*.txt")}
    replay_files = {p.name: p.read_bytes() for p in replayed.corpus_dir.glob("*.txt")}
    assert len(live_files) == 9 and replay_files == live_files
    assert _comparable(replayed.manifest()) == _comparable(live.manifest())
    assert not list(replayed.warc_dir.glob("*.warc.gz*"))


def _comparable(entries: list[dict]) -> list[str]:
    """Manifest entries without the wall-clock fields (fetched_at) that differ between runs."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "fetched_at"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return sorted(json.dumps(strip(e), sort_keys=True) for e in entries)


def test_replay_of_a_missing_archive_fails_the_crawl(crawl, tmp_path):
    run = crawl("urls=https://nhandan.vn/x-post1.html", offline=True,
                settings={"ARCHIVE_REPLAY": tmp_path / "nothing-here"})
    assert run.returncode != 0 and run.hits == []
    assert "does not exist" in run.stderr + run.log()


def test_replay_of_a_recrawl_resolves_its_revisit_records(crawl, tmp_path):
    """An incremental re-crawl stores unchanged pages as revisits; replay serves their payloads."""
    shared = {**SEQUENTIAL, "WARC_DIR": tmp_path / "warc", "CRAWL_STATE": tmp_path / "state.sqlite",
              "REVISIT_FRESH_EVERY": 0, "REVISIT_OLD_EVERY": 0}
    first = crawl(settings=shared)
    again = crawl(settings=shared)
    assert first.returncode == 0 and again.returncode == 0, again.stderr
    assert again.stats.get("warc/revisits", 0) > 10
    replayed = crawl(offline=True, settings={**SEQUENTIAL, "ARCHIVE_REPLAY": tmp_path / "warc"})
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stats["replay/revisits"] == again.stats["warc/revisits"]
    first_files = {p.name: p.read_bytes() for p in first.corpus_dir.glob("*.txt")}
    assert {p.name: p.read_bytes() for p in replayed.corpus_dir.glob("*.txt")} == first_files


def test_replay_crawl_records_nothing_in_the_crawl_state(crawl, archive, tmp_path):
    """A replay is not a fetch: even with a state file named, no page is recorded in it, so the next live
    crawl's revisit policy still sees the last live fetch (and a replay never makes a page look fresh)."""
    from archive.state.store import CrawlState
    directory, _, _ = archive
    state = tmp_path / "replay-state.sqlite"
    run = crawl(f"urls={ARTICLE}", "depth=0", offline=True,
                settings={"ARCHIVE_REPLAY": directory, "CORPUS_SEEDS": "", "CRAWL_STATE": state})
    assert run.returncode == 0, run.stderr
    assert run.manifest()[0]["url"] == ARTICLE  # the page was replayed and extracted
    if state.exists():
        rows = CrawlState(state, lock=False)
        try:
            assert len(rows) == 0
        finally:
            rows.close()
