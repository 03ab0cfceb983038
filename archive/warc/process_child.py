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
from archive.warc.writer import WarcWriter
from archive.warc.writer_base import RecordFuture, WarcWriteError, WarcWriterConfig

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

    def start(message: tuple) -> RecordFuture | tuple:
        """Queue one job with the writer: its future, or at once the error that refused it."""
        kind, record_id = message[0], message[1]
        try:
            if kind == "exchange":
                return writer.write_exchange(message[2], record_id=record_id)
            if kind == "revisit":
                return writer.write_revisit(message[2], record_id=record_id, **message[3])
            if kind == "metadata":
                return writer.write_metadata(message[2], message[3], record_id=record_id, **message[4])
            raise ValueError(f"unknown job {kind!r}")
        except Exception as exc:
            return ("error", record_id, isinstance(exc, WarcWriteError), str(exc))

    def answer(started: RecordFuture | tuple) -> tuple:
        if isinstance(started, tuple):
            return started
        error = started.exception()  # waits for the writer thread
        if error is None:
            return ("done", started.record_id, started.result())
        return ("error", started.record_id, isinstance(error, WarcWriteError), str(error))

    try:
        while True:
            try:
                message = read_frame(jobs.fileno())
            except (EOFError, OSError):
                break  # the parent died: write what arrived, then close below
            if message[0] == "close":
                break
            # The whole batch goes to the writer thread first, then one message answers it.
            answers = [answer(started) for started in [start(job) for job in message[1]]]
            stats = writer.stats
            send(("answers", answers, (stats.records, stats.bytes, stats.files)))
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
