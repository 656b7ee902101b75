r"""Randomization inference for a regression with unit and period effects.

Under the sharp null of no effect the outcome does not depend on which units were
treated, so the estimate that other assignments *would* have given is its null
distribution (Fisher 1935; for difference-in-differences with few treated clusters
MacKinnon & Webb 2020, J. Econometrics 218(2); Conley & Taber 2011). The assignments
are re-drawn at the level where treatment was assigned (gemeenten, or schools),
keeping the design: the same number of assignment units on each treatment path (the
same adoption calendar), only *which* units get which path changes. When the distinct
assignments number at most ``draws`` they are all enumerated and the p-value is exact
(one treated gemeente of 275: 275 assignments).

Two statistics: the coefficient, or its cluster-robust t statistic (MacKinnon & Webb
2020 find the t version more robust to treated clusters that differ from the rest,
e.g. in size). The p-value is the share of assignments whose statistic is at least as
large in absolute value as the observed one (the observed assignment counted):
exact in finite samples when the assignment was random, and an approximation that
assumes the units are exchangeable when it was not.

Speed. Every regressor is a *path over periods* per assignment unit (a 0/1 adoption
path, a dose times period indicators, relative-time dummies), so with unit effects
partialled out and period dummies ``T`` as explicit regressors (Frisch-Waugh-Lovell),
all a permutation needs are small per-unit sums: for assignment unit ``a`` with rows
``i`` and ``E`` the period indicators, ``Q_a = E_a' W M E_a`` (periods x periods),
``q_a = E_a' W y~`` and ``M_a = T~_a' W E_a``. An assignment that gives ``a`` the paths
``P`` (periods x k) has ``X_a' W y~ = P' q_a``, ``X_a' W X_a = P' Q_a P`` and
``T~_a' W X_a = M_a P``; the coefficient and the CRV1 variance follow from these and
from per-cluster sums that do not change. A permutation costs ``O(units x k x periods)``,
not a pass over the rows, and reproduces :func:`evaluatie.twfe` exactly for the
observed assignment.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.inference.seeds import DEFAULT_SEED

STATISTICS = ("t", "coefficient")


@dataclass(frozen=True)
class Randomization:
    """Settings: ``draws`` re-assignments (all of them when there are at most that many),
    the ``statistic`` (``"t"`` or ``"coefficient"``) and the ``seed`` (default fixed)."""

    draws: int = 4999
    statistic: Literal["t", "coefficient"] = "t"
    seed: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.draws, bool) or not isinstance(self.draws, int) or self.draws < 99:
            raise ParameterError(f"draws must be an integer >= 99, got {self.draws!r}")
        if self.statistic not in STATISTICS:
            raise ParameterError(f"statistic must be one of {STATISTICS}, got {self.statistic!r}")


def n_assignments(labels: np.ndarray) -> int:
    """Distinct assignments of the labels to the units: a multinomial coefficient."""
    _, counts = np.unique(labels, return_counts=True)
    total = math.factorial(int(counts.sum()))
    for c in counts:
        total //= math.factorial(int(c))
    return total


def assignments(labels: np.ndarray, settings: Randomization) -> tuple[np.ndarray, bool]:
    """Re-assignments of ``labels`` (one per assignment unit) as rows of a matrix, the
    observed one first, and whether they are all of them (exact enumeration).

    Labels that are small non-negative integers come back in the smallest integer type
    holding them: 5,000 draws of 5,780 schools are 29 MB as bytes, and only writing the
    first touch of 235 MB of int64 took 0.6 s."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu" and labels.size and labels.min() >= 0:
        labels = labels.astype(np.min_scalar_type(labels.max()))
    if n_assignments(labels) <= settings.draws + 1:
        return _enumerate(labels), True
    seed = DEFAULT_SEED if settings.seed is None else settings.seed
    order = _shuffled_positions(labels.size, settings.draws, seed)
    out = np.empty((settings.draws + 1, labels.size), dtype=labels.dtype)
    out[0] = labels
    # Indexing reads the small positions as they are; np.take first cast all of them to
    # intp (231 MB for 5,000 x 5,780, 0.5 s of first touches, on every call)
    out[1:] = labels[order]
    return out, False


#: Shuffled positions kept per process, by (units, draws, seed): at most this many
#: bytes in all, the most recently used kept.
_POSITIONS_BYTES = 256 * 2**20
_POSITIONS: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()


def _shuffled_positions(n: int, draws: int, seed: int) -> np.ndarray:
    """``draws`` shuffles of the positions ``0..n-1`` from ``seed`` (read-only).

    Numpy's shuffle swaps positions whatever the values, so ``rng.permutation(labels)``
    is ``labels[rng.permutation(n)]``: the draws depend on the number of assignment
    units and the seed only. A grant report's TWFE test, its inference table and its
    robustness table's TWFE fit re-assign the same 5,780 schools with the same seed,
    and shuffling 5,000 x 5,780 positions takes about 0.5 s: they are shuffled once."""
    key = (n, draws, seed)
    if key in _POSITIONS:
        _POSITIONS.move_to_end(key)
        return _POSITIONS[key]
    order = permutations(
        np.arange(n, dtype=np.min_scalar_type(max(n - 1, 0))), draws, np.random.default_rng(seed)
    )
    order.flags.writeable = False
    if order.nbytes <= _POSITIONS_BYTES:
        _POSITIONS[key] = order
        while sum(kept.nbytes for kept in _POSITIONS.values()) > _POSITIONS_BYTES:
            _POSITIONS.popitem(last=False)
    return order


def permutations(
    labels: np.ndarray, n: int, rng: np.random.Generator, *, observed_first: bool = False
) -> np.ndarray:
    """``n`` random permutations of ``labels`` as rows (after ``labels`` itself with
    ``observed_first``): the draws of ``rng.permutation(labels)`` in turn.

    Each row is ``labels`` taken in the order of a shuffle of the positions as intp, for
    which numpy compiles a faster swap loop than for other item sizes; its swaps do not
    depend on the items, so these are the same permutations, and the generator is left
    in the same state. The shuffled positions (2 bytes for the grant report's 5,780
    schools) took 0.44-0.47 s instead of 0.76-0.87 s for 5,000 x 5,780 shuffled as they
    are, and filling rows in place avoids stacking 5,000 copies (half the time once)."""
    first = int(observed_first)
    out = np.empty((n + first, labels.size), dtype=labels.dtype)
    if first:
        out[0] = labels
    positions = np.arange(labels.size)
    order = np.empty_like(positions)
    for row in out[first:]:
        order[:] = positions
        rng.shuffle(order)  # what rng.permutation does to its own copy of labels
        np.take(labels, order, out=row)
    return out


def _enumerate(labels: np.ndarray) -> np.ndarray:
    """Every distinct arrangement of a multiset, the observed first."""
    values, counts = np.unique(labels, return_counts=True)
    n = labels.size
    out: list[np.ndarray] = []

    def place(free: np.ndarray, level: int, current: np.ndarray) -> None:
        if level == len(values) - 1:
            current[free] = values[level]
            out.append(current.copy())
            return
        for chosen in itertools.combinations(range(free.size), int(counts[level])):
            current[free[list(chosen)]] = values[level]
            rest = np.delete(free, list(chosen))
            place(rest, level + 1, current)

    place(np.arange(n), 0, np.empty(n, dtype=labels.dtype))
    grid = np.stack(out)
    first = np.flatnonzero((grid == labels).all(axis=1))[0]
    order = [first, *(i for i in range(len(grid)) if i != first)]
    return grid[order]


@dataclass(frozen=True)
class PathDesign:
    """Per-assignment-unit sums of a unit-partialled regression (module docstring).

    ``q`` (A x P), ``big_q`` (A x P x P), ``m`` (A x F x P) per assignment unit over the
    ``P`` periods; ``e`` (G x F) and ``f`` (G x F x F) per cluster for the ``F`` fixed
    regressors (period dummies, covariates); ``ftf_inv`` their inverse Gram matrix;
    ``cluster_of`` the cluster of each assignment unit; ``factor`` the CRV1 factor.
    """

    q: np.ndarray
    big_q: np.ndarray
    m: np.ndarray
    e: np.ndarray
    f: np.ndarray
    ftf_inv: np.ndarray
    cluster_of: np.ndarray
    factor: float

    @classmethod
    def build(
        cls,
        y: np.ndarray,
        fixed: np.ndarray,
        *,
        unit: np.ndarray,
        period: np.ndarray,
        n_periods: int,
        assign: np.ndarray,
        n_assign: int,
        cluster: np.ndarray,
        n_clusters: int,
        weights: np.ndarray | None,
        factor: float,
    ) -> PathDesign:
        """From unit-demeaned ``y`` and ``fixed`` regressors (rows), the row codes of
        unit, period, assignment unit and cluster. Assignment units must lie within one
        cluster each and units within one assignment unit each."""
        w = np.ones(y.size) if weights is None else weights
        _require_nested(unit, assign, "unit", "assignment unit")
        _require_nested(assign, cluster, "assignment unit", "cluster")
        cluster_of = np.zeros(n_assign, dtype=np.intp)
        cluster_of[assign] = cluster
        fixed = fixed.reshape(y.size, -1)
        n_fixed = fixed.shape[1]
        ftf = _sums(fixed, fixed, w, np.zeros(y.size, dtype=np.intp), 1)[0]
        ftf_inv = np.linalg.inv(ftf) if n_fixed else np.zeros((0, 0))
        y_hat = y - fixed @ (ftf_inv @ (fixed.T @ (w * y))) if n_fixed else y
        # per (assignment unit, period) sums; Q_a via the units' weights by period
        cell = assign * n_periods + period
        size = n_assign * n_periods
        q = np.bincount(cell, weights=w * y_hat, minlength=size).reshape(n_assign, n_periods)
        m = (
            np.stack(
                [
                    np.bincount(cell, weights=w * fixed[:, j], minlength=size).reshape(
                        n_assign, n_periods
                    )
                    for j in range(n_fixed)
                ],
                axis=1,
            )
            if n_fixed
            else np.zeros((n_assign, 0, n_periods))
        )
        n_units = int(unit.max()) + 1
        unit_period = np.bincount(
            unit * n_periods + period, weights=w, minlength=n_units * n_periods
        ).reshape(n_units, n_periods)
        unit_total = unit_period.sum(axis=1).astype(float)
        unit_assign = np.zeros(n_units, dtype=np.intp)
        unit_assign[unit] = assign
        big_q = np.zeros((n_assign, n_periods, n_periods))
        present = unit_total > 0
        outer = (unit_period[present, :, None] * unit_period[present, None, :]) / unit_total[
            present, None, None
        ]
        np.add.at(big_q, unit_assign[present], -outer)
        diag = np.bincount(cell, weights=w, minlength=size).reshape(n_assign, n_periods)
        big_q[:, np.arange(n_periods), np.arange(n_periods)] += diag
        e = (
            np.stack(
                [
                    np.bincount(cluster, weights=w * fixed[:, j] * y_hat, minlength=n_clusters)
                    for j in range(n_fixed)
                ],
                axis=1,
            )
            if n_fixed
            else np.zeros((n_clusters, 0))
        )
        f = _sums(fixed, fixed, w, cluster, n_clusters)
        return cls(q, big_q, m, e, f, ftf_inv, cluster_of, float(factor))

    @property
    def n_clusters(self) -> int:
        return int(self.e.shape[0])

    def outcome_of(self, paths: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
        """``(q, e)`` of regressor ``j`` of the assignment ``paths`` (A x P x k) used as
        the outcome: subtracting ``r`` times them from ``(self.q, self.e)`` gives the
        design of the outcome ``y - r x_j`` (the sharp null of an effect ``r``)."""
        path = paths[:, :, j]
        # Only the units with a non-zero path (the treated: 5% of the schools in a placebo
        # draw of the MDE) contribute; the others' rows stay exactly zero.
        active = np.flatnonzero(np.any(path != 0, axis=1))
        x_t = np.zeros(self.q.shape)
        x_t[active] = np.einsum("apr,ar->ap", self.big_q[active], path[active])  # E_a' W x~
        fx = np.zeros((path.shape[0], self.m.shape[1]))
        fx[active] = np.einsum("afp,ap->af", self.m[active], path[active])  # F_a' W x~
        coef = self.ftf_inv @ fx.sum(axis=0)
        q1 = x_t - np.einsum("afp,f->ap", self.m, coef)
        e1 = np.zeros_like(self.e)
        np.add.at(e1, self.cluster_of[active], fx[active])
        e1 -= self.f @ coef
        return q1, e1

    def label_pieces(self, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per assignment unit and label of ``paths`` (L x P x k): ``P'QP`` (A L k k) and
        ``M P`` (A L f k). They do not depend on the assignments, so a caller fitting
        many chunks of them computes these once and passes them to :meth:`fit` (they
        were 90% of a randomization event study's time when recomputed per chunk)."""
        xwx_al = np.einsum("lpk,apr,lrm->alkm", paths, self.big_q, paths, optimize=True)
        fwx_al = np.einsum("afp,lpk->alfk", self.m, paths, optimize=True)
        # contiguous, so that each draw's gather takes whole rows (_Picker.sums)
        return np.ascontiguousarray(xwx_al), np.ascontiguousarray(fwx_al)

    def outcome_products(
        self, outcomes: list[tuple[np.ndarray, np.ndarray]], paths: np.ndarray
    ) -> np.ndarray:
        """Per assignment unit and label of ``paths``, ``X' W y`` of each outcome
        ``(q, e)``, stacked (A x L x k x outcomes). Like :meth:`label_pieces` they do not
        depend on the assignments, so a caller fitting many chunks computes them once
        (recomputing them per chunk of 18 assignments was 13% of a dose event study's
        test; stacking them per chunk 15% of a grant report's event study)."""
        # (A P) x (L P k) -> A L k as one BLAS product: an einsum here took 60% of the loop
        return np.stack([np.tensordot(q, paths, axes=([1], [1])) for q, _ in outcomes], axis=-1)

    def fit(
        self,
        plans: np.ndarray,
        paths: np.ndarray,
        outcomes: list[tuple[np.ndarray, np.ndarray]] | None = None,
        pieces: tuple[np.ndarray, np.ndarray] | None = None,
        products: np.ndarray | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Fit every assignment in ``plans`` (draws x A: the label of the path each
        assignment unit gets) with the label's ``paths`` (L x P x k).

        Returns the bread ``(X_M' W X_M)^{-1}`` (draws x k x k) and, for each outcome
        ``(q, e)`` (default the regression's own), the coefficients (draws x k) and the
        cluster scores (draws x G x k); :meth:`crv1` turns them into covariances. The
        per-(unit, label) products (:meth:`label_pieces` and :meth:`outcome_products`,
        computed here unless given) are computed once, so a draw is a gather and sums.
        """
        outcomes = outcomes or [(self.q, self.e)]
        if products is None:
            products = self.outcome_products(outcomes, paths)
        fitted = self.assign(plans, paths, pieces, outcomes=len(outcomes))
        beta, scores = self.solve(fitted, outcomes, products)
        n_out = len(outcomes)
        return (
            fitted.bread,
            [beta[..., o] for o in range(n_out)],
            [scores[..., o] for o in range(n_out)],
        )

    def assign(
        self,
        plans: np.ndarray,
        paths: np.ndarray,
        pieces: tuple[np.ndarray, np.ndarray] | None = None,
        *,
        outcomes: int = 1,
    ) -> Assigned:
        """The part of :meth:`fit` that does not depend on the outcome: a caller solving
        many outcomes for the same assignments (the MDE's reference assignments, one
        outcome per placebo draw) computes it once and says how many (``outcomes``):
        that decides whether the scores' per-cluster quadratic term is formed here
        (:func:`_quad_pays`)."""
        pick = _Picker(plans, paths, self.cluster_of, self.n_clusters)
        xwx_al, fwx_al = self.label_pieces(paths) if pieces is None else pieces
        xwx, xwx_g = pick.sums(xwx_al)  # d k k, d g k k
        fwx, fwx_g = pick.sums(fwx_al)  # d f k, d g f k
        # batched matrix products (BLAS) rather than einsum: this is the hot loop
        delta = np.matmul(self.ftf_inv, fwx)  # d f k
        gram = xwx - np.matmul(fwx.transpose(0, 2, 1), delta)
        bread = _inverse(gram)
        if not _quad_pays(k=delta.shape[2], f=delta.shape[1], outcomes=outcomes):
            return Assigned(pick, bread, delta, (xwx_g, fwx_g))
        delta_t = delta.transpose(0, 2, 1)[:, None]  # d 1 k f
        cross = np.matmul(delta_t, fwx_g)  # d g k l: sum_f delta_fk F_gfl
        # F_g delta for every (draw, cluster) as one BLAS product (d k g f): a batched
        # matmul of (f x f) by (f x k) took five times as long with one regressor
        f_delta = np.tensordot(delta, self.f, axes=([1], [2])).transpose(0, 2, 3, 1)
        quad = xwx_g  # a new array of the sums: the terms in place, in the same order
        quad -= cross
        quad -= cross.swapaxes(-1, -2)
        quad += np.matmul(delta_t, f_delta)
        return Assigned(pick, bread, delta, quad)

    def solve(
        self,
        fitted: Assigned,
        outcomes: list[tuple[np.ndarray, np.ndarray]],
        products: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (draws x k x outcomes) and cluster scores (draws x G x k x
        outcomes) of the outcomes ``(q, e)`` with their products
        (:meth:`outcome_products`) under ``fitted``'s assignments. The outcomes are
        stacked, so that each step is one gather or one BLAS product for all of them:
        one at a time, the MDE's 24 outcomes per block of draws spent 60% of its time in
        per-outcome calls."""
        xwy, xwy_g = fitted.pick.sums(products)  # d k o, d g k o
        beta = np.matmul(fitted.bread, xwy)  # d k o
        e = np.stack([e for _, e in outcomes], axis=-1)  # g f o
        # sum_f e_gfo delta_dfk as one (d k) x (g o) product
        e_delta = np.tensordot(fitted.delta, e, axes=([1], [1]))  # d k g o
        scores = xwy_g  # d g k o, a new array of the sums: reused in place
        scores -= e_delta.transpose(0, 2, 1, 3)
        if isinstance(fitted.quad, tuple):
            self._subtract_quad_times(scores, *fitted.quad, fitted.delta, beta)
        else:
            scores -= np.matmul(fitted.quad, beta[:, None])
        return beta, scores

    def _subtract_quad_times(
        self,
        scores: np.ndarray,
        xwx_g: np.ndarray,
        fwx_g: np.ndarray,
        delta: np.ndarray,
        beta: np.ndarray,
    ) -> None:
        """``scores -= quad_g beta`` for every (draw, cluster) without forming ``quad``:
        with ``D = delta`` and ``S_g``, ``R_g`` the cluster sums of ``X'WX`` and
        ``F'WX``, ``quad_g = S_g - D'R_g - R_g'D + D'F_g D``, so ``quad_g beta`` is
        ``S_g beta - D'(R_g beta) - R_g'(D beta) + D'F_g(D beta)``: products with
        vectors, most of them one BLAS call per draw (:func:`_quad_pays` says when
        this is cheaper than forming ``quad``)."""
        d, g, k, o = scores.shape
        f = delta.shape[1]
        # S_g beta: per draw one (clusters k x k) by (k x outcomes) product
        scores -= np.matmul(xwx_g.reshape(d, g * k, k), beta).reshape(d, g, k, o)
        # D'(R_g beta): R_g beta as rows (cluster, outcome) of length f, times D
        r_beta = np.matmul(fwx_g.reshape(d, g * f, k), beta).reshape(d, g, f, o)
        r_beta = r_beta.transpose(0, 1, 3, 2).reshape(d, g * o, f)
        scores += np.matmul(r_beta, delta).reshape(d, g, o, k).transpose(0, 1, 3, 2)
        # R_g'(D beta)
        d_beta = np.matmul(delta, beta)  # d f o
        scores += np.matmul(fwx_g.transpose(0, 1, 3, 2), d_beta[:, None])
        # D'F_g(D beta): F_g (D beta) for every draw as one product, then as rows times D
        f_d_beta = np.tensordot(self.f, d_beta, axes=([2], [1]))  # g f d o
        f_d_beta = f_d_beta.transpose(2, 0, 3, 1).reshape(d, g * o, f)
        scores -= np.matmul(f_d_beta, delta).reshape(d, g, o, k).transpose(0, 1, 3, 2)

    def crv1(self, bread: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """CRV1 covariances (draws x k x k) from :meth:`fit`'s bread and scores."""
        meat = np.matmul(scores.transpose(0, 2, 1), scores)
        return self.factor * np.matmul(np.matmul(bread, meat), bread)


@dataclass(frozen=True)
class Assigned:
    """The outcome-free part of :meth:`PathDesign.fit` for a set of assignments: their
    sums (``pick``), the bread (d x k x k), the fixed regressors' projection ``delta``
    (d x f x k), and the per-cluster ``quad`` (d x g x k x k) of the scores, or where
    forming it does not pay (:func:`_quad_pays`) the cluster sums of ``X'WX`` and
    ``F'WX`` it is made of (d x g x k x k, d x g x f x k)."""

    pick: _Picker
    bread: np.ndarray
    delta: np.ndarray
    quad: np.ndarray | tuple[np.ndarray, np.ndarray]


def _quad_pays(*, k: int, f: int, outcomes: int) -> bool:
    """Whether forming the scores' per-cluster quadratic term (``k^2 (2f + 1) + f^2 k``
    operations per draw and cluster, then ``k^2`` per outcome) costs less than its
    product with each outcome's coefficients computed directly (``k^2 + 4fk + f^2``
    per outcome). Measured on the reports' designs (8 fixed regressors): with one
    regressor it pays, even for one outcome (73-80 against 87-117 ms a block of a
    grant report's TWFE test); with an event study's or a dose event study's 8
    regressors and one outcome it does not (5.3-6.3 against 3.6-3.8 and 8.7-12.1
    against 3.2-4.4 ms a block)."""
    formed = k * k * (2 * f + 1) + f * f * k + outcomes * k * k
    direct = outcomes * (k * k + 4 * f * k + f * f)
    return formed <= direct


class _Picker:
    """Sums over assignment units of per-(unit, label) pieces, for many assignments.

    ``plans`` (d x A) gives each assignment unit's label. A label whose path is zero
    (never treated) contributes nothing, so only the units with another label are
    gathered: with 12 treated gemeenten of 280, or 300 grant schools of 5,800, a small
    share of the ``d x A`` entries. Returns the total over units and the sum within
    each cluster.
    """

    def __init__(
        self, plans: np.ndarray, paths: np.ndarray, cluster_of: np.ndarray, n_clusters: int
    ) -> None:
        zero = np.all(paths.reshape(paths.shape[0], -1) == 0, axis=1)
        self.n_draws, self.n_clusters = plans.shape[0], n_clusters
        draw, unit = moved_positions(plans, np.flatnonzero(zero))
        key = draw * n_clusters + cluster_of[unit]
        n_pairs, n_rows = key.size, self.n_draws * n_clusters
        #: each moved unit's row in the flattened (unit, label) pieces
        self.pair = unit * paths.shape[0] + plans[draw, unit]
        self.n_pieces = plans.shape[1] * paths.shape[0]
        self.key: np.ndarray | None = None
        self.matrix: sparse.csr_matrix | None = None
        self.in_order = n_pairs == n_rows and bool(np.all(key == np.arange(n_rows)))
        if np.bincount(key, minlength=n_rows).max(initial=0) <= 1:
            # Where no cluster holds two moved units in one assignment (every gemeente its
            # own cluster), a (draw, cluster) row is one pair: placing the pairs is the
            # sum, and took half the time of the sparse product in a dose event study's test.
            self.key = key
        else:
            # one sparse (draw x cluster) x (unit, label) matrix sums every column of the
            # pieces at once, without gathering the pairs' rows first (a bincount per
            # column took 70% of the test).
            self.matrix = summing_matrix(key, self.pair, (n_rows, self.n_pieces))

    def sums(self, per_label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``per_label`` (A x L x ...) -> totals (d x ...) and cluster sums (d x G x ...)."""
        tail = per_label.shape[2:]
        flat = np.ascontiguousarray(per_label).reshape(self.n_pieces, -1)
        if self.matrix is not None:
            by_cluster = np.asarray(self.matrix @ flat)
        elif self.in_order:
            by_cluster = np.take(flat, self.pair, axis=0)  # every cluster once, in order
        else:
            by_cluster = np.zeros((self.n_draws * self.n_clusters, flat.shape[1]))
            by_cluster[self.key] = np.take(flat, self.pair, axis=0)
        by_cluster = by_cluster.reshape(self.n_draws, self.n_clusters, *tail)
        return by_cluster.sum(axis=1), by_cluster


def moved_positions(plans: np.ndarray, staying: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """The (draw, unit) positions of ``plans`` (draws x units) whose label is not one of
    ``staying`` (the untreated), in row order: the units each assignment moves.

    Compared label by label, in the flattened array: indexing a lookup table with the
    small-integer plans (1,166 draws x 5,780 schools) cast all of them to intp first
    (26 ms), and a two-dimensional ``nonzero`` took twice as long as a flat one (32
    against 15 ms)."""
    moved = np.ones(plans.shape, dtype=bool)
    for label in staying:
        moved &= plans != int(label)
    return np.divmod(np.flatnonzero(moved), plans.shape[1])


def summing_matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """The 0/1 matrix with ones at ``(rows, cols)``: its product with a table sums the
    table's rows ``cols`` into the rows ``rows``, reading each once (no gathered copy)."""
    return sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=shape)


def _inverse(gram: np.ndarray) -> np.ndarray:
    """Inverse of each Gram matrix; NaN where an assignment leaves a regressor without
    variation (e.g. the treatment moved to units not observed after adoption): such an
    assignment gives no estimate and drops out of the reference distribution."""
    k = gram.shape[-1]
    scale = np.sqrt(np.abs(np.diagonal(gram, axis1=1, axis2=2)))
    ref = np.maximum(scale.max(axis=1), 1e-300)
    flat = np.any(scale <= 1e-9 * ref[:, None], axis=1)
    out = np.full_like(gram, np.nan)
    good = ~flat
    if good.any():
        sub = gram[good]
        try:
            out[good] = np.linalg.inv(sub)
        except np.linalg.LinAlgError:
            out[good] = np.linalg.pinv(sub)
            sing = np.linalg.matrix_rank(sub) < k
            out[np.flatnonzero(good)[sing]] = np.nan
    return out


def _require_nested(inner: np.ndarray, outer: np.ndarray, inner_name: str, outer_name: str) -> None:
    first = np.full(int(inner.max()) + 1, -1, dtype=np.intp)
    first[inner] = outer
    if not np.array_equal(first[inner], outer):
        raise DesignError(
            f"every {inner_name} must lie within one {outer_name} for randomization "
            f"inference; some {inner_name}s span several"
        )


def _sums(a: np.ndarray, b: np.ndarray, w: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """``sum_{i in g} w_i a_i b_i'`` per group (n x p x q)."""
    out = np.empty((n, a.shape[1], b.shape[1]))
    for i in range(a.shape[1]):
        for j in range(b.shape[1]):
            out[:, i, j] = np.bincount(group, weights=w * a[:, i] * b[:, j], minlength=n)
    return out


@dataclass(frozen=True)
class RandomizationTest:
    """The observed statistic, the p-value, and how many assignments were compared."""

    statistic: float
    p: float
    draws: int
    enumerated: bool

    @property
    def resolution(self) -> float:
        return 1.0 / self.draws


def permutation_p(observed: float, stars: np.ndarray) -> float:
    """Share of assignments (the observed one among them) at least as extreme; an
    assignment that identifies no estimate (NaN) does not count."""
    stars = stars[np.isfinite(stars)]
    return float(np.mean(np.abs(stars) >= abs(observed) * (1 - 1e-12)))
