"""Freed memory is kept for the next large array (evaluatie.core.heap)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# A fresh process each: the setting lasts as long as the process. It reports whether a
# 200 MB array lies in the heap (below the program break), and whether the heap kept its
# size when the array was freed.
_PROBE = """
import ctypes, sys
import numpy as np
from evaluatie.core.heap import keep_freed_memory
sbrk = ctypes.CDLL(None).sbrk
sbrk.restype = ctypes.c_void_p
sbrk.argtypes = [ctypes.c_ssize_t]
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
a = np.ones(25_000_000)
top = sbrk(0)
in_heap = a.ctypes.data < top
del a
print(kept, in_heap, sbrk(0) == top)
"""


def _probe(mode: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt's settings are glibc's; elsewhere keep_freed_memory does nothing",
)
def test_large_arrays_come_from_a_heap_that_keeps_what_is_freed() -> None:
    assert _probe("keep") == ["True", "True", "True"]
    # glibc's default: a page mapping of its own, returned when freed
    assert _probe("default")[:2] == ["False", "False"]
