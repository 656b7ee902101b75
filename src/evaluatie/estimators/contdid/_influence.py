"""The (weighted) sieve fit of :func:`.cont_did` and its unit-level influence functions.

With unit sampling weights ``w`` (all ones when unweighted; only ratios of weights
matter), ``W_1 = Σ_T w_i`` and ``W_0 = Σ_C w_j``:

* comparison mean ``m_0 = Σ_C w_j ΔY_j / W_0``;
* ``β = (Ψ'WΨ)⁻¹ Ψ'W ΔY_T``, weighted least squares over the treated units;
* ``ATT^o = Σ_T w_i ΔY_i / W_1 - m_0`` (with the intercept in ``Ψ`` this is the weighted
  mean of the fitted ``ATT(D_i)``) and ``ACRT^o = Σ_T w_i ψ'(D_i)'β / W_1``.

Influence functions, scaled so that ``estimate - truth ≈ Σ_i IF_i`` (the linearisation
of these ratio estimators with the units as independent draws):

* ``IF_ATT``: ``w_i (ΔY_i - mean_T ΔY) / W_1`` for treated and
  ``-w_j (ΔY_j - m_0) / W_0`` for comparison units;
* ``IF_ACRT`` (treated only): ``w_i [ψ(D_i)'(Ψ'WΨ)⁻¹ Σ_T w ψ'(D) / W_1 · e_i +
  (ACRT(D_i) - ACRT^o) / W_1]`` with ``e_i`` the WLS residual;
* ``ATT(d)``, ``ACRT(d)``: sandwich ``(Ψ'WΨ)⁻¹ Σ_T w_i² e_i² ψ_i ψ_i' (Ψ'WΨ)⁻¹`` of
  ``β`` and, for ``ATT(d)``, ``Σ_C w_j² (ΔY_j - m_0)² / W_0²`` of ``m_0``.

With all weights equal these are the unweighted formulas (``w_i / W_1 = 1/n_1``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg


@dataclass(frozen=True)
class SieveFit:
    """Per column of ``ΔY`` (``m`` columns): ``att``, ``acrt`` ``(m,)``; ``inf``
    ``(n, m, 2)``; ``beta`` ``(K, m)``; ``resid`` ``(n_1, m)``; ``m0`` ``(m,)``."""

    att: np.ndarray
    acrt: np.ndarray
    inf: np.ndarray
    beta: np.ndarray
    resid: np.ndarray
    m0: np.ndarray
    chol: tuple[np.ndarray, bool]


def fit_columns(
    dy: np.ndarray, treated: np.ndarray, psi: np.ndarray, dpsi: np.ndarray, w: np.ndarray
) -> SieveFit:
    """ATT^o, ACRT^o, their influence functions, β and residuals, per column of ``dy``."""
    yt, yc = dy[treated], dy[~treated]
    wt, wc = w[treated], w[~treated]
    w1, w0 = wt.sum(), wc.sum()
    wpsi = psi * wt[:, None]
    chol = linalg.cho_factor(psi.T @ wpsi)
    beta = linalg.cho_solve(chol, wpsi.T @ yt)  # (K, m)
    resid = yt - psi @ beta
    m0 = wc @ yc / w0
    mt = wt @ yt / w1
    slopes = dpsi @ beta  # ACRT(D_i) per treated unit
    acrt = wt @ slopes / w1
    h = linalg.cho_solve(chol, wt @ dpsi / w1)  # (Ψ'WΨ)⁻¹ weighted mean_T(ψ')
    inf = np.empty((dy.shape[0], dy.shape[1], 2))
    inf[treated, :, 0] = wt[:, None] * (yt - mt) / w1
    inf[~treated, :, 0] = -wc[:, None] * (yc - m0) / w0
    inf[treated, :, 1] = wt[:, None] * ((psi @ h)[:, None] * resid + (slopes - acrt) / w1)
    inf[~treated, :, 1] = 0.0
    return SieveFit(att=mt - m0, acrt=acrt, inf=inf, beta=beta, resid=resid, m0=m0, chol=chol)


def curve_variance(
    fit: SieveFit,
    dy: np.ndarray,
    treated: np.ndarray,
    psi: np.ndarray,
    w: np.ndarray,
    col: int,
    *,
    leverage: bool = False,
) -> tuple[np.ndarray, float]:
    """The sandwich of ``β`` and the variance of ``m_0`` for column ``col`` of ``dy``.

    ``leverage``: each residual divided by ``1 - h_ii``, its unit's leverage (HC3;
    MacKinnon & White 1985, a close approximation of the jackknife). At the edges of the
    dose support a few units carry the spline and their residuals are small because
    they pull the fit towards themselves; the plain sandwich then understates the
    variance there, most with few treated units (Long & Ervin 2000). For ``m_0`` the
    leverage of comparison unit ``j`` is ``w_j / W_0``.
    """
    wt, wc = w[treated], w[~treated]
    bread = linalg.cho_solve(fit.chol, np.eye(psi.shape[1]))
    resid = fit.resid[:, col]
    dev = dy[~treated, col] - fit.m0[col]
    if leverage:
        h = wt * np.einsum("ik,kl,il->i", psi, bread, psi)
        resid = resid / np.clip(1.0 - h, 1e-8, None)
        dev = dev / (1.0 - wc / wc.sum())
    score = psi * (wt * resid)[:, None]
    dev = wc * dev
    return bread @ (score.T @ score) @ bread, float(dev @ dev) / wc.sum() ** 2
