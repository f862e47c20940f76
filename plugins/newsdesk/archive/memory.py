"""Handing freed heap memory back to the operating system during long imports.

The importer's threads (reading, the pool's pipes, dedup) allocate and free hundreds of
kilobytes per page, and glibc keeps freed blocks in its arenas: on 428 real pages the parent's
RSS peaked at 423 MB while its live Python objects peaked at 255 MB. ``malloc_trim`` after
each committed batch and each dedup round returns what is free (there: peak 311 MB; on 5,136
pages 583 -> 558 MB at the peak, 337 MB at the end; no measurable CPU); the extraction workers
trim after each chunk.

``keep_large_blocks_apart``: glibc serves a block of 128 KB or more with its own mapping,
returned at once when freed, but raises that threshold to the size of each such block freed
(up to 32 MB), after which the archive's bodies (~275 KB each) and their decoded copies come
from the heap and stay there as holes between live objects. Fixing the threshold at 128 KB
keeps them in their own mappings. No-ops where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc malloc.h)
LARGE_BLOCK = 128 * 1024


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _libc()
_MALLOC_TRIM = getattr(_LIBC, "malloc_trim", None)  # not glibc (musl, macOS): None
_MALLOPT = getattr(_LIBC, "mallopt", None) if _MALLOC_TRIM is not None else None


def release_free_memory() -> None:
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def keep_large_blocks_apart() -> bool:
    """Blocks of LARGE_BLOCK or more in mappings of their own, for the rest of the process."""
    return bool(_MALLOPT is not None and _MALLOPT(_M_MMAP_THRESHOLD, LARGE_BLOCK))
