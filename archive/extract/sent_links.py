"""A page's measured links as an extraction worker sends them to the crawl: in columns.

A generic page's reading holds ~138 `(url, anchor, is_next)` links with ~133 distinct anchors,
each a `MeasuredText` (archive/extract/topic.py). Pickled one by one, every anchor was a Python
`__reduce__` call in the worker and a tuple of six arguments in the stream. `SentLinks` is the
same tuple of links; pickled, it is its columns (the URLs, each link's anchor by its place among
the page's distinct anchors, the next-page flags, and each measurement field of the distinct
anchors), made by a few passes in C, and unpickled it is a plain tuple of links again: the same
URLs, flags and order, the same anchors with the same measurements (a vector still packed, made a
dict only where the crawl reads it), a text met twice on the page one object as it was sent.
A tuple of fewer than `_MIN_LINKS` links, or whose anchors are not all measured texts or plain
strings, or whose equal anchors are not one object, is pickled as the plain tuple it is. No Scrapy
here.
"""
from __future__ import annotations

from itertools import repeat
from operator import attrgetter, is_

from archive.extract.topic import MeasuredText

__all__ = ["SentLinks"]

_FIELDS = attrgetter("topic_key", "score", "enough", "heaviest")


class SentLinks(tuple):
    """`PageReading.links` read and measured in a worker (archive/extract/pool.py `_measured`)."""

    __slots__ = ()

    def __reduce__(self):
        columns = _columns(self)
        return (_links, columns) if columns is not None else (tuple, (tuple(self),))


def _columns(links: tuple) -> tuple | None:
    """The arguments of `_links` that rebuild `links`; None when the columns would not (see the
    module docstring). Passes in C but for the few plain anchors and unpacked vectors."""
    if len(links) < _MIN_LINKS:
        return None
    urls, anchors, nexts = zip(*links)
    table = list(dict.fromkeys(anchors))  # the distinct anchors, in the order first met
    position = dict(zip(table, range(len(table))))
    index = tuple(map(position.__getitem__, anchors))
    if not all(map(is_, anchors, map(table.__getitem__, index))):  # equal anchors that are two objects
        return None
    types = set(map(type, table))
    if not types <= {MeasuredText, str}:
        return None
    texts = tuple(map(str, table))
    plain = tuple(i for i, anchor in enumerate(table) if type(anchor) is str) if str in types else ()
    for i in plain:  # ("": no anchor) read as a measured text without measurements, put back by `_links`
        table[i] = _UNMEASURED
    keys, scores, enough, heaviest = zip(*map(_FIELDS, table))
    vectors = list(map(dict.get, map(_STATE, table), repeat("_packed")))
    for i, vector in enumerate(vectors):
        if vector is None:  # (a vector given as a dict, or none)
            vectors[i] = table[i].vector
    return urls, index, nexts, texts, plain, keys, tuple(vectors), scores, enough, heaviest


# Fewer links go as the plain tuple: rebuilding the columns costs a few µs a page more than it
# saves on a page of ~5 links (nhandan.vn's; a generic page has ~138).
_MIN_LINKS = 16
_STATE = attrgetter("__dict__")
_UNMEASURED = MeasuredText("", None, None, 0, False)


def _links(urls, index, nexts, texts, plain, keys, vectors, scores, enough, heaviest) -> tuple:
    """The links `_columns` took apart, as a plain tuple."""
    table = list(map(MeasuredText, texts, keys, vectors, scores, enough, heaviest))
    for i in plain:
        table[i] = texts[i]
    return tuple(zip(urls, map(table.__getitem__, index), nexts))
