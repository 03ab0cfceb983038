"""The pipe between the crawler and its WARC writer process: framing, pickling, non-blocking sends.

A message is pickled with protocol 5, which leaves the page bodies out of band
(`Exchange.__reduce_ex__`, archive/warc/exchange.py), and framed as the buffers
of one `os.writev`: a head with the sizes, the pickle, then the bodies as they
are. So the event loop copies each page once, into the pipe, not also into the
pickle. Framed by hand, not with `Connection.send`, so a write can stop when
the pipe is full and go on later (`FrameSender`).

No Scrapy; used by archive/warc/process.py (the parent) and
archive/warc/process_child.py (the child).
"""
from __future__ import annotations

import fcntl
import itertools
import os
import pickle
import select
import struct
from collections import deque
from collections.abc import Iterable

__all__ = ["FrameSender", "frame", "grow_pipe", "read_frame"]

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
    size, count = struct.unpack("!QI", _read_exactly(fd, 12))
    lengths = struct.unpack(f"!{count}Q", _read_exactly(fd, 8 * count)) if count else ()
    data = _read_exactly(fd, size)
    return pickle.loads(data, buffers=[_read_exactly(fd, length) for length in lengths])


def _read_exactly(fd: int, size: int) -> bytes:
    data = os.read(fd, size)  # a pipe read of one body usually returns all of it: no copy
    if len(data) == size:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        if not data:
            raise EOFError("the WARC job pipe closed mid-message" if got else "the WARC job pipe closed")
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
