"""The pipe between the crawler and its WARC writer process: framing, pickling, non-blocking sends.

A message is pickled with protocol 5, which leaves the page bodies out of band
(`Exchange.__reduce_ex__`, archive/warc/exchange.py), and framed as the buffers
of one `os.writev`: a head with the sizes, the pickle, then the bodies as they
are. So the event loop copies each page once, into the pipe, not also into the
pickle. Framed by hand, not with `Connection.send`, so a write can stop when
the pipe is full and go on later (`FrameSender`).

No Scrapy; used by archive/warc/process.py (the parent) and
archive/warc/process_child.py (the child), and for its framing (`frame`, `read_parts`,
`FrameSender`) by the extraction pool's jobs (archive/extract/process_pool.py).
"""
from __future__ import annotations

import fcntl
import itertools
import os
import pickle
import queue
import select
import struct
import threading
from collections import deque
from collections.abc import Iterable

__all__ = ["AnswerSender", "FrameSender", "frame", "grow_pipe", "read_frame", "read_parts"]

_PIPE_BYTES = 1 << 20  # Linux F_SETPIPE_SZ: room for a few batches, so a send rarely waits for the child
_F_SETPIPE_SZ = 1031
_IOV_MAX = 512  # buffers per writev (Linux allows 1024)


def grow_pipe(connection) -> None:
    try:
        fcntl.fcntl(connection.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:  # not Linux, or above /proc/sys/fs/pipe-max-size: the default 64 KB works, slower
        pass


def frame(message: tuple) -> list:
    """`message` as the buffers of one `os.writev` (read back by `read_frame`): a head with the
    sizes, the pickle, then the page bodies as they are."""
    bodies: list[pickle.PickleBuffer] = []
    data = pickle.dumps(message, protocol=5, buffer_callback=bodies.append)
    raws = [body.raw() for body in bodies]
    head = struct.pack(f"!QI{len(raws)}Q", len(data), len(raws), *map(len, raws))
    return [head, data, *raws]


def read_frame(fd: int) -> tuple:
    """The message `frame` wrote; EOFError when the writing end is closed."""
    data, buffers = read_parts(fd)
    return pickle.loads(data, buffers=buffers)


def read_parts(fd: int) -> tuple[bytes, list[bytes]]:
    """The pickle and the out-of-band buffers of the message `frame` wrote, not loaded yet (a
    reader that answers a message it cannot load loads it itself); EOFError when the writing end
    is closed."""
    size, count = struct.unpack("!QI", _read_exactly(fd, 12))
    lengths = struct.unpack(f"!{count}Q", _read_exactly(fd, 8 * count)) if count else ()
    data = _read_exactly(fd, size)
    return data, [_read_exactly(fd, length) for length in lengths]


def _read_exactly(fd: int, size: int) -> bytes:
    data = os.read(fd, size)  # a pipe read of one body usually returns all of it: no copy
    if len(data) == size:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        if not data:
            raise EOFError("the job pipe closed mid-message" if got else "the job pipe closed")
        data = os.read(fd, size - got)
        parts.append(data)
        got += len(data)
    return b"".join(parts)


class FrameSender:
    """Framed buffers not yet in the pipe, written in order as the pipe takes them.

    Not thread-safe: the caller holds its own send lock around every call."""

    def __init__(self, fd: int):
        self.fd = fd  # non-blocking
        self.unsent: deque[bytes | memoryview] = deque()
        self.unsent_bytes = 0

    def add(self, buffers: Iterable[bytes]) -> None:
        for buffer in buffers:
            self.unsent.append(buffer)
            self.unsent_bytes += len(buffer)

    def write(self, *, block: bool) -> None:
        """Write what the pipe takes (all of it, waiting for room, if `block`). On an OSError
        other than a full pipe (EPIPE: the reader is gone) the unsent buffers are dropped and
        the error raised."""
        while self.unsent:
            try:
                written = os.writev(self.fd, list(itertools.islice(self.unsent, _IOV_MAX)))
            except BlockingIOError:
                if not block:
                    return
                select.select([], [self.fd], [])
                continue
            except OSError:
                self.unsent.clear()
                self.unsent_bytes = 0
                raise
            self.unsent_bytes -= written
            while written:  # drop what went out; the rest of a buffer cut short stays, as a view
                head = self.unsent[0]
                if written < len(head):
                    self.unsent[0] = memoryview(head)[written:]
                    break
                written -= len(self.unsent.popleft())


class AnswerSender:
    """The child's messages to the parent, in the framing `multiprocessing.Connection.recv` reads
    (a 4-byte signed length, then the pickle), in the order `send` was called.

    A message is written at once by the thread that sends it when the pipe takes it whole without
    waiting (at most `PIPE_BUF` bytes, nothing queued before it); otherwise a thread of its own
    writes it, waiting for room. So no sender ever blocks on a parent that is not reading (a
    child blocked there would stop reading jobs, and block the parent's sends for good), and the
    usual answer costs no thread wake-up (docs/performance.md, session 20)."""

    def __init__(self, connection):
        self._fd = connection.fileno()
        os.set_blocking(self._fd, False)
        self._lock = threading.Lock()
        self._queued = 0  # messages given to the thread and not yet written (under _lock)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="warc-answers", daemon=True)
        self._thread.start()

    def send(self, message: tuple) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        framed = struct.pack("!i", len(data)) + data
        with self._lock:
            if not self._queued and len(framed) <= select.PIPE_BUF:
                try:
                    os.write(self._fd, framed)  # all of it or nothing: at most PIPE_BUF bytes
                    return
                except BlockingIOError:  # the pipe is full: the thread waits for room
                    pass
                except OSError:  # the parent is gone; the archive is still finished properly
                    return
            self._queued += 1
        self._queue.put(framed)

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        sender = FrameSender(self._fd)
        while (framed := self._queue.get()) is not None:
            sender.add((framed,))
            try:
                sender.write(block=True)
            except OSError:  # the parent is gone (FrameSender dropped the rest of this message)
                pass
            with self._lock:
                self._queued -= 1
