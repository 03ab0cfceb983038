"""bench/crawl_identity.py: the A/B output check the performance work relies on says "same" only
when corpus files and WARC records match, and refuses a directory that is not one crawl's."""
from __future__ import annotations

import io
import json

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from bench import crawl_identity


def _crawl(root, number: int, text: str, body: bytes):
    """One crawl's directory: a corpus file (its number run-specific), its manifest row, one response."""
    (root / "corpus").mkdir(parents=True)
    (root / "corpus" / f"{number:03d}_abc.txt").write_text(text, encoding="utf-8")
    row = {"file": f"{number:03d}_abc.txt", "number": number, "canonical_url": "https://x.vn/a", "title": "A"}
    (root / "corpus" / "manifest.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    (root / "warc").mkdir()
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    head = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record("https://x.vn/a", "response", payload=io.BytesIO(body),
                                                  http_headers=head))
    (root / "warc" / "run.warc.gz").write_bytes(buffer.getvalue())
    return root


def test_the_same_output_with_other_numbers_and_dates_is_the_same(tmp_path):
    a = _crawl(tmp_path / "a", 1, "văn bản", b"<p>page</p>")
    b = _crawl(tmp_path / "b", 7, "văn bản", b"<p>page</p>")
    assert crawl_identity.main([str(a), str(b)]) == 0


def test_a_different_file_or_payload_is_not(tmp_path):
    a = _crawl(tmp_path / "a", 1, "văn bản", b"<p>page</p>")
    b = _crawl(tmp_path / "b", 1, "văn bản khác", b"<p>page</p>")
    c = _crawl(tmp_path / "c", 1, "văn bản", b"<p>other</p>")
    assert crawl_identity.main([str(a), str(b)]) == 1
    result = crawl_identity.compare(a, c)
    assert result["corpus_files_differing"] == 0
    assert result["warc_records_only_in_a"] == result["warc_records_only_in_b"] == 1


def test_a_keep_directory_is_refused_with_the_crawls_under_it(tmp_path, capsys):
    keep = tmp_path / "keep"
    _crawl(keep / "tinbai.example.vn" / "on-0", 1, "văn bản", b"<p>page</p>")
    with pytest.raises(SystemExit) as exit_:
        crawl_identity.main([str(keep), str(keep)])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "not one crawl's directory" in error and str(keep / "tinbai.example.vn" / "on-0") in error
