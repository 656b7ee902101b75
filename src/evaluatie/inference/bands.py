"""Uniform (sup-t) confidence bands for a path of estimates.

A pointwise 95% interval at every point of an event-study path or a dose-response
curve covers each point 95% of the time, but the whole path far less often; a reader
who looks at the shape of the curve needs a band that covers all of it at once. The
sup-t band (Montiel Olea & Plagborg-Møller 2019, J. Applied Econometrics 34(1),
eq. 5) widens each pointwise interval by the same factor: ``estimate ± c · se`` with
``c`` the ``1 - alpha`` quantile of ``max_j |Z_j| / se_j`` for ``Z ~ N(0, V)``, ``V``
the covariance of the path. With ``df`` the draws are multivariate t (``Z`` divided by
an independent ``sqrt(chi2_df / df)``), the small-sample analogue for a covariance
estimated from few clusters.
"""

from __future__ import annotations

import numpy as np

from evaluatie.core.errors import ParameterError
from evaluatie.inference.seeds import DEFAULT_SEED


def sup_t_critical(
    cov: np.ndarray,
    *,
    alpha: float = 0.05,
    draws: int = 10_000,
    df: float | None = None,
    seed: int | None = None,
) -> float:
    """The sup-t critical value for a path with covariance ``cov`` (points x points).

    Points with zero variance are left out of the maximum. Simulated with ``draws``
    draws from a fixed seed (the same value every run); the Monte Carlo error of the
    quantile is far below the rounding of a report.
    """
    cov = np.asarray(cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ParameterError(f"cov must be a square matrix, got shape {cov.shape}")
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    keep = sd > 1e-12 * max(float(sd.max(initial=0.0)), 1e-300)
    if not keep.any():
        return float("nan")
    corr = cov[np.ix_(keep, keep)] / np.outer(sd[keep], sd[keep])
    vals, vecs = np.linalg.eigh((corr + corr.T) / 2.0)
    # a path of many points from few parameters has a low-rank covariance; the null
    # directions' eigenvectors are arbitrary, so they are dropped, not drawn
    rank = vals > 1e-10 * vals[-1]
    root = vecs[:, rank] * np.sqrt(vals[rank])  # corr = root @ root.T
    rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
    z = rng.standard_normal((draws, root.shape[1])) @ root.T
    if df is not None:
        z /= np.sqrt(rng.chisquare(df, size=draws) / df)[:, None]
    return float(np.quantile(np.abs(z).max(axis=1), 1.0 - alpha))
