"""Joint Wald tests of several estimates from their covariance."""

from __future__ import annotations

import numpy as np
from scipy import special


def wald_test(est: np.ndarray, vcov: np.ndarray) -> tuple[float, int, float]:
    """``W = θ' V⁺ θ`` with ``df = rank(V)`` and its chi-square p-value."""
    vals, vecs = np.linalg.eigh(vcov)
    tol = vals.max(initial=0.0) * len(vals) * np.finfo(float).eps
    pos = vals > tol
    proj = vecs[:, pos].T @ est
    stat = float(np.sum(proj**2 / vals[pos]))
    df = int(pos.sum())
    return stat, df, float(special.chdtrc(df, stat)) if df else float("nan")
