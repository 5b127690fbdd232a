"""Process-wide allocator tuning (glibc only).

``tune_allocator()`` raises glibc's ``M_TRIM_THRESHOLD`` and ``M_MMAP_THRESHOLD`` so that the
memory of freed request bodies stays in the heap instead of going back to the kernel after
every batch (and being faulted in again by the next one). It is a setting of the whole
process, not of capic: ``capic run`` applies it to its own process at start; services that
embed capic may call it once, if the trade (a heap that does not shrink below what it once
held, up to 256 MiB kept) suits them. Elsewhere (musl, macOS, Windows) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Final

__all__ = ["tune_allocator"]

_M_TRIM_THRESHOLD: Final = -1
_M_MMAP_THRESHOLD: Final = -3
#: Freed memory kept in the heap before glibc returns it to the kernel.
TRIM_THRESHOLD: Final = 256 * 1024 * 1024
#: Allocations at least this large get their own mapping (glibc's dynamic maximum on 64-bit).
MMAP_THRESHOLD: Final = 32 * 1024 * 1024


def tune_allocator() -> bool:
    """Apply the glibc settings above; True when both were applied. Never raises."""
    try:
        if not sys.platform.startswith("linux"):
            return False
        if not os.confstr("CS_GNU_LIBC_VERSION"):  # glibc only; musl has no such name
            return False
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        mallopt = libc.mallopt
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        mallopt.restype = ctypes.c_int
        # mallopt returns 1 on success, 0 on error.
        trim = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        mmap = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        return trim and mmap
    except Exception:  # a tuning knob must never break its caller
        return False
