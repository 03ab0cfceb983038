"""`python -m archive export --wacz`: WARCs, index, pages and hashed datapackage.json in one zip."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import zipfile

import pytest

from archive.cli import main
from archive.warc.wacz import page_list, validate_wacz
from testbed.archive_samples import sample_exchange, write_archive

ND = "https://nhandan.vn"


@pytest.fixture
def archive(tmp_path):
    directory = tmp_path / "warc"
    write_archive(directory, [
        sample_exchange(f"{ND}/robots.txt", b"User-agent: *\n", content_type="text/plain"),
        sample_exchange(f"{ND}/bai-mot-post1.html", "<h1>Bài một</h1>".encode(), gzipped=True),
        sample_exchange(f"{ND}/bai-hai-post2.html", b"<h1>two</h1>", chunked=True),
        sample_exchange(f"{ND}/mat-post3.html", b"gone", status=404),
    ], prefix="a")
    write_archive(directory, [sample_exchange(f"{ND}/bai-ba-post4.html", b"<h1>three</h1>")], prefix="b")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.jsonl").write_text(
        json.dumps({"url": f"{ND}/bai-mot-post1.html", "title": "Bài một"}, ensure_ascii=False) + "\n", "utf-8")
    return directory, corpus


def test_export_writes_a_valid_wacz(archive, tmp_path, capsys):
    directory, corpus = archive
    out = tmp_path / "out" / "news.wacz"
    assert main(["export", "--wacz", str(out), str(directory), "--corpus", str(corpus), "--title", "Tin"]) == 0
    assert capsys.readouterr().out.startswith("ok  ")
    assert validate_wacz(out)[0]
    with zipfile.ZipFile(out) as wacz:
        names = set(wacz.namelist())
        warcs = sorted(directory.glob("*.warc.gz"))
        assert {f"archive/{w.name}" for w in warcs} <= names
        assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl"} <= names
        assert any(name.startswith("indexes/") for name in names)
        for warc in warcs:  # packed byte for byte
            assert wacz.read(f"archive/{warc.name}") == warc.read_bytes()
        package = json.loads(wacz.read("datapackage.json"))
        assert package["title"] == "Tin"
        for resource in package["resources"]:
            assert resource["hash"] == "sha256:" + hashlib.sha256(wacz.read(resource["path"])).hexdigest()
        header, *pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").decode().splitlines()]
    assert header["format"] == "json-pages-1.0"
    by_url = {page["url"]: page for page in pages}
    # HTML pages that answered 200; robots.txt and the 404 are not pages.
    assert sorted(by_url) == [f"{ND}/bai-ba-post4.html", f"{ND}/bai-hai-post2.html", f"{ND}/bai-mot-post1.html"]
    assert by_url[f"{ND}/bai-mot-post1.html"]["title"] == "Bài một"
    assert all(page["ts"] for page in pages)
    assert not list(out.parent.glob(".*partial"))


def test_page_list_without_titles(archive):
    directory, _ = archive
    assert [p["url"].rsplit("/", 1)[1] for p in page_list(directory)] == [
        "bai-ba-post4.html", "bai-hai-post2.html", "bai-mot-post1.html"]


def test_export_bad_input_is_one_error_line(archive, tmp_path, capsys):
    directory, _ = archive
    cases = [
        (["export", "--wacz", str(tmp_path / "x.zip"), str(directory)], ".wacz"),
        (["export", "--wacz", str(tmp_path / "x.wacz"), str(tmp_path / "nope")], "does not exist"),
        (["export", "--wacz", str(tmp_path / "x.wacz"), str(directory), "--corpus", str(tmp_path)], "manifest"),
    ]
    for argv, needle in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and needle in err and err.count("\n") == 1
    assert not (tmp_path / "x.wacz").exists()


def test_export_without_the_wacz_extra_is_one_error_line(archive, tmp_path, capsys, monkeypatch):
    directory, _ = archive
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wacz" else real_find_spec(name, *a))
    assert main(["export", "--wacz", str(tmp_path / "x.wacz"), str(directory)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "[wacz]" in err and err.count("\n") == 1
    assert not (tmp_path / "x.wacz").exists()
