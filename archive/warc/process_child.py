"""The WARC writer process's own side: read batches of jobs off the pipe, write them, answer.

The parent is archive/warc/process.py (why a process, the failure modes).
Here: a `WarcWriter` (archive/warc/writer.py) does the writing in this
process's own thread; each batch is answered with one message once all its
records are on disk (fsynced: the crash-safety invariant, docs/crash-safety.md).
When the parent goes away, even by SIGKILL, the pipe ends, and what arrived is
written, fsynced and renamed before this process exits.
"""
from __future__ import annotations

import queue
import signal
import threading
from pathlib import Path

from archive.warc.pipe import grow_pipe, read_frame
from archive.warc.writer import PreparedJob, WarcWriter
from archive.warc.writer_base import WarcWriteError, WarcWriterConfig

__all__ = ["child_main"]


def child_main(jobs, results, config: WarcWriterConfig) -> None:
    """The writer process: receive jobs until told to close or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    grow_pipe(results)
    # Answers go out from a thread of their own: the parent reads them only when its I/O thread
    # wakes, and a child blocked on a full answer pipe would stop reading jobs, which would block
    # the parent's sends (and so its I/O thread) for good.
    answers_out: queue.SimpleQueue = queue.SimpleQueue()

    def pump_answers() -> None:
        while (message := answers_out.get()) is not None:
            try:
                results.send(message)
            except OSError:  # the parent is gone; the archive is still finished properly
                pass

    pump = threading.Thread(target=pump_answers, name="warc-answers", daemon=True)
    pump.start()
    send = answers_out.put

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
        send(None)
        pump.join()
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

    def answers(messages: list[tuple]) -> list[tuple]:
        """Write a batch and wait until it is on disk: ("done", record id, location) or
        ("error", record id, fatal, text) for each job, in order."""
        answered: list[tuple | None] = [None] * len(messages)
        jobs, places = [], []
        for place, message in enumerate(messages):
            try:
                jobs.append(prepare(message))
            except Exception as exc:
                answered[place] = _error(message[1], exc)
            else:
                places.append(place)
        if jobs:
            try:
                outcomes = writer.write_jobs(jobs).result()  # waits for the writer thread's fsync
            except WarcWriteError as exc:  # the writer had failed already
                outcomes = [exc] * len(jobs)
            for place, (record_id, _), outcome in zip(places, jobs, outcomes):
                answered[place] = _error(record_id, outcome) if isinstance(outcome, Exception) \
                    else ("done", record_id, outcome)
        return answered

    try:
        while True:
            try:
                message = read_frame(jobs.fileno())
            except (EOFError, OSError):
                break  # the parent died: write what arrived, then close below
            if message[0] == "close":
                break
            # The whole batch goes to the writer thread as one job, then one message answers it.
            batch_answers = answers(message[1])
            stats = writer.stats
            send(("answers", batch_answers, (stats.records, stats.bytes, stats.files)))
    finally:
        text = None
        try:
            writer.close()
        except WarcWriteError as exc:
            text = str(exc)
        stats = writer.stats
        send(("closed", (stats.records, stats.bytes, stats.files), text))
        send(None)
        pump.join()
        results.close()
        # A forkserver child ends with os._exit, which would not wait for these threads.
        for thread in indexing:
            thread.join()


def _error(record_id: str, exc: Exception) -> tuple:
    """The answer of a job that failed: fatal when the archive itself failed (`WarcWriteError`)."""
    return ("error", record_id, isinstance(exc, WarcWriteError), str(exc))
