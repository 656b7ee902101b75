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
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Inference, Overall, Result, TestResult, call_record
from evaluatie.estimators.resample import default_cluster
from evaluatie.inference.choice import Choice, choose
from evaluatie.inference.influence import BOOT_WEIGHTS, IFInference
from evaluatie.inference.randomization import Randomization
from evaluatie.inference.wald import wald_test

from ._influence import STAT_COLUMNS, CellInfluence, Deferred, LazyArray, analytic_stats
from ._panel import PanelData, prepare_panel
from .aggregate import AggregateResult, aggregate, cohort_shares, table_plan
from .drdid import ESTIMATORS, MeansFit, did_means
from .randomization import (
    CellLayout,
    Collapsed,
    RandomizationResult,
    collapse,
    joint_test,
    randomize,
)
from .unbalanced import did_means_unbalanced, observed_units


@dataclass
class AttGtResult(Result):
    """ATT(g,t) for every cohort ``g`` and period ``t``.

    ``table`` columns: ``cohort, time, base, rel_time`` (``time - cohort``), ``pre``
    (``time < cohort``), ``reference`` (the fixed zero cell of a universal base period),
    ``n_treated, n_control, estimate, se, t, p, ci_low, ci_high, cband_low, cband_high``.
    ``influence`` holds the unit-level influence functions, one column per row (formed
    when first used: standard errors need only their covariance, :meth:`cell_influence`);
    ``boot_draws`` (bootstrap only) the draws of those and of the cohort shares ``P_g``
    (:func:`.aggregate.cohort_shares`), from which aggregations take theirs.
    """

    influence: LazyArray = field(default=LazyArray("influence"), repr=False)
    unit_cohort: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    unit_weights: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    if_inference: IFInference | None = field(default=None, repr=False)
    boot_draws: np.ndarray | None = field(default=None, repr=False)
    panel: PanelData | None = field(default=None, repr=False)
    settings: CellSettings | None = field(default=None, repr=False)
    choice: Choice | None = field(default=None, repr=False)
    layout: CellLayout | None = field(default=None, repr=False)
    #: The cells' randomization inference (with each assignment's statistics), if used.
    cell_randomization: RandomizationResult | None = field(default=None, repr=False)

    def aggregate(
        self,
        kind: Literal["simple", "group", "dynamic", "calendar"] = "simple",
        *,
        min_rel_time: float = -np.inf,
        max_rel_time: float = np.inf,
        balance_rel_time: int | None = None,
    ) -> AggregateResult:
        """Aggregate the ATT(g,t) (CS 2021, Section 3); see :func:`.aggregate.aggregate`.

        The p-values and intervals follow the fit's inference: under randomization the
        aggregation is recomputed for every re-assignment of the cohorts."""

        result = aggregate(
            self,
            kind,
            min_rel_time=min_rel_time,
            max_rel_time=max_rel_time,
            balance_rel_time=balance_rel_time,
        )
        # ``result`` is this call's own, so it is updated in place (dataclasses.replace
        # would form its influence functions, which are kept lazy)
        choice = self.choice
        if choice is None or self.panel is None or self.settings is None:
            return result
        if choice.method == "unavailable":
            return _blank(result, self.meta["inference"])
        if not isinstance(choice.method, Randomization) or self.layout is None:
            result.meta["inference"] = self.meta["inference"]
            return result
        cluster = self.settings.cluster_name
        collapsed = collapse(self.panel, cluster)
        plan = table_plan(
            self.table,
            self.panel.cohorts,
            kind,
            min_rel_time=min_rel_time,
            max_rel_time=max_rel_time,
            balance_rel_time=balance_rel_time,
        )
        found = randomize(
            collapsed,
            self.layout,
            choice.method,
            self.settings.alpha,
            plan,
            cells=self.cell_randomization,
        )
        table = result.table.copy()
        levels = len(table)
        table["p"] = found.p[:levels]
        table["ci_low"] = found.ci_low[:levels]
        table["ci_high"] = found.ci_high[:levels]
        assert result.overall is not None
        overall = replace(
            result.overall,
            p=found.p[levels],
            ci_low=found.ci_low[levels],
            ci_high=found.ci_high[levels],
        )
        result.table, result.overall = table, overall
        result.meta["inference"] = randomization_inference(found, choice, collapsed, cluster)
        return result

    def cell_influence(self) -> CellInfluence:
        """The influence functions of the cells and of the cohort shares with their
        covariance (:class:`._influence.CellInfluence`): the fit's own, or, for a result
        whose inputs were replaced, one formed from its ``influence``."""
        assert self.if_inference is not None
        own = AttGtResult.influence.source(self)
        if isinstance(own, CellInfluence) and own.describes(
            self.if_inference, self.unit_cohort, self.unit_weights
        ):
            return own
        cohorts = np.unique(self.unit_cohort[np.isfinite(self.unit_cohort)])
        pg, phi = cohort_shares(self.unit_cohort, self.unit_weights, cohorts)
        return CellInfluence(
            self.if_inference,
            self.unit_cohort,
            self.unit_weights,
            pg,
            dense=np.hstack([self.influence, phi]),
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
        """Joint test that all pre-treatment ATT(g,t) are zero (CS 2021, Section 4).

        Uses cells with ``time < cohort - anticipation`` (anticipation periods excluded,
        the universal reference cell excluded). Under randomization inference (the
        default where it is available) the statistic is the sum of the cells' squared t
        statistics and its p-value the share of re-assignments with a larger one
        (:func:`.randomization.joint_test`); with analytic or bootstrap inference it is
        the Wald statistic ``W = θ' V⁺ θ ~ χ²(rank V)`` with ``V`` from the influence
        functions (clustered if the fit is), which over-rejects badly when few clusters
        are treated; where the fit shows no p-values, neither does this test.
        """
        assert self.if_inference is not None
        tab = self.table
        sel = (tab["time"] < tab["cohort"] - self.meta["anticipation"]) & ~tab["reference"]
        idx = np.flatnonzero(sel.to_numpy())
        if idx.size == 0:
            raise DesignError("No pre-treatment ATT(g,t) cells to test.")
        info = self.meta["inference"]
        choice = self.choice
        if (
            choice is not None
            and isinstance(choice.method, Randomization)
            and self.panel is not None
            and self.layout is not None
        ):
            collapsed = collapse(self.panel, self.settings.cluster_name if self.settings else None)
            stat, p, found = joint_test(
                collapsed, self.layout, choice.method, idx, cells=self.cell_randomization
            )
            df: float = float(idx.size)
            method = "Pre-trend randomization test (sum of squared t, ATT(g,t), t<g)"
            info = replace(info, draws=found.draws)
        else:
            est = tab["estimate"].to_numpy()[idx]
            stat, df, p = wald_test(est, self.cell_influence().vcov()[np.ix_(idx, idx)])
            method = "Pre-trend Wald test (ATT(g,t), t<g)"
            if info.procedure == "unavailable":
                p = np.nan
            else:
                info = self.if_inference.describe()
        table = pd.DataFrame({"statistic": [stat], "df": [df], "p": [p]})
        meta: dict[str, object] = {"n_cells": int(idx.size), "inference": info}
        meta["clustered"] = self.if_inference.cluster is not None
        meta["n_clusters"] = self.if_inference.n_clusters
        meta["n_treated_clusters"] = self.meta.get("n_treated_clusters")
        return TestResult(table=table, method=method, meta=meta)


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
    inference: str | Randomization = "auto",
    allow_unbalanced_panel: bool = False,
) -> AttGtResult:
    """Callaway & Sant'Anna (2021) group-time ATTs from a long panel.

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
        clusters for analytic and bootstrap SEs (no small-sample factor), one multiplier
        per cluster, as Callaway & Sant'Anna (2021, Remark 10) and R ``did`` since its
        pull request #261 (2026); earlier R ``did`` versions averaged them within
        clusters, which gives SEs 18-26% apart when cluster sizes differ (1 to 236
        schools per gemeente) and equal ones when they do not. ``None``: the
        level at which the cohorts were assigned, detected from the data (the coarsest
        label column within which every unit has the same cohort, e.g. ``gemeente_code``),
        else none (each unit its own cluster); ``meta["cluster_choice"]`` says which.
    weights
        Time-invariant sampling weights (normalised to mean one).
    n_boot, seed, boot_weights
        ``n_boot > 0``: multiplier bootstrap SEs and a simultaneous band over all
        ATT(g,t) (``cband_*`` columns, ``meta["crit_value"]``); see :mod:`evaluatie.inference.influence`.
    alpha
        ``1 - alpha`` confidence level.
    inference
        Where the p-values and intervals of the cells and of :meth:`~AttGtResult.aggregate`
        come from: ``"auto"`` (default: randomization inference, or the multiplier
        bootstrap when ``n_boot > 0``; :mod:`evaluatie.inference.choice`), ``"analytic"``
        (influence functions), ``"bootstrap"`` (multiplier, ``n_boot`` draws, 999 if 0),
        ``"randomization"`` (the cohorts re-assigned among the clusters; no covariates)
        or a :class:`~evaluatie.inference.Randomization`. ``se`` stays the analytic (or
        bootstrap) one; ``p``, ``ci_low`` and ``ci_high`` are those of the inference used.
        With covariates, or on an unbalanced panel, ``"auto"`` uses the analytic
        p-values only with at least 50 treated and 50 untreated clusters, and shows none
        otherwise.
    allow_unbalanced_panel
        ``False`` (default, as R ``did``): units not observed in every period are
        dropped, and counted in ``meta["units_dropped_unbalanced"]``. ``True``: they are
        kept and every cell is estimated as two repeated cross sections (R ``did``'s
        ``allow_unbalanced_panel``; :mod:`.unbalanced`), which assumes that whether a
        unit is observed is unrelated to its outcome trend; ``n_treated`` and
        ``n_control`` then count the units observed in ``t`` or ``b``, and
        ``meta["units_unbalanced_kept"]`` the incomplete units. Without covariates only.
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

    method = _parse_inference(inference, int(n_boot))
    if method == "bootstrap" and n_boot == 0:
        n_boot = 999
    cluster_reason = ""
    if cluster is None and isinstance(data, pd.DataFrame) and {unit, time, cohort} <= set(data):
        cohort_col = data[cohort]
        if pd.api.types.is_numeric_dtype(cohort_col):  # no conversion, one pass
            cohort_values = cohort_col.to_numpy(dtype=float, na_value=0.0)
        else:
            cohort_values = pd.to_numeric(cohort_col, errors="coerce").fillna(0).to_numpy(float)
        cluster, cluster_reason = default_cluster(
            data,
            None,
            unit=unit,
            time=time,
            values=cohort_values,
            exclude={outcome, cohort, *covariates, *([weights] if weights else [])},
        )
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
        allow_unbalanced=bool(allow_unbalanced_panel),
    )
    if panel.cohorts.size == 0:
        raise DesignError(f"No treated cohort remains in {cohort!r}: every unit is never treated.")
    if control == "never_treated" and not np.isinf(panel.cohort).any():
        raise DesignError(
            "control='never_treated' but no unit is never treated (cohort 0 or NaN); "
            "use control='not_yet_treated'."
        )

    if n_boot > 0 and seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] % 2**63)
        call["arguments"]["seed"] = seed  # the draws this result holds can be redrawn
    settings = CellSettings(
        control=control,
        est_method=est_method,
        anticipation=int(anticipation),
        base_period=base_period,
        alpha=alpha,
        n_boot=int(n_boot),
        boot_weights=boot_weights,
        seed=None if seed is None else int(seed),
        cluster_name=cluster,
    )
    fitted = fit_cells(panel, settings)
    table, crit, infer = fitted.table, fitted.crit, fitted.if_inference
    periods = panel.periods
    choice = _choose(method, panel, cluster)
    info = infer.describe()
    info = replace(info, note=choice.reason + ".")
    cells = None
    if isinstance(choice.method, Randomization):
        table, info, cells = _randomize_cells(table, panel, fitted.layout, choice, settings)
    elif choice.method == "unavailable":
        table, info = _unavailable(table, info, choice)
    meta: dict[str, object] = {
        "outcome": outcome,
        "est_method": est_method,
        "control": control,
        "base_period": base_period,
        "anticipation": int(anticipation),
        "covariates": list(covariates),
        "n_units": panel.n,
        "n_obs": panel.y.size if panel.balanced else int(np.isfinite(panel.y).sum()),
        "n_periods": len(periods),
        "n_cohorts": int(panel.cohorts.size),
        "alpha": alpha,
        **infer.meta(),
        "inference": info,
        "cluster_choice": cluster_reason
        or (f"clustered by {cluster!r} as asked" if cluster else ""),
        "n_treated_clusters": _treated_clusters(panel),
        "crit_value": crit,
        **panel.notes,
        "call": call,
    }
    return AttGtResult(
        table=table,
        method=f"Callaway-Sant'Anna ATT(g,t) [{est_method}, {control}]",
        meta=meta,
        influence=Deferred(fitted.cells.cells, source=fitted.cells),
        unit_cohort=panel.cohort,
        unit_weights=panel.weights,
        if_inference=infer,
        boot_draws=fitted.draws,
        panel=panel,
        settings=settings,
        choice=choice,
        layout=fitted.layout,
        cell_randomization=cells,
    )


@dataclass(frozen=True)
class CellSettings:
    """How ATT(g,t) cells are estimated and their uncertainty computed (att_gt's options)."""

    control: str
    est_method: str
    anticipation: int
    base_period: str
    alpha: float
    n_boot: int = 0
    boot_weights: str = "mammen"
    seed: int | None = None
    cluster_name: str | None = None


@dataclass(frozen=True)
class FittedCells:
    table: pd.DataFrame
    crit: float | None
    cells: CellInfluence
    draws: np.ndarray | None
    if_inference: IFInference
    layout: CellLayout

    @property
    def influence(self) -> np.ndarray:
        """The cells' unit-level influence functions (``n × K``)."""
        return self.cells.cells()


def fit_cells(panel: PanelData, settings: CellSettings) -> FittedCells:
    """Every ATT(g,t) of a prepared panel, with influence functions and (optionally)
    bootstrap draws, and the layout of the cells that randomization inference re-uses."""
    control, anticipation = settings.control, settings.anticipation
    cells = _enumerate_cells(panel.periods, panel.cohorts, anticipation, settings.base_period)
    groups = _groups(panel, cells, control, anticipation)
    n_t, n_c = groups.size @ groups.treated, groups.size @ groups.control
    empty = (n_c == 0) & ~cells.reference
    why = "without comparison units"
    if not panel.balanced:  # a group may have nobody observed in t or in b
        n_t, n_c, seen = _observed_counts(panel, cells, groups)
        empty = ~seen & ~cells.reference
        why = "whose treated or comparison units are not observed in both periods"
    if empty.any():
        bad = [
            (g, panel.periods[j])
            for g, j in zip(cells.cohort[empty], cells.t_idx[empty], strict=True)
        ]
        warnings.warn(
            f"Dropped {int(empty.sum())} ATT(g,t) cell(s) {why}: {bad}.",
            UserWarning,
            stacklevel=3,
        )
        keep = ~empty
        cells = _Cells(*(getattr(cells, f)[keep] for f in _Cells.__dataclass_fields__))
        groups = _Groups(
            groups.unit_group, groups.treated[:, keep], groups.control[:, keep], groups.size
        )
        n_t, n_c = n_t[keep], n_c[keep]

    infer = IFInference(
        n=panel.n,
        alpha=settings.alpha,
        cluster=panel.cluster,
        n_boot=settings.n_boot,
        boot_weights=settings.boot_weights,
        seed=settings.seed,
        cluster_name=settings.cluster_name,
    )
    att, influence, fit = _estimate(panel, cells, groups, settings.est_method, infer)
    draws = _bootstrap(infer, panel, groups, cells, influence, fit) if settings.n_boot > 0 else None
    periods = panel.periods
    g_out = _as_time_dtype(cells.cohort, periods)
    left = {
        "cohort": g_out,
        "time": periods[cells.t_idx],
        "base": periods[cells.b_idx],
        "rel_time": periods[cells.t_idx] - g_out,
        "pre": periods[cells.t_idx] < cells.cohort,
        "reference": cells.reference,
        "n_treated": n_t,
        "n_control": n_c,
    }
    if draws is None:
        stats = analytic_stats(infer, att, np.diag(influence.vcov())[: len(att)])
        table, crit = pd.DataFrame({**left, **dict(zip(STAT_COLUMNS, stats.T, strict=True))}), None
    else:
        table, crit = infer.table(
            att, influence.cells(), left, band=~cells.reference, draws=draws[:, : len(att)]
        )
    layout = CellLayout(
        cells.t_idx, cells.b_idx, cells.reference, groups.treated, groups.control, panel.cohorts
    )
    return FittedCells(table, crit, influence, draws, infer, layout)


def _estimate(
    panel: PanelData, cells: _Cells, groups: _Groups, method: str, infer: IFInference
) -> tuple[np.ndarray, CellInfluence, MeansFit | None]:
    """ATT and the influence functions of every cell and of the cohort shares
    (:class:`._influence.CellInfluence`; and, without covariates, the closed-form fit of
    the estimated cells).

    A cell's 2×2 influence function, relative to its ``m`` units, is rescaled by ``n/m``
    and set to zero for units outside the cell, so ``θ̂ - θ ≈ (1/n) Σ_i ψ_i`` over all units.
    The universal-base reference cells stay at zero.
    """
    n, k = panel.n, len(cells.cohort)
    est = np.flatnonzero(~cells.reference)
    pg, phi = cohort_shares(panel.cohort, panel.weights, panel.cohorts)
    att = np.zeros(k)
    if panel.balanced and panel.x is None:
        fit = did_means(
            panel.y,
            cells.t_idx[est],
            cells.b_idx[est],
            groups.bounds,
            groups.treated[:, est],
            groups.control[:, est],
            panel.weights,
        )
        att[est] = fit.att
        return att, _factored(panel, est, k, fit, infer, pg), fit
    inf = np.zeros((n, k))
    if not panel.balanced:
        att[est], inf[:, est] = did_means_unbalanced(
            panel.y,
            cells.t_idx[est],
            cells.b_idx[est],
            groups.treated[groups.unit_group][:, est],
            groups.control[groups.unit_group][:, est],
            panel.weights,
        )
    else:
        att[est], inf[:, est] = _by_shared_design(panel, cells, groups, method, est)
    dense = np.hstack([inf, phi])
    return att, CellInfluence(infer, panel.cohort, panel.weights, pg, dense=dense), None


def _factored(
    panel: PanelData, est: np.ndarray, k: int, fit: MeansFit, infer: IFInference, pg: np.ndarray
) -> CellInfluence:
    """The cells' and cohort shares' influence functions of a closed-form fit as
    ``Ψ_i = z_i B_h`` (:mod:`._influence`), ``z_i = (w_i y_i, w_i, 1)``: the cells'
    columns are ``n`` times the fit's coefficients (zero for reference cells), cohort
    share ``g``'s is ``w_i`` in group ``g`` minus ``P_g``."""
    n_groups, width, _ = fit.coef.shape  # width = T + 1, the last column of x is w
    n_cohorts = len(pg)
    coef = np.zeros((n_groups, width + 1, k + n_cohorts))
    coef[:, :width, est] = panel.n * fit.coef
    coef[np.arange(n_cohorts), width - 1, k + np.arange(n_cohorts)] = 1.0
    coef[:, width, k:] = -pg
    z = np.column_stack([fit.x, np.ones(panel.n)])
    return CellInfluence(infer, panel.cohort, panel.weights, pg, factors=(z, fit.bounds, coef))


def _by_shared_design(
    panel: PanelData, cells: _Cells, groups: _Groups, method: str, est: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ATT and influence functions ``(n, len(est))`` of the cells ``est`` with
    covariates, one 2×2 estimator call per set of cells sharing their design."""
    assert panel.x is not None
    n = panel.n
    att, inf = np.zeros(len(est)), np.zeros((n, len(est)))
    position = np.empty(len(cells.cohort), dtype=int)
    position[est] = np.arange(len(est))
    estimator = ESTIMATORS[method]
    for cols in _shared_designs(cells, groups, _covariate_periods(panel.x), est):
        first = int(cols[0])
        sub, d = groups.members(first)
        rows = np.flatnonzero(sub)
        x_period = min(cells.t_idx[first], cells.b_idx[first])
        x = np.column_stack([np.ones(rows.size), panel.x[rows, x_period, :]])
        y = panel.y[rows]
        try:
            fit = estimator(
                y[:, cells.t_idx[cols]] - y[:, cells.b_idx[cols]],
                d.astype(float),
                x,
                panel.weights[rows],
            )
        except DesignError as exc:
            g, t = cells.cohort[first], panel.periods[cells.t_idx[first]]
            raise DesignError(f"ATT(g={g:g}, t={t}): {exc}") from exc
        att[position[cols]] = fit.att
        inf[np.ix_(rows, position[cols])] = fit.inf * (n / rows.size)
    return att, inf


def _covariate_periods(x: np.ndarray) -> np.ndarray:
    """For every period, the first period with the same covariate values for every unit
    (all periods map to the first when the covariates are time-invariant, as usual)."""
    same = np.arange(x.shape[1])
    for j in range(1, x.shape[1]):
        for i in np.unique(same[:j]).tolist():
            # a few rows first: time-varying covariates usually differ there already
            if np.array_equal(x[:64, j], x[:64, i]) and np.array_equal(x[:, j], x[:, i]):
                same[j] = i
                break
    return same


def _shared_designs(
    cells: _Cells, groups: _Groups, x_period: np.ndarray, est: np.ndarray
) -> list[np.ndarray]:
    """The estimated cells (positions in ``est``) in sets that share their 2×2 design:
    the same treated and comparison groups and the same covariate values (taken at the
    earlier of ``t`` and ``b``), so the same propensity score and outcome-regression
    Gram matrix; they differ only in the outcome change. Ordered by their first cell."""
    sets: dict[tuple[bytes, bytes, int], list[int]] = {}
    for k in est.tolist():
        period = int(x_period[min(cells.t_idx[k], cells.b_idx[k])])
        key = (groups.treated[:, k].tobytes(), groups.control[:, k].tobytes(), period)
        sets.setdefault(key, []).append(k)
    return [np.array(ks) for ks in sets.values()]


def _observed_counts(
    panel: PanelData, cells: _Cells, groups: _Groups
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unbalanced panel: treated and comparison units observed in ``t`` or ``b`` of each
    cell, and whether each of the four groups of the cell has someone observed."""
    counts = [
        observed_units(panel.y, cells.t_idx, cells.b_idx, members[groups.unit_group])
        for members in (groups.treated, groups.control)
    ]
    seen = np.all([c > 0 for pair in counts for c in pair[:2]], axis=0)
    return counts[0][2], counts[1][2], seen


def _bootstrap(
    infer: IFInference,
    panel: PanelData,
    groups: _Groups,
    cells: _Cells,
    influence: CellInfluence,
    fit: MeansFit | None,
) -> np.ndarray:
    """Bootstrap draws of the cells' and the cohort shares' influence functions
    (``n_boot × (K + C)``); via the closed-form factorisation when available."""
    if fit is None or infer.cluster is not None:
        return infer.draws(influence.dense())
    pg = influence.shares
    z, vbar = infer.draws_by_block(fit.x, groups.bounds)
    k = len(cells.cohort)
    out = np.zeros((infer.n_boot, k + len(pg)))
    est = np.flatnonzero(~cells.reference)
    out[:, est] = panel.n * np.matmul(z, fit.coef).sum(axis=0)
    out[:, k:] = z[: len(pg), :, -1].T - pg * vbar[:, None]
    return out


def _as_time_dtype(values: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Cohort values in the dtype of the time column when they are whole numbers."""
    if np.issubdtype(periods.dtype, np.integer) and np.all(values == np.round(values)):
        return values.astype(periods.dtype)
    return values


def _blank(result: AggregateResult, info: Inference) -> AggregateResult:
    """An aggregation whose inference is unavailable: no p-values or intervals (``result``
    updated in place)."""
    table = result.table.copy()
    table.loc[:, ["p", "ci_low", "ci_high", "cband_low", "cband_high"]] = np.nan
    assert result.overall is not None
    result.table = table
    result.overall = replace(
        result.overall, p=np.nan, ci_low=np.nan, ci_high=np.nan, note=info.note
    )
    result.meta["inference"] = info
    return result


#: The names ``att_gt(inference=...)`` takes.
INFERENCE = ("auto", "analytic", "bootstrap", "randomization")


def _parse_inference(inference: object, n_boot: int) -> str | Randomization:
    if isinstance(inference, Randomization):
        return inference
    if inference == "wild":
        raise ParameterError(
            "att_gt has no wild cluster bootstrap; its bootstrap is the multiplier bootstrap "
            "of the influence functions: inference='bootstrap'"
        )
    if inference not in INFERENCE:
        raise ParameterError(f"inference must be one of {INFERENCE}, got {inference!r}.")
    if inference == "auto" and n_boot > 0:
        return "bootstrap"  # asking for bootstrap draws is asking for the bootstrap
    if inference in ("analytic", "randomization") and n_boot > 0:
        raise ParameterError(f"inference={inference!r} and n_boot={n_boot} contradict each other")
    return str(inference)


def _treated_clusters(panel: PanelData) -> int:
    treated = np.isfinite(panel.cohort)
    if panel.cluster is None:
        return int(treated.sum())
    return int(np.unique(panel.cluster[treated]).size)


def _choose(method: str | Randomization, panel: PanelData, cluster: str | None) -> Choice:
    n_clusters = panel.n if panel.cluster is None else int(panel.cluster.max()) + 1
    unit = f"{cluster} clusters" if cluster else "units"
    n_treated = _treated_clusters(panel)
    if method == "bootstrap":
        return Choice("bootstrap", f"multiplier bootstrap requested ({n_treated} treated {unit})")
    can_randomize = panel.x is None and panel.balanced
    if (method == "randomization" or isinstance(method, Randomization)) and not can_randomize:
        raise DesignError(
            "randomization inference for att_gt needs a balanced panel without covariates "
            "(the cells are re-estimated per assignment from each unit's mean change); "
            "use inference='analytic' or 'bootstrap'"
        )
    return choose(
        method, n_clusters=n_clusters, n_treated=n_treated, unit=unit, randomization=can_randomize
    )


def _randomize_cells(
    table: pd.DataFrame,
    panel: PanelData,
    layout: CellLayout,
    choice: Choice,
    settings: CellSettings,
) -> tuple[pd.DataFrame, Inference, RandomizationResult]:
    method = choice.method
    assert isinstance(method, Randomization)
    collapsed = collapse(panel, settings.cluster_name)
    found = randomize(collapsed, layout, method, settings.alpha)
    out = table.copy()
    out["p"], out["ci_low"], out["ci_high"] = found.p, found.ci_low, found.ci_high
    info = randomization_inference(found, choice, collapsed, settings.cluster_name)
    return out, info, found


def randomization_inference(
    found: RandomizationResult, choice: Choice, collapsed: Collapsed, cluster: str | None
) -> Inference:
    """The :class:`Inference` of a randomization result on ``collapsed``."""
    method = choice.method
    assert isinstance(method, Randomization)
    note = choice.reason + "."
    note += (
        f" All {found.draws} distinct assignments enumerated (exact p-values, resolution "
        f"{1 / found.draws:.2g})."
        if found.enumerated
        else f" {found.draws} assignments: the observed one and {found.draws - 1} random ones."
    )
    note += (
        " Valid when the assignment was random; otherwise it assumes the units are "
        "exchangeable. Intervals: the constant effects the test does not reject."
    )
    return Inference(
        procedure="randomization",
        se=f"{method.statistic} statistic, cohorts re-assigned among {collapsed.n} "
        f"{collapsed.level}",
        distribution="permutation",
        cluster=cluster,
        n_clusters=collapsed.n,
        draws=found.draws,
        note=note,
    )


def _unavailable(
    table: pd.DataFrame, info: Inference, choice: Choice
) -> tuple[pd.DataFrame, Inference]:
    out = table.copy()
    out.loc[:, ["p", "ci_low", "ci_high", "cband_low", "cband_high"]] = np.nan
    note = (
        f"{choice.reason}: too few on one side for analytic p-values to be trusted, and "
        "randomization inference needs a fit without covariates, so none are shown; "
        "inference='analytic' shows the analytic ones anyway."
    )
    return out, replace(info, procedure="unavailable", note=note)
