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
    functions of the levels and, last, of the overall estimate.
    """

    influence: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)


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
    """Estimates as linear functionals of the fit: ``θ`` with influence function
    ``ψ = IF_cells @ a + φ @ c`` (columns of ``a``: ``K × m``, ``c``: ``C × m``)."""

    theta: np.ndarray
    a: np.ndarray
    c: np.ndarray

    def pg_average(self, cidx: np.ndarray, pg: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``P_g``-weighted average of the columns with cohorts ``cidx`` (module doc)."""
        pw = pg[cidx]
        total = pw.sum()
        theta = float(self.theta @ pw / total)
        a = self.a @ (pw / total)
        c = self.c @ (pw / total)
        np.add.at(c, cidx, (self.theta - theta) / total)
        return theta, a, c

    def mean(self) -> tuple[float, np.ndarray, np.ndarray]:
        """Equal-weight average (fixed weights: no weight term)."""
        return float(self.theta.mean()), self.a.mean(axis=1), self.c.mean(axis=1)


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
    min_e, max_e, balance_e = min_rel_time, max_rel_time, balance_rel_time
    infer = res.if_inference
    assert infer is not None
    tab = res.table
    att = tab["estimate"].to_numpy(dtype=float)
    g_cell = tab["cohort"].to_numpy(dtype=float)
    e_cell = tab["rel_time"].to_numpy(dtype=float)
    t_cell = tab["time"].to_numpy()
    cohorts = np.unique(res.unit_cohort[np.isfinite(res.unit_cohort)])  # as in boot_draws
    c_cell = np.searchsorted(cohorts, g_cell)
    pg, phi = cohort_shares(res.unit_cohort, res.unit_weights, cohorts)
    cells = _Linear(att, np.eye(len(att)), np.zeros((len(cohorts), len(att))))

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

    parts = []
    for _, m in groups:
        idx = np.flatnonzero(m)
        sub = _Linear(att[idx], cells.a[:, idx], cells.c[:, idx])
        parts.append(sub.pg_average(c_cell[idx], pg))
    levels = [lev for lev, _ in groups]
    thetas, a_cols, c_cols = zip(*parts, strict=True)
    lv = _Linear(np.array(thetas), np.column_stack(a_cols), np.column_stack(c_cols))
    if kind == "simple":
        overall = parts[0]
    elif kind == "group":
        overall = lv.pg_average(np.searchsorted(cohorts, np.array(levels, dtype=float)), pg)
    else:
        use = np.ones(len(levels), bool) if kind == "calendar" else np.array(levels) >= 0
        if use.any():
            overall = _Linear(lv.theta[use], lv.a[:, use], lv.c[:, use]).mean()
        else:
            overall = (np.nan, np.zeros(len(att)), np.zeros(len(cohorts)))

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
    )
