"""Large temporary arrays without fresh pages: memory freed is kept for the next one.

glibc's ``malloc`` gives an allocation above its mmap threshold (128 KB, rising to at
most 32 MB) pages of its own, returned to the system when the array is freed, and
returns the heap's top once more than twice that is free. The randomization tests of
a report allocate and free arrays of tens to hundreds of MB block after block, so each
block's arrays were new pages, zeroed by the system on first touch: the innovatiebudget
report took 249,000 page faults and 3.3 s of system time, against 76,000 and 1.6 s with
every allocation from the heap and the heap never trimmed (18.6 s instead of 19.6 s on
one core). The peak memory is the same; what was freed is kept until the process ends.
"""

from __future__ import annotations

import ctypes
import platform
import sys

#: ``mallopt`` parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """Serve allocations from the heap and never trim it, where the C library is glibc
    (``mallopt``); True if both settings took. Nothing is computed differently; a
    process that uses this keeps its peak memory until it ends, so the workbench sets
    it in the kernels of a batch and in its own command, not in a user's kernel."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # Trimming is only switched off once mmap is: with mmap on, a fixed trim threshold
    # also fixes the mmap threshold at 128 KB, and the report took 50% longer.
    return bool(mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1)
