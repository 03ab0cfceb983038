"""A body that is exactly one whole gzip member, inflated by libdeflate, or None.

Why: the crawl's compression middleware inflates every gzip-encoded page on the
event loop, and zlib took ~127 µs of it for a bench page (15 KB → 104 KB);
libdeflate, a whole-buffer inflater, ~35 µs (docs/performance.md, session 17).

Why ctypes: the pinned `deflate` wheel (archive/warc/gzip_member.py) bundles
libdeflate, but its `gzip_decompress` stops after the first member and says
nothing of what follows it (a second member, trailing bytes), so it cannot tell
a one-member body from one that Scrapy's gunzip would read further. The same
library's `libdeflate_gzip_decompress_ex`, exported by the wheel's extension
module, reports the bytes it read: a body it reads whole, with its CRC-32 and
length checked (libdeflate checks both), within the size bound, is one member,
and its bytes are what zlib gives. Anything else is None, for the caller's zlib
path. Plain library, no I/O; a missing symbol (another wheel build) makes every
call None, never a wrong answer.
"""
from __future__ import annotations

import ctypes
import threading

import deflate._deflate

__all__ = ["gunzip_one_member"]

_SUCCESS = 0  # enum libdeflate_result
# Deflate inflates at most 1032 bytes from one (zlib's FAQ): a member whose ISIZE claims more than that
# of the whole body is not one whole member (or its length wrapped past 4 GiB), and no buffer that
# large is allocated for it.
_MAX_RATIO = 1032
# The output buffer a thread keeps between calls, up to this size (a larger body gets one of its own):
# a page inflated into warm memory, not into a fresh zeroed buffer each time, then copied out once.
_KEPT_BUFFER = 4 << 20


def _bind():
    try:
        library = ctypes.CDLL(deflate._deflate.__file__)
        alloc = library.libdeflate_alloc_decompressor
        inflate = library.libdeflate_gzip_decompress_ex
    except (OSError, AttributeError):
        return None, None
    alloc.restype = ctypes.c_void_p
    alloc.argtypes = []
    inflate.restype = ctypes.c_int
    inflate.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                        ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)]
    return alloc, inflate


_ALLOC, _INFLATE = _bind()
_local = threading.local()  # one decompressor a thread (a decompressor is not to be shared by threads)


def gunzip_one_member(data: bytes, max_size: int = 0) -> bytes | None:
    """`data` inflated when it is one whole gzip member (header, deflate stream, CRC-32 and length all
    right, nothing after it) of at most `max_size` bytes (0: no bound); else None."""
    if _INFLATE is None or len(data) < 18:  # header 10 + empty stream 2 + trailer 8, at the least
        return None
    if not data.startswith(b"\x1f\x8b\x08"):  # not gzip's magic and deflate method: libdeflate refuses
        return None  # it too, but only after this function made the buffer its last 4 bytes ask for
    size = int.from_bytes(data[-4:], "little")  # ISIZE: the length mod 2**32 if this is one member
    if (max_size and size > max_size) or size > _MAX_RATIO * len(data):
        return None
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = _ALLOC()
        _local.buffer = ctypes.create_string_buffer(64 << 10)
        if not decompressor:
            return None
    out = _local.buffer
    if size > len(out):
        out = ctypes.create_string_buffer(size)
        if size <= _KEPT_BUFFER:
            _local.buffer = out
    read, written = ctypes.c_size_t(), ctypes.c_size_t()
    result = _INFLATE(decompressor, data, len(data), out, size, ctypes.byref(read), ctypes.byref(written))
    if result != _SUCCESS or read.value != len(data) or written.value != size:
        return None  # not one member, damaged, or longer than its ISIZE says (a wrapped or lying length)
    return ctypes.string_at(out, size)
