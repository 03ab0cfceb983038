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

__all__ = ["FrameReader", "FrameSender", "frame", "grow_pipe", "read_frame", "send_frame"]

_PIPE_BYTES = 1 << 20  # Linux F_SETPIPE_SZ: room for a few batches, so a send rarely waits for the child
_F_SETPIPE_SZ = 1031
_IOV_MAX = 512  # buffers per writev (Linux allows 1024)
_HEAD = struct.Struct("!QI")  # a frame's head: pickle size, out-of-band buffer count (then their sizes)
_READ_BYTES = 1 << 16  # one read of answers: ~400 records' worth


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


def send_frame(fd: int, message: tuple) -> None:
    """Write `message` framed (as `frame` does) to a blocking pipe, all of it."""
    data = memoryview(b"".join(frame(message)))
    while data:
        data = data[os.write(fd, data):]


def read_frame(fd: int) -> tuple:
    """The message `frame` wrote; EOFError when the writing end is closed."""
    size, count = _HEAD.unpack(_read_exactly(fd, _HEAD.size))
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


class FrameReader:
    """The messages framed by `frame` on a non-blocking pipe, read in as few `os.read`s as their
    bytes need: one when nothing has arrived (no `select` first), one per 64 KB otherwise.

    Not thread-safe: the caller holds its own lock around every call."""

    def __init__(self, fd: int):
        self.fd = fd  # non-blocking
        self._buffer = bytearray()
        self._ended = False

    def read(self, wait: float | None = 0) -> list[tuple]:
        """The whole messages that arrived, oldest first (waiting up to `wait` seconds for the
        first bytes, None: as long as it takes). EOFError once the writing end is closed and
        every whole message is returned; a message cut short by the end is dropped."""
        if not self._ended:
            if wait != 0:
                select.select([self.fd], [], [], wait)
            self._read_available()
        messages = self._whole_messages()
        if self._ended and not messages:
            raise EOFError("the WARC answer pipe closed")
        return messages

    def _read_available(self) -> None:
        while True:
            try:
                data = os.read(self.fd, _READ_BYTES)
            except BlockingIOError:
                return
            if not data:
                self._ended = True
                return
            self._buffer += data
            if len(data) < _READ_BYTES:
                return

    def _whole_messages(self) -> list[tuple]:
        messages, start, buffer = [], 0, self._buffer
        while len(buffer) - start >= _HEAD.size:
            size, count = _HEAD.unpack_from(buffer, start)
            lengths_end = start + _HEAD.size + 8 * count
            if len(buffer) < lengths_end:
                break
            lengths = struct.unpack_from(f"!{count}Q", buffer, start + _HEAD.size)
            end = lengths_end + size + sum(lengths)
            if len(buffer) < end:
                break
            with memoryview(buffer) as view:  # released before the buffer is cut below
                offset = lengths_end + size
                bodies = []
                for length in lengths:
                    bodies.append(bytes(view[offset:offset + length]))
                    offset += length
                messages.append(pickle.loads(view[lengths_end:lengths_end + size], buffers=bodies))
            start = end
        if start:
            del buffer[:start]
        return messages


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
