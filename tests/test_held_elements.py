"""Node objects kept alive for a block (archive/extract/held_elements.py): held until the outermost
block of the thread ends, never outside one; and trafilatura's call, which holds its two working
trees' node objects, gives the same body and text as without on every fixture and real page."""
from __future__ import annotations

import copy
import gc
import threading
import weakref
from pathlib import Path

import lxml.html
import trafilatura

from archive.eval_generic import load_pages
from archive.extract import held_elements, trafilatura_spared_copies as spared
from archive.extract.article import parse_page
from archive.extract.body import TRAFILATURA_OPTIONS
from archive.extract.held_elements import elements_held, hold
from archive.extract.trafilatura_fast import faster_trafilatura
from testbed.fixture_pages import pages as fixture_pages, url_for

EVAL_GENERIC = Path(__file__).resolve().parent / "fixtures" / "eval-generic"


def _tree():
    return lxml.html.document_fromstring("<html><body><div><p>one</p><!-- c --><p>two</p></div></body></html>")


def _proxy_alive(tree) -> weakref.ref:
    """A weak reference to the object lxml makes for the tree's last `p` (no strong one is kept)."""
    return weakref.ref(list(tree.iter("p"))[-1])


def test_node_objects_are_held_until_the_outermost_block_ends():
    tree = _tree()
    assert _proxy_alive(tree)() is None  # (lxml frees an object no one holds)
    with elements_held():
        with elements_held():
            hold(tree)
            ref = _proxy_alive(tree)
        gc.collect()
        assert ref() is not None and ref().text == "two"
        assert next(tree.iter("p")) is next(tree.iter("p"))  # one object a node, made once
    assert ref() is None
    assert held_elements._HELD.lists is None


def test_nothing_is_held_outside_a_block_nor_for_another_thread():
    tree = _tree()
    hold(tree)
    assert _proxy_alive(tree)() is None
    refs = []
    with elements_held():
        def other():
            hold(tree)
            refs.append(_proxy_alive(tree))
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        assert refs[0]() is None  # that thread is in no block
        hold(tree)
        assert _proxy_alive(tree)() is not None
    assert _proxy_alive(tree)() is None


def test_held_when_a_block_ends_by_an_exception_too():
    tree = _tree()
    try:
        with elements_held():
            hold(tree)
            ref = _proxy_alive(tree)
            raise spared.CopyNeeded("x")
    except spared.CopyNeeded:
        pass
    assert ref() is None and held_elements._HELD.lists is None


def _extracted(tree, url: str, *, held: bool) -> str | None:
    """trafilatura's body and text as our extraction asks for them (spared copies), with its working
    trees' node objects held or not."""
    options = dict(url=url, output_format="python", with_metadata=False, include_images=True, **TRAFILATURA_OPTIONS)
    with faster_trafilatura(), spared.spared_copies():
        if held:
            with elements_held():
                result = trafilatura.bare_extraction(copy.deepcopy(tree), **options)
        else:
            result = trafilatura.bare_extraction(copy.deepcopy(tree), **options)
    return None if result is None else lxml.html.tostring(result.body, encoding="unicode") + result.text


def test_trafilatura_gives_the_same_result_with_its_trees_held_on_every_fixture_and_real_page():
    sources = [(p.name, p.read_bytes(), url_for(p)) for p in fixture_pages()]
    sources += [(p.id, p.html, p.url) for p in load_pages(EVAL_GENERIC)]
    compared = 0
    for name, html, url in sources:
        tree = parse_page(html, url).tree
        if tree is None:
            continue
        try:
            expected = _extracted(tree, url, held=False)
        except spared.CopyNeeded:  # (a rare path: our extraction runs trafilatura again, holding nothing)
            continue
        assert _extracted(tree, url, held=True) == expected, name
        compared += 1
    assert compared > 80


def test_our_call_holds_the_raw_tree_and_its_cleaned_copy():
    page = load_pages(EVAL_GENERIC)[0]
    tree = parse_page(page.html, page.url).tree
    options = dict(url=page.url, output_format="python", with_metadata=False, include_images=True,
                   **TRAFILATURA_OPTIONS)
    with faster_trafilatura(), spared.spared_copies(), elements_held():
        trafilatura.bare_extraction(tree, **options)
        held = held_elements._HELD.lists
        assert len(held) == 2 and all(len(nodes) > 100 for nodes in held)
        assert all(node.getroottree().getroot() is not tree for nodes in held for node in nodes[:1])  # copies
