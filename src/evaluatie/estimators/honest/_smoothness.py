"""Smoothness ``Δ^SD(M)`` with the optimal fixed-length confidence interval (Rambachan &
Roth 2023, Sections 2.4.2 and 5.2; Armstrong & Kolesár 2018, Econometrica 86(2)).

``Δ^SD(M) = {δ: |(δ_{t+1} - δ_t) - (δ_t - δ_{t-1})| ≤ M}`` over all consecutive periods,
the reference ``δ_0 = 0`` included: the slope of the trend violation changes by at most
``M`` per period (``M = 0``: linear trends, extrapolated from the pre-periods).

An affine estimator ``θ̂ = v'β̂_pre + l'β̂_post`` of ``θ = l'τ_post`` has bias ``w'δ`` with
``w = (v, l)``; over ``Δ^SD(M)`` it is bounded only if ``w`` is orthogonal to linear
trends (``Σ_p p w_p = 0``, positions ``p`` relative to the reference), and then its worst
case is ``M Σ_q |k_q|`` with ``k_q`` the weight of the second difference at ``q`` in
``w'δ`` (``δ`` written as ``p f_0`` plus second differences summed twice). The FLCI is
``θ̂ ± σ_v cv_α(b̄/σ_v)``, ``cv_α(t)`` the ``1 - α`` quantile of ``|N(t, 1)|`` (RR eq. 18),
minimised over ``v``. Writing ``v`` through the pre-period ``k_q`` makes the bias an
``ℓ1`` norm and the variance a quadratic; the half-length ``σ cv(b/σ)`` is the
perspective of the convex ``cv_α`` and increasing in both, so it is convex in ``k`` and a
bound-constrained quasi-Newton solve on ``k = k⁺ - k⁻`` finds the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from evaluatie.core.errors import DesignError

_MAX_ITERATIONS = 500


@dataclass(frozen=True)
class Flci:
    """One FLCI: centre ``estimate``, ``sd`` of the affine estimator, worst-case ``bias``,
    ``half`` length, and the pre-period weights ``v``."""

    estimate: float
    sd: float
    bias: float
    half: float
    v: np.ndarray

    @property
    def p(self) -> float:
        """``P(|N(b/σ, 1)| > |θ̂|/σ)``: the test of ``θ = 0`` that matches the interval."""
        x, t = abs(self.estimate) / self.sd, self.bias / self.sd
        return float(special.ndtr(t - x) + special.ndtr(-x - t))


def folded_critical(t: float, alpha: float) -> float:
    """``cv_α(t)``: the ``1 - α`` quantile of ``|N(t, 1)|``, in ``[t + z_{1-α}, t + z_{1-α/2}]``."""
    t = abs(t)

    def coverage(c: float) -> float:
        return float(special.ndtr(c - t) - special.ndtr(-c - t)) - (1.0 - alpha)

    lo, hi = t + special.ndtri(1 - alpha), t + special.ndtri(1 - alpha / 2)
    if coverage(lo) >= 0:  # t so large that the lower tail is nil
        return float(lo)
    return float(optimize.brentq(coverage, lo, hi, xtol=1e-14, rtol=1e-14))


def _folded_slope(c: float, t: float) -> float:
    """``d cv_α / dt`` by implicit differentiation of ``Φ(c - t) - Φ(-c - t) = 1 - α``."""
    a, b = np.exp(-0.5 * (c - t) ** 2), np.exp(-0.5 * (c + t) ** 2)
    return float((a - b) / (a + b))


@dataclass(frozen=True)
class _Weights:
    """``v = v0 + N k`` (pre-period weights from the free ``k_q``, trend-orthogonal), the
    fixed part ``c0`` of the bias per unit ``M``, and ``σ²(k) = k'Hk + 2g'k + s0``."""

    v0: np.ndarray
    n: np.ndarray
    c0: float
    h: np.ndarray
    g: np.ndarray
    s0: float


def _weights(sigma: np.ndarray, n_pre: int, l_post: np.ndarray) -> _Weights:
    n_post = len(l_post)
    p_post = np.arange(1, n_post + 1)
    k_post = [
        float(np.sum((p_post[p_post > q] - q) * l_post[p_post > q])) for q in range(1, n_post)
    ]
    k0 = float(p_post @ l_post)
    # k_q (q = -n_pre+1..0) = Σ_{p<q} (q - p) v_p: unit lower triangular in (q, p)
    q = np.arange(-n_pre + 1, 1)[:, None]
    p = np.arange(-n_pre, 0)[None, :]
    k_of_v = np.where(p < q, q - p, 0).astype(float)
    inv = np.linalg.inv(k_of_v)
    v0, n = inv[:, -1] * k0, inv[:, :-1]
    s_pp, s_pq, s_qq = sigma[:n_pre, :n_pre], sigma[:n_pre, n_pre:], sigma[n_pre:, n_pre:]
    cross = s_pp @ v0 + s_pq @ l_post
    return _Weights(
        v0=v0,
        n=n,
        c0=float(np.sum(np.abs(k_post)) + abs(k0)),
        h=n.T @ s_pp @ n,
        g=n.T @ cross,
        s0=float(v0 @ s_pp @ v0 + 2 * v0 @ s_pq @ l_post + l_post @ s_qq @ l_post),
    )


def flci(betahat: np.ndarray, sigma: np.ndarray, n_pre: int, l_post: np.ndarray,
         m: float, alpha: float) -> Flci:  # fmt: skip
    """The optimal FLCI for ``θ = l'τ_post`` under ``Δ^SD(m)`` (module docstring)."""
    wt = _weights(sigma, n_pre, l_post)
    dim = wt.n.shape[1]

    def parts(k: np.ndarray) -> tuple[float, float]:
        var = float(k @ wt.h @ k + 2 * wt.g @ k + wt.s0)
        return max(var, 1e-300) ** 0.5, m * (wt.c0 + float(np.sum(np.abs(k))))

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        k = x[:dim] - x[dim:]
        sd, bias = parts(k)
        t = bias / sd
        c = folded_critical(t, alpha)
        slope = _folded_slope(c, t)
        d_sd = (wt.h @ k + wt.g) / sd
        grad_k = (c - t * slope) * d_sd
        return sd * c, np.concatenate([grad_k + m * slope, -grad_k + m * slope])

    best: np.ndarray = np.zeros(dim)
    if dim:
        k_minvar = np.linalg.solve(wt.h, -wt.g)  # the M = 0 optimum: least variance
        starts = [np.zeros(dim), k_minvar]
        found = []
        for k_start in starts:
            x0 = np.concatenate([np.clip(k_start, 0, None), np.clip(-k_start, 0, None)])
            res = optimize.minimize(
                objective,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=[(0.0, None)] * (2 * dim),
                options={"maxiter": _MAX_ITERATIONS, "ftol": 1e-15, "gtol": 1e-12},
            )
            if not np.isfinite(res.fun):
                raise DesignError(f"honest_did: the FLCI optimisation failed ({res.message})")
            found.append((float(res.fun), res.x[:dim] - res.x[dim:]))
        best = min(found, key=lambda item: item[0])[1]
    sd, bias = parts(best)
    v = wt.v0 + wt.n @ best
    estimate = float(v @ betahat[:n_pre] + l_post @ betahat[n_pre:])
    half = sd * folded_critical(bias / sd, alpha)
    return Flci(estimate=estimate, sd=sd, bias=bias, half=half, v=v)


def default_scale(sigma: np.ndarray, n_pre: int) -> float:
    """Standard error of the noisiest pre-period second difference (of ``β̂_{-1}`` with one
    pre-period): the scale on which the data can detect curvature of the pre-trend."""
    if n_pre < 2:
        return float(np.sqrt(sigma[0, 0]))
    full = np.zeros((n_pre - 1, n_pre + 1))  # second differences of (β_pre, δ_0 = 0)
    for i in range(n_pre - 1):
        full[i, i : i + 3] = [1.0, -2.0, 1.0]
    d = full[:, :n_pre]
    return float(np.sqrt(np.max(np.diag(d @ sigma[:n_pre, :n_pre] @ d.T))))
