"""A page's measured links as an extraction worker sends them to the crawl: in columns, rebuilt
link by link only where the crawl reads them.

A generic page's reading holds ~138 `(url, anchor, is_next)` links with ~133 distinct anchors,
each a `MeasuredText` (archive/extract/topic.py). `SentLinks` is that tuple in the worker; pickled,
it is its columns: the URLs, each link's anchor by its place among the page's distinct anchors,
the next-page flags, and of the distinct anchors their texts as one UTF-8 bytes object, their packed
vectors' terms and weights as two bytes objects (each cut by its ends) and each measurement
field. A handful of objects to pickle and unpickle instead of ~800 (a string, two bytes and a
tuple an anchor, a Python call each to rebuild).

Unpickled, they are `ReceivedLinks`: the same sequence of links (the same URLs, flags and order,
the same anchors with the same measurements, a vector still packed until it is read, a text met
twice on the page one object), whose links are built when they are read. The crawl reads the
URLs of all of a page's links (`link_urls`) but the anchors of few (`links_at`): those of URLs it
has not requested or not counted in its anchor background, ~2 % of a bench page's anchors in the
middle of a crawl (docs/performance.md, session 19).

A tuple of fewer than `_MIN_LINKS` links, or whose anchors are not all measured texts or plain
strings, or whose equal anchors are not one object, or with an anchor holding a NUL (what cuts
the texts apart), is pickled as the plain tuple it is. No Scrapy here.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import accumulate, repeat
from operator import attrgetter, is_, itemgetter

from archive.extract.topic import MeasuredText

__all__ = ["ReceivedLinks", "SentLinks", "link_urls", "links_at"]

_FIELDS = itemgetter("topic_key", "score", "enough", "heaviest")  # of a `MeasuredText`'s `__dict__`
_URL = itemgetter(0)


class SentLinks(tuple):
    """`PageReading.links` read and measured in a worker (archive/extract/pool.py `_measured`)."""

    __slots__ = ()

    def __reduce__(self):
        columns = _columns(self)
        return (ReceivedLinks, columns) if columns is not None else (tuple, (tuple(self),))


def _columns(links: tuple) -> tuple | None:
    """The arguments of `ReceivedLinks` that give `links` back; None when the columns would not
    (see the module docstring). Passes in C but for the few plain anchors and unpacked vectors."""
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
    texts = "\0".join(table)
    if texts.count("\0") != len(table) - 1:  # (an anchor holding a NUL: the texts could not be cut apart)
        return None
    plain = tuple(i for i, anchor in enumerate(table) if type(anchor) is str) if str in types else ()
    for i in plain:  # ("": no anchor) read as a measured text without measurements, put back by `_anchor`
        table[i] = _UNMEASURED
    states = list(map(_STATE, table))  # (read from each one's `__dict__`: a dict look-up, not an attribute's)
    keys, scores, enough, heaviest = zip(*map(_FIELDS, states))
    packed = list(map(dict.get, states, repeat("_packed")))
    given = {}  # the vectors given as dicts, or none, by anchor
    for i, vector in enumerate(packed):
        if vector is None:
            given[i], packed[i] = table[i].vector, _NO_VECTOR
    terms, weights = zip(*packed)
    return (urls, index, nexts, texts.encode(*_UTF8), plain, keys, b"".join(terms), tuple(accumulate(map(len, terms))),
            b"".join(weights), tuple(accumulate(map(len, weights))), given, scores, enough, heaviest)


# Fewer links go as the plain tuple: rebuilding the columns costs a few µs a page more than it
# saves on a page of ~5 links (nhandan.vn's; a generic page has ~138).
_MIN_LINKS = 16
_STATE = attrgetter("__dict__")
_UNMEASURED = MeasuredText("", None, None, 0, False)
_NO_VECTOR = (b"", b"")
_UTF8 = ("utf-8", "surrogatepass")  # (what pickle does with a str: any str goes there and back)


class ReceivedLinks(Sequence):
    """A page's links as the crawl receives them from a worker: a sequence of `(url, anchor,
    is_next)` equal to the `SentLinks` sent, each anchor made a `MeasuredText` the first time a
    link that carries it is read (one object an anchor, as sent)."""

    __slots__ = ("urls", "_index", "_nexts", "_texts", "_plain", "_keys", "_terms", "_term_ends", "_weights",
                 "_weight_ends", "_given", "_scores", "_enough", "_heaviest", "_anchors", "_pieces", "_unmade", "_all")

    def __init__(self, urls, index, nexts, texts, plain, keys, terms, term_ends, weights, weight_ends,
                 given, scores, enough, heaviest):
        self.urls: tuple[str, ...] = urls  # every link's URL, in order: what the crawl asks of all of them
        self._index, self._nexts, self._plain, self._given = index, nexts, plain, given
        self._texts, self._keys = texts, keys  # (the texts: UTF-8, a NUL between two)
        self._terms, self._term_ends, self._weights, self._weight_ends = terms, term_ends, weights, weight_ends
        self._scores, self._enough, self._heaviest = scores, enough, heaviest
        self._anchors: list = [None] * len(keys)  # the anchors made so far, by their place
        self._pieces: list[bytes] | None = None  # the texts cut apart, once one anchor is made alone
        self._unmade = len(keys)
        self._all: tuple | None = None

    def __reduce__(self):
        return ReceivedLinks, (self.urls, self._index, self._nexts, self._texts, self._plain,
                               self._keys, self._terms, self._term_ends, self._weights, self._weight_ends,
                               self._given, self._scores, self._enough, self._heaviest)

    def _anchor(self, i: int) -> str:
        """The page's `i`-th distinct anchor, made on its first reading."""
        anchor = self._anchors[i]
        if anchor is None:
            if self._pieces is None:
                self._pieces = self._texts.split(b"\0")
            text = self._pieces[i].decode(*_UTF8)
            if i in self._plain:
                anchor = text
            else:
                vector = self._given[i] if i in self._given else (
                    self._terms[self._term_ends[i - 1] if i else 0:self._term_ends[i]],
                    self._weights[self._weight_ends[i - 1] if i else 0:self._weight_ends[i]])
                anchor = MeasuredText(text, self._keys[i], vector, self._scores[i], self._enough[i],
                                      self._heaviest[i])
            self._anchors[i] = anchor
            self._unmade -= 1
        return anchor

    def _make_all(self) -> None:
        """Every anchor not made yet, in a few passes in C (a page whose links the crawl mostly
        reads: its first sight of a web, a listing): as `_anchor` makes each, for less."""
        texts = self._texts.decode(*_UTF8).split("\0")  # (no UTF-8 sequence but NUL's holds a 0 byte)
        terms, weights = self._terms, self._weights
        vectors = list(zip(map(terms.__getitem__, map(slice, (0, *self._term_ends[:-1]), self._term_ends)),
                           map(weights.__getitem__, map(slice, (0, *self._weight_ends[:-1]), self._weight_ends))))
        for i, vector in self._given.items():
            vectors[i] = vector
        made = list(map(MeasuredText, texts, self._keys, vectors, self._scores, self._enough, self._heaviest))
        for i in self._plain:
            made[i] = texts[i]
        self._anchors = [anchor if anchor is not None else new for anchor, new in zip(self._anchors, made)]
        self._unmade = 0

    def at(self, positions: Iterable[int]) -> list[tuple]:
        """The links at these places, in the order given; when they are many, every anchor is made at once."""
        positions = positions if isinstance(positions, (list, tuple, range)) else list(positions)
        if self._unmade and 2 * len(positions) >= len(self._anchors):
            self._make_all()
        urls, index, nexts = self.urls, self._index, self._nexts
        if not self._unmade:  # (in C)
            return list(zip(map(urls.__getitem__, positions),
                            map(self._anchors.__getitem__, map(index.__getitem__, positions)),
                            map(nexts.__getitem__, positions)))
        anchor = self._anchor
        return [(urls[i], anchor(index[i]), nexts[i]) for i in positions]

    def __len__(self) -> int:
        return len(self.urls)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self.at(range(len(self.urls))[i]))
        return (self.urls[i], self._anchor(self._index[i]), self._nexts[i])

    def __iter__(self):
        if self._all is None:
            if self._unmade:
                self._make_all()
            self._all = tuple(zip(self.urls, map(self._anchors.__getitem__, self._index), self._nexts))
        return iter(self._all)

    def __eq__(self, other) -> bool:
        if isinstance(other, ReceivedLinks):
            other = tuple(other)
        return isinstance(other, tuple) and tuple(self) == other

    __hash__ = None

    def __repr__(self) -> str:
        return f"ReceivedLinks({tuple(self)!r})"


def link_urls(links: Sequence[tuple]) -> tuple[str, ...]:
    """The URL of each of `links` (`(url, anchor, is_next)`), in order; no anchor made."""
    return links.urls if type(links) is ReceivedLinks else tuple(map(_URL, links))


def links_at(links: Sequence[tuple], positions: Iterable[int]) -> list[tuple]:
    """The links at these places of `links`, in the order given; only their anchors made."""
    return links.at(positions) if type(links) is ReceivedLinks else list(map(links.__getitem__, positions))

