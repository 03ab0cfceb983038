"""Worker processes that run jobs with a time budget each: a job that overruns loses its worker
(killed and replaced), never the pool.

Why not `ProcessPoolExecutor`: it can neither stop one running job nor lose
one worker without breaking for every caller (BrokenProcessPool). Here each
worker has a pipe for jobs and one for answers, and runs one job at a time;
one more waits in its pipe, so a worker never idles between jobs (without that
prefetch a crawl's pipeline ran ~15 % slower). One dispatcher thread sends
jobs, collects answers and watches deadlines; its pipe I/O never blocks, so a
worker busy with a huge page cannot hold up the others' answers. When a
job's deadline passes, its worker is killed and replaced, the job's future
fails with `JobTimedOut`, and the job queued behind it goes to another worker.
A worker that dies (OOM killer, crash) is replaced the same way
(`WorkerDied`). Workers exit when the pool's process is gone, even
SIGKILLed: their job pipe then reads end-of-file.

Every future settles, whatever fails: a job that cannot be pickled here, or
loaded there, fails with that error; an answer that cannot be pickled there,
or loaded here, fails its job alone (`AnswerUnreadable`); a job that raises
KeyboardInterrupt or SystemExit in a worker fails with `JobInterrupted`, never
with the exception itself (raised in the caller, a worker's KeyboardInterrupt
stopped a crawl's event loop: the process then hung at exit). Workers ignore
SIGINT, which a terminal's Ctrl-C sends the whole process group: stopping is
the caller's to decide (it closes the pool; the sent jobs finish).
A failure of the dispatcher thread itself (a bug, the forkserver gone) fails
every job not answered yet and every later `submit` with `PoolBroken`, and
settles `failed`, so the owner can stop instead of waiting.

Workers are forkserver children (the caller has threads, and forking a
threaded process can copy held locks), started by `start` or with the first job.
"""
from __future__ import annotations

import atexit
import gc
import logging
import multiprocessing
import os
import pickle
import selectors
import signal
import struct
import threading
import time
from collections import deque
from concurrent.futures import Future

from archive.warc.pipe import FrameSender, frame, grow_pipe, read_parts

logger = logging.getLogger(__name__)

__all__ = ["AnswerUnreadable", "BudgetPool", "JobInterrupted", "JobTimedOut", "PoolBroken", "WorkerDied"]

_HEADER = struct.Struct("!Q")
_READ = 1 << 20
# A job's bytes arguments this large (a page's body) travel out of band, as they are (`_job_frame`).
_OUT_OF_BAND_BYTES = 4096
_QUEUED_PER_WORKER = 2  # the running job and the next one, waiting in the pipe


class JobTimedOut(TimeoutError):
    """A job took longer than the pool's time budget; its worker was replaced."""


class WorkerDied(RuntimeError):
    """The worker running a job exited (killed, out of memory); it was replaced."""


class AnswerUnreadable(RuntimeError):
    """The worker's answer to a job could not be loaded in the pool's process; the job alone failed."""


class JobInterrupted(RuntimeError):
    """The job raised KeyboardInterrupt or SystemExit in its worker: the caller gets this instead,
    which its own loop does not take for a request to stop."""


class PoolBroken(RuntimeError):
    """The pool's dispatcher thread failed: no job can run any more (the cause is chained)."""


class BudgetPool:
    """`submit(function, *args)` → Future, run in one of `workers` processes within `time_budget`
    seconds (None: no budget). `preload`: modules the forkserver imports once for all workers."""

    def __init__(self, workers: int, time_budget: float | None, preload: tuple[str, ...] = ()):
        self.workers = workers
        self.time_budget = time_budget if time_budget and time_budget > 0 else None
        self.timed_out = 0  # jobs stopped by the budget
        self.replaced = 0  # workers replaced (timed out or died)
        # Settled with `PoolBroken` if the dispatcher fails (never on a clean close): the owner's signal to stop.
        self.failed: Future = Future()
        self._context = multiprocessing.get_context("forkserver")
        if preload:
            self._context.set_forkserver_preload(list(preload))
        self._jobs: deque[tuple[Future, tuple]] = deque()
        self._setups: list[tuple] = []  # (function, args) every worker runs once before its jobs
        self._lock = threading.Lock()
        self._closing = False  # no more jobs: the dispatcher finishes the sent ones and stops
        self._start_now = False  # start the workers before the first job (`start`)
        self._closed = False
        self._wake_in, self._wake_out = os.pipe()
        # A wake-up written and not yet seen by the dispatcher: jobs submitted meanwhile need no
        # other (each pipe write wakes a thread, which costs the caller, the reactor, the GIL).
        self._wake_pending = False
        os.set_blocking(self._wake_in, False)
        os.set_blocking(self._wake_out, False)
        self._thread = threading.Thread(target=self._run, name="process-pool", daemon=True)
        self._thread.start()
        # A pool its owner never closed (a crawl that failed to start) is closed at exit, before
        # multiprocessing's own exit handler (registered earlier, run later) kills the workers
        # under the dispatcher.
        atexit.register(self.close)

    # ------------------------------------------------------------------ caller side
    def submit(self, function, *args) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closing:
                raise self._refusal()
            self._jobs.append((future, (function, args)))
            wake, self._wake_pending = not self._wake_pending, True
        if wake:
            self._wake()
        return future

    def start(self) -> None:
        """Start the workers now instead of with the first job: the forkserver's imports and the
        workers' start (~1.2 s on an idle 2-core machine, 2.5 s loaded) then overlap whatever the
        caller does meanwhile (a crawl's own start-up) instead of holding back its first pages."""
        with self._lock:
            self._start_now = True
        self._wake()

    def setup(self, function, *args) -> None:
        """Every worker, running or started later (a replacement too), runs `function(*args)`
        once before its next job: per-worker state sent once, not with every job. Pickled here
        once, so a call that cannot be raises to the caller (on the dispatcher, nobody saw it
        fail and the jobs ran without it); one that raises in a worker is logged."""
        _job_frame((function, args))
        with self._lock:
            if self._closing:
                raise self._refusal()
            self._setups.append((function, args))
        self._wake()

    def _refusal(self) -> RuntimeError:
        """Why a job is refused (called with the lock held)."""
        if self.failed.done():
            return PoolBroken(f"the pool failed earlier: {self.failed.exception().__cause__!r}")
        return RuntimeError("the pool is closed")

    def close(self) -> None:
        """Cancel the jobs not sent yet, let the sent ones finish (each within the budget), then
        stop the workers."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        with self._lock:
            self._closing = True
        self._wake()
        self._thread.join()
        os.close(self._wake_in)
        os.close(self._wake_out)

    def _wake(self) -> None:
        try:
            os.write(self._wake_out, b"x")
        except BlockingIOError:  # the pipe is full of wake-ups already
            pass

    # ------------------------------------------------------------------ dispatcher thread
    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_in, selectors.EVENT_READ, None)
        workers: list[_Worker] = []
        sends: list = []
        try:
            while True:
                with self._lock:
                    self._wake_pending = False  # every job submitted so far is seen below
                    closing = self._closing
                    if closing:
                        for future, _ in self._jobs:
                            if not future.cancel():  # given back by a worker that died: already running
                                future.set_exception(RuntimeError("the pool closed before this job ran"))
                        self._jobs.clear()
                    elif (self._jobs or self._start_now) and not workers:  # `start` or the first job
                        workers = [self._start(selector) for _ in range(self.workers)]
                    sends = self._assign(workers)
                refused = False  # a job taken and not sent (cancelled, or it cannot be pickled)
                for worker, future, job in sends:
                    if not (future.running() or future.set_running_or_notify_cancel()):
                        refused = True
                        continue
                    try:
                        framed = _job_frame(job)  # pickled here, not on the caller's (reactor) thread
                    except Exception as exc:
                        future.set_exception(exc)
                        refused = True
                        continue
                    worker.send(future, job, framed, selector)
                if refused:  # the places the refused jobs took are free: fill them before waiting (nothing
                    continue  # else may wake this thread: a crawl's last jobs then waited for ever)
                if closing and not any(w.inflight for w in workers):
                    return
                for key, events in selector.select(self._timeout(workers)):
                    if key.data is None:
                        _drain(self._wake_in)
                        continue
                    kind, worker = key.data
                    if worker not in workers:
                        continue  # replaced earlier in this round
                    if kind == "jobs" and events & selectors.EVENT_WRITE:
                        worker.flush(selector)
                    elif not worker.receive():  # answers, end-of-file, or the process's sentinel
                        workers = self._replace(worker, workers, selector, WorkerDied(
                            f"worker exited ({worker.exitcode()}) while running this job"))
                now = time.monotonic()
                for worker in [w for w in workers if w.deadline is not None and now >= w.deadline]:
                    self.timed_out += 1
                    workers = self._replace(worker, workers, selector, JobTimedOut(
                        f"timed out after {now - worker.started:.1f} s (budget {self.time_budget:g} s); "
                        "worker replaced"))
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            logger.exception("process pool dispatcher failed")
            broken = PoolBroken(f"the process pool failed: {exc!r}")
            broken.__cause__ = exc
            with self._lock:
                self._closing = True
                # Queued, taken for sending this round (not sent yet: in no worker's inflight), sent.
                pending = ([f for f, _ in self._jobs] + [f for _, f, _ in sends]
                           + [f for w in workers for f, _ in w.inflight])
                self._jobs.clear()
                self.failed.set_exception(broken)
            for future in pending:
                if not future.done():
                    future.set_exception(broken)
        finally:
            for worker in workers:
                worker.stop()
            selector.close()

    def _assign(self, workers: list[_Worker]) -> list:
        """Jobs for workers with room, least loaded first (called with the lock held)."""
        sends = []
        for worker in sorted(workers, key=lambda w: len(w.inflight)):
            if self._jobs and worker.setups < len(self._setups):
                for job in self._setups[worker.setups:]:
                    sends.append((worker, _setup_future(job), job))  # nobody waits for its answer
                worker.setups = len(self._setups)
            while self._jobs and len(worker.inflight) + sum(s[0] is worker for s in sends) < _QUEUED_PER_WORKER:
                sends.append((worker, *self._jobs.popleft()))
        return sends

    def _timeout(self, workers: list[_Worker]) -> float | None:
        deadlines = [w.deadline for w in workers if w.deadline is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _start(self, selector) -> _Worker:
        jobs_in, jobs_out = self._context.Pipe(duplex=False)
        answers_in, answers_out = self._context.Pipe(duplex=False)
        # Room for a whole job (a page, ~100 KB) and a whole answer (a generic page's ~105 KB) in each
        # pipe: with Linux's default 64 KB, each took two writes and this thread two wake-ups.
        grow_pipe(jobs_out)
        grow_pipe(answers_in)
        process = self._context.Process(target=_serve, args=(jobs_in, answers_out), name="pool-worker", daemon=True)
        process.start()
        jobs_in.close()
        answers_out.close()
        worker = _Worker(process, jobs_out, answers_in, self.time_budget)
        selector.register(answers_in.fileno(), selectors.EVENT_READ, ("answers", worker))
        selector.register(process.sentinel, selectors.EVENT_READ, ("exit", worker))
        return worker

    def _replace(self, worker: _Worker, workers: list[_Worker], selector, error: Exception) -> list[_Worker]:
        """Kill `worker`, fail its running job with `error`, give its queued ones back, start another."""
        self.replaced += 1
        running, queued = worker.kill(selector)
        if running is not None and not running.done():
            running.set_exception(error)
        with self._lock:
            self._jobs.extendleft(reversed(queued))
            closing = self._closing
        workers = [w for w in workers if w is not worker]
        if not closing:
            workers.append(self._start(selector))
        return workers


class _Worker:
    """The dispatcher's side of one worker: its pipes, what it was sent, and its deadline."""

    def __init__(self, process, jobs, answers, budget: float | None):
        self.process = process
        self.jobs, self.answers = jobs, answers  # Connections, kept for their file descriptors
        self.jobs_fd, self.answers_fd = jobs.fileno(), answers.fileno()
        os.set_blocking(self.jobs_fd, False)
        os.set_blocking(self.answers_fd, False)
        self.budget = budget
        self.inflight: deque[tuple[Future, tuple]] = deque()  # sent; the first one is running
        self.outbox = FrameSender(self.jobs_fd)  # the framed jobs' buffers the pipe has not taken yet
        self.inbox = b""  # an answer's first part, until the rest arrives
        self.deadline: float | None = None
        self.started = 0.0
        self.setups = 0  # how many of the pool's setup calls were sent to this worker

    def send(self, future: Future, job: tuple, framed: list, selector) -> None:
        if not self.inflight:
            self._running_from(time.monotonic())
        self.inflight.append((future, job))  # the job itself: given back to the pool if this worker dies
        self.outbox.add(framed)
        self.flush(selector)

    def flush(self, selector) -> None:
        """Write what the pipe takes now; wait for it to be writable for the rest."""
        try:
            self.outbox.write(block=False)
        except OSError:  # the worker is gone (the unsent buffers are dropped): its sentinel says so
            pass
        watched = _registered(selector, self.jobs_fd)
        if self.outbox.unsent and not watched:
            selector.register(self.jobs_fd, selectors.EVENT_WRITE, ("jobs", self))
        elif not self.outbox.unsent and watched:
            selector.unregister(self.jobs_fd)

    def receive(self) -> bool:
        """Settle the jobs whose answers arrived; False once the worker has exited."""
        chunks = [self.inbox] if self.inbox else []
        try:
            while chunk := os.read(self.answers_fd, _READ):
                chunks.append(chunk)
            ended = True  # end-of-file: the worker exited
        except BlockingIOError:
            ended = False
        # Answers are read where they arrived: only an answer split across reads is joined (a copy).
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        view, at = memoryview(data), 0
        while len(data) - at >= _HEADER.size:
            (size,) = _HEADER.unpack_from(data, at)
            start = at + _HEADER.size
            if len(data) - start < size:
                break
            at = start + size
            try:
                ok, value = pickle.loads(view[start:at])
            except Exception as exc:  # (a class not importable here, a value whose loading raises)
                ok, value = False, AnswerUnreadable(f"the worker's answer could not be loaded: {exc!r}")
            future, _ = self.inflight.popleft()
            if self.inflight:  # the next job started as this answer was sent
                self._running_from(time.monotonic())
            else:
                self.deadline = None
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self.inbox = data[at:] if at < len(data) else b""
        return not ended and self.process.is_alive()

    def _running_from(self, now: float) -> None:
        self.started = now
        self.deadline = now + self.budget if self.budget else None

    def exitcode(self):
        self.process.join(1)
        return self.process.exitcode

    def kill(self, selector) -> tuple[Future | None, list[tuple[Future, tuple]]]:
        """Stop the process; returns (the running job's future, the jobs queued behind it)."""
        self.process.kill()
        self.process.join(1)
        for fd in (self.jobs_fd, self.answers_fd, self.process.sentinel):
            if _registered(selector, fd):
                selector.unregister(fd)
        self.jobs.close()
        self.answers.close()
        running = self.inflight.popleft()[0] if self.inflight else None
        queued = list(self.inflight)
        self.inflight.clear()
        return running, queued

    def stop(self) -> None:
        """End-of-file on the job pipe ends an idle worker; one still busy after 5 s is killed."""
        self.jobs.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1)
        self.answers.close()


def _setup_future(job: tuple) -> Future:
    """A setup call's future: nobody waits for it, so a failure is logged here."""

    def log_failure(done: Future) -> None:
        if not done.cancelled() and not isinstance(done.exception(), (type(None), PoolBroken)):
            logger.error("a worker's setup call %s failed: %r", getattr(job[0], "__qualname__", job[0]),
                         done.exception())

    future: Future = Future()
    future.add_done_callback(log_failure)
    return future


def _registered(selector, fd: int) -> bool:
    try:
        selector.get_key(fd)
    except KeyError:
        return False
    return True


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _frame(message) -> list[bytes]:
    """A worker's answer as the buffers of one write: its size, then its pickle (not joined: a
    generic page's answer is ~100 KB, copied once more for nothing)."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return [_HEADER.pack(len(data)), data]


def _job_frame(job: tuple) -> list:
    """`(function, args)` as the buffers of one write (archive/warc/pipe.py `frame`, read back by
    `read_parts`): the arguments that are large bytes (a page's body) out of band, as they are, so
    the dispatcher copies a page once, into the pipe, instead of into the pickle, the frame and
    the send buffer first; the worker reads the body as the bytes it is given."""
    function, args = job
    return frame((function, tuple(pickle.PickleBuffer(arg) if type(arg) is bytes and len(arg) >= _OUT_OF_BAND_BYTES
                                  else arg for arg in args)))


_SETTLE_AFTER = 2  # jobs: a setup call and the first page (which imports what the modules import lazily)


def settle_heap(collect: bool = True) -> None:
    """Move what the worker holds now (its modules, setup state) out of the cyclic collector's
    reach (`gc.freeze()`, after a collection so no garbage is kept): its full collections then
    walk what the jobs allocate, not the ~50,000 objects of the imported libraries again (~0.7 ms
    of a generic page's worker CPU; freed objects still go by reference counting). `collect`
    False: a worker that has run nothing yet holds no garbage worth a collection's time.

    The youngest generation is then collected once container objects allocated exceed those freed
    by `WORKER_YOUNG_THRESHOLD`, not Python's 700: a page's analysis holds a few thousand at once
    (the gate's text units, the anchors' vectors), so at 700 a collection came about once a page and
    walked them all (~0.1 ms of a generic page). Cyclic garbage, which only a collection frees, then
    waits for at most that many allocations; the crawler's process does the same
    (crawler/extensions/gc_freeze.py, `GC_YOUNG_THRESHOLD`)."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.set_threshold(WORKER_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


WORKER_YOUNG_THRESHOLD = 10_000


def _serve(jobs, answers) -> None:
    """A worker: run jobs one at a time until the job pipe ends (the pool closed or is gone)."""
    # Ctrl-C reaches the whole process group: the pool's owner decides what stops (it closes the pool,
    # the sent jobs finish). Not SIGTERM: multiprocessing's exit handler stops stray workers with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    jobs_fd, answers_fd = jobs.fileno(), answers.fileno()
    served = 0
    while True:
        if served <= _SETTLE_AFTER:
            settle_heap(collect=served > 0)
        served += 1
        try:
            data, buffers = read_parts(jobs_fd)
        except EOFError:
            return
        try:
            # Loaded inside the try: a job the worker cannot load (its function or an argument's class
            # not importable here, a value whose loading raises) is answered with that error, as a
            # job that raises is. Outside it, the worker died on each such job and the pool started
            # a fresh one (~1 s) a job: a crawl sending only such jobs crawled for minutes, all failed.
            function, args = pickle.loads(data, buffers=buffers)
            answer = _frame((True, function(*args)))
        except BaseException as exc:  # surfaced to the waiter
            if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: not the caller's to raise
                exc = JobInterrupted(f"the job raised {exc!r} in the worker")
            try:
                answer = _frame((False, exc))
            except Exception as unpicklable:
                answer = _frame((False, RuntimeError(f"{type(exc).__name__}: {exc} ({unpicklable})")))
        sender = FrameSender(answers_fd)  # (blocking: each write waits for room)
        sender.add(answer)
        try:
            sender.write(block=True)
        except OSError:
            return
