"""trafilatura's pruning XPaths selected in Python (archive/extract/trafilatura_prune.py): the very
elements trafilatura's own XPaths select, in the same order, on real pages and on generated
attribute soups; trafilatura's output with them equals its output without."""
from __future__ import annotations

import copy
import random
from pathlib import Path

import lxml.html
import pytest
import trafilatura
from trafilatura import xpaths
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor

from archive.eval_generic import load_pages
from archive.extract.article import parse_page
from archive.extract.body import TRAFILATURA_OPTIONS
from archive.extract.trafilatura_prune import _SWAPS, STAND_INS, faster_pruning
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
    originals = [holder[index] for holder, index, _, _ in _SWAPS]
    with faster_pruning() as installed:
        assert installed == len(STAND_INS)
        assert all(holder[index] is stand_in for holder, index, _, stand_in in _SWAPS)
    assert [holder[index] for holder, index, _, _ in _SWAPS] == originals  # put back
    assert all(type(x).__name__ == "XPath" for x in originals)


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
           "display:none", "color: red; display: none", "tags", "elated", "premium", "^ad-"]
_ATTRIBUTES = ["id", "class", "style", "aria-hidden", "role", "data-component", "data-lp-replacement-content"]
_TAGS = ["div", "section", "aside", "p", "span", "list", "item", "details", "ol", "ul", "li", "article", "a", "h1"]


def _soup(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        tag = rng.choice(_TAGS)
        names = rng.sample(_ATTRIBUTES, rng.randint(0, 4))  # in a random order: @id|@class reads the first
        attributes = "".join(
            f' {n}="{rng.choice(["true", "Navigation", "MostPopularStories-x", "false"]) if n in ("aria-hidden", "role", "data-component") else rng.choice(_VALUES)}"'
            for n in names)
        inner = _soup(rng, depth + 1) if depth < 4 and rng.random() < 0.6 else "text"
        parts.append(f"<{tag}{attributes}>{inner}</{tag}>tail")
    return "".join(parts)


@pytest.mark.parametrize("seed", range(40))
def test_the_same_elements_on_generated_attribute_soups(seed):
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
                with faster_pruning():
                    result = trafilatura.bare_extraction(work, url=page.url, with_metadata=False, include_images=True,
                                                         **TRAFILATURA_OPTIONS)
            else:
                result = trafilatura.bare_extraction(work, url=page.url, with_metadata=False, include_images=True,
                                                     **TRAFILATURA_OPTIONS)
            results.append(None if result is None else lxml.html.tostring(result.body, encoding="unicode"))
        assert results[0] == results[1], page.id
    assert xpaths.OVERALL_DISCARD_XPATH[1] is _SWAPS[2][2]  # trafilatura's own XPaths outside the block
