"""Two-group, two-period DiD estimators for panel data, with influence functions.

Estimand: the ATT of the 2×2 comparison, ``E[ΔY(1) - ΔY(0) | D=1]``, identified under
(conditional) parallel trends ``E[ΔY(0) | X, D=1] = E[ΔY(0) | X, D=0]`` and overlap
``P(D=1 | X) < 1``, with ``ΔY = Y_post - Y_pre``. Each function takes one row per unit
of the 2×2 sample and returns :class:`TwoByTwo`: the estimate and its influence function
``ψ`` such that ``θ̂ - θ = (1/m) Σ ψ_i + o_p(m^{-1/2})`` with ``m`` rows, so
``se = sqrt(Σ ψ_i²) / m``.

* :func:`dr_did` — the doubly robust DiD estimator for panel data of Sant'Anna & Zhao
  (2020, J. Econometrics 219(1), Section 3, eq. 3.1; the "traditional" DR estimator):
  logit propensity score by maximum likelihood, linear outcome regression of ``ΔY`` on
  ``X`` among controls by (weighted) OLS; the influence function includes the
  estimation effect of both nuisance models.
* :func:`ipw_did` — normalised (Hájek) IPW DiD of Abadie (2005), as standardised in
  Sant'Anna & Zhao (2020, Section 2); logit score, its estimation effect in ψ.
* :func:`reg_did` — outcome-regression DiD (Heckman, Ichimura & Todd 1997; Sant'Anna &
  Zhao 2020, Section 2).
* :func:`did_means` — the closed form all three reduce to without covariates (``X`` =
  intercept): a weighted difference in mean changes, vectorised over many 2×2 cells.

Propensity-score conventions (dr, ipw), as R ``DRDID``: fitted scores are capped at
``1 - 1e-6`` and control units with a score ``≥ 0.995`` get weight zero ("trimming").
"""

from __future__ import annotations

import warnings
from itertools import pairwise
from typing import NamedTuple

import numpy as np
from scipy.special import expit

from evaluatie.core.errors import DesignError

PS_CAP = 1.0 - 1e-6
PS_TRIM = 0.995


class TwoByTwo(NamedTuple):
    """Estimate and influence function (one value per row of the 2×2 sample)."""

    att: float
    inf: np.ndarray


class MeansFit(NamedTuple):
    """Closed-form fit of many cells: ``att`` ``(K,)``, influence functions ``inf``
    ``(n, K)`` and their factorisation ``inf[i] = n · x[i] @ coef[h]`` for unit ``i`` in
    group ``h``, with ``x[i] = w_i [y_i, 1]`` (``n × (T+1)``) and ``coef``
    (``H × (T+1) × K``)."""

    att: np.ndarray
    inf: np.ndarray
    x: np.ndarray
    coef: np.ndarray


def did_means(
    y: np.ndarray,
    t_idx: np.ndarray,
    b_idx: np.ndarray,
    bounds: np.ndarray,
    treated: np.ndarray,
    control: np.ndarray,
    w: np.ndarray,
) -> MeansFit:
    """Weighted difference in mean changes for many 2×2 cells at once.

    Cell ``k`` compares periods ``t_idx[k]`` and ``b_idx[k]`` (columns of ``y``, ``n × T``).
    Units come in contiguous groups (e.g. cohorts): group ``h`` is rows
    ``bounds[h]:bounds[h+1]``; its units are treated in cell ``k`` if ``treated[h, k]``
    and comparison units if ``control[h, k]`` (``H × K`` boolean, disjoint). The
    influence function relative to the ``n`` units is
    ``ψ_i = n w_i [D_i (ΔY_i - m_1)/Σ w D - C_i (ΔY_i - m_0)/Σ w C]``, zero for units in
    neither group. This is exactly the DR, IPW and regression estimator with an
    intercept-only ``X``.
    """
    n, n_t = y.shape
    k = len(t_idx)
    wy1 = np.column_stack([y, np.ones(n)]) * w[:, None]
    blocks = [slice(a, b) for a, b in pairwise(bounds)]
    tot = np.array([wy1[r].sum(axis=0) for r in blocks])
    dy_h = tot[:, t_idx] - tot[:, b_idx]
    st, sc = tot[:, n_t] @ treated, tot[:, n_t] @ control
    if np.any(st <= 0) or np.any(sc <= 0):
        raise DesignError("A 2×2 cell has an empty treated or comparison group.")
    m1 = (dy_h * treated).sum(axis=0) / st
    m0 = (dy_h * control).sum(axis=0) / sc
    scale = treated / st - control / sc
    cols = np.arange(k)
    coef = np.zeros((len(blocks), n_t + 1, k))
    coef[:, t_idx, cols] = scale
    coef[:, b_idx, cols] = -scale
    coef[:, n_t, :] = -(treated * (m1 / st) - control * (m0 / sc))
    inf = np.empty((n, k))
    for h, r in enumerate(blocks):
        np.matmul(wy1[r], coef[h] * n, out=inf[r])
    return MeansFit(m1 - m0, inf, wy1, coef)


def _logit(d: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logit of ``d`` on ``x`` by Newton–Raphson.

    Returns the fitted scores and the asymptotic linear representation of the
    coefficients, ``score_i' (X'WX/m)^{-1}`` with ``W = w p (1-p)``.
    """
    m, k = x.shape
    beta = np.zeros(k)
    share = np.average(d, weights=w)
    if not 0.0 < share < 1.0:
        raise DesignError("The propensity score cannot be estimated: only one group present.")
    for _ in range(100):
        p = expit(x @ beta)
        grad = x.T @ (w * (d - p))
        hess = (x * (w * p * (1.0 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError as exc:
            raise DesignError(
                "The propensity-score Hessian is singular (collinear covariates or perfect "
                "separation within a 2×2 cell)."
            ) from exc
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12 * (1.0 + np.max(np.abs(beta))):
            break
    else:
        warnings.warn(
            "The propensity-score logit did not converge in 100 Newton steps (near "
            "separation?); estimates may be unreliable.",
            UserWarning,
            stacklevel=4,
        )
    p = expit(x @ beta)
    hess = (x * (w * p * (1.0 - p))[:, None]).T @ x / m
    score = x * (w * (d - p))[:, None]
    return p, np.linalg.solve(hess, score.T).T


def _control_ols(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted OLS of ``dy`` on ``x`` among controls; fitted values for all rows and the
    asymptotic linear representation ``w_i (1-D_i) e_i x_i' (X'W_0X/m)^{-1}``."""
    m = x.shape[0]
    w0 = w * (1.0 - d)
    xtx = (x * w0[:, None]).T @ x / m
    if np.linalg.matrix_rank(xtx) < x.shape[1]:
        raise DesignError(
            "The outcome regression is rank deficient among comparison units "
            "(collinear or constant covariates within a 2×2 cell)."
        )
    beta = np.linalg.solve(xtx, (x * w0[:, None]).T @ dy / m)
    fitted = x @ beta
    lin = np.linalg.solve(xtx, (x * (w0 * (dy - fitted))[:, None]).T).T
    return fitted, lin


def _ps_weights(
    d: np.ndarray, p: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = np.minimum(p, PS_CAP)
    keep = np.where(d == 1, 1.0, (p < PS_TRIM).astype(float))
    w_t = keep * w * d
    w_c = keep * w * p * (1.0 - d) / (1.0 - p)
    return p, w_t, w_c


def dr_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> TwoByTwo:
    """Doubly robust DiD for panel data (Sant'Anna & Zhao 2020, eq. 3.1) with its
    influence function (their Section 3.1).

    ``x`` must include the intercept column. Consistent if either the logit propensity
    score or the linear model for ``E[ΔY | X, D=0]`` is correctly specified.
    """
    p, lin_ps = _logit(d, x, w)
    fitted, lin_ols = _control_ols(dy, d, x, w)
    _, w_t, w_c = _ps_weights(d, p, w)
    resid = dy - fitted
    mt, mc = w_t.mean(), w_c.mean()
    eta_t = (w_t * resid).mean() / mt
    eta_c = (w_c * resid).mean() / mc
    inf_t = (w_t * (resid - eta_t) - lin_ols @ (w_t @ x / len(d))) / mt
    e_c = w_c * (resid - eta_c)
    inf_c = (e_c + lin_ps @ (e_c @ x / len(d)) - lin_ols @ (w_c @ x / len(d))) / mc
    return TwoByTwo(float(eta_t - eta_c), inf_t - inf_c)


def ipw_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> TwoByTwo:
    """Normalised IPW DiD (Abadie 2005; Sant'Anna & Zhao 2020, Section 2), logit score.

    Consistent if the propensity score model is correctly specified.
    """
    p, lin_ps = _logit(d, x, w)
    _, w_t, w_c = _ps_weights(d, p, w)
    mt, mc = w_t.mean(), w_c.mean()
    eta_t = (w_t * dy).mean() / mt
    eta_c = (w_c * dy).mean() / mc
    inf_t = w_t * (dy - eta_t) / mt
    e_c = w_c * (dy - eta_c)
    inf_c = (e_c + lin_ps @ (e_c @ x / len(d))) / mc
    return TwoByTwo(float(eta_t - eta_c), inf_t - inf_c)


def reg_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> TwoByTwo:
    """Outcome-regression DiD (Heckman, Ichimura & Todd 1997; Sant'Anna & Zhao 2020,
    Section 2). Consistent if ``E[ΔY | X, D=0]`` is linear in ``X``."""
    fitted, lin_ols = _control_ols(dy, d, x, w)
    w_t = w * d
    mt = w_t.mean()
    eta_t = (w_t * dy).mean() / mt
    eta_c = (w_t * fitted).mean() / mt
    inf_t = w_t * (dy - eta_t) / mt
    inf_c = (w_t * (fitted - eta_c) + lin_ols @ (w_t @ x / len(d))) / mt
    return TwoByTwo(float(eta_t - eta_c), inf_t - inf_c)


ESTIMATORS = {"dr": dr_did, "ipw": ipw_did, "reg": reg_did}
