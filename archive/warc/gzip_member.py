"""One gzip member a WARC record: libdeflate's compressor when the system has it, else zlib's.

A WARC file is a series of gzip members so that any record can be read from its
offset alone. Deflating them is the largest part of the WARC writer's CPU (~0.17
ms a page with zlib at level 1; docs/performance.md, session 16). libdeflate
(a system library, Debian's `libdeflate0`; called through ctypes, which lets
other threads run meanwhile as zlib does) makes the same kind of member, any gzip
reader inflates it to the same bytes, in ~0.11 ms a page, and ~1.3 % smaller at
the same level. Without the library, or if it cannot be loaded, zlib makes them
as before: both are standard gzip, only the compressed bytes differ.

One `GzipMembers` a writer thread: a libdeflate compressor must not be shared
between threads. Plain library, no I/O.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import zlib

__all__ = ["GzipMembers", "LIBDEFLATE"]


def _load_libdeflate():
    """libdeflate's functions with their C types, or None without the library."""
    try:
        # By its soname first (every libdeflate 1.x): find_library runs `ldconfig -p` in a subprocess.
        lib = ctypes.CDLL("libdeflate.so.0")  # a CDLL call releases the GIL, as zlib's calls do
    except OSError:
        name = ctypes.util.find_library("deflate")  # elsewhere (macOS: libdeflate.dylib)
        if name is None:
            return None
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            return None
    try:
        lib.libdeflate_alloc_compressor.restype = ctypes.c_void_p
        lib.libdeflate_alloc_compressor.argtypes = [ctypes.c_int]
        lib.libdeflate_free_compressor.restype = None
        lib.libdeflate_free_compressor.argtypes = [ctypes.c_void_p]
        lib.libdeflate_gzip_compress_bound.restype = ctypes.c_size_t
        lib.libdeflate_gzip_compress_bound.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.libdeflate_gzip_compress.restype = ctypes.c_size_t
        lib.libdeflate_gzip_compress.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                                 ctypes.c_void_p, ctypes.c_size_t]
    except AttributeError:  # too old to have these
        return None
    return lib


LIBDEFLATE = _load_libdeflate()


class GzipMembers:
    """Gzip members of records, for one thread; `close()` frees libdeflate's compressors."""

    def __init__(self, *, libdeflate: bool = True):
        self._lib = LIBDEFLATE if libdeflate else None
        self._compressors: dict[int, int] = {}  # level -> libdeflate compressor
        self._out: ctypes.Array | None = None  # reused output buffer, grown to the largest bound met
        self._closed = False

    @property
    def uses_libdeflate(self) -> bool:
        return self._lib is not None

    def member(self, data: bytes, level: int) -> bytes:
        """`data` as one gzip member, deflated at `level` (0: stored; -1: zlib's default, 6)."""
        if self._lib is None or self._closed:
            return zlib.compress(data, level, wbits=31)
        level = 6 if level < 0 else level
        compressor = self._compressors.get(level)
        if compressor is None:
            compressor = self._lib.libdeflate_alloc_compressor(level)
            if not compressor:
                raise MemoryError(f"libdeflate could not make a level-{level} compressor")
            self._compressors[level] = compressor
        bound = self._lib.libdeflate_gzip_compress_bound(compressor, len(data))
        if self._out is None or len(self._out) < bound:
            self._out = ctypes.create_string_buffer(max(bound, 1 << 16))
        size = self._lib.libdeflate_gzip_compress(compressor, data, len(data), self._out, len(self._out))
        if not size:  # cannot happen with a buffer of the bound; zlib's member is as good
            return zlib.compress(data, level, wbits=31)
        return ctypes.string_at(self._out, size)

    def close(self) -> None:
        """Free the compressors; later members come from zlib. Idempotent."""
        self._closed = True
        compressors, self._compressors = self._compressors, {}
        for compressor in compressors.values():
            self._lib.libdeflate_free_compressor(compressor)
        self._out = None
