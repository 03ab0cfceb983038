"""The WARC writer process's own side: read batches of jobs off the pipe, write them, answer.

The parent is archive/warc/process.py (why a process, the failure modes).
Here: a `WarcWriter` (archive/warc/writer.py) does the writing in this
process's own thread; each batch is answered with one message once all its
records are on disk (fsynced: the crash-safety invariant, docs/crash-safety.md).
The main thread only reads batches and hands them over: the writer thread
queues a batch's answer itself once the batch is on disk, so the main thread
is not woken a second time a batch to pass it on (docs/performance.md,
session 20). When the parent goes away, even by SIGKILL, the pipe ends, and
what arrived is written, fsynced and renamed before this process exits.
"""
from __future__ import annotations

import signal
import threading
from pathlib import Path

from archive.warc.pipe import AnswerSender, grow_pipe, read_frame
from archive.warc.writer import PreparedJob, WarcWriter
from archive.warc.writer_base import WarcWriteError, WarcWriterConfig

__all__ = ["child_main"]

# Batches handed to the writer thread and not yet answered: the main thread reads the next batch
# while one is written, and holds no more than this many in memory when the disk is slow (the pipe
# and the parent's outbox hold the rest, and its backpressure does the waiting).
_IN_FLIGHT = 2


def child_main(jobs, results, config: WarcWriterConfig) -> None:
    """The writer process: receive jobs until told to close or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    grow_pipe(results)
    answers = AnswerSender(results)
    send = answers.send

    on_file_closed = None
    indexing: list[threading.Thread] = []  # one CDXJ indexer per closed file (one per WARC_MAX_SIZE written)
    if config.index_closed_files:
        from archive.warc.cdxj import index_in_background

        def on_file_closed(path: Path) -> None:
            indexing.append(index_in_background(path))
    try:
        writer = WarcWriter.from_config(config, on_file_closed=on_file_closed)
    except Exception as exc:
        send(("failed", f"cannot start the WARC writer: {exc}"))
        answers.close()
        return
    send(("ready",))

    def prepare(message: tuple) -> PreparedJob:
        """One job off the pipe, ready for the writer (bad input raises here)."""
        kind, record_id = message[0], message[1]
        if kind == "exchange":
            return writer.exchange_job(message[2], record_id=record_id)
        if kind == "revisit":
            return writer.revisit_job(message[2], record_id=record_id, **message[3])
        if kind == "metadata":
            return writer.metadata_job(message[2], message[3], record_id=record_id, **message[4])
        raise ValueError(f"unknown job {kind!r}")

    in_flight = threading.BoundedSemaphore(_IN_FLIGHT)

    def answer(answered: list[tuple | None], places: list[int], jobs: list[PreparedJob], outcomes: list) -> None:
        """Send a batch's answer: ("done", record id, location) or ("error", record id, fatal, text)
        for each job, in order, with the writer's counts."""
        for place, (record_id, _), outcome in zip(places, jobs, outcomes):
            answered[place] = _error(record_id, outcome) if isinstance(outcome, Exception) \
                else ("done", record_id, outcome)
        stats = writer.stats
        send(("answers", answered, (stats.records, stats.bytes, stats.files)))

    def hand_over(messages: list[tuple]) -> None:
        """Give a batch to the writer thread, which answers it once all its records are on disk
        (its future settles after the fsync, in the order the batches came)."""
        answered: list[tuple | None] = [None] * len(messages)
        jobs, places = [], []
        for place, message in enumerate(messages):
            try:
                jobs.append(prepare(message))
            except Exception as exc:
                answered[place] = _error(message[1], exc)
            else:
                places.append(place)
        if not jobs:
            answer(answered, places, jobs, [])
            return
        in_flight.acquire()
        try:
            batch = writer.write_jobs(jobs)
        except WarcWriteError as exc:  # the writer had failed already
            in_flight.release()
            answer(answered, places, jobs, [exc] * len(jobs))
            return

        def written(done) -> None:  # in the writer thread, after the batch's fsync
            in_flight.release()
            answer(answered, places, jobs, done.result())
        batch.add_done_callback(written)

    try:
        while True:
            try:
                message = read_frame(jobs.fileno())
            except (EOFError, OSError):
                break  # the parent died: write what arrived, then close below
            if message[0] == "close":
                break
            # The whole batch goes to the writer thread as one job; one message answers it.
            hand_over(message[1])
    finally:
        text = None
        try:
            writer.close()  # writes what was handed over, and so queues its answers, first
        except WarcWriteError as exc:
            text = str(exc)
        stats = writer.stats
        send(("closed", (stats.records, stats.bytes, stats.files), text))
        answers.close()
        results.close()
        # A forkserver child ends with os._exit, which would not wait for these threads.
        for thread in indexing:
            thread.join()


def _error(record_id: str, exc: Exception) -> tuple:
    """The answer of a job that failed: fatal when the archive itself failed (`WarcWriteError`)."""
    return ("error", record_id, isinstance(exc, WarcWriteError), str(exc))
