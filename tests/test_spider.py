"""The real `scrapy crawl news` against the fixture copy of both sites (through the local proxy)."""
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.corpus.consistency import fold
from archive.extract.requisites import kind_by_extension

ND = "https://nhandan.vn"
TD = "https://thoidai.com.vn"
GOLD = Path(__file__).parent / "fixtures" / "gold"
SEED_ND = f"{ND}/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-lien-tuc-phat-trien-post830183.html"
SEED_TD = f"{TD}/thuc-day-hop-tac-giua-hai-ban-doi-ngoai-trung-uong-viet-nam-va-lao-182579.html"
ND_830201 = f"{ND}/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-post830201.html"


def pages(run):
    """Page URLs the crawl asked the fixture server for (robots.txt and page requisites excluded)."""
    return [u for u in run.hits if not u.endswith("/robots.txt") and kind_by_extension(u, "page") == "page"]


def warc_records(run):
    records = []
    for path in sorted(run.warc_dir.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                records.append((rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"),
                                rec.http_headers.get_statuscode() if rec.http_headers else None))
    return records


def assert_clean_outputs(run):
    """Nothing half-written: no .open WARC, no temp file, in any output dir."""
    leftovers = [p for p in run.out.rglob("*") if p.name.endswith(".open") or p.name.startswith(".tmp-")]
    assert leftovers == []
    assert "Traceback" not in run.stderr


def test_default_seeds_crawl_writes_related_articles_once(crawl):
    run = crawl()
    assert run.returncode == 0, run.stderr
    assert_clean_outputs(run)
    fetched = pages(run)
    # Related boxes, inline related links, tags and breadcrumb listings are followed, a tag or
    # section at once when its name is on topic ("Việt Nam - Lào"); a generically named one (the
    # section "Hữu nghị") only when the crawl is idle, for its members (crawler/topic_listings.py),
    # one page of it ...
    assert f"{ND}/tag/viet-nam-lao-12345.html" in [u.replace("http://", "https://") for u in fetched]
    assert sum(u.endswith("/huu-nghi") for u in fetched) <= 1
    assert not any("/huu-nghi/p" in u for u in fetched)  # its next page: only if it yielded
    # ... foreign editions and "Đọc nhiều" sidebars (off-topic teasers) are not.
    assert not any("en.nhandan.vn" in u for u in run.hits)
    assert not any(u.endswith(("post830301.html", "post830302.html", "-211301.html")) for u in fetched)
    # http/https and tracking-parameter variants of one article are fetched once.
    assert sum("post830201" in u for u in fetched) == 1

    entries = run.manifest()
    folded = fold(entries)
    written = {e["url"] for e in folded.values() if not e.get("seed")}
    # The same article syndicated on both sites: the nhandan original is the file whichever copy
    # arrived first; thoidai's copy ("Theo Báo Nhân Dân") is its alias (docs/corpus-determinism.md).
    copy = f"{TD}/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-211205.html"
    assert written == {
        ND_830201,
        f"{ND}/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html",
        f"{ND}/thuc-day-ket-noi-giao-thong-thuong-mai-qua-bien-gioi-viet-nam-lao-post830204.html",
        f"{TD}/giao-luu-huu-nghi-thanh-nien-viet-nam-lao-tai-dien-bien-211206.html",
    }
    [original] = [e for e in folded.values() if e.get("url") == ND_830201]
    assert [a["url"] for a in original["aliases"]] == [copy]
    # Numbering continues after the five seeds, and the files match the gold texts.
    numbered = sorted(p.name for p in run.corpus_dir.glob("*.txt"))
    assert [n[:3] for n in numbered] == ["000", "001", "002", "003", "004", "005", "006", "007", "008"]
    for entry in folded.values():
        if entry.get("seed"):
            continue
        host_path = entry["url"].split("://", 1)[1]
        expected = (GOLD / f"{host_path}.txt").read_text("utf-8")
        assert (run.corpus_dir / entry["file"]).read_text("utf-8") == expected
        assert entry["warc_file"].endswith(".warc.gz") and entry["warc_offset"] >= 0
        assert entry["warc_record_id"].startswith("<urn:uuid:")
    # Seeds reached by URL (000, 002) or by near-duplicate text (003) get no second file.
    updates = {e["file"]: e for e in entries if e.get("update") == "seed-match"}
    assert {"000_5f6dcb489422aa65.txt", "002_0efba903f68b74b5.txt"} <= set(updates)
    assert any(f.startswith("003_") for f in updates)
    # Listing pages are archived but never emitted.
    records = warc_records(run)
    responses = {uri for kind, uri, _ in records if kind == "response"}
    tag_page = f"{ND}/tag/viet-nam-lao-12345.html"
    assert tag_page in responses and not any(e.get("url") == tag_page for e in entries)
    assert {f"{ND}/robots.txt", f"{TD}/robots.txt"} <= responses
    # Every closed WARC file is indexed (CDXJ) beside itself.
    for warc in run.warc_dir.glob("*.warc.gz"):
        assert warc.with_name(warc.name[: -len(".warc.gz")] + ".cdxj").stat().st_size > 0
    assert ("response", f"{ND}/hoi-nghi-hop-tac-dia-phuong-bien-gioi-viet-nam-lao-post839999.html", "404") in records
    assert run.stats["seeds/without_url"] == 3
    assert "Crawl summary" in run.stdout


def test_depth_zero_fetches_only_the_start_pages(crawl):
    run = crawl(f"urls={SEED_ND},{SEED_TD}", "depth=0")
    assert run.returncode == 0, run.stderr
    assert sorted(pages(run)) == sorted([SEED_ND, SEED_TD])


def test_max_pages_is_a_hard_cap(crawl):
    run = crawl(f"urls={SEED_ND}", "depth=5", "max_pages=3", settings={"CORPUS_SEEDS": ""})
    assert run.returncode == 0, run.stderr
    assert len(pages(run)) == 3


def test_redirect_chain_is_archived_hop_by_hop(crawl):
    run = crawl(f"urls={ND}/chuyen-huong-post900301.html", "depth=0", settings={"CORPUS_SEEDS": ""})
    assert run.returncode == 0, run.stderr
    statuses = [(uri, status) for kind, uri, status in warc_records(run) if kind == "response"]
    assert (f"{ND}/chuyen-huong-post900301.html", "301") in statuses
    assert ("http://nhandan.vn/chuyen-huong-2-post900302.html", "302") in statuses
    assert (ND_830201, "200") in statuses
    assert [e["url"] for e in run.manifest()] == [ND_830201]


def test_wrong_declared_charset_still_gives_the_right_text(crawl):
    run = crawl(f"urls={ND}/sai-bang-ma-post900201.html", "depth=0", settings={"CORPUS_SEEDS": ""})
    assert run.returncode == 0, run.stderr
    [entry] = run.manifest()
    expected = (GOLD / "nhandan.vn" / "viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-post830201.html.txt")
    assert (run.corpus_dir / entry["file"]).read_text("utf-8") == expected.read_text("utf-8")


def test_server_errors_timeouts_binary_and_empty_bodies_are_reported_not_fatal(crawl):
    urls = [f"{ND}/loi-may-chu-post900500.html", f"{ND}/may-chu-cham-post900504.html",
            f"{ND}/tep-nhi-phan-post900415.html", f"{ND}/trang-rong-post900204.html"]
    run = crawl(f"urls={','.join(urls)}", "depth=0",
                settings={"CORPUS_SEEDS": "", "DOWNLOAD_TIMEOUT": 1})
    assert run.returncode == 0, run.stderr
    assert_clean_outputs(run)
    log = run.log()
    assert "download failed" in log and "TimeoutError" in log
    assert run.manifest() == []
    statuses = {uri: status for kind, uri, status in warc_records(run) if kind == "response"}
    assert statuses[urls[0]] == "500" and statuses[urls[2]] == "200" and statuses[urls[3]] == "200"
    assert urls[1] not in statuses  # no response, nothing to archive
    assert run.stats.get("articles/not_article") == 2  # the empty and the binary page
    assert "not an article" in log


def test_bad_input_is_one_clear_line_and_exit_code_2(crawl, tmp_path):
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    cases = [
        (["seeds=/no/such/seeds"], {}, "/no/such/seeds"),
        (["urls=nhandan.vn/x-post1.html"], {}, "not a valid"),
        (["urls=https://nhandan.vn/x-post1.html", "depth=-1"], {}, "depth"),
        (["urls=https://nhandan.vn/x-post1.html", "colour=blue"], {}, "unknown spider argument"),
        (["urls=https://nhandan.vn/x-post1.html"], {"WARC_DIR": a_file / "warc"}, "WARC_DIR"),
        (["urls=https://nhandan.vn/x-post1.html"], {"CORPUS_DIR": a_file / "corpus"}, "CORPUS_DIR"),
        (["urls=https://nhandan.vn/x-post1.html"], {"ARCHIVE_REPLAY": tmp_path / "no-archive"}, "ARCHIVE_REPLAY"),
        (["urls=https://nhandan.vn/x-post1.html"], {"REVISIT_LASTMOD": "sometimes"}, "expected one of trust, hint"),
        (["urls=https://nhandan.vn/x-post1.html"], {"REVISIT_OLD_EVERY": "soon"}, "REVISIT_OLD_EVERY"),
    ]
    for args, settings, needle in cases:
        run = crawl(*args, settings=settings)
        assert run.returncode == 2, (args, run.stderr)
        assert run.stderr.startswith("error: ") and needle in run.stderr, run.stderr
        assert "Traceback" not in run.stderr and run.hits == []
