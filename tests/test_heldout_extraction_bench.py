"""bench/heldout_extraction.py scores only the pages the repository does not ship."""
import gzip
import json

from archive.evaluate import EVAL_GENERIC
from bench.heldout_extraction import main


def _checkout(tmp_path, shipped_id):
    (tmp_path / "html").mkdir(parents=True)
    truth = json.loads((EVAL_GENERIC / "ground-truth.json").read_text("utf-8"))
    body = "The council met on Monday to discuss the harbour. " * 20
    html = f"<html><head><title>Harbour</title></head><body><article><h1>Harbour</h1><p>{body}</p></article></body></html>"
    pages = {shipped_id: truth[shipped_id], "f" * 64: {"url": "https://example.org/harbour", "articleBody": body}}
    for page_id in pages:
        source = EVAL_GENERIC / "html" / f"{page_id}.html.gz"
        data = source.read_bytes() if source.exists() else gzip.compress(html.encode())
        (tmp_path / "html" / f"{page_id}.html.gz").write_bytes(data)
    (tmp_path / "ground-truth.json").write_text(json.dumps(pages), "utf-8")
    return tmp_path


def test_only_pages_outside_the_shipped_half_are_scored(tmp_path, capsys):
    shipped_id = sorted(json.loads((EVAL_GENERIC / "ground-truth.json").read_text("utf-8")))[0]
    checkout = _checkout(tmp_path / "aeb", shipped_id)
    out = tmp_path / "totals.json"
    assert main([str(checkout), "--json", str(out)]) == 0
    assert "1 held-out pages" in capsys.readouterr().out
    totals = json.loads(out.read_text())
    assert totals["ours"]["pages"] == totals["trafilatura"]["pages"] == 1
    assert totals["trafilatura"]["f1"] > 0.9


def test_not_a_checkout_is_a_clear_error(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
