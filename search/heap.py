"""Handing freed heap memory back to the system.

glibc keeps the pages of freed blocks for reuse, and raises its mmap threshold after a large
block is freed, so a process that makes and frees arrays of a few MB over and over (a writer
sorting its batches, the story step's copy search) keeps their peak counted in its RSS until it
exits. ``malloc_trim`` returns the free pages; it is a no-op where glibc is not the allocator.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL("libc.so.6")


def release_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc), quietly nothing elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        _libc().malloc_trim(0)
