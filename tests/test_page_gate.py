"""The page gate for hosts with no profile (archive/extract/page_gate.py): an article is told by its page,
a headline and one main block of running text, not by the URL shape or og:type."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from archive.eval_generic import load_pages
from archive.extract.page_gate import is_prose, judge_page, reading_words, sentence_ends
from testbed.fixture_pages import gold_for, pages, url_for

SENTENCES = [
    "Sáng 12/9, đoàn đại biểu tỉnh Savannakhet đã đến thăm và làm việc tại tỉnh Quảng Trị.",
    "Hai bên trao đổi về kết quả hợp tác trong các lĩnh vực giáo dục, y tế và thương mại.",
    "Lãnh đạo tỉnh Quảng Trị đề nghị tiếp tục tạo thuận lợi cho hoạt động xuất nhập khẩu qua cửa khẩu.",
    "Phía Lào cảm ơn sự giúp đỡ chân thành của tỉnh trong đào tạo nguồn nhân lực.",
    "Hai tỉnh thống nhất tổ chức hội nghị đánh giá hợp tác vào cuối năm nay.",
    "Nhân dịp này, đoàn đã thăm một số mô hình sản xuất nông nghiệp công nghệ cao.",
]


def page(body: str, head: str = "") -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head><title>Tin tức</title>{head}</head><body>{body}</body></html>")


def paragraphs(n: int, tag: str = "p") -> str:
    return "".join(f"<{tag}>{SENTENCES[i % len(SENTENCES)]} {SENTENCES[(i + 1) % len(SENTENCES)]}</{tag}>"
                   for i in range(n))


def teasers(n: int, *, linked_titles: bool = True) -> str:
    title = ('<h3><a href="/tin-{i}-12345{i}.html">Hợp tác Việt - Lào trong lĩnh vực số {i}</a></h3>' if linked_titles
             else '<div class="title">Hợp tác Việt - Lào trong lĩnh vực số {i}</div>')
    return "".join(f'<div class="item">{title.format(i=i)}<p>{SENTENCES[i % len(SENTENCES)]}</p>'
                   f'<a href="/tin-{i}-12345{i}.html">Xem tiếp</a></div>' for i in range(n))


H1 = "<h1>Đoàn đại biểu tỉnh Savannakhet thăm Quảng Trị</h1>"
OG_ARTICLE = '<meta property="og:type" content="article">'
OG_WEBSITE = '<meta property="og:type" content="website">'
COLLECTION = '<script type="application/ld+json">{"@type": "CollectionPage", "name": "Hữu nghị"}</script>'
FOOTER = ('<div class="site-footer"><p>Tạp chí điện tử Thời Đại - Cơ quan của Liên hiệp các tổ chức hữu nghị Việt '
          'Nam.</p><p>Giấy phép hoạt động báo chí điện tử số 123/GP-BTTTT. Bản quyền thuộc về Tạp chí Thời Đại. '
          'Ghi rõ nguồn khi phát hành lại thông tin từ website này. Mọi ý kiến xin gửi về tòa soạn.</p></div>')
BRIEF_64_WORDS = ("<p>Chiều 20/3, tại cửa khẩu Lao Bảo, lực lượng chức năng hai nước Việt Nam và Lào đã tổ chức "
                  "tuần tra song phương đợt một năm 2025. Đợt tuần tra kéo dài hai ngày trên tuyến biên giới dài "
                  "hơn 20 km. Hai bên trao đổi thông tin về tình hình an ninh trật tự và thống nhất phối hợp "
                  "chặt chẽ trong thời gian tới.</p>")
JAPANESE = ("<p>東京都は二十日、新しい防災計画を発表した。計画では、大地震の発生に備えて避難所の数を増やし、"
            "食料や水の備蓄を強化する。都の担当者は、住民一人ひとりが日頃から備えることが大切だと話した。</p>"
            "<p>また、高齢者や障害のある人の避難を支援する体制も整える。計画は来年四月から実施される予定だ。</p>")
KOREAN = ("<p>서울시는 20일 새로운 대중교통 계획을 발표했다. 계획에 따르면 시내버스 노선이 개편되고 지하철 "
          "운행 간격이 줄어든다. 시 관계자는 시민들의 출퇴근 시간이 크게 단축될 것이라고 말했다. 새 계획은 "
          "내년 상반기부터 단계적으로 시행된다.</p>")


@pytest.mark.parametrize("body,head,expected", [
    (H1 + paragraphs(4), "", True),  # slug URL, no structured data: the text says it
    (H1 + paragraphs(4), OG_WEBSITE, True),  # og:type website on a news story
    (H1 + BRIEF_64_WORDS, "", True),  # a genuine 64-word news brief
    (H1 + JAPANESE, "", True),  # no spaces between words
    (H1 + KOREAN, "", True),
    (H1 + "<div class='content'>" + "<br><br>".join(SENTENCES) + "</div>", "", True),  # text in div/br, no <p>
    ("<form id='aspnetForm'>" + H1 + paragraphs(4) + "</form>", "", True),  # ASP.NET wraps the page in a form
    (H1 + teasers(12), OG_ARTICLE, False),  # a listing typed as an article
    (H1 + teasers(12, linked_titles=False), "", False),  # teaser titles without links
    (H1 + teasers(8) + FOOTER, "", False),  # the footer's licence lines are not a main text
    (H1 + paragraphs(2) + teasers(10), COLLECTION, False),  # a tag page with an intro
    (H1 + f"<div style='display: none'>{paragraphs(5)}</div>" + teasers(6), "", False),  # hidden text
    (paragraphs(6).replace("<title>", ""), "", True),  # no <h1>, but <title> is the headline
    ("<h1>Tin</h1><p>Ngắn.</p>", OG_ARTICLE, False),
])
def test_judge_page(body, head, expected):
    verdict = judge_page(page(body, head))
    assert verdict.is_article is expected, verdict.reason


def test_without_any_headline_it_is_no_article():
    tree = lxml.html.document_fromstring(f"<html><body>{paragraphs(6)}</body></html>")
    verdict = judge_page(tree)
    assert not verdict.is_article and verdict.reason == "no headline"


def test_verdict_says_what_it_saw():
    verdict = judge_page(page(H1 + teasers(12), OG_ARTICLE))
    assert verdict.structured == "article" and verdict.headline
    assert verdict.reason.startswith("not an article: main text block of 1 sentences")
    assert "listing or hub page" in verdict.reason


@pytest.mark.parametrize("text,words", [
    ("Hà Nội hôm nay, 25/1/2025", 5),
    ("東京は晴れです", 7),  # one word per Chinese/Japanese character, as word processors count
    ("iPhone 11の発売", 5),
    ("서울시는 20일 새로운 계획을 발표했다", 9),  # 15 Korean syllables and a number
    ("— … !", 0),
])
def test_reading_words(text, words):
    assert reading_words(text) == words


# The listing/article decision on the target sites' fixture pages, judged as if no profile knew them.
@pytest.mark.parametrize("fixture", pages(), ids=lambda p: url_for(p).split("://", 1)[1][-50:])
def test_fixture_pages_are_told_apart_without_a_profile(fixture):
    verdict = judge_page(lxml.html.document_fromstring(fixture.read_bytes()))
    is_listing = not gold_for(fixture).exists() and "-post830203.html" not in fixture.name  # 830203: a short article
    assert verdict.is_article is not is_listing, verdict.reason


@pytest.mark.parametrize("wrapper", ['<div class="wrapper has-footer">', '<div id="app" style="display: none">'])
def test_a_wrapper_around_the_headline_is_read(wrapper):
    """A page hidden until its scripts run, or a wrapper whose class names the footer, holds the article."""
    assert judge_page(page(f"{wrapper}{H1}{paragraphs(4)}</div>")).is_article


def test_comments_and_processing_instructions_do_not_change_the_verdict():
    """The extraction reuses the verdict the link reading got on the parsed page (ParsedPage.verdict)
    although it works on a copy without comments and processing instructions: the gate skips them
    and joins the text around them, so both read alike, reason included."""
    trees = [lxml.html.document_fromstring(p.read_bytes()) for p in pages()]
    trees += [lxml.html.document_fromstring(p.html) for p in load_pages(Path(__file__).parent / "fixtures" / "eval-generic")]
    trees.append(page(f"{H1}<p>Một<!-- x -->hai<?php echo 1 ?> ba.</p><!-- y -->{paragraphs(3)}"
                      f"<a href='/x'>Tin<!-- z --> khác</a>"))
    for tree in trees:
        stripped = copy.deepcopy(tree)
        etree.strip_tags(stripped, etree.Comment, etree.ProcessingInstruction)
        assert judge_page(stripped) == judge_page(tree)


def test_reading_words_counts_the_tokens_with_a_letter_or_digit_for_every_character():
    """reading_words counts with a regular expression; it must agree with its definition
    (whitespace tokens with an alphanumeric character, str.split and str.isalnum) on every character of the two first planes."""
    def by_definition(text: str) -> int:
        return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))

    cjk_or_hangul = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]")
    chars = [chr(cp) for cp in range(0x20000) if not 0xD800 <= cp < 0xE000 and not cjk_or_hangul.match(chr(cp))]
    for start in range(0, len(chars), 128):  # in chunks: one call a character takes seconds
        text = " ".join(f"{c} a{c}b _{c}_" for c in chars[start:start + 128])
        assert reading_words(text) == by_definition(text), hex(ord(chars[start]))


@pytest.mark.parametrize("start", ["", "— | — " * 70, "한국 " * 150, "中文" * 300, "a.b " * 100, "x" * 500 + " "])
@pytest.mark.parametrize("rest", ["", " word" * 3, " 한국어" * 400, " " + "中" * 900, " ." * 900])
def test_is_prose_reads_the_start_of_a_long_text_only_when_that_decides(start, rest):
    """is_prose counts words from the start of a long text when they are enough; the answer is the
    full count's, whatever scripts come after (Korean syllables count half, CJK characters one)."""
    text = start + rest + " Một câu."
    assert is_prose(text) == (reading_words(text) >= 8 and sentence_ends(text) > 0)


@pytest.mark.parametrize("names", ["site-footer", "Site-FOOTER x", "cookie_notice", "GDPR", "main content", "conſent",
                                   "cooKie", "f_share_tools_footer_on", "", "footers-are-long-x-y", "copy right"])
def test_the_chrome_name_prefilter_never_hides_a_match(names):
    """_skipped asks the expression only when _may_name_chrome says a name could match it."""
    from archive.extract.page_gate import _CHROME_NAME, _may_name_chrome

    assert _may_name_chrome(names) or not any(_CHROME_NAME.match(name) for name in names.split())


def test_sentence_end_expression_matches_what_its_plain_form_matches():
    """`_SENTENCE_END` is written to start with one character class (for speed); it finds exactly
    what the plain `[.!?…]+["'”’»)\\]]*(?=\\s|$)|[。！？]` finds: on every eval page's text and on
    random strings of the characters that matter."""
    import random

    from archive.extract.page_gate import _SENTENCE_END

    plain = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s|$)|[。！？]")
    eval_dir = Path(__file__).parent / "fixtures" / "eval-generic"
    texts = [lxml.html.document_fromstring(page.html).text_content() for page in load_pages(eval_dir)]
    rng = random.Random(7)
    alphabet = list(".!?…。！？\"'”’»)] \n\tab")
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    for text in texts:
        assert [m.span() for m in _SENTENCE_END.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_at_least_words_is_the_full_count_compared():
    """`_at_least_words` stops at the n-th word of a text without East Asian characters."""
    import random

    from archive.extract.page_gate import _at_least_words

    rnd = random.Random(17)
    pieces = ["Một", "câu", "2024", "-", "—", "|", "a.b", "_", "x_y", " ", "  ", "\n", "\xa0", "한국", "中", "ー", "é"]
    texts = ["".join(rnd.choice(pieces) + rnd.choice(" \n") for _ in range(rnd.randint(0, 30))) for _ in range(3000)]
    texts += ["x" * 2000 + " a" * k for k in range(12)]
    for text in texts:
        for n in (0, 1, 7, 8, 9, 20):
            assert _at_least_words(text, n) == (reading_words(text) >= n), (text, n)


def test_remembered_chrome_names_give_what_the_expression_gives():
    """`_skipped` remembers each class-and-id string's verdict (`_NAMES_CHROME`): on every element
    of the fixture and eval pages, asked twice (once computed, once remembered), it answers as the
    plain test does; a long string is answered but not kept."""
    from archive.extract import page_gate
    from archive.extract.page_gate import _CHROME_NAME, _HIDDEN_STYLE, _may_name_chrome, _skipped

    def plain(el) -> bool:
        style = el.get("style")
        hidden = el.get("hidden") is not None or (style is not None and bool(_HIDDEN_STYLE.search(style)))
        if not hidden:
            names = f"{el.get('class') or ''} {el.get('id') or ''}"
            if el.tag in ("body", "html") or not _may_name_chrome(names) or \
                    not any(_CHROME_NAME.match(name) for name in names.split()):
                return False
        return el.find(".//h1") is None

    eval_dir = Path(__file__).parent / "fixtures" / "eval-generic"
    htmls = [p.html for p in load_pages(eval_dir)] + [path.read_bytes() for path in pages()]
    htmls.append(f"<html><body><div class='{'x ' * 150}site-footer'>{paragraphs(2)}</div>{H1}</body></html>")
    page_gate._NAMES_CHROME.clear()
    elements = [el for html in htmls for el in lxml.html.document_fromstring(html).iter()
                if isinstance(el.tag, str)]
    skipped = 0
    for _ in range(2):
        for el in elements:
            assert _skipped(el) == plain(el)
            skipped += plain(el)
    assert skipped and page_gate._NAMES_CHROME
    assert not any(len(names) > page_gate._NAMES_CHROME.MAX_CHARS for names in page_gate._NAMES_CHROME)


def test_counted_tokens_are_the_counted_token_expression_s_matches():
    """`_counted_tokens` (split, less the tokens without a letter or digit) counts what
    `_COUNTED_TOKEN` matches, and what the whole-text scan it replaced took off the split's count
    (`uncounted`), on the eval pages' text and on random strings of spaces, letters, digits, marks,
    underscores and punctuation, and of words with punctuation attached."""
    import random

    from archive.extract.page_gate import _COUNTED_TOKEN, _counted_tokens

    uncounted = re.compile(r"\s(?:[^\w\s]|_)+(?=\s|$)")  # (session 21's form)
    eval_dir = Path(__file__).parent / "fixtures" / "eval-generic"
    texts = [lxml.html.document_fromstring(page.html).text_content() for page in load_pages(eval_dir)]
    rng = random.Random(11)
    alphabet = list(" \n\t\xa0\u2003_-—|.,:a9Đế\u0301\u200b¶€") + ["__", "--", " - ", "\r\n"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16))) for _ in range(30_000)]
    pieces = ["Lào,", "(TTXVN)", "“Hà", "Nội”", "-", "–", "…", "_", "x_", "2024.", "\u0301", "ー", "中", "한", "·", " ", "\n"]
    texts += [" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(10_000)]
    for text in texts:
        assert _counted_tokens(text) == len(_COUNTED_TOKEN.findall(text)), repr(text)
        assert _counted_tokens(text) == len(text.split()) - len(uncounted.findall(" " + text)), repr(text)


def test_structured_data_and_headline_read_from_one_walk_as_from_four():
    """`_structured` and `_has_headline` read the page's script, meta, h1 and title elements found in
    one walk (`_declaring_elements`); they answer as the four walks before did, on every fixture and
    eval page, on markup where order and place matter, and on a root that is itself a `title` (a
    `find(".//title")` never returned the root)."""
    from archive.extract.json_ld import ARTICLE_TYPES, json_ld_objects
    from archive.extract.page_gate import _LISTING_TYPES, _declaring_elements, _has_headline, _structured

    def structured_by_walks(root) -> str:
        types = set()
        for script in root.iter("script"):
            if (script.get("type") or "").strip().lower() == "application/ld+json":
                for obj in json_ld_objects(script.text or ""):
                    kind = obj.get("@type")
                    types.update(t.lower() for t in ([kind] if isinstance(kind, str) else (kind or [])) if isinstance(t, str))
        for meta in root.iter("meta"):
            if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:type":
                types.add((meta.get("content") or "").strip().lower())
        return "article" if types & ARTICLE_TYPES else "listing" if types & _LISTING_TYPES else ""

    def headline_by_walks(root) -> bool:
        if any("".join(el.itertext()).strip() for el in root.iter("h1")):
            return True
        if any((m.get("property") or m.get("name") or "").strip().lower() in ("og:title", "twitter:title")
               and (m.get("content") or "").strip() for m in root.iter("meta")):
            return True
        title = root.find(".//title")
        return title is not None and bool("".join(title.itertext()).strip())

    eval_dir = Path(__file__).parent / "fixtures" / "eval-generic"
    roots = [lxml.html.document_fromstring(p.read_bytes()) for p in pages()]
    roots += [lxml.html.document_fromstring(p.html) for p in load_pages(eval_dir)]
    roots += [page(f"<h1> </h1><h1>{H1}</h1>", OG_WEBSITE + COLLECTION + OG_ARTICLE),
              lxml.html.document_fromstring("<html><head><title> </title></head><body><title>Tin</title></body></html>"),
              lxml.html.document_fromstring("<html><body><p>x</p></body></html>"),
              page("", '<meta name="twitter:title" content=" "><meta property="OG:TITLE" content="Tin">')]
    title_root = page("").find(".//title")
    roots += [title_root, page(H1).find(".//h1"), page("<p>x</p>").find(".//body")]
    for root in roots:
        found = _declaring_elements(root)
        assert _structured(found) == structured_by_walks(root)
        assert _has_headline(found, root) == headline_by_walks(root)
    assert not _has_headline(_declaring_elements(title_root), title_root)


def test_at_least_words_from_the_first_tokens_on_real_text():
    """`_at_least_words`'s quick answer from the first n tokens is the full count's on the text of
    every element of the eval pages (every script, with East Asian ones: the quick answer is taken
    only without them in the first tokens), for small and large n."""
    from archive.extract.page_gate import _at_least_words

    eval_dir = Path(__file__).parent / "fixtures" / "eval-generic"
    texts = {el.text_content() for p in load_pages(eval_dir) for el in lxml.html.document_fromstring(p.html).iter()
             if isinstance(el.tag, str) and len(el.text_content()) < 5000}
    texts |= {"a " * 7 + "中", "한 " * 8, "a b c d e f g 한국어", "x_ " * 9, "a\xa0b c d e f g h", "1 2 3 4 5 6 7 8"}
    # Long texts: the first tokens are read from the first 400 characters; a token the cut splits
    # is not counted whole.
    texts |= {"w " * 7 + "x" * 500, "w " * 7 + "x" * 393 + " " + "-" * 900, "-" * 399 + " a" * 900,
              "w " * 199 + "中" * 10 + " -" * 500, "w " * 14 + "x" * 372 + "中 " * 600, "Một câu. " * 300}
    for text in texts:
        for n in (1, 3, 8, 15, 40):
            assert _at_least_words(text, n) == (reading_words(text) >= n), (text[:80], n)


def _main_block_counting_every_unit(units) -> tuple[int, int]:
    """`_main_block` as it was before session 16 (the reference): every unit's own and link words counted in full."""
    from archive.extract.page_gate import _NEUTRAL_MAX_WORDS, _TITLE_LIKE_MAX_WORDS, _sentences

    best, sentences, words = (0, 0), 0, 0
    for heading, text_pieces, link_pieces in units:
        text = "".join(text_pieces)
        own = reading_words(text) if text else 0
        linked = reading_words(" ".join(link_pieces)) if link_pieces else 0
        if not own and not linked:
            continue
        may_be_prose = not heading and own > linked
        ends = _sentences(text) if may_be_prose else 0
        if may_be_prose and (ends or own > _TITLE_LIKE_MAX_WORDS):
            sentences, words = sentences + max(ends, 1), words + own
            best = max(best, (sentences, words))
        elif heading or own + linked > _NEUTRAL_MAX_WORDS:
            sentences = words = 0
    return best


def test_main_block_counts_only_what_decides_as_the_full_counts_did():
    """`_main_block` reads a heading only for whether it has a word, a blank text as none and a unit
    without own words only for whether its links say five: the same main block as counting every
    unit in full, on the units of every fixture and eval page and on generated runs (blank texts of
    every kind of space, headings and link lines of 0 to 6 words, dashes, East Asian text)."""
    import random

    from archive.extract.page_gate import _main_block, _units

    eval_dir = Path(__file__).parent / "fixtures" / "eval-generic"
    roots = [lxml.html.document_fromstring(p.read_bytes()) for p in pages()]
    roots += [lxml.html.document_fromstring(p.html) for p in load_pages(eval_dir)]
    runs = [_units(root) for root in roots]
    rnd = random.Random(16)
    pieces = ["Một", "câu", "dài.", "2024", "-", "—", "|", "_", " ", "\n", "\xa0", "\u2003", "\x1c", "\u3000",
              "한국", "中文。", "end!", "x"]
    def text() -> list[str]:
        return ["".join(rnd.choice(pieces) + rnd.choice(" \n\t") for _ in range(rnd.choice((0, 1, 3, 4, 5, 6, 12, 30))))
                for _ in range(rnd.randint(0, 2))]
    for _ in range(400):
        runs.append([(rnd.random() < 0.2, text(), text() if rnd.random() < 0.5 else []) for _ in range(rnd.randint(1, 25))])
    for units in runs:
        assert _main_block(units) == _main_block_counting_every_unit(units)


def test_the_article_s_word_count_reads_the_lines_the_gate_counted_as_a_count_of_the_whole_text():
    """`lines_reading_words` is `reading_words` of the lines joined by newlines, whether each line was
    a unit the gate counted on the page (remembered), one it did not (counted), or one holding CJK
    or Korean text (whose syllable pairs count over the whole text: never remembered)."""
    import random

    from archive.extract import page_gate

    pieces = ["Hà Nội", "— |", "_", "a.b", "2024", "한국어", "한", "中文字", "かな", " ", "\u00a0", "\t", "x–y", ""]
    units = [*SENTENCES, "한국 사람 " + SENTENCES[0], "中文 " + SENTENCES[1], "— | —", "Một câu ngắn."]
    tree = page("<h1>Tiêu đề bài viết</h1>" + "".join(f"<p>{u}</p>" for u in units))
    rng = random.Random(20)
    for _ in range(300):
        judge_page(tree)
        counted = dict(page_gate._UNIT_WORDS)
        assert counted and all(page_gate._EAST_ASIAN.search(text) is None for text in counted)
        assert all(words == reading_words(text) for text, words in counted.items())
        lines = [rng.choice(units) if rng.random() < 0.6 else " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
                 for _ in range(rng.randint(0, 12))]
        assert page_gate.lines_reading_words(lines) == reading_words("\n".join(lines)), lines
    judge_page(page("<h1>Khác</h1><p>" + SENTENCES[2] + "</p>"))  # another page: the first one's units go
    assert set(page_gate._UNIT_WORDS) == {SENTENCES[2]}
    page_gate._UNIT_WORDS.clear()
    assert page_gate.lines_reading_words(SENTENCES[:2]) == reading_words("\n".join(SENTENCES[:2]))


def test_an_article_s_word_count_is_its_text_s_on_every_fixture_and_eval_page():
    from archive.extract import pool
    from archive.extract.links import ReadSpec
    from archive.sites.generic import generic_profile

    checked = 0
    eval_dir = Path(__file__).parent / "fixtures" / "eval-generic"
    for html, url in [*((p.html, p.url) for p in load_pages(eval_dir)), *((path.read_bytes(), url_for(path)) for path in pages())]:
        hints = generic_profile(url).extraction
        spec = ReadSpec(text="article", anchors=True, listing=ReadSpec(text="listing"))
        article, _, _ = pool._analyse(html, url, hints, None, spec, True)
        if article is not None and article.paragraphs:
            assert article.words == reading_words(article.text), url
            checked += 1
    assert checked > 50


def _units_by_a_stack_of_every_child(root) -> list:
    """The gate's units as its walk read them before session 21: a tuple pushed for every child and
    for every tail, popped in document order; the reference `_units` must give to the piece."""
    from archive.extract.page_gate import _BLOCKS, _CHROME, _HEADINGS, _skipped

    units: list = []
    body = root.find(".//body")
    stack = [(body if body is not None else root, None, False, None)]
    while stack:
        el, owner, in_link, tail = stack.pop()
        if el is None:
            owner[2 if in_link else 1].append(tail)
            continue
        if owner is not None and el.tail:
            stack.append((None, owner, in_link, el.tail))
        tag = el.tag
        if not isinstance(tag, str) or tag in _CHROME or _skipped(el):
            continue
        if tag in _BLOCKS:
            owner = (tag in _HEADINGS, [], [])
            units.append(owner)
        elif tag == "a" and el.get("href"):
            in_link = True
        elif tag == "br" and owner is not None:
            owner[1].append("\n")
        if owner is not None and el.text:
            owner[2 if in_link else 1].append(el.text)
        stack.extend((child, owner, in_link, None) for child in reversed(el))
    return units


def test_units_walked_by_children_iterators_are_the_units_of_a_stack_walk():
    """`_units` (frames of lxml's child iterators, a leaf's tail placed at once) reads the same units,
    the same pieces in the same order, as a walk pushing every child and tail: on every fixture and
    eval page, on bench pages of both hosts, on odd markup (comments, processing instructions and
    skipped or chrome elements with tails, links in blocks in links, `<br>`s, a bare fragment) and on
    random nestings of those, deep ones included."""
    import random

    from archive.extract.page_gate import _units
    from bench.default_site import GENERIC_HOST, DefaultSite
    from testbed.bench_site import HOST

    eval_dir = Path(__file__).parent / "fixtures" / "eval-generic"
    roots = [lxml.html.document_fromstring(p.read_bytes()) for p in pages()]
    roots += [lxml.html.document_fromstring(p.html) for p in load_pages(eval_dir)]
    roots += [lxml.html.document_fromstring(DefaultSite(8, host).render(n)) for host in (HOST, GENERIC_HOST) for n in range(3)]
    roots.append(page('a<!-- c -->b<?pi x?>c<nav>menu</nav>tail<div hidden>x</div>after<a href="/x">A<p>in '
                      'link<br>line</p>B</a>C<span style="display:none">h</span>D<div class="site-footer">f</div>E'))
    roots.append(lxml.html.fragment_fromstring("<span>loose <b>bold</b> text<p>para</p>end</span>"))
    rnd = random.Random(21)
    tags = ["div", "p", "span", "a", "b", "br", "h2", "li", "nav", "footer", "section", "em"]
    attributes = ["", ' href="/t"', ' class="site-footer"', ' hidden', ' style="display: none"', ' id="cookie_x"',
                  ' class="story"']

    def markup(depth: int) -> str:
        parts = []
        for _ in range(rnd.randint(0, 4)):
            kind = rnd.random()
            if kind < 0.3 or depth > 40:
                parts.append(rnd.choice(["Một câu.", " ", "\n", "chữ", "", "2024 -"]))
            elif kind < 0.38:
                parts.append(rnd.choice(["<!-- c -->", "<?pi x?>", "<br>"]))
            else:
                tag = rnd.choice(tags)
                inner = "" if tag == "br" else markup(depth + 1)
                parts.append(f"<{tag}{rnd.choice(attributes)}>{inner}</{tag}>" if tag != "br" else "<br>")
        return "".join(parts)

    roots += [page(markup(0) + ("<div>" * 120 + "sâu" + "</div>" * 120 if n % 50 == 0 else "")) for n in range(400)]
    for root in roots:
        assert _units(root) == _units_by_a_stack_of_every_child(root)


def test_main_block_counting_words_only_when_they_decide_is_the_full_count_s_block():
    """`_main_block` counts a prose unit's words only when a run's words decide (runs of as many
    sentences compared, the main block's at the end): the same block as counting every unit, on
    generated pages of many runs of equal sentences and different words (ties, a tie broken later
    in a run, runs that overtake), units with and without links, headings and title-like lines."""
    import random

    from archive.extract import page_gate
    from archive.extract.page_gate import _main_block

    rnd = random.Random(2116)
    sentences = ["Một câu ngắn.", "Hai bên trao đổi về kết quả hợp tác.", "Câu thứ ba dài hơn một chút nữa!",
                 "x y z.", "— |", "Tiêu đề không dấu chấm", " ".join(["chữ"] * 16), "한국어 문장입니다.", "中文。"]

    def unit() -> tuple:
        kind = rnd.random()
        if kind < 0.12:
            return (True, [rnd.choice(sentences)], [])
        text = [" ".join(rnd.choice(sentences) for _ in range(rnd.randint(0, 3)))]
        links = [rnd.choice(sentences)] if rnd.random() < 0.2 else []
        return (False, text, links)

    for _ in range(3000):
        units = [unit() for _ in range(rnd.randint(1, 30))]
        page_gate._UNIT_WORDS.clear()
        assert _main_block(units) == _main_block_counting_every_unit(units), units
        assert all(words == reading_words(text) for text, words in page_gate._UNIT_WORDS.items())


def test_one_word_is_there_when_a_letter_or_digit_outside_east_asian_ranges_is():
    """`_at_least_words(text, 1)` answers at the first letter or digit outside the East Asian ranges;
    without one (marks only, East Asian marks and letters, Korean alone) it is the full count's
    answer, on random strings of those pieces."""
    import random

    from archive.extract.page_gate import _at_least_words

    rnd = random.Random(2101)
    pieces = ["a", "đ", "7", "_", "-", "・", "゛", "ー", "中", "한", "。", "²", "½", "Ⅻ", " ", "\n", "\xa0", "“", "…"]
    for _ in range(20_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 6)))
        assert _at_least_words(text, 1) == (reading_words(text) >= 1), text



def test_no_east_asian_is_the_expression_s_answer_on_every_character():
    """`_no_east_asian` tells a text without East Asian characters by its UTF-8 bytes, the others by
    `_EAST_ASIAN`: the same answer for every code point alone and among Vietnamese text, for lone
    surrogates, and on the eval pages' text."""
    from archive.extract.page_gate import _EAST_ASIAN, _no_east_asian

    for cp in range(0x110000):
        char = chr(cp)
        for text in (char, f"Việt {char} Nam"):
            assert _no_east_asian(text) == (_EAST_ASIAN.search(text) is None), hex(cp)
    eval_dir = Path(__file__).parent / "fixtures" / "eval-generic"
    for page in load_pages(eval_dir):
        text = lxml.html.document_fromstring(page.html).text_content()
        assert _no_east_asian(text) == (_EAST_ASIAN.search(text) is None)
