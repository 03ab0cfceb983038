"""When the article was published: ISO data in JSON-LD/meta first (an exact instant), then the
hinted date element (`stated_date`), then a date line as Vietnamese sites print it, then
htmldate's guess (`guessed_date`). Every time is read as GMT+7 when the page gives no offset
(archive/vietnam_time.py)."""
from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import TYPE_CHECKING

import htmldate
from lxml import etree

from archive.extract.hints import ExtractionHints, select
from archive.extract.text import clean, text_of
from archive.vietnam_time import VIETNAM_TZ, in_vietnam, parse_iso

if TYPE_CHECKING:
    from archive.extract.metadata import Structured

__all__ = ["stated_date", "guessed_date"]


def stated_date(tree: etree._Element, info: Structured, hints: ExtractionHints
                ) -> tuple[datetime | None, set[str]]:
    """The publication instant as the page states it, read from the untouched tree: ISO data, then
    the hinted date element; and the page's date texts (to strip their echoes from the body).
    Apart from `guessed_date` so that the extraction knows, before it makes its working copy of
    the page, whether the date needs the page read again."""
    date_texts: set[str] = set()
    published = info.published
    for el in select(tree, hints.date):
        date_texts.add(text_of(el))
        published = published or _parse_date_element(el, hints.date_formats)
    return published, date_texts


def guessed_date(tree: etree._Element, work: etree._Element, url: str) -> datetime | None:
    """The publication instant when the page states none: a date line in the working copy, then
    htmldate on the untouched tree."""
    return _visible_date(work) or _htmldate_published(tree, url)


_WEEKDAY_PREFIX = re.compile(r"^(?:Thứ\s+(?:hai|ba|tư|năm|sáu|bảy|\d)|Chủ\s+nhật)\s*,?\s*", re.I)
_GMT_SUFFIX = re.compile(r"\s*\(?\s*(?:GMT|UTC)\s*\+\s*0?7(?::?00)?\s*\)?\s*$", re.I)


def _parse_date_element(el: etree._Element, formats: tuple[str, ...]) -> datetime | None:
    """Date from a hint element: its datetime/content attribute, else its text."""
    for attr in ("datetime", "content"):
        value = el.get(attr)
        if value:
            parsed = in_vietnam(parse_iso(value)) or _parse_with_formats(value, formats)
            if parsed:
                return parsed
    return _parse_with_formats(text_of(el), formats)


def _parse_with_formats(text: str, formats: tuple[str, ...]) -> datetime | None:
    text = clean(text)
    if not text:
        return None
    candidates = [text, _GMT_SUFFIX.sub("", text)]
    candidates.append(_WEEKDAY_PREFIX.sub("", candidates[-1]).strip())
    for candidate in dict.fromkeys(candidates):
        for fmt in formats:
            try:
                return in_vietnam(datetime.strptime(candidate, fmt))
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
        text = text_of(el)
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
    return in_vietnam(parse_iso(found)) if found else None
