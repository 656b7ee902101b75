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
    influence: np.ndarray
    unit_cohort: np.ndarray
    unit_weights: np.ndarray
    if_inference: IFInference | None
    boot_draws: np.ndarray | None


@dataclass
class AggregateResult(Result):
    """Aggregated ATT. ``table``: one row per level, indexed by ``rel_time`` (``dynamic``),
    ``cohort`` (``group``), ``time`` (``calendar``) or ``term`` (``simple``: the one row
    ``"overall"``), with ``estimate, se, t, p, ci_low, ci_high, cband_low, cband_high``;
    ``overall`` is the summary parameter. ``influence`` holds the unit-level influence
    functions of the levels and, last, of the overall estimate; ``vcov`` (``dynamic``
    only) the analytic covariance of the levels from them (for :func:`evaluatie.honest_did`).
    """

    influence: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
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

    def pg_average(self, cidx: np.ndarray, pg: np.ndarray) -> _Linear:
        """``P_g``-weighted average of the columns with cohorts ``cidx`` (module doc)."""
        pw = pg[:, cidx]
        total = pw.sum(axis=1)
        share = pw / total[:, None]
        theta = np.einsum("dm,dm->d", self.theta, share)
        a = np.einsum("dkm,dm->dk", self.a, share)
        c = np.einsum("dcm,dm->dc", self.c, share)
        for j, g in enumerate(cidx):  # the estimated weights' term
            c[:, g] += (self.theta[:, j] - theta) / total
        return _Linear(theta[:, None], a[:, :, None], c[:, :, None])

    def mean(self) -> _Linear:
        """Equal-weight average (fixed weights: no weight term)."""
        return _Linear(
            self.theta.mean(axis=1, keepdims=True),
            self.a.mean(axis=2, keepdims=True),
            self.c.mean(axis=2, keepdims=True),
        )

    @staticmethod
    def stack(parts: list[_Linear]) -> _Linear:
        return _Linear(
            np.concatenate([p.theta for p in parts], axis=1),
            np.concatenate([p.a for p in parts], axis=2),
            np.concatenate([p.c for p in parts], axis=2),
        )


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
        cells = _Linear(
            att,
            np.broadcast_to(np.eye(k), (d, k, k)),
            np.zeros((d, pg.shape[1], k)),
        )
        parts = [cells.take(idx).pg_average(self.cohort_of_cell[idx], pg) for idx in self.members]
        lv = _Linear.stack(parts)
        if self.kind == "simple":
            overall = parts[0]
        elif self.kind == "group":
            overall = lv.pg_average(self.level_cohorts, pg)
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
    pg, phi = cohort_shares(res.unit_cohort, res.unit_weights, cohorts)
    plan = table_plan(
        tab,
        cohorts,
        kind,
        min_rel_time=min_rel_time,
        max_rel_time=max_rel_time,
        balance_rel_time=balance_rel_time,
    )
    levels = plan.levels
    lv1, ov1 = plan.combine(att[None, :], pg[None, :])
    lv = _Linear(lv1.theta[0], lv1.a[0], lv1.c[0])
    overall = (float(ov1.theta[0, 0]), ov1.a[0, :, 0], ov1.c[0, :, 0])

    psi = res.influence @ lv.a + phi @ lv.c
    psi_o = res.influence @ overall[1] + phi @ overall[2]
    draws = draws_o = None
    if res.boot_draws is not None:
        k = len(att)
        draws = res.boot_draws[:, :k] @ lv.a + res.boot_draws[:, k:] @ lv.c
        draws_o = res.boot_draws[:, :k] @ overall[1] + res.boot_draws[:, k:] @ overall[2]
    level_values: object = levels
    if kind == "group":
        level_values = np.asarray(levels, dtype=float).astype(tab["cohort"].dtype)
    elif kind == "dynamic":
        level_values = np.asarray(levels, dtype=float).astype(tab["rel_time"].dtype)
    elif kind == "calendar":
        level_values = np.asarray(levels)
    level_name = LEVEL_NAMES[kind]
    table, crit = infer.table(lv.theta, psi, {level_name: level_values}, draws=draws)
    table = table.set_index(level_name)
    ov, _ = infer.table(
        np.array([overall[0]]),
        psi_o[:, None],
        {},
        band=np.zeros(1, bool),
        draws=None if draws_o is None else draws_o[:, None],
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
        overall=Overall.from_row(ov.iloc[0], label=OVERALL_LABELS[kind]),
        influence=np.column_stack([psi, psi_o]),
        vcov=pd.DataFrame(infer.vcov(psi), index=table.index, columns=table.index)
        if kind == "dynamic"
        else None,
    )
