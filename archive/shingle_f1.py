"""Shingle F1: how close an extracted article body is to the true one, as the public
article-extraction benchmark (Scrapinghub/Zyte) scores it.

Our own implementation of the metric that benchmark describes, so its figures and ours can be
compared: tokens are Unicode `\\w+` matches; a text's shingles are its token 4-grams counted as a
multiset (a text of fewer than 4 tokens is one shingle). For one page, tp / fp / fn are the
multiset overlap, surplus and shortfall, then divided by their sum so that every page weighs the
same. Precision and recall are taken over the sums of those per-page shares, F1 from the two.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["shingles", "page_counts", "PageCounts", "Totals", "totals"]

_TOKEN = re.compile(r"\w+")
SHINGLE_SIZE = 4


def shingles(text: str) -> Counter:
    """The text's token 4-grams as a multiset; an empty text has none."""
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) < SHINGLE_SIZE:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i:i + SHINGLE_SIZE]) for i in range(len(tokens) - SHINGLE_SIZE + 1))


@dataclass(frozen=True)
class PageCounts:
    """One page's overlap (tp), surplus (fp) and shortfall (fn), as shares summing to 1
    (all zero when both texts are empty)."""

    tp: float
    fp: float
    fn: float
    exact: bool  # the two token lists are equal


def page_counts(got: str, truth: str) -> PageCounts:
    got_shingles, true_shingles = shingles(got), shingles(truth)
    tp = sum((got_shingles & true_shingles).values())
    fp = sum((got_shingles - true_shingles).values())
    fn = sum((true_shingles - got_shingles).values())
    total = tp + fp + fn
    exact = _TOKEN.findall(got or "") == _TOKEN.findall(truth or "")
    if not total:
        return PageCounts(0.0, 0.0, 0.0, exact)
    return PageCounts(tp / total, fp / total, fn / total, exact)


@dataclass(frozen=True)
class Totals:
    pages: int
    precision: float
    recall: float
    f1: float
    accuracy: float  # share of pages whose token lists are equal


def totals(pages: Iterable[PageCounts]) -> Totals:
    rows = list(pages)
    tp = sum(r.tp for r in rows)
    fp = sum(r.fp for r in rows)
    fn = sum(r.fn for r in rows)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(r.exact for r in rows) / len(rows) if rows else 0.0
    return Totals(len(rows), precision, recall, f1, accuracy)
