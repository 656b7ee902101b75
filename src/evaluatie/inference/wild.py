r"""The wild cluster bootstrap for a linear regression, restricted or unrestricted.

With few treated clusters a cluster-robust t statistic is far from its t distribution;
the wild cluster bootstrap (Cameron, Gelbach & Miller 2008) compares it with the same
statistic in bootstrap samples ``y* = X b + u * v_g`` where every cluster's residuals
are multiplied by one draw ``v_g``. The **restricted** bootstrap (WCR) takes ``b`` and
``u`` from the regression with the null hypothesis imposed and is the reliable one when
few clusters are treated; the unrestricted (WCU) takes the unrestricted fit (MacKinnon &
Webb 2017, 2018). Weights: Rademacher (+1 or -1) or Webb's six-point distribution (Webb
2023), which has more distinct sign patterns when there are few clusters. When every
sign pattern fits in the requested number of draws (``2^G`` Rademacher, ``6^G`` Webb),
all of them are used and the p-value is exact and deterministic.

Computation follows Roodman, MacKinnon, Nielsen & Webb (2019, "Fast and wild", Stata
Journal 19(1), Section 3): everything a bootstrap t statistic needs is a linear
function of the cluster sums ``S_g = X_g' W y_g - X_g' W X_g b`` and the cross products
``H_g = X_g' W X_g``, so a draw costs ``O(G^2)``, not ``O(N)``. For coefficient ``j``
with bread ``A = (X'WX)^{-1}``::

    numerator_b   = sum_g C_g v_gb,                C_g = e_j' A S_g
    se*_b^2       = c * sum_g (C_g v_gb - sum_h K_gh v_hb)^2,   K_gh = e_j' A H_g A S_h

and ``t*_b = numerator_b / se*_b`` (the CRV1 statistic of the bootstrap sample,
centred at the null for WCR). Under ``beta_j = r`` the restricted scores are linear in
``r``, so ``t*(r)`` and the p-value can be evaluated for any ``r`` at ``O(B)`` cost, and
the confidence interval is found by inverting the test (Roodman et al. 2019, Section
3.5): the ``r`` at which the p-value crosses ``alpha``.

The regression must be the one actually estimated: fixed effects that are *not* nested
in the clusters (the period effects) are columns of ``X``; only effects nested in the
clusters (unit effects when every unit lies in one cluster) may be partialled out
first, because multiplying residuals by cluster weights keeps them orthogonal to such
effects and no others.

Subcluster bootstrap (MacKinnon & Webb 2018, Econometrics Journal 21(2)): with
``bootcluster="unit"`` the weights are drawn per unit (a finer level, nested in the
clusters) while the statistic keeps its cluster-robust variance. With ``F`` fine groups
the cluster sums become ``sum_{f in g} C_f v_f - sum_f K_gf v_f``, a ``G x F`` matrix
per draw block instead of ``G x G``. MacKinnon & Webb find it more reliable than
cluster-level weights when few clusters are treated, at the cost of assuming the
units' scores are independent within a cluster under the null.

The p-value is the share of draws with ``|t*| >= |t|``; the small-sample factor ``c``
multiplies ``t`` and ``t*`` alike, so it does not change the p-value. Ties are counted
(to a relative 1e-10): under enumeration the restricted bootstrap's all-ones pattern
reproduces the observed statistic exactly, and so does the all-minus-ones one in
absolute value, so a strict ``>`` (boottest, fwildclusterboot, wildboottest) leaves the
count to rounding error; counting them gives the exact test, whose p-value is never
below ``2 / 2^G``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from scipy import sparse

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.inference.inversion import invert
from evaluatie.inference.seeds import DEFAULT_SEED

#: Bootstrap weight distributions.
WEIGHTS = ("rademacher", "webb")
_WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])
# Draws are processed in blocks of at most this many cluster x draw entries (memory).
_BLOCK = 1_000_000
# |t*| >= |t| up to rounding: a draw that reproduces the statistic counts as extreme
_TIE = 1.0 - 1e-10


@dataclass(frozen=True)
class WildBootstrap:
    """Settings of a wild cluster bootstrap (see the module docstring).

    ``draws`` bootstrap samples (fewer when all sign patterns are enumerated), weights
    ``"rademacher"`` or ``"webb"``, ``restricted`` (WCR, the default) or not (WCU),
    ``seed`` for the weights (default :data:`DEFAULT_SEED`: reruns are identical),
    ``bootcluster`` the level the weights are drawn at: ``"cluster"`` or ``"unit"``
    (the subcluster bootstrap, module docstring).
    """

    draws: int = 9999
    weights: Literal["rademacher", "webb"] = "rademacher"
    restricted: bool = True
    seed: int | None = None
    bootcluster: Literal["cluster", "unit"] = "cluster"

    def __post_init__(self) -> None:
        if isinstance(self.draws, bool) or not isinstance(self.draws, int) or self.draws < 99:
            raise ParameterError(f"draws must be an integer >= 99, got {self.draws!r}")
        if self.weights not in WEIGHTS:
            raise ParameterError(f"weights must be one of {WEIGHTS}, got {self.weights!r}")
        if self.bootcluster not in ("cluster", "unit"):
            raise ParameterError(
                f"bootcluster must be 'cluster' or 'unit', got {self.bootcluster!r}"
            )

    @property
    def name(self) -> str:
        name = "WCR" if self.restricted else "WCU"
        return name if self.bootcluster == "cluster" else f"{name}, weights per unit (subcluster)"


@dataclass(frozen=True)
class Weights:
    """The ``G x B`` bootstrap weights, kept as ``int8`` indices into ``points`` and
    expanded one block of draws at a time: with weights per unit (9,552 units x 9,999
    draws) the float matrix alone would take 760 MB."""

    index: np.ndarray
    points: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.index.shape)

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        return self.points[self.index[key]]

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        return self.points[self.index] if dtype is None else self.points[self.index].astype(dtype)


def draw_weights(n_groups: int, settings: WildBootstrap) -> tuple[Weights, bool]:
    """The ``G x B`` weights (one row per cluster, or per unit for the subcluster
    bootstrap) and whether they enumerate every pattern.

    Rademacher weights enumerate all ``2^G`` sign patterns when that is at most
    ``draws``; Webb weights all ``6^G`` patterns likewise. Otherwise ``draws`` random
    draws from ``numpy.random.default_rng(seed)``.
    """
    points = np.array([-1.0, 1.0]) if settings.weights == "rademacher" else _WEBB
    if len(points) ** n_groups <= settings.draws:
        grid = np.array(list(itertools.product(range(len(points)), repeat=n_groups)), np.int8)
        return Weights(np.ascontiguousarray(grid.T), points), True
    rng = np.random.default_rng(DEFAULT_SEED if settings.seed is None else settings.seed)
    index = rng.integers(0, len(points), size=(n_groups, settings.draws), dtype=np.int8)
    return Weights(index, points), False


@dataclass(frozen=True)
class ClusterMoments:
    """Per-group cross products of a weighted regression ``y = X b + u``.

    The groups are the level the bootstrap weights are drawn at: the clusters, or finer
    groups nested in them (``member``: the cluster of each group; ``None`` when the
    groups are the clusters). ``xwx`` (F x k x k), ``xwy`` (F x k); ``bread``
    ``(X'WX)^{-1}``; ``beta`` the estimate; ``factor`` the small-sample factor of the
    CRV1 variance.
    """

    xwx: np.ndarray
    xwy: np.ndarray
    bread: np.ndarray
    beta: np.ndarray
    factor: float
    member: np.ndarray | None = None

    @classmethod
    def from_arrays(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        cluster: np.ndarray,
        n_clusters: int,
        *,
        weights: np.ndarray | None = None,
        factor: float = 1.0,
        fine: tuple[np.ndarray, int] | None = None,
    ) -> ClusterMoments:
        """Sum ``x' W x`` and ``x' W y`` within clusters (codes ``0..G-1``), or within
        the ``fine`` groups (codes, count) nested in them."""
        member = None
        if fine is not None:
            codes, n_fine = fine
            member = np.zeros(n_fine, dtype=np.intp)
            member[codes] = cluster
            cluster, n_clusters = codes, n_fine
        x = np.asarray(x, dtype=float).reshape(len(y), -1)
        xw = x if weights is None else x * weights[:, None]
        k = x.shape[1]
        xwx = np.empty((n_clusters, k, k))
        for i in range(k):  # one bincount per pair: no n x k x k temporary
            for j in range(i, k):
                xwx[:, i, j] = xwx[:, j, i] = np.bincount(
                    cluster, weights=xw[:, i] * x[:, j], minlength=n_clusters
                )
        xwy = np.stack(
            [np.bincount(cluster, weights=xw[:, j] * y, minlength=n_clusters) for j in range(k)],
            axis=1,
        )
        gram = xwx.sum(axis=0)
        try:
            bread = np.linalg.inv(gram)
        except np.linalg.LinAlgError:
            raise DesignError("the regressors are collinear: no bootstrap possible") from None
        return cls(xwx, xwy, bread, bread @ xwy.sum(axis=0), float(factor), member)

    @property
    def n_groups(self) -> int:
        """Groups the weights are drawn for."""
        return int(self.xwy.shape[0])

    @property
    def n_clusters(self) -> int:
        return self.n_groups if self.member is None else int(self.member.max()) + 1

    def scores(self, beta: np.ndarray) -> np.ndarray:
        """Group sums ``S_f = X_f'W y_f - X_f'W X_f beta`` (k x F)."""
        return (self.xwy - self.xwx @ beta).T

    @cached_property
    def _indicator(self) -> sparse.csr_matrix:
        """Cluster x group membership, built once: every draw block sums through it."""
        assert self.member is not None
        groups = np.arange(self.n_groups)
        return sparse.csr_matrix(
            (np.ones(self.n_groups), (self.member, groups)), shape=(self.n_clusters, self.n_groups)
        )

    def by_cluster(self, values: np.ndarray) -> np.ndarray:
        """Sum the rows of ``values`` (one per group) within clusters."""
        if self.member is None:
            return values
        return np.asarray(self._indicator @ values)

    def cluster_xwx(self) -> np.ndarray:
        """``X_g'W X_g`` per cluster (G x k x k)."""
        if self.member is None:
            return self.xwx
        return self.by_cluster(self.xwx.reshape(self.n_groups, -1)).reshape(-1, *self.xwx.shape[1:])

    def crv1(self, beta: np.ndarray | None = None) -> np.ndarray:
        """CRV1 covariance ``c A (sum_g S_g S_g') A`` at ``beta`` (default the estimate)."""
        s = self.by_cluster(self.scores(self.beta if beta is None else beta).T).T
        return self.factor * self.bread @ (s @ s.T) @ self.bread


@dataclass(frozen=True)
class WildTest:
    """A bootstrap test: the statistic, its p-value and what produced it.

    ``ci`` is the confidence interval by test inversion (NaN where not computed);
    ``enumerated``: all sign patterns were used (an exact, deterministic p-value);
    ``resolution``: the smallest possible nonzero p-value, ``1 / draws``.
    """

    statistic: float
    p: float
    draws: int
    enumerated: bool
    ci: tuple[float, float] = (math.nan, math.nan)

    @property
    def resolution(self) -> float:
        return 1.0 / self.draws


@dataclass(frozen=True)
class _Path:
    """``t*(r)`` and ``t(r)`` for one coefficient, as functions of the null value ``r``
    (built by :func:`_paths`): per draw, the numerator ``n0 - r n1`` and the variance
    ``d00 - 2 r d01 + r^2 d11`` of the bootstrap t statistic."""

    beta_j: float
    se_hat: float
    n0: np.ndarray
    n1: np.ndarray
    d00: np.ndarray
    d01: np.ndarray
    d11: np.ndarray
    factor: float
    restricted: bool

    def p(self, r: float) -> float:
        """Share of draws with ``|t*(r)| >= |t(r)|`` (ties counted, module docstring)."""
        t = (self.beta_j - r) / self.se_hat
        if self.restricted:
            num = self.n0 - r * self.n1
            den = self.d00 - 2.0 * r * self.d01 + r * r * self.d11
        else:  # WCU: the bootstrap is centred at the estimate, whatever the null
            num, den = self.n0, self.d00
        with np.errstate(divide="ignore", invalid="ignore"):
            t_star = num / np.sqrt(self.factor * np.maximum(den, 0.0))
        return float(np.mean(np.abs(t_star) >= abs(t) * _TIE))


def wild_t_test(
    m: ClusterMoments,
    j: int,
    v: Weights,
    *,
    restricted: bool = True,
    enumerated: bool = False,
    alpha: float | None = 0.05,
    null: float = 0.0,
) -> WildTest:
    """Bootstrap p-value of ``beta_j = null`` and, with ``alpha``, the ``1 - alpha``
    interval by inversion (module docstring). ``v``: weights from :func:`draw_weights`."""
    return wild_t_tests(
        m, [j], v, restricted=restricted, enumerated=enumerated, alpha=alpha, null=null
    )[0]


def wild_t_tests(
    m: ClusterMoments,
    rows: list[int],
    v: Weights,
    *,
    restricted: bool = True,
    enumerated: bool = False,
    alpha: float | None = 0.05,
    null: float = 0.0,
) -> list[WildTest]:
    """:func:`wild_t_test` of each coefficient in ``rows``, from one pass over ``v``."""
    tests = []
    for path in _paths(m, rows, v, restricted):
        t = (path.beta_j - null) / path.se_hat
        ci = (math.nan, math.nan)
        if alpha is not None:
            ci = invert(path.p, path.beta_j, path.se_hat, alpha)
        tests.append(WildTest(float(t), path.p(null), int(v.shape[1]), enumerated, ci))
    return tests


def _paths(m: ClusterMoments, rows: list[int], v: Weights, restricted: bool) -> list[_Path]:
    """The bootstrap paths of the coefficients ``rows``, from one pass over the draws.

    For coefficient ``j`` with ``A`` the bread and ``S`` the group scores at the
    restricted (or unrestricted) estimate, the bootstrap score of cluster ``g`` is
    ``z_g = sum_{f in g} c_f v_f - e_j'A H_g A S v`` with ``c = e_j'A S`` (and the same
    with the scores' change per unit of the null, ``S1``). Stacked over coefficients, a
    block of draws is one sparse product (the first sum) and one dense product (``A S
    v``) for all of them: a pass per coefficient read the 5,880 x 9,999 weights once per
    coefficient (ten in the grant report's gap difference, 1.7 s).
    """
    a, k = m.bread, len(m.beta)
    cov = m.crv1()
    cluster_xwx = m.cluster_xwx()  # G x k x k
    c_rows, as_rows, left = [], [], []
    for j in rows:
        aj = a[j]
        if restricted:
            d = a[:, j] / a[j, j]
            s0 = m.scores(m.beta - d * m.beta[j])  # restricted estimate at r = 0; + r d
            s1 = (m.xwx @ d).T  # scores decrease by r * H_f d
        else:
            s0, s1 = m.scores(m.beta), np.zeros((k, m.n_groups))
        c_rows += [aj @ s0, aj @ s1]
        as_rows += [a @ s0, a @ s1]
        left += [aj @ cluster_xwx] * 2  # (G, k): e_j' A H_g
    c = np.stack(c_rows)  # 2J x F: (c0, c1) per coefficient
    a_s = np.concatenate(as_rows)  # 2J k x F
    lefts = np.stack(left)  # 2J x G x k
    n_rows, n_clusters = len(c_rows), m.n_clusters
    by_cluster = None
    if m.member is not None:  # row (i, g) sums c_i over the groups f of cluster g
        groups = np.arange(m.n_groups)
        by_cluster = sparse.csr_matrix(
            (c.ravel(), ((np.arange(n_rows)[:, None] * n_clusters + m.member).ravel(),
                         np.tile(groups, n_rows))),
            shape=(n_rows * n_clusters, m.n_groups),
        )  # fmt: skip
    draws = v.shape[1]
    n = np.empty((n_rows, draws))  # (n0, n1) per coefficient
    d00, d01, d11 = (np.empty((len(rows), draws)) for _ in range(3))
    block = max(1, _BLOCK // max(m.n_groups, n_rows * n_clusters))
    for start in range(0, draws, block):
        vb = v[:, start : start + block]
        first = (
            c[:, :, None] * vb[None]
            if by_cluster is None
            else np.asarray(by_cluster @ vb).reshape(n_rows, n_clusters, -1)
        )
        z = first - np.matmul(lefts, (a_s @ vb).reshape(n_rows, k, -1))  # 2J x G x b
        z0, z1 = z[0::2], z[1::2]
        sl = slice(start, start + vb.shape[1])
        n[:, sl] = c @ vb
        d00[:, sl] = np.einsum("jgb,jgb->jb", z0, z0)
        d01[:, sl] = np.einsum("jgb,jgb->jb", z0, z1)
        d11[:, sl] = np.einsum("jgb,jgb->jb", z1, z1)
    return [
        _Path(
            float(m.beta[j]),
            math.sqrt(cov[j, j]),
            n[2 * i],
            n[2 * i + 1],
            d00[i],
            d01[i],
            d11[i],
            m.factor,
            restricted,
        )
        for i, j in enumerate(rows)
    ]


def wild_wald_test(
    m: ClusterMoments,
    terms: list[int],
    v: Weights,
    *,
    restricted: bool = True,
    enumerated: bool = False,
) -> WildTest:
    """Bootstrap p-value of the joint null ``beta_J = 0`` with the CRV1 Wald statistic.

    The bootstrap Wald statistic uses each draw's own cluster-robust covariance, so a
    nearly singular covariance (few treated clusters, many leads) is reproduced in the
    draws rather than trusted: the p-value stays valid where the chi-square one fails.
    """
    a, k = m.bread, len(m.beta)
    r = np.zeros((len(terms), k))
    r[np.arange(len(terms)), terms] = 1.0
    if restricted:
        middle = np.linalg.pinv(r @ a @ r.T)
        b = m.beta - a @ r.T @ middle @ (r @ m.beta)
    else:
        b = m.beta
    s = m.scores(b)  # k x F
    p = r @ a  # q x k
    ps = p @ s  # q x F
    # u_gb = sum_{f in g} P S_f v_fb - P H_g A S v_b
    ph = np.einsum("qk,gkl->gql", p, m.cluster_xwx())  # G x q x k
    a_s = a @ s  # k x F
    est = r @ m.beta
    vc = m.crv1()[np.ix_(terms, terms)]
    stat = float(est @ np.linalg.pinv(vc) @ est)
    stars = np.empty(v.shape[1])
    block = max(1, _BLOCK // max(m.n_clusters * len(terms), m.n_groups))
    for start in range(0, v.shape[1], block):
        vb = v[:, start : start + block]
        # R (b* - b) for each draw: the restricted draws are centred at the null, the
        # unrestricted ones at the estimate, so both are compared with the null 0
        num = (ps @ vb).T  # b x q
        u = np.stack([m.by_cluster(row[:, None] * vb) for row in ps]) - np.einsum(
            "gql,lb->qgb", ph, a_s @ vb
        )  # q x G x b
        cov = m.factor * np.einsum("qgb,rgb->bqr", u, u)
        stars[start : start + vb.shape[1]] = np.einsum(
            "bq,bqr,br->b", num, np.linalg.pinv(cov), num
        )
    return WildTest(stat, float(np.mean(stars >= stat * _TIE)), int(v.shape[1]), enumerated)
