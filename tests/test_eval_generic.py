"""The real-page gate (issue 18): hosts with no profile, 88 real pages, shingle F1.

Ours (the crawl's generic page gate + extraction) must stay at or above plain
trafilatura of the same run and at or above the floor in tests/eval_baseline.json,
and turn down no page: every page of the set is an article.
"""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from archive import eval_generic
from archive.paths import EVAL_GENERIC
from archive.shingle_f1 import PageCounts, page_counts, shingles, totals

REPO = Path(__file__).resolve().parent.parent
FLOOR = json.loads((REPO / "tests" / "eval_baseline.json").read_text("utf-8"))["eval_generic"]


# --------------------------------------------------------------------------- the metric
def test_shingles_are_token_four_grams_counted_as_a_multiset():
    assert shingles("a b c d e") == Counter({("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1})
    assert shingles("x y x y x y x") == Counter({("x", "y", "x", "y"): 2, ("y", "x", "y", "x"): 2})
    assert shingles("Hà Nội, 2024!") == Counter({("Hà", "Nội", "2024"): 1})  # under four tokens: one
    assert shingles("") == Counter() and shingles("— … !") == Counter()


def test_tokens_are_unicode_word_runs():
    assert shingles("Việt-Nam hợp_tác  ĐẢNG\n2024") == Counter({("Việt", "Nam", "hợp_tác", "ĐẢNG"): 1,
                                                                ("Nam", "hợp_tác", "ĐẢNG", "2024"): 1})
    assert shingles("東京は晴れ。明日は雨") == Counter({("東京は晴れ", "明日は雨"): 1})  # no spaces, no split


def test_page_counts_are_shares_of_overlap_surplus_and_shortfall():
    truth = "one two three four five six"  # shingles: 1234 2345 3456
    got = "one two three four five seven eight"  # 1234 2345 345s 45se
    counts = page_counts(got, truth)
    assert (counts.tp, counts.fp, counts.fn) == pytest.approx((2 / 5, 2 / 5, 1 / 5))
    assert not counts.exact
    assert page_counts(truth, truth) == PageCounts(1.0, 0.0, 0.0, True)
    assert page_counts("", truth) == PageCounts(0.0, 0.0, 1.0, False)
    assert page_counts("one, two.  three four five six", truth).exact  # token lists equal


def test_totals_weigh_every_page_alike():
    big_miss = PageCounts(0.0, 0.0, 1.0, False)  # however long the page, it weighs 1
    half = PageCounts(0.5, 0.5, 0.0, False)
    t = totals([big_miss, half, PageCounts(1.0, 0.0, 0.0, True)])
    assert t.precision == pytest.approx(1.5 / 2.0)
    assert t.recall == pytest.approx(1.5 / 2.5)
    assert t.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert t.accuracy == pytest.approx(1 / 3) and t.pages == 3


# --------------------------------------------------------------------------- the gate
@pytest.fixture(scope="module")
def runs():
    return eval_generic.evaluate(eval_generic.load_pages(EVAL_GENERIC))


def test_the_set_is_the_88_pages_with_their_licence():
    pages = eval_generic.load_pages(EVAL_GENERIC)
    assert len(pages) == 88 and len({p.id for p in pages}) == 88
    assert all(p.truth.strip() and p.url.startswith("http") for p in pages)
    assert "MIT License" in (EVAL_GENERIC / "LICENSE").read_text("utf-8")


def test_ours_beats_plain_trafilatura_and_rejects_no_article(runs):
    ours, trafilatura = runs["ours"].totals, runs["trafilatura"].totals
    assert runs["ours"].rejected == [], "articles turned down by the generic page gate or extraction"
    assert ours.f1 >= FLOOR["min_f1"], f"F1 {ours.f1:.4f}"
    assert ours.f1 >= trafilatura.f1, f"ours {ours.f1:.4f} < trafilatura {trafilatura.f1:.4f}"
    assert eval_generic.violations(runs, FLOOR) == []


def test_the_table_has_every_extractor_and_column(runs):
    table = eval_generic.format_table(runs)
    header, _, *rows = table.splitlines()
    assert [c.strip() for c in header.split("|")[1:-1]] == [
        "extractor", "pages", "F1", "precision", "recall", "exact pages", "rejected", "s/page"]
    assert [row.split("|")[1].strip() for row in rows] == ["ours", "trafilatura", "justext"]


def test_violations_name_what_broke(runs):
    worse = dict(runs)
    worse["trafilatura"] = eval_generic.Run("trafilatura", [PageCounts(1.0, 0.0, 0.0, True)], [], 0.0)
    problems = eval_generic.violations(worse, {"min_f1": 0.999, "max_rejected": 0, "beat": "trafilatura"})
    assert [p.split(" ")[0] for p in problems] == ["F1", "F1"]
    assert "< trafilatura 1.0000 in the same run" in problems[1]
    rejected = {"ours": eval_generic.Run("ours", runs["ours"].counts, ["0123456789"], 1.0)}
    assert eval_generic.violations(rejected, {"max_rejected": 0}) == ["1 articles rejected (01234567)"]


# --------------------------------------------------------------------------- the command
def _small_set(tmp_path: Path, n: int = 3) -> Path:
    """A copy of the first pages of the set (the command's path without the full set's time)."""
    source = EVAL_GENERIC
    truth = json.loads((source / "ground-truth.json").read_text("utf-8"))
    keep = sorted(truth)[:n]
    (tmp_path / "html").mkdir(parents=True)
    for page_id in keep:
        shutil.copy(source / "html" / f"{page_id}.html.gz", tmp_path / "html")
    (tmp_path / "ground-truth.json").write_text(json.dumps({k: truth[k] for k in keep}), "utf-8")
    return tmp_path


def _eval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive", "eval", "--sets", "generic", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_command_prints_the_generic_table_and_applies_the_floor(tmp_path):
    small = _small_set(tmp_path / "set")
    passing = tmp_path / "pass.json"
    passing.write_text(json.dumps({"eval_generic": {"min_f1": 0.5, "max_rejected": 0}}))
    proc = _eval("--generic", str(small), "--baseline", str(passing), "--extractors", "ours,trafilatura",
                 "--json", str(tmp_path / "scores.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split("|")[1].strip() for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert rows == ["extractor", "ours", "trafilatura"]
    assert "generic set: 3 real pages" in proc.stdout
    scores = json.loads((tmp_path / "scores.json").read_text("utf-8"))
    assert set(scores["generic"]) == {"ours", "trafilatura"} and scores["generic"]["ours"]["pages"] == 3

    failing = tmp_path / "fail.json"
    failing.write_text(json.dumps({"eval_generic": {"min_f1": 1.01}}))
    proc = _eval("--generic", str(small), "--baseline", str(failing), "--extractors", "ours")
    assert proc.returncode == 1
    assert "generic set: F1" in proc.stdout


@pytest.mark.parametrize("args,message", [
    (("--generic", "/nonexistent/eval-set"), "--generic /nonexistent/eval-set"),
    (("--sets", "generic,nonsense"), "--sets: choose from gold, generic"),
])
def test_command_refuses_bad_input_with_one_line(args, message):
    proc = _eval(*args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_the_pages_are_stored_compressed_as_the_benchmark_ships_them():
    page = next((EVAL_GENERIC / "html").glob("*.html.gz"))
    assert gzip.decompress(page.read_bytes()).lstrip()[:1] == b"<"
