"""Dedupe hashes stay bit-for-bit what existing corpora stored.

Corpora keep each article's SimHash (hex) in manifest.jsonl and its 1-in-8
shingle sample in the on-disk containment index, so any change to the hashing
in archive/corpus/neardup/fingerprint.py would silently stop new crawls deduping against old ones.
tests/fixtures/fingerprint_golden.json holds the outputs of the original
pure-Python implementation for 200 bench articles, the fixture article pages,
the seed files and edge cases; `_reference_shingles` below is that
implementation, checked against the current one on random text.

Inputs are rebuilt from the repository (bench generator + extractor, fixture
pages, seeds/), and the golden file stores a digest of each: a case whose input
changed (an extractor or seed edit) is skipped, not failed. Regenerate with
`python -m tests.test_fingerprint` only then, never together with a hashing change.
"""
from __future__ import annotations

import hashlib
import json
import random
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from archive.corpus.neardup import fingerprint as fingerprints
from archive.extract.article import Article, extract_article
from archive.corpus.seeds import read_seed_file
from testbed.bench_site import WORDS, article_html, article_url
from archive.sites import profile_for
from testbed.fixture_pages import article_pages, host_of, url_for
from tests.site_hints import HINTS_BY_HOST

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "fingerprint_golden.json"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
BENCH_PAGES = 200
BENCH_IN_FULL = 10  # bench cases whose samples are stored in full; the rest as digests

EDGE_LINES = {
    "empty": [],
    "blank-lines": ["", "   ", "\t"],
    "punctuation-only": ["—, . ; !", "..."],
    "one-word": ["Hà"],
    "one-word-lines": ["Hà", "Nội", "hà", "HÀ"],
    "two-words": ["Việt Nam"],
    "three-words": ["hợp tác hữu"],
    "four-words": ["Việt Nam Lào hợp"],
    "four-word-lines": ["Một hai ba bốn", "năm sáu bảy tám", "MỘT HAI BA BỐN"],
    "five-words": ["Việt Nam Lào hợp tác"],
    "six-words": ["Việt Nam Lào hợp tác hữu"],
    "mixed-lengths": ["Hà Nội", "", "Đoàn kết, hữu nghị đặc biệt Việt Nam – Lào", "năm 2024", "x"],
    "diacritics-mixed-case": ["ĐẢNG Cộng sản Việt Nam ĐOÀN KẾT Quốc Tế",
                              "đảng cộng sản việt nam đoàn kết quốc tế"],
    "nfd": [unicodedata.normalize("NFD", "Việt Nam hợp tác hữu nghị đặc biệt")],
    "digits": ["Ngày 25/1/2025, 1.234 người; 56,7 % GDP 2024 3 4 5 6 7 8 9 0"],
    "digits-short": ["2024", "12 34", "0 0 0 0"],
    "repeated-word": ["la " * 12],
    "repeated-lines": ["một hai ba bốn năm sáu"] * 3,
    "underscore-and-symbols": ["foo_bar baz-qux a_b_c ½ ² x² ⅓ №5"],
    "other-scripts": ["Ελληνικά ΣΊΣΥΦΟΣ Straße STRASSE ﬁne İstanbul ǅemal 中文 测试 ລາວ ສາທາລະນະລັດ"],
    "long-line": [" ".join(f"từ{i % 37}" for i in range(400))],
}
_URL = "https://nhandan.vn/tin-ngan-post{}.html"
EDGE_ARTICLES = {
    "title-only": dict(title="Tin ngắn"),
    "empty": dict(),
    "short": dict(title="Hà Nội mưa", date_line="08:00 | 25/01/2025", lead="Sáng nay",
                  paragraphs=["Mưa to.", "", "ĐƯỜNG NGẬP 2 m", "x"], author="An"),
}


# ---------------------------------------------------------------- inputs
def _digest(values) -> str:
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


def _bench_article(n: int) -> Article:
    url = article_url(n)
    return extract_article(article_html(n, BENCH_PAGES), url, profile_for(url).extraction)


@cache
def _inputs() -> dict[str, Article | list[str]]:
    """Every case by name: an Article (fingerprinted) or a list of lines (shingled)."""
    found: dict[str, Article | list[str]] = {}
    for n in range(BENCH_PAGES):
        found[f"bench-{n}"] = _bench_article(n)
    for page in article_pages():
        url = url_for(page)
        found[f"fixture-{url}"] = extract_article(page.read_bytes(), url, HINTS_BY_HOST[host_of(page)])
    for i, (name, fields) in enumerate(EDGE_ARTICLES.items()):
        found[f"edge-article-{name}"] = Article(url=_URL.format(i), canonical_url=_URL.format(i), **fields)
    for path in sorted(SEEDS.glob("*.txt")):
        found[f"seed-{path.name}"] = fingerprints.file_lines(read_seed_file(path).text)
    for name, lines in EDGE_LINES.items():
        found[f"edge-{name}"] = lines
    return found


def _outputs(value: Article | list[str], *, in_full: bool) -> dict:
    """What the golden file records of one case (inputs by digest, samples in full or by digest)."""
    def sample(key, values):
        values = sorted(values)
        return {key: values} if in_full else {f"{key}_sha256": _digest(values)}

    if isinstance(value, Article):
        fp = fingerprints.fingerprint_article(value)
        shingles = fingerprints.shingles(fingerprints.article_lines(value))
        assert fp.sample == fingerprints.containment_sample(shingles) and fp.simhash == fingerprints.simhash(shingles)
        return {"input_sha256": _digest([fingerprints.article_lines(value), fp.rendered]),
                "shingles_sha256": _digest(sorted(shingles)), "simhash": fingerprints.hex64(fp.simhash),
                **sample("sample", fp.sample), **sample("file_sample", fp.file_sample)}
    shingles = fingerprints.shingles(value)
    return {"input_sha256": _digest(value), "shingles_sha256": _digest(sorted(shingles)),
            "simhash": fingerprints.hex64(fingerprints.simhash(shingles)), **sample("sample", fingerprints.containment_sample(shingles))}


def _in_full(name: str) -> bool:
    return not name.startswith("bench-") or int(name.split("-")[1]) < BENCH_IN_FULL


@cache
def _golden() -> dict[str, dict]:
    return json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}


# ---------------------------------------------------------------- tests
@pytest.mark.parametrize("name", list(_golden()))
def test_hashes_match_the_golden_outputs(name):
    expected = _golden()[name]
    value = _inputs().get(name)
    if value is None:
        pytest.skip(f"{name}: no such input any more")
    actual = _outputs(value, in_full=_in_full(name))
    if actual["input_sha256"] != expected["input_sha256"]:
        pytest.skip(f"{name}: the input changed (extractor or seed edit); regenerate the golden file")
    assert actual == expected


def test_golden_file_covers_the_inputs():
    """Every case of this file is pinned; a seed or fixture page added later needs no entry."""
    assert len(_golden()) >= 240
    assert {name for name in _inputs() if name.startswith("edge-")} <= set(_golden())


def test_outputs_are_plain_python_ints():
    """They go into SQLite and JSON: numpy scalars would not do."""
    fp = fingerprints.fingerprint_article(_bench_article(0))
    assert type(fp.simhash) is int and fp.sample and fp.file_sample
    assert all(type(h) is int for h in fp.sample | fp.file_sample)
    assert isinstance(fp.sample, frozenset) and isinstance(fp.file_sample, frozenset)
    shingles = fingerprints.shingles(["Việt Nam Lào hợp tác hữu nghị"])
    assert isinstance(shingles, set) and all(type(h) is int for h in shingles)
    assert type(fingerprints.simhash(shingles)) is int and type(fingerprints.simhash(set())) is int


# The original implementation, kept as the specification of the shingle hashes.
_M64 = (1 << 64) - 1


def _reference_shingles(lines: list[str]) -> set[int]:
    out = set()
    for line in lines:
        words = fingerprints._WORD.findall(unicodedata.normalize("NFC", line).casefold())
        hashes = [int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "big") for w in words]
        width = min(5, len(hashes))
        for start in range(len(hashes) - width + 1) if hashes else ():
            x = 0
            for h in hashes[start:start + width]:
                x = (x * 0x100000001B3 + h) & _M64
            x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
            x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
            out.add(x ^ (x >> 31))
    return out


def _reference_simhash(shingles: set[int]) -> int:
    return sum(1 << b for b in range(64) if 2 * sum(h >> b & 1 for h in shingles) > len(shingles))


def test_random_text_matches_the_reference_implementation():
    rng = random.Random(7)
    vocabulary = [*WORDS, "ĐẢNG", "Hà", "2024", "x", "1,5", "ΣΊΣΥΦΟΣ", "Straße"]
    for _ in range(200):
        lines = [" ".join(rng.choice(vocabulary) for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 40])))
                 for _ in range(rng.randint(0, 6))]
        shingles = fingerprints.shingles(lines)
        assert shingles == _reference_shingles(lines), lines
        assert fingerprints.simhash(shingles) == _reference_simhash(shingles), lines
        assert fingerprints.containment_sample(shingles) == {h for h in shingles if h % 8 == 0}


def test_word_hashes_are_remembered_within_a_bound(monkeypatch):
    """The word hashes are a bounded memo of blake2b (emptied when full): the same shingles, and
    the memo never past its bound, however many words come."""
    memo = fingerprints._WORD_HASHES
    monkeypatch.setattr(memo, "LIMIT", 5)
    memo.clear()
    fingerprints._line_words.cache_clear()
    rng = random.Random(11)
    vocabulary = [*WORDS, "ĐẢNG", "Hà", "2024", "Straße"]
    for _ in range(50):
        lines = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 12))) for _ in range(3)]
        assert fingerprints.shingles(lines) == _reference_shingles(lines), lines
        assert len(memo) <= 5
    fingerprints._line_words.cache_clear()
    memo.clear()


def test_simhash_votes_are_strict_majorities():
    top, low = 1 << 63, 1
    assert fingerprints.simhash({top | low, top, 0}) == top  # 2 of 3 have bit 63; 1 of 3 has bit 0
    assert fingerprints.simhash({top, low}) == 0  # 1 of 2 is not more than half
    assert fingerprints.simhash({(1 << 64) - 1}) == (1 << 64) - 1


def _regenerate() -> None:
    cases = {name: _outputs(value, in_full=_in_full(name)) for name, value in _inputs().items()}
    lines = ",\n".join(f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}"
                       for k, v in cases.items())
    GOLDEN.write_text("{\n" + lines + "\n}\n", encoding="utf-8")
    print(f"{len(cases)} cases -> {GOLDEN}")


if __name__ == "__main__":
    _regenerate()


def test_the_file_sample_from_the_article_s_own_is_the_rendered_file_s():
    """`fingerprint_article` takes the rendered file's sample from the article's (plus the file's
    other lines) when every article line is a file line; it is the sample of the file's lines
    hashed again, on every bench, fixture and edge article, and on articles whose rendering
    changes or drops a line (invisible characters, runs of spaces, a date-only or source-like
    paragraph, an empty title, a repeated paragraph); the same set iterated in the same order
    (the worker's answer is pickled and compared by its repr: bench/analysis_identity.py)."""
    from archive.extract.render import render_seed_text

    articles = [value for value in _inputs().values() if isinstance(value, Article)]
    odd = ["Hà\u200bNội mưa to", "Hai  dấu   cách", "08:00 | 25/01/2025", "Nguồn: https://x.vn/a", " lề ", "Mưa to."]
    for i, paragraph in enumerate(odd):
        articles.append(Article(url=_URL.format(90 + i), canonical_url=_URL.format(90 + i), title=("", "Tin")[i % 2],
                                lead="Mưa to." if i == 5 else None, paragraphs=[paragraph, "Đường phố ngập sâu hơn 2 m", paragraph],
                                author="An" if i % 3 else None))
    taken = 0
    for article in articles:
        rendered = render_seed_text(article)
        again = frozenset(fingerprints.containment_sample(fingerprints._shingle_array(fingerprints.file_lines(rendered))))
        file_sample = fingerprints.fingerprint_article(article).file_sample
        assert file_sample == again and repr(file_sample) == repr(again), article.url  # (iterated alike too)
        taken += set(fingerprints.article_lines(article)) <= set(fingerprints.file_lines(rendered))
    assert 0 < taken < len(articles)  # both ways taken


def test_the_file_sample_is_the_article_s_own_object_only_when_it_iterates_alike():
    """An answer pickles one set when the rendered file's sample holds the article's hashes in the
    same order (`_one_if_alike`), and travels as it did: unpickled, both fields iterate as the two
    sets computed apart do. Equal sets iterated in another order, or other hashes, stay apart."""
    import pickle

    articles = [value for value in _inputs().values() if isinstance(value, Article)]
    shared = 0
    for article in articles:
        fp = fingerprints.fingerprint_article(article)
        rendered = fingerprints.file_lines(fp.rendered)
        apart = frozenset(fingerprints.containment_sample(fingerprints._shingle_array(rendered)))
        alone = frozenset(fingerprints.containment_sample(fingerprints._shingle_array(fingerprints.article_lines(article))))
        back = pickle.loads(pickle.dumps(fp, protocol=5))
        sent = pickle.loads(pickle.dumps((alone, apart), protocol=5))  # (as each travelled alone)
        assert list(back.sample) == list(sent[0]) and list(back.file_sample) == list(sent[1]), article.url
        shared += fp.file_sample is fp.sample
        assert (fp.file_sample is fp.sample) == (list(apart) == list(alone)), article.url
    assert 0 < shared
    ordered = frozenset(range(0, 8 * 40, 8))
    reordered = frozenset(sorted(ordered, reverse=True) + [1 << 40]) - {1 << 40}  # equal, built another way
    assert reordered == ordered
    assert fingerprints._one_if_alike(frozenset(ordered), ordered) is ordered
    if list(reordered) != list(ordered):
        assert fingerprints._one_if_alike(reordered, ordered) is reordered
    other = frozenset(ordered | {8 * 41})
    assert fingerprints._one_if_alike(other, ordered) is other


def test_a_pickled_fingerprint_carries_the_file_s_bytes_and_reads_as_the_one_sent():
    """A worker's fingerprint travels with `rendered` as the UTF-8 bytes the corpus writes: unpickled,
    `file_bytes` is those bytes without decoding anything, `rendered` decodes them when read, and the
    fingerprint equals the one sent. A text that does not encode travels as the text,
    and `file_bytes` fails as encoding it did."""
    import copy
    import pickle

    articles = [value for value in _inputs().values() if isinstance(value, Article)]
    for article in articles:
        fp = fingerprints.fingerprint_article(article)
        back = pickle.loads(pickle.dumps(fp, protocol=5))
        assert "rendered" not in back.__dict__
        assert back.file_bytes() == fp.rendered.encode("utf-8") == fp.file_bytes()
        assert back.file_bytes() is back.file_bytes()  # (the bytes received, not encoded again)
        assert back == fp and back.rendered == fp.rendered
        assert list(back.sample) == list(pickle.loads(pickle.dumps(fp.sample, protocol=5)))  # (as sent alone)
        assert pickle.loads(pickle.dumps(back, protocol=5)) == fp and copy.deepcopy(back) == fp
    odd = fingerprints.Fingerprint("sha", frozenset({8}), 1, "Tiêu đề \ud800 lẻ\n", frozenset({8}))
    back = pickle.loads(pickle.dumps(odd, protocol=5))
    assert back == odd and "rendered" in back.__dict__
    with pytest.raises(UnicodeEncodeError):
        back.file_bytes()
    with pytest.raises(AttributeError):
        back.no_such_field  # noqa: B018


def test_words_are_the_regex_s_words_read_token_by_token():
    """`_words` runs `\\w+` only on the whitespace tokens that are not all letters and digits: the
    same words, in order, as the regex over the whole text. It rests on two facts of the running
    Python, checked over every code point: no whitespace character is a word character, and a
    character is a word character exactly when it is alphanumeric (as `str.isalnum` reads it) or `_`."""
    import re
    import sys

    word = re.compile(r"\w")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        is_word = word.match(char) is not None
        assert is_word == (char.isalnum() or char == "_"), hex(code)
        assert not (is_word and char.isspace()), hex(code)
    rng = random.Random(5)
    alphabet = [*"aĐ₫ả1٣_-,.:;()“”'\"/ \t\n\u00a0\u2009\u3000\u200bx²½Ⅻ", "ΣΊ", "ß", "\u0301", "\U0001d7d8"]
    texts = ["", " ", "Hà Nội, 12/3 (TTXVN) – “Đảng” nói:", "snake_case và_", "a\u00a0b\u2009c\u3000d"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(20_000)]
    for text in texts:
        assert fingerprints._words(text) == fingerprints._WORD.findall(text), text
