"""Browsing in pywb (its own venv, `make pywb`): a crawled article replays, and `id_` gives the stored bytes."""
from __future__ import annotations

import gzip
import shutil
import urllib.error
import urllib.request

import pytest

from archive.cli import main
from archive.warc.cdxj import ensure_directory_index
from archive.warc.cdxj_lookup import CdxjIndex
from archive.warc.reader import read_record_at
from archive.serve import (
    BIND,
    PywbNotInstalled,
    free_port,
    prepare_collection,
    pywb_program,
    replay_url,
    start_pywb,
    stop,
)

ARTICLE = "https://nhandan.vn/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html"
CHUNKED = "https://thoidai.com.vn/thuc-day-hop-tac-giua-hai-ban-doi-ngoai-trung-uong-viet-nam-va-lao-182579.html"
TITLE = "Kỷ niệm 62 năm Ngày thiết lập quan hệ ngoại giao Việt Nam - Lào"


def _pywb_or_skip():
    try:
        pywb_program("wayback")
    except PywbNotInstalled as exc:
        pytest.skip(f"{exc} (pywb could not be installed in .venv-pywb)")


@pytest.fixture
def crawled(crawl):
    run = crawl(f"urls={ARTICLE},{CHUNKED}", "depth=0", settings={"CORPUS_SEEDS": ""})
    assert run.returncode == 0, run.stderr
    return run


@pytest.fixture
def pywb(crawled, tmp_path):
    _pywb_or_skip()
    root = tmp_path / "pywb"
    prepare_collection(crawled.warc_dir, root)
    port = free_port()
    process = start_pywb(root, port, quiet=True)
    yield port, process
    stop(process)


def fetch(url: str, **headers) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def stored_body(warc_dir, url) -> bytes:
    with CdxjIndex(ensure_directory_index(warc_dir)) as index:
        capture = index.latest(url)
        return read_record_at(index.warc_path(capture), capture.offset).body


def test_a_crawled_article_replays_in_pywb_and_id_mode_gives_the_stored_bytes(crawled, pywb):
    port, process = pywb
    assert process.args[process.args.index("-b") + 1] == BIND == "127.0.0.1"
    for url in (ARTICLE, CHUNKED):
        status, headers, body = fetch(replay_url(port, url, mode="id_"), **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers.get("Content-Encoding") == "gzip"
        assert body == stored_body(crawled.warc_dir, url)  # gzip as received, chunking undone
    status, _, page = fetch(replay_url(port, ARTICLE, mode="mp_"))
    assert status == 200
    text = (gzip.decompress(page) if page[:2] == b"\x1f\x8b" else page).decode("utf-8")
    assert TITLE in text and "wombat" in text  # rewritten for replay
    status, _, frame = fetch(replay_url(port, ARTICLE))
    assert status == 200 and b"wb_frame" in frame  # framed replay with pywb's banner
    status, _, _ = fetch(replay_url(port, "https://nhandan.vn/khong-co-post1.html", mode="id_"))
    assert status == 404


def test_screenshot_of_a_replayed_article(crawled, tmp_path, capsys):
    _pywb_or_skip()
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("Chromium is not installed (Debian package `chromium`)")
    out = tmp_path / "shot.png"
    assert main(["serve", str(crawled.warc_dir), "--port", "0", "--root", str(tmp_path / "pywb"),
                 "--screenshot", str(out), "--url", ARTICLE]) == 0
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # a rendered page, not a blank one
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 1600)


def test_serve_bad_input_is_one_error_line(tmp_path, capsys):
    cases = [(["serve", str(tmp_path / "nope")], "does not exist"),
             (["serve", str(tmp_path)], "no closed WARC"),
             (["serve", str(tmp_path), "--collection", "a b"], "collection name")]
    for argv, needle in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and needle in err and err.count("\n") == 1
