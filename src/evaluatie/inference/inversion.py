"""Confidence intervals by inverting a test: the null values it does not reject.

Bootstrap and randomization tests give a p-value for any null value ``r`` of a
coefficient; the ``1 - alpha`` interval is the set of ``r`` with ``p(r) > alpha``
(Roodman, MacKinnon, Nielsen & Webb 2019, Section 3.5, for the wild bootstrap; Imbens &
Rubin 2015, Ch. 5, for randomization tests under a constant effect). Starting at the
estimate (where the p-value is largest), each bound is bracketed by doubling steps of
one standard error and then found by bisection to a relative precision of 1e-10. The
p-value of a finite number of draws is a step function, so the bound is where it steps
below ``alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from evaluatie.inference.randomization import permutation_p


def invert(
    p: Callable[[float], float], estimate: float, scale: float, alpha: float
) -> tuple[float, float]:
    """The interval ``{r: p(r) > alpha}`` around ``estimate`` (``scale``: a step size,
    e.g. the standard error). A side that never rejects within 2^60 steps is infinite."""
    step0 = max(scale, 1e-12 * max(1.0, abs(estimate)))

    def bound(side: int) -> float:
        inner, width = estimate, step0
        outer = estimate + side * width
        for _ in range(60):
            if p(outer) <= alpha:
                break
            inner, width = outer, 2.0 * width
            outer = estimate + side * width
        else:
            return math.inf * side
        for _ in range(100):
            mid = 0.5 * (inner + outer)
            inner, outer = (mid, outer) if p(mid) > alpha else (inner, mid)
            if abs(outer - inner) <= 1e-10 * max(1.0, abs(mid)):
                break
        return 0.5 * (inner + outer)

    return bound(-1), bound(+1)


def linear_test(
    n0: np.ndarray,
    n1: np.ndarray,
    d00: np.ndarray,
    d01: np.ndarray,
    d11: np.ndarray,
    *,
    statistic: str,
    alpha: float,
) -> tuple[float, float, float]:
    """Randomization p-value at 0 and interval, for statistics linear in the null value.

    For the outcome ``y - r x`` each assignment's estimate is ``n0 - r n1`` and its
    squared standard error ``d00 - 2 r d01 + r^2 d11`` (arrays over the assignments,
    the observed one first); ``statistic`` ``"t"`` or ``"coefficient"``.
    """

    def p(r: float) -> float:
        num = n0 - r * n1
        if statistic == "coefficient":
            return permutation_p(num[0], num)
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = num / np.sqrt(d00 - 2.0 * r * d01 + r * r * d11)
        return permutation_p(stat[0], stat)

    if not np.isfinite(n0[0]):
        return math.nan, math.nan, math.nan
    n1, d01, d11 = _without_rounding(n1, d01, d11)
    lo, hi = invert(p, float(n0[0]), math.sqrt(max(float(d00[0]), 0.0)), alpha)
    return p(0.0), lo, hi


def _without_rounding(
    n1: np.ndarray, d01: np.ndarray, d11: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The treatment path's terms with those of assignments where it enters the
    statistic only through rounding set to zero.

    In a pre-period cell the observed treatment path is zero, so the observed estimate
    does not depend on ``r``; its ``n1`` and ``d11`` are then rounding residues
    (~1e-19 of the other assignments'), which at the ``r`` of ~2^40 standard errors
    that the bracketing reaches decide whether a bound is infinite or 1e9. With them
    zero the observed statistic is constant in ``r``, as it is exactly."""
    scale_n1 = np.max(np.abs(n1), where=np.isfinite(n1), initial=0.0)
    scale_d11 = np.max(np.abs(d11), where=np.isfinite(d11), initial=0.0)
    flat = (np.abs(n1) <= 1e-12 * scale_n1) & (np.abs(d11) <= 1e-12 * scale_d11)
    if not flat.any():
        return n1, d01, d11
    zero = np.where(flat, 0.0, 1.0)
    return n1 * zero, d01 * zero, d11 * zero
