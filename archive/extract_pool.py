"""Article extraction in worker processes, so parsing never holds the caller's GIL, and no
single page can hold a worker for long.

trafilatura is pure CPU work under the GIL; running it in the crawler's
reactor thread caps a crawl at one core. The pool keeps one worker per core
(by default) and hands back `concurrent.futures.Future`s, which any event
loop can wait on. ``workers=0`` runs extraction inline, for debugging and for
callers that are already parallel (no time budget then: nothing can stop a
page running in the caller's own thread).

Why not `ProcessPoolExecutor`: a hostile page (hundreds of thousands of
links, pathological markup) can keep a worker busy for minutes, and an
executor can neither stop one job nor lose one worker without breaking for
every caller. Here each worker has its own pipe and runs one job at a time;
a dispatcher thread sends jobs to idle workers and collects results, and a
job that overruns `time_budget` seconds gets its worker killed and replaced:
its future fails with `ExtractionTimedOut`, the other workers never notice.
A worker that dies (OOM killer, crash) is replaced the same way
(`WorkerDied`). Workers exit when the pool's process dies, even SIGKILLed:
their pipe then reads end-of-file.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import Future
from multiprocessing.connection import wait

from .corpus import Fingerprint, fingerprint_article
from .extract import Article, ExtractionHints, article_of, extract_article, parse_page
from .reading import PageReading, ReadSpec, read_parsed

logger = logging.getLogger(__name__)

DEFAULT_TIME_BUDGET = 5.0  # seconds; a news page takes ~10 ms
_STOP = None  # the job that ends a worker


class ExtractionTimedOut(TimeoutError):
    """A page took longer than the pool's time budget; its worker was replaced."""


class WorkerDied(RuntimeError):
    """The worker running a page exited (killed, out of memory); it was replaced."""


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
    """Worker processes running extraction jobs; results come back as futures."""

    def __init__(self, workers: int | None = None, *, time_budget: float | None = DEFAULT_TIME_BUDGET):
        self.workers = default_workers() if workers is None else workers
        self.time_budget = time_budget if time_budget and time_budget > 0 else None
        self.timed_out = 0  # jobs stopped by the budget
        self.replaced = 0  # workers replaced (timed out or died)
        self._dispatcher: _Dispatcher | None = None
        if self.workers > 0:
            self._dispatcher = _Dispatcher(self)

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
        None), `spec` what the spider decides with (archive/reading.py)."""
        return self._run(_analyse, body, url, hints, encoding, spec, extract)

    def _run(self, function, *args) -> Future:
        if self._dispatcher is None:
            future: Future = Future()
            try:
                future.set_result(function(*args))
            except BaseException as exc:  # surfaced to the waiter, like a worker's error
                future.set_exception(exc)
            return future
        return self._dispatcher.submit(function, args)

    def close(self) -> None:
        """Cancel the jobs not started, let the running ones finish (each within the budget),
        then stop the workers."""
        if self._dispatcher is not None:
            self._dispatcher.close()
            self._dispatcher = None


class _Worker:
    __slots__ = ("process", "conn", "future", "deadline", "started")

    def __init__(self, process, conn):
        self.process = process
        self.conn = conn
        self.future: Future | None = None
        self.deadline: float | None = None
        self.started = 0.0


class _Dispatcher:
    """The pool's thread: starts workers, sends each job to an idle one, collects results,
    stops and replaces the workers that overrun or die."""

    def __init__(self, pool: ExtractionPool):
        self.pool = pool
        # forkserver, not fork: the caller has threads (WARC writer, Twisted pool) and forking a
        # threaded process can copy held locks.
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["archive.extract", "archive.reading", "archive.corpus"])
        self.jobs: deque[tuple[Future, tuple]] = deque()
        self.lock = threading.Lock()
        self.closing = False
        self.wake_in, self.wake_out = os.pipe()
        os.set_blocking(self.wake_out, False)
        self.thread = threading.Thread(target=self._run, name="extraction-pool", daemon=True)
        self.thread.start()

    # ------------------------------------------------------------------ caller side
    def submit(self, function, args) -> Future:
        future: Future = Future()
        with self.lock:
            if self.closing:
                raise RuntimeError("the extraction pool is closed")
            self.jobs.append((future, (function, args)))
        self._wake()
        return future

    def close(self) -> None:
        with self.lock:
            self.closing = True
        self._wake()
        self.thread.join()
        os.close(self.wake_in)
        os.close(self.wake_out)

    def _wake(self) -> None:
        try:
            os.write(self.wake_out, b"x")
        except BlockingIOError:  # the pipe is full of wake-ups already
            pass

    # ------------------------------------------------------------------ dispatcher thread
    def _run(self) -> None:
        # Workers start with the first job, as an executor's do: a pool made when a crawl starts
        # does not take the CPU from the crawl's own start-up (imports, topic profile).
        wait([self.wake_in])
        workers = [] if self.closing else [self._start() for _ in range(self.pool.workers)]
        idle = list(workers)
        try:
            while True:
                with self.lock:
                    closing = self.closing
                    if closing:
                        for future, _ in self.jobs:
                            future.cancel()
                        self.jobs.clear()
                    starts = []
                    while idle and self.jobs:
                        starts.append((idle.pop(), *self.jobs.popleft()))
                for worker, future, job in starts:
                    if not self._send(worker, future, job):
                        workers, idle = self._replace(worker, workers, idle)
                busy = [w for w in workers if w.future is not None]
                if closing and not busy:
                    return
                for worker in self._wait(workers, busy):
                    if not self._collect(worker):
                        workers, idle = self._replace(worker, workers, idle)
                    else:
                        idle.append(worker)
                now = time.monotonic()
                for worker in busy:
                    if worker.future is not None and worker.deadline is not None and now >= worker.deadline:
                        self._time_out(worker, now)
                        workers, idle = self._replace(worker, workers, idle)
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            logger.exception("extraction pool dispatcher failed")
            with self.lock:
                self.closing = True
                pending = [future for future, _ in self.jobs] + [w.future for w in workers if w.future]
                self.jobs.clear()
            for future in pending:
                if not future.done():
                    future.set_exception(RuntimeError(f"extraction pool failed: {exc!r}"))
        finally:
            self._stop(workers)

    def _start(self) -> _Worker:
        parent_end, child_end = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(child_end,), name="extraction-worker", daemon=True)
        process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def _send(self, worker: _Worker, future: Future, job) -> bool:
        if not future.set_running_or_notify_cancel():
            return True
        worker.future, worker.started = future, time.monotonic()
        worker.deadline = worker.started + self.pool.time_budget if self.pool.time_budget else None
        try:
            worker.conn.send(job)
        except (OSError, ValueError) as exc:  # the worker is gone; a job that cannot be pickled
            if isinstance(exc, ValueError) or worker.process.is_alive():
                worker.future = None
                future.set_exception(exc)
                return True
            self._died(worker)
            return False
        return True

    def _wait(self, workers: list[_Worker], busy: list[_Worker]) -> list[_Worker]:
        """Workers with a result (or dead), waiting at most until the nearest deadline."""
        deadlines = [w.deadline for w in busy if w.deadline is not None]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        handles = {w.conn: w for w in busy}
        handles.update({w.process.sentinel: w for w in workers})
        ready = wait([self.wake_in, *handles], timeout)
        if self.wake_in in ready:
            os.read(self.wake_in, 4096)
        found = []
        for handle in ready:
            worker = handles.get(handle)
            if worker is not None and worker not in found:
                found.append(worker)
        return found

    def _collect(self, worker: _Worker) -> bool:
        """Settle the worker's job from its answer; False if the worker died."""
        try:
            if worker.future is None:
                if worker.process.is_alive():
                    return True  # an idle worker woke for nothing
                raise EOFError
            ok, value = worker.conn.recv()
        except (EOFError, OSError):
            self._died(worker)
            return False
        future, worker.future, worker.deadline = worker.future, None, None
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
        return True

    def _time_out(self, worker: _Worker, now: float) -> None:
        self.pool.timed_out += 1
        worker.process.kill()
        future, worker.future = worker.future, None
        future.set_exception(ExtractionTimedOut(
            f"extraction timed out after {now - worker.started:.1f} s (budget {self.pool.time_budget:g} s); "
            "worker replaced"))

    def _died(self, worker: _Worker) -> None:
        worker.process.join(1)
        code = worker.process.exitcode
        if worker.future is not None:
            future, worker.future = worker.future, None
            future.set_exception(WorkerDied(f"extraction worker exited ({code}) while running this page"))

    def _replace(self, worker: _Worker, workers: list[_Worker], idle: list[_Worker]):
        self.pool.replaced += 1
        worker.process.join(1)
        worker.conn.close()
        workers = [w for w in workers if w is not worker]
        idle = [w for w in idle if w is not worker]
        if not self.closing:
            fresh = self._start()
            workers.append(fresh)
            idle.append(fresh)
        return workers, idle

    def _stop(self, workers: list[_Worker]) -> None:
        for worker in workers:
            try:
                worker.conn.send(_STOP)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 5
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)
            worker.conn.close()


def _serve(conn) -> None:
    """A worker: run jobs from `conn` one at a time until told to stop or the pool is gone."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is _STOP:
            return
        function, args = job
        try:
            answer = (True, function(*args))
        except BaseException as exc:  # surfaced to the waiter
            answer = (False, exc)
        try:
            conn.send(answer)
        except (OSError, EOFError):
            return
        except Exception as exc:  # an answer that cannot be pickled
            conn.send((False, RuntimeError(f"unpicklable result: {type(exc).__name__}: {exc}")))
