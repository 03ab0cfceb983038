"""A batch's terms counted as arrays (archive/extract/counted_terms.py) are `_term_counts`'s: the
same terms in the same order with the same counts, text by text, and the same number of words;
through emptied rows, forgotten ids and texts it must leave to the dict path."""
from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest

from archive.eval_generic import load_pages
from archive.extract import counted_terms
from archive.extract.counted_terms import SEGMENT, TEXT, TermCounter
from archive.extract.int_table import IntTable
from archive.extract.term_rows import TermRows
from archive.extract.topic import (MIN_TOKENS_TO_JUDGE, SEGMENT_BREAKS, STOPWORDS, _WORD, _heaviest_at,
                                   _segments, _term_counts, specificities)
from testbed.fixture_pages import pages
from tests.test_url_join import FIXTURES

PIECES = ["lào", "Việt", "nam", "và", "của", "là", "2024", "số", "8", "-", " ", "  ", "\n", "\t", "\x1c", "\x85",
          "\xa0", "\u2028", "\u3000", ",", ".", "…", "“", "_", "a_b", "²", "½", "Ⅻ", "e\u0301", "\u0301", "ǅ", "x1",
          "1x", "x1y2", "٣", "漢字", "한국", "ΟΔΟΣ", "covid-19", "g20", "\0", "và và", "(", "|"]


def _texts() -> list[str]:
    rnd = random.Random(17)
    texts = ["".join(rnd.choice(PIECES) + rnd.choice(["", " "]) for _ in range(rnd.randint(0, 30)))
             for _ in range(6_000)]
    texts += ["", " ", "và", "và của là", "Lào", "lào lào lào", ". , ;"]
    texts += [page.read_text("utf-8", errors="replace")[:20_000] for page in pages()]
    texts += [page.html.decode("utf-8", "replace")[:20_000] for page in load_pages(FIXTURES / "eval-generic")]
    return texts


def _lowered(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def _by_dict(lowered: str) -> tuple[list[tuple[str, int]], int]:
    segments = _segments(lowered)
    return list(_term_counts(segments).items()), sum(map(len, segments))


def _by_arrays(rows: TermRows, counted, texts: int) -> list[tuple[list[tuple[str, int]], int]]:
    strings, counts = rows.strings(counted.rows), counted.counts.tolist()
    found, start = [], 0
    for n, words in zip(counted.lengths.tolist(), counted.words.tolist()):
        found.append((list(zip(strings[start:start + n], counts[start:start + n])), words))
        start += n
    assert start == len(strings) and len(found) == texts
    return found


def _counter(rows: TermRows) -> TermCounter:
    return TermCounter(rows, STOPWORDS, SEGMENT_BREAKS, _WORD)


def test_each_text_alone_gives_the_dict_path_s_terms_counts_and_words():
    rows = TermRows(specificities)
    counter = _counter(rows)
    for text in _texts():
        lowered = _lowered(text)
        counted = counter.count(lowered)
        assert _by_arrays(rows, counted, 1) == [_by_dict(lowered)], repr(text)


def test_a_batch_gives_each_text_s_terms_through_emptied_rows_and_forgotten_ids(monkeypatch):
    """Batches of 1-25 texts joined by NULs (as `measure_all` joins a page's anchors), the rows
    emptied every few batches and the ids forgotten when they pass a small bound."""
    rows = TermRows(specificities)
    rows.MAX_ROWS = 2_000
    emptied = []
    rows.clear = lambda: (emptied.append(len(rows)), TermRows.clear(rows))
    monkeypatch.setattr(counted_terms, "_MAX_WORDS", 1_500)
    counter = _counter(rows)
    texts = [text for text in _texts() if "\0" not in text and len(text) < 400]
    rnd = random.Random(3)
    start, counted_batches = 0, []
    while start < len(texts):
        size = rnd.randint(1, 25)
        batch = texts[start:start + size]
        start += size
        lowered = _lowered("\0".join(batch))
        counted = counter.count(lowered, len(batch))
        if counted is None:  # (more characters than ids the counter may hold: the dict path's)
            assert len(lowered) + 2 > 1_500
            continue
        counted_batches.append(len(batch))
        if len(batch) == 1:  # (one text: its NULs would be its own)
            continue
        assert _by_arrays(rows, counted, len(batch)) == [_by_dict(_lowered(text)) for text in batch]
    assert len(emptied) > 3 and len(counted_batches) > 200


def test_tokens_that_are_not_one_word_are_forgotten_past_their_bound_and_the_words_keep_their_ids(monkeypatch):
    """A crawl's numbers (a page's own, article ids) are remembered up to `MAX_TOKENS`, then
    forgotten alone: the words' ids, and so the pairs' rows, stay; the counts stay the dict path's."""
    monkeypatch.setattr(counted_terms, "MAX_TOKENS", 50)
    rows = TermRows(specificities)
    counter = _counter(rows)
    rnd = random.Random(7)
    words = ["lào", "việt", "nam", "và", "hợp", "tác", "bài", "số", "x1", "covid-19"]
    held, forgotten = [], []
    forget = counter._forget_tokens
    counter._forget_tokens = lambda: (forgotten.append(len(counter._tokens)), forget())
    for page in range(300):
        text = " ".join(rnd.choice(words) if rnd.random() < 0.7 else str(rnd.randrange(10**6)) for _ in range(20))
        text += f" bài số {page} - {page}/{page + 1}, 2024."
        before = dict(zip(counter._words, range(len(counter._words))))
        counted = counter.count(_lowered(text))
        assert _by_arrays(rows, counted, 1) == [_by_dict(_lowered(text))], text
        assert all(counter._id[word] == at for word, at in before.items())  # (the words' ids never move)
        held.append(len(counter._id) - len(counter._words))
        assert len(counter._tokens) == held[-1]  # (every token that is not a word, once)
    assert len(forgotten) > 3 and min(forgotten) > 50 and max(held) <= 50 + 2 * 27  # (the bound, and at most one text's new tokens past it)
    assert counter._expansions[0].size == 0  # (shared by every token holding no word)
    assert len(counter._expansions) < 10  # ("covid-19", "x1" are read into words; numbers hold none)


def test_texts_holding_the_marks_or_too_many_terms_are_left_to_the_dict_path():
    rows = TermRows(specificities)
    counter = _counter(rows)
    assert counter.count(f"lào {SEGMENT} việt") is None and counter.count(f"lào\0việt {TEXT}", 2) is None
    rows.MAX_ROWS = 10
    assert counter.count("một hai ba bốn năm sáu bảy tám") is None  # (16 terms: more than the rows hold)
    assert counter.count("lào việt") is not None


def test_a_word_found_in_a_token_is_found_whole_again():
    """Why a token that is one word can share the words' ids (`TermCounter._learn`)."""
    rnd = random.Random(5)
    chars = "aáz9٣_-.'²½Ⅻ\u0301漢한ΣσǅİẞꙮЖ"
    tokens = ["".join(rnd.choice(chars) for _ in range(rnd.randint(1, 8))) for _ in range(50_000)]
    tokens += [token for text in _texts()[-200:] for token in text.split()]
    for token in tokens:
        for word in _WORD.findall(token.lower()):
            assert _WORD.findall(word) == [word], (token, word)


def test_the_heaviest_terms_are_the_first_of_a_stable_descending_sort():
    rnd = np.random.default_rng(9)
    for size in (0, 1, 79, 80, 161, 400, 1_300):
        for weights in (rnd.random(size), rnd.integers(0, 5, size).astype(float), np.ones(size)):
            for n in (1, 3, 80):
                assert _heaviest_at(weights, n).tolist() == np.argsort(-weights, kind="stable")[:n].tolist()


def test_the_integer_table_finds_what_was_put_and_nothing_else():
    rnd = random.Random(11)
    table, kept = IntTable(bits=4), {}
    for _ in range(60):
        keys = list({rnd.randrange(1 << 40) for _ in range(rnd.randint(1, 300))} - kept.keys())
        values = [rnd.randrange(1 << 30) for _ in keys]
        table.put(np.array(keys), np.array(values))
        kept.update(zip(keys, values))
        asked = rnd.sample(sorted(kept), min(200, len(kept))) + [rnd.randrange(1 << 40) for _ in range(50)]
        assert table.get(np.array(asked, np.int64)).tolist() == [kept.get(key, -1) for key in asked]
    assert len(table) == len(kept) and table.get(np.zeros(0, np.int64)).tolist() == []


@pytest.mark.parametrize("text", ["Lào, Việt Nam và Campuchia hợp tác", "", "2024 - covid-19"])
def test_the_words_counted_decide_enough_text_as_the_segments_do(text):
    rows = TermRows(specificities)
    counted = _counter(rows).count(_lowered(text))
    assert (int(counted.words[0]) >= MIN_TOKENS_TO_JUDGE) == (sum(map(len, _segments(_lowered(text)))) >= MIN_TOKENS_TO_JUDGE)


def test_a_process_whose_first_texts_hold_no_term_measures_them_as_zero(monkeypatch):
    """A worker's first page may be a listing whose anchors hold no term at all (punctuation, empty
    titles): the rows table had then learnt nothing, and weighing the profile's column of it raised
    TypeError, so the page fell back to the event loop (`news/analyse_failed`) in every topic crawl
    of the generated bench site. The same texts, measured after rows were learnt, score the same."""
    from archive.extract import topic as topic_mod
    from archive.extract.topic import TopicProfile

    texts = ["", ". , ;", "|", "–"]
    monkeypatch.setattr(topic_mod, "_TERM_ROWS", TermRows(specificities))
    fresh = TopicProfile.from_texts(["Hợp tác Việt Nam Lào về giáo dục"]).measure_all(texts)
    monkeypatch.setattr(topic_mod, "_TERM_ROWS", TermRows(specificities))
    topic_mod._TERM_ROWS.rows(["việt", "lào"])
    learnt = TopicProfile.from_texts(["Hợp tác Việt Nam Lào về y tế"]).measure_all(texts)
    assert [(str(m), m.score, m.enough) for m in fresh] == [(str(m), m.score, m.enough) for m in learnt]
    assert all(m.score == 0 for m in fresh)
