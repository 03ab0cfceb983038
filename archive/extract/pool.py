"""Article extraction in worker processes, so parsing never holds the caller's GIL, and no
single page can hold a worker for long.

trafilatura is pure CPU work under the GIL; running it in the crawler's
reactor thread caps a crawl at one core. The pool keeps one worker per core
(by default) and hands back `concurrent.futures.Future`s, which any event
loop can wait on. ``workers=0`` runs extraction inline, for debugging and for
callers that are already parallel (no time budget then: nothing can stop a
page running in the caller's own thread).

A page gets `time_budget` seconds (archive/extract/process_pool.py): a hostile one
(pathological markup, hundreds of thousands of links) that overruns it loses
its worker, which is replaced, and its future fails with `ExtractionTimedOut`;
the other pages never notice.
"""
from __future__ import annotations

import os
from concurrent.futures import Future
from dataclasses import replace

from archive.corpus.neardup.fingerprint import Fingerprint, fingerprint_article
from archive.extract.article import Article, ExtractionHints, article_of, extract_article, parse_page
from archive.extract.links import PageReading, ReadSpec, read_parsed
from archive.extract.sent_links import SentLinks
from archive.extract.process_pool import BudgetPool, JobTimedOut as ExtractionTimedOut, PoolBroken, WorkerDied
from archive.extract.topic import HEAVIEST_TERMS, TopicProfile

__all__ = ["ExtractionPool", "ExtractionTimedOut", "PoolBroken", "WorkerDied", "DEFAULT_TIME_BUDGET", "default_workers"]

DEFAULT_TIME_BUDGET = 5.0  # seconds; a news page takes ~10 ms


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _extract(body: bytes, url: str, hints: ExtractionHints | None, encoding: str | None) -> Article:
    return extract_article(body, url, hints, encoding=encoding)


_topics: dict[str, TopicProfile] = {}  # in a worker: the topic profiles it was sent, by key


def _use_topic(topic: TopicProfile) -> None:
    """Setup call of every worker (`ExtractionPool.use_topic`)."""
    _topics[topic.key] = topic


def _measured(reading: PageReading, topic: TopicProfile) -> PageReading:
    """The reading with its text and anchors measured against the topic (archive/extract/topic.py
    `MeasuredText`): the term extraction and cosine the spider's topic gate would do on its event
    loop, done here. A text met twice on the page (a teaser's photo and headline links) is
    measured once; both links carry the same measurement. The anchors are measured as one batch
    (`measure_all`: a generic page has ~140). The page text carries its heaviest terms, not its
    vector: all the crawl keeps of it (crawler/judged_pages.py). The links go back in columns
    (archive/extract/sent_links.py)."""
    anchors = list(dict.fromkeys(anchor for _, anchor, _ in reading.links if anchor))
    measured = dict(zip(anchors, topic.measure_all(anchors)))
    text = None if reading.text is None else topic.measure(reading.text, heaviest=HEAVIEST_TERMS)
    return replace(reading, text=text,
                   links=SentLinks((url, measured[anchor] if anchor else anchor, is_next)
                                   for url, anchor, is_next in reading.links))


def _analyse(body: bytes, url: str, hints: ExtractionHints | None, encoding: str | None,
             spec: ReadSpec, extract: bool, topic_key: str | None = None
             ) -> tuple[Article | None, Fingerprint | None, PageReading]:
    """One parse: what the spider reads of the page (`spec`), measured against the topic
    `topic_key` names, then, when asked, its article."""
    page = parse_page(body, url, encoding=encoding)
    reading = read_parsed(page, spec, hints)  # before extraction, on the untouched tree
    if topic_key in _topics:
        reading = _measured(reading, _topics[topic_key])
    if not extract or reading.is_article is False:  # (False: the page gate found a listing)
        return None, None, reading
    article = article_of(page, hints, spend_tree=True)  # (nothing reads the page after)
    return article, fingerprint_article(article) if article.is_article else None, reading


def _extract_with_fingerprint(body: bytes, url: str, hints: ExtractionHints | None,
                              encoding: str | None) -> tuple[Article, Fingerprint | None]:
    article, fingerprint, _ = _analyse(body, url, hints, encoding, ReadSpec(), True)
    return article, fingerprint


class ExtractionPool:
    """Worker processes running extraction jobs; results come back as futures."""

    def __init__(self, workers: int | None = None, *, time_budget: float | None = DEFAULT_TIME_BUDGET):
        self.workers = default_workers() if workers is None else workers
        self._pool: BudgetPool | None = None
        self._topic_keys: set[str] = set()
        if self.workers > 0:
            self._pool = BudgetPool(self.workers, time_budget,
                                    preload=("archive.extract.article", "archive.extract.links", "archive.corpus.neardup.fingerprint"))

    def start(self) -> None:
        """Start the worker processes now rather than with the first page (process_pool.BudgetPool.start)."""
        if self._pool is not None:
            self._pool.start()

    def submit(self, body: bytes, url: str, hints: ExtractionHints | None,
               encoding: str | None = None) -> Future:
        """Future of the `Article`."""
        return self._run(_extract, body, url, hints, encoding)

    def submit_with_fingerprint(self, body: bytes, url: str, hints: ExtractionHints | None,
                                encoding: str | None = None) -> Future:
        """Future of `(Article, Fingerprint | None)`: the corpus's dedupe hashing done in the worker too."""
        return self._run(_extract_with_fingerprint, body, url, hints, encoding)

    def submit_page(self, body: bytes, url: str, hints: ExtractionHints | None, encoding: str | None,
                    spec: ReadSpec, *, extract: bool = True, topic: TopicProfile | None = None) -> Future:
        """Future of `(Article | None, Fingerprint | None, PageReading)` from one parse of the page:
        what a crawl needs of it, the article only with `extract` (a listing or an unchanged page:
        None), `spec` what the spider decides with (archive/extract/links.py); with `topic`, the
        reading's text and anchors come measured against it (`MeasuredText`)."""
        if topic is not None:
            self.use_topic(topic)
        return self._run(_analyse, body, url, hints, encoding, spec, extract, topic.key if topic else None)

    def use_topic(self, topic: TopicProfile) -> None:
        """Send the topic profile to every worker, once (a replaced worker gets it again)."""
        if topic.key in self._topic_keys:
            return
        if self._pool is None:
            _use_topic(topic)
        else:
            self._pool.setup(_use_topic, topic)  # (raises if it cannot be sent: then tried again next page)
        self._topic_keys.add(topic.key)

    @property
    def failed(self) -> Future:
        """Settled with `PoolBroken` if the pool stops working (process_pool.BudgetPool.failed); never
        without workers."""
        return self._pool.failed if self._pool is not None else Future()

    @property
    def timed_out(self) -> int:
        """Pages stopped by the time budget so far."""
        return self._pool.timed_out if self._pool is not None else 0

    def _run(self, function, *args) -> Future:
        if self._pool is None:
            future: Future = Future()
            try:
                future.set_result(function(*args))
            except BaseException as exc:  # surfaced to the waiter, like a worker's error
                future.set_exception(exc)
            return future
        return self._pool.submit(function, *args)

    def close(self) -> None:
        """Cancel the jobs not started, let the running ones finish (each within the budget),
        then stop the workers."""
        if self._pool is not None:
            self._pool.close()
