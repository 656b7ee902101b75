"""Relative magnitudes ``Δ^RM(M̄)`` with C-LF intervals (Rambachan & Roth 2023, Sections
2.4.1 and 5.3).

``Δ^RM(M̄) = {δ: |δ_{t+1} - δ_t| ≤ M̄ max_{s<0} |δ_{s+1} - δ_s| for all t ≥ 0}``: no
post-period change in the trend violation is larger than ``M̄`` times the largest change
between consecutive pre-periods (``δ_0 = 0`` at the reference). It is the union over the
pre-period increments ``s`` and a sign ``±`` of the polyhedra ``Δ_{s,±} = {δ: |δ_{t+1} -
δ_t| ≤ ±M̄ (δ_{s+1} - δ_s), t ≥ 0}`` (RR footnote 9); a confidence set for the union is the
union of the pieces' sets (RR Lemma 2.2), each from the ARP hybrid test of :mod:`._arp`.

Only the moments that involve post-period coefficients enter the test (as R HonestDiD's
default ``postPeriodMomentsOnly``): ``±(D_t β - u_t) - M̄ς(β_{s+1} - β_s) ≤ 0`` for the
post increments ``t`` with ``u_t = τ_{t+1} - τ_t``, the nuisance being ``u`` subject to
``θ̄ = l'τ = Σ_t W_t u_t`` (``W_t = Σ_{r≥t} l_r``). Then ``X'γ = 0`` holds exactly when
``γ_{t+} - γ_{t-} = λ W_t`` for one ``λ``, so the dual polytope's extreme points are known:
the two "signed" points (``λ > 0``: weight ``|W_t|`` on the moment of sign ``sgn W_t``;
``λ < 0``: the opposite signs) and one "pair" point per increment (``γ_{t+} = γ_{t-}``),
each scaled to ``σ̃'γ = 1``. With them the test needs no linear programme.
"""

from __future__ import annotations

import numpy as np

from evaluatie.estimators.honest._arp import Pieces

#: Draws of the least-favourable critical value (R HonestDiD uses 1,000; more is cheap here).
LF_DRAWS = 10_000


def increments(n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
    """First differences of ``δ`` as rows over ``β = (β_pre, β_post)``, the reference
    ``δ_0 = 0`` between them: ``(pre, post)`` with ``n_pre`` and ``n_post`` rows."""
    n = n_pre + n_post
    full = np.zeros((n, n + 1))  # increment i: δ at full position i+1 minus i
    full[np.arange(n), np.arange(n)] = -1.0
    full[np.arange(n), np.arange(n) + 1] = 1.0
    rows = np.delete(full, n_pre, axis=1)  # δ_0 = 0: drop the reference column
    return rows[:n_pre], rows[n_pre:]


def vertices(weights: np.ndarray) -> np.ndarray:
    """Unscaled extreme points of ``P`` over the moments ``(t+, t-)`` (module docstring)."""
    n_post = len(weights)
    tail = np.cumsum(weights[::-1])[::-1]  # W_t = Σ_{r≥t} l_r
    pos, neg = np.clip(tail, 0, None), np.clip(-tail, 0, None)
    signed = np.array([np.column_stack([pos, neg]).ravel(), np.column_stack([neg, pos]).ravel()])
    pairs = np.zeros((n_post, 2 * n_post))
    pairs[np.arange(n_post), 2 * np.arange(n_post)] = 1.0
    pairs[np.arange(n_post), 2 * np.arange(n_post) + 1] = 1.0
    return np.vstack([signed, pairs])


def moments(n_pre: int, n_post: int, m_bar: float, s: int, sign: float) -> np.ndarray:
    """Rows ``a`` of the post-period moments ``a'δ ≤ 0`` of ``Δ_{s,sign}(M̄)``, in the
    order ``(0+, 0-, 1+, 1-, ...)``."""
    pre_inc, post_inc = increments(n_pre, n_post)
    bound = m_bar * sign * pre_inc[s]
    rows = np.empty((2 * n_post, n_pre + n_post))
    rows[0::2] = post_inc - bound
    rows[1::2] = -post_inc - bound
    return rows


def build_pieces(
    betahat: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    weights: np.ndarray,
    m_bar: float,
    noise: np.ndarray,
) -> Pieces:
    """The ``2 n_pre`` pieces ``Δ_{s,±}(M̄)`` for the target ``θ = weights'τ_post``.

    ``noise`` (draws x coefficients) are draws of ``β̂ - β``, shared by every piece and
    every ``M̄`` so that the simulated critical values move smoothly with ``M̄``.
    """
    n_post = len(weights)
    base = vertices(weights)
    shift = weights / float(weights @ weights)  # a τ with l'τ = 1
    gs = []
    for s in range(n_pre):
        for sign in (1.0, -1.0):
            a = moments(n_pre, n_post, m_bar, s, sign)
            sd = np.sqrt(np.einsum("ij,jk,ik->i", a, sigma, a))
            gs.append((base / (base @ sd)[:, None]) @ a)  # γ_v'A: vertex statistics over β
    g = np.array(gs)  # pieces x vertices x coefficients
    n_pieces, n_vert = g.shape[:2]
    level = g @ betahat
    slope = -(g[:, :, n_pre:] @ shift)
    q = np.einsum("pvi,ij,pwj->pvw", g, sigma, g)
    sims = (noise @ g.reshape(-1, g.shape[2]).T).reshape(len(noise), n_pieces, n_vert)
    draws = np.sort(sims.max(axis=2).T, axis=1)
    return Pieces(level, slope, q, draws)


def search_half_width(betahat: np.ndarray, sigma: np.ndarray, n_pre: int,
                      weights: np.ndarray, m_bar: float) -> float:  # fmt: skip
    """Half-width of the first ``θ̄`` scan: the largest bias ``Δ^RM(M̄)`` allows at the
    observed pre-period increments plus 20 standard deviations of ``l'β̂_post``."""
    pre_inc, _ = increments(n_pre, len(weights))
    max_pre = float(np.max(np.abs(pre_inc @ betahat)))
    post = slice(n_pre, None)
    sd = float(np.sqrt(weights @ sigma[post, post] @ weights))
    horizon = np.arange(1, len(weights) + 1)
    return m_bar * float(horizon @ np.abs(weights)) * max_pre + 20.0 * sd
