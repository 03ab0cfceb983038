"""Corpus: numbering, seed import and matching, dedupe, aliases, atomic writes, reload."""
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from archive.corpus.consistency import MANIFEST_NAME
from archive.corpus.store import Corpus, CorpusError
from archive.extract.article import EXTRACTOR, extract_article, render_seed_text
from archive.urls import url_hash16
from testbed.fixture_pages import gold_for, page
from tests.site_hints import HINTS_BY_HOST

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
N1 = "/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-lien-tuc-phat-trien-post830183.html"
N2 = "/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-post830201.html"
N3 = "/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html"
N5 = "/thuc-day-ket-noi-giao-thong-thuong-mai-qua-bien-gioi-viet-nam-lao-post830204.html"
N_SHORT = "/doan-dai-bieu-tinh-savannakhet-tham-va-lam-viec-tai-quang-tri-post830203.html"
T1 = "/thuc-day-hop-tac-giua-hai-ban-doi-ngoai-trung-uong-viet-nam-va-lao-182579.html"
T2 = "/that-chat-quan-he-mo-rong-hop-tac-chien-luoc-viet-nam-lao-viet-nam-campuchia-211111.html"
T3 = "/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-211205.html"
T4 = "/giao-luu-huu-nghi-thanh-nien-viet-nam-lao-tai-dien-bien-211206.html"
DESIGN_FIELDS = {"file", "url", "canonical_url", "site", "title", "published", "author", "category", "lead",
                 "words", "text_sha256", "simhash", "warc_file", "warc_offset", "warc_record_id",
                 "fetched_at", "found_from", "extractor"}
SITE = {"nhandan.vn": "nhandan", "thoidai.com.vn": "thoidai"}


def article(host, path, url=None):
    return extract_article(page(host, path).read_bytes(), url or f"https://{host}{path}", HINTS_BY_HOST[host])


def crawl(corpus, host, path, url=None, **provenance):
    provenance.setdefault("warc_file", f"{SITE[host]}-00000.warc.gz")
    provenance.setdefault("warc_offset", 1234)
    provenance.setdefault("warc_record_id", "<urn:uuid:00000000-0000-4000-8000-000000000001>")
    provenance.setdefault("fetched_at", datetime(2025, 1, 25, 3, 0, tzinfo=timezone.utc))
    return corpus.add(article(host, path, url), site=SITE[host], **provenance)


def manifest_lines(directory):
    return [json.loads(line) for line in (Path(directory) / MANIFEST_NAME).read_text("utf-8").splitlines()]


def numbered(directory):
    return sorted(p.name for p in Path(directory).iterdir() if p.name[:1].isdigit())


@pytest.fixture
def seeded(tmp_path):
    return Corpus(tmp_path / "corpus", REPO_SEEDS)


# --------------------------------------------------------------------------- seeds
def test_new_corpus_copies_and_imports_the_seeds(seeded):
    names = numbered(seeded.directory)
    assert names == sorted(p.name for p in REPO_SEEDS.glob("*.txt"))
    for name in names:
        assert (seeded.directory / name).read_bytes() == (REPO_SEEDS / name).read_bytes()
    lines = manifest_lines(seeded.directory)
    assert [line["file"] for line in lines] == names
    assert all(line["seed"] is True and DESIGN_FIELDS <= line.keys() for line in lines)
    urls = {line["file"][:3]: line["url"] for line in lines}
    assert urls["000"] == "https://nhandan.vn" + N1
    assert urls["002"] == "https://thoidai.com.vn" + T1
    assert urls["001"] is urls["003"] is urls["004"] is None
    assert seeded.next_number == 5 and len(seeded) == 5


def test_first_new_article_is_005_named_by_url_hash(seeded):
    result = crawl(seeded, "nhandan.vn", N2, found_from="https://nhandan.vn/chinhtri")
    assert result.status == "written" and result.number == 5
    assert result.file.name == f"005_{url_hash16('https://nhandan.vn' + N2)}.txt"
    assert result.file.read_text("utf-8") == gold_for(page("nhandan.vn", N2)).read_text("utf-8")
    entry = manifest_lines(seeded.directory)[-1]
    assert DESIGN_FIELDS <= entry.keys()
    a = article("nhandan.vn", N2)
    assert {
        "file": result.file.name, "url": "https://nhandan.vn" + N2, "canonical_url": "https://nhandan.vn" + N2,
        "site": "nhandan", "title": a.title, "published": "2024-09-12T09:30:00+07:00", "author": "THU HÀ",
        "category": "Chính trị", "lead": a.lead, "words": a.words,
        "text_sha256": hashlib.sha256(a.text.encode()).hexdigest(),
        "warc_file": "nhandan-00000.warc.gz", "warc_offset": 1234,
        "warc_record_id": "<urn:uuid:00000000-0000-4000-8000-000000000001>",
        "fetched_at": "2025-01-25T03:00:00+00:00", "found_from": "https://nhandan.vn/chinhtri",
        "seed": False,
    }.items() <= entry.items()
    assert len(entry["simhash"]) == 16 and int(entry["simhash"], 16) >= 0
    assert entry["extractor"]["name"] == "trafilatura" and entry["extractor"]["version"] == EXTRACTOR["version"]
    assert entry["images"] == a.images and entry["tags"] == list(a.tags) and entry["language"] == a.language


def test_crawled_seed_url_writes_no_file_and_updates_the_seed_entry(seeded):
    result = crawl(seeded, "nhandan.vn", N1, found_from="https://nhandan.vn/chinhtri")
    assert result.status == "seed-match"
    assert result.file.name == "000_5f6dcb489422aa65.txt" and result.number == 0
    assert numbered(seeded.directory) == sorted(p.name for p in REPO_SEEDS.glob("*.txt"))
    update = manifest_lines(seeded.directory)[-1]
    assert update["update"] == "seed-match" and update["matched_by"] == "url"
    entry = seeded.entries()["000_5f6dcb489422aa65.txt"]
    assert entry["seed"] is True and entry["warc_file"] == "nhandan-00000.warc.gz"
    assert entry["title"] == "Quyết tâm gìn giữ, vun đắp quan hệ Việt Nam-Lào mãi mãi xanh tươi, liên tục phát triển"
    assert entry["published"] == "2024-09-11T20:15:00+07:00"
    assert entry["found_from"] == "https://nhandan.vn/chinhtri"
    # the seed file itself is never rewritten
    assert (seeded.directory / result.file.name).read_bytes() == (REPO_SEEDS / result.file.name).read_bytes()
    assert crawl(seeded, "nhandan.vn", N1).status == "duplicate-url"
    assert seeded.next_number == 5


def test_seed_without_url_is_matched_by_near_duplicate_text(seeded):
    result = crawl(seeded, "thoidai.com.vn", T2)
    assert result.status == "seed-match" and result.file.name == "003_b893ee3835113bf1.txt"
    assert "containment" in result.reason
    entry = seeded.entries()["003_b893ee3835113bf1.txt"]
    assert entry["url"] == entry["canonical_url"] == "https://thoidai.com.vn" + T2
    assert entry["similarity"] >= 0.8 and entry["author"] == "Minh Thái (tổng hợp)"
    assert numbered(seeded.directory)[-1].startswith("004_")
    # from now on the URL is known
    assert crawl(seeded, "thoidai.com.vn", T2, url="http://thoidai.com.vn" + T2 + "?zarsrc=1").status \
        == "duplicate-url"


def test_seed_002_is_matched_by_url(seeded):
    result = crawl(seeded, "thoidai.com.vn", T1)
    assert (result.status, result.number) == ("seed-match", 2)


def test_off_topic_and_unrelated_articles_do_not_match_seeds(seeded):
    for host, path in [("nhandan.vn", N3), ("nhandan.vn", N5), ("thoidai.com.vn", T4),
                       ("thoidai.com.vn", "/thoi-tiet-hom-nay-0801-ha-noi-ret-dam-vung-nui-co-noi-ret-hai-211301.html")]:
        assert crawl(seeded, host, path).status == "written"
    assert numbered(seeded.directory)[-1].startswith("008_")


# --------------------------------------------------------------------------- dedupe
@pytest.mark.parametrize("first,second", [(("nhandan.vn", N2), ("thoidai.com.vn", T3)),
                                          (("thoidai.com.vn", T3), ("nhandan.vn", N2))])
def test_syndicated_copy_is_an_alias_of_the_original_whichever_came_first(seeded, first, second):
    """thoidai's copy credits Nhân Dân ("Theo Báo Nhân Dân"): the nhandan page is the file either way."""
    one = crawl(seeded, *first, found_from="https://x.vn/")
    two = crawl(seeded, *second, found_from="https://x.vn/")
    assert one.status == "written"
    original = one if first[0] == "nhandan.vn" else two
    assert two.status == ("near-duplicate" if first[0] == "nhandan.vn" else "supersedes")
    assert original.file.name.startswith("005_") and two.file == original.file  # the copy's number, kept
    entries = seeded.entries()
    assert entries[original.file.name]["url"] == f"https://nhandan.vn{N2}"
    aliases = entries[original.file.name]["aliases"]
    assert [a["url"] for a in aliases] == [f"https://thoidai.com.vn{T3}"]
    assert aliases[0]["site"] == SITE["thoidai.com.vn"] and aliases[0]["warc_file"].startswith(SITE["thoidai.com.vn"])
    assert aliases[0]["found_from"] == "https://x.vn/"
    assert crawl(seeded, "thoidai.com.vn", T3).status == "duplicate-url"  # the alias URL is now known
    assert len(numbered(seeded.directory)) == 6
    superseded = sorted(p.name for p in (seeded.directory / "superseded").glob("*")) \
        if (seeded.directory / "superseded").exists() else []
    assert superseded == ([] if first[0] == "nhandan.vn" else [one.file.name])
    with Corpus(seeded.directory) as reopened:  # the same from the manifest alone
        assert reopened.file_for_url(f"https://thoidai.com.vn{T3}") == original.file
        assert crawl(reopened, "thoidai.com.vn", T3).status == "duplicate-url"


def test_tracking_and_amp_variants_are_duplicate_urls(seeded):
    assert crawl(seeded, "nhandan.vn", N2).status == "written"
    for variant in ("http://nhandan.vn" + N2 + "?utm_source=zalo&utm_medium=share",
                    "https://nhandan.vn/amp" + N2, "https://NHANDAN.vn" + N2 + "#comments"):
        result = crawl(seeded, "nhandan.vn", N2, url=variant)
        assert result.status == "duplicate-url", variant
        assert result.file.name.startswith("005_")
    assert seeded.file_for_url("http://nhandan.vn" + N2 + "?fbclid=1").name.startswith("005_")


def test_same_text_under_another_url_is_duplicate_text(seeded):
    original = article("nhandan.vn", N5)
    assert seeded.add(original, site="nhandan").status == "written"
    moved = article("nhandan.vn", N5, url="https://nhandan.vn/ban-sao-post999001.html")
    moved.canonical_url = "https://nhandan.vn/ban-sao-post999001.html"
    result = seeded.add(moved, site="nhandan")
    assert result.status == "duplicate-text" and result.file.name.startswith("005_")
    assert seeded.entries()[result.file.name]["aliases"][0]["canonical_url"] == moved.canonical_url


def test_not_an_article_is_not_written(seeded):
    before = (seeded.directory / MANIFEST_NAME).read_bytes()
    result = crawl(seeded, "nhandan.vn", N_SHORT)
    assert result.status == "not-article" and result.file is None and "too few words" in result.reason
    assert (seeded.directory / MANIFEST_NAME).read_bytes() == before


# --------------------------------------------------------------------------- numbering
def test_empty_seed_setting_starts_an_empty_corpus(tmp_path):
    for seeds in (None, ""):
        corpus = Corpus(tmp_path / f"c{seeds!r}", seeds)
        assert len(corpus) == 0 and corpus.next_number == 0
        result = crawl(corpus, "nhandan.vn", N1)  # the clean version of seed 000's article
        assert result.status == "written" and result.file.name == f"000_{url_hash16('https://nhandan.vn' + N1)}.txt"


def test_numbering_continues_after_the_highest_and_grows_past_999(tmp_path):
    directory = tmp_path / "corpus"
    directory.mkdir()
    (directory / "998_0000000000000000.txt").write_text("Bài cũ\n\nNguồn: https://example.vn/old-1.html\n", "utf-8")
    (directory / "notes.txt").write_text("not numbered\n", "utf-8")
    corpus = Corpus(directory, None)
    assert corpus.next_number == 999
    assert crawl(corpus, "nhandan.vn", N2).file.name.startswith("999_")
    assert crawl(corpus, "nhandan.vn", N5).file.name.startswith("1000_")
    reopened = Corpus(directory, None)
    assert reopened.next_number == 1001
    assert crawl(reopened, "thoidai.com.vn", T4).file.name.startswith("1001_")


# --------------------------------------------------------------------------- reload
def test_reopened_corpus_dedupes_against_the_first_run(tmp_path):
    directory = tmp_path / "corpus"
    first = Corpus(directory, REPO_SEEDS)
    assert crawl(first, "nhandan.vn", N2).status == "written"
    assert crawl(first, "nhandan.vn", N1).status == "seed-match"
    assert crawl(first, "thoidai.com.vn", T2).status == "seed-match"
    manifest_before = len(manifest_lines(directory))

    second = Corpus(directory, REPO_SEEDS)  # seeds are not imported twice
    assert len(manifest_lines(directory)) == manifest_before
    assert second.next_number == 6
    assert crawl(second, "nhandan.vn", N2).status == "duplicate-url"
    assert crawl(second, "nhandan.vn", N1).status == "duplicate-url"  # the seed is matched already
    assert crawl(second, "thoidai.com.vn", T2).status == "duplicate-url"
    assert crawl(second, "thoidai.com.vn", T3).status == "near-duplicate"  # shingles rebuilt from files
    moved = article("nhandan.vn", N2, url="https://nhandan.vn/ban-sao-post999002.html")
    moved.canonical_url = moved.url
    assert second.add(moved, site="nhandan").status == "duplicate-text"  # hashes from the manifest
    assert crawl(second, "thoidai.com.vn", T4).file.name.startswith("006_")


def test_torn_manifest_line_and_orphan_file_are_set_aside_and_written_again(tmp_path, caplog):
    """A crash between a file and its manifest line: the orphan goes to rolled-back/ (never deleted),
    its number is free again, and the same article extracted again gets it with full provenance."""
    directory = tmp_path / "corpus"
    corpus = Corpus(directory, REPO_SEEDS)
    crawl(corpus, "nhandan.vn", N2)
    # A crash after writing a file but before its manifest line, mid-way through that line:
    orphan = directory / f"006_{url_hash16('https://nhandan.vn' + N5)}.txt"
    orphan.write_text(render_seed_text(article("nhandan.vn", N5)), "utf-8")
    orphan_bytes = orphan.read_bytes()
    with (directory / MANIFEST_NAME).open("a", encoding="utf-8") as fh:
        fh.write('{"file": "006_')

    reopened = Corpus(directory, REPO_SEEDS)
    assert reopened.next_number == 6
    assert not orphan.exists()
    assert (directory / "rolled-back" / orphan.name).read_bytes() == orphan_bytes
    lines = (directory / MANIFEST_NAME).read_text("utf-8").splitlines()
    rollback = json.loads(lines[-1])
    assert rollback["file"] == orphan.name and rollback["update"] == "rollback" and rollback["removed"] is True
    assert orphan.name not in reopened.entries()
    again = crawl(reopened, "nhandan.vn", N5)
    assert again.status == "written" and again.file.name == orphan.name
    assert reopened.entries()[orphan.name]["warc_file"] == "nhandan-00000.warc.gz"
    assert "removed" not in reopened.entries()[orphan.name]
    assert crawl(reopened, "thoidai.com.vn", T4).file.name.startswith("007_")
    # the torn line was ended, so it is the only line that does not parse
    unparsable = [line for line in (directory / MANIFEST_NAME).read_text("utf-8").splitlines() if not _parses(line)]
    assert unparsable == ['{"file": "006_']


def _parses(line):
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------- atomic writes
def test_existing_files_are_never_replaced(seeded):
    taken = seeded.directory / f"005_{url_hash16('https://nhandan.vn' + N2)}.txt"
    taken.write_text("written by someone else\n", "utf-8")  # appears after the corpus was opened
    result = crawl(seeded, "nhandan.vn", N2)
    assert result.status == "written" and result.file.name.startswith("006_")
    assert taken.read_text("utf-8") == "written by someone else\n"


def test_writes_leave_no_temporary_files(seeded):
    crawl(seeded, "nhandan.vn", N2)
    crawl(seeded, "thoidai.com.vn", T4)
    from archive.corpus.neardup.shingle_index import INDEX_NAME  # the one hidden file that belongs there
    assert not [p for p in seeded.directory.iterdir() if p.name.startswith(".") and not p.name.startswith(INDEX_NAME)]


def test_seed_copy_never_overwrites_a_file_already_there(tmp_path):
    directory = tmp_path / "corpus"
    directory.mkdir()
    mine = directory / "001_42fc5c9cfe65e3c4.txt"
    mine.write_text("Bản của tôi\n", "utf-8")
    Corpus(directory, REPO_SEEDS)
    assert mine.read_text("utf-8") == "Bản của tôi\n"


# --------------------------------------------------------------------------- errors
def test_unusable_directory_raises_corpus_error(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(CorpusError, match="file.txt"):
        Corpus(a_file, None)
    with pytest.raises(CorpusError, match="not writable"):
        Corpus(a_file / "corpus", None)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_directory_raises_corpus_error(tmp_path):
    directory = tmp_path / "ro"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        with pytest.raises(CorpusError, match="not writable"):
            Corpus(directory, None)
    finally:
        directory.chmod(0o700)


def test_missing_seed_directory_raises_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="no-such-seeds"):
        Corpus(tmp_path / "corpus", tmp_path / "no-such-seeds")


def test_article_without_a_usable_url_is_refused(seeded):
    bad = article("nhandan.vn", N2, url="not a url")
    bad.canonical_url = "also not a url"
    result = seeded.add(bad, site="nhandan")
    assert result.status == "not-article" and "URL" in result.reason


def test_seed_text_at_a_foreign_url_is_an_alias_until_the_seed_url_is_crawled(seeded):
    copy = article("nhandan.vn", N1, url="https://baomoi.example/quyet-tam-gin-giu-quan-he-viet-lao-r1.html")
    copy.canonical_url = copy.url
    result = seeded.add(copy, site="baomoi")
    assert result.status == "near-duplicate" and result.file.name.startswith("000_")
    assert crawl(seeded, "nhandan.vn", N1).status == "seed-match"
    entry = seeded.entries()["000_5f6dcb489422aa65.txt"]
    assert entry["canonical_url"] == "https://nhandan.vn" + N1
    assert [a["url"] for a in entry["aliases"]] == [copy.url]


def test_reopening_uses_the_on_disk_index_and_survives_a_corrupt_one(tmp_path, monkeypatch):
    """A reopened corpus finds near-duplicates from the index file, and from the files when it is bad."""
    import archive.corpus.neardup.finder as finder_module
    from archive.corpus.neardup.shingle_index import INDEX_NAME

    first = Corpus(tmp_path, None)
    assert crawl(first, "nhandan.vn", N2).status == "written"
    first.close()
    rehashed = []
    real_read = finder_module.read_text
    monkeypatch.setattr(finder_module, "read_text", lambda path: rehashed.append(path) or real_read(path))
    with Corpus(tmp_path, None) as reopened:
        assert crawl(reopened, "thoidai.com.vn", T3).status == "near-duplicate"
    assert rehashed == []  # served from the index, no file re-read
    (tmp_path / INDEX_NAME).write_bytes(b"this is not a database" * 100)
    with Corpus(tmp_path, None) as rebuilt:
        assert crawl(rebuilt, "thoidai.com.vn", T3).status == "duplicate-url"  # alias known now
    assert len(rehashed) == 1  # the one numbered file, hashed again into a fresh index
    reopened = Corpus(tmp_path, None)
    moved = article("thoidai.com.vn", T3, url="https://thoidai.com.vn/ban-sao-khac-299999.html")
    moved.canonical_url = moved.url
    assert reopened.add(moved, site="thoidai").status in {"near-duplicate", "duplicate-text"}


def test_an_article_edited_many_times_costs_constant_manifest_bytes_per_version(tmp_path):
    """Issue #17: a version row holds the new version only (readers append it), not every earlier one."""
    corpus = Corpus(tmp_path / "corpus", None)
    first = crawl(corpus, "nhandan.vn", N2)
    sizes = []
    for n in range(2, 61):
        edited = article("nhandan.vn", N2)
        edited.paragraphs = [f"Bản sửa lần {n}: {' '.join(str(n * k) for k in range(60))}.", *edited.paragraphs]
        before = corpus.manifest_path.stat().st_size
        assert corpus.add(edited, site="nhandan", warc_file="x.warc.gz", warc_offset=n,
                          warc_record_id=f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>").status == "version"
        sizes.append(corpus.manifest_path.stat().st_size - before)
    assert max(sizes) < 1.2 * min(sizes)  # the 59th version row is as small as the first
    entry = corpus.entries()[first.file.name]
    assert [v["version"] for v in entry["versions"]] == list(range(2, 61)) and entry["version"] == 60
    corpus.close()
    reopened = Corpus(tmp_path / "corpus", None)  # dedupe state rebuilt from the folded rows
    assert reopened.add(edited, site="nhandan", warc_file="x.warc.gz", warc_offset=1,
                        warc_record_id="<urn:uuid:00000000-0000-4000-8000-000000000999>").status == "duplicate-url"
    reopened.close()


def test_a_superseded_copy_with_its_fsync_deferred_still_syncs(tmp_path):
    """A crawl defers fsyncs to `sync()`; the copy's file has moved to superseded/ by then."""
    with Corpus(tmp_path, None, deferred_sync=True) as corpus:
        crawl(corpus, "thoidai.com.vn", T3)
        assert crawl(corpus, "nhandan.vn", N2).status == "supersedes"
        corpus.sync()
    assert [p.name for p in (tmp_path / "superseded").iterdir()] == [f"000_{url_hash16('https://thoidai.com.vn' + T3)}.txt"]


def test_a_checkpoint_makes_many_files_durable_with_one_call(tmp_path):
    """Issue #25: a deferred sync of several files is one syncfs on Linux, not an fsync per file."""
    from archive.corpus.durable import _SYNCFS, DurableFiles

    files = DurableFiles(tmp_path, deferred=True)
    for n in range(5):
        assert files.create(tmp_path / f"{n:03d}_x.txt", b"text")
    files.sync()
    assert files.fsyncs == (1 if _SYNCFS is not None else 6)  # else 5 files and their directory
    files.create(tmp_path / "005_x.txt", b"text")
    files.sync()  # a single file: its own fsync and its directory's
    assert files.fsyncs - (1 if _SYNCFS is not None else 6) == 2


def test_a_file_is_created_whole_shared_and_never_over_an_existing_one(tmp_path):
    """`DurableFiles.create`: the bytes given, mode 0644 whatever the umask, no temporary left behind,
    an existing file never replaced, and a temporary name already taken (a stale one of an earlier
    process with the same id) skipped, not reused."""
    import os

    from archive.corpus.durable import DurableFiles

    files = DurableFiles(tmp_path, deferred=True)
    stale = tmp_path / f".tmp-{os.getpid()}-0.txt"
    stale.write_bytes(b"left by a crash")
    old_umask = os.umask(0o077)
    try:
        assert files.create(tmp_path / "000_a.txt", "Tiêu đề\n".encode() * 5000)
    finally:
        os.umask(old_umask)
    assert (tmp_path / "000_a.txt").read_bytes() == "Tiêu đề\n".encode() * 5000
    assert (tmp_path / "000_a.txt").stat().st_mode & 0o777 == 0o644
    assert not files.create(tmp_path / "000_a.txt", b"other")
    assert (tmp_path / "000_a.txt").read_bytes() == "Tiêu đề\n".encode() * 5000
    assert stale.read_bytes() == b"left by a crash"  # not ours to touch (the next open removes it)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-%d-0.txt" % os.getpid(), "000_a.txt"]


def test_manifest_rows_are_appended_as_utf8_json_lines_and_noted_for_the_sync(tmp_path):
    """`ManifestLog.append` writes the rows' bytes at the end (several rows in one write), leaves what
    is there alone, and hands the path to the deferred sync."""
    from archive.corpus.manifest import ManifestLog

    path = tmp_path / "manifest.jsonl"
    path.write_bytes(b'{"file": "000_a.txt"}\n')
    noted = []
    log = ManifestLog(path, deferred_sync=True, on_unsynced=noted.append)
    rows = [{"file": "001_b.txt", "title": "Tiêu đề", "words": 3}, {"file": "001_b.txt", "update": "alias"}]
    log.append(*rows)
    log.append({"file": "002_c.txt", "images": [{"src": "https://x/ảnh.jpg", "caption": None}]})
    assert path.read_bytes() == (
        '{"file": "000_a.txt"}\n'
        '{"file": "001_b.txt", "title": "Tiêu đề", "words": 3}\n{"file": "001_b.txt", "update": "alias"}\n'
        '{"file": "002_c.txt", "images": [{"src": "https://x/ảnh.jpg", "caption": null}]}\n').encode("utf-8")
    assert noted == [path, path]


def test_a_crawl_killed_before_its_dedupe_index_commit_loses_no_near_duplicate(tmp_path, monkeypatch):
    """A crawl's corpus (`deferred_sync`) commits the dedupe index at its checkpoints; killed before
    one, the next open indexes the numbered file again from its text."""
    import subprocess
    import sys

    import archive.corpus.neardup.finder as finder_module

    killed = ("import os, sys; from archive.corpus.store import Corpus; from tests.test_corpus import crawl, N2; "
              "corpus = Corpus(sys.argv[1], None, deferred_sync=True); "
              "assert crawl(corpus, 'nhandan.vn', N2).status == 'written'; os._exit(0)")
    subprocess.run([sys.executable, "-c", killed, str(tmp_path)], check=True, cwd=REPO_SEEDS.parent)
    rehashed = []
    real_read = finder_module.read_text
    monkeypatch.setattr(finder_module, "read_text", lambda path: rehashed.append(path) or real_read(path))
    with Corpus(tmp_path, None) as reopened:
        assert [path.name for path in rehashed] == numbered(tmp_path)  # not in the index: hashed again
        assert crawl(reopened, "thoidai.com.vn", T3).status == "near-duplicate"
