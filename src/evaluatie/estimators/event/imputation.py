r"""Borusyak, Jaravel & Spiess (2024) imputation event-study estimator.

Borusyak, K., Jaravel, X. & Spiess, J. (2024), "Revisiting event-study designs: robust
and efficient estimation", *Review of Economic Studies* (BJS).

Model and estimand (BJS Section 2): untreated outcomes follow
``Y_it(0) = alpha_i + lambda_t + e_it`` (parallel trends) and there is no anticipation,
so the untreated observations ``Omega_0`` (never treated, and eventually treated units
before adoption) identify the fixed effects. With ``tau_it = Y_it - Y_it(0)`` the
target at relative period ``l`` is ``tau_l = sum_{it: rel=l} w_it tau_it`` with equal
weights per treated observation (or ``w_it`` proportional to ``weights``); the
endpoint ``upper`` pools every treated observation with ``rel >= upper``.

Estimation (BJS Theorem 2): (1) fit ``alpha_i + lambda_t`` by (weighted) least squares
on ``Omega_0``; (2) impute ``Y_hat_it(0)`` for treated observations and set
``tau_hat_it = Y_it - Y_hat_it(0)``; (3) average: ``tau_hat_l = sum w_it tau_hat_it``.
Treated observations of a unit or period without untreated observations cannot be
imputed; they are dropped with a warning (as ``did_imputation``'s ``autosample``).
The fixed effects are recovered exactly: ``lambda`` by Frisch-Waugh-Lovell after the
(exact, single-factor) within-unit transformation of the period dummies, then
``alpha_i`` as the unit mean of ``y - lambda_t``; everything works on unit-period
cells, as the period dummies are constant within a cell.

Standard errors: BJS's conservative clustered variance (Theorem 3, eq. 7-8), without
the leave-out refinement of their appendix:
``Var_hat(tau_hat_l) = sum_c (sum_{it in c} v_it eps_it)^2`` over clusters ``c``
(default the unit). ``v_it`` are the estimator's implied weights: ``w_it`` on treated
observations and ``v_0 = -W_0 Z_0 (Z_0' W_0 Z_0)^{-1} Z_1' w_1`` on untreated ones
(``Z`` the fixed-effect dummies, ``W`` the regression weights). ``eps_it`` is the
first-step residual on untreated observations and ``tau_hat_it - tau_tilde_gt`` on
treated ones, ``tau_tilde_gt = sum v^2 tau_hat / sum v^2`` over the observations of
cohort ``g`` in period ``t`` (the cohort x relative-period partition, ``v^2`` weights as
R ``didimputation``). No small-sample factor; normal inference. The covariance of the
post-period estimates is ``S'S`` from the cluster sums ``S``.

Pre-periods (BJS's parallel-trends test, Section 4): leads come from regressing ``y``
on unit and period effects and lead dummies ``1[rel = l]``, ``lower <= l <= -1``, on
the untreated observations only, omitting ``reference``. With ``reference = lower``
this is BJS's test with the binned tail (and the never treated) as the omitted group;
the default ``-1`` gives leads relative to the period before adoption, as diff-diff's
``pretrends=True``. Their SEs follow ``vcov`` (CRV1 by default, t with ``G - 1`` df);
``meta["pretrend_test"]`` is the joint Wald test of all leads (``F = W / q`` against
``F(q, df)``). Covariances between leads and post-period estimates are not computed
(NaN in ``vcov``). The ``reference`` row (estimate 0) belongs to the leads.
Anticipation and covariates are not supported through ``event_study``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import special

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Inference, inference_table
from evaluatie.engine.within import FixedEffects, combine_codes
from evaluatie.estimators.event.design import (
    EventDesign,
    EventStudyResult,
    analytic_only,
    design_meta,
    event_table,
    nonempty_periods,
    pretrend_summary,
    unavailable_p,
)
from evaluatie.estimators.sample import build_sample, fit_panel, sample_meta
from evaluatie.inference.wald import wald_test


class _FirstStage:
    """``alpha_i + lambda_t`` fitted on the untreated rows, on unit-period cells.

    ``unit``/``time`` are the row codes of the untreated rows, ``y`` and ``w`` their
    outcome and weights. Periods are dummies (the first untreated period omitted).
    """

    def __init__(
        self,
        unit: np.ndarray,
        time: np.ndarray,
        n_levels: tuple[int, int],
        y: np.ndarray,
        w: np.ndarray,
    ) -> None:
        self.unit_present = np.bincount(unit, minlength=n_levels[0]) > 0
        self.unit_map = np.cumsum(self.unit_present) - 1
        u = self.unit_map[unit]
        self.n_units = int(self.unit_present.sum())
        self.time_present = np.bincount(time, minlength=n_levels[1]) > 0
        self.time_map = np.cumsum(self.time_present) - 1
        t = self.time_map[time]
        self.n_times = int(self.time_present.sum())
        self.row_cell, n_cells = combine_codes([u, t], [self.n_units, self.n_times])
        self.cell_w = np.bincount(self.row_cell, weights=w, minlength=n_cells)
        cell_y = np.bincount(self.row_cell, weights=w * y, minlength=n_cells) / self.cell_w
        self.cell_u = np.empty(n_cells, dtype=np.intp)
        self.cell_t = np.empty(n_cells, dtype=np.intp)
        self.cell_u[self.row_cell], self.cell_t[self.row_cell] = u, t
        self.unit_w = np.bincount(self.cell_u, weights=self.cell_w, minlength=self.n_units)
        fe = FixedEffects([self.cell_u], [self.n_units], self.cell_w)
        dummies = (self.cell_t[:, None] == np.arange(1, self.n_times)[None, :]).astype(float)
        self.s_tilde = fe.demean(dummies).values.reshape(n_cells, -1)
        gram = self.s_tilde.T @ (self.s_tilde * self.cell_w[:, None])
        if self.n_times > 1 and np.linalg.eigvalsh(gram)[0] <= 1e-10 * np.trace(gram):
            raise DesignError(
                "the period effects are not identified from the untreated observations "
                "(the units' untreated periods do not connect all periods)"
            )
        self.gram_inv = np.linalg.inv(gram) if self.n_times > 1 else np.zeros((0, 0))
        gamma = self.gram_inv @ (self.s_tilde.T @ (self.cell_w * cell_y))
        self.lam = np.concatenate([[0.0], gamma])
        alpha_sum = np.bincount(
            self.cell_u,
            weights=self.cell_w * (cell_y - self.lam[self.cell_t]),
            minlength=self.n_units,
        )
        self.alpha = alpha_sum / self.unit_w

    def imputable(self, unit: np.ndarray, time: np.ndarray) -> np.ndarray:
        """Rows whose unit and period both have untreated observations."""
        return self.unit_present[unit] & self.time_present[time]

    def fitted(self, unit: np.ndarray, time: np.ndarray) -> np.ndarray:
        return self.alpha[self.unit_map[unit]] + self.lam[self.time_map[time]]

    def untreated_weights(
        self, unit1: np.ndarray, time1: np.ndarray, w1: np.ndarray, unit0_w: np.ndarray
    ) -> np.ndarray:
        """Implied weights ``v_0`` on the untreated rows (rows x estimands).

        ``w1`` (treated rows x estimands) are the aggregation weights. With
        ``alpha_hat_i = mean_i(y) - sbar_i' gamma`` and ``gamma = A^{-1} S~' W y``,
        ``sum_j w_j Y_hat_j(0)`` is linear in the untreated ``y`` with coefficient
        ``w_r [W1_i / W0_i + s~_r' A^{-1} q]``, ``q = sum_j w_j (s_j - sbar_i(j))``.
        ``unit0_w`` are the untreated rows' weights.
        """
        w1_unit = _group_sums(self.unit_map[unit1], self.n_units, w1)
        w1_time = _group_sums(self.time_map[time1], self.n_times, w1)
        # sum_i W1_i sbar_i: each untreated cell adds W_c / W0_i * W1_i to its period
        share = (self.cell_w / self.unit_w[self.cell_u])[:, None] * w1_unit[self.cell_u]
        q = w1_time[1:] - _group_sums(self.cell_t, self.n_times, share)[1:]
        per_cell = w1_unit[self.cell_u] / self.unit_w[self.cell_u, None]
        per_cell += self.s_tilde @ (self.gram_inv @ q)
        return -unit0_w[:, None] * per_cell[self.row_cell]


def _group_sums(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Column sums of ``values`` (rows x k) within groups ``codes`` -> (n_groups x k)."""
    return np.column_stack(
        [
            np.bincount(codes, weights=values[:, j], minlength=n_groups)
            for j in range(values.shape[1])
        ]
    ).reshape(n_groups, values.shape[1])


def _leads(design: EventDesign, untreated: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """BJS pre-trend test: lead coefficients from a TWFE regression on untreated rows."""
    lower, ref = design.window[0], design.reference
    periods = [p for p in range(lower, 0) if p != ref]
    rows = np.flatnonzero(untreated)
    rel = design.rel_time[rows]
    sample = build_sample(
        design.data.iloc[rows],
        outcome=design.outcome,
        regressors={f"rel_time={p}": (rel == p).astype(float) for p in periods}
        or {"none": np.zeros(rows.size)},  # no leads: the sample only counts rows
        unit=design.unit,
        time=design.time,
        cluster=design.cluster,
        weights=design.weights,
    )
    rel = rel if sample.rows is None else rel[sample.rows]
    n_by_period = {p: int(np.count_nonzero(rel == p)) for p in range(lower, 0)}
    kept, empty = nonempty_periods(periods, n_by_period)
    info: dict = {"empty_lead_periods": empty, "n_by_period": n_by_period}
    if not kept:
        none = np.empty(0)
        return inference_table(none, none, pd.Index([], name="rel_time")), np.zeros((0, 0)), info
    if n_by_period[ref] == 0:
        raise DesignError(
            f"the reference period {ref} has no untreated observations of treated units; "
            "choose another reference"
        )
    present = np.array([p in kept for p in periods])
    sample.x, sample.names = sample.x[:, present], [f"rel_time={p}" for p in kept]
    fit = fit_panel(sample, design.convention, "numpy")
    se = np.sqrt(np.diag(fit.vcov.matrix))
    table = inference_table(
        fit.coef, se, pd.Index(kept, name="rel_time"), df=fit.vcov.t_df, alpha=design.alpha
    )
    stat, q, _ = wald_test(fit.coef, fit.vcov.matrix)
    f_stat = stat / q
    info["pretrend_test"] = {
        "F": f_stat,
        "df1": q,
        "df2": fit.vcov.df,
        "p": float(special.fdtrc(q, fit.vcov.df, f_stat)),
        "wald": stat,
    }
    info["lead_sample"] = sample_meta(sample, fit, design.cluster_column)
    return table, fit.vcov.matrix, info


def fit_imputation(design: EventDesign) -> EventStudyResult:
    """BJS (2024) imputation event study for ``event_study(method="imputation")``."""
    upper = design.window[1]
    if design.reference >= 0 or upper < 0:
        raise ParameterError(
            "estimator='imputation' estimates every post-adoption period without a "
            "reference: reference must be negative and window must reach period 0, "
            f"got window={design.window}, reference={design.reference}"
        )
    if not design.convention.clustered:
        raise ParameterError(
            "estimator='imputation' uses BJS's clustered variance; vcov must be a clustered "
            f"convention (default 'CRV1'), got {design.convention.name!r}"
        )
    treated = design.ever_treated & (design.time_values >= design.cohort_values)
    sample = build_sample(
        design.data,
        outcome=design.outcome,
        regressors={"treated": treated.astype(float)},
        unit=design.unit,
        time=design.time,
        cluster=design.cluster,
        weights=design.weights,
        drop_singletons=False,
    )
    rows = np.arange(sample.n_obs) if sample.rows is None else sample.rows
    d = sample.x[:, 0] > 0
    w = np.ones(sample.n_obs) if sample.weights is None else sample.weights
    if d.all():
        raise DesignError("every observation is treated: nothing to impute Y(0) from")
    levels = (sample.n_units, sample.n_periods)
    first = _FirstStage(sample.unit[~d], sample.time[~d], levels, sample.y[~d], w[~d])
    ok = ~d | first.imputable(sample.unit, sample.time)
    n_dropped = int((~ok).sum())
    if n_dropped:
        warnings.warn(
            f"{n_dropped} treated observations belong to units or periods without "
            "untreated observations; their Y(0) cannot be imputed and they are left out",
            UserWarning,
            stacklevel=3,
        )
    t1 = np.flatnonzero(d & ok)
    if t1.size == 0:
        raise DesignError("no treated observation can be imputed")
    u0 = np.flatnonzero(~d)
    tau = sample.y[t1] - first.fitted(sample.unit[t1], sample.time[t1])
    resid0 = sample.y[u0] - first.fitted(sample.unit[u0], sample.time[u0])

    rel1 = design.rel_time[rows[t1]].astype(np.int64)
    post = list(range(0, upper + 1))
    n_by_period = {p: int(np.count_nonzero(rel1 == p)) for p in post}
    kept, empty = nonempty_periods(post, n_by_period)
    h = np.searchsorted(kept, rel1)
    mass = np.bincount(h, weights=w[t1], minlength=len(kept))
    w1 = np.zeros((t1.size, len(kept)))
    w1[np.arange(t1.size), h] = w[t1] / mass[h]
    estimate = w1.T @ tau

    # tau_tilde: v^2-weighted mean of tau_hat by cohort x period (v proportional to w)
    cohorts, cohort_code = np.unique(design.cohort_values[rows[t1]], return_inverse=True)
    group, n_groups = combine_codes(
        [cohort_code, sample.time[t1]], [cohorts.size, sample.n_periods]
    )
    v2 = w[t1] ** 2
    tau_tilde = np.bincount(group, weights=v2 * tau, minlength=n_groups) / np.bincount(
        group, weights=v2, minlength=n_groups
    )
    v0 = first.untreated_weights(sample.unit[t1], sample.time[t1], w1, w[u0])
    cluster = sample.unit if sample.cluster is None else sample.cluster
    n_clusters = sample.n_units if sample.cluster is None else int(sample.n_clusters or 0)
    scores = _group_sums(cluster[u0], n_clusters, v0 * resid0[:, None])
    scores += _group_sums(cluster[t1], n_clusters, w1 * (tau - tau_tilde[group])[:, None])
    vcov_post = scores.T @ scores
    post_index = pd.Index(kept, name="rel_time")
    post_table = inference_table(
        estimate, np.sqrt(np.diag(vcov_post)), post_index, alpha=design.alpha
    )

    lead_table, lead_vcov, info = _leads(design, ~treated)
    n_by_period.update(info.pop("n_by_period"))
    index = pd.Index([*lead_table.index, *kept], name="rel_time")
    vcov = np.full((index.size, index.size), np.nan)
    k = lead_table.shape[0]
    vcov[:k, :k], vcov[k:, k:] = lead_vcov, vcov_post
    table = event_table(pd.concat([lead_table, post_table]), design.reference, n_by_period)
    base = Inference(
        procedure="analytic",
        se="BJS (2024) Theorem 3 conservative clustered variance, tau_tilde by cohort x "
        "period (v^2-weighted), no leave-out",
        distribution="normal",
        cluster=design.cluster or design.unit,
        n_clusters=n_clusters,
        note=f"Leads: {design.convention.name} from the pre-trend regression on the "
        "untreated rows (t distribution).",
    )
    table, inference, extra = analytic_only(design, table, base, estimator="imputation", rows=rows)
    pretrend = None
    if k:
        found = info.get("pretrend_test") or {}
        pretrend = pretrend_summary(
            lead_table["estimate"].to_numpy(),
            lead_vcov,
            list(range(k)),
            inference,
            p=unavailable_p(inference) if inference.procedure == "unavailable" else found.get("p"),
            n_clusters=n_clusters,
            n_treated_clusters=extra["n_treated_clusters"],
        )
    meta = {
        **design_meta(design, "imputation", rows),
        "estimand": "mean of tau_it over treated observations at each relative period",
        "inference": inference,
        **extra,
        "pretrend": pretrend,
        "empty_rel_times": empty,
        "n_obs": int(t1.size + u0.size),
        "n_untreated": int(u0.size),
        "n_treated": int(t1.size),
        "dropped_unimputable": n_dropped,
        "n_clusters": n_clusters,
        "n_input_rows": sample.n_input,
        "dropped_missing": sample.dropped_missing,
        "missing_by_column": sample.missing_by_column,
        **info,
        "call": design.call,
    }
    return EventStudyResult(
        table=table,
        method="event_study[imputation]",
        meta=meta,
        vcov=pd.DataFrame(vcov, index=index, columns=index),
    )
