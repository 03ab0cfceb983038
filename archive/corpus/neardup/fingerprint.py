"""Fingerprints of an article's text for near-duplicate detection: shingles, SimHash, the containment sample.

Computable anywhere (extraction workers compute them beside the page, so the
corpus writer does not): no state, no I/O. Near-duplicate text is found two
ways (archive/corpus/neardup/finder.py): a 64-bit SimHash over 5-word shingles
(Hamming distance <= 3: the same text lightly edited), and *containment* of an
article's shingles in an earlier document, estimated on a 1-in-8 sample of
shingle hashes (chosen by value, so both sides sample alike).
"""
from __future__ import annotations

import hashlib
import math
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

from archive.extract.article import Article, render_seed_text
from archive.extract.bounded_memo import BoundedMemo

__all__ = ["Fingerprint", "fingerprint_article", "shingles", "containment_sample", "simhash", "band_keys",
           "least_count", "article_lines", "file_lines", "read_text", "sha256_hex", "hex64",
           "SIMHASH_BITS", "SIMHASH_MAX_DISTANCE"]

SHINGLE_WORDS = 5
SAMPLE_MODULUS = 8  # keep shingle hashes ≡ 0 (mod 8) for the containment index
SIMHASH_BITS = 64
SIMHASH_MAX_DISTANCE = 3
_SIMHASH_BANDS = SIMHASH_MAX_DISTANCE + 1  # pigeonhole: distance <= 3 leaves one 16-bit band equal
_BAND_BITS = SIMHASH_BITS // _SIMHASH_BANDS
_BAND_MASK = (1 << _BAND_BITS) - 1

_WORD = re.compile(r"\w+")
_SOURCE_LINE = re.compile(r"^(?:Nguồn|Đường dẫn bài viết)\s*:\s*(?:https?://\S*)?\s*$", re.I)
_DATE_ONLY_LINE = re.compile(r"^\d{1,2}:\d{2}\s*\|\s*\d{1,2}/\d{1,2}/\d{4}(?:\s*GMT\+7)?$", re.I)


def read_text(path: Path) -> str:
    return unicodedata.normalize("NFC", path.read_bytes().decode("utf-8", errors="replace"))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hex64(value: int) -> str:
    return f"{value:016x}"


def article_lines(article: Article) -> list[str]:
    """The text an article is compared by: headline, sapo, body (no byline, date or URL)."""
    return [article.title, *([article.lead] if article.lead else []), *article.paragraphs]


def file_lines(text: str) -> list[str]:
    """The comparable lines of a corpus file: everything but blank, date and source-URL lines."""
    return [line for line in (ln.strip() for ln in text.splitlines())
            if line and not _SOURCE_LINE.match(line) and not _DATE_ONLY_LINE.match(line)]


def shingles(lines: Iterable[str]) -> set[int]:
    """64-bit hashes of 5-word shingles, taken within each line (blocks are paragraphs).

    Vietnamese words are mostly several syllables, so five tokens span two
    or three words: long enough to be specific, short enough to survive edits.
    Each word is hashed once (blake2b, stable across runs, cached: the
    vocabulary is small) and a shingle's hash is a polynomial of its words'
    hashes, mixed so every bit is usable by SimHash and the mod-8 sample. A
    line of fewer than 5 words is one shingle of all its words.
    """
    return set(_shingle_array(lines).tolist())


# Why numpy: this runs for every article in the extraction workers, and as
# Python big-int loops it was a quarter of their time per page. numpy does the
# same mod-2^64 arithmetic (uint64 wraps) over a whole article at once, ~4x
# faster, with identical values. The constants are np.uint64 so that nothing is
# promoted to int64/float64 or overflows.
_GRAM_BASE = np.uint64(0x100000001B3)  # FNV-64 prime: odd, so the polynomial keeps word order
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)  # splitmix64
_SHIFT1, _SHIFT2, _SHIFT3 = np.uint64(30), np.uint64(27), np.uint64(31)
_PAD = (0,) * (SHINGLE_WORDS - 1)
_PAD_BYTES = bytes(8 * len(_PAD))  # `_PAD` as native uint64s


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "big")


def _native_word_hash(word: str) -> bytes:
    """`_word_hash` as a native uint64's 8 bytes: a line's hashes are then joined as bytes
    (`_line_words`), where an `array("Q")` of ints converted each int (~190 instructions a word)."""
    return _word_hash(word).to_bytes(8, sys.byteorder)


class _WordHashes(BoundedMemo):
    """`_native_word_hash` of the words met so far (the vocabulary is small): a dict look-up in C a
    word, where `lru_cache` also kept its recency order (~1,600 words an article)."""

    LIMIT = 200_000


_WORD_HASHES = _WordHashes(_native_word_hash)


@lru_cache(maxsize=8192)  # an article's lines come back when its rendered file is fingerprinted
def _line_words(line: str) -> bytes:
    """SHINGLE_WORDS - 1 zeros, then the line's word hashes, as native uint64s (b"" if no words).

    Bytes: immutable in the cache, and an article's lines join by plain copies.
    """
    words = _words(unicodedata.normalize("NFC", line).casefold())
    return _PAD_BYTES + b"".join(map(_WORD_HASHES.__getitem__, words)) if words else b""


def _words(text: str) -> list[str]:
    """`_WORD.findall(text)`, the regex run only on the whitespace tokens that are not all letters
    and digits (a word before a comma, "(TTXVN)"): a match never spans whitespace (no whitespace
    character is a word character) and a token of letters and digits (`str.isalnum`: `\\w` but
    `_`) is one match, so each token gives its own matches, in order. Most of an article's tokens
    are plain syllables; the regex tried a match at every character (~20 % of the dedupe row)."""
    words: list[str] = []
    for token in text.split():
        if token.isalnum():
            words.append(token)
        else:
            words += _WORD.findall(token)
    return words


def _shingle_array(lines: Iterable[str]) -> np.ndarray:
    """The distinct shingle hashes of `lines` (see `shingles`) as a uint64 array.

    Each line's word hashes follow SHINGLE_WORDS - 1 zeros, so one pass over
    all lines computes every window: no window spans two lines, and a short
    line's only window (zeros, then all its words) is the polynomial of its
    words alone. So a line of n words keeps its last max(n - 4, 1) windows.
    """
    words = bytearray()
    runs: list[int] = []  # alternating lengths of dropped and kept windows
    for line in lines:
        padded = _line_words(line)
        if padded:
            words += padded
            length = len(padded) // 8
            kept = max(length - 2 * len(_PAD), 1)
            runs += (length - kept, kept)
    if not words:
        return np.empty(0, dtype=np.uint64)
    h = np.frombuffer(words, dtype=np.uint64)
    width = len(h) - len(_PAD)  # number of windows, by their last word
    grams = h[:width]
    for i in range(1, SHINGLE_WORDS):  # Horner: poly = poly * base + next word
        grams = grams * _GRAM_BASE + h[i:i + width]
    keep = np.repeat(np.resize([False, True], len(runs)), runs)  # by each window's last word
    x = grams[keep[len(_PAD):]]
    x = (x ^ (x >> _SHIFT1)) * _MIX1  # splitmix64 finaliser: spreads the polynomial's bits evenly
    x = (x ^ (x >> _SHIFT2)) * _MIX2
    x = np.sort(x ^ (x >> _SHIFT3))
    return x[np.concatenate(([True], x[1:] != x[:-1]))]  # unique: np.unique is ~5x slower here


def _as_array(shingles: Iterable[int] | np.ndarray) -> np.ndarray:
    if isinstance(shingles, np.ndarray):
        return shingles
    return np.fromiter(shingles, dtype=np.uint64)


@dataclass(frozen=True)
class Fingerprint:
    """What dedupe needs to know of an article: computable anywhere, e.g. in an extraction worker.

    Pickled (a worker's answer), `rendered` travels as the UTF-8 bytes the corpus writes
    (`file_bytes`): the crawl then neither decodes the ~10 KB text on unpickling nor encodes it
    again to write it; `rendered` is decoded only if read. A text that does not encode (a lone
    surrogate from a JSON-LD escape) travels as the text, and `file_bytes` fails as encoding it did."""

    text_sha: str
    sample: frozenset[int]  # containment-index sample of the article's shingles
    simhash: int
    rendered: str  # the seed-format file text
    file_sample: frozenset[int]  # the sample of the rendered file, as a reopened corpus sees it

    def file_bytes(self) -> bytes:
        """The corpus file's bytes: `rendered` as UTF-8 (as received, when it came so)."""
        received = self.__dict__.get("_rendered_utf8")
        return received if received is not None else self.rendered.encode("utf-8")

    def __getattr__(self, name: str):
        """`rendered` of a fingerprint received as bytes (`__reduce__`), decoded on its first reading."""
        received = self.__dict__.get("_rendered_utf8") if name == "rendered" else None
        if received is None:
            raise AttributeError(name)
        rendered = received.decode("utf-8")
        object.__setattr__(self, "rendered", rendered)
        return rendered

    def __reduce__(self):
        try:
            utf8 = self.file_bytes()
        except UnicodeEncodeError:  # (sent as the text: the crawl fails to encode it as before)
            return Fingerprint, (self.text_sha, self.sample, self.simhash, self.rendered, self.file_sample)
        return _received, (self.text_sha, self.sample, self.simhash, utf8, self.file_sample)


def _received(text_sha: str, sample: frozenset[int], simhash: int, rendered_utf8: bytes,
              file_sample: frozenset[int]) -> Fingerprint:
    """A pickled `Fingerprint` whose `rendered` came as UTF-8 (`Fingerprint.__reduce__`)."""
    fingerprint = object.__new__(Fingerprint)
    state = fingerprint.__dict__  # (frozen: its fields are set into it directly)
    state["text_sha"], state["sample"], state["simhash"] = text_sha, sample, simhash
    state["_rendered_utf8"], state["file_sample"] = rendered_utf8, file_sample
    return fingerprint


def fingerprint_article(article: Article) -> Fingerprint:
    lines = article_lines(article)
    hashes = _shingle_array(lines)
    sample = containment_sample(hashes)
    rendered = render_seed_text(article)
    frozen = frozenset(sample)
    return Fingerprint(sha256_hex(article.text), frozen, simhash(hashes), rendered,
                       _one_if_alike(frozenset(_file_sample(file_lines(rendered), lines, sample)), frozen))


def _one_if_alike(file_sample: frozenset[int], sample: frozenset[int]) -> frozenset[int]:
    """`sample` itself when `file_sample` holds the same hashes in the same iteration order (nearly
    every article: its author line adds no sampled shingle), so an answer pickles one set, not two
    equal ones; else `file_sample`. The order is compared too: both are used by iteration, and
    equal sets need not iterate alike."""
    return sample if file_sample == sample and list(file_sample) == list(sample) else file_sample


def _file_sample(rendered_lines: list[str], lines: list[str], sample: set[int]) -> set[int]:
    """`containment_sample(shingles(rendered_lines))`: the rendered file's sample, from the
    article's own (`sample`, of `lines`) when each article line is a line of the file too, as
    it nearly always is (the file adds the author line). A text's shingles are the union of its
    lines' (no window spans two lines), so the file's are the article's and its other lines';
    only those are hashed, not the whole article again. The hashes are added in ascending order,
    as `containment_sample` adds them: the same set, iterated in the same order."""
    known = set(lines)
    if not known <= set(rendered_lines):  # (a line the rendering changed or left out)
        return containment_sample(_shingle_array(rendered_lines))
    other = [line for line in rendered_lines if line not in known]
    return set(sorted(sample | containment_sample(_shingle_array(other)) if other else sample))


def containment_sample(shingles: Iterable[int] | np.ndarray) -> set[int]:
    """The hashes ≡ 0 (mod SAMPLE_MODULUS), as Python ints (they go into SQLite)."""
    hashes = _as_array(shingles)
    return set(hashes[hashes % np.uint64(SAMPLE_MODULUS) == 0].tolist())


def least_count(threshold: float, size: int) -> int:
    """The fewest shared hashes `count` with `count / size >= threshold`, as the finder compares."""
    count = max(math.ceil(threshold * size), 1)
    while count > 1 and (count - 1) / size >= threshold:  # float rounding either way
        count -= 1
    while count <= size and count / size < threshold:
        count += 1
    return count


def band_keys(simhash: int) -> list[int]:
    """The SimHash's bands, each tagged with its band number: one int a key (a tuple took ~3x the memory)."""
    return [band << _BAND_BITS | (simhash >> (band * _BAND_BITS)) & _BAND_MASK for band in range(_SIMHASH_BANDS)]


def simhash(shingles: Iterable[int] | np.ndarray) -> int:
    """Charikar SimHash of the distinct shingle hashes (each one votes on every bit).

    Bit b is set when strictly more than half of the hashes have it set; the
    big-endian bytes unpack to one row of bits per hash, bit 63 in column 0.
    """
    hashes = _as_array(shingles)
    if not hashes.size:
        return 0
    bits = np.unpackbits(hashes.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)
    votes = bits.sum(axis=0, dtype=np.uint32)
    majority = votes > hashes.size // 2  # the same as 2 * votes > n, without overflow
    return int.from_bytes(np.packbits(majority).tobytes(), "big")
