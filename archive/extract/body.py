"""The article's body: paragraphs and images (`raw_body`), then the edges tidied
(`tidy_paragraphs`).

With hints, the hinted body element is cut out, inline related-article blocks dropped
(inline_related.py), photo boxes turned into caption paragraphs, and trafilatura reads that
element alone. Without hints, the page gate (page_gate.py) first decides whether the page
is an article, then trafilatura reads the whole page, plus the chunks of a body cut by ads
(body_chunks.py). Headline, dateline, sapo and byline echoes at the edges and stock widget
lines are removed (trafilatura can return them as body text: docs/pitfalls.md)."""
from __future__ import annotations

import copy
import re
from collections.abc import Callable
from urllib.parse import urljoin

import lxml.html
import trafilatura
from lxml import etree

from archive.extract.body_chunks import other_chunks
from archive.extract.hints import ExtractionHints, select, select_all
from archive.extract.html_parser import HTML_PARSER
from archive.extract.inline_related import drop_inline_related
from archive.extract.page_gate import PageVerdict, judge_page
from archive.extract.text import clean, text_of, word_count
from archive.extract.trafilatura_fast import faster_trafilatura
from archive.extract.trafilatura_options import trafilatura_arguments
from archive.extract.trafilatura_spared_copies import CopyNeeded, spared_copies
from archive.extract.xml_chars import RefusedCharacter, holds_xml_illegal, refused_by_lxml

__all__ = ["TRAFILATURA_OPTIONS", "photo_box_texts", "raw_body", "tidy_paragraphs"]

# The extraction settings are part of the output's identity (article.EXTRACTOR, in the manifest).
TRAFILATURA_OPTIONS = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
    "deduplicate": False,
}


def raw_body(work: etree._Element, hints: ExtractionHints, url: str, *, verdict: PageVerdict | None = None
             ) -> tuple[list[str], list[dict[str, str | None]], str]:
    """Raw body paragraphs and images of the page, or a reason why it has no article body.
    `verdict`: the page gate's on this page, when already known (else it is judged here)."""
    if hints.body:
        bodies = select(work, hints.body)
        if not bodies:
            return [], [], "no element matches the body hints (listing or hub page)"
        # Headline, sapo, dateline and byline inside the body would be read as text; so would
        # teasers of other articles placed between the paragraphs.
        for root in bodies:
            drop_inline_related(root, url)
            for selectors in (hints.title, hints.lead, hints.date, hints.author, hints.tags):
                for el in select_all(root, selectors):
                    if el is not root and el.getparent() is not None:
                        el.drop_tree()
        images: list[dict[str, str | None]] = []
        mini = lxml.html.document_fromstring("<html><body><article></article></body></html>", parser=HTML_PARSER)
        holder = mini.find(".//article")
        for root in bodies:
            images.extend(_captions_to_paragraphs(root, hints.captions, url))
            holder.append(copy.deepcopy(root))
        paragraphs, _ = _trafilatura_paragraphs(mini, url, include_images=False)
        return paragraphs or _dom_paragraphs(holder), images, ""
    # No site knowledge: the page itself says whether it is an article (page_gate.py).
    verdict = verdict or judge_page(work)
    if not verdict.is_article:
        return [], [], verdict.reason
    drop_inline_related(work, url)
    paragraphs, images = _trafilatura_paragraphs(work, url, include_images=True)
    before, after = other_chunks(work, paragraphs)  # a body cut into chunks: trafilatura reads one
    return before + paragraphs + after, images, ""


_BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "li", "pre", "figcaption")
_PICTURE_CONTAINERS = ("table", "figure")


def _captions_to_paragraphs(body: etree._Element, selectors: tuple[str, ...], base_url: str
                            ) -> list[dict[str, str | None]]:
    """Replace each photo box in `body` by a paragraph holding its caption; return the images.

    The box is the caption's nearest `<table>`/`<figure>` ancestor inside the
    body; its `<img>` alt text (often the headline plus "ảnh 1") is dropped
    with it. Images outside photo boxes are listed without a caption.
    """
    images: list[dict[str, str | None]] = []
    boxed: list[etree._Element] = []  # the elements, not id()s: lxml reuses ids of freed proxies
    for caption_el in select_all(body, selectors + ("figcaption",)):
        if caption_el.getparent() is None:
            continue  # already removed with an earlier box
        box = caption_el
        node = caption_el.getparent()
        while node is not None and node is not body:
            if node.tag in _PICTURE_CONTAINERS:
                box = node
                break
            node = node.getparent()
        caption = text_of(caption_el)
        for img in box.iter("img") if box is not caption_el else ():
            src = _image_src(img, base_url)
            if src:
                images.append({"src": src, "caption": caption or None})
                boxed.append(img)
        replacement = lxml.html.Element("p")
        replacement.text = caption
        replacement.tail = box.tail
        parent = box.getparent()
        if parent is None:
            continue
        if caption:
            parent.replace(box, replacement)
        else:
            box.drop_tree()
    for img in body.iter("img"):
        if not any(img is seen for seen in boxed):
            src = _image_src(img, base_url)
            if src:
                images.append({"src": src, "caption": None})
    return images


_CAPTION_MAX_WORDS = 60


def photo_box_texts(root: etree._Element) -> set[str]:
    """The captions of photo boxes left in the page (`<figure>`, a table around an image): what
    a box shows beside its photo is its caption, when it is short enough to be one."""
    texts = set()
    for box in root.iter(*_PICTURE_CONTAINERS):  # (lxml's iterators: `find(".//img")` walks in Python)
        if next(box.iterdescendants("img"), None) is not None:
            caption = next(box.iterdescendants("figcaption"), None)
            text = text_of(caption if caption is not None else box)
            if text and word_count(text) <= _CAPTION_MAX_WORDS:
                texts.add(text)
    return texts


def _image_src(img: etree._Element, base_url: str) -> str | None:
    """The real image URL (lazy-loading sites keep it in data-src; src is a placeholder)."""
    for attr in ("data-src", "data-original", "data-lazy-src", "src"):
        value = (img.get(attr) or "").strip()
        if value and not value.startswith("data:"):
            return urljoin(base_url, value)
    return None


def _trafilatura_paragraphs(doc_tree: etree._Element, url: str, *, include_images: bool
                            ) -> tuple[list[str], list[dict[str, str | None]]]:
    """Run trafilatura on a (copied) tree; return paragraphs in order and any images. Meanwhile
    its pruning XPaths select in Python and readability measures each length once
    (trafilatura_fast.py: the same work and result, faster), the copies of the page it reads
    only on rare paths are made only when one is taken (trafilatura_spared_copies.py), and its
    options object is a copy of one built once a day (trafilatura_options.py)."""
    arguments = dict(url=url, output_format="python", with_metadata=False, include_images=include_images,
                     **TRAFILATURA_OPTIONS)
    try:
        with faster_trafilatura():  # (trafilatura called from here: as deep in the stack as it always was)
            try:
                with spared_copies():
                    result = trafilatura.bare_extraction(doc_tree, **trafilatura_arguments(**arguments))
            except CopyNeeded:  # a rare path reads a copy left out: done again in full (`doc_tree` is as it was)
                result = trafilatura.bare_extraction(doc_tree, **trafilatura_arguments(**arguments))
    except Exception as exc:  # trafilatura's failures on odd markup mean "no text", not a crash
        if refused_by_lxml(exc):  # but a character XML does not allow: the page is read again without
            raise                 # it (article.py `article_of`), not left without a body
        return [], []
    if result is None or getattr(result, "body", None) is None:
        if holds_xml_illegal(doc_tree):  # bare_extraction takes lxml's refusal of one (a ValueError) for
            raise RefusedCharacter("trafilatura found no text")  # "no text": the page is read again without
        return [], []
    paragraphs: list[str] = []
    images: list[dict[str, str | None]] = []
    for el in result.body:
        if el.tag == "graphic":
            if el.get("src"):
                images.append({"src": urljoin(url, el.get("src")), "caption": clean(el.get("title")) or None})
        elif el.tag == "list":
            paragraphs.extend(clean("".join(item.itertext())) for item in el.iterchildren("item"))
        elif el.tag == "table":
            for row in el.iter("row"):
                paragraphs.append(clean(" ".join(clean("".join(c.itertext())) for c in row.iter("cell"))))
        else:
            for lb in el.iter("lb"):
                lb.tail = " " + (lb.tail or "")
            paragraphs.append(clean("".join(el.itertext())))
        # trafilatura leaves text that followed an element in the page in the tail of the element
        # before it, at the top level too: after a subheading, the running text (up to 1,200 words
        # on a real page). After an image, it is the image's link text: a teaser title, a print URL.
        if el.tag != "graphic":
            paragraphs.append(clean(el.tail))
    return [p for p in paragraphs if p], images


def _dom_paragraphs(root: etree._Element) -> list[str]:
    """Block-level text of an element, for when trafilatura declines (very short bodies)."""
    paragraphs = []
    for el in root.iter(*_BLOCK_TAGS):
        if any(anc.tag in _BLOCK_TAGS for anc in el.iterancestors()):
            continue
        text = text_of(el)
        if text:
            paragraphs.append(text)
    if not paragraphs:
        text = text_of(root)
        if text:
            paragraphs.append(text)
    return paragraphs


def tidy_paragraphs(paragraphs: list[str], *, title: str, lead: str | None, author: str | None,
                    date_texts: set[str], captions: Callable[[], set[str]]) -> list[str]:
    """Remove widget lines, repeats and the headline/dateline/sapo/byline echoes at the edges.

    A caption shown under several photos (a gallery, "(Ảnh: TTXVN)" on each) is kept once.
    `captions()` gives the page's captions; it is called only if a paragraph comes a second time
    (finding the photo boxes walks the whole page, and most pages repeat no paragraph).
    """
    kept: list[str] = []
    seen: set[str] = set()  # = set(kept) while this loop runs (nothing is removed from `kept` here)
    shown: set[str] | None = None
    for p in paragraphs:
        if _is_boilerplate(p):
            continue
        if kept and kept[-1] == p:  # alt text or caption printed twice
            continue
        if p in seen:
            if shown is None:
                shown = captions()
            if p in shown:
                continue
        kept.append(p)
        seen.add(p)
    echoes = {title, lead or "", *date_texts}
    while kept and (kept[0] in echoes or _DATE_ECHO.match(kept[0])):
        kept.pop(0)
    if lead and kept and len(kept[0]) >= 40 and lead.startswith(kept[0].rstrip(".… ")):
        kept.pop(0)  # a truncated sapo repeated as the first paragraph
    while kept and author and kept[-1] == author:
        kept.pop()
    return kept



# Stock widget and box labels that are never article text on Vietnamese news
# sites (compared casefolded, trailing colon ignored).
_BOILERPLATE_LINES = frozenset(s.casefold() for s in (
    "aa", "a a", "a+ a-", "in bài viết", "in bài", "phiên bản di động", "tin liên quan",
    "tin bài liên quan", "bài liên quan", "đọc nhiều", "bài đọc nhiều", "đọc thêm",
    "xem thêm", "cùng chủ đề", "cùng chuyên mục", "cùng tác giả", "mới nhất", "nổi bật",
    "chia sẻ", "bình luận", "tags", "từ khóa", "xin chờ trong giây lát...",
    "lên đầu trang", "về đầu trang", "các tin bài khác", "tin khác", "theo dõi",
))
_LONGEST_LABEL = max(map(len, _BOILERPLATE_LINES))


def _too_long_for_a_label(line: str) -> bool:
    """Whether `line`, casefolded and stripped as `_is_boilerplate` compares it, is surely longer than
    every `_BOILERPLATE_LINES` entry, told without casefolding a paragraph (~0.5 M instructions of
    an article's ~22). Casefolding turns each character into one or more, and none but a space or a
    colon into one that the strips remove (tests/test_extract.py checks every code point), so the
    key keeps at least one character for each other one; a printable line has no whitespace but
    the space (`str.isprintable`), so those are counted by two counts."""
    return line.isprintable() and len(line) - line.count(" ") - line.count(":") > _LONGEST_LABEL


_SITE_LINK_LINE = re.compile(r"^(?:Đường dẫn bài viết|Nguồn)\s*:\s*https?://\S+$", re.I)
_DATE_ECHO = re.compile(
    r"^(?:(?:Thứ\s+\w+|Chủ\s+nhật)\s*,?\s*)?(?:\d{1,2}:\d{2}\s*\|\s*)?\d{1,2}/\d{1,2}/\d{4}"
    r"(?:\s*[-|,]?\s*\d{1,2}:\d{2})?(?:\s*\(?GMT\+7\)?)?$", re.I)


# An inline related link written into the body: "Xem thêm: <teaser title>".
_SEE_ALSO_LINE = re.compile(
    r"^(?:xem thêm|đọc thêm|xem tiếp|mời (?:bạn )?(?:xem|đọc)|tin liên quan|bài liên quan|tin bài liên quan)"
    r"\s*[:>»›-]", re.I)
_SEE_ALSO_MAX_WORDS = 40  # a teaser title, not a paragraph that happens to start that way


def _is_boilerplate(line: str) -> bool:
    if not _too_long_for_a_label(line) and line.casefold().rstrip(":").strip() in _BOILERPLATE_LINES:
        return True
    if _SITE_LINK_LINE.match(line):
        return True
    if _SEE_ALSO_LINE.match(line) and len(line.split()) <= _SEE_ALSO_MAX_WORDS:
        return True
    # Teaser boxes print a title twice (thumbnail link + title link): "X X".
    half, rest = divmod(len(line), 2)
    if rest == 1 and len(line) > 20 and line[half] == " " and line[:half] == line[half + 1:]:
        return True
    return False

