"""Keep the C heap from growing with freed tensors (glibc): large blocks are mapped and unmapped.

glibc's ``malloc`` serves a block at least ``M_MMAP_THRESHOLD`` large with its own memory map, given
back to the system at ``free``; smaller blocks come from the heap, whose freed space is kept for reuse.
By default the threshold is dynamic: each time a mapped block is freed, the threshold rises to its size
(up to 32 MiB). After the first large tensor is freed, every later tensor below that size (torch's
activations, the pair features of the Particle Transformer, numpy temporaries of a few MiB to 32 MiB) is
taken from the heap. Training and inference allocate and free thousands of such blocks of changing
sizes (each batch is padded to its own longest jet); the heap fragments and keeps the freed space:
measured on the ParticleNet notebook's part_small fine-tuning (2,000 jets, one epoch), the process kept
1,415 MiB after training instead of 653 MiB, and peaked at 1,575 MiB instead of 974 MiB.

:func:`limit_heap_growth` fixes the threshold (which also turns the dynamic rise off), so blocks from
:data:`MMAP_THRESHOLD` up are always mapped and given back when freed; the price is the page faults of
fresh maps (system CPU time, not results: the arithmetic is the same). On other C libraries (macOS,
Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import functools

__all__ = ["MMAP_THRESHOLD", "limit_heap_growth"]

#: blocks of this size [bytes] and larger are mapped: 1 MiB, below the batch tensors of the taggers and
#: shower generators (several MiB each), above the small objects that would pay a page fault each
MMAP_THRESHOLD = 1 << 20
_M_TRIM_THRESHOLD = -1  # mallopt parameters of glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has ``mallopt``), else None."""
    try:
        libc = ctypes.CDLL(None)  # the symbols the process has loaded: the C library's among them
    except (OSError, TypeError):  # Windows has no such handle
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version")):
        return None
    return libc


@functools.cache
def limit_heap_growth(threshold: int = MMAP_THRESHOLD) -> bool:
    """Map every block of ``threshold`` bytes or more (glibc ``mallopt``); True where it was set.

    Called once per process (cached) by :mod:`hepml_nb.jets` and :mod:`hepml_nb.calo` on import. The
    heap's trim threshold is set to twice ``threshold`` (what glibc's dynamic rule would give), so freed
    space at the top of the heap goes back to the system too.
    """
    libc = _glibc()
    if libc is None:
        return False
    ok = libc.mallopt(_M_MMAP_THRESHOLD, int(threshold)) == 1
    return bool(ok and libc.mallopt(_M_TRIM_THRESHOLD, 2 * int(threshold)) == 1)
