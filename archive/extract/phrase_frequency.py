"""wordfreq's Zipf frequency of a syllable ("lào") or two-syllable term ("hợp tác"), from the
syllables' look-ups, each syllable tokenized once.

`wordfreq.zipf_frequency` runs its tokenizer (a Unicode word-break expression over graphemes,
~8 µs) on every new term, and a crawl keeps meeting new bigrams (names, numbers, teaser
headlines): ~70 a page in `bench.worker_profile`'s first 40 pages. For a run of letters and
digits, the frequency is wordfreq's combination of the run's tokens; for a phrase of two such
runs joined by one space, wordfreq's tokens are the first run's tokens followed
by the second's: its preprocessing (NFC, case folding) and tokenizing act on each side of an
ASCII space alone (a space composes with nothing, folds to itself, starts no token, and is a
word break between two alphanumeric characters). So the phrase's frequency is wordfreq's
combination (1/f = 1/f₁ + 1/f₂ + ..., in token order, then its rounding) of the two syllables'
token reciprocals, each syllable tokenized once. The combination below is `wordfreq.
_word_frequency`'s and `zipf_frequency`'s own arithmetic, step for step, for the version it
was written against and tested on (`CHECKED_VERSION`); any other version, or any other term, asks wordfreq itself.
Tested against `zipf_frequency` on every term of the fixture and bench pages and on random
phrases (tests/test_phrase_frequency.py). No Scrapy here.
"""
from __future__ import annotations

import math
from importlib.metadata import version
from itertools import repeat

import numpy as np

import wordfreq
from wordfreq import zipf_frequency
from wordfreq.numbers import digit_freq, smash_numbers
from wordfreq.tokens import lossy_tokenize

from archive.extract.bounded_memo import BoundedMemo
from archive.extract.decimal_round import rounded, rounded_all

__all__ = ["vietnamese_zipf", "vietnamese_zipfs"]

LANG = "vi"
CHECKED_VERSION = "3.1.1"  # the wordfreq whose `_word_frequency` arithmetic the combination repeats
_APPLIES = version("wordfreq") == CHECKED_VERSION and wordfreq.get_language_info(LANG)["tokenizer"] == "regex"
_MINIMUM = wordfreq.zipf_to_freq(0.0)  # `zipf_frequency`'s default minimum, as a frequency


class _SyllableMemo(BoundedMemo):
    """A syllable's tokens' reciprocal frequencies (1.0 / f, as wordfreq computes each), or None when
    one of its tokens is not in the wordlist (`_lookup`). Emptied when full: a bounded memory over
    a crawl; a longer run (a hostile page's) is looked up, not kept."""

    LIMIT, MAX_CHARS = 50_000, 64


def vietnamese_zipf(term: str) -> float:
    """`zipf_frequency(term, "vi")`, the same float: from the syllables' cached token look-ups when
    `term` is one alphanumeric run or two joined by one space, from wordfreq otherwise."""
    first, space, second = term.partition(" ")
    if not (_APPLIES and first.isalnum() and (second.isalnum() or not space)):
        return zipf_frequency(term, LANG)
    first_reciprocals = _reciprocals(first)
    second_reciprocals = _reciprocals(second) if space else ()
    if first_reciprocals is None or second_reciprocals is None:  # a token off the wordlist
        return _zipf(_MINIMUM)
    one_over_result = 0.0
    for reciprocal in first_reciprocals + second_reciprocals:
        one_over_result += reciprocal
    if not one_over_result:  # no token at all
        return _zipf(_MINIMUM)
    return _zipf(_rounded(max(1.0 / one_over_result, _MINIMUM)))


def vietnamese_zipfs(terms: list[str]) -> list[float]:
    """`vietnamese_zipf` of each term, the same floats: those of one or two syllables of one
    wordlist token each (most new terms a page brings) computed together, as arrays (1/f₁ + 1/f₂,
    its reciprocal, the roundings, `math.log` itself through `map`: each step the float the
    one-term path makes), any other one by one."""
    zipfs: list[float | None] = [None] * len(terms)
    together, firsts, seconds = [], [], []
    reciprocals = _reciprocals
    for at, term in enumerate(terms):
        first, space, second = term.partition(" ")
        if _APPLIES and first.isalnum() and (second.isalnum() or not space):
            one, other = reciprocals(first), reciprocals(second) if space else (0.0,)
            if one is not None and other is not None and len(one) == 1 and len(other) == 1:
                together.append(at)
                firsts += one
                seconds += other  # (a single syllable: 1/f₁ + 0.0, the same float as 1/f₁)
                continue
        zipfs[at] = vietnamese_zipf(term)
    if together:
        freqs = np.maximum(1.0 / (np.array(firsts) + np.array(seconds)), _MINIMUM)
        leading_zeroes = np.floor(-_logs(freqs))
        freqs = np.array(rounded_all(freqs, leading_zeroes.astype(np.intp) + 3))
        for at, zipf in zip(together, rounded_all(_logs(freqs) + 9, 2)):
            zipfs[at] = zipf
    return zipfs


def _logs(values: np.ndarray) -> np.ndarray:
    """`math.log(v, 10)` of each value (wordfreq's; numpy's log may differ in the last bit)."""
    return np.fromiter(map(math.log, values.tolist(), repeat(10)), float, len(values))


def _lookup(syllable: str) -> tuple[float, ...] | None:
    """1.0 / frequency of each of the syllable's wordfreq tokens, as `_word_frequency` computes it."""
    freqs = wordfreq.get_frequency_dict(LANG, "best")
    found: tuple[float, ...] = ()
    for token in lossy_tokenize(syllable, LANG):
        smashed = smash_numbers(token)
        if smashed not in freqs:
            return None
        freq = freqs[smashed]
        if smashed != token:
            freq *= digit_freq(token)
        found += (1.0 / freq,)
    return found


_SYLLABLES = _SyllableMemo(_lookup)
_reciprocals = _SYLLABLES.__getitem__


def _rounded(unrounded: float) -> float:
    """wordfreq's rounding of a frequency to 3 significant digits (`_word_frequency`)."""
    leading_zeroes = math.floor(-math.log(unrounded, 10))
    return rounded(unrounded, leading_zeroes + 3)


def _zipf(freq: float) -> float:
    """`zipf_frequency`'s last step: the frequency on the Zipf scale, to the hundredth."""
    return rounded(wordfreq.freq_to_zipf(freq), 2)
