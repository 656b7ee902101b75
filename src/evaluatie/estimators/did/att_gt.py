"""Group-time average treatment effects ATT(g,t) of Callaway & Sant'Anna (2021).

Estimand (CS 2021, J. Econometrics 225(2), Section 2): ``ATT(g,t) = E[Y_t(g) - Y_t(0) | G=g]``,
the average effect at time ``t`` for the cohort first treated in period ``g``.
Assumptions (CS Section 2): staggered adoption (treatment is absorbing, ``G`` fixed per
unit), limited anticipation of ``δ = anticipation`` periods, overlap, and parallel trends
conditional on covariates with either never-treated units (``control="never_treated"``)
or not-yet-treated units (``control="not_yet_treated"``) as comparison group. Each
ATT(g,t) is a 2×2 DiD between cohort ``g`` and the comparison units, between period ``t``
and a base period ``b`` (the DR, IPW or outcome-regression estimands of CS Theorem 1,
computed by :mod:`.drdid`); see :func:`att_gt` for base periods.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Overall, Result, TestResult, call_record
from evaluatie.inference.influence import BOOT_WEIGHTS, IFInference
from evaluatie.inference.wald import wald_test

from ._panel import PanelData, prepare_panel
from .aggregate import AggregateResult, aggregate, cohort_shares
from .drdid import ESTIMATORS, MeansFit, did_means


@dataclass
class AttGtResult(Result):
    """ATT(g,t) for every cohort ``g`` and period ``t``.

    ``table`` columns: ``cohort, time, base, rel_time`` (``time - cohort``), ``pre``
    (``time < cohort``), ``reference`` (the fixed zero cell of a universal base period),
    ``n_treated, n_control, estimate, se, t, p, ci_low, ci_high, cband_low, cband_high``.
    ``influence`` holds the unit-level influence functions, one column per row;
    ``boot_draws`` (bootstrap only) the draws of those and of the cohort shares ``P_g``
    (:func:`.aggregate.cohort_shares`), from which aggregations take theirs.
    """

    influence: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
    unit_cohort: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    unit_weights: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    if_inference: IFInference | None = field(default=None, repr=False)
    boot_draws: np.ndarray | None = field(default=None, repr=False)

    def aggregate(
        self,
        kind: Literal["simple", "group", "dynamic", "calendar"] = "simple",
        *,
        min_rel_time: float = -np.inf,
        max_rel_time: float = np.inf,
        balance_rel_time: int | None = None,
    ) -> AggregateResult:
        """Aggregate the ATT(g,t) (CS 2021, Section 3); see :func:`.aggregate.aggregate`."""
        return aggregate(
            self,
            kind,
            min_rel_time=min_rel_time,
            max_rel_time=max_rel_time,
            balance_rel_time=balance_rel_time,
        )

    def headline(self, term: object = None) -> Overall:
        """One ATT(g,t) cell by its row number; the summary parameters come from
        :meth:`aggregate` (e.g. ``.aggregate("simple").overall``)."""
        if term is None:
            raise ParameterError(
                "att_gt has one row per cohort and period and no single estimate: publish "
                "an aggregation, e.g. att_gt(...).aggregate('simple')"
            )
        return super().headline(term)

    def pretrend_test(self) -> TestResult:
        """Wald test that all pre-treatment ATT(g,t) are zero (CS 2021, Section 4).

        Uses cells with ``time < cohort - anticipation`` (anticipation periods excluded,
        the universal reference cell excluded) and their joint covariance from the
        influence functions (clustered if the fit is); ``W = θ' V⁺ θ ~ χ²(rank V)``.
        """
        assert self.if_inference is not None
        tab = self.table
        sel = (tab["time"] < tab["cohort"] - self.meta["anticipation"]) & ~tab["reference"]
        idx = np.flatnonzero(sel.to_numpy())
        if idx.size == 0:
            raise DesignError("No pre-treatment ATT(g,t) cells to test.")
        est = tab["estimate"].to_numpy()[idx]
        stat, df, p = wald_test(est, self.if_inference.vcov(self.influence[:, idx]))
        table = pd.DataFrame({"statistic": [stat], "df": [df], "p": [p]})
        meta: dict[str, object] = {
            "n_cells": int(idx.size),
            "inference": self.if_inference.describe(),
        }
        meta["clustered"] = self.if_inference.cluster is not None
        # How many clusters carry treated units bounds how well V is estimated.
        treated = np.isfinite(self.unit_cohort)
        codes = self.if_inference.cluster
        meta["n_clusters"] = self.if_inference.n_clusters
        meta["n_treated_clusters"] = int(
            treated.sum() if codes is None else np.unique(codes[treated]).size
        )
        return TestResult(table=table, method="Pre-trend Wald test (ATT(g,t), t<g)", meta=meta)


@dataclass(frozen=True)
class _Cells:
    cohort: np.ndarray
    t_idx: np.ndarray
    b_idx: np.ndarray
    reference: np.ndarray


def _enumerate_cells(periods: np.ndarray, cohorts: np.ndarray, delta: int, base: str) -> _Cells:
    """Every (g, t) with its base period index ``b`` (positional on observed periods).

    Post-treatment (``t >= g``): ``b`` = last observed period with ``b + δ < g``.
    Pre-treatment under ``varying``: ``b`` = the previous observed period (no cell for
    the first period); under ``universal``: the same ``b`` as post-treatment, and the
    cell ``t = b`` is the reference fixed at zero.
    """
    rows: list[tuple[float, int, int, bool]] = []
    for g in cohorts:
        gb = int(np.flatnonzero(periods + delta < g)[-1])
        for j, t in enumerate(periods):
            if t >= g or base == "universal":
                rows.append((g, j, gb, base == "universal" and j == gb))
            elif j > 0:
                rows.append((g, j, j - 1, False))
    arr = np.array(rows, dtype=object).reshape(-1, 4)
    return _Cells(
        cohort=arr[:, 0].astype(float),
        t_idx=arr[:, 1].astype(int),
        b_idx=arr[:, 2].astype(int),
        reference=arr[:, 3].astype(bool),
    )


@dataclass(frozen=True)
class _Groups:
    """Units grouped by cohort (the last group: never treated); each cell's treated and
    comparison groups as ``H × K`` boolean masks."""

    unit_group: np.ndarray
    treated: np.ndarray
    control: np.ndarray
    size: np.ndarray

    @property
    def bounds(self) -> np.ndarray:
        """Row offsets of the groups (units are sorted by cohort)."""
        return np.concatenate([[0], np.cumsum(self.size)])

    def members(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Units in cell ``k`` (boolean, ``n``) and which of them are treated."""
        sub = (self.treated[:, k] | self.control[:, k])[self.unit_group]
        return sub, self.treated[self.unit_group[sub], k]


def _groups(panel: PanelData, cells: _Cells, control: str, delta: int) -> _Groups:
    cohorts = panel.cohorts
    unit_group = np.searchsorted(cohorts, panel.cohort)  # never treated (inf) -> len(cohorts)
    g_h = np.append(cohorts, np.inf)
    treated = g_h[:, None] == cells.cohort[None, :]
    never = np.isinf(g_h)[:, None]
    if control == "never_treated":
        comparison = np.broadcast_to(never, treated.shape).copy()
    else:
        later = panel.periods[np.maximum(cells.t_idx, cells.b_idx)] + delta
        comparison = never | ((g_h[:, None] > later[None, :]) & ~treated)
    size = np.bincount(unit_group, minlength=len(g_h))
    return _Groups(unit_group, treated, comparison, size)


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ParameterError(f"{name} must be one of {allowed}, got {value!r}.")


def att_gt(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    control: Literal["never_treated", "not_yet_treated"] = "never_treated",
    covariates: tuple[str, ...] | list[str] = (),
    est_method: Literal["dr", "ipw", "reg"] = "dr",
    anticipation: int = 0,
    base_period: Literal["varying", "universal"] = "varying",
    cluster: str | None = None,
    weights: str | None = None,
    n_boot: int = 0,
    seed: int | None = None,
    alpha: float = 0.05,
    boot_weights: Literal["mammen", "rademacher"] = "mammen",
) -> AttGtResult:
    """Callaway & Sant'Anna (2021) group-time ATTs from a long balanced panel.

    Parameters
    ----------
    data, outcome, unit, time, cohort
        Long panel; ``cohort`` is the first treated period (``0``/``NaN`` = never
        treated), in the units of ``time``. See :mod:`._panel` for the data rules
        (unbalanced units dropped with a warning, first-period cohorts dropped, gaps).
    control
        Comparison group: never-treated units, or units not yet treated (nor
        anticipating) by ``max(t, b)``, never-treated included (CS 2021, Section 2).
    covariates
        Pre-treatment covariates ``X`` for conditional parallel trends; the value at the
        earlier of ``t`` and ``b`` is used (time-invariant covariates are the usual case).
    est_method
        ``"dr"`` (Sant'Anna & Zhao 2020 doubly robust), ``"ipw"`` or ``"reg"`` (R ``did``'s
        ``est_method``). Without
        covariates all three equal a difference in mean changes (computed in closed form).
    anticipation
        ``δ``: effects may start ``δ`` periods before ``g``; post-treatment cells use base
        ``b`` = last observed period with ``b + δ < g``.
    base_period
        ``"varying"``: pre-treatment cells (``t < g``) compare ``t`` with the previous
        *observed* period (so with a gap, e.g. no 2020, 2021 is compared with 2019);
        ``"universal"``: all cells use base ``b``, and ATT(g, b) = 0 is reported with NaN SE.
    cluster
        Cluster column (constant within unit): influence functions are summed within
        clusters for analytic and bootstrap SEs (no small-sample factor).
    weights
        Time-invariant sampling weights (normalised to mean one).
    n_boot, seed, boot_weights
        ``n_boot > 0``: multiplier bootstrap SEs and a simultaneous band over all
        ATT(g,t) (``cband_*`` columns, ``meta["crit_value"]``); see :mod:`evaluatie.inference.influence`.
    alpha
        ``1 - alpha`` confidence level.
    """
    _check_choice("control", control, ("never_treated", "not_yet_treated"))
    call = call_record("att_gt", {k: v for k, v in locals().items() if k != "data"})
    _check_choice("est_method", est_method, tuple(ESTIMATORS))
    _check_choice("base_period", base_period, ("varying", "universal"))
    _check_choice("boot_weights", boot_weights, BOOT_WEIGHTS)
    if isinstance(covariates, str):
        covariates = (covariates,)
    covariates = tuple(covariates)
    if isinstance(anticipation, bool) or not isinstance(anticipation, (int, np.integer)):
        raise ParameterError(f"anticipation must be a non-negative integer, got {anticipation!r}.")
    if anticipation < 0:
        raise ParameterError(f"anticipation must be a non-negative integer, got {anticipation}.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ParameterError(f"n_boot must be a non-negative integer, got {n_boot!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ParameterError(f"seed must be an integer or None, got {seed!r}.")
    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha!r}.")

    panel = prepare_panel(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        cohort=cohort,
        covariates=covariates,
        weights=weights,
        cluster=cluster,
        anticipation=int(anticipation),
    )
    if panel.cohorts.size == 0:
        raise DesignError(f"No treated cohort remains in {cohort!r}: every unit is never treated.")
    if control == "never_treated" and not np.isinf(panel.cohort).any():
        raise DesignError(
            "control='never_treated' but no unit is never treated (cohort 0 or NaN); "
            "use control='not_yet_treated'."
        )

    cells = _enumerate_cells(panel.periods, panel.cohorts, int(anticipation), base_period)
    groups = _groups(panel, cells, control, int(anticipation))
    n_c = groups.size @ groups.control
    empty = (n_c == 0) & ~cells.reference
    if empty.any():
        bad = [
            (g, panel.periods[j])
            for g, j in zip(cells.cohort[empty], cells.t_idx[empty], strict=True)
        ]
        warnings.warn(
            f"Dropped {int(empty.sum())} ATT(g,t) cell(s) without comparison units: {bad}.",
            UserWarning,
            stacklevel=2,
        )
        keep = ~empty
        cells = _Cells(*(getattr(cells, f)[keep] for f in _Cells.__dataclass_fields__))
        groups = _Groups(
            groups.unit_group, groups.treated[:, keep], groups.control[:, keep], groups.size
        )
        n_c = n_c[keep]

    att, inf, fit = _estimate(panel, cells, groups, est_method)
    if n_boot > 0 and seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] % 2**63)
        call["arguments"]["seed"] = seed  # the draws this result holds can be redrawn
    infer = IFInference(
        n=panel.n,
        alpha=alpha,
        cluster=panel.cluster,
        n_boot=int(n_boot),
        boot_weights=boot_weights,
        seed=None if seed is None else int(seed),
        cluster_name=cluster,
    )
    draws = _bootstrap(infer, panel, groups, cells, inf, fit) if n_boot > 0 else None
    periods = panel.periods
    g_out = _as_time_dtype(cells.cohort, periods)
    left = {
        "cohort": g_out,
        "time": periods[cells.t_idx],
        "base": periods[cells.b_idx],
        "rel_time": periods[cells.t_idx] - g_out,
        "pre": periods[cells.t_idx] < cells.cohort,
        "reference": cells.reference,
        "n_treated": groups.size @ groups.treated,
        "n_control": n_c,
    }
    table, crit = infer.table(
        att,
        inf,
        left,
        band=~cells.reference,
        draws=None if draws is None else draws[:, : len(att)],
    )
    meta: dict[str, object] = {
        "outcome": outcome,
        "est_method": est_method,
        "control": control,
        "base_period": base_period,
        "anticipation": int(anticipation),
        "covariates": list(covariates),
        "n_units": panel.n,
        "n_obs": panel.n * len(periods),
        "n_periods": len(periods),
        "n_cohorts": int(panel.cohorts.size),
        "alpha": alpha,
        **infer.meta(),
        "crit_value": crit,
        **panel.notes,
        "call": call,
    }
    return AttGtResult(
        table=table,
        method=f"Callaway-Sant'Anna ATT(g,t) [{est_method}, {control}]",
        meta=meta,
        influence=inf,
        unit_cohort=panel.cohort,
        unit_weights=panel.weights,
        if_inference=infer,
        boot_draws=draws,
    )


def _estimate(
    panel: PanelData, cells: _Cells, groups: _Groups, method: str
) -> tuple[np.ndarray, np.ndarray, MeansFit | None]:
    """ATT and full-sample influence functions ``(n, K)`` for every cell (and, without
    covariates, the closed-form fit of the estimated cells).

    A cell's 2×2 influence function, relative to its ``m`` units, is rescaled by ``n/m``
    and set to zero for units outside the cell, so ``θ̂ - θ ≈ (1/n) Σ_i ψ_i`` over all units.
    The universal-base reference cells stay at zero.
    """
    n, k = panel.n, len(cells.cohort)
    est = np.flatnonzero(~cells.reference)
    att, inf = np.zeros(k), np.zeros((n, k))
    if panel.x is None:
        fit = did_means(
            panel.y,
            cells.t_idx[est],
            cells.b_idx[est],
            groups.bounds,
            groups.treated[:, est],
            groups.control[:, est],
            panel.weights,
        )
        if est.size == k:
            return fit.att, fit.inf, fit
        att[est], inf[:, est] = fit.att, fit.inf
        return att, inf, fit
    estimator = ESTIMATORS[method]
    for kk in est.tolist():
        sub, d = groups.members(kk)
        t, b = cells.t_idx[kk], cells.b_idx[kk]
        x = np.column_stack([np.ones(int(sub.sum())), panel.x[sub, min(t, b), :]])
        try:
            two = estimator(
                panel.y[sub, t] - panel.y[sub, b], d.astype(float), x, panel.weights[sub]
            )
        except DesignError as exc:
            raise DesignError(f"ATT(g={cells.cohort[kk]:g}, t={panel.periods[t]}): {exc}") from exc
        att[kk] = two.att
        inf[sub, kk] = two.inf * (n / sub.sum())
    return att, inf, None


def _bootstrap(
    infer: IFInference,
    panel: PanelData,
    groups: _Groups,
    cells: _Cells,
    inf: np.ndarray,
    fit: MeansFit | None,
) -> np.ndarray:
    """Bootstrap draws of the cells' and the cohort shares' influence functions
    (``n_boot × (K + C)``); via the closed-form factorisation when available."""
    pg, phi = cohort_shares(panel.cohort, panel.weights, panel.cohorts)
    if fit is None or infer.cluster is not None:
        return infer.draws(np.hstack([inf, phi]))
    z, vbar = infer.draws_by_block(fit.x, groups.bounds)
    out = np.zeros((infer.n_boot, inf.shape[1] + len(pg)))
    est = np.flatnonzero(~cells.reference)
    out[:, est] = panel.n * np.matmul(z, fit.coef).sum(axis=0)
    out[:, inf.shape[1] :] = z[: len(pg), :, -1].T - pg * vbar[:, None]
    return out


def _as_time_dtype(values: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Cohort values in the dtype of the time column when they are whole numbers."""
    if np.issubdtype(periods.dtype, np.integer) and np.all(values == np.round(values)):
        return values.astype(periods.dtype)
    return values
