"""The corpus reader: the manifest log folded into one record per article, tolerant of new update kinds."""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.cli import main
from archive.corpus.consistency import MANIFEST_NAME
from archive.corpus.store import Corpus
from archive.corpus.reader import CorpusReadError, read_corpus
from archive.extract.article import Article

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
VN = timezone(timedelta(hours=7))
URL = "https://nhandan.vn/hop-tac-giao-duc-viet-nam-lao-post900001.html"
MIRROR = "https://thoidai.com.vn/hop-tac-giao-duc-viet-nam-lao-211999.html"
SEED_URL = ("https://nhandan.vn/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-lien-tuc-"
            "phat-trien-post830183.html")
PARAGRAPHS = [
    "Ngày 12/9, tại Hà Nội, Bộ Giáo dục và Đào tạo Việt Nam và Bộ Giáo dục và Thể thao Lào đã tổ chức hội nghị.",
    "Hai bên thống nhất tăng số học bổng dành cho lưu học sinh Lào học tập tại các trường đại học Việt Nam.",
    "Các trường sư phạm của hai nước sẽ trao đổi giảng viên và cùng biên soạn giáo trình tiếng Việt.",
]


def make_article(url: str, paragraphs: list[str], title: str = "Việt Nam và Lào đẩy mạnh hợp tác giáo dục") -> Article:
    text_words = sum(len(p.split()) for p in paragraphs)
    return Article(url=url, canonical_url=url, title=title, published=datetime(2024, 9, 12, 14, 0, tzinfo=VN),
                   date_line="14:00 | 12/09/2024", author="Hoàng Anh", category="Hữu nghị", tags=["Việt Nam - Lào"],
                   lead="Hội nghị đánh giá kết quả hợp tác giáo dục năm học 2023-2024.", paragraphs=paragraphs,
                   images=[{"src": "https://nhandan.vn/a.jpg", "caption": "Quang cảnh hội nghị."}], language="vi",
                   words=text_words, is_article=True)


def add(corpus: Corpus, article: Article, offset: int, **extra):
    return corpus.add(article, site="nhandan", warc_file="news-1.warc.gz", warc_offset=offset,
                      warc_record_id=f"<urn:uuid:{offset:08d}-0000-4000-8000-000000000000>",
                      fetched_at=datetime(2025, 1, 25, 3, offset % 60, tzinfo=timezone.utc), **extra)


def build_corpus(directory: Path) -> Path:
    """A real corpus (written by archive.corpus.store) with every kind of row: seeds, a seed match, a written
    article (005), an alias of it and a second version of it."""
    with Corpus(directory, REPO_SEEDS) as corpus:
        first = add(corpus, make_article(URL, PARAGRAPHS), 100, topic_score=0.31, topic_rule="related")
        assert first.status == "written"
        assert add(corpus, make_article(MIRROR, PARAGRAPHS), 200).status == "duplicate-text"
        changed = [*PARAGRAPHS[:2], "Bản cập nhật: hai bộ ký thêm biên bản ghi nhớ về đào tạo nghề."]
        assert add(corpus, make_article(URL, changed, title="Cập nhật: hợp tác giáo dục"), 300).status == "version"
        seed_page = make_article(SEED_URL, PARAGRAPHS[:1], title="Quyết tâm gìn giữ quan hệ Việt Nam - Lào")
        assert add(corpus, seed_page, 400).status == "seed-match"
    return directory


@pytest.fixture
def corpus_dir(tmp_path):
    return build_corpus(tmp_path / "corpus")


def test_the_fold_gives_one_record_per_article_with_versions_aliases_and_warc_pointers(corpus_dir):
    view = read_corpus(corpus_dir)
    assert [a.file[:3] for a in view] == ["000", "001", "002", "003", "004", "005"]
    assert view.lines == len((corpus_dir / MANIFEST_NAME).read_text("utf-8").splitlines()) == 9
    article = view.articles[5]
    assert [v.version for v in article.versions] == [1, 2]
    assert article.latest.text_file == f"versions/{Path(article.file).stem}.v2.txt"
    assert article.text().startswith("Cập nhật: hợp tác giáo dục\n")
    assert article.text(article.versions[0]) == (corpus_dir / article.file).read_text("utf-8")
    assert article.fields["title"] == "Cập nhật: hợp tác giáo dục"  # the latest version's metadata
    assert article.versions[0].fields["title"] == "Việt Nam và Lào đẩy mạnh hợp tác giáo dục"
    assert (article.warc.file, article.warc.offset) == ("news-1.warc.gz", 300)
    assert (article.versions[0].warc.offset, article.versions[0].fields["score"]) == (100, 0.31)
    assert "score" not in article.fields  # the re-crawl that found version 2 gave none
    assert [a["canonical_url"] for a in article.aliases] == [MIRROR]
    assert article.updates == ("alias", "version")
    seed = view.articles[0]
    assert seed.entry["seed"] and seed.entry["matched"] and seed.updates == ("seed-match",)
    assert seed.warc.offset == 400 and seed.host == "nhandan.vn"
    assert seed.text() == (REPO_SEEDS / seed.file).read_text("utf-8")  # the seed file, as supplied
    assert view.warc_files() == ["news-1.warc.gz"]


def append_rows(corpus_dir: Path, *rows: dict) -> None:
    with (corpus_dir / MANIFEST_NAME).open("a", encoding="utf-8") as manifest:
        for row in rows:
            manifest.write(json.dumps(row, ensure_ascii=False) + "\n")


def test_unknown_update_kinds_fold_later_keys_winning(corpus_dir):
    file = read_corpus(corpus_dir).articles[5].file
    append_rows(corpus_dir, {"file": file, "update": "reconciled", "author": "Hoàng Anh (sửa)", "checked": True})
    article = read_corpus(corpus_dir).articles[5]
    # Top-level keys describe version 1 (the numbered file); a key about no version is the article's.
    assert article.versions[0].fields["author"] == "Hoàng Anh (sửa)" and article.fields["author"] == "Hoàng Anh"
    assert article.fields["checked"] is True and article.fields_of(article.versions[0])["checked"] is True
    assert article.updates == ("alias", "version", "reconciled")


@pytest.mark.parametrize("removal", [{"update": "rollback", "removed": True},
                                     {"update": "reconciled", "removed": True}])
def test_an_entry_whose_last_row_removes_it_is_left_out(corpus_dir, removal):
    file = read_corpus(corpus_dir).articles[5].file
    append_rows(corpus_dir, {"file": file, **removal})
    view = read_corpus(corpus_dir)
    assert file not in {a.file for a in view} and view.removed == [file] and len(view) == 5
    # Written again after the removal: back, with nothing of the removed entry's rows.
    append_rows(corpus_dir, {"file": file, "number": 5, "seed": False, "url": URL, "title": "again", "words": 3})
    again = next(a for a in read_corpus(corpus_dir) if a.file == file)
    assert again.entry.get("aliases") is None and len(again.versions) == 1 and again.fields["title"] == "again"


def test_a_rollback_of_an_update_restores_the_earlier_values(corpus_dir):
    """A resume undid an alias whose record was lost (archive/corpus/consistency.py): the article stays."""
    article = read_corpus(corpus_dir).articles[5]
    append_rows(corpus_dir, {"file": article.file, "update": "alias", "aliases": [{"url": URL + "?copy"}]},
                {"file": article.file, "update": "rollback", "aliases": None, "reason": "alias: record lost"})
    again = next(a for a in read_corpus(corpus_dir) if a.file == article.file)
    assert not again.aliases and again.updates[-2:] == ("alias", "rollback")


def test_bad_corpora_are_errors(tmp_path, corpus_dir):
    with pytest.raises(CorpusReadError, match="does not exist"):
        read_corpus(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(CorpusReadError, match="is not a corpus: no manifest.jsonl"):
        read_corpus(tmp_path / "plain")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / MANIFEST_NAME).write_text("")
    with pytest.raises(CorpusReadError, match="empty corpus: manifest.jsonl is empty"):
        read_corpus(tmp_path / "empty")
    (tmp_path / "empty" / MANIFEST_NAME).write_text('{"file": "005_a.txt", "update": "rollback", "removed": true}\n')
    with pytest.raises(CorpusReadError, match="every entry of its 1 row"):
        read_corpus(tmp_path / "empty")
    assert read_corpus(corpus_dir.parent).directory == corpus_dir  # a crawl's output directory is fine too
    with (corpus_dir / MANIFEST_NAME).open("a", encoding="utf-8") as manifest:
        manifest.write('{"file": "006_abc.txt", "update": "al')  # a crash mid-append
    with pytest.raises(CorpusReadError, match=r"line 10 is torn \(an interrupted write\?\)"):
        read_corpus(corpus_dir)


def test_a_missing_text_file_is_an_error_when_read(corpus_dir):
    article = read_corpus(corpus_dir).articles[5]
    (corpus_dir / article.latest.text_file).unlink()
    with pytest.raises(CorpusReadError, match="the file is missing"):
        article.text()


def test_corpus_command_prints_folded_records(corpus_dir, capsys):
    assert main(["corpus", str(corpus_dir), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 6 and records[5]["version"] == 2 and len(records[5]["versions"]) == 2
    assert main(["corpus", str(corpus_dir), "--article", MIRROR]) == 0  # found by its alias URL
    assert json.loads(capsys.readouterr().out)["aliases"][0]["canonical_url"] == MIRROR
    assert main(["corpus", str(corpus_dir)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].endswith("6 articles from 9 manifest rows (* seed file)") and len(table) == 2 + 6
    assert main(["corpus", str(corpus_dir / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
