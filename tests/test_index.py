"""archive.warc.cdxj: CDXJ per file and merged, pywb-compatible lines, binary-search lookups."""
from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.cli import main
from archive.warc.cdxj import INDEX_NAME, ensure_directory_index, index_directory, index_warc_file, warc_index_path
from archive.warc.cdxj_lookup import Capture, CdxjIndex, timestamp14, url_key
from testbed.archive_samples import Revisit, at, sample_exchange, write_archive

ARTICLE = "https://nhandan.vn/bai-viet-post1.html"


@pytest.fixture
def three_times(tmp_path):
    """One URL captured three times (plus look-alikes), over two files."""
    archive = tmp_path / "warc"
    write_archive(archive, [
        sample_exchange(ARTICLE, b"v1", when=at("2024-01-01T00:00:00")),
        sample_exchange("https://nhandan.vn/robots.txt", b"", content_type="text/plain"),
    ], prefix="a")
    write_archive(archive, [
        sample_exchange(ARTICLE, b"v2", when=at("2024-06-01T00:00:00")),
        sample_exchange(ARTICLE, b"v3", when=at("2025-01-01T00:00:00")),
        # Same SURT key, not the same URL: found, but the exact URL wins.
        sample_exchange("http://www.nhandan.vn/bai-viet-post1.html", b"www", when=at("2026-01-01T00:00:00")),
    ], prefix="b")
    return archive


def test_per_file_and_merged_indexes_are_sorted_pywb_cdxj(three_times):
    summary = index_directory(three_times)
    warcs = sorted(three_times.glob("*.warc.gz"))
    assert summary.files == 2 and summary.reindexed == 2 and summary.captures == 5
    for warc in warcs:
        per_file = warc_index_path(warc)
        assert per_file.name == warc.name.replace(".warc.gz", ".cdxj") and per_file.exists()
    merged = (three_times / INDEX_NAME).read_text("utf-8").splitlines()
    assert merged == sorted(merged) and len(merged) == 5
    key, timestamp, data = merged[0].split(" ", 2)
    fields = json.loads(data)
    # The fields pywb reads; offsets and lengths point at one gzip member.
    assert set(fields) >= {"url", "mime", "status", "digest", "length", "offset", "filename"}
    assert key == "vn,nhandan)/bai-viet-post1.html" and len(timestamp) == 14
    first = Capture.from_line(merged[0])
    with open(three_times / first.filename, "rb") as fh:
        fh.seek(first.offset)
        assert fh.read(2) == b"\x1f\x8b"
    # Request and warcinfo records are not captures.
    assert all(json.loads(line.split(" ", 2)[2])["mime"] != "application/http" for line in merged)


def test_latest_and_nearest(three_times):
    with CdxjIndex(ensure_directory_index(three_times)) as index:
        assert [c.timestamp for c in index.captures(ARTICLE)] == [
            "20240101000000", "20240601000000", "20250101000000", "20260101000000"]
        assert index.latest(ARTICLE).timestamp == "20250101000000"  # exact URL beats the later www. copy
        assert index.latest("http://www.nhandan.vn/bai-viet-post1.html").timestamp == "20260101000000"
        assert index.nearest(ARTICLE, "20240301").timestamp == "20240101000000"  # 60 days vs 92
        assert index.nearest(ARTICLE, "2024-05-01T00:00:00Z").timestamp == "20240601000000"
        assert index.nearest(ARTICLE, at("2030-01-01T00:00:00")).timestamp == "20250101000000"
        assert index.nearest(ARTICLE, "1990").timestamp == "20240101000000"
        # Case, scheme and www. fold into the SURT key, as in pywb; no exact match: the latest look-alike.
        assert index.latest("https://NHANDAN.vn/bai-viet-post1.html").timestamp == "20260101000000"
        assert index.latest("https://nhandan.vn/bai-viet-post2.html") is None
        assert index.latest("https://nhandan.vn/bai-viet-post1.htm") is None  # a prefix is not a match


def test_nearest_tie_goes_to_the_earlier_capture(tmp_path):
    write_archive(tmp_path, [sample_exchange(ARTICLE, b"a", when=at("2024-01-01T00:00:00")),
                             sample_exchange(ARTICLE, b"b", when=at("2024-01-03T00:00:00"))])
    with CdxjIndex(ensure_directory_index(tmp_path)) as index:
        assert index.nearest(ARTICLE, "20240102").timestamp == "20240101000000"


def test_binary_search_agrees_with_a_scan(tmp_path):
    rng = random.Random(7)
    hosts = [f"vn,site{n})" for n in range(40)]
    lines = sorted({
        f"{rng.choice(hosts)}/p{rng.randrange(3000)} 2024{rng.randrange(1, 13):02d}01000000 "
        + json.dumps({"url": "x", "mime": "text/html", "status": "200", "length": "1", "offset": "0",
                      "filename": "f.warc.gz"}) + "\n"
        for _ in range(20_000)
    })
    path = tmp_path / INDEX_NAME
    path.write_text("".join(lines))
    keys = [line.split(" ", 1)[0] for line in lines]
    probes = keys[:3] + keys[-3:] + rng.sample(keys, 300) + ["a", "zzz", "vn,site1)/p", "vn,site9)/p99999"]
    with CdxjIndex(path) as index:
        for key in probes:
            found = [f"{c.urlkey} {c.timestamp}" for c in _by_key(index, key)]
            expected = [line.rsplit(" ", 1)[0].split(" {", 1)[0] for line in lines if line.split(" ", 1)[0] == key]
            assert sorted(found) == sorted(expected), key


def _by_key(index: CdxjIndex, key: str):
    return [Capture.from_line(line.decode()) for line in index._lines_with_key(key.encode())]


def test_empty_index_finds_nothing(tmp_path):
    (tmp_path / INDEX_NAME).write_text("")
    with CdxjIndex(tmp_path / INDEX_NAME) as index:
        assert index.latest(ARTICLE) is None and list(index) == []


def test_merged_index_is_rebuilt_only_when_something_changed(tmp_path):
    write_archive(tmp_path, [sample_exchange(ARTICLE, b"one")], prefix="a")
    index = ensure_directory_index(tmp_path)
    built = index.stat().st_mtime_ns
    time.sleep(0.01)
    assert ensure_directory_index(tmp_path).stat().st_mtime_ns == built
    write_archive(tmp_path, [sample_exchange("https://nhandan.vn/moi-post2.html", b"two")], prefix="b")
    ensure_directory_index(tmp_path)
    with CdxjIndex(index) as fresh:
        assert fresh.latest("https://nhandan.vn/moi-post2.html") is not None


def test_warcs_in_subfolders_keep_resolvable_filenames(tmp_path):
    write_archive(tmp_path / "2024" / "05", [sample_exchange(ARTICLE, b"deep")])
    with CdxjIndex(ensure_directory_index(tmp_path)) as index:
        capture = index.latest(ARTICLE)
        assert capture.filename.startswith("2024/05/") and index.warc_path(capture).is_file()


def test_open_files_are_not_indexed(tmp_path):
    write_archive(tmp_path, [sample_exchange(ARTICLE, b"x")])
    [warc] = tmp_path.glob("*.warc.gz")
    warc.rename(warc.with_name(warc.name + ".open"))
    summary = index_directory(tmp_path)
    assert summary.files == 0 and summary.captures == 0


def test_revisits_are_indexed_as_warc_revisit(tmp_path):
    original = sample_exchange(ARTICLE, b"same", when=at("2024-01-01T00:00:00"))
    write_archive(tmp_path, [original, Revisit(0, sample_exchange(ARTICLE, b"same", when=at("2024-02-01T00:00:00")))])
    with CdxjIndex(ensure_directory_index(tmp_path)) as index:
        first, second = index.captures(ARTICLE)
        assert not first.is_revisit and second.is_revisit and second.mime == "warc/revisit"


def test_index_warc_file_matches_the_cdxj_indexer_command(tmp_path):
    """Our per-file index is exactly what pywb's `cdxj-indexer --sort` writes."""
    write_archive(tmp_path, [sample_exchange(ARTICLE, b"x"), sample_exchange("https://nhandan.vn/b-post2.html")])
    [warc] = tmp_path.glob("*.warc.gz")
    ours = index_warc_file(warc).read_text()
    command = Path(sys.executable).parent / "cdxj-indexer"
    theirs = subprocess.run([str(command), "--sort", "--records", "response,revisit,resource", str(warc)],
                            capture_output=True, text=True, check=True).stdout
    assert ours == theirs


@pytest.mark.parametrize("text, expected", [
    ("2024", "20240101000000"), ("202405", "20240501000000"), ("20240531", "20240531000000"),
    ("2024-05-31T12:30:00Z", "20240531123000"), ("20240531123059", "20240531123059"),
    # WARC-Date and WARC-Refers-To-Date with microseconds (WARC 1.1) and an offset
    ("2024-05-31T12:30:00.123456Z", "20240531123000"), ("2024-05-31T19:30:00+07:00", "20240531123000"),
])
def test_timestamp14(text, expected):
    assert timestamp14(text) == expected


def test_url_key_is_surt():
    assert url_key("https://www.NhanDan.vn/a?b=2&a=1") == "vn,nhandan)/a?a=1&b=2"


def test_index_command_and_lookup(three_times, capsys):
    assert main(["index", str(three_times), "--url", ARTICLE, "--at", "2024-05"]) == 0
    out = capsys.readouterr().out
    assert "5 captures from 2 WARC file(s)" in out and "20240601000000 200 text/html" in out
    assert main(["index", str(three_times), "--url", "https://nhandan.vn/khong-co"]) == 1


@pytest.mark.parametrize("argv, needle", [
    (["index", "/no/such/dir"], "does not exist"),
    (["index", ".", "--at", "2024"], "--at needs --url"),
    (["index", ".", "--url", ARTICLE, "--at", "yesterday"], "not a timestamp"),
])
def test_index_command_bad_input_is_one_error_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and err.count("\n") == 1


def test_index_closed_warc_never_raises(tmp_path, caplog):
    from archive.warc.cdxj import index_closed_warc

    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(b"not a warc at all")
    assert index_closed_warc(broken) is None and "indexing" in caplog.text
    write_archive(tmp_path / "ok", [sample_exchange(ARTICLE, b"x")])
    [warc] = (tmp_path / "ok").glob("*.warc.gz")
    assert index_closed_warc(warc) == warc_index_path(warc)


def test_a_file_that_is_not_warc_is_left_out_and_reported(tmp_path, capsys):
    write_archive(tmp_path, [sample_exchange(ARTICLE, b"x")])
    (tmp_path / "fake.warc.gz").write_bytes(b"not a warc at all")
    summary = index_directory(tmp_path)
    assert summary.files == 1 and summary.captures == 1 and "fake.warc.gz" in summary.not_warc[0]
    assert main(["index", str(tmp_path)]) == 1
    assert "not indexed: " in capsys.readouterr().out


def test_index_in_background_writes_the_index(tmp_path):
    from archive.warc.cdxj import index_in_background

    write_archive(tmp_path, [sample_exchange(ARTICLE, b"x")])
    [warc] = tmp_path.glob("*.warc.gz")
    index_in_background(warc).join(timeout=30)
    assert warc_index_path(warc).read_text().startswith("vn,nhandan)/bai-viet-post1.html ")
