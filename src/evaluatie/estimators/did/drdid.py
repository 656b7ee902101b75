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

Each of the three has a ``*_cells`` form (:data:`ESTIMATORS`) for many outcome changes
(columns of ``ΔY``) on one design ``(D, X, w)`` -- the ATT(g,t) cells of one cohort
against one comparison group -- that fits the propensity score and the Gram matrix of
the outcome regression once for all of them.

Propensity-score conventions (dr, ipw), as R ``DRDID``: fitted scores are capped at
``1 - 1e-6`` and control units with a score ``≥ 0.995`` get weight zero ("trimming").
"""

from __future__ import annotations

import warnings
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from evaluatie.core.errors import DesignError

PS_CAP = 1.0 - 1e-6
PS_TRIM = 0.995


class TwoByTwo(NamedTuple):
    """Estimate and influence function (one value per row of the 2×2 sample)."""

    att: float
    inf: np.ndarray


def block_product(x: np.ndarray, bounds: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``out[i] = x[i] @ coef[h]`` for the rows ``bounds[h]:bounds[h+1]`` of group ``h``."""
    out = np.empty((x.shape[0], coef.shape[2]))
    for h, (lo, hi) in enumerate(pairwise(bounds.tolist())):
        np.matmul(x[lo:hi], coef[h], out=out[lo:hi])
    return out


class MeansFit(NamedTuple):
    """Closed-form fit of many cells: ``att`` ``(K,)`` and the factorisation of the
    influence functions ``inf[i] = n · x[i] @ coef[h]`` for unit ``i`` in group ``h``
    (rows ``bounds[h]:bounds[h+1]``), with ``x[i] = w_i [y_i, 1]`` (``n × (T+1)``) and
    ``coef`` (``H × (T+1) × K``)."""

    att: np.ndarray
    x: np.ndarray
    coef: np.ndarray
    bounds: np.ndarray

    @property
    def inf(self) -> np.ndarray:
        """The influence functions ``(n, K)``."""
        return block_product(self.x, self.bounds, self.coef * self.x.shape[0])


def did_means(
    y: np.ndarray,
    t_idx: np.ndarray,
    b_idx: np.ndarray,
    bounds: np.ndarray,
    treated: np.ndarray,
    control: np.ndarray,
    w: np.ndarray,
) -> MeansFit:
    """Weighted difference in mean changes for many 2×2 cells at once (its influence
    functions in factorised form, :class:`MeansFit`).

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
    return MeansFit(m1 - m0, wy1, coef, np.asarray(bounds))


def _expit(z: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + e^{-z})``; numpy's vectorised ``exp`` is ~4x
    faster than ``scipy.special.expit`` (the same formula; 0 where ``e^{-z}`` overflows)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


class _Logit(NamedTuple):
    """A fitted logit propensity score."""

    p: np.ndarray  # fitted scores, one per row
    score_t: np.ndarray  # k × m: the score contributions x_i w_i (D_i - p_i), by column
    hess: np.ndarray  # X'WX/m with W = w p (1-p)

    def lin_at(self, v: np.ndarray) -> np.ndarray:
        """``lin_ps @ v`` (``m × K`` for ``v`` ``k × K``), with ``lin_ps`` the asymptotic
        linear representation of the coefficients, ``score_i' (X'WX/m)^{-1}``."""
        return self.score_t.T @ np.linalg.solve(self.hess, v)


def _logit(d: np.ndarray, x: np.ndarray, w: np.ndarray) -> _Logit:
    """Weighted logit of ``d`` on ``x`` by Newton–Raphson.

    The design is kept as ``k × m`` (``x.T``, contiguous): with few covariates every
    product is then one pass over contiguous rows, 5-10x faster than on ``m × k``.
    """
    m, k = x.shape
    xt = np.ascontiguousarray(x.T)
    beta = np.zeros(k)
    share = (w @ d) / w.sum()
    if not 0.0 < share < 1.0:
        raise DesignError("The propensity score cannot be estimated: only one group present.")
    for _ in range(100):
        p = _expit(beta @ xt)
        grad = xt @ (w * (d - p))
        hess = (xt * (w * p * (1.0 - p))) @ xt.T
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
    p = _expit(beta @ xt)
    hess = (xt * (w * p * (1.0 - p))) @ xt.T / m
    return _Logit(p, xt * (w * (d - p)), hess)


class _ControlOLS(NamedTuple):
    """Weighted OLS of the columns of ``dy`` on ``x`` among the comparison units."""

    fitted: np.ndarray  # m × K: fitted values for every row
    x: np.ndarray
    xtx: np.ndarray  # X'W_0X/m
    w0_resid: np.ndarray  # m × K: w_i (1 - D_i) e_i

    def lin_at(self, v: np.ndarray) -> np.ndarray:
        """``lin_ols @ v`` for every column, with ``lin_ols`` the asymptotic linear
        representation ``w_i (1-D_i) e_i x_i' (X'W_0X/m)^{-1}`` of the coefficients: a
        unit's row is ``w_i (1-D_i) e_i`` times ``x_i' (X'W_0X/m)^{-1} v``, one
        projection shared by the columns (``m × K``)."""
        return self.w0_resid * (self.x @ np.linalg.solve(self.xtx, v))[:, None]


def _control_ols(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> _ControlOLS:
    """Weighted OLS of every column of ``dy`` (``m × K``) on ``x`` among controls; the
    design, hence ``X'W_0X``, is shared by the columns."""
    m = x.shape[0]
    w0 = w * (1.0 - d)
    xw0 = x * w0[:, None]
    xtx = xw0.T @ x / m
    if np.linalg.matrix_rank(xtx) < x.shape[1]:
        raise DesignError(
            "The outcome regression is rank deficient among comparison units "
            "(collinear or constant covariates within a 2×2 cell)."
        )
    beta = np.linalg.solve(xtx, xw0.T @ dy / m)
    fitted = x @ beta
    return _ControlOLS(fitted, x, xtx, w0[:, None] * (dy - fitted))


def _ps_weights(
    d: np.ndarray, p: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = np.minimum(p, PS_CAP)
    keep = np.where(d == 1, 1.0, (p < PS_TRIM).astype(float))
    w_t = keep * w * d
    w_c = keep * w * p * (1.0 - d) / (1.0 - p)
    return p, w_t, w_c


class CellsFit(NamedTuple):
    """Estimates ``att`` (``K``) and influence functions ``inf`` (``m × K``) of ``K``
    2×2 comparisons that share their units, treatment and covariates and differ in the
    outcome change only (the cells of one cohort against one comparison group)."""

    att: np.ndarray
    inf: np.ndarray


def dr_did_cells(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> CellsFit:
    """:func:`dr_did` for every column of ``dy`` (``m × K``) at once.

    The propensity score and the Gram matrix of the outcome regression depend on
    ``d, x, w`` only, so they are estimated once for all columns.
    """
    m = len(d)
    ps = _logit(d, x, w)
    ols = _control_ols(dy, d, x, w)
    _, w_t, w_c = _ps_weights(d, ps.p, w)
    # DR is normalised IPW of the outcome regression's residuals ...
    ipw = _normalised_ipw(dy - ols.fitted, x, ps, w_t, w_c)
    # ... plus the outcome regression's estimation effect on both means, one projection
    ols_effect = ols.lin_at((w_c @ x / w_c.mean() - w_t @ x / w_t.mean()) / m)
    return CellsFit(ipw.att, ipw.inf + ols_effect)


def ipw_did_cells(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> CellsFit:
    """:func:`ipw_did` for every column of ``dy`` (``m × K``) at once (one score)."""
    ps = _logit(d, x, w)
    _, w_t, w_c = _ps_weights(d, ps.p, w)
    return _normalised_ipw(dy, x, ps, w_t, w_c)


def _normalised_ipw(
    z: np.ndarray, x: np.ndarray, ps: _Logit, w_t: np.ndarray, w_c: np.ndarray
) -> CellsFit:
    """Normalised-weight difference of the treated and comparison means of each column of
    ``z`` (``m × K``), with influence functions that include the estimated propensity
    score's effect (``ps.lin_at``) on the comparison mean (Sant'Anna & Zhao 2020)."""
    m = len(w_t)
    mt, mc = w_t.mean(), w_c.mean()
    eta_t = w_t @ z / m / mt
    eta_c = w_c @ z / m / mc
    inf_t = w_t[:, None] * (z - eta_t) / mt
    e_c = w_c[:, None] * (z - eta_c)
    inf_c = (e_c + ps.lin_at(x.T @ e_c / m)) / mc
    return CellsFit(eta_t - eta_c, inf_t - inf_c)


def reg_did_cells(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> CellsFit:
    """:func:`reg_did` for every column of ``dy`` (``m × K``) at once (one design)."""
    m = len(d)
    ols = _control_ols(dy, d, x, w)
    w_t = w * d
    mt = w_t.mean()
    eta_t = w_t @ dy / m / mt
    eta_c = w_t @ ols.fitted / m / mt
    inf_t = w_t[:, None] * (dy - eta_t) / mt
    inf_c = (w_t[:, None] * (ols.fitted - eta_c) + ols.lin_at(w_t @ x / m)) / mt
    return CellsFit(eta_t - eta_c, inf_t - inf_c)


def _one(fit: CellsFit) -> TwoByTwo:
    return TwoByTwo(float(fit.att[0]), fit.inf[:, 0])


def dr_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> TwoByTwo:
    """Doubly robust DiD for panel data (Sant'Anna & Zhao 2020, eq. 3.1) with its
    influence function (their Section 3.1).

    ``x`` must include the intercept column. Consistent if either the logit propensity
    score or the linear model for ``E[ΔY | X, D=0]`` is correctly specified.
    """
    return _one(dr_did_cells(dy[:, None], d, x, w))


def ipw_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> TwoByTwo:
    """Normalised IPW DiD (Abadie 2005; Sant'Anna & Zhao 2020, Section 2), logit score.

    Consistent if the propensity score model is correctly specified.
    """
    return _one(ipw_did_cells(dy[:, None], d, x, w))


def reg_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> TwoByTwo:
    """Outcome-regression DiD (Heckman, Ichimura & Todd 1997; Sant'Anna &
    Zhao 2020, Section 2). Consistent if ``E[ΔY | X, D=0]`` is linear in ``X``."""
    return _one(reg_did_cells(dy[:, None], d, x, w))


#: The estimators by ``est_method``, each for many outcome changes sharing one design.
ESTIMATORS = {"dr": dr_did_cells, "ipw": ipw_did_cells, "reg": reg_did_cells}
