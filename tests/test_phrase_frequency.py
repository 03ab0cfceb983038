"""A two-syllable term's Zipf frequency from its syllables' look-ups is wordfreq's own, to the bit
(archive/extract/phrase_frequency.py)."""
import gzip
import random
from pathlib import Path

from wordfreq import zipf_frequency

from archive.extract import phrase_frequency
from archive.extract.phrase_frequency import vietnamese_zipf, vietnamese_zipfs
from archive.extract.topic import specificities, specificity, terms

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# Runs of letters and digits of many scripts and kinds: case folding that changes length
# (straße, İ, ﬁ), titlecase and Cherokee letters, spaceless scripts (Thai, Han, kana), numbers
# wordfreq smashes and weighs (years, long and short digit runs, other digits), numerics that
# are letters to `isalnum` (², ½, Ⅻ), Vietnamese syllables on and off the wordlist.
ODD_SYLLABLES = ["lào", "việt", "nam", "hợp", "tác", "và", "của", "xyzzyq", "ngườiii", "2024", "1985",
                 "2050", "0001", "12345678", "7", "42", "a1", "1a", "năm2024", "straße", "İstanbul", "ﬁn",
                 "ǅemal", "Ꭰꭰ", "สวัสดี", "中国", "ひらがな", "カタカナ", "한국", "мир", "ΟΔΟΣ", "σοφία",
                 "x²", "½", "Ⅻ", "١٢٣", "๒๕๖๗", "ǰ", "ŉ", "ꞵ", "tp", "hcm", "covid19", "g20", "asean"]


def _real_terms() -> set[str]:
    """Every term of the fixture pages (target sites and hosts with no profile), the seeds and
    40 pages of each host of the default crawl's bench."""
    from lxml import html as lxml_html

    from bench.default_site import GENERIC_HOST, DefaultSite
    from testbed.bench_site import HOST

    texts = [lxml_html.fromstring(path.read_bytes()).text_content()
             for path in sorted((FIXTURES / "web").rglob("*.html"))]
    texts += [lxml_html.fromstring(gzip.decompress(path.read_bytes())).text_content()
              for path in sorted((FIXTURES / "eval-generic" / "html").glob("*.html.gz"))]
    texts += [path.read_text("utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    for host in (HOST, GENERIC_HOST):
        site = DefaultSite(50, host)
        texts += [lxml_html.fromstring(site.render(n)).text_content() for n in range(40)]
    return {term for text in texts for term in terms(text)}


def test_every_term_of_the_fixture_pages_has_wordfreq_s_frequency():
    phrase_frequency._SYLLABLES.clear()
    found = _real_terms()
    phrases = [term for term in found if " " in term]
    assert len(phrases) > 20_000
    for term in sorted(found):
        assert repr(vietnamese_zipf(term)) == repr(zipf_frequency(term, "vi")), term
    assert len(phrase_frequency._SYLLABLES) > 1000  # (the syllables' path ran, not wordfreq's alone)
    ordered = sorted(found)
    for start in range(0, len(ordered), 997):  # batches, as a page's new terms come
        batch = ordered[start:start + 997]
        assert [repr(z) for z in vietnamese_zipfs(batch)] == [repr(zipf_frequency(t, "vi")) for t in batch]
        assert [repr(s) for s in specificities(batch)] == [repr(specificity(t)) for t in batch]


def test_odd_phrases_have_wordfreq_s_frequency():
    """Unusual syllables and their pairs, both orders, asked twice (the second from the syllables kept),
    and strings the fast path must leave to wordfreq (no space, two spaces, punctuation)."""
    phrase_frequency._SYLLABLES.clear()
    rng = random.Random(15)
    pairs = ODD_SYLLABLES + [f"{a} {b}" for a in ODD_SYLLABLES for b in ODD_SYLLABLES]
    pairs += [f"{rng.choice(ODD_SYLLABLES)}{rng.choice(ODD_SYLLABLES)} {rng.choice(ODD_SYLLABLES)}"
              for _ in range(500)]
    pairs += ["", " ", "lào ", " lào", "lào  việt", "lào việt nam", "lào-việt nam", "lào\tviệt", "lào\u00a0việt",
              "l'arc de", "việt ǀnam", "e\u0301 lào"]
    for term in pairs + pairs:
        assert repr(vietnamese_zipf(term)) == repr(zipf_frequency(term, "vi")), term
    assert [repr(z) for z in vietnamese_zipfs(pairs)] == [repr(zipf_frequency(t, "vi")) for t in pairs]
    assert vietnamese_zipfs([]) == [] and specificities([]) == []


def test_the_syllables_kept_are_bounded(monkeypatch):
    """The kept look-ups are emptied when full, and a hostile page's huge syllable is not kept."""
    monkeypatch.setattr(phrase_frequency._SyllableMemo, "LIMIT", 10)
    phrase_frequency._SYLLABLES.clear()
    words = [f"từ{n}" for n in range(40)]
    for a, b in zip(words, words[1:]):
        assert vietnamese_zipf(f"{a} {b}") == zipf_frequency(f"{a} {b}", "vi")
        assert len(phrase_frequency._SYLLABLES) <= 10
    huge = "a" * 10_000
    assert vietnamese_zipf(f"lào {huge}") == zipf_frequency(f"lào {huge}", "vi")
    assert huge not in phrase_frequency._SYLLABLES
