"""Is this page one article? Decided from the page, as a reader would, for hosts with no profile.

Why not the URL or `og:type`: on real sites articles come with slug URLs, ids
in the query string, `og:type=website` and no structured data at all, and
listing pages come with article-shaped URLs and `og:type=article`. What a
reader sees does not vary like that: an article page has a headline and one
main block of running text, several sentences in a row; a listing page has
many short teasers, each a linked title and a sentence or two, so its prose
never runs on.

The page is read as a sequence of text units (a paragraph, a `<div>` with
its own text, a line between `<br>`s count alike) in document order, page
chrome (nav, header, footer, aside, forms, hidden elements) left out. A
*run* is a stretch of prose units not interrupted by a heading, a unit made
mostly of link text (a teaser title, a menu) or a title-like line; the main
block is the run with the most sentences. Length is counted CJK-aware
(`reading_words`): each Chinese/Japanese character is a word, as word
processors count them, and two Korean syllables are one.
Structured data, when present, moves the bar: an article type (JSON-LD
`NewsArticle`, ...) lowers it, a listing type (`CollectionPage`, `ItemList`,
...) without an article type raises it.

Cost: one pass over the tree (~1-3 ms for a large page). No Scrapy here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import filterfalse, islice

from lxml import etree

from archive.extract.json_ld import ARTICLE_TYPES, json_ld_objects
from archive.extract.bounded_memo import VerdictMemo

__all__ = ["PageVerdict", "judge_page", "reading_words", "lines_reading_words", "sentence_ends", "is_prose",
           "MIN_SENTENCES", "MIN_WORDS"]

# A main block this long makes a page an article (a news brief is three sentences, ~60 words).
MIN_SENTENCES = 3
MIN_WORDS = 40
# With article-typed structured data, less is enough; with only a listing type, more is needed.
TYPED_MIN_SENTENCES, TYPED_MIN_WORDS = 2, 25
LISTING_MIN_SENTENCES, LISTING_MIN_WORDS = 6, 120

_LISTING_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage", "profilepage"})

# Subtrees a reader does not read as the page's text. Not `form`: ASP.NET pages wrap the whole page in one.
_CHROME = frozenset({"script", "style", "noscript", "template", "nav", "header", "footer", "aside",
                     "button", "select", "textarea", "svg", "iframe", "object", "head", "title", "option"})
# Page chrome built of plain `<div>`s names itself: the footer's licence and copyright lines are
# sentences too, enough of them to pass for a short article on a listing page. A name is one class
# or id token of at most three parts ("site-footer", "cookie_notice"); longer tokens are state
# flags on wrappers ("f_share_tools_footer_on").
_CHROME_WORDS = ("footer", "copyright", "cookie", "consent", "gdpr")  # also `_may_name_chrome`'s quick test
_CHROME_NAME = re.compile(r"^(?:[a-z0-9]+[-_]){0,2}?(?:" + "|".join(_CHROME_WORDS) + r")(?:[-_][a-z0-9]+){0,2}$",
                          re.I)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements that start a new text unit; anything else (a, b, span, em, ...) is inline.
_BLOCKS = frozenset({
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "table", "tbody", "thead",
    "tfoot", "tr", "td", "th", "caption", "blockquote", "pre", "figure", "figcaption", "center", "address",
    "hr", "details", "summary", "body", "html",
}) | _HEADINGS

_WORD = re.compile(r"\w+")
# A whitespace-separated token with a letter or digit, matched from its first one to its end: one
# match per such token (`[^\W_]` is exactly str.isalnum, `\S` exactly not str.isspace), counted in C.
_COUNTED_TOKEN = re.compile(r"[^\W_]\S*")
# A letter or digit (`[^\W_]` is exactly str.isalnum): a token without one (a dash, a bar) is what
# `_counted_tokens` takes off the tokens `str.split` makes.
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
# Chinese characters, kana: one word each (CJK text has no spaces between words).
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_EAST_ASIAN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]")  # either
# The first byte of the UTF-8 of every character `_EAST_ASIAN` matches (U+3040–U+D7A3: E3–ED;
# U+F900–U+FAFF: EF), kept by deleting all the others (`_no_east_asian`).
_NOT_EAST_ASIAN_LEAD = bytes(byte for byte in range(256) if not (0xE3 <= byte <= 0xED or byte == 0xEF))
# A sentence ends at . ! ? (or their CJK forms) followed by a space, a closing quote or the end:
# `[.!?…]+["'”’»)\]]*(?=\s|$)|[。！？]`, written to start with one character set (the lookbehinds say
# which form it was), so the regex engine skips to the candidates in C instead of trying the
# pattern at every character (4x faster on a page's text; the same matches).
_SENTENCE_END = re.compile(r"[.!?…。！？](?:(?<=[。！？])|(?<=[.!?…])[.!?…]*[\"'”’»)\]]*(?=\s|$))")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_TITLE_LIKE_MAX_WORDS = 15  # a line this short without a sentence end reads as a title, not prose
_NEUTRAL_MAX_WORDS = 4  # "Advertisement", a date, a credit: neither prose nor a break
_UNPUNCTUATED_LINE_WORDS = 8


def reading_words(text: str) -> int:
    """Words as a reader counts them: whitespace tokens with a letter or digit (a Vietnamese
    syllable is one), each Chinese/Japanese character one word (as word processors count them),
    and one word per two Korean syllables (a Korean word, about three syllables, says about as
    much as one and a half English words; counted by spaces, a Korean article looks half as long)."""
    if _no_east_asian(text):  # nearly all text: one scan decides both
        return _counted_tokens(text)
    korean = 0
    if _CJK.search(text):  # rare: only CJK text pays for the substitutions
        text = _CJK.sub(" x ", text)
    if _HANGUL.search(text):
        korean = (len(_HANGUL.findall(text)) + 1) // 2
        text = _HANGUL.sub("", text)
    return korean + _counted_tokens(text)


# `reading_words` of the text units the latest `judge_page` counted, those without an East Asian
# character: on a host with no profile the article's paragraphs are mostly these units word for word
# (every one on the bench's pages, half the characters of the 88 real eval pages), and its word count
# (`lines_reading_words`) reads them here instead of counting them again. Emptied at each
# `judge_page`, so it holds one page's units at most.
_UNIT_WORDS: dict[str, int] = {}


def lines_reading_words(lines: list[str]) -> int:
    """`reading_words("\\n".join(lines))`, the lines the gate counted on this page read from
    `_UNIT_WORDS`. Exact: a token never spans a line end (whitespace), `_CJK`'s substitution is
    character by character, and the remembered lines hold no East Asian character, so every Korean
    syllable (whose pairs `reading_words` counts over the whole text) is in the lines counted here."""
    known = _UNIT_WORDS
    if not known:
        return reading_words("\n".join(lines))
    words, rest = 0, []
    for line in lines:
        count = known.get(line)
        if count is None:
            rest.append(line)
        else:
            words += count
    return words + reading_words("\n".join(rest)) if rest else words


def _unit_words(text: str) -> int:
    """`reading_words(text)` of a text unit, remembered in `_UNIT_WORDS` when it has no East Asian
    character (`reading_words`' own first test)."""
    if _no_east_asian(text):
        words = _UNIT_WORDS[text] = _counted_tokens(text)
        return words
    return reading_words(text)


def _no_east_asian(text: str) -> bool:
    """`_EAST_ASIAN.search(text) is None`: most texts (any without a character from U+3000 up) are
    told by their UTF-8 bytes holding none of the first bytes such a character's UTF-8 starts with
    (an encode and a `bytes.translate`, in C, ~30 instructions a character), the rest by the
    expression itself (sre tests each character against the set: ~60 a character). A lone
    surrogate encodes to ED (`surrogatepass`), so such a text goes to the expression too."""
    return text.isascii() or not text.encode("utf-8", "surrogatepass").translate(None, _NOT_EAST_ASIAN_LEAD) \
        or _EAST_ASIAN.search(text) is None


def _counted_tokens(text: str) -> int:
    """How many whitespace tokens of `text` hold a letter or digit (`_COUNTED_TOKEN`'s matches):
    all of `str.split`'s tokens but those without one (rare: a dash, a bar). Only the tokens that
    are not all letters and digits (`str.isalnum`, in C: most of a text's are, the others mostly a
    word with a comma or a full stop) are searched for one, and that search stops at the first.
    Scanning the whole text for whitespace-delimited runs of non-alphanumerics instead (the regular
    expression this replaced) cost the page gate ~0.7 M instructions more a generic page: sre tries
    a match at every whitespace and tests every character against a character set."""
    tokens = text.split()
    uncounted = 0
    search = _LETTER_OR_DIGIT.search
    for token in filterfalse(str.isalnum, tokens):
        if search(token) is None:
            uncounted += 1
    return len(tokens) - uncounted


def sentence_ends(text: str) -> int:
    """How many sentences end in `text` (. ! ? … and their CJK forms, before a space or the end)."""
    return len(_SENTENCE_END.findall(text.strip()))


_PROSE_MIN_WORDS = 8


def is_prose(text: str) -> bool:
    """A line of running text: eight words or more, and a sentence end. Whitespace may be raw
    (newlines, runs of spaces): neither count depends on it."""
    return _at_least_words(text, _PROSE_MIN_WORDS) and bool(_SENTENCE_END.search(text))


def _at_least_words(text: str, n: int) -> bool:
    """`reading_words(text) >= n`, read from the start of a long text when that is enough (a
    container's text may be the whole article). Exact: words are counted token by token, and
    a token without a Korean syllable counts the same wherever it stands (a Korean syllable
    further on adds words; only the tokens holding one count fewer).

    Most texts are settled by their first `n` whitespace tokens alone: when each is letters and
    digits only, without an East Asian character, each is one counted token (`_COUNTED_TOKEN`)
    whatever follows (the substitutions for East Asian text further on only add tokens), so
    there are `n` words or more; reading them is a split of the start, not a scan of the whole
    text.

    One word (a heading's, a unit's own: most calls) is there when a letter or digit outside the
    East Asian ranges is: the token holding it counts whatever else the text holds."""
    if n == 1 and _COUNTED_ANYWHERE.search(text) is not None:
        return True
    if n > 0:
        head = text if len(text) <= _HEAD_CHARS else text[:_HEAD_CHARS]  # (not a copy of a long text)
        tokens = head.split(None, n)
        # The first n tokens are whole: followed by more of the head, or the head is the text.
        if len(tokens) > n or (len(tokens) == n and head is text):
            first = "".join(tokens[:n])  # (no token is empty: the join is alphanumeric iff each is)
            if first.isalnum() and _EAST_ASIAN.search(first) is None:
                return True
    if len(text) > 4 * _HEAD_CHARS:
        parts = text[:_HEAD_CHARS].rsplit(None, 1)  # whole tokens only: the last may be cut
        head = parts[0] if len(parts) == 2 else ""
        if not _HANGUL.search(head) and reading_words(head) >= n:
            return True
    if n > 0 and _no_east_asian(text):  # then its words are `_COUNTED_TOKEN`'s matches:
        return next(islice(_COUNTED_TOKEN.finditer(text), n - 1, None), None) is not None  # the n-th?
    return reading_words(text) >= n


_HEAD_CHARS = 400
# A letter or digit (`[^\W_]`, str.isalnum) that is not East Asian (`_EAST_ASIAN`'s ranges).
_COUNTED_ANYWHERE = re.compile(r"[^\W_\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]")


def _sentences(text: str) -> int:
    """Sentence ends; a line of its own (between `<br>`s) long enough to be prose counts as one
    even without a full stop, as briefs written line by line have none."""
    lines = text.split("\n")
    if len(lines) == 1:
        return sentence_ends(text)
    count = 0
    for line in lines:
        ends = sentence_ends(line)
        count += ends or (reading_words(line) >= _UNPUNCTUATED_LINE_WORDS)
    return count


@dataclass(frozen=True)
class PageVerdict:
    """The gate's answer and what it saw (`reason` is one line for logs and `Article.reason`)."""

    is_article: bool
    reason: str
    sentences: int = 0  # in the main block
    words: int = 0  # in the main block
    headline: bool = False
    structured: str = ""  # "article", "listing" or "" (none / not telling)


# A text unit: (is it a heading?, its own text pieces, its link text pieces). A plain tuple: a
# page makes ~300 (a dataclass's `__init__` cost the walk ~10 %).
_Unit = tuple[bool, list[str], list[str]]
_TEXT, _LINK_TEXT = 1, 2


def _units(root: etree._Element) -> list[_Unit]:
    """The page's text units in document order (see the module docstring). The gate's one walk
    over every element of the page, so written for speed: each text and tail is read once, and the
    walk goes down through lxml's own iterator of each element's children (one frame kept an
    element with children, none a leaf) rather than a tuple pushed and popped for every child: a
    tail goes to the enclosing unit at once for a leaf or a skipped element, after its subtree for
    the others, as a reader meets it."""
    units: list[_Unit] = []
    body = root.find(".//body")
    start = body if body is not None else root
    # (the rest of an ancestor's children, the unit their texts go to, inside a link?, that ancestor)
    frames: list[tuple] = []
    siblings, owner, in_link = iter((start,)), None, False  # the children being walked and where they go
    chrome, blocks, headings, skipped = _CHROME, _BLOCKS, _HEADINGS, _skipped
    while True:
        for el in siblings:
            tag = el.tag
            if tag.__class__ is not str or tag in chrome or skipped(el):
                if owner is not None and (tail := el.tail):  # (its tail is still the page's)
                    owner[_LINK_TEXT if in_link else _TEXT].append(tail)
                continue
            inner, inner_link = owner, in_link  # where the element's own text and children go
            if tag in blocks:
                inner = (tag in headings, [], [])
                units.append(inner)
            elif tag == "a" and el.get("href"):
                inner_link = True
            elif tag == "br" and owner is not None:
                owner[_TEXT].append("\n")
            if inner is not None and (text := el.text):
                inner[_LINK_TEXT if inner_link else _TEXT].append(text)
            if len(el):  # down into its children; its tail when they are done
                frames.append((siblings, owner, in_link, el))
                siblings, owner, in_link = iter(el), inner, inner_link
                break
            if owner is not None and (tail := el.tail):  # (most elements of a page are leaves)
                owner[_LINK_TEXT if in_link else _TEXT].append(tail)
        else:  # the children are done: back up to their parent's siblings, after the parent's tail
            if not frames:
                return units
            siblings, owner, in_link, el = frames.pop()
            if owner is not None and (tail := el.tail):
                owner[_LINK_TEXT if in_link else _TEXT].append(tail)


def _skipped(el: etree._Element) -> bool:
    """Hidden from sight, or page chrome that names itself in its class or id. (Not aria-hidden:
    that hides from screen readers only, and real pages put it on article text.) An element
    holding the headline is neither: a page hidden until its scripts run, a wrapper whose
    class says "has-footer"."""
    names = el.keys()  # (one call for the names an element has: lxml's `get` costs ~150 ns a name asked)
    if not names:  # (no class, id, style nor hidden: shown, and names no chrome)
        return False
    style = el.get("style") if "style" in names else None
    if "hidden" not in names and (style is None or _HIDDEN_STYLE.search(style) is None):
        # Its class and id read as one string of names (a token of either names chrome); the string
        # of one of them alone is that one (a space after it adds no name). Neither: no name at all.
        if "class" in names:
            class_and_id = el.get("class") if "id" not in names else f"{el.get('class')} {el.get('id')}"
        elif "id" in names:
            class_and_id = el.get("id")
        else:
            return False
        if not _NAMES_CHROME[class_and_id] or el.tag in ("body", "html"):
            return False
    return el.find(".//h1") is None


_ANY_CHROME_WORD = re.compile("|".join(_CHROME_WORDS))


def _names_chrome(names: str) -> bool:
    """Whether a class or id token in `names` names page chrome (`_CHROME_NAME`)."""
    return _may_name_chrome(names) and any(_CHROME_NAME.match(name) for name in names.split())


class _ChromeNames(VerdictMemo):
    """`_names_chrome` of the class-and-id strings met so far: a page repeats a few dozen of them
    over its ~900 elements ("cms-link ", " "), and a site over its pages. Short ones only."""

    LIMIT, MAX_CHARS = 20_000, 200


_NAMES_CHROME = _ChromeNames(_names_chrome)


def _may_name_chrome(names: str) -> bool:
    """False when no class or id in `names` can match `_CHROME_NAME`: ASCII names without its
    words (for ASCII text, re.I is lower-casing; other text goes to the expression)."""
    if not names.isascii():
        return True
    return _ANY_CHROME_WORD.search(names.lower()) is not None


def _main_block(units: list[_Unit]) -> tuple[int, int]:
    """(sentences, words) of the longest run of prose units. A unit's text is read as the page
    has it: word and sentence counts do not depend on how whitespace runs (`reading_words`,
    `_sentences`), so it is not collapsed first.

    A prose unit without links adds a sentence or more to its run whatever its word count: its
    words are counted only when a run's words decide (two runs of as many sentences compared, and
    the main block's own at the end). A listing's teaser summaries, each a run of one sentence,
    are then mostly not counted at all (half the text units' characters on a generic bench page)."""
    best, best_words = 0, _Words()  # the main block so far: its sentences and its words
    sentences, words = 0, _Words()  # the run going on
    for heading, text_pieces, link_pieces in units:
        text = "".join(text_pieces)
        if heading:  # a heading with any word ends the run; how many words does not matter
            if (text and _at_least_words(text, 1)) or (link_pieces and _at_least_words(" ".join(link_pieces), 1)):
                sentences, words = 0, _Words()
            continue
        if not text or text.isspace() or not _at_least_words(text, 1):  # no own word (a wrapper's text is
            # often blank): a line of five link words or more (a teaser title, a menu) ends the run
            if link_pieces and _at_least_words(" ".join(link_pieces), _NEUTRAL_MAX_WORDS + 1):
                sentences, words = 0, _Words()
            continue  # (else an empty wrapper, whose children are the units, or a short credit)
        if link_pieces:  # (its own words against its link words: both counted)
            own, linked = _unit_words(text), reading_words(" ".join(link_pieces))
            may_be_prose = own > linked
            ends = _sentences(text) if may_be_prose else 0  # (not counted where they cannot matter)
            prose = may_be_prose and (ends or own > _TITLE_LIKE_MAX_WORDS)
        else:  # own words and none linked: prose if a sentence ends in it or it is longer than a title
            own, linked = None, 0
            ends = _sentences(text)
            prose = bool(ends) or _at_least_words(text, _TITLE_LIKE_MAX_WORDS + 1)
        if prose:
            sentences += max(ends, 1)
            words.add(text, own)
            if sentences > best:
                best, best_words = sentences, words.upto()
            elif sentences == best and words.total() > best_words.total():
                best_words = words.upto()
        elif (own if own is not None else _unit_words(text)) + linked > _NEUTRAL_MAX_WORDS:
            sentences, words = 0, _Words()  # a teaser title, a menu: the run ends
    return best, best_words.total()


class _Words:
    """The words of a run of prose units, counted (`_unit_words`) only when `total` is asked: the
    counts known, and the texts not counted yet (shared, as far as `upto` took them, with the
    copy kept as the main block so far: a run only grows)."""

    __slots__ = ("_counted", "_texts", "_upto")

    def __init__(self, counted: int = 0, texts: list[str] | None = None, upto: int = 0):
        self._counted, self._texts, self._upto = counted, texts if texts is not None else [], upto

    def add(self, text: str, words: int | None) -> None:
        if words is not None:
            self._counted += words
        else:
            self._texts.append(text)
            self._upto += 1

    def upto(self) -> "_Words":
        """The run's words as they are now (later units of the run not included)."""
        return _Words(self._counted, self._texts, self._upto)

    def total(self) -> int:
        if self._upto:
            self._counted += sum(map(_unit_words, self._texts[:self._upto]))
            self._texts, self._upto = [], 0  # (a new list: a copy taken before still reads the old one)
        return self._counted


_DECLARING = ("script", "meta", "h1", "title")


def _declaring_elements(root: etree._Element) -> dict[str, list[etree._Element]]:
    """The page's `script`, `meta`, `h1` and `title` elements by tag, in document order: what
    `_structured` and `_has_headline` read, found in one walk (lxml's tag filter, in C), not four."""
    found: dict[str, list[etree._Element]] = {tag: [] for tag in _DECLARING}
    for el in root.iter(_DECLARING):
        found[el.tag].append(el)
    return found


def _structured(found: dict[str, list[etree._Element]]) -> str:
    """"article" when JSON-LD/OpenGraph types the page as an article, "listing" for a listing type
    only. `found`: `_declaring_elements` of the page."""
    types: set[str] = set()
    for script in found["script"]:
        if (script.get("type") or "").strip().lower() == "application/ld+json":
            for obj in json_ld_objects(script.text or ""):
                kind = obj.get("@type")
                for t in [kind] if isinstance(kind, str) else (kind or []):
                    if isinstance(t, str):
                        types.add(t.lower())
    for meta in found["meta"]:
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:type":
            types.add((meta.get("content") or "").strip().lower())
    if types & ARTICLE_TYPES:
        return "article"
    if types & _LISTING_TYPES:
        return "listing"
    return ""  # og:type "website" says nothing: news sites put it on stories too


def _has_headline(found: dict[str, list[etree._Element]], root: etree._Element) -> bool:
    """A headline a reader sees (`<h1>`), or one the page declares (og:title, `<title>`).
    `found`: `_declaring_elements` of the page `root`."""
    for el in found["h1"]:
        if "".join(el.itertext()).strip():
            return True
    for meta in found["meta"]:
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if key in ("og:title", "twitter:title") and (meta.get("content") or "").strip():
            return True
    title = next((el for el in found["title"] if el is not root), None)  # the first under `root`
    return title is not None and bool("".join(title.itertext()).strip())


def judge_page(root: etree._Element) -> PageVerdict:
    """Article or not, from the parsed page (an lxml HTML tree or element)."""
    _UNIT_WORDS.clear()  # (the previous page's)
    sentences, words = _main_block(_units(root))
    found = _declaring_elements(root)
    structured = _structured(found)
    headline = _has_headline(found, root)
    need_sentences, need_words = {
        "article": (TYPED_MIN_SENTENCES, TYPED_MIN_WORDS),
        "listing": (LISTING_MIN_SENTENCES, LISTING_MIN_WORDS),
    }.get(structured, (MIN_SENTENCES, MIN_WORDS))
    seen = f"main text block of {sentences} sentences, {words} words"
    if not headline:
        return PageVerdict(False, "no headline", sentences, words, headline, structured)
    if sentences < need_sentences or words < need_words:
        kind = f" ({structured} structured data)" if structured else ""
        return PageVerdict(False, f"not an article: {seen}{kind}, needs {need_sentences} sentences and "
                                  f"{need_words} words (listing or hub page)",
                           sentences, words, headline, structured)
    return PageVerdict(True, seen, sentences, words, headline, structured)
