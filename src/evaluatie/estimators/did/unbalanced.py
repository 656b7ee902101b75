"""ATT(g,t) on an unbalanced panel, each 2×2 cell read as two repeated cross sections.

With ``allow_unbalanced_panel=True`` (as R ``did``; Callaway & Sant'Anna 2021,
Section 4.2 and their repeated cross-section estimands) a unit missing in some periods
is kept: cell ``(g, t)`` with base ``b`` compares the cohort's mean outcome among the
units *observed* at ``t`` with its mean among those observed at ``b``, minus the same
for the comparison group. Without covariates the doubly robust, IPW and regression
estimators for repeated cross sections (Sant'Anna & Zhao 2020, Section 3) all reduce to
this difference of four weighted means. It assumes that which units are observed in a
period is unrelated to their outcome trends (missing at random given the cohort), the
price of keeping them.

Influence functions are per observation; a unit's is the sum over its (at most two)
observations in the cell, scaled to the ``n`` units, so clustering and the multiplier
bootstrap work on units as for the balanced panel (R ``did`` does the same)::

    ψ_ik = n w_i [T_ik (o_it (y_it - m_Tt) / W_Tt - o_ib (y_ib - m_Tb) / W_Tb)
                - C_ik (o_it (y_it - m_Ct) / W_Ct - o_ib (y_ib - m_Cb) / W_Cb)]

with ``o`` the observed indicator, ``m`` the weighted means and ``W`` the weights of the
treated (``T``) and comparison (``C``) units observed in each period.
"""

from __future__ import annotations

import numpy as np


def observed_units(
    y: np.ndarray, t_idx: np.ndarray, b_idx: np.ndarray, members: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: how many ``members`` (``n × K`` boolean) are observed at ``t``, at
    ``b``, and at either."""
    seen = ~np.isnan(y)
    at_t, at_b = seen[:, t_idx] & members, seen[:, b_idx] & members
    return at_t.sum(axis=0), at_b.sum(axis=0), (at_t | at_b).sum(axis=0)


def did_means_unbalanced(
    y: np.ndarray,
    t_idx: np.ndarray,
    b_idx: np.ndarray,
    treated: np.ndarray,
    control: np.ndarray,
    w: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """ATT and unit-level influence functions ``(n, K)`` of every cell (module docstring).

    ``y`` is ``n × T`` with NaN where a unit is not observed; ``treated`` and
    ``control`` are ``n × K`` booleans. Every group must be observed at ``t`` and ``b``
    (checked by the caller with :func:`observed_units`)."""
    n = y.shape[0]
    seen = ~np.isnan(y)
    y0 = np.where(seen, y, 0.0)
    att = np.zeros(t_idx.size)
    inf = np.zeros((n, t_idx.size))
    for group, sign in ((treated, 1.0), (control, -1.0)):
        for idx, direction in ((t_idx, 1.0), (b_idx, -1.0)):
            mask = group & seen[:, idx]
            weight = mask * w[:, None]
            total = weight.sum(axis=0)
            mean = (weight * y0[:, idx]).sum(axis=0) / total
            att += sign * direction * mean
            inf += sign * direction * n * weight * (y0[:, idx] - mean) / total
    return att, inf
