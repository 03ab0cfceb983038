"""Extraction quality gate: our extractor on the gold set stays above tests/eval_baseline.json."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive.eval_scoring import Summary, floor_violations, leaked_lines, score_page, summarize, token_scores
from archive.evaluate import EXTRACTORS, Extraction, GoldPage, evaluate, load_gold
from archive.paths import EVAL_GOLD, EVAL_WEB
from archive.sites import hints_for
from testbed.fixture_pages import article_pages

REPO = Path(__file__).resolve().parent.parent
BASELINE = json.loads((REPO / "tests" / "eval_baseline.json").read_text("utf-8"))
N_830202 = "https://nhandan.vn/ky-niem-62-nam-ngay-thiet-lap-quan-he-ngoai-giao-viet-nam-lao-post830202.html"
T_211206 = "https://thoidai.com.vn/giao-luu-huu-nghi-thanh-nien-viet-nam-lao-tai-dien-bien-211206.html"


@pytest.fixture(scope="module")
def gold():
    return {page.url: page for page in load_gold(EVAL_WEB, EVAL_GOLD)}


def test_gold_set_is_every_gold_page_with_a_byline_entry(gold):
    assert len(gold) == len(article_pages())
    bylines = json.loads((REPO / "tests" / "fixtures" / "gold" / "bylines.json").read_text("utf-8"))
    assert {f"https://{key}" for key in bylines if not key.startswith("_")} == set(gold)


def test_our_extractor_stays_above_the_pinned_floor(gold):
    summary = summarize(evaluate(list(gold.values()), hints_for, ["ours"]))["ours"]
    assert floor_violations(summary, BASELINE) == []


def test_floor_violations_name_what_dropped():
    worse = Summary("ours", 11, precision=0.9, recall=0.9, f1=0.9, min_f1=0.5, title=1.0, day=1.0,
                    date_line=10 / 11, author=1.0, leaked_lines=2)
    found = floor_violations(worse, BASELINE)
    assert [line.split(":")[0] for line in found] == ["min_mean_f1", "min_page_f1", "max_leaked_lines",
                                                      "min_date_exact"]


def test_token_scores():
    assert token_scores(["Hà Nội hôm nay"], ["hà nội  hôm nay"]) == (1.0, 1.0, 1.0)
    precision, recall, f1 = token_scores(["a b c d"], ["a b"])
    assert (precision, recall) == (0.5, 1.0) and f1 == pytest.approx(2 / 3)
    assert token_scores([], ["a"]) == (0.0, 0.0, 0.0)


def test_leak_detector_flags_page_furniture_but_not_article_text(gold):
    page = gold[T_211206]
    teaser = "Thúc đẩy hợp tác giữa hai Ban Đối ngoại Trung ương Việt Nam và Lào"
    furniture = [
        "aa", "In bài viết", "Tin bài liên quan", "Phiên bản di động", "Tags: Việt Nam - Lào",
        "Việt Nam - Lào",  # the tag link alone on a line
        f"{teaser} {teaser}",  # the doubled teaser of an inline related box
        "Thời tiết hôm nay (08/01): Hà Nội rét đậm, vùng núi có nơi rét hại",  # "Đọc nhiều" sidebar
        "giao luu huu nghi thanh nien viet nam lao tai dien bien",  # image alt text
        "Đối ngoại nhân dân",  # menu item
        "Đường dẫn bài viết: " + T_211206,
    ]
    article_text = page.body_lines + [page.body_lines[0] + " " + page.body_lines[1]]  # a merged paragraph
    assert leaked_lines(page, article_text + furniture) == furniture


def test_a_leak_and_a_lost_paragraph_show_in_the_page_score(gold):
    page = gold[N_830202]
    body = page.body_lines
    got = Extraction(body[:-2] + ["Đọc nhiều"] + body[-1:], page.title, None, page.date_line, page.byline)
    score = score_page("ours", page, got)
    assert score.leaked == ["Đọc nhiều"]
    assert score.recall < 1.0 and score.precision < 1.0
    assert score.title and score.date_line and score.author and score.day is False


def test_make_eval_command_prints_the_table_and_passes_the_gate():
    # The generic set's gate runs in tests/test_eval_generic.py (once, in process).
    proc = subprocess.run([sys.executable, "-m", "archive", "eval", "--sets", "gold"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split("|")[1].strip(): line for line in proc.stdout.splitlines() if line.startswith("| ")}
    assert {"ours", "trafilatura", "justext"} <= set(rows)
    assert "at or above the floor" in proc.stdout


def test_see_also_paragraph_inside_the_body_is_not_kept(gold):
    """Vietnamese sites put related links inline as "Xem thêm: <title>" paragraphs in the body."""
    page = gold[N_830202]
    see_also = ('<p><strong>Xem thêm:</strong> <a href="/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-'
                'mai-mai-xanh-tuoi-lien-tuc-phat-trien-post830183.html">Quyết tâm gìn giữ, vun đắp quan hệ '
                'Việt Nam-Lào mãi mãi xanh tươi, liên tục phát triển</a></p>\n')
    marker = "<p>Trong khuôn khổ buổi lễ".encode()
    assert marker in page.html
    trap = GoldPage(page.url, page.html.replace(marker, see_also.encode() + marker, 1), page.text, page.byline)
    score = score_page("ours", trap, EXTRACTORS["ours"](trap, hints_for))
    assert score.leaked == [] and score.f1 == 1.0
