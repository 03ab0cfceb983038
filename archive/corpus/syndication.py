"""Which of two copies of one article is the original publisher's: the corpus keeps that one.

Vietnamese news sites republish each other's stories, usually with a credit
line ("Theo Báo Nhân Dân", "Nguồn: TTXVN"). When two pages carry the same (or
nearly the same) text, the corpus keeps one as the numbered file and notes
the other as an alias. Which one must not depend on which page arrived first
(docs/corpus-determinism.md), so it is decided by these rules, in order:

1. the page whose credit line names the other page's site is the copy;
2. else the earlier `published` date is the original;
3. else the page whose canonical URL points to another site is the copy.

When none decides, the page already kept stays (the earlier in the crawl's
order: WARC-Date, then URL).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from archive.extract.article import Article
from archive.urls import site_of

__all__ = ["Claim", "claim_of", "claim_from_entry", "credit_of", "is_original_over"]

# A short line that credits a source: "Theo Báo Nhân Dân", "(Theo VietnamPlus)", "Nguồn: TTXVN".
_CREDIT = re.compile(r"^\(?\s*(?:theo|nguồn)\s*:?\s+(?P<name>[^()]{2,60}?)\s*\)?\s*\.?$", re.I)
_MAX_CREDIT_WORDS = 8
_TAIL = 4  # credit lines close an article: only its last paragraphs are read
_MIN_LABEL = 4  # a site label shorter than this ("vn", "tv") would match by accident


@dataclass(frozen=True, slots=True)
class Claim:
    """What the rules read of one copy."""

    host: str | None  # the site the page was fetched from
    credit: str | None  # the name its credit line gives, folded (see `_fold`)
    published: datetime | None
    canonical_elsewhere: bool  # its canonical URL is on another site

    def credits(self, other: "Claim") -> bool:
        """True when this page's credit line names `other`'s site."""
        label = _site_label(other.host)
        return bool(self.credit and label and label in self.credit)


def credit_of(article: Article) -> str | None:
    """The source an article's credit line names ("Báo Nhân Dân"), as written; None without one."""
    lines = [*article.last_paragraphs(_TAIL), *([article.author] if article.author else [])]
    for line in reversed(lines):
        match = _CREDIT.match(line.strip())
        if match and len(match.group("name").split()) <= _MAX_CREDIT_WORDS:
            return match.group("name")
    return None


def claim_of(article: Article, canonical: str) -> Claim:
    host = site_of(article.url) if article.url else None
    credit = credit_of(article)
    return Claim(host=host, credit=_fold(credit) if credit else None, published=article.published,
                 canonical_elsewhere=bool(host and site_of(canonical) != host))


def claim_from_entry(entry: dict) -> Claim:
    """The claim of a manifest entry (a reopened corpus): its URL, `credit`, `published`, canonical URL."""
    url, canonical, credit = entry.get("url"), entry.get("canonical_url"), entry.get("credit")
    host = site_of(url) if url else None
    published = entry.get("published")
    try:
        when = datetime.fromisoformat(published) if published else None
    except ValueError:
        when = None
    return Claim(host=host, credit=_fold(credit) if credit else None, published=when,
                 canonical_elsewhere=bool(host and canonical and site_of(canonical) != host))


def is_original_over(new: Claim, kept: Claim) -> bool:
    """True when `new` is the original publisher's copy of `kept`'s article (module docstring)."""
    if kept.credits(new) != new.credits(kept):
        return kept.credits(new)
    if new.published and kept.published and new.published != kept.published:
        return new.published < kept.published
    return kept.canonical_elsewhere and not new.canonical_elsewhere


def _fold(text: str) -> str:
    """Lower case, no diacritics, letters and digits only: "Báo Nhân Dân" -> "baonhandan"."""
    text = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))


def _site_label(host: str | None) -> str | None:
    """The name part of a host: "nhandan.vn" -> "nhandan", "www.thoidai.com.vn" -> "thoidai"."""
    if not host:
        return None
    label = host.removeprefix("www.").split(".")[0]
    return label if len(label) >= _MIN_LABEL else None
