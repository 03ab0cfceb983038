"""Extraction on a host with no profile (issue 18): the defects found on real pages, one test each.

Each failed before its fix: a comment inside a paragraph cut it; text after a subheading (its tail)
was lost; the meta description became a lead that repeated the body or that no reader sees; a
caption repeated under every photo of a gallery; an og:type "website" story was turned down; the
chunks of a body cut by ads after the first were lost.
"""
from __future__ import annotations

import lxml.html

from archive.extract.body_chunks import other_chunks
from archive.extract.article import extract_article

URL = "https://tin.example.vn/doan-dai-bieu-tinh-savannakhet-tham-quang-tri"
TITLE = "Đoàn đại biểu tỉnh Savannakhet thăm Quảng Trị"
P = [
    "Sáng 12/9, đoàn đại biểu tỉnh Savannakhet đã đến thăm và làm việc tại tỉnh Quảng Trị, mở đầu chuyến công "
    "tác ba ngày tại Việt Nam.",
    "Hai bên trao đổi về kết quả hợp tác trong các lĩnh vực giáo dục, y tế và thương mại trong năm qua, đồng "
    "thời bàn các giải pháp tháo gỡ vướng mắc tại cửa khẩu.",
    "Lãnh đạo tỉnh Quảng Trị đề nghị tiếp tục tạo thuận lợi cho hoạt động xuất nhập khẩu qua cửa khẩu Lao Bảo "
    "- Đensavẳn và mở rộng đào tạo lưu học sinh.",
    "Phía Lào cảm ơn sự giúp đỡ chân thành của tỉnh trong đào tạo nguồn nhân lực và mong muốn hai bên ký kết "
    "biên bản hợp tác giai đoạn mới.",
]


def article(body: str, *, description: str | None = None, og_type: str = "article", title: str = TITLE):
    meta = f'<meta name="description" content="{description}">' if description else ""
    html = (f'<html lang="vi"><head><title>{title}</title>{meta}<meta property="og:type" content="{og_type}">'
            f"</head><body><nav><a href='/'>Trang chủ</a></nav><article><h1>{title}</h1>{body}</article>"
            "<footer><p>Bản quyền thuộc về Tin Example.</p></footer></body></html>")
    return extract_article(html, URL, None)


def paragraphs(texts=P) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def test_a_comment_inside_a_paragraph_does_not_cut_it():
    first, rest = P[0].split(", mở đầu")
    got = article(f"<p>{first}<!-- -->, mở đầu{rest}</p>" + paragraphs(P[1:]))
    assert got.is_article, got.reason
    assert got.paragraphs[0] == P[0]


def test_text_after_a_subheading_in_no_paragraph_is_kept():
    got = article(paragraphs(P[:2]) + f"<h2>Mở rộng hợp tác</h2>{P[2]}" + paragraphs(P[3:]))
    assert got.paragraphs == [P[0], P[1], "Mở rộng hợp tác", P[2], P[3]]


def test_a_description_the_body_already_says_is_no_lead():
    got = article(paragraphs(), description=f"{P[0]} {P[1]}")
    assert got.lead is None and got.text == "\n".join(P)


def test_a_description_no_reader_sees_is_no_lead():
    got = article(paragraphs(), description="Tin tức mới nhất về hợp tác Việt Nam - Lào, cập nhật liên tục 24/7.")
    assert got.lead is None


def test_a_shown_sapo_cut_short_by_the_description_is_the_lead_in_full():
    sapo = ("Chuyến thăm nhằm cụ thể hóa thỏa thuận hợp tác giữa hai tỉnh, góp phần vun đắp quan hệ hữu nghị "
            "vĩ đại, đoàn kết đặc biệt Việt Nam - Lào.")
    got = article(f'<div class="sapo">{sapo}</div>' + paragraphs(), description=sapo[:90] + "...")
    assert got.lead == sapo
    assert got.text.count("Chuyến thăm nhằm") == 1


def test_a_description_that_is_the_headline_is_no_lead():
    assert article(paragraphs(), description=TITLE).lead is None


def test_a_caption_under_several_photos_is_kept_once():
    box = ('<table class="image"><tr><td><img src="/anh-{n}.jpg" alt=""></td></tr>'
           "<tr><td>Quang cảnh buổi làm việc. (Ảnh: TTXVN)</td></tr></table>")
    got = article(paragraphs(P[:2]) + box.format(n=1) + paragraphs(P[2:3]) + box.format(n=2) + paragraphs(P[3:]))
    assert got.paragraphs.count("Quang cảnh buổi làm việc. (Ảnh: TTXVN)") == 1


def test_a_story_typed_as_website_is_an_article():
    got = article(paragraphs(), og_type="website")
    assert got.is_article, got.reason


def test_a_listing_is_turned_down_by_the_page_gate():
    teasers = "".join(f'<div><h3><a href="/tin-{i}-12345{i}.html">Hợp tác Việt - Lào số {i}</a></h3>'
                      f"<p>{P[i % 4]}</p></div>" for i in range(10))
    got = article(teasers)
    assert not got.is_article and "listing" in got.reason


MORE = [
    "Chiều 13/9, đoàn đến thăm Khu kinh tế - thương mại đặc biệt Lao Bảo và nghe báo cáo về tình hình thu hút "
    "đầu tư, hoạt động logistics và kho bãi tại khu vực cửa khẩu.",
    "Tại buổi làm việc, các doanh nghiệp hai nước kiến nghị đơn giản hóa thủ tục hải quan, kéo dài thời gian "
    "thông quan và đầu tư thêm bãi đỗ xe cho phương tiện chở hàng quá cảnh.",
    "Sáng 14/9, đoàn dâng hương tại Nghĩa trang liệt sĩ Quốc gia Trường Sơn, tưởng niệm các anh hùng liệt sĩ "
    "Việt Nam và quân tình nguyện đã hy sinh trên chiến trường Lào.",
    "Kết thúc chuyến thăm, hai tỉnh ký biên bản ghi nhớ về hợp tác giai đoạn 2025-2030, tập trung vào nông "
    "nghiệp, du lịch, giáo dục và kết nối hạ tầng giao thông qua biên giới.",
]


def test_the_other_chunks_of_a_body_are_found():
    """Ads between containers of one template: trafilatura reads the first (one real page lost half
    its text); the others are read from the page, in page order."""
    chunk = '<div class="article__body grid-item">{}</div>'
    tree = lxml.html.document_fromstring(
        "<html><body>" + chunk.format(paragraphs(MORE[:2])) + '<div class="ad"><p>Quảng cáo</p></div>'
        + chunk.format(paragraphs(P)) + '<div class="ad"><p>Quảng cáo</p></div>'
        + chunk.format("<h2>Ký biên bản ghi nhớ</h2>" + paragraphs(MORE[2:]))
        + '<div class="article__body grid-item"><p><a href="/tin-1">Tin liên quan</a></p></div>'  # no prose
        + "</body></html>")
    assert other_chunks(tree, P) == (MORE[:2], ["Ký biên bản ghi nhớ", *MORE[2:]])
    # Paragraphs of a container without a class, or found once, say nothing about a template.
    assert other_chunks(lxml.html.document_fromstring(f"<div>{paragraphs(P)}</div><div>{paragraphs(MORE)}</div>"),
                        P) == ([], [])
    assert other_chunks(tree, P[:1]) == ([], [])


def test_the_next_story_loaded_below_is_not_a_chunk():
    chunk = '<div class="article__body grid-item">{}</div>'
    for second in (f"<h1>Tin tiếp theo</h1>{chunk.format(paragraphs(MORE))}",
                   f"<article>{chunk.format(paragraphs(MORE))}</article>"):
        tree = lxml.html.document_fromstring(
            f"<html><body><article><h1>{TITLE}</h1>{chunk.format(paragraphs(P))}</article>{second}</body></html>")
        assert other_chunks(tree, P) == ([], [])


def test_chunks_are_looked_for_only_where_a_container_s_class_comes_twice(monkeypatch):
    """`other_chunks` reads the paragraphs only when an element holding two `<p>`s or more shares its
    class with another element of its tag, neither inside nor around it (`_may_be_chunked`): the same
    chunks as reading them always, on every fixture and eval page as body.py hands it them (after
    trafilatura, with its paragraphs) and on containers whose twin is nested, of another tag, without
    a class, or holding one `<p>`."""
    from pathlib import Path

    from archive.eval_generic import load_pages
    from archive.extract import body as body_mod, body_chunks
    from archive.extract.html_parser import HTML_PARSER
    from testbed.fixture_pages import pages, url_for

    seen = []
    monkeypatch.setattr(body_mod, "other_chunks", lambda tree, paragraphs: (
        seen.append((tree, list(paragraphs))), body_chunks.other_chunks(tree, paragraphs))[1])
    docs = [(p.read_bytes(), url_for(p)) for p in pages()]
    docs += [(p.html, p.url) for p in load_pages(Path(__file__).parent / "fixtures" / "eval-generic")]
    for html, url in docs:
        extract_article(html, url)
    chunk = '<div class="article__body">{}</div>'
    shapes = [chunk.format(paragraphs(P) + chunk.format(paragraphs(MORE))),  # the twin inside
              chunk.format(paragraphs(P)) + f'<section class="article__body">{paragraphs(MORE)}</section>',
              chunk.format(paragraphs(P)) + f"<div>{paragraphs(MORE)}</div>",
              chunk.format(paragraphs(P)) + chunk.format(paragraphs(MORE[:1])),
              chunk.format(paragraphs(P[:1])) + chunk.format(paragraphs(MORE)),
              chunk.format(paragraphs(P)) + chunk.format(paragraphs(MORE))]
    seen += [(lxml.html.document_fromstring(f"<html><body>{shape}</body></html>", parser=HTML_PARSER), P)
             for shape in shapes]
    found = 0
    for tree, paragraphs_ in seen:
        chunks = body_chunks.other_chunks(tree, paragraphs_)
        with monkeypatch.context() as always:
            always.setattr(body_chunks, "_may_be_chunked", lambda tree: True)
            assert chunks == body_chunks.other_chunks(tree, paragraphs_)
        found += chunks != ([], [])
    assert len(seen) > 100 and found >= 2


def test_json_ld_is_parsed_once_for_the_gate_and_the_metadata(monkeypatch):
    """A page's JSON-LD scripts are parsed once (`json_ld._PARSED`): the page gate and the metadata
    get the same objects, equal to a fresh parse (lists and @graph flattened, trailing commas and
    comment wrappers tolerated); the memo stays bounded, and a script longer than its bound is
    answered without being kept."""
    from archive.extract import json_ld
    from archive.extract.article import parse_page
    from archive.extract.metadata import read_structured
    from archive.extract.page_gate import judge_page

    monkeypatch.setattr(json_ld._PARSED, "LIMIT", 3)
    json_ld._PARSED.clear()
    parsed: list[str] = []
    parse = json_ld._PARSED.compute
    monkeypatch.setattr(json_ld._PARSED, "compute", lambda raw: parsed.append(raw) or parse(raw))
    script = ('<!-- {"@graph": [{"@type": "NewsArticle", "headline": "Tin a", "datePublished": '
              '"2024-05-01T08:00:00+07:00",}, {"@type": "Organization", "name": "Báo"}]} -->')
    page = parse_page(f"<html><head><script type='application/ld+json'>{script}</script></head><body><h1>Tin a</h1>"
                      + "<p>Một câu dài đủ để đọc như một đoạn văn của bài báo này. Câu thứ hai tiếp theo ở đây.</p>" * 4
                      + "</body></html>", "https://example.vn/tin-a-1.html")
    assert judge_page(page.tree).structured == "article"
    assert read_structured(page.tree).headline == "Tin a"
    assert parsed == [script]  # the gate's parse served the metadata too
    objects = json_ld.json_ld_objects(script)
    assert objects is json_ld.json_ld_objects(script) and objects == json_ld._objects(script)
    assert [o.get("@type") for o in objects] == [None, "NewsArticle", "Organization"]
    for n in range(5):
        json_ld.json_ld_objects(f'{{"@type": "WebPage", "n": {n}}}')
        assert len(json_ld._PARSED) <= 3
    long = '{"@type": "WebSite", "x": "' + "a" * json_ld._Parsed.MAX_CHARS + '"}'
    assert json_ld.json_ld_objects(long)[0]["@type"] == "WebSite" and long not in json_ld._PARSED
    json_ld._PARSED.clear()
