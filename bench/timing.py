"""Shared by the benchmark scripts: interleaved wall times, best-of-N or every round."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def best_times(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, tuple[float, Any]]:
    """Warm each function up once, then take the best wall time of ``repeats`` runs.

    The runs of the different functions are interleaved, so that a busy shared machine
    slows them alike.
    """
    results = {name: fn() for name, fn in fns.items()}
    best = dict.fromkeys(fns, np.inf)
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: (best[name], results[name]) for name in fns}


def timed_rounds(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Warm each function up once, then ``repeats`` rounds of wall times, the functions
    alternating within each round (for min and median)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times
