"""Reading a page's links (archive/extract/links.py `link_candidates`, `anchor_text`): each href
resolved once and each element read once a page give the links a reading of every match gives."""
import gzip
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from parsel import Selector

from archive.extract.article import followable, parse_page
from archive.extract.links import _text_nodes, anchor_text, link_candidates, matching_elements
from archive.sites.generic import generic_profile
from tests.test_parse_once import PAGES

EVAL = Path(__file__).resolve().parent / "fixtures" / "eval-generic" / "html"
_TEXTS = etree.XPath(".//text()")


def _every_match(selector, base_url, groups, anchors, limit=0):
    """The links as read before: every match's href resolved and its anchor read, match by match."""
    found = []
    for selectors, is_next in groups:
        for css in selectors:
            for link in matching_elements(selector.root, css):
                url = followable(link.get("href"), base_url)
                if url is None:
                    continue
                found.append((url, _xpath_anchor_text(link) if anchors else "", is_next))
                if len(found) == limit:
                    return found
    return found


def _xpath_anchor_text(element) -> str:
    text = " ".join(" ".join(_TEXTS(element)).split())
    return text or (element.get("title") or "").strip() or " ".join(element.xpath("descendant-or-self::img/@alt"))


def _bodies():
    for path in PAGES:
        yield path.read_bytes()
    for path in sorted(EVAL.glob("*.html.gz")):
        yield gzip.decompress(path.read_bytes())


@pytest.mark.parametrize("limit", [0, 7])
def test_links_are_those_every_match_gives(limit):
    """On every fixture and eval page, with the generic profile's article and listing selectors
    (one element is matched by two of them on many pages; hrefs repeat), with and without a cap."""
    profile = generic_profile("https://example.vn/a")
    groups_of = (((profile.related_links, False), (profile.pagination_links, True)),
                 ((profile.listing_links, False), (profile.pagination_links, True)))
    repeated = 0
    for body in _bodies():
        page = parse_page(body, "https://example.vn/tin/bai-1.html")
        if page.tree is None:
            continue
        selector = Selector(root=page.tree, type="html")
        for groups in groups_of:
            for anchors in (True, False):
                got = link_candidates(selector, page.base_url, groups, anchors=anchors, limit=limit)
                assert got == _every_match(selector, page.base_url, groups, anchors, limit)
            repeated += len(got) - len(set(got))
    assert repeated > 0


def test_anchor_text_reads_the_text_nodes_xpath_reads():
    """Comments' and processing instructions' text left out, their tails kept; script text, entities,
    nested markup, whitespace runs; then the title attribute, then image alts; and on every link of
    the fixture and eval pages."""
    markup = ("<div><a id=a href=/1>Việt <!-- không --> Nam<?pi bỏ qua?> - <b>Lào</b>&nbsp;<i>hợp\n tác</i></a>"
              "<a id=b href=/2><script>var x = 1;</script>  <span> </span></a>"
              "<a id=c href=/3 title=' Tiêu đề '><img alt='Ảnh'></a><a id=d href=/4><img alt='Một'><img alt='Hai'></a>"
              "<a id=e href=/5><![CDATA[x]]>y</a><a id=f href=/6>Lào<!-- c --></a><a id=g href=/7></a>"
              "<a id=h href=/8>  Việt \n  Nam </a><a id=i href=/9><?pi x?></a>"
              "<a id=j href=/10><img>đuôi<b>Lào</b><!-- c -->x<br>y</a><a id=k href=/11 title=t><img> </a>"
              "<a id=l href=/12>a<b>b<i>c</i>d</b>e</a><a id=m href=/13><b></b><i> </i></a></div>")
    root = lxml_html.fromstring(markup)
    for element in root.iter("a"):
        assert anchor_text(element) == _xpath_anchor_text(element)
    assert [anchor_text(root.get_element_by_id(i)) for i in "jklm"] == ["đuôi Lào x y", "t", "a b c d e", ""]
    assert anchor_text(root.get_element_by_id("a")) == "Việt Nam - Lào hợp tác"  # (NBSP is whitespace to split)
    assert [anchor_text(root.get_element_by_id(i)) for i in "fghi"] == ["Lào", "", "Việt Nam", ""]
    checked = 0
    for body in _bodies():
        tree = parse_page(body, "https://example.vn/a").tree
        for element in tree.iter("a") if tree is not None else ():
            assert anchor_text(element) == _xpath_anchor_text(element)
            assert _text_nodes(element).split() == " ".join(element.itertext()).split()
            checked += 1
    assert checked > 10_000
