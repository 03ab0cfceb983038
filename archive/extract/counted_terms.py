"""A batch of texts' topic terms counted as arrays: each text's terms (rows of a `TermRows`) in the
order they first occur, and their counts, what topic.py's `_term_counts` gives as a dict a text.

The dict path costs a page ~3,100 words of Python loop (a test, a pair string and two dict updates
a word) and then a look-up of every term's row by its string. Here the words are found in C for
all the texts at once (the segment breaks and the texts' ends made words of their own: `SEGMENT`
and `TEXT`, letters no input holds, or the batch is not counted here), each word's id is one dict
look-up (`itemgetter`), a pair of words is an integer made of their ids (its row one look-up by
that integer: no pair string, except the first time a pair is met), and the counting is numpy's
(`np.unique` of (text, row) keys, then their first occurrences in order). The same terms in the
same order with the same counts, so the same vectors and floats (tests/test_counted_terms.py).
No Scrapy here.
"""
from __future__ import annotations

from itertools import filterfalse
from operator import itemgetter
from typing import NamedTuple

import numpy as np

from archive.extract.int_table import IntTable
from archive.extract.term_rows import TermRows

__all__ = ["CountedTerms", "TermCounter", "SEGMENT", "TEXT"]

SEGMENT, TEXT = "\ua66e", "\ua66d"  # (letters, so `str.isalpha` keeps passing the tokens they sit among)
_SHIFT = 18  # a pair's key: its first word's id << _SHIFT | its second's
_MAX_WORDS = 1 << _SHIFT  # (tokens known, at most: more than the rows' terms, `TermRows.MAX_ROWS`)
# Tokens that are not one word ("2024", "19/5", "-") remembered at most: most are numbers a crawl
# meets once or twice (a page's own number, an article id), so they were most of what a worker's
# counter held after 10,000 pages (docs/performance.md, session 18); forgotten alone when past it,
# the words' ids (and so the pairs' rows) kept.
MAX_TOKENS = 4096
_NO_WORDS = -1  # the id of a token holding no word: `_expansions[0]`, one empty array they all share


class CountedTerms(NamedTuple):
    rows: np.ndarray  # each text's terms' rows, in the order they first occur, text after text
    counts: np.ndarray  # each term's count in its text
    lengths: np.ndarray  # how many terms each text has
    words: np.ndarray  # how many words each text has (stop words included: `enough_text`)


def _first_occurrences(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each distinct key first occurs (a boolean mask over `keys`) and how often each occurs,
    in the order they first occur. One sort of each key with its position in its low bits (distinct
    values, so any sort gives the stable order; numpy's plain sort of integers is several times
    its stable argsort)."""
    size = len(keys)
    first = np.zeros(size, bool)
    if not size:
        return first, np.zeros(0, np.intp)
    shift = size.bit_length()
    if int(keys.max()) < _SORTABLE >> shift:
        ordered = np.sort((keys << shift) | np.arange(size))
        sorted_keys, positions = ordered >> shift, ordered & ((1 << shift) - 1)
    else:  # (keys too large to carry their positions: a stable sort of the keys themselves)
        positions = np.argsort(keys, kind="stable")
        sorted_keys = keys[positions]
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    first[positions[starts]] = True
    counts = np.zeros(size, np.intp)
    counts[positions[starts]] = np.diff(np.append(starts, size))
    return first, counts[first]


_SORTABLE = 1 << 62


class TermCounter:
    """Counts texts' terms (topic.py's `_term_counts`: unigrams but the stop words, bigrams within a
    segment but those of two stop words) as rows of `rows`, whose emptying it follows.

    What it learns: each token met (a word id, or for a token that is not one word, e.g. "2024",
    "covid-19" or "-", the ids of the words the word expression finds in it), each word's row,
    each pair's row; bounded (`_MAX_WORDS` tokens, of which `MAX_TOKENS` not one word), and
    forgotten with the rows."""

    def __init__(self, rows: TermRows, stopwords: frozenset[str], breaks: str, word):
        self._rows = rows
        self._stopwords = stopwords
        self._breaks = breaks  # the characters a segment ends at
        self._words_of = word.findall
        self._forget()

    def count(self, lowered: str, texts: int = 1) -> CountedTerms | None:
        """The terms of `texts` texts, NFC-normalised and lower-cased (topic.py `tokens`), joined by
        NULs when more than one (a single text's NULs are its own); None when this cannot count
        them exactly (a text holds `SEGMENT` or `TEXT`) or the rows could not hold them all."""
        if SEGMENT in lowered or TEXT in lowered or len(lowered) + 2 > _MAX_WORDS:
            return None
        marked = lowered
        for char in self._breaks:  # (a run of them: marks in a row, as good as one)
            if char in marked:
                marked = marked.replace(char, f" {SEGMENT} ")
        if texts > 1:
            marked = marked.replace("\0", f" {TEXT} ")
        tokens = marked.split()
        if len(self._id) + len(self._expansions) + len(marked) > _MAX_WORDS:
            self._forget()  # (the ids would pass their bound: a token brings at most a word a character)
        elif len(self._tokens) > MAX_TOKENS:
            self._forget_tokens()
        ids = self._ids(tokens)
        n = len(ids)
        if not self._rows.reserve(2 * n, 3 * len(marked) + n):
            return None
        if self._generation != self._rows.generation:  # the rows were emptied now or before: the ids too
            self._forget()
            ids = self._ids(tokens)
        words_per_text = np.zeros(texts, np.intp)
        if n == 0:
            empty = np.zeros(0, np.intp)
            return CountedTerms(empty, empty, words_per_text, words_per_text)
        stop = self._stop[ids]
        mark = ids < 2
        sequence = np.full(2 * n, -1, np.intp)  # a word's pair with the word before it, then the word
        sequence[1::2] = self._word_rows(ids, stop)
        pair_ok = ~(mark[:-1] | mark[1:]) & ~(stop[:-1] & stop[1:])
        if pair_ok.any():
            pair_rows = np.full(n - 1, -1, np.intp)
            pair_rows[pair_ok] = self._pair_rows((ids[:-1][pair_ok] << _SHIFT) | ids[1:][pair_ok])
            sequence[2::2] = pair_rows
        kept = sequence >= 0
        rows = sequence[kept]
        if texts > 1:
            text_of = np.cumsum(ids == 1)
            words_per_text = np.bincount(text_of[~mark], minlength=texts)
            text_of_term = np.repeat(text_of, 2)[kept]
            first, counts = _first_occurrences(text_of_term * (len(self._rows) + 1) + rows)
            lengths = np.bincount(text_of_term[first], minlength=texts)
        else:
            words_per_text[0] = n - int(mark.sum())
            first, counts = _first_occurrences(rows)
            lengths = np.array([len(counts)], np.intp)
        return CountedTerms(rows[first], counts, lengths, words_per_text)

    def _forget(self) -> None:
        self._generation = self._rows.generation
        self._id = {SEGMENT: 0, TEXT: 1}  # a token: its word's id, or -1 - its `_expansions` index
        self._words = [SEGMENT, TEXT]
        self._tokens: list[str] = []  # the tokens in `_id` that are not one word
        self._forget_tokens()
        self._stop = np.ones(1024, bool)  # (the marks are "stop words": no unigram, no pair of two)
        self._word_row = np.full(1024, -1, np.intp)  # a word's row, once asked for
        self._pair = IntTable()

    def _forget_tokens(self) -> None:
        """Forget the tokens that are not one word (deleted one by one: a few thousand, where a real
        site's words are tens of thousands); the words keep their ids."""
        known = self._id
        for token in self._tokens:
            del known[token]
        self._tokens = []
        self._expansions: list[np.ndarray] = [np.zeros(0, np.intp)]  # a token that is not one word: its words' ids

    def _ids(self, tokens: list[str]) -> np.ndarray:
        """The word ids of the tokens' words, learning the tokens met for the first time."""
        if not tokens:
            return np.zeros(0, np.intp)
        ask = itemgetter(*tokens) if len(tokens) > 1 else (lambda known: (known[tokens[0]],))
        try:
            ids = np.fromiter(ask(self._id), np.intp, len(tokens))
        except KeyError:
            self._learn(list(filterfalse(self._id.__contains__, dict.fromkeys(tokens))))
            ids = np.fromiter(ask(self._id), np.intp, len(tokens))
        if ids.min() >= 0:
            return ids
        pieces, last, expansions = [], 0, self._expansions
        for at in np.flatnonzero(ids < 0).tolist():
            pieces += ids[last:at], expansions[-1 - ids[at]]
            last = at + 1
        pieces.append(ids[last:])
        return np.concatenate(pieces)

    def _learn(self, tokens: list[str]) -> None:
        """Give each new token its id: a token of letters is one word (tests/test_topic_tokens.py);
        any other is read by the word expression (topic.py `_segments`: a match never spans
        whitespace, so reading a segment's tokens one by one finds its words), and is one word
        when that finds it whole (a word found is always found whole again: tests/
        test_counted_terms.py)."""
        known, words_of, words = self._id, self._words_of, []
        for token in tokens:
            if token.isalpha():
                words.append(token)
                continue
            found = words_of(token)
            if found == [token]:
                words.append(token)
                continue
            self._tokens.append(token)
            if not found:
                known[token] = _NO_WORDS
                continue
            self._add_words(list(filterfalse(known.__contains__, dict.fromkeys(found))))
            known[token] = -1 - len(self._expansions)
            self._expansions.append(np.fromiter(map(known.__getitem__, found), np.intp, len(found)))
        self._add_words(list(filterfalse(known.__contains__, words)))  # (one may have been found in a token before)

    def _add_words(self, new: list[str]) -> None:
        start, end = len(self._words), len(self._words) + len(new)
        if end > len(self._stop):
            size = max(end, 2 * len(self._stop))
            self._stop = np.concatenate([self._stop[:start], np.ones(size - start, bool)])
            self._word_row = np.concatenate([self._word_row[:start], np.full(size - start, -1, np.intp)])
        stops = self._stopwords
        self._stop[start:end] = [word in stops for word in new]
        self._id.update(zip(new, range(start, end)))
        self._words += new

    def _word_rows(self, ids: np.ndarray, stop: np.ndarray) -> np.ndarray:
        """Each word's row, -1 for a stop word or a mark, learning the rows of words not asked before."""
        rows = self._word_row[ids]
        lacking = (rows < 0) & ~stop
        if lacking.any():
            new = np.unique(ids[lacking])
            self._word_row[new] = self._rows.rows(np.asarray(self._words, object)[new].tolist())
            rows = self._word_row[ids]
        return rows

    def _pair_rows(self, keys: np.ndarray) -> np.ndarray:
        """The row of each pair of word ids (`first << _SHIFT | second`), learning the pairs met for
        the first time (their strings: "first second")."""
        rows = self._pair.get(keys)
        missing = rows < 0
        if missing.any():
            new, words, low = np.unique(keys[missing]), self._words, (1 << _SHIFT) - 1
            self._pair.put(new, self._rows.rows([f"{words[key >> _SHIFT]} {words[key & low]}" for key in new.tolist()]))
            rows[missing] = self._pair.get(keys[missing])
        return rows
