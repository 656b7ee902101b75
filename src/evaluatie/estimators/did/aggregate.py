"""Aggregations of ATT(g,t) into summary parameters (Callaway & Sant'Anna 2021, Section 3).

With ``P_g = P(G = g)`` (estimated by the weighted share of units in cohort ``g``) and
``e = t - g`` (event time, in the units of the time column), in CS's notation:

* ``simple``: ``θ_W^O = Σ_{t ≥ g} P_g ATT(g,t) / Σ_{t ≥ g} P_g`` — every post-treatment
  cell weighted by cohort size (CS caution that it over-weights early cohorts).
* ``group``: ``θ_sel(g) = mean_{t ≥ g} ATT(g,t)``; overall ``θ_sel^O = Σ_g P_g θ_sel(g) /
  Σ_g P_g``.
* ``dynamic``: ``θ_es(e) = Σ_g P_g ATT(g, g+e) / Σ_g P_g`` over cohorts observed at ``e``;
  overall ``θ_es^O = mean_{e ≥ 0} θ_es(e)``. ``balance_e = b`` keeps only cohorts observed
  at ``e = b`` and event times ``e ≤ b`` (CS's ``θ_es^bal``: fixed composition).
* ``calendar``: ``θ_c(t) = Σ_{g ≤ t} P_g ATT(g,t) / Σ_{g ≤ t} P_g``; overall
  ``θ_c^O = mean_t θ_c(t)``.

Estimand and assumptions are those of the ATT(g,t) (:mod:`.att_gt`); post-treatment
means ``t ≥ g`` (anticipation periods are not averaged in, as in R ``did``).
``min_e``/``max_e`` restrict the event times of the cells entering any aggregation.

Influence function of a ``P_g``-weighted average ``θ = Σ_k w_k θ_k``, ``w_k = P_{g(k)} / P``:
``ψ_θ = Σ_k w_k ψ_k + Σ_k (θ_k - θ) φ_{g(k)} / P`` with ``φ_{g,i} = w_i 1{G_i = g} - P_g``
(the delta method for the estimated weights, as in CS's asymptotic theory for the
aggregated parameters). Equal-weight averages have no weight term.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Overall, Result, call_record
from evaluatie.inference.influence import IFInference

from ._influence import STAT_COLUMNS, CellInfluence, LazyArray, analytic_stats

KINDS = ("simple", "group", "dynamic", "calendar")
#: The column that identifies an aggregate's rows (its index), per kind.
LEVEL_NAMES = {"simple": "term", "group": "cohort", "dynamic": "rel_time", "calendar": "time"}
#: What the overall estimate of each kind is (CS 2021, Section 3).
OVERALL_LABELS = {
    "simple": "ATT over all treated cells, weighted by cohort size",
    "group": "average of the cohort ATTs, weighted by cohort size",
    "dynamic": "average ATT over relative times >= 0",
    "calendar": "average ATT over calendar periods",
}


class GroupTimeCells(Protocol):
    """What an aggregation needs of an ATT(g,t) fit (:class:`.att_gt.AttGtResult`)."""

    table: pd.DataFrame
    meta: dict
    unit_cohort: np.ndarray
    if_inference: IFInference | None
    boot_draws: np.ndarray | None

    def cell_influence(self) -> CellInfluence: ...


@dataclass
class AggregateResult(Result):
    """Aggregated ATT. ``table``: one row per level, indexed by ``rel_time`` (``dynamic``),
    ``cohort`` (``group``), ``time`` (``calendar``) or ``term`` (``simple``: the one row
    ``"overall"``), with ``estimate, se, t, p, ci_low, ci_high, cband_low, cband_high``;
    ``overall`` is the summary parameter. ``influence`` holds the unit-level influence
    functions of the levels and, last, of the overall estimate (formed when first used);
    ``vcov`` (``dynamic`` only) the analytic covariance of the levels from them (for
    :func:`evaluatie.honest_did`).
    """

    influence: LazyArray = field(default=LazyArray("influence"), repr=False)
    vcov: pd.DataFrame | None = field(default=None, repr=False)


def cohort_shares(
    unit_cohort: np.ndarray, weights: np.ndarray, cohorts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``P_g`` (weighted share of all units in cohort ``g``) and its influence function
    ``φ_{g,i} = w_i 1{G_i = g} - P_g``, shape ``(n, C)``."""
    in_g = unit_cohort[:, None] == cohorts[None, :]
    pg = (weights[:, None] * in_g).mean(axis=0)
    return pg, weights[:, None] * in_g - pg


@dataclass
class _Linear:
    """Estimates as linear functionals of a fit, for ``D`` fits at once: ``θ`` (D x m)
    with influence function ``ψ = IF_cells @ a + φ @ c`` (``a``: D x K x m, ``c``:
    D x C x m). One fit is ``D = 1``; randomization inference stacks the re-assignments."""

    theta: np.ndarray
    a: np.ndarray
    c: np.ndarray

    def take(self, idx: np.ndarray) -> _Linear:
        return _Linear(self.theta[:, idx], self.a[:, :, idx], self.c[:, :, idx])

    def pg_average(self, cidx: np.ndarray, member: np.ndarray, pg: np.ndarray) -> _Linear:
        """``P_g``-weighted averages of the columns, one per column of ``member``
        (``m × L`` boolean: which columns enter each average), the columns' cohorts
        ``cidx`` (module doc); all ``L`` at once."""
        return _pg_average(self.theta, cidx, member, pg, a=self.a, c=self.c)

    def mean(self) -> _Linear:
        """Equal-weight average (fixed weights: no weight term)."""
        return _Linear(
            self.theta.mean(axis=1, keepdims=True),
            self.a.mean(axis=2, keepdims=True),
            self.c.mean(axis=2, keepdims=True),
        )


def _pg_average(
    theta: np.ndarray,
    cidx: np.ndarray,
    member: np.ndarray,
    pg: np.ndarray,
    *,
    a: np.ndarray | None = None,
    c: np.ndarray | None = None,
) -> _Linear:
    """``P_g``-weighted averages ``θ_l = Σ_{j ∈ l} P_{g(j)} θ_j / Σ_{j ∈ l} P_{g(j)}`` of
    the ``m`` estimates ``theta`` (D x m) for every column ``l`` of ``member`` (m x L),
    with the influence-function coefficients of the module docstring: the estimates'
    ``a`` (D x K x m) and ``c`` (D x C x m) averaged with the same shares (``None``: the
    estimates are the cells themselves, ``a`` the identity and ``c`` zero), plus the
    estimated weights' term ``Σ_{j ∈ l} (θ_j - θ_l) φ_{g(j)} / Σ_{j ∈ l} P_{g(j)}``.

    Non-members are masked rather than multiplied by zero, so that a NaN estimate (a
    cell without comparison units under a re-assignment) spoils only its own levels."""
    weight = np.where(member, pg[:, cidx][:, :, None], 0.0)  # D x m x L
    total = weight.sum(axis=1)
    share = weight / total[:, None, :]
    theta_l = np.where(member, theta[:, :, None] * share, 0.0).sum(axis=1)
    dev = np.where(member, (theta[:, :, None] - theta_l[:, None, :]) / total[:, None, :], 0.0)
    in_cohort = (cidx[:, None] == np.arange(pg.shape[1])[None, :]).astype(float)  # m x C
    weights_term = np.matmul(in_cohort.T, dev)  # D x C x L
    if a is None or c is None:
        return _Linear(theta_l, share, weights_term)
    return _Linear(theta_l, np.matmul(a, share), np.matmul(c, share) + weights_term)


@dataclass(frozen=True)
class Plan:
    """Which ATT(g,t) cells make each level of an aggregation, and how the levels make
    the overall estimate: it depends on the cells only, not on the estimates."""

    kind: str
    levels: list[object]
    members: list[np.ndarray]  # cell positions of each level
    cohort_of_cell: np.ndarray  # index into ``cohorts``
    level_cohorts: np.ndarray  # group: each level's cohort index

    def combine(self, att: np.ndarray, pg: np.ndarray) -> tuple[_Linear, _Linear]:
        """Levels and overall as linear functionals, for ``D`` fits: ``att`` (D x K),
        ``pg`` (D x C)."""
        d, k = att.shape
        member = np.zeros((k, len(self.members)), dtype=bool)
        for level, idx in enumerate(self.members):
            member[idx, level] = True
        lv = _pg_average(att, self.cohort_of_cell, member, pg)
        if self.kind == "simple":
            overall = lv  # its one level
        elif self.kind == "group":
            overall = lv.pg_average(
                self.level_cohorts, np.ones((len(self.levels), 1), dtype=bool), pg
            )
        else:
            use = (
                np.ones(len(self.levels), bool)
                if self.kind == "calendar"
                else np.array(self.levels) >= 0
            )
            if use.any():
                overall = lv.take(np.flatnonzero(use)).mean()
            else:
                n_c = pg.shape[1]
                overall = _Linear(
                    np.full((d, 1), np.nan), np.zeros((d, k, 1)), np.zeros((d, n_c, 1))
                )
        return lv, overall


def make_plan(
    kind: str,
    g_cell: np.ndarray,
    e_cell: np.ndarray,
    t_cell: np.ndarray,
    cohorts: np.ndarray,
    *,
    min_e: float,
    max_e: float,
    balance_e: int | None,
) -> Plan:
    """The levels of aggregation ``kind`` over cells with cohort ``g_cell``, relative
    time ``e_cell`` and period ``t_cell`` (module docstring)."""
    c_cell = np.searchsorted(cohorts, g_cell)
    window = (e_cell >= min_e) & (e_cell <= max_e)
    post = window & (e_cell >= 0)
    if kind == "simple":
        groups: list[tuple[object, np.ndarray]] = [("overall", post)] if post.any() else []
    elif kind == "group":
        groups = [(g, post & (c_cell == c)) for c, g in enumerate(cohorts)]
    elif kind == "calendar":
        groups = [(t, post & (t_cell == t)) for t in np.unique(t_cell[post])]
    else:
        sel = window
        if balance_e is not None:
            at_b = np.unique(c_cell[e_cell == balance_e])
            sel = sel & np.isin(c_cell, at_b) & (e_cell <= balance_e)
        groups = [(e, sel & (e_cell == e)) for e in np.unique(e_cell[sel])]
    groups = [(lev, m) for lev, m in groups if m.any()]
    if not groups:
        raise DesignError(f"No ATT(g,t) cells fall in the event-time window for {kind!r}.")
    levels = [lev for lev, _ in groups]
    level_cohorts = (
        np.searchsorted(cohorts, np.array(levels, dtype=float))
        if kind == "group"
        else np.empty(0, dtype=int)
    )
    return Plan(kind, levels, [np.flatnonzero(m) for _, m in groups], c_cell, level_cohorts)


def table_plan(
    table: pd.DataFrame,
    cohorts: np.ndarray,
    kind: str,
    *,
    min_rel_time: float,
    max_rel_time: float,
    balance_rel_time: int | None,
) -> Plan:
    """The :class:`Plan` of aggregation ``kind`` over the cells of an ATT(g,t) table."""
    return make_plan(
        kind,
        table["cohort"].to_numpy(dtype=float),
        table["rel_time"].to_numpy(dtype=float),
        table["time"].to_numpy(),
        cohorts,
        min_e=min_rel_time,
        max_e=max_rel_time,
        balance_e=balance_rel_time,
    )


def aggregate(
    res: GroupTimeCells,
    kind: str = "simple",
    *,
    min_rel_time: float = -np.inf,
    max_rel_time: float = np.inf,
    balance_rel_time: int | None = None,
) -> AggregateResult:
    """Aggregate ATT(g,t) (see module docstring); SEs, bootstrap and clustering as the fit.

    ``min_rel_time``/``max_rel_time`` restrict the relative times of the cells entering
    the aggregation; ``balance_rel_time`` (``dynamic`` only) keeps the cohorts observed
    at that relative time and relative times up to it (R ``did``'s ``min_e``, ``max_e``,
    ``balance_e``).
    """
    if kind not in KINDS:
        raise ParameterError(f"kind must be one of {KINDS}, got {kind!r}.")
    if balance_rel_time is not None and kind != "dynamic":
        raise ParameterError("balance_rel_time applies only to kind='dynamic'.")
    if min_rel_time > max_rel_time:
        raise ParameterError(
            f"min_rel_time ({min_rel_time}) must not exceed max_rel_time ({max_rel_time})."
        )
    infer = res.if_inference
    assert infer is not None
    tab = res.table
    att = tab["estimate"].to_numpy(dtype=float)
    cohorts = np.unique(res.unit_cohort[np.isfinite(res.unit_cohort)])  # as in boot_draws
    cells = res.cell_influence()
    pg = cells.shares
    plan = table_plan(
        tab,
        cohorts,
        kind,
        min_rel_time=min_rel_time,
        max_rel_time=max_rel_time,
        balance_rel_time=balance_rel_time,
    )
    levels = plan.levels
    lv, ov = plan.combine(att[None, :], pg[None, :])
    # the levels and, last, the overall estimate, as linear maps of the cells' and the
    # cohort shares' influence functions (D = 1 fit)
    theta = np.concatenate([lv.theta[0], ov.theta[0]])
    weights = np.vstack(
        [np.concatenate([lv.a[0], ov.a[0]], axis=1), np.concatenate([lv.c[0], ov.c[0]], axis=1)]
    )
    psi = cells.combined(weights)
    n_levels = len(levels)
    level_values: object = levels
    if kind == "group":
        level_values = np.asarray(levels, dtype=float).astype(tab["cohort"].dtype)
    elif kind == "dynamic":
        level_values = np.asarray(levels, dtype=float).astype(tab["rel_time"].dtype)
    elif kind == "calendar":
        level_values = np.asarray(levels)
    level_name = LEVEL_NAMES[kind]
    if res.boot_draws is None:
        values, crit = analytic_stats(infer, theta, cells.variance(weights)), None
    else:  # the band covers the levels; the overall estimate is not in it (its own row)
        band = np.arange(n_levels + 1) < n_levels
        draws = res.boot_draws @ weights
        stats, crit = infer.table(theta, psi.value(), {}, band=band, draws=draws)
        values = stats.to_numpy(dtype=float)  # its columns: STAT_COLUMNS (no left ones)
    table = pd.DataFrame(
        values[:n_levels],
        columns=STAT_COLUMNS,
        index=pd.Index(level_values, name=level_name),
    )
    overall = Overall.from_row(
        dict(zip(STAT_COLUMNS, values[n_levels], strict=True)), label=OVERALL_LABELS[kind]
    )
    arguments = {
        "kind": kind,
        "min_rel_time": min_rel_time,
        "max_rel_time": max_rel_time,
        "balance_rel_time": balance_rel_time,
    }
    meta = {
        **arguments,
        "alpha": infer.alpha,
        "n_units": infer.n,
        **infer.meta(),
        "crit_value": crit,
        "call": {**call_record("att_gt.aggregate", arguments), "of": res.meta.get("call")},
    }
    return AggregateResult(
        table=table,
        method=f"Callaway-Sant'Anna aggregation: {kind}",
        meta=meta,
        overall=overall,
        influence=psi,
        vcov=pd.DataFrame(
            cells.covariance(weights[:, :n_levels]), index=table.index, columns=table.index
        )
        if kind == "dynamic"
        else None,
    )
