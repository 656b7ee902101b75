r"""Power of a test against an injected effect, and the smallest effect it detects.

A design's power is simulated on placebo assignments (Bloom 1995 defines the minimum
detectable effect; Burlig, Preonas & Woerman 2020, J. Development Economics 144, show
why the simulation must keep the panel's own serial correlation): for each placebo
assignment ``d`` the effect ``delta`` is added to the outcome of the rows ``d`` treats,
and the test is run as it would be on real data. For a regression the estimate of
every assignment ``k`` on the outcome ``y + delta x_d`` is linear in ``delta`` and its
squared standard error quadratic:

    b_k(delta) = n0_k + delta n1_k,      se_k(delta)^2 = d00_k + 2 delta d01_k + delta^2 d11_k,

so one pass over the assignments gives the test at every ``delta``: the randomization
p-value of draw ``d`` compares its statistic with those of its reference assignments
(itself among them), and the analytic test compares its t statistic with a
t(``df``) quantile. Power is the share of draws that reject; the minimum detectable
effect (MDE) the smallest ``|delta|`` at which it reaches the target, found on a grid
and refined by bisection (the power of finitely many draws is a step function).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special


@dataclass(frozen=True)
class InjectedDraws:
    """Per placebo draw (rows) and reference assignment (columns) the coefficients
    (``n0``, ``n1``) and variance terms (``d00``, ``d01``, ``d11``) of the module
    docstring; ``observed[d]`` is the column of draw ``d`` itself."""

    n0: np.ndarray
    n1: np.ndarray
    d00: np.ndarray
    d01: np.ndarray
    d11: np.ndarray
    observed: np.ndarray

    @property
    def n_draws(self) -> int:
        return int(self.n0.shape[0])

    def statistics(self, delta: float, statistic: str) -> np.ndarray:
        """The test statistic of every (draw, reference assignment) at ``delta``."""
        # in place, three arrays instead of eight: the MDE's search evaluates this some
        # 750 times on 200 x 1,000 entries (the same sums, so the same numbers)
        num = self.n1 * delta
        num += self.n0
        if statistic == "coefficient":
            return num
        square = self.d01 * (2.0 * delta)
        square += self.d00
        square += np.multiply(self.d11, delta * delta)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.sqrt(square, out=square)
            num /= square
        return num

    def own(self, values: np.ndarray) -> np.ndarray:
        """Each draw's own entry of a (draw x reference) array."""
        return values[np.arange(self.n_draws), self.observed]

    def randomization_p(self, delta: float, statistic: str) -> np.ndarray:
        """Each draw's randomization p-value at ``delta`` (NaN where it has no estimate);
        a reference assignment without an estimate does not count."""
        stat = self.statistics(delta, statistic)
        own = np.abs(self.own(stat))[:, None]
        finite = np.isfinite(stat)
        hits = (np.abs(stat) >= own * (1 - 1e-12)) & finite
        with np.errstate(invalid="ignore", divide="ignore"):
            p = hits.sum(axis=1) / finite.sum(axis=1)
        return np.where(np.isfinite(own[:, 0]), p, np.nan)

    def analytic_p(self, delta: float, df: float) -> np.ndarray:
        """Each draw's two-sided p-value from its own t statistic and t(``df``)."""
        t = self.own(self.statistics(delta, "t"))
        return np.asarray(2.0 * special.stdtr(df, -np.abs(t)))

    def power(
        self, delta: float, alpha: float, *, statistic: str = "t", df: float | None = None
    ) -> float:
        """Share of draws rejecting at level ``alpha``: by randomization, or analytic
        with ``df`` given. Draws without an estimate are left out."""
        p = self.analytic_p(delta, df) if df is not None else self.randomization_p(delta, statistic)
        p = p[np.isfinite(p)]
        return float(np.mean(p <= alpha)) if p.size else math.nan


def smallest_effect(power: Callable[[float], float], target: float, scale: float) -> float:
    """The smallest ``delta >= 0`` with ``power(delta) >= target`` (``power`` of the
    injected effect ``delta``; use ``lambda d: f(-d)`` for decreases).

    A grid of steps of ``scale / 4`` up to ``16 * scale``, then doubling up to ``2^40``
    times ``scale``, brackets the first crossing; bisection refines it to a relative
    precision of 1e-6. Infinite when no effect reaches the target (e.g. a test that
    cannot reject with so few assignments).
    """
    step = max(scale, 1e-300) / 4.0
    inner, outer = 0.0, math.nan
    if power(0.0) >= target:
        return 0.0
    for i in range(1, 65):
        if power(i * step) >= target:
            inner, outer = (i - 1) * step, i * step
            break
    else:
        inner = 64 * step
        for _ in range(40):
            if power(2.0 * inner) >= target:
                outer = 2.0 * inner
                break
            inner *= 2.0
        else:
            return math.inf
    for _ in range(60):
        mid = 0.5 * (inner + outer)
        inner, outer = (inner, mid) if power(mid) >= target else (mid, outer)
        if outer - inner <= 1e-6 * outer:
            break
    return outer
