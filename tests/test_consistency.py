"""Crash safety, case by case: what a resume finds (archive/corpus/consistency.py) and what it undoes.

Each test builds the state a crash can leave (a record lost after the state row or the
corpus entry, a torn manifest line, a file without its line) from real WARC records, then
checks that reconciliation rolls back exactly that and `archive check --corpus` agrees.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.cli import main
from archive.corpus.consistency import (
    ReconcileSummary,
    WarcLocator,
    fold,
    pointer_problem,
    reconcile_corpus,
    reconcile_state,
)
from archive.corpus.crawl_check import verify_crawl
from archive.corpus.consistency import MANIFEST_NAME
from archive.corpus.store import Corpus
from archive.extract.article import extract_article
from archive.warc.cdxj import INDEX_NAME, ensure_directory_index
from archive.warc.cdxj_lookup import CdxjIndex
from archive.warc.repair import RepairError, repair_left_open, repair_open_file
from archive.state.store import CrawlState
from archive.urls import canonical_url
from archive.warc.writer import WarcWriter
from testbed.archive_samples import fixture_page, sample_exchange, write_archive

ND = "https://nhandan.vn"
PAGES = ["ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html",
         "thuc-day-ket-noi-giao-thong-thuong-mai-qua-bien-gioi-viet-nam-lao-post830204.html",
         "viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-post830201.html"]


@pytest.fixture
def crawled(tmp_path):
    """Three archived article pages, each in the corpus and in the state, as a finished crawl leaves them."""
    warc_dir, corpus_dir = tmp_path / "warc", tmp_path / "corpus"
    urls = [f"{ND}/{page}" for page in PAGES]
    locations = write_archive(warc_dir, [sample_exchange(u, fixture_page(f"nhandan.vn/{p}"))
                                         for u, p in zip(urls, PAGES)])
    with Corpus(corpus_dir, None) as corpus:
        for url, page, location in zip(urls, PAGES, locations):
            article = extract_article(fixture_page(f"nhandan.vn/{page}"), url)
            result = corpus.add(article, site="nhandan.vn", warc_file=location.warc_file,
                                warc_offset=location.offset, warc_record_id=location.record_id,
                                warc_payload_digest=location.payload_digest)
            assert result.status == "written"
    state = CrawlState(tmp_path / "state.sqlite")
    for url, location in zip(urls, locations):
        state.record_fetch(canonical_url(url), fetch_url=url, status=200, outcome="new",
                           record=(location.record_id, location.warc_file, location.offset))
    state.close()
    return tmp_path, urls, locations


def _entries(corpus_dir: Path) -> dict:
    return fold(json.loads(line) for line in (corpus_dir / MANIFEST_NAME).read_text().splitlines() if line.strip())


def test_a_finished_crawl_is_consistent(crawled):
    work, urls, _ = crawled
    report = verify_crawl(work / "warc", work / "corpus", state=work / "state.sqlite", expected_urls=urls)
    assert report.problems == [] and report.articles == 3 and report.archived_pages == 3 and report.pointers == 3
    summary = reconcile_corpus(work / "corpus", WarcLocator(work / "warc"))
    assert summary.checked == 3 and not summary.changed


def test_record_lost_after_the_corpus_entry_rolls_the_entry_back(crawled):
    """The WARC lost its last record (a disk that lied), the corpus kept the article: the file goes to
    rolled-back/, the manifest says why, the page's state row goes so it is fetched again."""
    work, urls, locations = crawled
    [warc] = (work / "warc").glob("*.warc.gz")
    with warc.open("r+b") as fh:
        fh.truncate(locations[2].offset)
    last = sorted(p.name for p in (work / "corpus").glob("00*.txt"))[-1]
    summary = reconcile_corpus(work / "corpus", WarcLocator(work / "warc"))
    assert summary.rolled_back == [last]
    assert summary.urls == {canonical_url(urls[2])}
    assert (work / "corpus" / "rolled-back" / last).is_file() and not (work / "corpus" / last).exists()
    row = json.loads((work / "corpus" / MANIFEST_NAME).read_text().splitlines()[-1])
    assert row["update"] == "rollback" and row["removed"] is True and "past the end" in row["reason"]
    assert last not in _entries(work / "corpus")
    state = CrawlState(work / "state.sqlite")
    reconcile_state(state, WarcLocator(work / "warc"), summary)
    assert summary.state_rows == 1 and state.get(canonical_url(urls[2])) is None
    assert state.get(canonical_url(urls[1])) is not None
    state.close()
    # The corpus reopens one article short, and the next article takes the freed number.
    with Corpus(work / "corpus", None) as corpus:
        assert corpus.next_number == int(last[:3])
    assert verify_crawl(work / "warc", work / "corpus").problems == []


def test_record_lost_after_the_state_row_makes_the_page_due_again(crawled):
    work, urls, locations = crawled
    [warc] = (work / "warc").glob("*.warc.gz")
    renamed = work / "elsewhere.warc.gz"
    warc.rename(renamed)  # the state's file name no longer resolves, and the archive holds no record of them
    state = CrawlState(work / "state.sqlite")
    summary = reconcile_state(state, WarcLocator(work / "warc"), ReconcileSummary())
    assert summary.state_rows == 3 and len(state) == 0
    # Only rows fetched since the last verified point are checked again.
    renamed.rename(warc)
    state.record_fetch(canonical_url(urls[0]), fetch_url=urls[0], status=200, outcome="new",
                       record=(locations[0].record_id, locations[0].warc_file, locations[0].offset))
    assert reconcile_state(state, WarcLocator(work / "warc"), ReconcileSummary()).state_rows == 0
    state.close()


def test_a_record_of_another_page_is_a_mismatch(crawled):
    work, urls, locations = crawled
    entry = {"warc_file": locations[1].warc_file, "warc_offset": locations[1].offset,
             "warc_record_id": locations[1].record_id, "url": urls[0]}
    assert "is a capture of" in pointer_problem(WarcLocator(work / "warc"), entry)
    entry = {**entry, "url": urls[1], "warc_record_id": locations[0].record_id}
    assert "holds" in pointer_problem(WarcLocator(work / "warc"), entry)
    entry = {**entry, "warc_record_id": locations[1].record_id, "warc_payload_digest": "sha1:AAAA"}
    assert "payload digest" in pointer_problem(WarcLocator(work / "warc"), entry)


def test_torn_manifest_line_and_file_without_a_line(crawled):
    work, urls, _ = crawled
    corpus_dir = work / "corpus"
    orphan = corpus_dir / "003_0123456789abcdef.txt"
    orphan.write_text(f"Tiêu đề\n\nNội dung.\n\nNguồn: {urls[0]}?x=1\n", "utf-8")
    with (corpus_dir / MANIFEST_NAME).open("a") as fh:
        fh.write('{"file": "003_0123')
    summary = reconcile_corpus(corpus_dir, WarcLocator(work / "warc"))
    assert summary.torn_lines == 1 and summary.orphans == [orphan.name]
    assert (corpus_dir / "rolled-back" / orphan.name).is_file()
    assert (corpus_dir / MANIFEST_NAME).read_bytes().endswith(b"\n")
    report = verify_crawl(work / "warc", corpus_dir)
    assert report.problems == ["manifest line at byte %d is torn or unreadable" % _torn_at(corpus_dir)]


def _torn_at(corpus_dir: Path) -> int:
    position = 0
    for raw in (corpus_dir / MANIFEST_NAME).read_bytes().splitlines(keepends=True):
        if raw.startswith(b'{"file": "003_0123"') or raw.strip() == b'{"file": "003_0123':
            return position
        position += len(raw)
    raise AssertionError("no torn line")


def test_an_update_line_is_undone_not_the_entry(crawled, tmp_path):
    """A lost alias (a second URL for an article already in the corpus) restores the alias list
    it replaced; the article itself stays."""
    work, urls, locations = crawled
    corpus_dir = work / "corpus"
    first = sorted(p.name for p in corpus_dir.glob("00*.txt"))[0]
    with Corpus(corpus_dir, None) as corpus:
        copy = extract_article(fixture_page(f"nhandan.vn/{PAGES[0]}"), f"{ND}/ban-sao-post999001.html")
        copy.canonical_url = copy.url
        result = corpus.add(copy, site="nhandan.vn", warc_file="gone.warc.gz", warc_offset=0,
                            warc_record_id="<urn:uuid:00000000-0000-4000-8000-00000000dead>")
        assert result.status == "duplicate-text" and result.file.name == first
    assert len(_entries(corpus_dir)[first]["aliases"]) == 1
    summary = reconcile_corpus(corpus_dir, WarcLocator(work / "warc"))
    assert summary.rolled_back == [f"{first} (alias)"]
    assert not _entries(corpus_dir)[first].get("aliases") and (corpus_dir / first).is_file()


def test_check_command_reports_dangling_pointers(crawled, capsys):
    work, _, locations = crawled
    assert main(["check", str(work / "warc"), "--corpus", str(work / "corpus"),
                 "--state", str(work / "state.sqlite")]) == 0
    [warc] = (work / "warc").glob("*.warc.gz")
    data = warc.read_bytes()
    warc.write_bytes(data[:locations[2].offset])
    capsys.readouterr()
    assert main(["check", str(work / "warc"), "--corpus", str(work / "corpus"),
                 "--state", str(work / "state.sqlite")]) == 1
    out = capsys.readouterr().out
    assert "past the end" in out and "state row" in out
    assert main(["check", str(work / "warc"), "--corpus", str(work / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_merged_index_notices_a_deleted_or_replaced_warc(tmp_path):
    warc_dir = tmp_path / "warc"
    write_archive(warc_dir, [sample_exchange(f"{ND}/a-post1.html")], prefix="a")
    write_archive(warc_dir, [sample_exchange(f"{ND}/b-post2.html")], prefix="b")
    with CdxjIndex(ensure_directory_index(warc_dir)) as index:
        assert {c.url for c in index} == {f"{ND}/a-post1.html", f"{ND}/b-post2.html"}
    [b] = warc_dir.glob("b-*.warc.gz")
    b.unlink()
    with CdxjIndex(ensure_directory_index(warc_dir)) as index:
        assert {c.url for c in index} == {f"{ND}/a-post1.html"}
    # replaced by another file carrying the old modification time
    [a] = warc_dir.glob("a-*.warc.gz")
    stat = a.stat()
    other = tmp_path / "other"
    write_archive(other, [sample_exchange(f"{ND}/c-post3.html")], prefix="a")
    [c] = other.glob("*.warc.gz")
    shutil.copyfile(c, a)
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with CdxjIndex(ensure_directory_index(warc_dir)) as index:
        assert (warc_dir / INDEX_NAME).exists()
        assert {c.url for c in index} == {f"{ND}/c-post3.html"}


def test_repair_never_cuts_a_file_its_writer_still_holds(tmp_path):
    writer = WarcWriter(tmp_path, prefix="live")
    writer.write_exchange(sample_exchange(f"{ND}/a-post1.html")).result(timeout=10)
    [open_file] = tmp_path.glob("*.open")
    with pytest.raises(RepairError, match="running writer"):
        repair_open_file(open_file)
    repaired, notes = repair_left_open(tmp_path, wait=0.2)
    assert repaired == [] and "still being written" in notes[0]
    writer.close()
    assert not list(tmp_path.glob("*.open"))


def test_an_open_file_without_a_whole_record_is_kept_aside(tmp_path):
    (tmp_path / "x.warc.gz.open").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (tmp_path / "empty.warc.gz.open").write_bytes(b"")
    repaired, notes = repair_left_open(tmp_path, wait=0)
    assert repaired == [] and len(notes) == 2
    assert (tmp_path / "x.warc.gz.tail").read_bytes() == b"\x1f\x8b\x08\x00garbage"
    assert not list(tmp_path.glob("*.open"))


def _run_killed_then_again(command: list[str], kill_after: float, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    time.sleep(kill_after)
    if proc.poll() is None:
        os.killpg(proc.pid, 9)
    proc.wait()
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kill_after", [0.8, 1.6, 2.4])
def test_archive_extract_killed_and_run_again_gives_the_uninterrupted_corpus(tmp_path, kill_after):
    from testbed.archive_samples import FIXTURE_WEB

    pages = sorted((FIXTURE_WEB / "nhandan.vn").glob("*post*.html"))
    exchanges = [sample_exchange(f"{ND}/{p.name}", p.read_bytes()) for p in pages]
    write_archive(tmp_path / "warc", exchanges * 8)  # repeats: the second copy of each is a duplicate
    command = [sys.executable, "-m", "archive", "extract", str(tmp_path / "warc"), "--workers", "0", "--out"]
    clean = subprocess.run(command + [str(tmp_path / "clean")], cwd=REPO, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    again = _run_killed_then_again(command + [str(tmp_path / "resumed")], kill_after, REPO)
    assert again.returncode == 0, again.stderr
    def corpus(name):
        directory = tmp_path / name
        files = {p.name: p.read_bytes() for p in directory.glob("*.txt")}
        entries = {f: {k: v for k, v in e.items() if k not in ("reason",)} for f, e in _entries(directory).items()}
        return files, entries
    assert corpus("resumed") == corpus("clean")


def test_state_merge_killed_and_run_again_gives_the_uninterrupted_state(tmp_path):
    inputs = []
    for n in range(3):
        state = CrawlState(tmp_path / f"in{n}.sqlite")
        for i in range(3000):
            url = f"{ND}/p-post{i}.html"
            state.record_fetch(url, fetch_url=url, status=200, outcome="new", fetched_at=1000.0 + n * 10 + i % 7)
        state.close()
        inputs.append(str(tmp_path / f"in{n}.sqlite"))
    command = [sys.executable, "-m", "archive", "state-merge"]
    clean = subprocess.run(command + [str(tmp_path / "clean.sqlite"), *inputs], cwd=REPO, capture_output=True)
    assert clean.returncode == 0
    for kill_after in (0.3, 0.9):
        again = _run_killed_then_again(command + [str(tmp_path / "resumed.sqlite"), *inputs], kill_after, REPO)
        assert again.returncode == 0
    def rows(name):
        db = sqlite3.connect(tmp_path / name)
        try:
            return db.execute("SELECT * FROM pages ORDER BY url").fetchall()
        finally:
            db.close()
    assert rows("resumed.sqlite") == rows("clean.sqlite")


def test_an_original_whose_record_is_lost_gives_its_copy_back(tmp_path):
    """The nhandan original superseded thoidai's copy, then its WARC record was lost: resuming undoes
    both rows, so the copy is the corpus's file again, back from superseded/."""
    warc_dir, corpus_dir = tmp_path / "warc", tmp_path / "corpus"
    copy = "thoidai.com.vn/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-211205.html"
    original = f"nhandan.vn/{PAGES[2]}"
    urls = [f"https://{copy}", f"https://{original}"]
    locations = write_archive(warc_dir, [sample_exchange(u, fixture_page(p)) for u, p in zip(urls, (copy, original))])
    with Corpus(corpus_dir, None) as corpus:
        statuses = [corpus.add(extract_article(fixture_page(p), u), site=p.split("/")[0], warc_file=loc.warc_file,
                               warc_offset=loc.offset, warc_record_id=loc.record_id,
                               warc_payload_digest=loc.payload_digest).status
                    for u, p, loc in zip(urls, (copy, original), locations)]
    assert statuses == ["written", "supersedes"]
    [warc] = warc_dir.glob("*.warc.gz")
    with warc.open("r+b") as fh:
        fh.truncate(locations[1].offset)
    summary = reconcile_corpus(corpus_dir, WarcLocator(warc_dir))
    assert summary.urls == {canonical_url(urls[1])}
    [entry] = _entries(corpus_dir).values()
    assert entry["url"] == urls[0] and (corpus_dir / entry["file"]).is_file()
    assert not list((corpus_dir / "superseded").iterdir())
    assert verify_crawl(warc_dir, corpus_dir).problems == []


def _opened_state(corpus: Corpus) -> tuple:
    return ([(d.file, d.number, d.url, sorted(d.text_shas)) for d in corpus._docs], dict(corpus._by_url),
            dict(corpus._by_text), corpus._next_number)


def test_a_resumed_corpus_opens_from_the_resume_s_one_parse(crawled, monkeypatch):
    """The resume's reconciliation parses the manifest; the corpus opens from that parse (no second or
    third read) into the same state as from the file; a manifest changed in between is read again."""
    import archive.corpus.manifest_parse as manifest_parse
    import archive.corpus.opening as opening

    work, urls, _ = crawled
    with Corpus(work / "corpus", None) as corpus:
        expected = _opened_state(corpus)
    parses, reads = [], []
    real_lines, real_read = manifest_parse.manifest_lines, opening.read_manifest_lines
    monkeypatch.setattr(manifest_parse, "manifest_lines", lambda path: parses.append(path) or real_lines(path))
    monkeypatch.setattr(opening, "read_manifest_lines", lambda *a, **k: reads.append(a) or real_read(*a, **k))
    summary = reconcile_corpus(work / "corpus", WarcLocator(work / "warc"))
    with Corpus(work / "corpus", None, manifest=summary.take_manifest()) as corpus:
        assert _opened_state(corpus) == expected
    assert (len(parses), len(reads)) == (1, 0) and summary.manifest is None

    summary = reconcile_corpus(work / "corpus", WarcLocator(work / "warc"))
    with (work / "corpus" / MANIFEST_NAME).open("a") as fh:  # written after the resume parsed it
        fh.write(json.dumps({"file": "099_x.txt", "update": "rollback", "removed": True}) + "\n")
    with Corpus(work / "corpus", None, manifest=summary.take_manifest()) as corpus:
        assert _opened_state(corpus) == expected
    assert (len(parses), len(reads)) == (3, 0)  # the change seen: parsed again


def test_the_offline_check_prints_the_first_problems_of_a_kind_and_counts_the_rest(tmp_path):
    from archive.corpus.crawl_check import SHOWN

    (tmp_path / "warc").mkdir()
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / MANIFEST_NAME).write_text("")
    expected = [f"https://nhandan.vn/bai-{i}.html" for i in range(SHOWN + 5)]
    report = verify_crawl(tmp_path / "warc", tmp_path / "corpus", expected_urls=expected)
    for label in ("never archived", "not in the corpus"):
        lines = [p for p in report.problems if p.endswith(label)]
        assert lines[:SHOWN] == [f"{url}: {label}" for url in expected[:SHOWN]]
        assert lines[SHOWN:] == [f"... 5 more {label}"]
