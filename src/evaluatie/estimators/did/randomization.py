"""Randomization inference for ATT(g,t) and its aggregations, vectorized over assignments.

The cohorts are re-assigned among the assignment units (the clusters when every unit of
a cluster has the same cohort, else the units), keeping how many units get each cohort
(:mod:`evaluatie.inference.randomization`). Without covariates every ATT(g,t) is a
weighted difference in mean changes (:func:`.drdid.did_means`), so an assignment's fit
only needs each assignment unit's weighted mean outcome by period and its total weight:
on that collapsed panel the estimates equal the unit-level ones. For cell ``k`` with
periods ``t, b``, treated indicator ``T`` and comparison indicator ``C`` (both functions
of the assignment) and ``ΔY = Y_t - Y_b``::

    ATT_k = Σ w T ΔY / Σ w T - Σ w C ΔY / Σ w C
    ψ_k,a = w_a [T_a (ΔY_a - m1) / Σ w T - C_a (ΔY_a - m0) / Σ w C]

(the influence function over ``n``, so that ``se² = Σ_a ψ_a²``: each assignment unit is
its own cluster). Aggregations are linear in the cells and the cohort shares
(:class:`.aggregate.Plan`), so a block of assignments is one batch of array products.
The statistic is the estimate or the estimate over that standard error, the same for
the observed and the re-drawn assignments.

Estimates and influence functions are linear in the outcome, so for the outcome
``y - r D`` (``D`` the observed treatment path: the sharp null of a constant effect
``r``) each assignment's statistic is ``(a0 - r a1) / sqrt(q(r))`` with ``q`` quadratic
in ``r``: the interval inverts the test at ``O(draws)`` per trial value
(:func:`evaluatie.inference.inversion.linear_test`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from evaluatie.core.errors import DesignError
from evaluatie.inference.inversion import linear_test
from evaluatie.inference.randomization import (
    Randomization,
    assignments,
    moved_positions,
    permutation_p,
    summing_matrix,
)

from ._panel import PanelData
from .aggregate import Plan

#: Elements of the largest (assignments x units x ...) array built at once.
_BLOCK = 4_000_000


@dataclass(frozen=True)
class Collapsed:
    """The assignment units of a panel: weighted mean outcome by period, total weight,
    cohort; ``unit_of``: the assignment unit of each unit of the panel."""

    y: np.ndarray
    weights: np.ndarray
    cohort: np.ndarray
    periods: np.ndarray
    unit_of: np.ndarray
    level: str

    @property
    def n(self) -> int:
        return int(self.y.shape[0])


def collapse(panel: PanelData, cluster_name: str | None) -> Collapsed:
    """Collapse ``panel`` to its assignment units (module docstring)."""
    if panel.x is not None:
        raise DesignError(
            "randomization inference for att_gt needs a fit without covariates (they would "
            "have to be re-fitted per assignment); use inference='analytic'"
        )
    codes = panel.cluster
    level = f"{cluster_name} clusters" if cluster_name else "units"
    if codes is not None:
        first = np.full(int(codes.max()) + 1, np.nan)
        first[codes] = panel.cohort
        if not np.array_equal(first[codes], panel.cohort, equal_nan=True):
            codes, level = None, "units"  # cohorts vary within clusters: assigned to units
    if codes is None:
        codes = np.arange(panel.n)
    n_a = int(codes.max()) + 1
    w = panel.weights
    weight = np.bincount(codes, weights=w, minlength=n_a)
    y = (
        np.stack(
            [
                np.bincount(codes, weights=w * panel.y[:, t], minlength=n_a)
                for t in range(panel.y.shape[1])
            ],
            axis=1,
        )
        / weight[:, None]
    )
    cohort = np.empty(n_a)
    cohort[codes] = panel.cohort
    return Collapsed(y, weight, cohort, panel.periods, codes, level)


@dataclass(frozen=True)
class CellLayout:
    """The ATT(g,t) cells of a fit: periods ``t_idx``, ``b_idx`` (positions), the fixed
    ``reference`` cells, and which cohort groups (rows: ``cohorts`` then never treated)
    are treated and comparison units in each cell (``H x K``). It depends on the number
    of units per cohort only, so it is the same for every re-assignment."""

    t_idx: np.ndarray
    b_idx: np.ndarray
    reference: np.ndarray
    treated: np.ndarray
    control: np.ndarray
    cohorts: np.ndarray


@dataclass(frozen=True)
class RandomizationResult:
    """Per row: the p-value and the interval by inversion; the number of assignments;
    for the cells, each assignment's statistics (the pre-trend test reuses them)."""

    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    draws: int
    enumerated: bool
    statistics: Statistics | None = field(default=None, repr=False, compare=False)
    #: the assignments (draws x assignment units: cohort group indices), which the
    #: aggregations and the pre-trend test of the same fit re-use instead of re-drawing
    plans: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Statistics:
    """Per assignment of a block (rows) and row of the result (columns): the estimate
    for the outcome and for the treatment path, and the three variance terms."""

    n0: np.ndarray
    n1: np.ndarray
    d00: np.ndarray
    d01: np.ndarray
    d11: np.ndarray


def randomize(
    c: Collapsed,
    layout: CellLayout,
    method: Randomization,
    alpha: float,
    plan: Plan | None = None,
    *,
    cells: RandomizationResult | None = None,
) -> RandomizationResult:
    """Randomization p-values and intervals of the cells (``plan=None``) or of an
    aggregation's levels followed by its overall estimate. ``cells``: the cells'
    result under the same ``method``, whose assignments are re-used."""
    plans, enumerated = _plans(c, layout, method, cells)
    stats = _collect(c, layout, plans, plan)
    n0, n1, d00, d01, d11 = stats.n0, stats.n1, stats.d00, stats.d01, stats.d11
    n_rows = n0.shape[1]
    p, lo, hi = (np.full(n_rows, np.nan) for _ in range(3))
    for j in range(n_rows):
        if not d00[0, j] > 0:  # a fixed reference cell (or no estimate): nothing to test
            continue
        p[j], lo[j], hi[j] = linear_test(
            n0[:, j],
            n1[:, j],
            d00[:, j],
            d01[:, j],
            d11[:, j],
            statistic=method.statistic,
            alpha=alpha,
        )
    if plan is not None:
        return RandomizationResult(p, lo, hi, len(plans), enumerated)
    return RandomizationResult(p, lo, hi, len(plans), enumerated, stats, plans)


def joint_test(
    c: Collapsed,
    layout: CellLayout,
    method: Randomization,
    rows: np.ndarray,
    *,
    cells: RandomizationResult | None = None,
) -> tuple[float, float, RandomizationResult]:
    """Randomization test that the cells ``rows`` are all zero (the pre-trends).

    The statistic is the sum of the cells' squared t statistics (of their squared
    estimates for ``statistic="coefficient"``): unlike a Wald statistic it needs no
    inverse of the cells' covariance, which is nearly singular when few clusters are
    treated; the randomization distribution makes any statistic a valid test.
    Returns the statistic, its p-value and the draws (as a result without intervals).
    ``cells``: the cells' randomization result under the same ``method``, whose
    assignments' statistics are reused instead of recomputed.
    """
    if cells is not None and cells.statistics is not None:
        stats, n_plans, enumerated = cells.statistics, cells.draws, cells.enumerated
    else:
        plans, enumerated = _plans(c, layout, method, cells)
        stats, n_plans = _collect(c, layout, plans, None), len(plans)
    squares = stats.n0[:, rows] ** 2
    if method.statistic == "t":
        with np.errstate(invalid="ignore", divide="ignore"):
            squares = squares / stats.d00[:, rows]
    total = squares.sum(axis=1)
    p = permutation_p(float(np.sqrt(total[0])), np.sqrt(total))
    nan = np.full(1, np.nan)
    return float(total[0]), p, RandomizationResult(np.array([p]), nan, nan, n_plans, enumerated)


def _plans(
    c: Collapsed, layout: CellLayout, method: Randomization, cells: RandomizationResult | None
) -> tuple[np.ndarray, bool]:
    if cells is not None and cells.plans is not None:
        return cells.plans, cells.enumerated
    group = np.searchsorted(layout.cohorts, c.cohort)  # never treated (inf) -> last group
    return assignments(group, method)


def _collect(c: Collapsed, layout: CellLayout, plans: np.ndarray, plan: Plan | None) -> Statistics:
    """:func:`assignment_statistics` of all ``plans``, in blocks that bound the memory."""
    n_rows = len(layout.t_idx) if plan is None else len(plan.levels) + 1
    n_cells = len(layout.t_idx)
    # Per assignment: its labels, and its groups' sums (_Members; the cells' variance
    # terms are the widest, 1 + 5 per cell); unequal weights in an aggregation also build
    # (units x cells) arrays.
    per_draw = c.n + layout.treated.shape[0] * (1 + 5 * n_cells)
    if plan is not None and not np.all(c.weights == c.weights[0]):
        per_draw += c.n * max(n_cells, n_rows)
    size = max(1, _BLOCK // per_draw)
    blocks = [
        assignment_statistics(c, layout, plans[i : i + size], plan)
        for i in range(0, len(plans), size)
    ]
    return Statistics(
        *(
            np.concatenate([getattr(s, name) for s in blocks])
            for name in ("n0", "n1", "d00", "d01", "d11")
        )
    )


class _Members:
    """The units of each cohort group in each assignment of a block, for group sums.

    The largest group (the never treated, usually) is not listed: its sums are the
    totals over all units minus those of the units moved out of it, so an assignment
    costs its few moved units rather than all of them (a dense ``draws x groups x units``
    product took 60% of a grant report's att_gt test). The moved units' sums are one
    sparse ``(draws x groups) x units`` product, which reads each moved unit's row once:
    gathering them into a ``draws x moved x columns`` array first and summing that took
    2-3 times as long."""

    def __init__(self, groups: np.ndarray, n_groups: int) -> None:
        self.n_draws, self.n_units = groups.shape
        self.n_groups = n_groups
        self.base = int(np.argmax(np.bincount(groups[0], minlength=n_groups)))
        draw, unit = moved_positions(groups, [self.base])
        label = groups[draw, unit]
        rows = draw * n_groups + label
        n_rows = self.n_draws * n_groups
        self.by_unit = summing_matrix(rows, unit, (n_rows, self.n_units))
        self.moved = summing_matrix(draw, unit, (self.n_draws, self.n_units))
        self._pairs = (rows, unit * n_groups + label)

    @functools.cached_property
    def by_pair(self) -> sparse.csr_matrix:
        """Like ``by_unit``, for a table of each unit's value in each group: its column
        ``(unit, group)`` holds the unit's value in the group it has in the assignment."""
        rows, cols = self._pairs
        shape = (self.n_draws * self.n_groups, self.n_units * self.n_groups)
        return summing_matrix(rows, cols, shape)

    def sums(self, values: np.ndarray, *, by_group: bool = False) -> np.ndarray:
        """Sums over each group's units (D x H x ...) of ``values`` (A x ...), or with
        ``by_group`` of ``values`` (A x H x ...) holding each unit's value in each group."""
        n_a, n_h = self.n_units, self.n_groups
        if by_group:
            tail = values.shape[2:]
            moved = self.by_pair @ values.reshape(n_a * n_h, -1)
            base = values[:, self.base].reshape(n_a, -1)
        else:
            tail = values.shape[1:]
            moved = self.by_unit @ values.reshape(n_a, -1)
            base = values.reshape(n_a, -1)
        out = np.asarray(moved).reshape(self.n_draws, n_h, -1)
        out[:, self.base] = base.sum(axis=0) - self.moved @ base
        return out.reshape(self.n_draws, n_h, *tail)


def assignment_statistics(
    c: Collapsed, layout: CellLayout, groups: np.ndarray, plan: Plan | None = None
) -> Statistics:
    """The estimates and variance terms of a block of assignments (module docstring).

    Group sums make it cheap: a unit's influence function in cell ``k`` is
    ``w_a (α_hk ΔY_ak - β_hk)`` with ``α``, ``β`` depending on the unit's cohort group
    ``h`` only, so they are computed per group and gathered to the units."""
    n_draws = groups.shape[0]
    w = c.weights / c.weights.mean()
    members = _Members(groups, layout.treated.shape[0])
    treated = layout.treated.astype(float)  # H x K
    control = layout.control.astype(float)
    size = members.sums(w)  # D x H: weight of each group
    s_t, s_c = size @ treated, size @ control  # D x K
    draw = np.arange(n_draws)[:, None]
    fixed = layout.reference
    observed_path = (c.periods[None, :] >= c.cohort[:, None]).astype(float)
    if plan is not None:
        n_cohorts = len(layout.cohorts)
        pg = size[:, :n_cohorts] / c.n
        # Equal weights keep every group's size, so the cells' α and the aggregation's
        # weights on the cells, the same in every re-assignment (their counts are kept)
        equal_weights = bool(np.all(w == w[0]))
    thetas, changes, betas = [], [], []
    psis: list[Any] = []  # per outcome: ψ (D x A x m), or its parts (_equal_weight_terms)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = treated / s_t[:, None, :] - control / s_c[:, None, :]  # D x H x K
    for values in (c.y, observed_path):
        dy = values[:, layout.t_idx] - values[:, layout.b_idx]  # A x K
        totals = members.sums(w[:, None] * dy)  # D x H x K
        with np.errstate(invalid="ignore", divide="ignore"):
            m1 = np.einsum("dhk,hk->dk", totals, treated) / s_t
            m0 = np.einsum("dhk,hk->dk", totals, control) / s_c
            beta = treated * (m1 / s_t)[:, None, :] - control * (m0 / s_c)[:, None, :]
        theta = m1 - m0
        theta[:, fixed] = 0.0
        thetas.append(theta)
        if plan is None:
            changes.append(dy)
            betas.append(beta)
            continue
        levels, overall = plan.combine(theta, pg)
        a = np.concatenate([levels.a, overall.a], axis=2)  # D x K x m
        coef = np.concatenate([levels.c, overall.c], axis=2)  # D x C x m
        theta = np.concatenate([levels.theta, overall.theta], axis=1)
        # the cohort shares' term: (w_a coef[cohort of a] - Σ_c P_c coef_c) / n
        by_cohort = np.concatenate([coef, np.zeros_like(coef[:, :1])], axis=1)
        shares = np.einsum("dc,dcm->dm", pg, coef)
        if equal_weights:
            # ψ_dam = w_a (own_a,h,m + c_d,h,m) - s_d,m for unit a in group h: kept as
            # parts, never as a (draws x units x m) array (_equal_weight_terms)
            own, per_group = _aggregated_parts(dy, alpha[0], beta, a[0], fixed)
            psis.append((own, by_cohort / c.n - per_group, shares / c.n))
            thetas[-1] = theta
            continue
        else:
            psi = w[None, :, None] * (alpha[draw, groups] * dy[None] - beta[draw, groups])
            psi[:, :, fixed] = 0.0
            psi = (
                np.matmul(psi, a)
                + (w[None, :, None] * by_cohort[draw, groups] - shares[:, None, :]) / c.n
            )
        thetas[-1] = theta
        psis.append(psi)
    n0, n1 = thetas
    if plan is None:
        d00, d01, d11 = _cell_variance_terms(members, w, alpha, changes, betas)
        for d in (d00, d01, d11):
            d[:, fixed] = 0.0
        return Statistics(n0, n1, d00, d01, d11)
    if equal_weights:
        return Statistics(n0, n1, *_equal_weight_terms(w, members, psis[0], psis[1]))
    p0, p1 = psis
    return Statistics(n0, n1, (p0 * p0).sum(axis=1), (p0 * p1).sum(axis=1), (p1 * p1).sum(axis=1))


def _aggregated_parts(
    dy: np.ndarray, alpha: np.ndarray, beta: np.ndarray, a: np.ndarray, fixed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The two parts of the aggregation's influence functions where ``α`` (H x K) and the
    weights ``a`` (K x m) are the same in every assignment (equal unit weights).

    A unit ``a`` of group ``h`` has ``ψ_am = w_a Σ_k (α_hk ΔY_ak - β_hk) a_km``: the
    first sum, ``own`` (A x H x m), depends on the unit and its group only, so it is one
    product for all assignments; the second, ``per_group`` (D x H x m), on the group and
    the assignment only."""
    weights = a.copy()
    weights[fixed] = 0.0  # the fixed reference cells enter no estimate
    n_groups, n_cells = alpha.shape
    n_out = weights.shape[1]
    combined = (alpha[:, :, None] * weights[None]).transpose(1, 0, 2)  # K x H x m
    own = (dy @ combined.reshape(n_cells, n_groups * n_out)).reshape(-1, n_groups, n_out)
    return own, beta @ weights


_Parts = tuple[np.ndarray, np.ndarray, np.ndarray]


def _equal_weight_terms(
    w: np.ndarray, members: _Members, parts0: _Parts, parts1: _Parts
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Σ_a ψ0ψ0, Σ_a ψ0ψ1, Σ_a ψ1ψ1`` (each D x m) from the parts ``(own, c, s)`` of
    ``ψ_dam = w_a u_dam - s_dm`` with ``u_dam = own_a,h,m + c_d,h,m``, ``h`` the group of
    unit ``a`` in assignment ``d``.

    ``Σ_a ψiψj = Σ_h [Q_ij + c_j R_i + c_i R_j + c_i c_j W2] - s_j Σ_h [L_i + c_i W1] -
    s_i Σ_h [L_j + c_j W1] + A s_i s_j`` with the group sums ``Q_ij = Σ_{a in h} w² own_i
    own_j``, ``R_i = Σ w² own_i``, ``L_i = Σ w own_i``, ``W2 = Σ w²``, ``W1 = Σ w``, each
    a sum over the units of a group of their value in that group (:class:`_Members`)."""
    n_units = w.shape[0]
    own = (parts0[0], parts1[0])  # A x H x m
    w1, w2 = w[:, None, None], (w**2)[:, None, None]
    q = {(i, j): members.sums(w2 * own[i] * own[j], by_group=True) for i, j in _PAIRS}
    r = [members.sums(w2 * own[i], by_group=True) for i in (0, 1)]
    lin = [members.sums(w1 * own[i], by_group=True) for i in (0, 1)]
    cnt2 = members.sums((w**2)[:, None])  # D x H x 1
    cnt1 = members.sums(w[:, None])
    c = (parts0[1], parts1[1])
    s_ = (parts0[2], parts1[2])
    terms = []
    for i, j in _PAIRS:
        quad = (q[i, j] + c[j] * r[i] + c[i] * r[j] + c[i] * c[j] * cnt2).sum(axis=1)
        li = (lin[i] + c[i] * cnt1).sum(axis=1)
        lj = (lin[j] + c[j] * cnt1).sum(axis=1)
        terms.append(quad - s_[j] * li - s_[i] * lj + n_units * s_[i] * s_[j])
    return terms[0], terms[1], terms[2]


#: The pairs of the outcome (0) and the treatment path (1) in the variance terms.
_PAIRS = ((0, 0), (0, 1), (1, 1))


def _cell_variance_terms(
    members: _Members,
    w: np.ndarray,
    alpha: np.ndarray,
    changes: list[np.ndarray],
    betas: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Σ_a ψ0 ψ0``, ``Σ_a ψ0 ψ1``, ``Σ_a ψ1 ψ1`` per assignment and cell, from sums
    over each cohort group instead of (assignments x units x cells) arrays.

    With ``ψ_j,ak = w_a (α_hk ΔY_j,ak - β_j,hk)`` for the group ``h`` of unit ``a``,
    ``Σ_a ψ_i ψ_j = Σ_h [α² S(ΔY_i ΔY_j) - α β_j S(ΔY_i) - α β_i S(ΔY_j) + β_i β_j S(1)]``
    where ``S(f)_hk = Σ_{a in h} w_a² f_ak``: one matrix product for all of them. The
    changes are centred per cell first (``β`` shifts to match), so the expansion does
    not cancel digits when a change's mean is large beside its spread.
    """
    n_cells = alpha.shape[2]
    shift = [dy.mean(axis=0) for dy in changes]
    d0, d1 = (dy - s for dy, s in zip(changes, shift, strict=True))
    b0, b1 = (b - alpha * s for b, s in zip(betas, shift, strict=True))
    w2 = (w * w)[:, None]
    moments = np.concatenate([w2, w2 * d0, w2 * d1, w2 * d0 * d0, w2 * d0 * d1, w2 * d1 * d1], 1)
    sums = members.sums(moments)  # D x H x (1 + 5K)
    one = sums[:, :, :1]
    s0, s1, s00, s01, s11 = (sums[:, :, 1 + i * n_cells : 1 + (i + 1) * n_cells] for i in range(5))
    a2 = alpha * alpha
    with np.errstate(invalid="ignore"):
        d00 = a2 * s00 - 2 * alpha * b0 * s0 + b0 * b0 * one
        d01 = a2 * s01 - alpha * b1 * s0 - alpha * b0 * s1 + b0 * b1 * one
        d11 = a2 * s11 - 2 * alpha * b1 * s1 + b1 * b1 * one
    return d00.sum(axis=1), d01.sum(axis=1), d11.sum(axis=1)
