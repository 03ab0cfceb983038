"""One gzip member a WARC record, made by libdeflate (the `deflate` package).

A WARC file is a series of gzip members so that any record can be read from its
offset alone. Deflating them is the largest part of the WARC writer's CPU: zlib
took ~0.17 ms a page at level 1, libdeflate ~0.11, and its members are ~1.3 %
smaller at the same level (docs/performance.md, session 16). Any gzip reader
(warcio, pywb, cdxj-indexer, zlib) inflates them to the same record bytes.

Why a pinned package rather than the system's libdeflate: the wheel bundles one
libdeflate, so every installation writes the same compressed bytes at a level
and no machine silently falls back to the slower zlib. Plain library, no I/O.

Why ctypes beside the package: its `gzip_compress` allocates and frees a
libdeflate compressor on every call and returns a bytearray grown by `realloc`,
which `bytes()` copies again. Six members a page made that ~0.3 M instructions
of the writer's ~3.75 M a page (docs/performance.md, session 23). The same
library's own API, which the wheel's extension module exports (as
archive/libdeflate_gunzip.py uses for inflating), lets each thread keep one
compressor a level and one output buffer: a libdeflate compressor keeps nothing
from one call to the next, so the members are the same bytes as the package's
(tests/test_gzip_member.py compares them). A missing symbol (another wheel build)
leaves the package's call, which writes those same bytes, only slower.
"""
from __future__ import annotations

import ctypes
import threading

import deflate
import deflate._deflate

__all__ = ["gzip_member"]

DEFAULT_LEVEL = 6  # zlib's -1 ("default"); libdeflate takes 0–12
_LEVELS = range(0, 13)


def _bind():
    try:
        library = ctypes.CDLL(deflate._deflate.__file__)
        alloc, free = library.libdeflate_alloc_compressor, library.libdeflate_free_compressor
        bound, compress = library.libdeflate_gzip_compress_bound, library.libdeflate_gzip_compress
    except (OSError, AttributeError):
        return None
    alloc.restype, alloc.argtypes = ctypes.c_void_p, [ctypes.c_int]
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    bound.restype, bound.argtypes = ctypes.c_size_t, [ctypes.c_void_p, ctypes.c_size_t]
    compress.restype = ctypes.c_size_t
    compress.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
    return alloc, free, bound, compress


_API = _bind()


class _Compressor:
    """A libdeflate compressor at one level, freed with its thread's `_local` (not to be shared by threads).
    `fits`: the longest input whose bound fits the thread's kept buffer, so that most calls skip asking
    libdeflate for a bound (each ctypes call is a few thousand instructions)."""

    __slots__ = ("handle", "fits")

    def __init__(self, level: int, buffer_size: int):
        self.handle = _API[0](level)
        # libdeflate's bound is the input plus an overhead that never shrinks as the input grows: an
        # input no longer than the buffer less the buffer's own overhead always fits.
        self.fits = 2 * buffer_size - _API[2](self.handle, buffer_size) if self.handle else -1

    def __del__(self):
        if self.handle and _API is not None:
            _API[1](self.handle)
            self.handle = None


_local = threading.local()
_BUFFER = 256 << 10  # the buffer a thread keeps: most records (a page, its photos, every request) fit


def gzip_member(data: bytes, level: int) -> bytes:
    """`data` as one gzip member, deflated at `level` (0: stored; -1: the default, 6)."""
    level = DEFAULT_LEVEL if level < 0 else level
    if _API is None or level not in _LEVELS or type(data) is not bytes:
        return bytes(deflate.gzip_compress(data, level))
    compressors = getattr(_local, "compressors", None)
    if compressors is None:
        compressors = _local.compressors = {}
        _local.buffer = ctypes.create_string_buffer(_BUFFER)
    compressor = compressors.get(level)
    if compressor is None:
        compressor = compressors[level] = _Compressor(level, _BUFFER)
        if not compressor.handle:  # out of memory: the package's call says so its own way
            del compressors[level]
            return bytes(deflate.gzip_compress(data, level))
    handle, size = compressor.handle, len(data)
    if size <= compressor.fits:
        out, room = _local.buffer, _BUFFER
    else:  # a large record: a buffer of its own, of the bound libdeflate asks for
        room = _API[2](handle, size)
        out = ctypes.create_string_buffer(room)
    written = _API[3](handle, data, size, out, room)
    if not written:  # cannot happen within the bound; the package's call raises its error
        return bytes(deflate.gzip_compress(data, level))
    return ctypes.string_at(out, written)
