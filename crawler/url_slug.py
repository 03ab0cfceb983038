"""A link's URL slug as evidence about its target: the headline a teaser anchor hides.

Vietnamese news CMSs put the article's full headline, diacritics folded, in
the URL: `nhandan.vn/<slug>-post830202.html`, `thoidai.com.vn/<slug>-180000.html`,
`www.vietnamplus.vn/<slug>-post900000.vnp`, `www.qdnd.vn/<sec>/<sub>/<slug>-123456`
(docs/site-notes.md). A related box's teaser ("Những người lính tình nguyện
năm ấy") names no topic word; its URL often does
(`/nhung-nguoi-linh-tinh-nguyen-viet-nam-tai-lao-post….html`).

`slug_text(url)`: the words of the URL's slug — a run of at least three
hyphen-joined lowercase ASCII words ending the last path segment, its trailing
id (`post830202`, `180000`) and extension dropped, the query ignored — or ""
when the URL has none (`/tag/lao.html`, `/?page=2`, `/article-post156813.html`).

`SlugScorer(topic).score(url)`: the slug's cosine to the topic profile with
diacritics folded on both sides: the profile's terms are folded once (NFD,
combining marks dropped, đ → d; terms that fold alike keep the heaviest
weight), so "việt nam" and "nam lào" match `viet-nam`, `nam-lao`. The slug's
terms are weighed as a headline's are (archive/extract/topic.py), by the
specificity of the commonest Vietnamese word folding to them (wordfreq's
list, folded once). Function words are folded too, and a word folding like
one is one ("nam" may be "năm": its bigrams "viet nam", "nam lao" still count). Cached per URL; a link costs a
regular-expression match and a few dictionary look-ups on the crawl's event
loop (docs/topic.md, sixth pass).
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

from wordfreq import get_frequency_dict

from archive.extract.topic import STOPWORDS, TopicProfile

__all__ = ["fold", "slug_text", "SlugScorer"]

MIN_SLUG_WORDS = 3
# The last path segment: hyphen-joined lowercase ASCII words, then an optional numeric id
# ("-post830202", "-180000"), then an optional extension (".html", ".vnp", ".amp").
_SLUG = re.compile(r"/([a-z0-9]+(?:-[a-z0-9]+)+?)(?:-(?:post|p|id|a)?\d{4,})?(?:\.[a-z]{2,5})?/?$")
_FOLD = str.maketrans({"đ": "d", "Đ": "D"})
CACHE_URLS = 20_000  # slug scores remembered (links repeat across a site's related boxes and listings)
CACHE_TERMS = 20_000  # slug words and word pairs whose specificity is remembered (ids and names keep coming)


def fold(text: str) -> str:
    """Lowercase, diacritics dropped, đ → d: "Việt Nam - Lào" → "viet nam - lao"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD).lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slug_text(url: str) -> str:
    """The URL slug's words, space-separated ("" when it has no slug of MIN_SLUG_WORDS words)."""
    start = url.find("/", url.find("//") + 2) if "//" in url else 0  # the path: not a host's hyphens
    match = _SLUG.search(url.split("?", 1)[0].split("#", 1)[0], start) if start >= 0 else None
    if match is None:
        return ""
    words = match.group(1).split("-")
    if sum(1 for word in words if not word.isdigit()) < MIN_SLUG_WORDS:
        return ""
    return " ".join(words)


@lru_cache(maxsize=1)
def _folded_frequencies() -> dict[str, float]:
    """Each folded Vietnamese word's frequency: the commonest word folding to it (wordfreq)."""
    folded: dict[str, float] = {}
    for word, freq in get_frequency_dict("vi").items():
        key = fold(word)
        if freq > folded.get(key, 0.0):
            folded[key] = freq
    return folded


class SlugScorer:
    """Scores URL slugs against a topic profile folded once."""

    def __init__(self, topic: TopicProfile):
        weights: dict[str, float] = {}
        for term, weight in topic.weights.items():
            key = fold(term)
            weights[key] = max(weights.get(key, 0.0), weight)
        self.weights = weights
        # A word folding like a function word is one in a slug ("nam": "năm" or "Nam"): "Hội thao quốc
        # phòng quân khu năm nay" would lean to the topic by "nam". Bigrams keep it ("viet nam", "nam lao").
        self.stopwords = frozenset(fold(word) for word in STOPWORDS)
        self._frequencies = _folded_frequencies()
        self._specificity: dict[str, float] = {}
        self._scores: dict[str, float] = {}

    def score(self, url: str) -> float:
        """The slug's cosine to the folded profile, 0 when the URL has no slug."""
        cached = self._scores.get(url)
        if cached is not None:
            return cached
        text = slug_text(url)
        value = self.score_words(text.split()) if text else 0.0
        if len(self._scores) >= CACHE_URLS:
            self._scores.clear()
        self._scores[url] = value
        return value

    def score_words(self, words: list[str]) -> float:
        """Cosine of folded words (one segment: bigrams run through) to the folded profile."""
        stop, counts = self.stopwords, {}
        get = counts.get
        previous, previous_stop = None, True
        for word in words:
            is_stop = word in stop
            if not is_stop:
                counts[word] = get(word, 0) + 1
            if previous is not None and not (previous_stop and is_stop):
                pair = previous + " " + word
                counts[pair] = get(pair, 0) + 1
            previous, previous_stop = word, is_stop
        specificity, weight, log = self._specificity.get, self.weights.get, math.log
        dot = norm = 0.0
        for term, count in counts.items():
            w = specificity(term) or self.specificity(term)
            if count > 1:
                w *= 1 + log(count)
            dot += w * weight(term, 0.0)
            norm += w * w
        return round(dot / math.sqrt(norm), 4) if norm else 0.0

    def specificity(self, term: str) -> float:
        """archive.extract.topic.specificity of a folded term: 7.5 − its Zipf frequency, at least
        0.2; a bigram's frequency is wordfreq's phrase estimate, 1 / Σ 1/f of its words."""
        value = self._specificity.get(term)
        if value is None:
            freqs = [self._frequencies.get(word, 0.0) for word in term.split(" ")]
            freq = 0.0 if 0.0 in freqs else 1.0 / sum(1.0 / f for f in freqs)
            zipf = math.log10(freq * 1e9) if freq else 0.0
            if len(self._specificity) >= CACHE_TERMS:  # bounded like `_scores`: ~130 bytes a term
                self._specificity.clear()
            value = self._specificity[term] = max(0.2, 7.5 - zipf)
        return value
