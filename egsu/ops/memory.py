"""Hand freed heap memory back to the operating system while a large message is processed.

A 15 MB message (INT-07) is parsed by libxml2 into a tree of about 120 MB of C heap; its records are
released from the tree chunk by chunk (``egsu_core.isun.records.record_chunks``), but glibc keeps
freed chunks in its free lists, and the Python objects made next come from Python's own arenas, not
from there: the worker's resident size would keep the whole tree to the end of the message. Asking
glibc to trim (``malloc_trim``, which also gives back free pages inside the heap) after each chunk
keeps the worker's peak under the 300 MB aim. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
from functools import cache


@cache
def _malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def give_back_freed() -> None:
    """Return the C heap's free pages to the system (glibc); a no-op where that is not available."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
