"""The measured terms' rows (archive/extract/term_rows.py): the values the dicts held, one string a
term, bounded; and the topic measure through them equal to the dict path to the bit."""
from pathlib import Path

import pytest

from archive.extract import topic as topic_mod
from archive.extract.term_rows import TermRows
from archive.extract.topic import load_topic, specificity
from tests.test_loop_offload import _as_dict_path, _texts_to_measure
from tests.test_parse_once import PAGES

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def topic():
    return load_topic("auto", SEEDS)


def _fixture_anchors() -> list[str]:
    from lxml import html as lxml_html

    from archive.extract.links import anchor_text

    return [anchor_text(a) for path in PAGES for a in lxml_html.fromstring(path.read_bytes()).iter("a")]


def test_rows_give_each_term_s_specificity_weight_and_one_string(topic):
    table = TermRows(topic_mod.specificities)
    first = ["lào", "hợp tác", "xyzzy", "lào"]
    rows = table.rows(first)
    assert rows.tolist()[0] == rows.tolist()[3] and len(table) == 3
    again = [str(term.encode().decode()) for term in first]  # equal strings, other objects
    rows_again = table.rows(again)
    assert rows_again.tolist() == rows.tolist()
    assert all(kept is original for kept, original in zip(table.strings(rows_again), first))
    assert [repr(v) for v in table.specificities(rows).tolist()] == [repr(specificity(t)) for t in first]
    assert table.profile_weights(topic.weights, topic.key, rows).tolist() == [topic.weights.get(t, 0.0) for t in first]
    later = table.rows(["việt nam", "lào"])  # a profile's column grows with the rows learnt after it
    assert table.profile_weights(topic.weights, topic.key, later).tolist() == \
        [topic.weights.get("việt nam", 0.0), topic.weights.get("lào", 0.0)]
    assert table.profile_weights({"lào": 0.5}, "other", later).tolist() == [0.0, 0.5]


def test_rows_are_emptied_before_a_batch_would_pass_the_bounds():
    table = TermRows(topic_mod.specificities)
    table.MAX_ROWS = 50
    for n in range(20):
        batch = [f"từ{n}x{k}" for k in range(10)]
        rows = table.rows(batch)
        assert len(table) <= 50 and table.strings(rows) == batch
        assert table.specificities(rows).tolist() == [specificity(t) for t in batch]
    table.MAX_CHARS = 1000
    huge = "a" * 5000
    assert table.strings(table.rows(["lào", huge])) == ["lào", huge]  # one batch is always measured
    assert table.strings(table.rows(["việt"])) == ["việt"] and len(table) == 1  # and not held after


def test_measures_are_the_dict_path_s_when_the_rows_are_emptied_midway(topic, monkeypatch):
    """A crawl's rows are emptied now and then: each batch is measured as the dict path measures
    it whatever was learnt before."""
    monkeypatch.setattr(topic_mod, "_ANCHOR_MEMOS", {})  # (anchors an earlier test measured are not measured again)
    table = TermRows(topic_mod.specificities)
    table.MAX_ROWS = 200
    emptied = []
    table.clear = lambda: (emptied.append(len(table)), TermRows.clear(table))
    monkeypatch.setattr(topic_mod, "_TERM_ROWS", table)
    monkeypatch.setattr(topic_mod, "_COUNTER", topic_mod.TermCounter(table, topic_mod.STOPWORDS,
                                                                     topic_mod.SEGMENT_BREAKS, topic_mod._WORD))
    anchors = _fixture_anchors()
    for start in range(0, len(anchors), 40):
        batch = anchors[start:start + 40]
        got = [(repr(m.score), [(t, repr(w)) for t, w in m.vector.items()]) for m in topic.measure_all(batch)]
        want = []
        for text in batch:
            vec = topic_mod._vector(topic_mod.terms(text))
            want.append((repr(topic._cosine(vec)), [(t, repr(w)) for t, w in vec.items()]))
        assert got == want
    assert len(emptied) > 3 and max(emptied) <= 200  # (40 anchors: under the bound alone)
    for text in _texts_to_measure()[:30]:
        light = topic.measure(text, heaviest=80)
        assert (repr(light.score), light.heaviest[0]) == _as_dict_path(topic, text, 80)
    assert len(emptied) > 20  # (a page text's ~2,000 terms: held until the next batch, as one batch is)


def test_anchors_met_on_an_earlier_page_are_its_measurements(topic, monkeypatch):
    """`measure_all` remembers the anchors it measured: asked again, alone or among new ones, it
    gives the very measurement, which is what measuring the text gives."""
    monkeypatch.setattr(topic_mod, "_ANCHOR_MEMOS", {})
    anchors = list(dict.fromkeys(_fixture_anchors()))
    first = topic.measure_all(anchors[:200])
    mixed = anchors[100:300]
    second = topic.measure_all(mixed)
    assert all(a is b for a, b in zip(first[100:], second[:100]))
    for text, measured in zip(mixed, second):
        alone = topic.measure(text)
        assert (str(measured), [(t, repr(w)) for t, w in measured.vector.items()], repr(measured.score),
                measured.enough) == (str(alone), [(t, repr(w)) for t, w in alone.vector.items()],
                                     repr(alone.score), alone.enough)
    assert topic.measure_all([]) == []


def test_the_remembered_anchors_are_bounded(topic, monkeypatch):
    from archive.extract.measured_memo import MeasuredMemo

    monkeypatch.setattr(topic_mod, "_ANCHOR_MEMOS", {})
    monkeypatch.setattr(MeasuredMemo, "LIMIT", 50)
    anchors = [f"Hợp tác Việt Nam - Lào, bài số {n}" for n in range(400)]
    for start in range(0, 400, 30):
        topic.measure_all(anchors[start:start + 30])
        assert len(topic_mod._anchor_memo(topic.key)) <= 50
    huge = "Lào " * 1000
    topic.measure_all([huge, "Lào"])
    memo = topic_mod._anchor_memo(topic.key)
    assert memo.known([huge, "Lào"])[0] is None and memo.known(["Lào"])[0] is not None
    topic_mod._TERM_ROWS.clear()  # the rows emptied: what was kept is let go with them
    assert memo.known(["Lào"]) == [None] and len(memo) == 0


def test_packed_runs_are_each_run_joined_by_newlines_and_encoded():
    """`packed_runs` cuts the terms' kept bytes, joined once, into runs: each run is its terms joined
    by newlines and encoded as pickle encodes a str (UTF-8, surrogates passed), whatever the terms
    (non-Latin-1, astral, a lone surrogate, one character, long), runs of one term, across the
    table's growth and its emptying (`clear`, then terms learnt again in other rows)."""
    import random

    import numpy as np

    from archive.extract.term_rows import UTF8

    rnd = random.Random(21)
    table = TermRows(lambda terms: [1.0] * len(terms))
    alphabet = ["a", "đ", "ộ", "lào", "😀", "\ud800", "中", "ß", " ", "x" * 70, "ı", "\0"]
    vocabulary = list(dict.fromkeys("".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 4))) for _ in range(3000)))
    checked = grown = 0
    for batch in range(60):
        if batch % 20 == 19:
            table.clear()
        lengths = np.array([rnd.choice((1, 1, 2, 5, 17, 40)) for _ in range(rnd.randint(1, 150))], np.intp)
        terms = [rnd.choice(vocabulary) for _ in range(int(lengths.sum()))]
        table.rows([rnd.choice(vocabulary) for _ in range(50)])  # (rows learnt, not packed: a page text's)
        rows = table.rows(terms)
        runs = table.packed_runs(rows, lengths)
        ends = np.cumsum(lengths).tolist()
        expected = ["\n".join(terms[start:end]).encode(*UTF8) for start, end in zip([0, *ends[:-1]], ends)]
        assert runs == expected
        checked, grown = checked + len(runs), max(grown, len(table))
    assert checked > 2000 and grown > 1024  # (the kept bytes grew with the rows)
    assert table.packed_runs(np.zeros(0, np.intp), np.zeros(0, np.intp)) == []
