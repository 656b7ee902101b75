"""Intervals by inverting randomization tests whose statistics are linear in the null."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluatie.inference.inversion import linear_test


def _draws(seed: int, n: int = 400) -> tuple[np.ndarray, ...]:
    """Estimates and variance terms of ``n`` assignments, the observed one first with a
    treatment path that is zero (a pre-period cell): its ``n1``, ``d01``, ``d11`` are 0."""
    rng = np.random.default_rng(seed)
    n0 = rng.normal(0.0, 0.2, n)
    n1 = rng.normal(0.0, 0.3, n)
    d00 = rng.uniform(0.01, 0.04, n)
    d11 = rng.uniform(0.02, 0.05, n)
    d01 = 0.3 * np.sqrt(d00 * d11) * rng.uniform(-1, 1, n)
    n1[0] = d01[0] = d11[0] = 0.0
    n0[0] = 0.1
    return n0, n1, d00, d01, d11


# Rounding leaves the zero path's sums of squares slightly negative as often as positive:
# a negative d11 residue once made the denominator vanish near r ~ 1e9 (a bound there).
@pytest.mark.parametrize("residue", [1e-21, -1e-21, -3e-19])
def test_a_bound_does_not_depend_on_rounding_residues_of_a_zero_treatment_path(residue):
    n0, n1, d00, d01, d11 = _draws(3)
    exact = linear_test(n0, n1, d00, d01, d11, statistic="t", alpha=0.05)
    noisy_n1, noisy_d01, noisy_d11 = n1.copy(), d01.copy(), d11.copy()
    noisy_n1[0], noisy_d01[0], noisy_d11[0] = residue, residue, residue
    noisy = linear_test(n0, noisy_n1, d00, noisy_d01, noisy_d11, statistic="t", alpha=0.05)
    assert noisy == exact
    # the observed statistic does not move with r: the interval never closes
    assert exact[1] == -math.inf and exact[2] == math.inf


def test_a_real_treatment_path_keeps_its_finite_interval():
    n0, n1, d00, d01, d11 = _draws(4)
    n1[0], d11[0], d01[0] = 1.0, 0.03, 0.0
    _, lo, hi = linear_test(n0, n1, d00, d01, d11, statistic="t", alpha=0.05)
    assert math.isfinite(lo) and math.isfinite(hi) and lo < 0.1 < hi
