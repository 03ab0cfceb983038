"""readability left out of trafilatura's comparison when its text is too short to be chosen
(archive/extract/trafilatura_readability_skip.py): the bound holds against readability's own text on
pages made to break it, the pages that could break it get no bound, and the extraction is the same
with and without the stand-ins on every fixture and real page and on generated article bodies."""
from __future__ import annotations

import copy
import random
from pathlib import Path

import lxml.html
import pytest
import trafilatura
from lxml import etree
from trafilatura import core, external, readability_lxml
from trafilatura.utils import fromstring_bytes, trim

from archive.eval_generic import load_pages
from archive.extract import article as article_mod, body, trafilatura_fast
from archive.extract import trafilatura_readability_skip as skip
from archive.extract.html_parser import HTML_PARSER
from archive.extract.trafilatura_fast_functions import installable, nonspace_characters
from archive.sites import hints_for
from testbed.fixture_pages import pages as fixture_pages, url_for

EVAL_GENERIC = Path(__file__).resolve().parent / "fixtures" / "eval-generic"
URL = "http://example.org/tin-tuc/bai-viet-1.html"


def _tree(html: str) -> etree._Element:
    return lxml.html.document_fromstring(html, parser=HTML_PARSER)


def _readability_characters(tree: etree._Element) -> tuple[int, int]:
    """(non-whitespace characters, length) of readability's trimmed text of `tree`, as
    `compare_extraction` measures it, by trafilatura's own code."""
    output = external.try_readability(copy.deepcopy(tree))
    text = trim(etree.tostring(output, method="text", encoding="utf-8").decode("utf-8"))
    return sum(not c.isspace() for c in text), len(text)


def _first_step(tree: etree._Element) -> etree._Element:
    """The tree after readability's first step (what `readability_text_bound` is asked about)."""
    for element in list(tree.iter("script", "style", "fencedframe")):
        element.drop_tree()
    return tree


def _without_skip(monkeypatch) -> None:
    """faster_trafilatura with every stand-in but these two."""
    kept = [f for f in trafilatura_fast._FUNCTIONS if f[3] not in (skip._compare_extraction, skip._try_readability)]
    monkeypatch.setattr(trafilatura_fast, "_FUNCTIONS", kept)


def test_the_stand_ins_are_used_with_the_pinned_code_and_put_back():
    assert trafilatura.__version__ == "2.3.1"
    assert len(installable(skip.READABILITY_SKIP_STAND_INS)) == 2  # the code relied on is the one written for
    originals = (core.compare_extraction, external.try_readability)
    with trafilatura_fast.faster_trafilatura():
        assert (core.compare_extraction, external.try_readability) == (skip._compare_extraction, skip._try_readability)
    assert (core.compare_extraction, external.try_readability) == originals


def test_other_code_gets_no_stand_in():
    changed = tuple((owner, name, stand_in, relied_on + ("a change",), digest)
                    for owner, name, stand_in, relied_on, digest in skip.READABILITY_SKIP_STAND_INS)
    assert installable(changed) == []


# What the generated pages are made of: text with every kind of whitespace, Unicode forms,
# escaped markup (a raw-text element read back would grow it), entities, CR LF, tails.
_WORDS = ["Hà Nội", "Ha\u0300 No\u0323i", "tiếng", "A&amp;B", "&lt;plaintext&gt;", "&lt;/xmp&gt;", "&amp;lt;",
          "&#13;", "x\r\ny", "&nbsp;", "\u00a0", "\u2003", "\u3000", "\x85", "\u1680", "\u202f",
          "\u200b", "&#x85;", "&#128;", "ﬁ", "Å", "\ufeff", "“quoted”", ",", "—", "\t", "\n", "  ", "word", "đ"]
# (control characters make trafilatura fail on some pages ("no text"): only readability is asked about them)
_CONTROLS = ["\x0b", "\x0c", "\x1c", "\x1f"]
_INLINE = ["b", "i", "a href='/x'", "span", "em", "strong", "br", "img src='/p.jpg'", "a<b", "x:y", "wbr", "code",
           "script", "style", "iframe src='https://www.youtube.com/embed/x'", "iframe", "title", "noscript", "textarea"]
_COMMENTS = ["<!-- quảng cáo -->", "<!---->", "<!-- <div> -> -->", "<!-- a --!>", "<!--x-->"]
_BLOCKS = ["p", "div", "td", "pre", "li", "h2", "blockquote", "section", "figure", "table", "ul", "noscript",
           "form", "header", "aside", "figcaption", "h1"]


_PROSE = "Người dân ở Hà Nội đã đến xem, khi tin tức về cuộc họp được đăng. The council met on Monday.".split()


def _text(rng: random.Random, words: list[str]) -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))


def _inline(rng: random.Random, words: list[str], comments: list[str] = _COMMENTS) -> str:
    tag = rng.choice(_INLINE)
    name = tag.split()[0]
    if name in ("br", "img", "wbr"):
        return f"<{tag}>{_text(rng, words)}"
    if rng.random() < 0.1:
        return rng.choice(comments) + _text(rng, words)
    if name in ("script", "style", "iframe", "title", "textarea"):  # (prose: escapes in raw text give no bound)
        return f"<{tag}>{_text(rng, _PROSE)}</{name}>{_text(rng, words)}"
    return f"<{tag}>{_text(rng, words)}</{name}>{_text(rng, words)}"


def _block(rng: random.Random, depth: int, words: list[str], comments: list[str] = _COMMENTS) -> str:
    tag = rng.choice(_BLOCKS)
    attributes = rng.choice(["", " class='content'", " id='comment-1'", " class='article-body'", " style='x'"])
    inner = _text(rng, words) + "".join(_inline(rng, words, comments) for _ in range(rng.randint(0, 3)))
    if depth and rng.random() < 0.7:
        inner += "".join(_block(rng, depth - 1, words, comments) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.5:  # a long paragraph: readability's candidates
        inner += "<p>" + ", ".join(rng.choice(words) for _ in range(rng.randint(20, 60))) + "</p>"
    return f"<{tag}{attributes}>{inner}</{tag}>{_text(rng, words)}"


def _article_body(rng: random.Random) -> str:
    """Paragraphs of prose with the texts above among the words, and a generated block among them."""
    paragraphs = ["<p>" + " ".join(rng.choice(_PROSE if rng.random() < 0.8 else _WORDS) for _ in range(rng.randint(20, 90)))
                  + _inline(rng, _WORDS) + "</p>" + _text(rng, _WORDS) for _ in range(rng.randint(1, 8))]
    paragraphs.insert(rng.randint(0, len(paragraphs)), _block(rng, 1, _WORDS))
    return "".join(paragraphs)


def _page(rng: random.Random, words: list[str] = _WORDS + _CONTROLS, comments: list[str] = _COMMENTS) -> str:
    blocks = "".join(_block(rng, 3, words, comments) for _ in range(rng.randint(1, 5)))
    return f"<html><body>{_text(rng, words)}{blocks}</body></html>"


# Pages of what is read back as it is: whitespace of every kind, Unicode forms, entities of text, comments
# that come back as comments.
_PLAIN_WORDS = [w for w in _WORDS if "lt;" not in w and "#" not in w]
_PLAIN_COMMENTS = ["<!-- quảng cáo -->", "<!--x-->", "<!-- a -> b -->"]


@pytest.mark.parametrize("seed", range(8))
def test_readabilitys_text_stays_within_the_bound(seed):
    rng = random.Random(seed)
    bounded = 0
    for _ in range(40):
        tree = _tree(_page(rng))
        try:
            first_step = _first_step(copy.deepcopy(tree))
        except ValueError:  # (a tail with a control character: readability fails there too, no text)
            assert _readability_characters(tree) == (0, 0)
            continue
        bound = skip.readability_text_bound(first_step)
        # With a limit, the same bound within it, none past it (what the skip asks, cheapest test first).
        for limit in (0, bound or 0, (bound or 0) - 1, 10 * (bound or 1)):
            expected = bound if bound is not None and bound <= limit else None
            assert skip.readability_text_bound(first_step, limit) == expected
        if bound is None:
            continue
        bounded += 1
        characters, length = _readability_characters(tree)
        assert characters <= bound
        assert length <= max(2 * bound - 1, 0)
    assert bounded


def _to_best_candidate(tree: etree._Element):
    """readability's steps on `tree` up to its best candidate, as `summary` takes them (no stand-in):
    (its document, the candidates, the best)."""
    doc = readability_lxml.Document(tree, min_text_length=25)
    _first_step(doc.doc)
    doc.remove_unlikely_candidates()
    doc.transform_misused_divs_into_paragraphs()
    candidates = doc.score_paragraphs()
    return doc, candidates, doc.select_best_candidate(candidates)


@pytest.mark.parametrize("seed", range(8))
def test_readabilitys_article_stays_within_the_bound_of_its_source(seed):
    """Once the best candidate is chosen, the bound of `_article_source` holds against the article
    readability goes on to build, sanitize and serialize, as trafilatura parses it back and measures it."""
    rng = random.Random(100 + seed)
    bounded = tighter = 0
    for n in range(60):  # (every other page without the comments and escapes that give no bound)
        tree = _tree(_page(rng) if n % 2 else _page(rng, _PLAIN_WORDS, _PLAIN_COMMENTS))
        try:
            doc, candidates, best = _to_best_candidate(copy.deepcopy(tree))
        except ValueError:  # (a control character: readability fails there too, no text)
            continue
        if not best:
            continue
        source = skip._article_source(best.elem)
        assert source is (best.elem.getparent() if best.elem.getparent() is not None else best.elem)
        bound = skip.readability_text_bound(source)
        if bound is None:
            continue
        bounded += 1
        whole = skip.readability_text_bound(doc.doc)
        tighter += whole is None or bound < whole
        try:
            summary = fromstring_bytes(doc.sanitize(doc.get_article(candidates, best), candidates))
        except ValueError:  # (a control character met in a tail moved: readability fails, no text)
            summary = None
        text = "" if summary is None else trim(etree.tostring(summary, method="text", encoding="utf-8").decode("utf-8"))
        assert (sum(not c.isspace() for c in text), len(text)) == _readability_characters(tree)  # (its own steps)
        assert sum(not c.isspace() for c in text) <= bound
        assert len(text) <= max(2 * bound - 1, 0)
    assert bounded > 20 and tighter > 5


def test_the_article_of_a_candidate_without_parent_is_bounded_by_the_candidate():
    root = lxml.html.Element("div")
    etree.SubElement(root, "p").text = "Một câu dài, " * 10
    assert skip._article_source(root) is root
    assert skip._article_source(root[0]) is root


_BODY = f"<html><head><title>Tiêu đề &amp; &lt;b&gt;</title></head><body><div><p>{'Một câu dài, ' * 10}</p></div></body></html>"


@pytest.mark.parametrize("tag, text, child", [
    ("plaintext", None, False), ("xmp", "a &amp; b", False), ("xmp", "<b>", False), ("iframe", "x\ry", False),
    ("noembed", "a > b", False), ("noframes", "&", False), ("iframe", None, True), ("title", "t", True),
    ("textarea", None, True), ("XMP", None, False), ("IFrame", None, False), ("Title", None, False),
    ("SCRIPT", "var a;", False), ("Style", None, False), ("fencedFrame", None, False), ("PlainText", None, False)])
def test_what_could_be_read_back_as_more_text_gives_no_bound(tag, text, child):
    tree = _tree(_BODY)
    element = etree.SubElement(tree.find(".//p"), tag)
    element.text = text
    if child:
        etree.SubElement(element, "b").text = "x"
    assert skip.readability_text_bound(tree) is None


def test_what_is_read_back_as_it_is_counted():
    tree = _tree(_BODY)
    plain = skip.readability_text_bound(tree)
    assert plain == nonspace_characters(etree.tostring(tree, method="text", encoding="utf-8"))  # (the title too)
    div = tree.find(".//div")
    div.append(lxml.html.fromstring("<iframe src='https://www.youtube.com/embed/x'></iframe>"))
    assert skip.readability_text_bound(tree) == plain + 5  # ("VIDEO")
    div.append(lxml.html.fromstring("<script>var a = '&lt;b';</script>"))
    div[-1].tail = "đuôi"
    div.append(lxml.html.fromstring("<style>p { color: red }</style>"))
    assert skip.readability_text_bound(tree) is None  # (asked about before readability's first step)
    assert skip.readability_text_bound(_first_step(tree)) == plain + 5 + 4  # the tail counts, what is dropped not
    div.append(etree.Comment(" a <b> -> c "))
    assert skip.readability_text_bound(tree) == plain + 5 + 4


def test_the_raw_text_elements_are_why():
    """An `<xmp>` holding escaped markup: read back as raw text, its escapes come back escaped once more,
    and readability's text is longer than the tree's (what the bound leaves out)."""
    tree = _tree(f"<html><body><div><p>{'Câu, ' * 10}</p><xmp>&lt;b&gt;&amp;&lt;/b&gt;</xmp></div></body></html>")
    characters, _ = _readability_characters(tree)
    assert characters > nonspace_characters(etree.tostring(tree, method="text", encoding="utf-8"))
    assert skip.readability_text_bound(tree) is None


@pytest.mark.parametrize("text", ["> a", "-> a", ">", "->"])
def test_comments_that_could_be_read_back_as_text_give_no_bound(text):
    tree = _tree(_BODY)
    tree.find(".//div").append(etree.Comment(text))
    assert skip.readability_text_bound(tree) is None


def test_processing_instructions_give_no_bound():
    tree = _tree(_BODY)
    tree.find(".//div").append(etree.ProcessingInstruction("php", "echo 1 >"))
    assert skip.readability_text_bound(tree) is None


def test_comments_kept_are_read_back_as_comments_and_dropped():
    """Every comment `_comes_back_as_comment` keeps, serialized as readability's output is and parsed by
    trafilatura's parser, leaves no text."""
    rng = random.Random(3)
    kept = 0
    for _ in range(3000):
        text = "".join(rng.choice("<>-!x /") for _ in range(rng.randint(0, 8)))
        try:
            comment = etree.Comment(text)
        except ValueError:  # (lxml refuses '--' and a last '-')
            continue
        if not skip._comes_back_as_comment(comment):
            continue
        kept += 1
        div = lxml.html.fromstring("<div>a<p>b</p></div>")
        div[0].append(comment)
        parsed = fromstring_bytes(etree.tostring(div, encoding=str, method="xml"))
        assert etree.tostring(parsed, method="text", encoding=str) == "ab", text
    assert kept > 500


def _extracted(tree: etree._Element, url: str) -> tuple:
    result = trafilatura.bare_extraction(copy.deepcopy(tree), url=url, output_format="python", with_metadata=False,
                                         include_images=False, **body.TRAFILATURA_OPTIONS)
    return None if result is None else (lxml.html.tostring(result.body, encoding="unicode"), result.text)


def test_the_same_extraction_on_generated_article_bodies(monkeypatch):
    """Article bodies as a profiled host hands them (the body alone), with the texts above: trafilatura's
    result with the stand-ins in place, readability left out on most, and without them."""
    rng = random.Random(7)
    trees = [_tree(f"<html><body><article>{_article_body(rng)}</article></body></html>") for _ in range(150)]
    left_out = []
    counted = external.HtmlElement

    def counting():
        left_out.append(1)
        return counted()
    monkeypatch.setattr(skip, "HtmlElement", counting)
    with trafilatura_fast.faster_trafilatura():
        ours = [_extracted(tree, URL) for tree in trees]
    monkeypatch.setattr(skip, "HtmlElement", counted)
    _without_skip(monkeypatch)
    with trafilatura_fast.faster_trafilatura():
        assert [_extracted(tree, URL) for tree in trees] == ours
    assert len(left_out) > 30 and sum(r is not None for r in ours) > 60


def _articles(sources) -> list[str]:
    """Each page's whole article, read with its host's hints as the crawl reads it."""
    return [repr(article_mod.extract_article(html, url, hints_for(url))) for html, url in sources]


def test_the_same_articles_on_every_fixture_and_real_page(monkeypatch):
    sources = [(p.read_bytes(), url_for(p)) for p in fixture_pages()]
    sources += [(p.html, p.url) for p in load_pages(EVAL_GENERIC)]
    runs = []  # readability's steps after its first (this one has no stand-in of its own)
    step = readability_lxml.Document.transform_misused_divs_into_paragraphs
    monkeypatch.setattr(readability_lxml.Document, "transform_misused_divs_into_paragraphs",
                        lambda doc: runs.append(1) or step(doc))
    ours = _articles(sources)
    ran = len(runs)
    _without_skip(monkeypatch)
    assert _articles(sources) == ours
    assert 0 < ran < len(runs) - ran  # readability left out on some pages (the profiled hosts' bodies), not all


def test_the_same_articles_where_only_the_article_source_is_within_the_bound(monkeypatch):
    """The default crawl's pages of a host with no profile: their navigation and teasers outweigh the
    article, so readability is left out only once its best candidate is chosen (its article never built),
    with the same whole articles as without the skip."""
    from bench.default_site import GENERIC_HOST, DefaultSite

    site = DefaultSite(50, GENERIC_HOST)
    sources = [(site.render(n), f"http://{site.host}/bai-viet-so-{n}-post{100000 + n}.html") for n in range(4)]
    built = []
    get_article = readability_lxml.Document.get_article
    monkeypatch.setattr(readability_lxml.Document, "get_article", lambda *a: built.append(1) or get_article(*a))
    ours = _articles(sources)
    assert not built
    _without_skip(monkeypatch)
    assert _articles(sources) == ours
    assert len(built) == len(sources)
    assert all("is_article=True" in article for article in ours)


@pytest.mark.parametrize("seed", range(5))
def test_nonspace_characters_counts_every_character_but_space_tab_and_newline(seed):
    rng = random.Random(seed)
    for _ in range(200):
        text = "".join(rng.choice(_WORDS + _CONTROLS + ["\r", "\U0001f600", "a"]) for _ in range(rng.randint(0, 30)))
        assert nonspace_characters(text.encode()) == sum(c not in " \t\n" for c in text)


def test_readability_runs_when_only_a_name_in_capitals_stands_in_the_way(monkeypatch):
    """The names' test is made last, when the rest would leave readability out: it still decides."""
    ran = []
    step = readability_lxml.Document.transform_misused_divs_into_paragraphs
    monkeypatch.setattr(readability_lxml.Document, "transform_misused_divs_into_paragraphs",
                        lambda doc: ran.append(doc) or step(doc))
    tree = _tree(_BODY)
    skip._LIMIT.text_length = limit = 10 * skip.readability_text_bound(tree)
    assert len(skip._try_readability(copy.deepcopy(tree))) == 0 and not ran  # left out: an empty element
    etree.SubElement(tree.find(".//div"), "Script").text = "var a = 1;"
    skip._LIMIT.text_length = limit
    assert len(skip._try_readability(copy.deepcopy(tree))) and len(ran) == 1
    assert skip._LIMIT.text_length is None  # (the limit is read once)


def test_the_written_out_readability_gives_trafilaturas_own_result():
    """Without a limit (other options, a deficient body ...), `_try_readability` is `try_readability`."""
    rng = random.Random(11)
    for _ in range(60):
        tree = _tree(_page(rng))
        ours = skip._try_readability(copy.deepcopy(tree))
        theirs = external.try_readability(copy.deepcopy(tree))
        assert etree.tostring(ours) == etree.tostring(theirs)


def test_a_failing_bound_leaves_readability_to_run(monkeypatch):
    """Should the bound fail on some tree, readability runs as trafilatura would run it (its failures are
    its own: `try_readability` turns them into no text), not as a failure of readability."""
    def failing(tree, limit=None):
        raise ValueError("the bound")
    tree = _tree(_BODY)
    limit = 10 * skip.readability_text_bound(tree)
    monkeypatch.setattr(skip, "readability_text_bound", failing)
    skip._LIMIT.text_length = limit
    ours = skip._try_readability(copy.deepcopy(tree))
    assert len(ours) and etree.tostring(ours) == etree.tostring(external.try_readability(copy.deepcopy(tree)))
