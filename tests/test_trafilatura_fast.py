"""trafilatura made faster without changing what it does (archive/extract/trafilatura_fast.py): its
pruning XPaths selected in Python pick the very elements its own XPaths select, in the same order,
on real pages and on generated attribute soups; the function stand-ins (trafilatura_fast_functions.py)
give the same `text_content` strings and text lengths on every node, and readability's scores are the
same floats; trafilatura's output with them all equals its output without."""
from __future__ import annotations

import contextlib
import copy
import random
import re
from pathlib import Path

import lxml.html
from lxml import etree
import pytest
import trafilatura
from trafilatura import readability_lxml, xpaths
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor
from trafilatura.utils import trim

from archive.eval_generic import load_pages
from archive.extract import trafilatura_fast_functions as fast_functions
from archive.extract.article import parse_page
from archive.extract.body import TRAFILATURA_OPTIONS
from archive.extract.trafilatura_fast import _FUNCTIONS, _SWAPS, STAND_INS, _contains_tests, faster_trafilatura
from archive.extract.bounded_memo import VerdictMemo
from archive.extract.trafilatura_readability_skip import READABILITY_SKIP_STAND_INS
from archive.extract.trafilatura_fast_functions import (FUNCTION_STAND_INS, WHITESPACE, WIDE_SPACE_HINTS, best_candidate_first,
                                                        _remove_unlikely_candidates, _sanitize, _text_content,
                                                        _text_length, trimmed_length)
from testbed.fixture_pages import pages as fixture_pages, url_for

EVAL_GENERIC = Path(__file__).resolve().parent / "fixtures" / "eval-generic"


def _trees():
    """(name, tree) of every fixture page and real page of a host with no profile, as parsed, and
    as trafilatura has cleaned and converted it (REMOVE_COMMENTS_XPATH runs on that)."""
    sources = [(f"web/{p.name}", p.read_bytes(), url_for(p)) for p in fixture_pages()]
    sources += [(f"eval/{p.id}", p.html, p.url) for p in load_pages(EVAL_GENERIC)]
    options = Extractor(precision=True, tables=True, images=True)
    for name, body, url in sources:
        tree = parse_page(body, url).tree
        if tree is None:
            continue
        yield name, tree
        yield name + " converted", convert_tags(tree_cleaning(copy.deepcopy(tree), options), options, url)


def test_every_stand_in_is_used_with_the_pinned_trafilatura():
    assert trafilatura.__version__ == "2.3.1"
    assert len(_SWAPS) == len(STAND_INS)  # each XPath's text is the one its stand-in was written for
    # each function's code is the one its stand-in relies on
    assert len(_FUNCTIONS) == len(FUNCTION_STAND_INS) + len(READABILITY_SKIP_STAND_INS)
    originals = [holder[index] for holder, index, _, _ in _SWAPS]
    functions = [getattr(owner, attribute) for owner, attribute, _, _ in _FUNCTIONS]
    with faster_trafilatura() as installed:
        assert installed == len(STAND_INS) + len(FUNCTION_STAND_INS) + len(READABILITY_SKIP_STAND_INS)
        assert all(holder[index] is stand_in for holder, index, _, stand_in in _SWAPS)
        assert all(getattr(owner, attribute) is stand_in for owner, attribute, _, stand_in in _FUNCTIONS)
    assert [holder[index] for holder, index, _, _ in _SWAPS] == originals  # put back
    assert [getattr(owner, attribute) for owner, attribute, _, _ in _FUNCTIONS] == functions
    assert all(type(x).__name__ == "XPath" for x in originals)
    assert lxml.html.HtmlMixin.text_content is not _text_content


def test_text_content_is_the_same_string_for_every_node_of_every_page():
    compared = 0
    for name, tree in _trees():
        for node in tree.iter():
            try:
                expected = node.text_content()
            except ValueError as error:  # a comment, processing instruction: XPath refuses them
                with pytest.raises(ValueError, match=re.escape(str(error))):
                    _text_content(node)
                continue
            got = _text_content(node)
            assert got == expected and type(got) is str, (name, node.tag)
            compared += 1
    assert compared > 20_000


def test_text_lengths_are_counted_as_trim_counts_them():
    assert WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    assert all(any(hint in c.encode() for hint in WIDE_SPACE_HINTS) for c in WHITESPACE if ord(c) >= 0x80)
    # whitespace of every kind, characters whose UTF-8 holds the wide spaces' bytes (Š: c5 a0, Å: c3 85,
    # ⚀: e2 9a 80, ‐: e2 80 90), quotes that pass the quick test, Vietnamese, an emoji
    # Ú: c3 9a, Ớ: e1 bb 9a, ᚙ: e1 9a 99 (U+1680's second byte without its third)
    pool = [*WHITESPACE, "a", ",", "ế", "ữ", "“", "–", "Š", "Å", "\u2680", "\u2010", "\u3080", "\U0001F600", "Ú", "Ớ",
            "\u1699"]
    rng = random.Random(17)
    for _ in range(50_000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 10)))
        assert trimmed_length(text.encode()) == len(trim(text)), repr(text)
    measured = 0
    for name, tree in _trees():
        for node in tree.iter():
            if isinstance(node.tag, str):
                assert _text_length(node) == len(trim(node.text_content())), (name, node.tag)
                measured += 1
            else:
                with pytest.raises(ValueError):
                    _text_length(node)
    assert measured > 20_000


def test_readability_scores_are_the_same_floats_with_lengths_measured_once():
    compared = 0
    for name, tree in _trees():
        if name.endswith("converted"):
            continue
        scores = []
        for faster in (False, True):
            document = readability_lxml.Document(copy.deepcopy(tree))
            document.remove_unlikely_candidates()
            document.transform_misused_divs_into_paragraphs()
            if faster:
                with faster_trafilatura():
                    candidates = document.score_paragraphs()
            else:
                candidates = document.score_paragraphs()
            scores.append([(c.elem.tag, c.elem.get("class"), repr(c.score)) for c in candidates.values()])
        assert scores[0] == scores[1], name
        compared += len(scores[0])
    assert compared > 1000


def _unlikely_removed(tree, remove) -> bytes:
    document = readability_lxml.Document(copy.deepcopy(tree))
    remove(document)
    return lxml.html.tostring(document.doc)


def test_unlikely_candidates_are_the_same_elements_removed_on_every_page():
    original = readability_lxml.Document.remove_unlikely_candidates
    changed = 0
    for name, tree in _trees():
        expected = _unlikely_removed(tree, original)
        assert _unlikely_removed(tree, _remove_unlikely_candidates) == expected, name
        changed += expected != lxml.html.tostring(tree)
    assert changed > 50  # the pages have candidates to remove, not only elements to pass over


# class and id values: empty, one character, unlikely, unlikely but maybe a candidate, in any case
_READABILITY_VALUES = [None, "", "a", "ab", "x y", "comment", "Comments", "sidebar", "sidebar main", "footer",
                       "FOOTER", "footer-article", "menu", "menu-and", "header", "masthead", "rss", "popup", "body",
                       "content", "pager", "combx", "ad-break", "tweet", "twitter", "remark", "agegate",
                       # (lowercased to an unlikely word only by `str.lower`: the Kelvin sign is "k"; "İ" is "i̇" (session 15))
                       "REMAR\u212a", "AD-BREA\u212a body", "S\u0130DEBAR", "Sidebar", " foot ", "ΟΔΟΣ footer"]


def _readability_soup(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        tag = rng.choice(["div", "p", "span", "ul", "li", "section", "aside", "a", "table", "td"])
        values = {n: rng.choice(_READABILITY_VALUES) for n in rng.sample(["class", "id"], rng.randint(0, 2))}
        attributes = "".join(f' {n}="{v}"' for n, v in values.items() if v is not None)
        inner = _readability_soup(rng, depth + 1) if depth < 4 and rng.random() < 0.6 else "text"
        parts.append(f"<{tag}{attributes}>{inner}</{tag}>tail<!-- a comment -->")
    return "".join(parts)


@pytest.mark.parametrize("seed", range(30))
def test_unlikely_candidates_are_the_same_elements_removed_on_generated_soups(seed):
    rng = random.Random(seed)
    frame = [f' class="{rng.choice(_READABILITY_VALUES[1:])}"' for _ in range(2)]  # html and body named too
    tree = lxml.html.document_fromstring(
        f"<html{frame[0]}><body{frame[1]}>{''.join(_readability_soup(rng) for _ in range(6))}</body></html>")
    assert (_unlikely_removed(tree, _remove_unlikely_candidates)
            == _unlikely_removed(tree, readability_lxml.Document.remove_unlikely_candidates))


@pytest.mark.parametrize("markup", [
    # an unlikely block holding unlikely blocks, a candidate readability would keep, tails everywhere
    '<div class="sidebar">a<div class="comment">b<p id="footer">c</p>t1</div>t2<div class="article">d</div>t3</div>t4',
    # the same block dropped first, then its sibling and a nested one further on; the body and html named too
    '<ul id="menu"><li class="ad-break">x</li>y</ul>z<section class="footer"><div class="footer">w</div></section>v'
    '<div><div><aside class="popup"><span class="pager">q</span></aside>r</div></div>',
    # nothing dropped; a dropped block as the last element
    '<div class="content"><p>text</p></div>', '<p>a</p><div class="remark"><b class="rss">b</b></div>',
])
def test_unlikely_candidates_below_a_dropped_one_are_not_tested(markup, monkeypatch):
    tree = lxml.html.document_fromstring(f'<html class="menu"><body class="sidebar"><div>{markup}</div></body></html>')
    tested: dict[str, list[str]] = {}
    pattern = readability_lxml.REGEXES["unlikelyCandidatesRe"]

    class Recorded:  # the pattern, recording what it is asked of
        def search(self, text):
            tested[current].append(text)
            return pattern.search(text)

    monkeypatch.setitem(readability_lxml.REGEXES, "unlikelyCandidatesRe", Recorded())
    removed = {}
    for current, remove in (("ours", _remove_unlikely_candidates),
                            ("readability", readability_lxml.Document.remove_unlikely_candidates)):
        tested[current] = []
        removed[current] = _unlikely_removed(tree, remove)
    assert removed["ours"] == removed["readability"]
    assert set(tested["ours"]) <= set(tested["readability"])
    if markup.startswith('<div class="sidebar">'):  # what lies below the dropped sidebar is read by readability only
        assert {"comment", "footer", "article"} <= set(tested["readability"]) - set(tested["ours"])


# links of every kind of text: none, words, Unicode spaces only or between words (`trim` splits on them),
# text around a comment or a child element (session 15)
_LINK_OPENINGS = ["", "<a href=/>", "<a href=/>link ", "<a>link link", "<a> \u00a0 \u3000", "<a>x\u2003y\x1cz\x85 w ",
                  "<a>one<!-- c -->two", "<a><b>bold</b> tail", "<a>\u1680lead and trail\u202f"]


def _generated_soup(seed: int):
    """A readability soup of `seed` with ten paragraphs of random length, class and link (paragraphs of
    300 characters and more score an int; a candidate without links is scaled all the same)."""
    rng = random.Random(seed)
    paragraphs = "".join(
        f'<div class="{rng.choice(_READABILITY_VALUES[1:])}"><p>{"word, " * rng.randint(3, 80)}'
        f'{rng.choice(_LINK_OPENINGS)}</a></p>'
        f'<td>{"cell " * rng.randint(5, 9)}</td></div>'
        for _ in range(10))
    return lxml.html.document_fromstring(f"<html><body>{_readability_soup(rng)}{paragraphs}</body></html>")


def test_readability_scores_are_the_same_floats_on_generated_soups():
    for seed in range(30):
        tree = _generated_soup(seed)
        scores = []
        for faster in (False, True):
            document = readability_lxml.Document(copy.deepcopy(tree))
            with faster_trafilatura() if faster else contextlib.nullcontext():
                candidates = document.score_paragraphs()
            scores.append([(c.elem.tag, c.elem.get("class"), repr(c.score)) for c in candidates.values()])
        assert scores[0] == scores[1], seed


def _best_first_against_readability(tree) -> tuple[int, int]:
    """`best_candidate_first` against readability's own `score_paragraphs` and `select_best_candidate` on
    `tree` (after readability's steps before them): the same best (the same element, the same float), and
    every score the same float once the others are weighed. Returns (candidates, weighed before the others)."""
    documents = []
    for _ in range(2):
        document = readability_lxml.Document(copy.deepcopy(tree))
        document.remove_unlikely_candidates()
        document.transform_misused_divs_into_paragraphs()
        documents.append(document)
    theirs = documents[0].score_paragraphs()
    their_best = documents[0].select_best_candidate(theirs)
    weighed = []
    weigh = fast_functions._weigh_links
    fast_functions._weigh_links = lambda candidates, length_of: weighed.extend(candidates) or weigh(candidates, length_of)
    try:
        ours, our_best, weigh_others = best_candidate_first(documents[1])
        first = len(weighed)
        weigh_others()
    finally:
        fast_functions._weigh_links = weigh
    assert sorted(map(id, weighed)) == sorted(map(id, ours.values()))  # (each weighed once)
    assert [(c.elem.tag, c.elem.get("class"), repr(c.score)) for c in ours.values()] == \
        [(c.elem.tag, c.elem.get("class"), repr(c.score)) for c in theirs.values()]
    if their_best is None:
        assert our_best is None
        return 0, 0
    assert list(ours.values()).index(our_best) == list(theirs.values()).index(their_best)
    assert repr(our_best.score) == repr(their_best.score)
    return len(ours), first


def test_the_best_candidate_first_is_readabilitys_on_every_page():
    candidates = weighed = 0
    for name, tree in _trees():
        if not name.endswith("converted"):
            counted, first = _best_first_against_readability(tree)
            candidates += counted
            weighed += first
    assert candidates > 1000 and weighed < candidates / 2


def test_the_best_candidate_first_is_readabilitys_on_generated_soups():
    for seed in range(30):
        tree = _generated_soup(seed)
        _best_first_against_readability(tree)


def test_the_best_candidate_first_weighs_what_could_be_best():
    """Ties go to the first in the candidates' order; a candidate whose score is below 0 can rise above every
    other (links nested in links measure more than its text: its density's factor below 0), and is weighed
    first; a page with one clear article leaves most candidates unweighed until asked."""
    paragraph = "<p>" + "Một câu dài, với dấu phẩy, " * 8 + "<a href='/'>liên kết</a></p>"
    twins = lxml.html.document_fromstring(f"<html><body><div>{paragraph * 3}</div><div>{paragraph * 3}</div></body></html>")
    _best_first_against_readability(twins)
    rising = lxml.html.document_fromstring(
        f"<html><body><div>{paragraph}</div><div class='promo'><p>x</p></div></body></html>")
    links = rising.find(".//div[@class='promo']/p")
    links.text = None
    for _ in range(10):  # (the HTML parser never nests links: built by hand)
        links = etree.SubElement(links, "a")
    links.text = "Một câu dài về chuyện khác, " * 10
    document = readability_lxml.Document(copy.deepcopy(rising))
    document.remove_unlikely_candidates()
    document.transform_misused_divs_into_paragraphs()
    candidates = readability_lxml.Document.score_paragraphs(document)
    best = document.select_best_candidate(candidates)
    assert best.elem.get("class") == "promo"  # (below 0 before its links: it rose)
    _best_first_against_readability(rising)
    article = "<div class='content'>" + paragraph.replace("<a href='/'>liên kết</a>", "") * 6 + "</div>"
    rails = "".join(f"<div class='rail'><p>{'Tin khác ' * 12}<a href='/'>tin {n}</a></p></div>" for n in range(20))
    counted, weighed = _best_first_against_readability(
        lxml.html.document_fromstring(f"<html><body>{article}{rails}</body></html>"))
    assert counted > 20 and weighed < counted / 2


def _sanitized(tree, sanitize) -> tuple[str, int]:
    """readability's `summary` of a copy of `tree` up to its last step, then `sanitize` (readability's own, or
    ours, under the other stand-ins or none): its output and how many elements it dropped."""
    document = readability_lxml.Document(copy.deepcopy(tree))
    for elem in list(document.doc.iter("script", "style", "fencedframe")):
        elem.drop_tree()
    document.remove_unlikely_candidates()
    document.transform_misused_divs_into_paragraphs()
    candidates = document.score_paragraphs()
    best = document.select_best_candidate(candidates)
    article = document.get_article(candidates, best) if best else document.doc
    before = sum(1 for _ in article.iter())
    output = sanitize(document, article, candidates)
    return output, before - sum(1 for _ in article.iter())


def test_sanitize_drops_the_same_blocks_on_every_fixture_and_real_page():
    dropped = 0
    for name, tree in _trees():
        if name.endswith("converted"):
            continue
        expected, removed = _sanitized(tree, readability_lxml.Document.sanitize)
        assert _sanitized(tree, _sanitize) == (expected, removed), name
        with faster_trafilatura():  # (beside the other stand-ins, as it runs)
            assert _sanitized(tree, _sanitize) == (expected, removed), name
        dropped += removed
    assert dropped > 1000


def _sanitize_soup(rng: random.Random, depth: int = 0) -> str:
    """Blocks for each of `sanitize`'s tests: commas around ten, links long and short, images, hidden and
    other inputs, embeds, empty blocks between short and long neighbours, whitespace of every kind, class
    names that weigh for and against a block."""
    parts = []
    for _ in range(rng.randint(1, 4)):
        tag = rng.choice(["div", "table", "ul", "aside", "header", "footer", "section", "p", "h2", "li", "iframe",
                          "form"])
        value = rng.choice(["", "article", "content", "comment", "sidebar", "footer", "blog text", "meta"])
        inner = "".join(rng.choice([
            "word, " * rng.randint(0, 12), "plain words here ", f"<a href=/x>{'link ' * rng.randint(1, 30)}</a>",
            "<img src=i.jpg>", '<input type="hidden">', "<input>", "<embed src=e>", "<p>para, graph</p>",
            "<li>item</li>", "\u00a0\u3000 \u2003", "x" * rng.choice([0, 30, 600]), ""])
            for _ in range(rng.randint(0, 5)))
        if depth < 3 and rng.random() < 0.5:
            inner += _sanitize_soup(rng, depth + 1)
        attribute = f' class="{value}"' if value else ""
        if tag == "iframe":
            attribute += rng.choice([' src="https://www.youtube.com/embed/x"', ' src="/ad"', ""])
        parts.append(f"<{tag}{attribute}>{inner}</{tag}>{rng.choice(['', 'tail, ', ' '])}")
    return "".join(parts)


@pytest.mark.parametrize("seed", range(40))
def test_sanitize_drops_the_same_blocks_on_generated_soups(seed):
    rng = random.Random(seed)
    tree = lxml.html.document_fromstring(
        f"<html><body><div>{''.join(_sanitize_soup(rng) for _ in range(5))}</div></body></html>")
    assert _sanitized(tree, _sanitize) == _sanitized(tree, readability_lxml.Document.sanitize)


def test_the_same_elements_in_the_same_order_on_every_fixture_and_real_page():
    selected = 0
    for name, tree in _trees():
        for _, _, original, stand_in in _SWAPS:
            expected = original(tree)
            assert stand_in(tree) == expected, (name, original.path)
            selected += len(expected)
    assert selected > 1000  # the pages exercise the tests, not just their misses


# Attribute values built from the patterns' own pieces, so that each test passes and fails.
_VALUES = ["", "x", "reply-1", "a reply-1", "hidden", "is-hidden", "cookie-bar", "comment", "comments", "Comment-list",
           "commentary", "comol", "disqus_thread", "dsq-comments", "post-comments", "article-comments", "share",
           "sharing", "social", "nav", "Nav-main", "navbar", "menu", "ad-slot", "top ad-slot", "x ad y", "dfpAd",
           "widget", "footer", "byline", "related", "meta", "slide", "message", "hide-me", "a hidden", "noprint",
           "mvp-post-add-box", "mvp-post-add-wrap", "infinite-scroll", "infinitescroll", "comments-title",
           "display:none", "color: red; display: none", "tags", "elated", "premium", "^ad-", "post", "entry",
           "article-content", "post-text", "articleBody", "x article__body", "articleContent",
           "elementor-share-buttons", "x elementor-share-buttons--view", "elementor-share", "teaser", "Teaser-box",
           "TEASER", "post-teasers", "caption", "img-caption", "Caption", "bottom", "footer-bottom", "bottom-bar",
           "bottomline", "a bottom b", "link", "a link", "links", "link-list", "border: 1px solid",
           "color: red; border-top: 0"]
_ATTRIBUTES = ["id", "class", "style", "aria-hidden", "role", "data-component", "data-lp-replacement-content",
               "itemprop"]
_TAGS = ["div", "section", "aside", "p", "span", "list", "item", "details", "ol", "ul", "li", "article", "a", "h1",
         "main", "div", "div"]


def _soup(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        tag = rng.choice(_TAGS)
        names = rng.sample(_ATTRIBUTES, rng.randint(0, 4))  # in a random order: @id|@class reads the first
        attributes = "".join(
            f' {n}="{rng.choice(["true", "Navigation", "MostPopularStories-x", "false", "articleBody"]) if n in ("aria-hidden", "role", "data-component", "itemprop") else rng.choice(_VALUES)}"'
            for n in names)
        inner = _soup(rng, depth + 1) if depth < 4 and rng.random() < 0.6 else "text"
        parts.append(f"<{tag}{attributes}>{inner}</{tag}>tail")
    return "".join(parts)


@pytest.mark.parametrize("seed", range(40))
def test_the_same_elements_on_generated_attribute_soups(seed, monkeypatch):
    if seed % 4 == 0:  # the patterns' verdicts by value forgotten as often as can be
        monkeypatch.setattr(VerdictMemo, "LIMIT", 2)
    rng = random.Random(seed)
    tree = lxml.html.document_fromstring(f"<html><body>{''.join(_soup(rng) for _ in range(8))}</body></html>")
    for _, _, original, stand_in in _SWAPS:
        assert stand_in(tree) == original(tree), original.path


def test_trafilatura_gives_the_same_result_with_them():
    for page in load_pages(EVAL_GENERIC)[:30]:
        tree = parse_page(page.html, page.url).tree
        results = []
        for faster in (False, True):
            work = copy.deepcopy(tree)
            if faster:
                with faster_trafilatura():
                    result = trafilatura.bare_extraction(work, url=page.url, with_metadata=False, include_images=True,
                                                         **TRAFILATURA_OPTIONS)
            else:
                result = trafilatura.bare_extraction(work, url=page.url, with_metadata=False, include_images=True,
                                                     **TRAFILATURA_OPTIONS)
            results.append(None if result is None else lxml.html.tostring(result.body, encoding="unicode"))
        assert results[0] == results[1], page.id
    assert xpaths.OVERALL_DISCARD_XPATH[1] is _SWAPS[2][2]  # trafilatura's own XPaths outside the block


def test_the_same_elements_with_attributes_in_a_namespace():
    """`@class` finds an attribute without a namespace only; the stand-ins read attributes by name
    (OVERALL_DISCARD_XPATH[1]'s by the element's attribute names first), so `{ns}class="hidden"` selects
    nothing in either, and beside a plain one it changes nothing."""
    rng = random.Random(7)
    tree = lxml.html.document_fromstring(f"<html><body>{''.join(_soup(rng) for _ in range(12))}</body></html>")
    elements = list(tree.iter(etree.Element))
    for n, el in enumerate(elements):
        for name in ("class", "id", "style", "aria-hidden")[: n % 5]:
            el.set(f"{{http://example.com/ns}}{name}", "true" if name == "aria-hidden" else rng.choice(_VALUES))
    assert any(name.startswith("{") for el in elements for name in el.keys())
    for _, _, original, stand_in in _SWAPS:
        assert stand_in(tree) == original(tree), original.path


@pytest.mark.parametrize("table", [("T", "t"), ("CM", "cm"), ("TAa", "tb"), ("TT", "ab"), ("", "")])
def test_contains_reads_values_as_xpath_contains_and_translate_do(table):
    """The stand-ins' `contains(translate(@a, 'F', 'f'), 'x')` (trafilatura_fast._contains_tests) on
    values with every character of the lists, against libxml2's: a character listed twice is replaced
    as first listed, one without a counterpart is removed."""
    old, new = table
    path = f".//*[contains(translate(@class, '{old}', '{new}'), 'tea') or contains(@id, 'ser')]"
    ((class_name, in_class), (id_name, in_id)) = _contains_tests(path)
    assert (class_name, id_name) == ("class", "id")
    rng = random.Random(len(old))
    values = ["", "tea", "Tea", "TEA", "teaser", "TaeA", "tbea", "ateAa", "xser", "SER"]
    values += ["".join(rng.choice("tTeaAbCcMmsr ") for _ in range(rng.randint(1, 8))) for _ in range(300)]
    elements = "".join(f'<div class="{c}" id="{i}">x</div>' for c, i in zip(values, reversed(values)))
    tree = lxml.html.document_fromstring(f"<html><body>{elements}</body></html>")
    expected = etree.XPath(path)(tree)
    assert [el for el in tree.iterdescendants() if in_class(el.get("class") or "") or in_id(el.get("id") or "")] == expected
    assert 0 < len(expected) < len(values)


def test_hidden_elements_are_found_by_each_route():
    """OVERALL_DISCARD_XPATH[1]'s stand-in reads an element's attribute names first: an element with
    none, with a class alone (its verdict remembered by value), with an id or a style, or with
    aria-hidden alone; each selected and passed over as trafilatura's XPath does, asked twice."""
    original, stand_in = _SWAPS[2][2], _SWAPS[2][3]
    assert original is xpaths.OVERALL_DISCARD_XPATH[1]
    markup = ('<div><p>none</p><p class="x">plain class</p><p class="a hidden">class hidden</p>'
              '<p class="comments-title">title</p><p class="reply-2">reply by class</p>'
              '<p href="h" title="t" class="reply-2">class among others</p><p aria-hidden="true">aria alone</p>'
              '<p class="x" aria-hidden="true">aria and class</p><p aria-hidden="false" class="x">not hidden</p>'
              '<p id="reply-1" class="x">reply by id</p><p class="reply-1" id="x">class first, id x</p>'
              '<p id="x" class="reply-1">id first</p><p style="display:none">style</p>'
              '<p style="visibility: hidden" id="x">style hidden, id first</p>'
              '<p id="x" style="visibility: hidden">id x first</p><p style="color: red">style plain</p></div>')
    tree = lxml.html.document_fromstring(f"<html><body>{markup}</body></html>")
    expected = original(tree)
    assert [el.text for el in expected] == [
        "class hidden", "title", "reply by class", "class among others", "aria alone", "aria and class",
        "reply by id", "class first, id x", "style", "style hidden, id first"]
    assert stand_in(tree) == expected
    assert stand_in(tree) == expected  # the verdicts remembered
