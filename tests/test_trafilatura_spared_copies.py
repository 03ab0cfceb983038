"""trafilatura without the copies it reads only on rare paths (archive/extract/trafilatura_spared_copies.py):
the same result on every fixture and real page and on pages made to take each rare path, where reading a copy
left out stops the run (`CopyNeeded`) and the extraction is done again in full."""
from __future__ import annotations

import copy
import threading
from pathlib import Path

import lxml.html
import pytest
import trafilatura
from trafilatura import core, external

from archive.eval_generic import load_pages
from archive.extract import body, trafilatura_spared_copies as spared
from archive.extract.article import parse_page
from archive.extract.body import TRAFILATURA_OPTIONS
from archive.extract.trafilatura_fast import faster_trafilatura
from testbed.fixture_pages import pages as fixture_pages, url_for

EVAL_GENERIC = Path(__file__).resolve().parent / "fixtures" / "eval-generic"
_PARAGRAPH = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
              "et dolore magna aliqua. ")


def _page(short_paragraphs: int) -> str:
    """A page whose first body container holds `short_paragraphs` paragraphs and a second, longer one
    holds `<time>`s: with 2 the main pass finds too little (wild-text recovery, which reads its backup);
    with 3 readability's longer text wins and holds an element justext is asked about (it reads the
    pre-conversion copy)."""
    first = "".join(f"<p>{_PARAGRAPH}</p>" for _ in range(short_paragraphs))
    second = "".join(f"<p>{_PARAGRAPH} <time>2024</time> {_PARAGRAPH}</p>" for _ in range(8))
    return f"<html><body><div class='entry-content'>{first}</div><div id='story'>{second}</div></body></html>"


def _extracted(tree, url: str, *, spare: bool) -> str | None:
    """trafilatura's body and text as our extraction asks for them, with or without the spared copies."""
    options = dict(url=url, output_format="python", with_metadata=False, include_images=True, **TRAFILATURA_OPTIONS)
    with faster_trafilatura():
        if spare:
            with spared.spared_copies():
                result = trafilatura.bare_extraction(copy.deepcopy(tree), **options)
        else:
            result = trafilatura.bare_extraction(copy.deepcopy(tree), **options)
    return None if result is None else lxml.html.tostring(result.body, encoding="unicode") + result.text


def test_the_stand_ins_are_used_with_the_pinned_trafilatura_and_put_back():
    assert trafilatura.__version__ == "2.3.1"
    assert len(spared.SPARED) == 3  # the code they write out and rely on is the one they were written for
    originals = (core._prepare_tree, core._extract_and_compare, external.justext_rescue)
    with pytest.raises(spared.CopyNeeded):
        with spared.spared_copies() as installed:
            assert installed == 3
            assert core._prepare_tree is spared._prepare_tree
            external.justext_rescue(spared._UNMADE, None)
    assert (core._prepare_tree, core._extract_and_compare, external.justext_rescue) == originals
    assert not issubclass(spared.CopyNeeded, Exception)  # trafilatura's `except Exception` lets it through
    with pytest.raises(spared.CopyNeeded):
        spared._UNMADE.iter()


def test_the_same_result_on_every_fixture_and_real_page(monkeypatch):
    sources = [(p.name, p.read_bytes(), url_for(p)) for p in fixture_pages()]
    sources += [(p.id, p.html, p.url) for p in load_pages(EVAL_GENERIC)]
    compared = needed = 0
    for name, html, url in sources:
        tree = parse_page(html, url).tree
        if tree is None:
            continue
        expected = _extracted(tree, url, spare=False)
        try:
            got = _extracted(tree, url, spare=True)
        except spared.CopyNeeded:  # done again in full by our extraction
            needed += 1
            ours = body._trafilatura_paragraphs(copy.deepcopy(tree), url, include_images=True)
            with monkeypatch.context() as patched:
                patched.setattr(spared, "SPARED", [])
                assert body._trafilatura_paragraphs(copy.deepcopy(tree), url, include_images=True) == ours, name
            continue
        assert got == expected, name
        compared += 1
    assert compared > 80 and needed >= 1  # (some real pages take the wild-text recovery)


@pytest.mark.parametrize("short_paragraphs, reader", [(2, "extract_content"), (3, "justext_rescue")])
def test_a_rare_path_reading_a_copy_left_out_is_done_again_in_full(short_paragraphs, reader, monkeypatch):
    tree = lxml.html.document_fromstring(_page(short_paragraphs))
    with pytest.raises(spared.CopyNeeded, match=reader):
        _extracted(tree, "http://example.org/a", spare=True)
    ours = body._trafilatura_paragraphs(copy.deepcopy(tree), "http://example.org/a", include_images=True)
    monkeypatch.setattr(spared, "SPARED", [])  # trafilatura's own copies
    assert body._trafilatura_paragraphs(copy.deepcopy(tree), "http://example.org/a", include_images=True) == ours
    assert ours[0]  # a text, not the "no text" of a failure


def test_another_threads_trafilatura_makes_its_copies_while_the_stand_ins_are_in_place():
    tree = lxml.html.document_fromstring(_page(2))  # a page whose main pass reads the backup
    expected = _extracted(tree, "http://example.org/a", spare=False)
    got = []
    with spared.spared_copies():
        worker = threading.Thread(target=lambda: got.append(_extracted(tree, "http://example.org/a", spare=False)))
        worker.start()
        worker.join()
        assert core._prepare_tree is spared._prepare_tree  # in place for this thread's block
    assert got == [expected]
    assert core._prepare_tree is not spared._prepare_tree
