"""The conditional-least-favourable hybrid test of Andrews, Roth & Pakes (2023), vectorised.

ARP test ``H0: ∃ν: E[Y(θ̄) - Xν] ≤ 0`` for moments ``Y(θ̄) ~ N(μ(θ̄), Σ_Y)`` with a linear
nuisance ``ν``. The statistic is the linear programme ``η̂ = min_{η,ν} η`` s.t. ``Y - Xν ≤
η σ̃`` (``σ̃`` the moments' standard deviations), whose dual is ``η̂ = max_{γ ∈ P} γ'Y``
over ``P = {γ ≥ 0, X'γ = 0, σ̃'γ = 1}`` (ARP Section 3, eq. 12-13). Here the caller hands
over the points of ``P`` that matter (its vertices, known in closed form for the
restrictions of :mod:`._relative_magnitude`), so every quantity of the test is a small
matrix product instead of one LP per draw and per ``θ̄``:

* ``η̂ = max_v γ_v'Y``, attained at ``γ*``;
* conditioning on ``γ*`` being optimal and on ``S = Y - c γ*'Y`` (``c = Σ_Y γ* / γ*'Σ_Y γ*``)
  truncates ``γ*'Y`` to ``[V_lo, V_up]`` with ``V_lo = max_{γ'c<1} γ'S / (1 - γ'c)`` and
  ``V_up = min_{γ'c>1} γ'S / (1 - γ'c)`` over ``γ ∈ P`` (ARP Lemma 2; extreme points
  suffice because the conditions are linear in ``γ``);
* the hybrid (ARP Section 3.3; RR 2023 Section 5.3) first rejects when ``η̂`` exceeds the
  least-favourable critical value ``c_LF``, the ``1 - κ`` quantile of ``max_v γ_v'ξ``,
  ``ξ ~ N(0, Σ_Y)`` (simulated), and otherwise applies the conditional test at level
  ``(α - κ)/(1 - κ)`` with ``V_up`` replaced by ``min(V_up, c_LF)`` and the critical value
  floored at 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

# Below this variance a vertex's statistic is deterministic (e.g. M̄ = 0 makes the
# "pair" moments exactly zero): the test then rejects only a strictly positive η̂.
_TINY_VARIANCE = 1e-14
# γ'c this close to 1 gives no truncation (γ* itself, or a tie in direction).
_RHO_TOL = 1e-10
# Half-width of the first θ̄ scan in units of sd(θ̂), and how often it may be widened.
_SCAN_POINTS = 801
_MAX_WIDENINGS = 6
_MAX_BISECTIONS = 60


@dataclass(frozen=True)
class Pieces:
    """Moment-inequality problems tested together (the union of RR Lemma 2.2).

    ``level + θ̄ · slope`` (``P x V``) are the vertices' statistics ``γ_v'Y(θ̄)``; ``q``
    (``P x V x V``) their covariances ``γ_v'Σ_Y γ_w``; ``draws`` (``P x n``, sorted) the
    simulated ``max_v γ_v'ξ`` behind the least-favourable critical value.
    """

    level: np.ndarray
    slope: np.ndarray
    q: np.ndarray
    draws: np.ndarray

    def lf_critical(self, kappa: float) -> np.ndarray:
        """``c_LF``: the ``1 - κ`` quantile of the sorted draws (inverse of their CDF)."""
        n = self.draws.shape[1]
        index = min(n - 1, max(0, int(np.ceil((1.0 - kappa) * n)) - 1))
        return np.asarray(self.draws[:, index])


def _log_upper(x: np.ndarray) -> np.ndarray:
    """``log P(Z > x)`` without underflow in the far tail."""
    return np.asarray(special.log_ndtr(-x))


def reject(pieces: Pieces, theta: np.ndarray, alpha: float, kappa: float,
           c_lf: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """``P x N`` booleans: the hybrid test rejects ``θ = θ̄`` for each piece and ``θ̄``
    (``c_lf``: the pieces' least-favourable critical values at ``kappa``, if known)."""
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    vals = pieces.level[:, None, :] + theta[None, :, None] * pieces.slope[:, None, :]
    star = np.argmax(vals, axis=2)
    eta = np.take_along_axis(vals, star[:, :, None], axis=2)[:, :, 0]
    n_pieces = vals.shape[0]
    qrow = pieces.q[np.arange(n_pieces)[:, None], star]  # γ*'Σ_Y γ_w, P x N x V
    var = np.take_along_axis(qrow, star[:, :, None], axis=2)[:, :, 0]
    degenerate = var <= _TINY_VARIANCE
    safe_var = np.where(degenerate, 1.0, var)
    rho = qrow / safe_var[:, :, None]
    s = vals - rho * eta[:, :, None]
    denom = 1.0 - rho
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = s / denom
    v_lo = np.max(np.where(denom > _RHO_TOL, ratio, -np.inf), axis=2)
    v_up = np.min(np.where(denom < -_RHO_TOL, ratio, np.inf), axis=2)
    c_lf = (pieces.lf_critical(kappa) if c_lf is None else c_lf)[:, None]
    first_stage = eta > c_lf
    sd = np.sqrt(safe_var)
    z, z_lo, z_up = eta / sd, v_lo / sd, np.minimum(v_up, c_lf) / sd
    size = (alpha - kappa) / (1.0 - kappa)
    # P(Z > z | z_lo <= Z <= z_up) below the size, in logs: stable deep in the tail
    with np.errstate(divide="ignore", invalid="ignore"):
        lz, lhi, llo = _log_upper(z), _log_upper(z_up), _log_upper(z_lo)
        log_tail = lz + np.log1p(-np.exp(lhi - lz)) - llo - np.log1p(-np.exp(lhi - llo))
    inside = (z >= z_lo - 1e-9) & (z <= z_up + 1e-9)
    conditional = (z > 0) & inside & (np.nan_to_num(log_tail, nan=np.inf) < np.log(size))
    return np.where(degenerate, eta > 1e-12, first_stage | conditional)


def accepted(pieces: Pieces, theta: np.ndarray, alpha: float, kappa: float,
             c_lf: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """``θ̄`` lies in the union of the pieces' confidence sets (RR Lemma 2.2)."""
    return np.asarray(~reject(pieces, theta, alpha, kappa, c_lf).all(axis=0))


def interval(
    pieces: Pieces, centre: float, half: float, alpha: float, kappa: float, tol: float
) -> tuple[float, float]:
    """The smallest interval holding every accepted ``θ̄`` (as RR report it), its ends found
    on a scan of ``centre ± half`` and refined by bisection to ``tol``. ``(nan, nan)`` when
    nothing is accepted (the data reject the restriction itself); an end stays infinite
    when acceptance reaches past a scan widened ``_MAX_WIDENINGS`` times."""
    c_lf = pieces.lf_critical(kappa)
    for _ in range(_MAX_WIDENINGS + 1):
        grid = np.linspace(centre - half, centre + half, _SCAN_POINTS)
        ok = accepted(pieces, grid, alpha, kappa, c_lf)
        if not ok.any():
            # a thin accepted region can fall between scan points: look closer once
            fine = np.linspace(centre - half, centre + half, 8 * _SCAN_POINTS)
            ok_fine = accepted(pieces, fine, alpha, kappa, c_lf)
            if not ok_fine.any():
                return (np.nan, np.nan)
            grid, ok = fine, ok_fine
        if not (ok[0] or ok[-1]):
            break
        half *= 4.0
    first, last = int(np.argmax(ok)), len(ok) - 1 - int(np.argmax(ok[::-1]))
    low = -np.inf if ok[0] else _edge(pieces, grid[first - 1], grid[first], alpha, kappa, c_lf, tol)
    high = np.inf if ok[-1] else _edge(pieces, grid[last + 1], grid[last], alpha, kappa, c_lf, tol)
    return (low, high)


def _edge(pieces: Pieces, out: float, inside: float, alpha: float, kappa: float,
          c_lf: np.ndarray, tol: float) -> float:  # fmt: skip
    """Bisection between a rejected and an accepted ``θ̄``; returns the accepted end."""
    for _ in range(_MAX_BISECTIONS):
        if abs(inside - out) <= tol:
            break
        mid = 0.5 * (out + inside)
        if accepted(pieces, np.array([mid]), alpha, kappa, c_lf)[0]:
            inside = mid
        else:
            out = mid
    return float(inside)


def p_value(pieces: Pieces, theta: float, alpha_levels: tuple[float, float] = (1e-6, 1.0),
            tol: float = 1e-5) -> float:  # fmt: skip
    """The smallest level at which the hybrid test (``κ = α/10``) rejects ``θ = theta``,
    by bisection over the level: the p-value that matches the intervals."""
    lo, hi = alpha_levels
    point = np.array([theta])

    def rejects(level: float) -> bool:
        return not accepted(pieces, point, level, level / 10.0)[0]

    if not rejects(hi * (1 - 1e-9)):
        return 1.0
    if rejects(lo):
        return lo
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if rejects(mid):
            hi = mid
        else:
            lo = mid
    return float(hi)
