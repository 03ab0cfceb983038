"""HTML page → `Article`: the clean text and metadata the corpus stores.

One pass, one parse:

1. **Decode** the bytes (`decode_html`): a BOM, then strict UTF-8, then the
   declared charset, then detection; the text is NFC-normalised before
   anything reads it. Empty or binary bodies stop here with a reason.
2. **Metadata** from JSON-LD (`NewsArticle` and kin) and OpenGraph/meta tags,
   plus the per-site `ExtractionHints` selectors, with htmldate as the last
   resort for the date. Precedence, field by field: what the reader sees
   (hint selectors: the `<h1>`, the sapo, the byline, the breadcrumb, the
   tags) beats structured data, because JSON-LD headlines and descriptions
   are often cut to SEO lengths and bylines lose their attribution
   ("(tổng hợp)"); the publication *instant* is the exception, where ISO
   data in JSON-LD/meta is exact and visible text is the fallback. Without
   hints, structured data comes first.
3. **Body**: HTML comments are stripped, their surrounding text joined (a
   comment inside a paragraph ends it for trafilatura); hint `drop` blocks
   are removed; the hint `body` element is cut out, inline related-article
   blocks between its paragraphs are dropped (archive/extract/article/article/inline_related.py),
   photo boxes become caption paragraphs (the seed format keeps captions as
   their own paragraphs, each caption once) and trafilatura does the
   main-text work on that element alone (`favor_precision`, no comments);
   text trafilatura leaves in an element's tail is kept. Without hints, the
   page gate (archive/extract/article/article/page_gate.py) first decides from the page whether it
   is an article at all, then trafilatura reads the whole page, plus the
   chunks of a body cut by ads (archive/extract/article/article/body_chunks.py); the meta
   description is the lead only as the page shows it and when the body
   does not already say it. Headline, dateline, sapo and byline echoes at
   the edges of the body are removed (PITFALLS: trafilatura can return them
   as body text), as are stock widget lines ("aa", "In bài viết").
4. **Verdict**: `is_article` with a `reason` when not (no body element, a
   listing page, too few words, no title, ...). Never raises on bad input.

`render_seed_text` turns an `Article` into the seed format of docs/design.md.
This module never imports Scrapy.
"""
from __future__ import annotations

import copy
import html as htmlmod
import json
import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import htmldate
import lxml.html
import trafilatura
from lxml import etree
from lxml.cssselect import CSSSelector

from archive.extract.body_chunks import other_chunks
from archive.extract.inline_related import drop_inline_related
from archive.extract.page_gate import judge_page, reading_words
from archive.warc.httpcodec import BodyTooLarge, decompress
from archive.urls import canonical_url as canonicalise

__all__ = [
    "ExtractionHints",
    "Article",
    "extract_article",
    "parse_page",
    "ParsedPage",
    "markup_refusal",
    "MAX_TAGS",
    "article_of",
    "followable",
    "NOT_FOLLOWED",
    "render_seed_text",
    "decode_html",
    "EXTRACTOR",
    "VIETNAM_TZ",
]

VIETNAM_TZ = timezone(timedelta(hours=7), "GMT+7")
# A page with more tags than this is not parsed (no article, no links): a news page has a few
# thousand; 300,000 links or a 200,000-deep nest are an attack on the parser and the extractor,
# whose time and memory grow with the tree (a 19 MB page of links: ~1 GB and minutes).
MAX_TAGS = 100_000
DATE_LINE_FORMAT = "%H:%M | %d/%m/%Y"
DEFAULT_MIN_WORDS = 100

# The extraction settings are part of the output's identity: a corpus built
# with other settings is a different corpus, so they go in the manifest.
_TRAFILATURA_OPTIONS = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
    "deduplicate": False,
}
EXTRACTOR = {
    "name": "trafilatura",
    "version": trafilatura.__version__,
    "htmldate": htmldate.__version__,
    "options": dict(_TRAFILATURA_OPTIONS),
    "module": "archive.extract.article",
    "format": 2,  # bump when the output of this module changes for the same input (2: issue 18)
}


# --------------------------------------------------------------------------- hints
@dataclass(frozen=True)
class ExtractionHints:
    """Per-site extraction knowledge, declared as data in the site profiles.

    Every selector field is a tuple of CSS selectors tried in order; the first
    that matches wins (for `drop`, `captions` and `tags`, all matches count).
    Selectors are compiled when the hints are built, so a typo fails at import
    of the profile, not in the middle of a crawl.
    """

    drop: tuple[str, ...] = ()  # removed before anything reads the body
    title: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    date: tuple[str, ...] = ()  # element with a datetime/content attribute or date text
    date_formats: tuple[str, ...] = ()  # strptime formats for date text, read as GMT+7
    author: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()  # caption cells/elements of photo boxes inside the body
    ignore_authors: tuple[str, ...] = ()  # site-wide default bylines, never reported
    min_words: int = DEFAULT_MIN_WORDS

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "min_words":
                if not isinstance(value, int) or value < 0:
                    raise ValueError(f"min_words must be a non-negative int, not {value!r}")
                continue
            if isinstance(value, str):  # a lone selector is an easy slip: ("a.b") is a str
                value = (value,)
            value = tuple(value)
            object.__setattr__(self, f.name, value)
            if f.name not in ("date_formats", "ignore_authors"):
                for selector in value:
                    _compiled(selector)


@lru_cache(maxsize=512)
def _compiled(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector, translator="html")
    except Exception as exc:  # cssselect raises several types; all mean "bad selector"
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc


def _select(root: etree._Element, selectors: Iterable[str]) -> list[etree._Element]:
    """Elements matched by the first selector that matches anything."""
    for selector in selectors:
        found = _compiled(selector)(root)
        if found:
            return found
    return []


def _select_all(root: etree._Element, selectors: Iterable[str]) -> list[etree._Element]:
    """Elements matched by any of the selectors, in document order, once each."""
    selectors = tuple(selectors)
    if not selectors:
        return []
    return _compiled_union(selectors)(root)


@lru_cache(maxsize=256)
def _compiled_union(selectors: tuple[str, ...]) -> etree.XPath:
    """One XPath union of the selectors: libxml2 returns a union in document order, without
    duplicates, so nothing has to sort by a walk over the whole tree (that walk, creating a
    Python proxy per element, was a quarter of extraction time on an 80 KB page)."""
    return etree.XPath(" | ".join(_compiled(selector).path for selector in selectors),
                       namespaces={"re": "http://exslt.org/regular-expressions"})


# --------------------------------------------------------------------------- article
@dataclass
class Article:
    """One extracted page. `is_article` False means: do not put it in the corpus."""

    url: str
    canonical_url: str
    title: str = ""
    published: datetime | None = None  # aware, +07:00
    date_line: str | None = None  # `HH:MM | DD/MM/YYYY`, GMT+7
    author: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    lead: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    images: list[dict[str, str | None]] = field(default_factory=list)
    language: str | None = None
    words: int = 0
    is_article: bool = False
    reason: str = ""
    encoding: str | None = None  # how the bytes were decoded

    @property
    def text(self) -> str:
        """Lead and body paragraphs, one per line: what hashes and near-dup checks read."""
        return "\n".join(([self.lead] if self.lead else []) + self.paragraphs)


# --------------------------------------------------------------------------- decoding
class _Undecodable(Exception):
    """The body is not an HTML document (empty, binary)."""


_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"RIFF", b"\x00\x00\x01\x00", b"OggS", b"ID3")
_UTF8_NAMES = {"utf-8", "utf8", "utf_8", "unicode-1-1-utf-8", "x-unicode20utf8"}


def decode_html(data: bytes | str, declared: str | None = None) -> tuple[str, str]:
    """Decode a page body to NFC text; returns (text, encoding used).

    Order: BOM; strict UTF-8 (a page of UTF-8 bytes that declares
    windows-1258 is UTF-8 – valid multi-byte UTF-8 almost never happens by
    accident in a single-byte charset); the declared charset (HTTP header
    `declared`, then `<meta charset>`), strictly; charset detection; UTF-8
    with replacement characters as the last resort.

    Raises _Undecodable for an empty or binary body.
    """
    if isinstance(data, str):
        if not data.strip():
            raise _Undecodable("empty body")
        return unicodedata.normalize("NFC", data), "str"
    data = _maybe_decompress(data)
    if not data.strip():
        raise _Undecodable("empty body")
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return _nfc(data.decode(codec, errors="replace")), codec.removesuffix("-sig")
    if _looks_binary(data):
        raise _Undecodable("binary body (not an HTML document)")
    try:
        return _nfc(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors="replace")
    if _mostly_utf8(lenient):
        # UTF-8 with a stray bad byte (a spliced or truncated page): a legacy
        # codec would turn every other Vietnamese letter into mojibake.
        return _nfc(lenient), "utf-8"
    meta = _META_CHARSET.search(data[:4096])
    for label in (declared, meta.group(1).decode("ascii", "ignore") if meta else None):
        codec = _codec(label)
        if codec is None:
            continue
        if codec in _UTF8_NAMES:
            # Declared UTF-8 with a few bad bytes (a truncated or spliced page):
            # keep UTF-8 rather than let detection guess a legacy codec.
            return _nfc(data.decode("utf-8", errors="replace")), "utf-8"
        try:
            return _nfc(data.decode(codec)), codec
        except (UnicodeDecodeError, LookupError):
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding:
        return _nfc(str(best)), best.encoding
    return _nfc(data.decode("utf-8", errors="replace")), "utf-8"


def _mostly_utf8(text: str) -> bool:
    """True when a lenient UTF-8 decode has many good multi-byte characters per bad byte."""
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return good >= 20 and good > 50 * bad


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None if unknown."""
    if not label:
        return None
    import codecs

    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return "utf-8" if name in _UTF8_NAMES else name


def _maybe_decompress(data: bytes) -> bytes:
    """Undo gzip/zlib content-encoding left on a body (e.g. a payload read raw from WARC), within
    the bound every reader keeps (archive/warc/httpcodec.py)."""
    try:
        if data[:2] == b"\x1f\x8b":
            return decompress(data, "gzip")[0]
        if data[:1] == b"\x78" and len(data) > 2 and (data[0] * 256 + data[1]) % 31 == 0:
            return decompress(data, "deflate")[0]
    except BodyTooLarge as exc:
        raise _Undecodable(str(exc)) from None
    except Exception:  # not that coding after all: the bytes as they are
        pass
    return data


def _looks_binary(data: bytes) -> bool:
    head = data[:2048]
    if head.startswith(_BINARY_MAGIC):
        return True
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.05


# --------------------------------------------------------------------------- text helpers
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
# A regex, not str.translate: translate with a dict looks up every character in Python (~10x slower
# on a Vietnamese paragraph), and most text has none of these.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def _clean(text: str | None, *, unescape: bool = False) -> str:
    """One line of NFC text with collapsed whitespace and no invisible characters.

    `unescape` is for JSON-LD strings, which CMSs often fill with HTML
    entities; text from the parsed DOM is already unescaped.
    """
    if not text:
        return ""
    if unescape and "&" in text:
        text = htmlmod.unescape(text)
    return " ".join(_nfc(_INVISIBLE.sub("", text)).split())  # split() = \s+, in C


def _text_of(el: etree._Element) -> str:
    return _clean(el.text_content() if hasattr(el, "text_content") else "".join(el.itertext()))


def _word_count(text: str) -> int:
    """Words as a reader counts them (CJK-aware: one per Chinese/Japanese character)."""
    return reading_words(text)


# Stock widget and box labels that are never article text on Vietnamese news
# sites (compared casefolded, trailing colon ignored).
_BOILERPLATE_LINES = frozenset(s.casefold() for s in (
    "aa", "a a", "a+ a-", "in bài viết", "in bài", "phiên bản di động", "tin liên quan",
    "tin bài liên quan", "bài liên quan", "đọc nhiều", "bài đọc nhiều", "đọc thêm",
    "xem thêm", "cùng chủ đề", "cùng chuyên mục", "cùng tác giả", "mới nhất", "nổi bật",
    "chia sẻ", "bình luận", "tags", "từ khóa", "xin chờ trong giây lát...",
    "lên đầu trang", "về đầu trang", "các tin bài khác", "tin khác", "theo dõi",
))
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
    key = line.casefold().rstrip(":").strip()
    if key in _BOILERPLATE_LINES or _SITE_LINK_LINE.match(line):
        return True
    if _SEE_ALSO_LINE.match(line) and len(line.split()) <= _SEE_ALSO_MAX_WORDS:
        return True
    # Teaser boxes print a title twice (thumbnail link + title link): "X X".
    half, rest = divmod(len(line), 2)
    if rest == 1 and len(line) > 20 and line[half] == " " and line[:half] == line[half + 1:]:
        return True
    return False


# --------------------------------------------------------------------------- metadata
_ARTICLE_TYPES = frozenset({
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "report",
    "scholarlyarticle", "techarticle",
})


@dataclass
class _Structured:
    """What JSON-LD and meta tags say about the page."""

    headline: str | None = None
    og_title: str | None = None
    html_title: str | None = None
    description: str | None = None
    published: datetime | None = None
    authors: list[str] = field(default_factory=list)
    meta_author: str | None = None
    section: str | None = None
    keywords: list[str] = field(default_factory=list)
    canonical: str | None = None
    og_url: str | None = None
    language: str | None = None


def _read_structured(tree: etree._Element) -> _Structured:
    info = _Structured()
    article_ld = None
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        for obj in _json_ld_objects(script.text or ""):
            types = obj.get("@type")
            types = [types] if isinstance(types, str) else (types or [])
            if any(isinstance(t, str) and t.lower() in _ARTICLE_TYPES for t in types):
                article_ld = article_ld or obj
    if article_ld is not None:
        info.headline = _clean(_first_str(article_ld.get("headline")) or _first_str(article_ld.get("name")),
                               unescape=True)
        info.description = _clean(_first_str(article_ld.get("description")), unescape=True) or None
        info.published = _parse_iso(_first_str(article_ld.get("datePublished")))
        info.authors = _ld_person_names(article_ld.get("author"))
        info.section = _clean(_first_str(article_ld.get("articleSection"))) or None
        info.keywords = _split_keywords(article_ld.get("keywords"))
        info.language = _clean(_first_str(article_ld.get("inLanguage"))) or None

    def meta(*keys: str) -> list[str]:
        values = []
        for el in tree.iter("meta"):
            key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
            if key in keys and el.get("content"):
                values.append(_clean(el.get("content")))
        return [v for v in values if v]

    info.og_title = next(iter(meta("og:title")), None)
    info.description = info.description or next(iter(meta("og:description", "description")), None)
    if info.published is None:
        for value in meta("article:published_time", "datepublished", "pubdate", "og:published_time"):
            info.published = _parse_iso(value)
            if info.published:
                break
    info.meta_author = next(iter(meta("author", "article:author")), None)
    info.section = info.section or next(iter(meta("article:section")), None)
    info.keywords = info.keywords or meta("article:tag")
    info.og_url = next(iter(meta("og:url")), None)
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            info.canonical = link.get("href").strip()
            break
    titles = [t for t in tree.iter("title")]
    info.html_title = _clean(titles[0].text_content()) if titles else None
    lang = tree.get("lang") or tree.get("xml:lang")
    info.language = info.language or (lang.strip().lower() if lang else None)
    return info


def _json_ld_objects(raw: str) -> list[dict[str, Any]]:
    """Every JSON object in a JSON-LD script (lists and @graph flattened).

    Tolerates what CMS templates emit: raw line breaks inside strings
    (`strict=False`), HTML comments/CDATA around the JSON, trailing commas.
    """
    raw = raw.strip()
    raw = re.sub(r"^(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)$", "", raw).strip()
    data = None
    for candidate in (raw, re.sub(r",\s*([}\]])", r"\1", raw)):
        try:
            data = json.loads(candidate, strict=False)
            break
        except ValueError:
            continue
    out: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            out.append(node)
            if "@graph" in node:
                walk(node["@graph"])

    walk(data)
    return out


def _first_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in value:
            found = _first_str(item)
            if found:
                return found
    if isinstance(value, dict):
        return _first_str(value.get("name") or value.get("@value"))
    return None


def _ld_person_names(value: Any) -> list[str]:
    """Author names from JSON-LD, skipping organisations (the paper itself)."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(_clean(item, unescape=True))
        elif isinstance(item, dict):
            kind = item.get("@type")
            kinds = [kind] if isinstance(kind, str) else (kind or [])
            if any(isinstance(k, str) and k.lower() == "organization" for k in kinds):
                continue
            names.append(_clean(_first_str(item.get("name")), unescape=True))
    return [n for n in names if n]


def _split_keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list):
        parts = [v for v in value if isinstance(v, str)]
    else:
        return []
    return [p for p in (_clean(x, unescape=True) for x in parts) if p]


def _parse_iso(value: str | None) -> datetime | None:
    """An ISO-8601 instant as an aware datetime in GMT+7 (naive values are GMT+7 already)."""
    if not value:
        return None
    text = value.strip().replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", value.strip()) else value.strip()
    text = re.sub(r"Z$", "+00:00", text)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)  # +0700 → +07:00
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _to_vietnam_time(when)


def _to_vietnam_time(when: datetime) -> datetime:
    if when.tzinfo is None:
        return when.replace(tzinfo=VIETNAM_TZ)
    return when.astimezone(VIETNAM_TZ)


_WEEKDAY_PREFIX = re.compile(r"^(?:Thứ\s+(?:hai|ba|tư|năm|sáu|bảy|\d)|Chủ\s+nhật)\s*,?\s*", re.I)
_GMT_SUFFIX = re.compile(r"\s*\(?\s*(?:GMT|UTC)\s*\+\s*0?7(?::?00)?\s*\)?\s*$", re.I)


def _parse_date_element(el: etree._Element, formats: tuple[str, ...]) -> datetime | None:
    """Date from a hint element: its datetime/content attribute, else its text."""
    for attr in ("datetime", "content"):
        value = el.get(attr)
        if value:
            parsed = _parse_iso(value) or _parse_with_formats(value, formats)
            if parsed:
                return parsed
    return _parse_with_formats(_text_of(el), formats)


def _parse_with_formats(text: str, formats: tuple[str, ...]) -> datetime | None:
    text = _clean(text)
    if not text:
        return None
    candidates = [text, _GMT_SUFFIX.sub("", text)]
    candidates.append(_WEEKDAY_PREFIX.sub("", candidates[-1]).strip())
    for candidate in dict.fromkeys(candidates):
        for fmt in formats:
            try:
                return _to_vietnam_time(datetime.strptime(candidate, fmt))
            except ValueError:
                continue
    return None


_VISIBLE_DATE = (
    # "18:29 | 22/02/2023", optionally "GMT+7": MasterCMS and many other VN sites
    (re.compile(r"^(?:.{0,20},\s*)?(\d{1,2}):(\d{2})\s*\|\s*(\d{1,2})/(\d{1,2})/(\d{4})"
                r"(?:\s*\(?GMT\+7\)?)?$", re.I), ("H", "M", "d", "m", "Y")),
    # "Thứ Tư, 11/09/2024 - 20:15" / "11/09/2024 20:15"
    (re.compile(r"^(?:.{0,20},\s*)?(\d{1,2})/(\d{1,2})/(\d{4})\s*[-|,]?\s*(\d{1,2}):(\d{2})"
                r"(?:\s*\(?GMT\+7\)?)?$", re.I), ("d", "m", "Y", "H", "M")),
)
_NOT_ARTICLE_CHROME = frozenset({"header", "nav", "footer", "aside"})


def _visible_date(tree: etree._Element) -> datetime | None:
    """The first short element whose whole text is a Vietnamese date line.

    Skips page chrome (header/nav/footer/aside), where the day's date and
    teaser dates live. Read as GMT+7, as the sites print local time.
    """
    for el in tree.iter("span", "time", "div", "p", "small", "em", "li"):
        if any(anc.tag in _NOT_ARTICLE_CHROME for anc in el.iterancestors()):
            continue
        text = _text_of(el)
        if len(text) > 50:
            continue
        for pattern, order in _VISIBLE_DATE:
            m = pattern.match(text)
            if not m:
                continue
            parts = dict(zip(order, map(int, m.groups())))
            try:
                return datetime(parts["Y"], parts["m"], parts["d"], parts["H"], parts["M"], tzinfo=VIETNAM_TZ)
            except ValueError:
                continue
    return None


def _htmldate_published(tree: etree._Element, url: str) -> datetime | None:
    """htmldate's guess at the original publication date (read as GMT+7)."""
    try:
        found = htmldate.find_date(copy.deepcopy(tree), extensive_search=False, original_date=True,
                                   outputformat="%Y-%m-%dT%H:%M:%S", url=url)
    except Exception:  # htmldate is a heuristic fallback; its failure is "no date"
        return None
    return _parse_iso(found) if found else None


# --------------------------------------------------------------------------- body
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
    for caption_el in _select_all(body, selectors + ("figcaption",)):
        if caption_el.getparent() is None:
            continue  # already removed with an earlier box
        box = caption_el
        node = caption_el.getparent()
        while node is not None and node is not body:
            if node.tag in _PICTURE_CONTAINERS:
                box = node
                break
            node = node.getparent()
        caption = _text_of(caption_el)
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


def _photo_box_texts(root: etree._Element) -> set[str]:
    """The captions of photo boxes left in the page (`<figure>`, a table around an image): what
    a box shows beside its photo is its caption, when it is short enough to be one."""
    texts = set()
    for box in root.iter(*_PICTURE_CONTAINERS):
        if box.find(".//img") is not None:
            caption = box.find(".//figcaption")
            text = _text_of(caption if caption is not None else box)
            if text and _word_count(text) <= _CAPTION_MAX_WORDS:
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
    """Run trafilatura on a (copied) tree; return paragraphs in order and any images."""
    try:
        result = trafilatura.bare_extraction(
            doc_tree, url=url, output_format="python", with_metadata=False,
            include_images=include_images, **_TRAFILATURA_OPTIONS)
    except Exception:  # trafilatura's failures on odd markup mean "no text", not a crash
        return [], []
    if result is None or getattr(result, "body", None) is None:
        return [], []
    paragraphs: list[str] = []
    images: list[dict[str, str | None]] = []
    for el in result.body:
        if el.tag == "graphic":
            if el.get("src"):
                images.append({"src": urljoin(url, el.get("src")), "caption": _clean(el.get("title")) or None})
        elif el.tag == "list":
            paragraphs.extend(_clean("".join(item.itertext())) for item in el.iterchildren("item"))
        elif el.tag == "table":
            for row in el.iter("row"):
                paragraphs.append(_clean(" ".join(_clean("".join(c.itertext())) for c in row.iter("cell"))))
        else:
            for lb in el.iter("lb"):
                lb.tail = " " + (lb.tail or "")
            paragraphs.append(_clean("".join(el.itertext())))
        # trafilatura leaves text that followed an element in the page in the tail of the element
        # before it, at the top level too: after a subheading, the running text (up to 1,200 words
        # on a real page). After an image, it is the image's link text: a teaser title, a print URL.
        if el.tag != "graphic":
            paragraphs.append(_clean(el.tail))
    return [p for p in paragraphs if p], images


def _dom_paragraphs(root: etree._Element) -> list[str]:
    """Block-level text of an element, for when trafilatura declines (very short bodies)."""
    paragraphs = []
    for el in root.iter(*_BLOCK_TAGS):
        if any(anc.tag in _BLOCK_TAGS for anc in el.iterancestors()):
            continue
        text = _text_of(el)
        if text:
            paragraphs.append(text)
    if not paragraphs:
        text = _text_of(root)
        if text:
            paragraphs.append(text)
    return paragraphs


def _tidy_paragraphs(paragraphs: list[str], *, title: str, lead: str | None, author: str | None,
                     date_texts: set[str], captions: set[str]) -> list[str]:
    """Remove widget lines, repeats and the headline/dateline/sapo/byline echoes at the edges.

    A caption shown under several photos (a gallery, "(Ảnh: TTXVN)" on each) is kept once.
    """
    kept: list[str] = []
    for p in paragraphs:
        if _is_boilerplate(p):
            continue
        if kept and kept[-1] == p:  # alt text or caption printed twice
            continue
        if p in captions and p in kept:
            continue
        kept.append(p)
    echoes = {title, lead or "", *date_texts}
    while kept and (kept[0] in echoes or _DATE_ECHO.match(kept[0])):
        kept.pop(0)
    if lead and kept and len(kept[0]) >= 40 and lead.startswith(kept[0].rstrip(".… ")):
        kept.pop(0)  # a truncated sapo repeated as the first paragraph
    while kept and author and kept[-1] == author:
        kept.pop()
    return kept


# --------------------------------------------------------------------------- main
_VIETNAMESE_LETTERS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


def extract_article(html: bytes | str, url: str, hints: ExtractionHints | None = None, *,
                    encoding: str | None = None) -> Article:
    """Extract one page. Never raises for bad content: `is_article` and `reason` say why not.

    `encoding` is the charset from the HTTP Content-Type header, if any.
    """
    return article_of(parse_page(html, url, encoding=encoding), hints)


@dataclass
class ParsedPage:
    """A page decoded and parsed once, for everything read from it (article, links, topic text).

    Why once: a crawl needs the page's links (to follow them) and its article; parsing an
    80 KB page twice, once for each, cost the crawl's reactor ~1 ms a page. The links and
    the topic gate's text are read from the same tree by archive/extract/article/article/article/links.py."""

    article: Article  # URL, canonical URL, encoding; `reason` when there is no tree
    tree: etree._Element | None
    base_url: str  # what relative links resolve against: the page's `<base href>`, else its URL
    refused: str | None = None  # why the page was not parsed at all (`markup_refusal`)


def parse_page(html: bytes | str, url: str, *, encoding: str | None = None) -> ParsedPage:
    """Decode and parse a page; never raises for bad content (`tree` None, `article.reason` why)."""
    try:
        canonical = canonicalise(url)
    except ValueError:
        canonical = url
    article = Article(url=url, canonical_url=canonical)
    try:
        text, article.encoding = decode_html(html, encoding)
    except _Undecodable as exc:
        article.reason = str(exc)
        return ParsedPage(article, None, url)
    refusal = markup_refusal(text)
    if refusal is not None:
        article.reason = refusal
        return ParsedPage(article, None, url, refused=refusal)
    try:
        tree = lxml.html.document_fromstring(_XML_DECLARATION.sub("", text, count=1))
    except (etree.ParserError, ValueError) as exc:
        article.reason = f"unparseable HTML ({exc})"
        return ParsedPage(article, None, url)
    base = tree.find(".//base[@href]")
    return ParsedPage(article, tree, urljoin(url, base.get("href").strip()) if base is not None else url)


def markup_refusal(page: bytes | str) -> str | None:
    """Why a page is too much markup to parse (`MAX_TAGS`), or None. Counting `<` costs
    microseconds where parsing costs seconds; a stray `<` in a script only makes it stricter."""
    tags = page.count(b"<" if isinstance(page, bytes) else "<")
    return f"too many tags ({tags:,} > {MAX_TAGS:,})" if tags > MAX_TAGS else None


def article_of(page: ParsedPage, hints: ExtractionHints | None) -> Article:
    """The parsed page's article (without a tree: the article saying why not)."""
    if page.tree is None:
        return page.article
    return _extract_tree(page.article, page.tree, page.article.url, hints)


NOT_FOLLOWED = ("#", "javascript:", "mailto:", "tel:")  # hrefs that lead to no page


def followable(href: str | None, base_url: str) -> str | None:
    """The absolute URL an href leads to, or None for no page (empty, `#`, `javascript:` ...)."""
    href = (href or "").strip()
    if not href or href.startswith(NOT_FOLLOWED):
        return None
    return urljoin(base_url, href)


def _extract_tree(article: Article, tree: etree._Element, url: str, hints: ExtractionHints | None) -> Article:
    """`article_of`'s extraction, on the parsed page."""
    hints = hints or ExtractionHints()  # no hints: every selector tuple is empty
    info = _read_structured(tree)
    article.canonical_url = _canonical_for(url, info) or article.canonical_url
    _fill_shown_metadata(article, tree, info, hints)

    work = copy.deepcopy(tree)  # `tree` stays intact for metadata and htmldate
    # A comment inside a paragraph (`<p>a<!-- -->b</p>`, as React renders) ends the paragraph for
    # trafilatura; stripping keeps the text around it (tails) in place.
    etree.strip_tags(work, etree.Comment, etree.ProcessingInstruction)
    for el in _select_all(work, hints.drop):
        if el.getparent() is not None:
            el.drop_tree()
    article.published, date_texts = _publication_date(tree, work, info, hints, url)
    if article.published:
        article.date_line = article.published.strftime(DATE_LINE_FORMAT)

    paragraphs, article.images, article.reason = _body(work, hints, url)
    if article.reason:
        return article
    if article.lead is None:
        article.lead = _lead_from_description(info.description, paragraphs, tree, article.title)
    captions = {image["caption"] for image in article.images if image["caption"]} | _photo_box_texts(work)
    article.paragraphs = _tidy_paragraphs(paragraphs, title=article.title, lead=article.lead,
                                          author=article.author, date_texts=date_texts, captions=captions)
    article.words = _word_count(article.text)
    if article.language is None and _looks_vietnamese(article.text):
        article.language = "vi"

    if not article.title:
        article.reason = "no title"
    elif not article.paragraphs:
        article.reason = "no body text"
    elif article.words < hints.min_words:
        article.reason = f"too few words ({article.words} < {hints.min_words})"
    else:
        article.is_article = True
    return article


def _lead_from_description(description: str | None, paragraphs: list[str], tree: etree._Element,
                           title: str) -> str | None:
    """The sapo when no hint found it: the meta description, or the first paragraph it truncates.

    Descriptions are often the sapo cut at ~160 characters with "..."; when the
    body starts with the full text, that paragraph is the lead (and its echo
    is then removed from the body). Otherwise the description is the lead only
    when a reader sees it as one: shown on the page (many are SEO summaries
    no reader sees), not the headline again, and not what the body already
    says (on some sites it *is* the first paragraphs, up to 250 words); the
    lead is then the text as shown (a description cut short is the start of
    the sapo the page shows in full).
    """
    if not description:
        return None
    stem = description.rstrip(".… ")
    for paragraph in paragraphs[:3]:
        if len(stem) >= 40 and paragraph != description and paragraph.startswith(stem):
            return paragraph
    if stem.casefold() == title.rstrip(".… ").casefold() or _said_in(stem, paragraphs):
        return None
    return _shown_lead(description, stem, tree)


_WORD_RUN = 5  # words in a row that count as "the same wording"
_SAID_SHARE = 0.8  # share of a text's word runs found in the body for it to be already said


def _said_in(text: str, paragraphs: list[str]) -> bool:
    """True when the paragraphs already say `text`: most of its runs of five words are in them
    (a sapo that quotes one sentence of the body is not said by it)."""
    words = _WORD.findall(text.casefold())
    body = _WORD.findall(" ".join(paragraphs).casefold())
    if len(words) < _WORD_RUN:
        return f" {' '.join(words)} " in f" {' '.join(body)} "
    runs = [tuple(words[i:i + _WORD_RUN]) for i in range(len(words) - _WORD_RUN + 1)]
    body_runs = {tuple(body[i:i + _WORD_RUN]) for i in range(len(body) - _WORD_RUN + 1)}
    return sum(run in body_runs for run in runs) >= _SAID_SHARE * len(runs)


_VISIBLE_TEXT = etree.XPath("//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript "
                            "or ancestor::template)]")
_SHOWN_WORDS = 12  # leading words of a text that must be on the page, in order
_SHOWN_SLACK = 3  # a shown sapo may be this many times longer than the description that cuts it


def _shown_lead(description: str, stem: str, tree: etree._Element) -> str | None:
    """The description as the page shows it, or None when no reader sees it.

    Shown means its first words appear in a row in the page's visible text.
    The element whose text starts with it gives the full wording (a cut
    description is the start of the sapo); shown inside longer text (the
    body's first paragraphs), the description is kept as it is.
    """
    words = _WORD.findall(stem.casefold())
    key = " ".join(words[:_SHOWN_WORDS])
    if not key:
        return None
    visible = _VISIBLE_TEXT(tree)
    if f" {key} " not in f" {' '.join(_WORD.findall(' '.join(visible).casefold()))} ":
        return None
    whole = " ".join(words)
    for node in visible:
        if words[0] not in node.casefold():
            continue
        holder = node.getparent().getparent() if node.is_tail else node.getparent()
        while holder is not None and holder.tag not in ("body", "html"):
            shown = _text_of(holder)
            shown_words = " ".join(_WORD.findall(shown.casefold()))
            if shown_words.startswith(whole):
                return shown if len(shown) <= _SHOWN_SLACK * len(description) else description
            if key in shown_words or len(shown) > _SHOWN_SLACK * len(description):
                break
            holder = holder.getparent()
    return description


def _fill_shown_metadata(article: Article, tree: etree._Element, info: _Structured,
                         hints: ExtractionHints) -> None:
    """Title, lead, byline, category, tags, language: hinted elements first, then structured data."""

    def first_text(selectors: tuple[str, ...], accept=lambda value: value) -> str | None:
        for el in _select(tree, selectors):
            value = accept(_text_of(el))
            if value:
                return value
        return None

    ignored = {name.casefold() for name in hints.ignore_authors}

    def usable_author(name: str | None) -> str | None:
        return name if name and name.casefold() not in ignored else None

    article.title = first_text(hints.title) or info.headline or info.og_title or _first_h1(tree) \
        or info.html_title or ""
    article.lead = first_text(hints.lead)  # the description is only a fallback, once the body is known
    article.author = first_text(hints.author, usable_author) \
        or usable_author(", ".join(info.authors) or None) or usable_author(info.meta_author)
    crumbs = [t for t in (_text_of(el) for el in _select(tree, hints.category)) if t]
    article.category = (crumbs[-1] if crumbs else None) or info.section  # the deepest breadcrumb
    shown_tags = [t for t in (_text_of(el) for el in _select_all(tree, hints.tags)) if t]
    article.tags = list(dict.fromkeys(shown_tags or info.keywords))
    article.language = info.language or None


def _publication_date(tree: etree._Element, work: etree._Element, info: _Structured,
                      hints: ExtractionHints, url: str) -> tuple[datetime | None, set[str]]:
    """The publication instant and the page's date texts (to strip their echoes from the body).

    ISO data (JSON-LD, meta) first, then the hinted date element, then a date
    line as Vietnamese sites print it, then htmldate.
    """
    date_texts: set[str] = set()
    published = info.published
    for el in _select(tree, hints.date):
        date_texts.add(_text_of(el))
        published = published or _parse_date_element(el, hints.date_formats)
    return published or _visible_date(work) or _htmldate_published(tree, url), date_texts


def _body(work: etree._Element, hints: ExtractionHints, url: str
          ) -> tuple[list[str], list[dict[str, str | None]], str]:
    """Raw body paragraphs and images of the page, or a reason why it has no article body."""
    if hints.body:
        bodies = _select(work, hints.body)
        if not bodies:
            return [], [], "no element matches the body hints (listing or hub page)"
        # Headline, sapo, dateline and byline inside the body would be read as text; so would
        # teasers of other articles placed between the paragraphs.
        for root in bodies:
            drop_inline_related(root, url)
            for selectors in (hints.title, hints.lead, hints.date, hints.author, hints.tags):
                for el in _select_all(root, selectors):
                    if el is not root and el.getparent() is not None:
                        el.drop_tree()
        images: list[dict[str, str | None]] = []
        mini = lxml.html.document_fromstring("<html><body><article></article></body></html>")
        holder = mini.find(".//article")
        for root in bodies:
            images.extend(_captions_to_paragraphs(root, hints.captions, url))
            holder.append(copy.deepcopy(root))
        paragraphs, _ = _trafilatura_paragraphs(mini, url, include_images=False)
        return paragraphs or _dom_paragraphs(holder), images, ""
    # No site knowledge: the page itself says whether it is an article (archive/extract/article/article/page_gate.py).
    verdict = judge_page(work)
    if not verdict.is_article:
        return [], [], verdict.reason
    drop_inline_related(work, url)
    paragraphs, images = _trafilatura_paragraphs(work, url, include_images=True)
    before, after = other_chunks(work, paragraphs)  # a body cut into chunks: trafilatura reads one
    return before + paragraphs + after, images, ""


def _canonical_for(url: str, info: _Structured) -> str | None:
    """The page's declared canonical URL, trusted only on the same site.

    A syndicated copy may point its rel=canonical at the original publisher;
    taking that would make two sites' pages one URL and lose the copy's
    provenance, so a canonical on another host is ignored.
    """
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    for candidate in (info.canonical, info.og_url):
        if not candidate:
            continue
        absolute = urljoin(url, candidate)
        if (urlsplit(absolute).hostname or "").lower().removeprefix("www.") != host:
            continue
        try:
            return canonicalise(absolute)
        except ValueError:
            continue
    return None


def _first_h1(tree: etree._Element) -> str | None:
    for h1 in tree.iter("h1"):
        text = _text_of(h1)
        if text:
            return text
    return None


def _looks_vietnamese(text: str) -> bool:
    letters = [ch for ch in text.lower() if ch.isalpha()]
    if len(letters) < 50:
        return False
    return sum(ch in _VIETNAMESE_LETTERS for ch in letters) / len(letters) > 0.05


# --------------------------------------------------------------------------- rendering
def render_seed_text(article: Article) -> str:
    """The seed format of docs/design.md: title, date line, lead, body, author, `Nguồn:` line.

    Blocks are single lines separated by one blank line; a missing date line,
    lead or author is left out rather than invented. NFC, `\\n` line ends,
    exactly one final newline.
    """
    blocks = [article.title, article.date_line, article.lead, *article.paragraphs, article.author,
              f"Nguồn: {article.canonical_url}"]
    lines = [_clean(block) for block in blocks if block and _clean(block)]
    return _nfc("\n\n".join(lines)) + "\n"
