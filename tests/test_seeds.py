"""Seeds: start URLs from URL files or seed-format directories; seed documents for the corpus."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from archive.corpus.seeds import SeedError, read_seed_file, read_seed_urls
from archive.corpus.seeds import VIETNAM_TZ

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_000_URL = ("https://nhandan.vn/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-"
                "lien-tuc-phat-trien-post830183.html")
SEED_002_URL = "https://thoidai.com.vn/thuc-day-hop-tac-giua-hai-ban-doi-ngoai-trung-uong-viet-nam-va-lao-182579.html"


def test_repo_seeds_are_the_five_shipped_files():
    names = sorted(p.name for p in REPO_SEEDS.glob("*.txt"))
    assert names == ["000_5f6dcb489422aa65.txt", "001_42fc5c9cfe65e3c4.txt", "002_0efba903f68b74b5.txt",
                     "003_b893ee3835113bf1.txt", "004_aa49084023db9e52.txt"]


def test_default_seed_directory_gives_urls_of_000_and_002():
    seeds = read_seed_urls(REPO_SEEDS)
    assert seeds.urls == [SEED_000_URL, SEED_002_URL]
    assert [p.name[:3] for p in seeds.without_url] == ["001", "003", "004"]
    assert seeds.invalid == []


def test_url_file_skips_comments_and_blank_lines_and_reports_bad_lines(tmp_path):
    url_file = tmp_path / "urls.txt"
    url_file.write_text(
        "# start pages\n"
        "\n"
        f"{SEED_000_URL}\n"
        "   https://thoidai.com.vn/huu-nghi   # the category page\n"
        "nhandan.vn/no-scheme-post1.html\n"
        "ftp://nhandan.vn/x\n"
        "https://nhandan.vn/with space-post2.html\n"
        f"http://nhandan.vn/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-lien-tuc-phat-trien-post830183.html?utm_source=zalo\n"
        "https://nhandan.vn/a-post3.html#comments\n",
        encoding="utf-8")
    seeds = read_seed_urls(url_file)
    assert seeds.urls == [SEED_000_URL, "https://thoidai.com.vn/huu-nghi", "https://nhandan.vn/a-post3.html#comments"]
    assert [(bad.line_number, bad.text) for bad in seeds.invalid] == [
        (5, "nhandan.vn/no-scheme-post1.html"),
        (6, "ftp://nhandan.vn/x"),
        (7, "https://nhandan.vn/with space-post2.html"),
    ]
    assert "urls.txt:5" in str(seeds.invalid[0])


def test_url_file_that_is_not_utf8_does_not_crash(tmp_path):
    url_file = tmp_path / "urls.txt"
    url_file.write_bytes(b"https://nhandan.vn/a-post1.html\n\xff\xfe garbage\n")
    seeds = read_seed_urls(url_file)
    assert seeds.urls == ["https://nhandan.vn/a-post1.html"]
    assert [bad.line_number for bad in seeds.invalid] == [2]


def test_missing_path_raises_seed_error_naming_it(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(SeedError, match="nope.txt"):
        read_seed_urls(missing)


def test_directory_dedupes_by_canonical_url_and_ignores_other_files(tmp_path):
    (tmp_path / "010_a.txt").write_text("Tiêu đề\n\nNguồn: http://nhandan.vn/a-post1.html?utm_source=x\n", "utf-8")
    (tmp_path / "011_b.txt").write_text("Tiêu đề 2\n\nNguồn: https://nhandan.vn/a-post1.html\n", "utf-8")
    (tmp_path / "012_c.txt").write_text("Tiêu đề 3\n\nNguồn: TTXVN\n", "utf-8")  # a wire credit, not a URL
    (tmp_path / "notes.md").write_text("Nguồn: https://nhandan.vn/other-post9.html\n", "utf-8")
    seeds = read_seed_urls(tmp_path)
    assert seeds.urls == ["http://nhandan.vn/a-post1.html?utm_source=x"]
    assert [p.name for p in seeds.without_url] == ["012_c.txt"]


@pytest.mark.parametrize("name,number,url,title,date_line", [
    ("000_5f6dcb489422aa65.txt", 0, SEED_000_URL,
     "Quyết tâm gìn giữ, vun đắp quan hệ Việt Nam-Lào mãi mãi xanh tươi, liên tục phát triển", None),
    ("001_42fc5c9cfe65e3c4.txt", 1, None,
     "Việt - Lào: chung sức, chung lòng, kề vai sát cánh triển khai thực hiện tốt Nghị quyết Đại hội của mỗi Đảng", None),
    ("002_0efba903f68b74b5.txt", 2, SEED_002_URL,
     "Thúc đẩy hợp tác giữa hai Ban Đối ngoại Trung ương Việt Nam và Lào", "18:29 | 22/02/2023"),
    ("003_b893ee3835113bf1.txt", 3, None,
     "Thắt chặt quan hệ, mở rộng hợp tác chiến lược Việt Nam - Lào, Việt Nam - Campuchia", "07:00 | 07/11/2024"),
    ("004_aa49084023db9e52.txt", 4, None,
     "7 hoạt động lớn cần đẩy mạnh hợp tác giữa Lào và Việt Nam sau đại dịch", "17:16 | 06/07/2020"),
])
def test_read_seed_file(name, number, url, title, date_line):
    doc = read_seed_file(REPO_SEEDS / name)
    assert (doc.name, doc.number, doc.url, doc.title, doc.date_line) == (name, number, url, title, date_line)
    if date_line:
        assert doc.published.tzinfo is not None
        assert doc.published.utcoffset() == VIETNAM_TZ.utcoffset(None)
        assert doc.published.strftime("%H:%M | %d/%m/%Y") == date_line


def test_read_seed_file_missing_raises(tmp_path):
    with pytest.raises(SeedError, match="missing.txt"):
        read_seed_file(tmp_path / "missing.txt")


def test_seed_published_is_gmt7():
    doc = read_seed_file(REPO_SEEDS / "003_b893ee3835113bf1.txt")
    assert doc.published == datetime(2024, 11, 7, 7, 0, tzinfo=VIETNAM_TZ)
    assert doc.published.astimezone(timezone.utc) == datetime(2024, 11, 7, 0, 0, tzinfo=timezone.utc)
