"""Give large freed buffers back to the operating system (glibc only).

glibc serves a large allocation from its own mapping and unmaps it when freed, but after the
first such free it raises that threshold to the freed size (up to 32 MB), so later buffers of a
megabyte come from the heap, where freed memory stays with the process. A server that streams
megabyte events to many clients would then keep its peak for good. Fixing the threshold keeps
every buffer of ``LARGE_BUFFER_BYTES`` or more in its own mapping.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["LARGE_BUFFER_BYTES", "release_free_memory", "unmap_large_buffers"]

LARGE_BUFFER_BYTES = 256 * 1024
_M_MMAP_THRESHOLD = -3


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def release_free_memory() -> bool:
    """Hand the memory glibc holds free (in every thread's heap) back to the system.

    Returns:
        True when glibc released some; False when there was none, or on another C library.
    """
    libc = _libc()
    try:
        return bool(libc is not None and libc.malloc_trim(0))
    except AttributeError:
        return False


def unmap_large_buffers() -> bool:
    """Fix glibc's mmap threshold at ``LARGE_BUFFER_BYTES`` for this process.

    Returns:
        True when glibc took the setting; False on another C library or platform.
    """
    libc = _libc()
    try:
        return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BUFFER_BYTES))
    except AttributeError:
        return False
