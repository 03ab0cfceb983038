"""Inline related-article blocks (archive/extract/inline_related.py) are dropped by what they are, whatever
their markup; prose that merely links another article stays."""
from __future__ import annotations

import lxml.html
import pytest

from archive.extract.inline_related import drop_inline_related

PAGE = "https://thoidai.com.vn/hoi-cho-thuong-mai-viet-nam-lao-2025-211420.html"
A1 = "/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-211205.html"
A2 = "https://thoidai.com.vn/giao-luu-huu-nghi-thanh-nien-viet-nam-lao-tai-dien-bien-211206.html"
T1 = "Việt Nam và Lào đẩy mạnh hợp tác đào tạo nguồn nhân lực chất lượng cao"
T2 = "Giao lưu hữu nghị thanh niên Việt Nam - Lào tại Điện Biên"
P_BEFORE = "<p>Hội chợ do Bộ Công Thương hai nước tổ chức tại Vientiane. Đây là hoạt động thường niên.</p>"
P_AFTER = "<p>Dự kiến hội chợ sẽ đón khoảng 50.000 lượt khách. Ban tổ chức dành khu vực riêng cho hàng OCOP.</p>"
THUMB = '<img src="/stores/news_dataimages/thumb.jpg" alt="">'


def body_after(block: str) -> tuple[str, int]:
    """The body text once inline related blocks are dropped, and how many were."""
    root = lxml.html.fragment_fromstring(f"<div>{P_BEFORE}{block}{P_AFTER}</div>")
    dropped = drop_inline_related(root, PAGE)
    return " ".join(root.text_content().split()), dropped


TEASERS = {
    "mastercms-article-a-table": f'<table class="__MB_ARTICLE_A"><tbody><tr><td><a href="{A1}">{T1}</a>'
                                 f'<a href="{A2}">{T2}</a></td></tr></tbody></table>',
    "thumbnail-teaser-table": f'<table><tr><td><a href="{A2}">{THUMB}</a></td><td><a href="{A2}">{T2}</a><br>'
                              "Hơn 200 đoàn viên, thanh niên hai tỉnh tham gia chương trình.</td></tr></table>",
    "div-box-with-label": f'<div class="x1"><span>Tin liên quan</span> <a href="{A1}">{THUMB}</a> '
                          f'<a href="{A1}">{T1}</a></div>',
    "list-of-headlines": f'<ul><li><a href="{A1}">{T1}</a></li><li><a href="{A2}">{T2}</a></li></ul>',
    "block-level-link": f'<a class="more" href="{A1}"><span>Đọc thêm</span> <span>{T1}</span></a>',
    "see-also-paragraph": f'<p><strong>Xem thêm:</strong> <a href="{A2}">{T2}</a></p>',
    "aside-heading-and-summary": f'<aside><h4><a href="{A1}">{T1}</a></h4><p>Hai nước thống nhất nhiều giải '
                                 "pháp. Lưu học sinh được hỗ trợ thêm.</p></aside>",
    "sister-subdomain": '<div><a href="https://huunghivietlao.thoidai.com.vn/tinh-xieng-khoang-trao-huan-chuong'
                        '-215001.html">Tỉnh Xiêng Khoảng trao Huân chương cho chuyên gia Việt Nam</a></div>',
}


@pytest.mark.parametrize("shape", TEASERS)
def test_teaser_blocks_between_paragraphs_are_dropped(shape):
    text, dropped = body_after(TEASERS[shape])
    assert dropped == 1
    assert T1 not in text and T2 not in text and "Xiêng Khoảng" not in text
    assert text.startswith("Hội chợ do") and text.endswith("hàng OCOP.")


KEPT = {
    "prose-linking-an-article": f'<p>Như <a href="{A1}">Thời Đại đã đưa tin</a>, kim ngạch thương mại hai '
                                "nước đạt 2,2 tỷ USD. Hai bên đặt mục tiêu 5 tỷ USD.</p>",
    "link-running-from-the-text": f'<p>Theo <a href="{A1}">báo cáo tổng kết của Bộ Công Thương năm nay</a></p>',
    "another-site": '<div><a href="https://vnexpress.net/hop-tac-viet-lao-4812345.html">Hợp tác Việt - Lào '
                    "bước sang giai đoạn mới</a></div>",
    "tag-link": '<div><a href="/tags/viet-nam-lao-hop-tac.html">Việt Nam - Lào hợp tác toàn diện</a></div>',
    "a-list-of-many": "<ul>" + "".join(f'<li><a href="/bai-viet-so-{i}-21{i}000.html">Bài viết số {i} về hợp '
                                       f"tác</a></li>" for i in range(6)) + "</ul>",
    "long-teaser": f'<div><a href="{A1}">{T1}</a><p>Câu một dài về hợp tác. Câu hai về giáo dục. Câu ba về '
                   "y tế và thương mại giữa hai nước.</p></div>",
    "image-link-only": f'<p><a href="{A2}">{THUMB}</a></p>',
}


@pytest.mark.parametrize("shape", KEPT)
def test_prose_and_other_links_stay(shape):
    root = lxml.html.fragment_fromstring(f"<div>{P_BEFORE}{KEPT[shape]}{P_AFTER}</div>")
    before = " ".join(root.text_content().split())
    assert drop_inline_related(root, PAGE) == 0
    assert " ".join(root.text_content().split()) == before


def test_only_blocks_between_paragraphs_are_touched():
    """A teaser box with no prose beside it (a sidebar, a listing) is not the body's business."""
    root = lxml.html.fragment_fromstring(f"<div><div>{TEASERS['div-box-with-label']}</div></div>")
    assert drop_inline_related(root, PAGE) == 0


def test_text_after_a_dropped_block_is_kept():
    root = lxml.html.fragment_fromstring(
        f"<div>{P_BEFORE}{TEASERS['div-box-with-label']}Văn bản ngay sau khối liên quan vẫn thuộc bài.{P_AFTER}</div>")
    assert drop_inline_related(root, PAGE) == 1
    assert "Văn bản ngay sau khối liên quan vẫn thuộc bài." in root.text_content()


def _drop_as_before(root, page_url: str) -> int:
    """`drop_inline_related` as it was before session 15 (the reference the reordered one must match):
    every candidate's link test, then the parent's size, then its prose siblings read by `text_content`."""
    from archive.extract.inline_related import _CANDIDATES, _MIN_PROSE_SIBLINGS, _PROSE_TAGS, is_inline_related
    from archive.extract.page_gate import is_prose

    prose_children, prose = {}, {}

    def is_prose_element(el):
        if el not in prose:
            prose[el] = is_prose(el.text_content())
        return prose[el]

    def between_paragraphs(el):
        parent = el.getparent()
        if parent is None or len(parent) <= _MIN_PROSE_SIBLINGS:
            return False
        if parent not in prose_children:
            prose_children[parent] = sum(1 for child in parent.iterchildren(*_PROSE_TAGS) if is_prose_element(child))
        count = prose_children[parent] - (el.tag in _PROSE_TAGS and is_prose_element(el))
        return count >= _MIN_PROSE_SIBLINGS

    found = []
    for el in root.iter(*_CANDIDATES):
        if found and any(anc in found for anc in el.iterancestors()):
            continue
        has_link = el.tag == "a" or next(el.iterdescendants("a"), None) is not None
        if has_link and between_paragraphs(el) and is_inline_related(el, page_url):
            found.append(el)
    for el in found:
        el.drop_tree()
    return len(found)


def test_the_same_blocks_are_dropped_as_before_on_real_and_fixture_pages():
    """The finder asks its cheapest test first and reads a childless element's text from `text`: the
    same blocks go, on every fixture and eval page (as a worker parses them) and on the shapes above
    (dropped, kept, nested, a teaser with a comment inside, several in a row)."""
    from pathlib import Path

    from archive.eval_generic import load_pages
    from archive.extract.html_parser import HTML_PARSER
    from testbed.fixture_pages import pages, url_for

    docs = [(p.read_bytes(), url_for(p)) for p in pages()]
    docs += [(p.html, p.url) for p in load_pages(Path(__file__).parent / "fixtures" / "eval-generic")]
    shapes = [*TEASERS.values(), *KEPT.values(), f"<div>{TEASERS['list-of-headlines']}</div>",
              TEASERS["see-also-paragraph"].replace("</strong>", "<!-- x --></strong>")]
    docs.append((f"<html><body><div>{P_BEFORE}{''.join(shapes)}{P_AFTER}{P_BEFORE}</div></body></html>", PAGE))
    dropped = 0
    for html, url in docs:
        ours, before = (lxml.html.document_fromstring(html, parser=HTML_PARSER) for _ in range(2))
        count = drop_inline_related(ours, url)
        assert count == _drop_as_before(before, url), url
        assert lxml.html.tostring(ours) == lxml.html.tostring(before), url
        dropped += count
    assert dropped >= 8


def test_box_size_is_the_split_word_count_in_range():
    """`_box_sized` stops splitting after `_MAX_BLOCK_WORDS` words: the same answer as counting every
    word, around the bound and with every kind of whitespace between and around the words."""
    from archive.extract.inline_related import _MAX_BLOCK_WORDS, _box_sized

    spaces = (" ", "  ", "\n", "\t", "\xa0", "\u2003", "\u3000", "\x1c")
    texts = ["", " ", "\n\xa0", "x"]
    for n in (1, 2, _MAX_BLOCK_WORDS - 1, _MAX_BLOCK_WORDS, _MAX_BLOCK_WORDS + 1, _MAX_BLOCK_WORDS + 2, 500):
        for i, space in enumerate(spaces):
            words = space.join(f"từ{k}" for k in range(n))
            texts += [words, space + words, words + space, space + words + spaces[i - 1] * 3]
    for text in texts:
        assert _box_sized(text) == (0 < len(text.split()) <= _MAX_BLOCK_WORDS), repr(text[:40])
