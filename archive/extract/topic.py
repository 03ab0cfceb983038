"""Topic relatedness: how close a Vietnamese text is to the topic of the seed corpus.

A `TopicProfile` is a weighted vector of Vietnamese syllable unigrams and
bigrams (lowercase, NFC) built from example texts, by default the seed corpus.
Nothing about the topic is hard-coded: a term weighs more the more of the
examples use it, the more often, and the rarer it is in general Vietnamese
(wordfreq's Zipf frequency stands in for a background corpus's IDF). For the
shipped seeds the top terms are "lào", "việt nam", "đảng", "hợp tác",
"nam lào" ... Only function words ("và", "của", "là" ...) are listed, as a
generic stoplist.

`score(text)` is the cosine between the text's vector and the profile, in
[0, 1]. With the shipped seeds: on-topic fixture articles score 0.21–0.35,
off-topic ones 0.02–0.08; in the generated benchmark web on-topic articles
0.20–0.32, Vietnam-and-another-country diplomacy 0.12–0.17, other news
< 0.06; headlines on the topic mostly 0.1–0.5. `is_on_topic` applies the
profile's threshold.

Profiles come from a seed-format directory (`from_seed_dir`), from a file of
keywords (one per line) or example texts (blank-line separated)
(`from_file`), or from any strings (`from_texts`).
`load_topic("none" | "auto" | PATH, seeds_dir)` is what the crawler calls.
This module never imports Scrapy.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain, repeat
from pathlib import Path
from typing import Iterable

import numpy as np

from archive.extract.counted_terms import TermCounter
from archive.extract.decimal_round import rounded, rounded_all
from archive.extract.measured_memo import MeasuredMemo
from archive.extract.phrase_frequency import vietnamese_zipf, vietnamese_zipfs
from archive.extract.term_rows import UTF8, TermRows

__all__ = [
    "TopicProfile",
    "TopicError",
    "load_topic",
    "tokens",
    "terms",
    "DEFAULT_THRESHOLD",
    "DEFAULT_ANCHOR_THRESHOLD",
    "LISTING_THRESHOLD",
    "specificity",
    "enough_text",
    "MeasuredText",
    "HEAVIEST_TERMS",
]

# Calibrated on the fixture pages and testbed/topic_site.py (see docs/topic-rules.md).
DEFAULT_THRESHOLD = 0.18  # article text
DEFAULT_ANCHOR_THRESHOLD = 0.12  # a link's anchor text / title attribute
MIN_TOKENS_TO_JUDGE = 25
LISTING_THRESHOLD = 0.4  # a listing whose title is mostly topic words is a topic/tag page
MAX_TERMS = 200
# A judged page's terms a crawl remembers (crawler/judged_pages.py), heaviest first: all of a page
# text's vector the crawl uses, so all a page text measured in a worker carries back.
HEAVIEST_TERMS = 80
SHARPEN = 2  # shorter page texts are left to the extractor's verdict

_WORD = re.compile(r"[^\W\d_]+(?:\d+)?|\d+[^\W\d_]+", re.UNICODE)
# Bigrams may cross a hyphen ("Việt Nam - Lào") but not sentence or clause punctuation.
SEGMENT_BREAKS = ".,;:!?()[]{}\"“”‘’«»…|/\n\r\t"
_SEGMENT_BREAK = re.compile(f"[{re.escape(SEGMENT_BREAKS)}]+")

# Generic Vietnamese function syllables (not topic words): they carry no topic signal.
STOPWORDS = frozenset("""
và của là các có được trong cho với những một này đã đang sẽ để không từ khi theo tại về
đến ra như thì mà cũng nhiều rất vào trên lại nên do bị hay hoặc sau đó vì nhưng còn cùng
đây ở ông bà anh chị em tôi chúng ta họ nó gì nào ai đâu sao thế vậy nữa đều mỗi từng
làm năm ngày tháng giờ lúc qua hơn nhất đi lên xuống bằng giữa trước tới nhằm cần phải
việc điều này kia ấy đó thêm vẫn chỉ chưa đã rồi luôn nay hiện cả tất hết
""".split())


class TopicError(ValueError):
    """A topic source that cannot be read or holds no usable text."""


def tokens(text: str) -> list[list[str]]:
    """Lowercase NFC syllables, grouped in segments that bigrams may not cross."""
    return _segments(unicodedata.normalize("NFC", text or "").lower())


def _segments(lowered: str) -> list[list[str]]:
    """`tokens` of text already NFC-normalised and lower-cased. A segment whose whitespace-separated
    tokens are all letters (most clauses of running text) is split on whitespace, in C: each such
    token is exactly one `_WORD` match (str.isalpha implies a word character that is no digit or
    underscore, str.isspace a non-word one: tests/test_topic_tokens.py); any other segment
    (digits, hyphens, marks, symbols) is read by `_WORD` itself."""
    found = []
    isalpha, words_of = str.isalpha, _WORD.findall
    for segment in _SEGMENT_BREAK.split(lowered):
        words = segment.split()
        if not all(map(isalpha, words)):
            words = words_of(segment)
        if words:
            found.append(words)
    return found


def terms(text: str) -> Counter:
    """Unigram and bigram counts of a text, function words left out."""
    return Counter(_term_counts(tokens(text)))


def _term_counts(segments: list[list[str]]) -> dict[str, int]:
    """`terms` of tokenised text, in the order the terms first occur (a plain dict: a `Counter`'s
    `+= 1` on a new key costs a `__missing__` call, and a page's anchors are ~3,000 terms)."""
    counts: dict[str, int] = {}
    get, stops = counts.get, STOPWORDS
    for segment in segments:
        previous, previous_stop = None, True
        for word in segment:  # (each pair is counted before its second word: their order of occurrence)
            stop = word in stops
            if previous is not None and not (stop and previous_stop):
                pair = f"{previous} {word}"
                counts[pair] = get(pair, 0) + 1
            if not stop:
                counts[word] = get(word, 0) + 1
            previous, previous_stop = word, stop
    return counts


@dataclass(frozen=True)
class TopicProfile:
    """A weighted term vector of a topic, with the idf the texts are weighed by."""

    weights: dict[str, float]  # unit-length profile vector
    threshold: float = DEFAULT_THRESHOLD
    anchor_threshold: float = DEFAULT_ANCHOR_THRESHOLD
    source: str = ""

    # ------------------------------------------------------------ building
    @classmethod
    def from_texts(cls, texts: Iterable[str], *, max_terms: int = MAX_TERMS, source: str = "",
                   threshold: float = DEFAULT_THRESHOLD,
                   anchor_threshold: float = DEFAULT_ANCHOR_THRESHOLD) -> "TopicProfile":
        """A profile from example texts (each string is one document).

        Term weight = (share of documents that use the term)² × its count ×
        its specificity in general Vietnamese, all squared (SHARPEN) so the few
        terms that run through every example and are rare elsewhere ("lào",
        "nam lào") dominate words every news text has ("việt nam", "hợp tác").
        A name that one example mentions often stays light.
        """
        docs = [terms(text) for text in texts]
        docs = [d for d in docs if d]
        if not docs:
            raise TopicError(f"no usable text in the topic source {source or '(texts)'}")
        df: Counter = Counter()
        total: Counter = Counter()
        for doc in docs:
            df.update(doc.keys())
            total.update(doc)
        n = len(docs)
        raw = {t: ((df[t] / n) ** 2 * c * specificity(t)) ** SHARPEN for t, c in total.items()}
        top = dict(sorted(raw.items(), key=lambda kv: (-kv[1], kv[0]))[:max_terms])
        return cls(_unit(top), threshold, anchor_threshold, source)

    @classmethod
    def from_seed_dir(cls, directory: str | Path, **kwargs) -> "TopicProfile":
        """A profile from the `.txt` files of a seed-format directory."""
        from archive.corpus.seeds import read_seed_file, seed_files

        texts = [read_seed_file(p).text for p in seed_files(directory)]
        return cls.from_texts(texts, source=str(directory), **kwargs)

    @classmethod
    def from_file(cls, path: str | Path, **kwargs) -> "TopicProfile":
        """Keywords one per line, or example texts separated by blank lines; a directory is a seed dir."""
        path = Path(path)
        if path.is_dir():
            return cls.from_seed_dir(path, **kwargs)
        try:
            text = unicodedata.normalize("NFC", path.read_text("utf-8", errors="replace"))
        except OSError as exc:
            raise TopicError(f"cannot read topic file {path}: {exc}") from exc
        lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
        examples = [block for block in re.split(r"\n\s*\n", "\n".join(lines)) if block.strip()]
        return cls.from_texts(examples, source=str(path), **kwargs)

    # ------------------------------------------------------------ scoring
    def vector(self, text: str) -> dict[str, float]:
        if isinstance(text, MeasuredText) and text.topic_key == self.key and text.vector is not None:
            return text.vector
        return _vector(terms(text))

    def heaviest_terms(self, text: str, n: int = HEAVIEST_TERMS) -> list[str]:
        """The text's `n` heaviest terms, heaviest first; a stable sort, so terms of equal weight
        keep the order they first occur in."""
        if isinstance(text, MeasuredText) and text.topic_key == self.key and text.heaviest is not None:
            carried, cut = text.heaviest
            if n <= cut or len(carried) < cut:  # the carried terms are all the text's top n
                return list(carried[:n])
        return _heaviest(self.vector(text), n)

    def score(self, text: str) -> float:
        """Cosine similarity of the text to the topic, 0 (unrelated) … 1."""
        if isinstance(text, MeasuredText) and text.topic_key == self.key:
            return text.score
        return self._cosine(self.vector(text))

    def _cosine(self, vec: dict[str, float]) -> float:
        weight = self.weights.get
        return round(sum([w * weight(t, 0.0) for t, w in vec.items()]), 4)

    def measure(self, text: str, heaviest: int | None = None) -> "MeasuredText":
        """`text` with its vector, score and `enough_text` verdict against this profile, computed
        now: where the text is read (an extraction worker), so the crawl's event loop only
        looks them up when it calls `score`, `vector` or `enough_text` on it. The text is
        tokenised once for all three (a generic page's 140 anchors are measured in its worker;
        with `heaviest`, its terms are counted as arrays: archive/extract/counted_terms.py).
        `heaviest`: carry the vector's `heaviest` heaviest terms (`heaviest_terms`) instead of
        the vector: a page text's ~1,400-term vector was most of what a worker sent back, and
        the crawl only keeps its top terms; `vector` of such a text is computed again."""
        lowered = unicodedata.normalize("NFC", text or "").lower()
        if heaviest is not None and _SUM_IS_SEQUENTIAL:
            counted = _COUNTER.count(lowered)
            if counted is not None:  # the vector's values, score and top terms, without the dict
                return self._measured_heaviest(text, counted.rows, counted.counts,
                                               int(counted.words[0]) >= MIN_TOKENS_TO_JUDGE, heaviest)
        segments = _segments(lowered)
        counts = _term_counts(segments)
        enough = _enough(segments)
        if heaviest is None:
            vec = _vector(counts)
            return MeasuredText(text, self.key, vec, self._cosine(vec), enough)
        if _SUM_IS_SEQUENTIAL:
            rows = _TERM_ROWS.rows(list(counts))
            many = np.fromiter(counts.values(), np.intp, len(counts))
            return self._measured_heaviest(text, rows, many, enough, heaviest)
        vec = _vector(counts)
        top = tuple(_heaviest(vec, heaviest))
        return MeasuredText(text, self.key, None, self._cosine(vec), enough, (top, heaviest))

    def _measured_heaviest(self, text: str, rows: np.ndarray, many: np.ndarray, enough: bool,
                           heaviest: int) -> "MeasuredText":
        """`measure(text, heaviest)` from the text's terms' rows (`_TERM_ROWS`) in the order they
        first occur and their counts: the vector's values as arrays, its sums added in order."""
        if not len(rows):
            return MeasuredText(text, self.key, None, 0, enough, ((), heaviest))
        unit = _weights(rows, many)
        unit /= math.sqrt(np.cumsum(unit * unit)[-1])
        score = float(np.cumsum(unit * self._profile_weights(rows))[-1])
        top = tuple(_TERM_ROWS.strings(rows[_heaviest_at(unit, heaviest)]))
        return MeasuredText(text, self.key, None, rounded(score, 4), enough, (top, heaviest))

    def measure_all(self, texts: Iterable[str]) -> list["MeasuredText"]:
        """`measure` of each text, in order, as one batch: a generic page's ~140 anchors were 140
        calls, each paying for its own normalisation, lower-casing and lookups. The texts are
        normalised and lower-cased together (NFC and `lower` never act across the NUL joining
        them: it is a starter no mark composes with, neither cased nor case-ignorable), their
        terms counted together (archive/extract/counted_terms.py), then each is measured exactly
        as `measure` does (same terms in the same order, same arithmetic): the weights, norms and
        scores of all the texts are computed as arrays (`_batch_vectors`), each text's sums
        still added left to right. A text measured in an earlier batch is not
        measured again (`_anchor_memo`: a site's menus and teasers come back on every page)."""
        texts = list(texts)
        memo = _anchor_memo(self.key)
        known = memo.known(texts)
        new = [text for text, measured in zip(texts, known) if measured is None]
        if not new:
            return known
        measured = self._measure_batch(new)
        memo.keep(new, measured)
        if len(new) == len(texts):
            return measured
        fresh = iter(measured)
        return [next(fresh) if kept is None else kept for kept in known]

    def _measure_batch(self, texts: list[str]) -> list["MeasuredText"]:
        """`measure_all` of texts not remembered."""
        joined = "\0".join(texts)
        if joined.count("\0") != len(texts) - 1:  # a text holds a NUL itself: one at a time
            return [self.measure(text) for text in texts]
        lowered = unicodedata.normalize("NFC", joined).lower() if texts else ""
        counted = _COUNTER.count(lowered, len(texts)) if _SUM_IS_SEQUENTIAL and texts else None
        if counted is not None:
            batch = _batch_vectors(counted.rows, counted.counts, counted.lengths, self._profile_weights)
            if batch is not None:
                key = self.key
                return list(map(MeasuredText, texts, repeat(key), *batch,
                                (counted.words >= MIN_TOKENS_TO_JUDGE).tolist()))
        segments = list(map(_segments, lowered.split("\0") if texts else []))
        counts = list(map(_term_counts, segments))
        batch = _batch_vectors(*_counted_rows(counts), self._profile_weights) if _SUM_IS_SEQUENTIAL else None
        if batch is None:
            shared: dict[str, str] = {}  # one string object a term for all the texts' vectors
            vectors = [_vector(c, shared.setdefault) for c in counts]
            scores = list(map(self._cosine, vectors))
        else:
            vectors, scores = batch
        key = self.key
        return [MeasuredText(text, key, vec, score, _enough(segs))
                for text, vec, score, segs in zip(texts, vectors, scores, segments)]

    def _profile_weights(self, rows: np.ndarray) -> np.ndarray:
        """The profile's weight of each row's term (`_TERM_ROWS`; 0.0 off the profile), as an array."""
        return _TERM_ROWS.profile_weights(self.weights, self.key, rows)

    @cached_property
    def key(self) -> str:
        """Identifies the weights (not the thresholds): a measurement is valid for any profile
        with the same key, in any process."""
        return hashlib.sha1(repr(sorted(self.weights.items())).encode()).hexdigest()

    def is_on_topic(self, text: str) -> bool:
        return self.score(text) >= self.threshold

    def top_terms(self, n: int = 20) -> list[tuple[str, float]]:
        return sorted(self.weights.items(), key=lambda kv: -kv[1])[:n]


_new_str = str.__new__


class MeasuredText(str):
    """A text that carries its measurements against one topic profile (`TopicProfile.measure`).

    It is the text itself (a `str`), so every caller of `score`, `vector` and `enough_text`
    works unchanged; the profile with the same `key` returns the carried values, which are
    exactly what it would compute (the same code ran on the same text, in a worker).
    `vector` is None when only the heaviest terms were kept: `heaviest` is then `(terms, n)`,
    the vector's `n` heaviest terms, heaviest first.

    `vector` may be given packed (`PackedVector`: `measure_all`'s anchors): it is then made a
    dict the first time it is read, and pickled packed until then. A crawl reads the vectors of
    ~2 % of a generic page's ~133 anchors (a link's first sighting, the few links not requested
    yet); unpickling the other dicts was most of the crawl's cost of a worker's answer."""

    def __new__(cls, text: str, topic_key: str, vector: "dict[str, float] | PackedVector | None", score: float,
                enough: bool, heaviest: tuple[tuple[str, ...], int] | None = None):
        self = _new_str(cls, text)
        state = self.__dict__  # (stores into it directly: a generic page's answer rebuilds ~133)
        state["topic_key"], state["score"], state["enough"], state["heaviest"] = topic_key, score, enough, heaviest
        state["_packed" if type(vector) is tuple else "vector"] = vector  # (a tuple: a `PackedVector`)
        return self

    def __getattr__(self, name: str):
        """`vector` given packed, made a dict on its first reading (then an attribute like any)."""
        packed = self.__dict__.get("_packed") if name == "vector" else None
        if packed is None:
            raise AttributeError(name)
        vector = self.vector = _unpacked(packed)
        return vector

    def carried_vector(self) -> "dict[str, float] | PackedVector | None":
        """The vector as it was given: packed while it is, so pickling does not unpack it."""
        packed = self.__dict__.get("_packed")
        return self.vector if packed is None else packed

    def __reduce__(self):
        return MeasuredText, (str(self), self.topic_key, self.carried_vector(), self.score, self.enough, self.heaviest)


# A vector as `measure_all` packs it (`MeasuredText`): its terms joined by newlines (a term never
# holds one: `_segments` splits on them and on all whitespace), UTF-8 encoded, and its weights as
# little-endian doubles. Two bytes objects to pickle and unpickle (a copy each) instead of a dict of
# a string and a float a term; a plain tuple, so unpickling it calls no Python code. `_unpacked`
# gives the dict back: the same terms in the same order, the same floats to the bit.
PackedVector = tuple[bytes, bytes]


def _unpacked(packed: PackedVector) -> dict[str, float]:
    terms, weights = packed
    return dict(zip(terms.decode(*UTF8).split("\n"), np.frombuffer(weights, "<f8").tolist()))


@lru_cache(maxsize=200_000)
def specificity(term: str) -> float:
    """How rare a term is in general Vietnamese: 7.5 − its Zipf frequency (wordfreq), at least 0.2.

    "và" 0.3, "việt" 1.3, "lào" 2.6, an unknown name 7.5. Bigrams use wordfreq's phrase estimate
    (archive/extract/phrase_frequency.py: the same float, from the syllables' look-ups).
    """
    return max(0.2, 7.5 - vietnamese_zipf(term))


def specificities(terms: list[str]) -> list[float]:
    """`specificity` of each term, the same floats, computed together (archive/extract/
    phrase_frequency.py `vietnamese_zipfs`): a page brings tens of terms met for the first time."""
    return np.maximum(0.2, 7.5 - np.array(vietnamese_zipfs(terms), float)).tolist()


def _unit(weights: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum([w * w for w in weights.values()]))
    return {t: w / norm for t, w in weights.items()} if norm else {}


def _heaviest_at(weights: np.ndarray, n: int) -> np.ndarray:
    """Where the `n` heaviest of `weights` are, heaviest first, equal weights in their order (the
    first `n` of a stable sort by descending weight, `_heaviest`'s order): only the weights at
    least the nth heaviest are sorted (a page text's ~1,300 terms, 80 kept)."""
    if len(weights) <= 2 * n:
        return np.argsort(-weights, kind="stable")[:n]
    nth = np.partition(weights, len(weights) - n)[len(weights) - n]
    candidates = np.flatnonzero(weights >= nth)  # (at least n; in their order, as the sort keeps ties)
    return candidates[np.argsort(-weights[candidates], kind="stable")[:n]]


def _heaviest(vector: dict[str, float], n: int) -> list[str]:
    """The vector's `n` heaviest terms, heaviest first; stable, so equal weights keep their order.
    One sort for a worker's carried terms and the crawl's own, so both give the same list."""
    return sorted(vector, key=vector.__getitem__, reverse=True)[:n]


def _vector(counts: dict[str, int], share=None) -> dict[str, float]:
    """A text's unit vector from its term counts: log-scaled counts weighed by specificity.
    `share(term, term)`: the one object to key each term by (`measure_all`: a page's anchors
    share their terms' strings, so pickling them for the crawl writes each term once and
    refers to it after, and unpickling makes one string a term: ~1 ms a generic page less
    on the two sides together; the same keys, order and values)."""
    known = _KNOWN_SPECIFICITY
    log = math.log  # a count of 1 weighs 1 + log(1) = 1.0: the specificity itself, exactly
    try:  # (asking first whether every term is known was a pass over the terms, ~0.7 ms a generic page)
        if share is None:
            return _unit({t: known[t] if c == 1 else (1 + log(c)) * known[t] for t, c in counts.items()})
        return _unit({share(t, t): known[t] if c == 1 else (1 + log(c)) * known[t] for t, c in counts.items()})
    except KeyError:  # a term met for the first time: all of them learnt, then the same again
        _learn_specificities(counts)
        return _vector(counts, share)


# Whether `sum` of floats adds them left to right in doubles, as CPython before 3.12 does (3.12
# compensates). The array paths (`measure` with `heaviest`, `measure_all`) add each text's
# products left to right (`np.cumsum`): the same floats as `_vector` and `_cosine` only then.
_SUM_IS_SEQUENTIAL = sum([1.0, 2.0 ** -53, 2.0 ** -53]) == 1.0


def _counted_rows(counts: list[dict[str, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows (`_TERM_ROWS`) of the terms of `counts`, text after text, their counts and how many
    terms each text has: what archive/extract/counted_terms.py gives, from `_term_counts`'s dicts."""
    rows = _TERM_ROWS.rows(list(chain.from_iterable(counts)))
    many = np.fromiter(chain.from_iterable(map(dict.values, counts)), np.intp, len(rows))
    return rows, many, np.fromiter(map(len, counts), np.intp, len(counts))


def _weights(rows: np.ndarray, many: np.ndarray) -> np.ndarray:
    """`_vector`'s weights before the norm, of the terms of `rows` (`_TERM_ROWS`) counted `many`
    times in their texts, as an array: the specificity, times 1 + log(count) for a term met
    more than once in its text (`math.log`, as `_vector`: numpy's log may differ in the last bit)."""
    weights = _TERM_ROWS.specificities(rows)
    again = np.flatnonzero(many != 1)
    if len(again):
        counts = many[again]
        if counts.max() < len(_ONE_PLUS_LOG):
            weights[again] *= _ONE_PLUS_LOG[counts]
        else:
            weights[again] *= np.fromiter([1 + math.log(c) for c in counts.tolist()], float, len(again))
    return weights


# 1 + math.log(count) of the counts a text's terms mostly have (a page text repeats ~300 of its terms)
_ONE_PLUS_LOG = np.array([0.0] + [1 + math.log(count) for count in range(1, 4096)])


_GRID_SLACK = 4  # `_batch_vectors` pads each text's terms to the longest's: at most ~4x the cells


def _batch_vectors(rows: np.ndarray, many: np.ndarray, lengths: np.ndarray, profile_weights
                   ) -> tuple[list["PackedVector | dict[str, float]"], list[float]] | None:
    """`_vector` and the profile's `_cosine` of each text's term counts (its terms' rows, text after
    text, in the order they first occur, their counts `many`, and each text's number of terms,
    `lengths`), computed as arrays for all the texts at once (a page's ~140 anchors, ~2,600 terms), each vector packed (`PackedVector`:
    its terms' strings joined, its floats' bytes; an empty one a dict): the same floats, each
    text's squares and products added left to right as `sum` adds them, in one row of a
    zero-padded grid (`np.cumsum` adds in order; + 0.0 changes no sum). None where that does
    not apply: `sum` is not sequential here, or one long text among short ones would make the
    grid far larger than the terms (a hostile page's one huge link): `_vector` and `_cosine` then."""
    texts = len(lengths)
    total = int(lengths.sum())
    width = int(lengths.max()) if texts else 0
    if not _SUM_IS_SEQUENTIAL or texts * width > _GRID_SLACK * total + 1024:
        return None
    weights = _weights(rows, many)
    filled = np.arange(width) < lengths[:, None]

    def row_sums(values: np.ndarray) -> np.ndarray:
        grid = np.zeros((texts, width))
        grid[filled] = values
        return np.cumsum(grid, axis=1)[:, -1] if width else np.zeros(texts)

    units = weights / np.repeat(np.sqrt(row_sums(weights * weights)), lengths)
    scores = row_sums(units * profile_weights(rows))
    terms = _TERM_ROWS.packed_runs(rows, lengths[lengths > 0])
    values = units.astype("<f8", copy=False).tobytes()
    ends = 8 * np.cumsum(lengths)
    floats = map(values.__getitem__, map(slice, (ends - 8 * lengths).tolist(), ends.tolist()))
    scores = rounded_all(scores, 4)
    if len(terms) == texts:  # (no text without terms)
        return list(zip(terms, floats)), scores
    terms, sizes = iter(terms), lengths.tolist()
    vectors = [(next(terms), packed) if n else {} for n, packed in zip(sizes, floats)]
    return vectors, [score if n else 0 for score, n in zip(scores, sizes)]


# `specificity` of the terms met so far, as a plain dict: a page text has ~1,400 terms, and an
# `lru_cache` lookup is a call each (half of `_vector`'s time). Emptied when it grows past the
# size `specificity`'s own cache keeps.
_KNOWN_SPECIFICITY: dict[str, float] = {}
_KNOWN_MAX = 200_000


# The terms the array paths measure, one row each (archive/extract/term_rows.py), and their counter.
_TERM_ROWS = TermRows(specificities)
_COUNTER = TermCounter(_TERM_ROWS, STOPWORDS, SEGMENT_BREAKS, _WORD)


_ANCHOR_MEMOS: dict[str, MeasuredMemo] = {}  # a profile's key: its anchors measured on earlier pages
_ANCHOR_MEMO_PROFILES = 8  # (a worker is sent one or two profiles; more is a test's or a hostile caller's)


def _anchor_memo(key: str) -> MeasuredMemo:
    """The bounded memory of texts `measure_all` measured against the profile `key` names
    (archive/extract/measured_memo.py), emptied with the term rows their vectors' strings are."""
    memo = _ANCHOR_MEMOS.get(key)
    if memo is None:
        if len(_ANCHOR_MEMOS) >= _ANCHOR_MEMO_PROFILES:
            _ANCHOR_MEMOS.clear()
        memo = _ANCHOR_MEMOS[key] = MeasuredMemo(lambda: _TERM_ROWS.generation)
    return memo


def _learn_specificities(terms: dict[str, int]) -> None:
    """Make `_KNOWN_SPECIFICITY` hold every one of `terms`."""
    known = _KNOWN_SPECIFICITY
    missing = [term for term in terms if term not in known]  # (`keys() - keys()` walks all it knows)
    if missing:
        if len(known) + len(missing) > _KNOWN_MAX:
            known.clear()
            missing = list(terms)
        for term in missing:
            known[term] = specificity(term)


def enough_text(text: str) -> bool:
    """True when a text has enough words for its score to mean something."""
    if isinstance(text, MeasuredText):
        return text.enough
    return _enough(tokens(text))


def _enough(segments: list[list[str]]) -> bool:
    """`enough_text` of tokenised text (`measure` has the tokens already)."""
    return sum(map(len, segments)) >= MIN_TOKENS_TO_JUDGE


def load_topic(spec: str | None, seeds_dir: str | Path | None, **kwargs) -> TopicProfile | None:
    """`none` → None (no topic filter); `auto` → the seed corpus; otherwise a file or directory."""
    spec = (spec or "none").strip()
    if spec == "none":
        return None
    if spec == "auto":
        if seeds_dir in (None, "") or not Path(seeds_dir).is_dir():
            raise TopicError(f"topic=auto needs a seed directory, not {seeds_dir!r}")
        return TopicProfile.from_seed_dir(seeds_dir, **kwargs)
    if not Path(spec).exists():
        raise TopicError(f"topic file does not exist: {spec}")
    return TopicProfile.from_file(spec, **kwargs)
