"""Integrity tools: `archive check`, `archive repair` (incl. a crawl killed with SIGKILL), `archive stats`."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from archive.cli import main
from archive.warc.check import digest_matches, verify_warc_file
from archive.warc.cdxj import ensure_directory_index
from archive.warc.cdxj_lookup import CdxjIndex
from archive.warc.repair import RepairError, _gzip_member_at, repair_open_file
from archive.extract.requisites import kind_by_extension
from testbed.archive_samples import Revisit, sample_exchange, write_archive
from tests.conftest import REPO

WARCIO = Path(sys.executable).parent / "warcio"
ND = "https://nhandan.vn"


def members(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each gzip member."""
    found, position = [], 0
    while position < len(data):
        _, size = _gzip_member_at(data, position)
        found.append((position, size))
        position += size
    return found


@pytest.fixture
def good_warc(tmp_path) -> Path:
    directory = tmp_path / "warc"
    items = [
        sample_exchange(f"{ND}/a-post1.html", b"<p>plain</p>" * 50),
        sample_exchange(f"{ND}/b-post2.html", b"<p>zipped and chunked</p>" * 200, gzipped=True, chunked=True),
        sample_exchange(f"{ND}/c-post3.html", b"<p>zipped</p>" * 200, gzipped=True),
    ]
    items.append(Revisit(0, sample_exchange(f"{ND}/a-post1.html", b"<p>plain</p>" * 50)))
    # "stored" payload digests, so `warcio check` (which digests chunked bodies as stored) agrees too.
    write_archive(directory, items, payload_digest="stored")
    [path] = directory.glob("*.warc.gz")
    return path


def test_a_good_file_passes(good_warc, capsys):
    report = verify_warc_file(good_warc)
    assert report.ok and report.records == 1 + 2 * 4 and report.digests_checked == report.records
    assert main(["check", str(good_warc.parent)]) == 0
    assert "1 of 1 file(s) ok, 9 records checked" in capsys.readouterr().out


@pytest.mark.parametrize("policy", ["entity", "stored"])
def test_chunked_payload_digest_passes_under_either_convention(tmp_path, policy):
    write_archive(tmp_path, [sample_exchange(f"{ND}/x-post1.html", b"abc" * 999, chunked=True)],
                  payload_digest=policy)
    [path] = tmp_path.glob("*.warc.gz")
    assert verify_warc_file(path).ok


def test_a_changed_byte_fails_its_digests(good_warc, capsys):
    data = good_warc.read_bytes()
    offset, size = members(data)[6]  # the response for c-post3
    record = zlib.decompress(data[offset:offset + size], wbits=31)
    position = len(record) - 10
    changed = record[:position] + bytes([record[position] ^ 1]) + record[position + 1:]
    good_warc.write_bytes(data[:offset] + zlib.compress(changed, wbits=31) + data[offset + size:])
    report = verify_warc_file(good_warc)
    assert [p.message.split(":")[0] for p in report.problems] == ["block digest failed", "payload digest failed"]
    assert report.problems[0].offset == offset
    assert main(["check", str(good_warc)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "block digest failed" in out and "0 of 1 file(s) ok" in out


def test_truncated_garbage_and_open_files_fail(good_warc, capsys):
    data = good_warc.read_bytes()
    cut = good_warc.with_name("cut.warc.gz")
    cut.write_bytes(data[: len(data) - 100])
    junk = good_warc.with_name("junk.warc.gz")
    junk.write_bytes(data + b"not a record\r\n")
    still_open = good_warc.with_name("open.warc.gz.open")
    still_open.write_bytes(data)
    for size in (10, 50, 100, 300):  # gzip trailer, block, record header, earlier member
        cut.write_bytes(data[: len(data) - size])
        problems = verify_warc_file(cut).problems
        assert problems and any(word in problems[0].message for word in ("cut short", "truncated")), size
    assert any("unreadable" in p.message for p in verify_warc_file(junk).problems)
    assert not verify_warc_file(still_open).ok and not verify_warc_file(still_open).problems
    assert main(["check", str(good_warc.parent)]) == 1
    out = capsys.readouterr().out
    assert "1 of 4 file(s) ok" in out and "still named .open" in out and "archive repair" in out


def test_digest_matches_base32_hex_and_base64():
    import base64
    import hashlib

    raw = hashlib.sha1(b"x").digest()
    for value in (base64.b32encode(raw).decode(), raw.hex(), base64.b64encode(raw).decode()):
        assert digest_matches(f"sha1:{value}", b"x") and not digest_matches(f"sha1:{value}", b"y")
    assert digest_matches("sha256:" + hashlib.sha256(b"x").hexdigest(), b"x")
    assert digest_matches("nosuchalgo:AAAA", b"x") is None


# --- repair ------------------------------------------------------------------------


def test_repair_keeps_every_whole_record_and_loses_no_byte(good_warc):
    data = good_warc.read_bytes()
    spans = members(data)
    cuts = [spans[3][0] + 5, spans[6][0] + spans[6][1] - 1, spans[6][0], len(data)]
    for cut in cuts:
        broken = good_warc.with_name("crawl.warc.gz.open")
        broken.write_bytes(data[:cut])
        result = repair_open_file(broken)
        whole = sum(1 for start, size in spans if start + size <= cut)
        assert result.records == whole and not broken.exists()
        repaired = result.repaired.read_bytes()
        tail = result.tail.read_bytes() if result.tail else b""
        assert repaired + tail == data[:cut]  # nothing lost
        assert verify_warc_file(result.repaired).ok
        assert subprocess.run([str(WARCIO), "check", str(result.repaired)]).returncode == 0
        result.repaired.unlink()
        if result.tail:
            result.tail.unlink()


def test_a_repair_killed_before_it_removed_the_open_file_is_finished(good_warc):
    """Killed between making NAME.warc.gz and removing NAME.warc.gz.open: the next repair only removes it."""
    data = good_warc.read_bytes()
    spans = members(data)
    cut = spans[6][0] + 5
    left = good_warc.with_name("crawl.warc.gz.open")
    left.write_bytes(data[:cut])
    first = repair_open_file(left)
    left.write_bytes(data[:cut])  # as the killed repair left it
    again = repair_open_file(left)
    assert not left.exists() and again.repaired == first.repaired and again.tail == first.tail
    assert first.repaired.read_bytes() + first.tail.read_bytes() == data[:cut]


def test_repair_refuses_what_it_cannot_do_safely(good_warc, tmp_path, capsys):
    data = good_warc.read_bytes()
    inside_warcinfo = tmp_path / "warc" / "early.warc.gz.open"
    inside_warcinfo.write_bytes(data[:20])
    with pytest.raises(RepairError, match="no complete record"):
        repair_open_file(inside_warcinfo)
    assert inside_warcinfo.read_bytes() == data[:20]  # untouched
    clash = good_warc.with_name(good_warc.name + ".open")
    first = members(data)[3]
    clash.write_bytes(data[:first[0] + first[1]])  # another file's whole records under the same name
    with pytest.raises(RepairError, match="already exists"):
        repair_open_file(clash)
    assert clash.exists() and good_warc.read_bytes() == data
    assert main(["repair", str(good_warc)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["repair", str(tmp_path / "nope.warc.gz.open")]) == 2


FAST = [f"{ND}/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html",
        f"{ND}/thuc-day-ket-noi-giao-thong-thuong-mai-qua-bien-gioi-viet-nam-lao-post830204.html",
        f"{ND}/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-post830201.html",
        f"{ND}/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-lien-tuc-phat-trien-post830183.html"]
SLOW = f"{ND}/may-chu-cham-post900504.html"  # the fixture server waits 3 s before answering


def kill_mid_crawl(fixture_server, out: Path, *, writer: str, whole_group: bool) -> None:
    """Crawl FAST + SLOW and SIGKILL the crawler (or its whole process group) while SLOW is pending."""
    out.mkdir(parents=True, exist_ok=True)  # for the log file
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={','.join(FAST + [SLOW])}",
               "-a", "depth=0"]
    for name, value in {"WARC_DIR": out / "warc", "CORPUS_DIR": out / "corpus", "CORPUS_SEEDS": "",
                        "LOG_FILE": out / "crawl.log", "AUTOTHROTTLE_ENABLED": False,
                        "DOWNLOAD_TIMEOUT": 30, "WARC_WRITER": writer}.items():
        command += ["-s", f"{name}={value}"]
    with fixture_server.site.lock:
        fixture_server.site.hits.clear()
    crawl = subprocess.Popen(command, cwd=REPO, env={**os.environ, **fixture_server.proxy_env()},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with fixture_server.site.lock:
                hits = list(fixture_server.site.hits)
            if SLOW in hits and all(url in hits for url in FAST):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the crawl never reached the slow page; hits: {hits}")
        time.sleep(1.0)  # the fast pages are answered and queued for the writer; the slow one is not
        assert crawl.poll() is None, "the crawl ended before it could be killed"
        if whole_group:  # crawler and WARC writer process die at once, as in a machine crash
            os.killpg(crawl.pid, signal.SIGKILL)
        else:
            os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait(timeout=10)
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.wait()
    assert crawl.returncode == -signal.SIGKILL


def test_sigkill_of_the_crawler_alone_still_closes_the_warc_file(fixture_server, tmp_path, capsys):
    """The writer process sees its parent gone, writes what it got, fsyncs and renames: no repair needed."""
    out = tmp_path / "killed"
    kill_mid_crawl(fixture_server, out, writer="process", whole_group=False)
    warc_dir = out / "warc"
    deadline = time.monotonic() + 30
    while list(warc_dir.glob("*.open")) and time.monotonic() < deadline:
        time.sleep(0.1)
    [closed] = warc_dir.glob("*.warc.gz")
    assert not list(warc_dir.glob("*.open"))
    assert subprocess.run([str(WARCIO), "check", str(closed)], capture_output=True).returncode == 0
    assert main(["check", str(warc_dir)]) == 0
    with CdxjIndex(ensure_directory_index(warc_dir)) as index:
        urls = {c.url for c in index}
    assert set(FAST) <= urls and SLOW not in urls


@pytest.mark.parametrize("writer, whole_group", [("thread", False), ("process", True)])
def test_a_crawl_killed_with_sigkill_leaves_an_open_file_that_repair_makes_valid(
        fixture_server, tmp_path, capsys, writer, whole_group):
    out = tmp_path / "killed"
    warc_dir = out / "warc"
    # An earlier run's closed file in the same directory must come through untouched.
    write_archive(warc_dir, [sample_exchange(f"{ND}/earlier-post1.html", b"<p>earlier</p>")], prefix="earlier")
    [earlier] = warc_dir.glob("*.warc.gz")
    earlier_bytes = earlier.read_bytes()
    kill_mid_crawl(fixture_server, out, writer=writer, whole_group=whole_group)
    fast = FAST

    [left_open] = warc_dir.glob("*.warc.gz.open")
    assert sorted(warc_dir.glob("*.warc.gz")) == [earlier]
    assert earlier.read_bytes() == earlier_bytes
    interrupted = left_open.read_bytes()
    assert main(["check", str(warc_dir)]) == 1
    assert "still named .open" in capsys.readouterr().out

    assert main(["repair", str(warc_dir)]) == 0
    repaired = left_open.with_name(left_open.name[: -len(".open")])
    tail = repaired.with_name(repaired.name + ".tail")
    assert not left_open.exists() and repaired.exists()
    assert repaired.read_bytes() + (tail.read_bytes() if tail.exists() else b"") == interrupted
    assert subprocess.run([str(WARCIO), "check", str(repaired)], capture_output=True).returncode == 0
    assert main(["check", str(warc_dir)]) == 0
    assert earlier.read_bytes() == earlier_bytes
    # The repaired file is usable: indexed, and each capture in it can be read back.
    with CdxjIndex(ensure_directory_index(warc_dir)) as index:
        captures = [c for c in index if c.filename == repaired.name]
        assert all(c.url in fast or c.url.endswith("/robots.txt") or kind_by_extension(c.url, "page") != "page"
                   for c in captures)  # pages asked for, robots.txt, or what those pages embed (logos)
    manifest = out / "corpus" / "manifest.jsonl"
    if manifest.exists():  # whatever the corpus wrote before the kill is whole
        for line in manifest.read_text("utf-8").splitlines():
            json.loads(line)


# --- stats -------------------------------------------------------------------------


def test_stats_counts_records_statuses_hosts_and_types(tmp_path, capsys):
    write_archive(tmp_path, [
        sample_exchange(f"{ND}/a-post1.html", b"a"),
        sample_exchange(f"{ND}/gone-post2.html", b"", status=404),
        sample_exchange("https://thoidai.com.vn/robots.txt", b"", content_type="text/plain"),
        sample_exchange(f"{ND}/old-post3.html", b"", status=301, content_type="", headers=(("Location", "/"),)),
    ])
    write_archive(tmp_path, [sample_exchange(f"{ND}/a-post1.html", b"a"),
                             Revisit(0, sample_exchange(f"{ND}/a-post1.html", b"a"))], prefix="second")
    assert main(["stats", str(tmp_path), "--json"]) == 0
    numbers = json.loads(capsys.readouterr().out)
    assert numbers["files"] == 2
    assert numbers["records"] == {"warcinfo": 2, "request": 6, "response": 5, "revisit": 1}
    assert numbers["statuses"] == {"200": 4, "404": 1, "301": 1}
    assert numbers["hosts"] == {"nhandan.vn": 5, "thoidai.com.vn": 1}
    assert numbers["mime_types"] == {"text/html": 3, "text/plain": 1, "(none)": 1, "warc/revisit": 1}
    assert numbers["first_date"] <= numbers["last_date"]
    assert main(["stats", str(tmp_path)]) == 0
    tables = capsys.readouterr().out
    for title in ("Records by WARC type", "Responses by HTTP status", "Responses by host", "Responses by MIME type"):
        assert title in tables


@pytest.mark.parametrize("argv", [["check", "/no/such/file.warc.gz"], ["stats", "/no/such/dir"],
                                  ["repair", "/no/such/dir"]])
def test_missing_paths_are_one_error_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
