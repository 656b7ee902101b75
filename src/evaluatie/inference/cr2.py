r"""CR2 cluster-robust covariance with Bell-McCaffrey degrees of freedom.

Bell & McCaffrey (2002, Survey Methodology 28(2)) and Pustejovsky & Tipton (2018,
J. Business & Economic Statistics 36(4)), "BRL": the residuals of cluster ``g`` are
rescaled by :math:`A_g = (I - H_{gg})^{-1/2}` (Moore-Penrose where ``I - H_gg`` is
singular) before they enter the sandwich, which makes the covariance unbiased when the
errors are independent and homoskedastic (the working model), and each coefficient is
tested against Student t with the Satterthwaite degrees of freedom of its variance
under that working model (P&T 2018, Section 3). No other small-sample factor applies.

Fixed effects. P&T (2018, Theorem 2) show that fixed effects nested in the clusters
(units inside gemeenten) can be absorbed: ``I - H_gg`` restricted to the
within-transformed space is what matters, because residuals and absorbed regressors
have no component along the nested dummies. Factors that are *not* nested (the
periods) are kept as explicit dummy regressors. So the design used here is
:math:`W = [X, D_{time}]` demeaned within the absorbed factor; by Frisch-Waugh-Lovell
its slopes on ``X`` and its residuals are those of the two-way regression.

Computation. :math:`H_{gg} = W_g M W_g'` with :math:`M = (W'W)^{-1}` has rank at most
``p`` (columns of ``W``), so with the thin QR :math:`W_g = Q_g R_g` and the eigen
decomposition :math:`R_g M R_g' = V \Lambda V'`,
:math:`A_g = I + Q_g V [(1 - \Lambda)^{-1/2} - 1] V' Q_g'`: no ``n_g x n_g`` matrix is
formed, so clusters of thousands of rows cost ``O(n_g p^2)``.

Degrees of freedom for the contrast ``c`` (P&T 2018, eq. 11 with :math:`\Phi = I`):
with :math:`w_g = A_g W_g M c` and :math:`z_g = W_g' w_g`, the vectors
:math:`p_g = (I - H)_{\cdot g} w_g` have inner products
:math:`p_g'p_h = 1\{g = h\} w_g'w_g - z_g' M z_h`, and
:math:`\nu = (\sum_g p_g'p_g)^2 / \sum_{g,h} (p_g'p_h)^2`.

Undefined case. A slope identified from one cluster alone (one treated gemeente: the
within-unit variation of its treatment dummy lies in that cluster only) has leverage
one there: the cluster's residuals carry no information on it and the Moore-Penrose
``A_g`` drops that direction, so CR2 is as small as CRV1 (on the VO panel both rejected
88% of placebo policies for one treated gemeente). Such slopes get NaN variance and df.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluatie.core.errors import DesignError

#: Eigenvalues of ``I - H_gg`` below this count as zero (the Moore-Penrose inverse).
_SINGULAR_TOL = 1e-10
#: A slope with more of its precision than this in directions of leverage one is
#: identified from (nearly) a single cluster: CR2 is undefined for it.
_LOST_SHARE = 1e-3


@dataclass(frozen=True)
class CR2:
    """The CR2 covariance of the slopes and the Bell-McCaffrey df of each slope;
    ``single_cluster``: slopes identified from one cluster (NaN in both)."""

    matrix: np.ndarray
    df: np.ndarray
    single_cluster: np.ndarray


def cr2_vcov(
    w: np.ndarray, resid: np.ndarray, *, k: int, cluster: np.ndarray, n_clusters: int
) -> CR2:
    """CR2 covariance and Bell-McCaffrey df of the first ``k`` slopes (module docstring).

    ``w``: the design ``[X, D_time]`` with the fixed effects nested in the clusters
    absorbed (demeaned within units); ``resid``: the residuals of the regression with
    all fixed effects; ``cluster``: codes ``0..n_clusters-1``.
    """
    if n_clusters < 2:
        raise DesignError(f"CR2 standard errors need at least 2 clusters, got {n_clusters}")
    m = np.linalg.inv(w.T @ w)
    contrasts = m[:, :k]

    order = np.argsort(cluster, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(cluster, minlength=n_clusters))])
    scores = np.empty((n_clusters, w.shape[1]))
    sq = np.empty((n_clusters, k))  # w_g'w_g per contrast
    z = np.empty((n_clusters, w.shape[1], k))  # W_g' w_g per contrast
    total = np.zeros(k)  # sum_g |W_g M c|^2 = c'Mc
    lost = np.zeros(k)  # the part of it in directions of leverage one
    for g in range(n_clusters):
        rows = order[bounds[g] : bounds[g + 1]]
        wg = w[rows]
        q, r = np.linalg.qr(wg)
        lam, v = np.linalg.eigh(r @ m @ r.T)
        qv = q @ v
        gap = 1.0 - lam
        scale = np.where(gap > _SINGULAR_TOL, 1.0 / np.sqrt(np.maximum(gap, _SINGULAR_TOL)), 0.0)
        shift = scale - 1.0

        def adjust(
            values: np.ndarray, qv: np.ndarray = qv, shift: np.ndarray = shift
        ) -> np.ndarray:
            return values + qv @ (shift[:, None] * (qv.T @ values))

        scores[g] = wg.T @ adjust(resid[rows][:, None])[:, 0]
        raw = wg @ contrasts
        total += np.einsum("ij,ij->j", raw, raw)
        if np.any(gap <= _SINGULAR_TOL):
            lost += np.sum((qv[:, gap <= _SINGULAR_TOL].T @ raw) ** 2, axis=0)
        wc = adjust(raw)
        sq[g] = np.einsum("ij,ij->j", wc, wc)
        z[g] = wg.T @ wc
    full = m @ (scores.T @ scores) @ m
    matrix = (full[:k, :k] + full[:k, :k].T) / 2.0
    df = np.empty(k)
    for j in range(k):
        zj = z[:, :, j]
        inner = -(zj @ m @ zj.T)
        inner[np.diag_indices(n_clusters)] += sq[:, j]
        df[j] = np.trace(inner) ** 2 / float(np.sum(inner * inner))
    single = lost > _LOST_SHARE * total
    matrix[single, :] = np.nan
    matrix[:, single] = np.nan
    df[single] = np.nan
    return CR2(matrix, df, single)
