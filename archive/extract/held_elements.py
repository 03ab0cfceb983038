"""Every element object of a tree kept alive while a block runs, so that lxml makes each one once.

lxml makes a Python object (a proxy) for a node each time code reaches it while no object of it is
alive, and frees it when the last reference goes. A walk of a whole generic page (~900 elements)
that keeps nothing costs ~0.13-0.22 ms in proxies made and freed; the same walk while every proxy
is alive ~0.02 ms (docs/performance.md, session 20). trafilatura walks its two working copies of
the page many times (its pruning XPaths' stand-ins, readability's passes, the cleaning and the
conversion, the extraction), remaking the same proxies each time.

Holding proxies changes nothing of what lxml does to or reads from the tree: a node has one proxy
at a time, whoever holds it, and a removed element stays whole for whoever holds it either way
(lxml frees a node only once no proxy of it or below it is alive). Only when the memory of the
trees is freed moves: at the block's end. No Scrapy here.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lxml import etree

__all__ = ["elements_held", "hold"]

_HELD = threading.local()  # `.lists`: the element lists held in this thread's outermost block, else None


@contextmanager
def elements_held() -> Iterator[None]:
    """Keep what `hold` is given in this thread until the block ends (a nested block: until the
    outermost one ends)."""
    outermost = getattr(_HELD, "lists", None) is None
    if outermost:
        _HELD.lists = []
    try:
        yield
    finally:
        if outermost:
            _HELD.lists = None  # (the proxies go, and with them the trees no one else holds)


def hold(tree: etree._Element) -> None:
    """Keep every node object of `tree` (itself, its elements, comments ...) alive until the
    enclosing `elements_held()` block of this thread ends; outside one, nothing is kept."""
    lists = getattr(_HELD, "lists", None)
    if lists is not None:
        lists.append(list(tree.iter()))
