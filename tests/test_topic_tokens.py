"""archive/extract/topic.py's tokeniser and term counts, against their definitions: a segment split
on whitespace when its tokens are all letters, pairs counted as the words go (the same terms in
the same order, so the same vectors and floats)."""
from __future__ import annotations

import random
import re
import sys

from archive.eval_generic import load_pages
from archive.extract.topic import STOPWORDS, _SEGMENT_BREAK, _WORD, _segments, _term_counts, tokens
from testbed.fixture_pages import pages
from tests.test_url_join import FIXTURES


def segments_by_definition(lowered: str) -> list[list[str]]:
    return [found for segment in _SEGMENT_BREAK.split(lowered) if (found := _WORD.findall(segment))]


def counts_by_definition(segments: list[list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for segment in segments:
        stop = [word in STOPWORDS for word in segment]
        for i, word in enumerate(segment):
            if not stop[i]:
                counts[word] = counts.get(word, 0) + 1
            if i < len(segment) - 1 and not (stop[i] and stop[i + 1]):
                pair = f"{word} {segment[i + 1]}"
                counts[pair] = counts.get(pair, 0) + 1
    return counts


def test_a_letter_is_a_word_character_and_whitespace_is_not_for_every_character():
    """Why a whitespace token of letters is one `_WORD` match: str.isalpha implies `[^\\W\\d_]`,
    str.isspace (what str.split splits on) implies `\\W`."""
    letter, non_word = re.compile(r"[^\W\d_]"), re.compile(r"\W")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if char.isalpha():
            assert letter.fullmatch(char), hex(code)
        if char.isspace():
            assert non_word.fullmatch(char), hex(code)


def test_segments_and_term_counts_are_their_definitions():
    pieces = ["lào", "việt", "nam", "và", "của", "là", "2024", "số", "8", "-", " ", "  ", "\n", "\t", "\x1c",
              "\x85", "\xa0", "\u2028", "\u3000", ",", ".", "“", "_", "a_b", "²", "½", "Ⅻ", "e\u0301", "\u0301",
              "ǅ", "x1", "1x", "٣", "漢字", "한국", "ΟΔΟΣ"]
    rnd = random.Random(17)
    texts = ["".join(rnd.choice(pieces) + rnd.choice(["", " "]) for _ in range(rnd.randint(0, 14)))
             for _ in range(20_000)]
    texts += [page.read_text("utf-8", errors="replace")[:20_000] for page in pages()]
    texts += [page.html.decode("utf-8", "replace")[:20_000] for page in load_pages(FIXTURES / "eval-generic")]
    for text in texts:
        lowered = text.lower()
        expected = segments_by_definition(lowered)
        assert _segments(lowered) == expected, text
        assert list(_term_counts(expected).items()) == list(counts_by_definition(expected).items()), text
    assert tokens("Việt Nam - Lào, bài số 8") == [["việt", "nam", "lào"], ["bài", "số"]]
