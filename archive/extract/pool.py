"""Article extraction in worker processes, so parsing never holds the caller's GIL.

trafilatura is pure CPU work under the GIL; running it in the crawler's
reactor thread caps a crawl at one core. The pool keeps one worker per core
(by default) and hands back `concurrent.futures.Future`s, which any event
loop can wait on. ``workers=0`` runs extraction inline, for debugging and for
callers that are already parallel.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor

from archive.corpus.store import Fingerprint, fingerprint_article
from archive.extract.article import Article, ExtractionHints, article_of, extract_article, parse_page
from archive.extract.links import PageReading, ReadSpec, read_parsed


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _extract(body: bytes, url: str, hints: ExtractionHints | None, encoding: str | None) -> Article:
    return extract_article(body, url, hints, encoding=encoding)


def _analyse(body: bytes, url: str, hints: ExtractionHints | None, encoding: str | None,
             spec: ReadSpec, extract: bool) -> tuple[Article | None, Fingerprint | None, PageReading]:
    """One parse: what the spider reads of the page (`spec`), then, when asked, its article."""
    page = parse_page(body, url, encoding=encoding)
    reading = read_parsed(page, spec, hints)  # before extraction, on the untouched tree
    if not extract:
        return None, None, reading
    article = article_of(page, hints)
    return article, fingerprint_article(article) if article.is_article else None, reading


def _extract_with_fingerprint(body: bytes, url: str, hints: ExtractionHints | None,
                              encoding: str | None) -> tuple[Article, Fingerprint | None]:
    article, fingerprint, _ = _analyse(body, url, hints, encoding, ReadSpec(), True)
    return article, fingerprint


class ExtractionPool:
    """A process pool running `extract_article`; results come back as futures."""

    def __init__(self, workers: int | None = None):
        self.workers = default_workers() if workers is None else workers
        self._executor: ProcessPoolExecutor | None = None
        if self.workers > 0:
            # forkserver, not fork: the caller has threads (WARC writer, Twisted
            # pool) and forking a threaded process can copy held locks.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["archive.extract.article", "archive.extract.links", "archive.corpus.store"])
            # The workers' end of a pipe only this process can write to: end-of-file on it means
            # this process is gone (even SIGKILLed), and a worker then exits (_exit_with_parent).
            self._alive_in, self._alive_out = context.Pipe(duplex=False)
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                                 initializer=_exit_with_parent, initargs=(self._alive_in,))

    def submit(self, body: bytes, url: str, hints: ExtractionHints | None,
               encoding: str | None = None) -> Future:
        """Future of the `Article`."""
        return self._run(_extract, body, url, hints, encoding)

    def submit_with_fingerprint(self, body: bytes, url: str, hints: ExtractionHints | None,
                                encoding: str | None = None) -> Future:
        """Future of `(Article, Fingerprint | None)`: the corpus's dedupe hashing done in the worker too."""
        return self._run(_extract_with_fingerprint, body, url, hints, encoding)

    def submit_page(self, body: bytes, url: str, hints: ExtractionHints | None, encoding: str | None,
                    spec: ReadSpec, *, extract: bool = True) -> Future:
        """Future of `(Article | None, Fingerprint | None, PageReading)` from one parse of the page:
        what a crawl needs of it, the article only with `extract` (a listing or an unchanged page:
        None), `spec` what the spider decides with (archive/extract/links.py)."""
        return self._run(_analyse, body, url, hints, encoding, spec, extract)

    def _run(self, function, *args) -> Future:
        if self._executor is None:
            future: Future = Future()
            try:
                future.set_result(function(*args))
            except BaseException as exc:  # surfaced to the waiter, like a worker's error
                future.set_exception(exc)
            return future
        return self._executor.submit(function, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
            self._alive_in.close()
            self._alive_out.close()


def _exit_with_parent(alive) -> None:
    """Worker initializer. A worker waits for jobs on a queue whose writing end every worker
    holds too, so it never sees its parent die: orphaned by a SIGKILLed crawler, it would wait
    forever. A thread waits for end-of-file on `alive` instead, and ends the worker."""
    def watch() -> None:
        try:
            alive.recv_bytes()
        except (EOFError, OSError):
            pass
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
