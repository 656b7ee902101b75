r"""Sun & Abraham (2021) interaction-weighted (IW) event-study estimator.

Sun, L. & Abraham, S. (2021), "Estimating dynamic treatment effects in event studies
with heterogeneous treatment effects", *Journal of Econometrics* 225(2).

Step 1 (SA Section 4): the saturated regression on cohort x relative-time interactions,

    y_it = alpha_i + lambda_t + sum_{g != C} sum_{l != reference} delta_{g,l}
           * 1[G_i = g] * 1[rel_time_it = l] + u_it,

with unit and period fixed effects absorbed as in the TWFE path. ``delta_{g,l}`` is
the cohort-specific effect ``CATT_{g,l}`` relative to the reference period.
Steps 2-3 (SA Section 4): the IW estimate at ``l`` averages the cohort coefficients,

    nu_l = sum_g w_{g,l} * delta_{g,l},  w_{g,l} = N_{g,l} / sum_h N_{h,l},

with ``N_{g,l}`` the number of treated observations of cohort ``g`` at ``l`` in the
estimation sample (the sum of the regression weights when ``weights`` is given): the
cohort's share among treated observations at ``l``. With one row per unit-period this
is SA's ``Pr(G = g | G in cohorts observed at l)``; with several rows per cell (pupils)
it weights cohorts by their observations, as fixest's ``sunab`` aggregation does.

Estimand and assumptions (SA Section 2): ``nu_l`` is the average effect on the
treated observations ``l`` periods after adoption (relative to the reference period)
under parallel trends and no anticipation, without homogeneity across cohorts.

Control cohort ``C``: the never-treated units. If every unit is eventually treated,
the last-treated cohort is the control (as SA suggest) and the sample is restricted
to periods before it is treated (``time < max cohort``), with a warning. A cohort with
no observation at the reference period (e.g. treated from the first sample period) has
unidentified interactions and is dropped with a warning (``meta["dropped_cohorts"]``).

Binned endpoints: the binning is applied to relative time *before* interacting, so
each cohort has its own endpoint dummy ``1[G=g] 1[rel <= lower]``. Its coefficient is
the cohort's average effect over the binned periods only if that effect is constant
within the bin (otherwise a regression-weighted mix of them); the IW step then weights
cohorts by their observations in the bin.

Standard errors: the delta method with the *full* covariance of the interaction
coefficients, ``V(nu) = W V(delta) W'``, under the chosen convention (CRV1 clustered
by unit by default, t with ``G - 1`` df, as the TWFE path). The shares ``w_{g,l}`` are
treated as fixed, as fixest's ``aggregate(sunab)``, pyfixest's saturated event study
and diff-diff's ``SunAbraham`` do; SA's asymptotic variance also has a term for the
estimated shares (not implemented; it is small when cohorts are large).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import inference_table
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
from evaluatie.estimators.sample import (
    PanelSample,
    build_sample,
    fit_panel,
    regression_inference,
    sample_meta,
)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _control_rows(design: EventDesign) -> tuple[np.ndarray, float]:
    """Rows kept and the control cohort (``inf``: the never-treated units)."""
    keep = np.ones(design.cohort_values.size, dtype=bool)
    if not design.ever_treated.all():
        return keep, np.inf
    last = float(design.cohort_values.max())
    warnings.warn(
        f"no unit is never treated: the last-treated cohort {_fmt(last)} is the control "
        f"cohort and the sample is restricted to {design.time} < {_fmt(last)} "
        "(Sun & Abraham 2021)",
        UserWarning,
        stacklevel=5,
    )
    return design.time_values < last, last


@dataclass
class _Interactions:
    """The estimation sample with the cohort x relative-period cell of each row.

    ``cell = cohort index * n_periods + (rel_time - lower)``, -1 for rows without an
    interaction (control units).
    """

    sample: PanelSample
    cell: np.ndarray
    cohorts: np.ndarray
    control: float
    dropped: list[float]


def _sample(design: EventDesign, rows: np.ndarray, cell: np.ndarray) -> PanelSample:
    sample = build_sample(
        design.data.iloc[rows],
        outcome=design.outcome,
        regressors={"cell": cell[rows]},
        unit=design.unit,
        time=design.time,
        cluster=design.cluster,
        weights=design.weights,
    )
    sample.rows = rows if sample.rows is None else rows[sample.rows]
    return sample


def _interactions(design: EventDesign) -> _Interactions:
    """Choose the control cohort, drop cohorts without the reference period, and build
    the sample (module docstring)."""
    lower, upper = design.window
    n_periods = upper - lower + 1
    keep, control = _control_rows(design)
    treated = design.ever_treated & (design.cohort_values != control)
    cohorts = np.unique(design.cohort_values[treated & keep])
    if cohorts.size == 0:
        raise DesignError("no treated cohort is observed before the control cohort is treated")
    g_idx = np.searchsorted(cohorts, design.cohort_values)
    rel = np.where(treated, design.rel_time, np.nan)
    cell = np.where(np.isfinite(rel), g_idx * n_periods + np.nan_to_num(rel) - lower, -1.0)
    rows = np.flatnonzero(keep)
    sample = _sample(design, rows, cell)
    codes = sample.x[:, 0].astype(np.int64)
    at_ref = codes[(codes >= 0) & (codes % n_periods == design.reference - lower)]
    has_ref = np.bincount(at_ref // n_periods, minlength=cohorts.size) > 0
    if not has_ref.any():
        raise DesignError(
            f"no treated cohort has observations at the reference period "
            f"{design.reference}; choose another reference"
        )
    dropped = cohorts[~has_ref].tolist()
    if dropped:
        warnings.warn(
            f"cohorts {[_fmt(g) for g in dropped]} have no observation at the reference "
            f"period {design.reference}, so their interactions are not identified; "
            "they are dropped",
            UserWarning,
            stacklevel=4,
        )
        rows = rows[~np.isin(design.cohort_values[rows], dropped)]
        sample = _sample(design, rows, cell)
    return _Interactions(sample, sample.x[:, 0].astype(np.int64), cohorts, control, dropped)


def fit_sun_abraham(design: EventDesign) -> EventStudyResult:
    """Sun & Abraham (2021) IW event study for ``event_study(method="sun_abraham")``."""
    if design.convention.meat == "cr2":  # BM df exist per coefficient, not for the IW averages
        raise ParameterError(
            "estimator='sun_abraham' has no Bell-McCaffrey degrees of freedom for its "
            "weighted averages; use vcov='CRV1', or vcov='CR2' with estimator='twfe'"
        )
    lower, upper = design.window
    ref = design.reference
    inter = _interactions(design)
    sample, cohorts, n_periods = inter.sample, inter.cohorts, upper - lower + 1
    in_cell = inter.cell >= 0
    codes = inter.cell[in_cell]
    w = np.ones(sample.n_obs) if sample.weights is None else sample.weights
    size = cohorts.size * n_periods
    mass = np.bincount(codes, weights=w[in_cell], minlength=size)
    count = np.bincount(codes, minlength=size)
    per_period = count.reshape(cohorts.size, n_periods).sum(axis=0)
    n_by_period = {lower + j: int(n) for j, n in enumerate(per_period)}
    estimable = [p for p in range(lower, upper + 1) if p != ref]
    kept, empty = nonempty_periods(estimable, n_by_period)
    if not kept:
        raise DesignError("no relative period other than the reference has observations")
    columns = np.array([c for c in np.flatnonzero(count) if c % n_periods != ref - lower])
    col_cohort, col_period = cohorts[columns // n_periods], lower + columns % n_periods
    sample.x = np.column_stack([(inter.cell == c).astype(np.float64) for c in columns])
    sample.names = [
        f"cohort={_fmt(g)}:rel_time={p}" for g, p in zip(col_cohort, col_period, strict=True)
    ]
    fit = fit_panel(sample, design.convention, "numpy")

    # IW step: nu = W delta with W[l, (g, l)] = the cohort's share of observations at l
    share = np.where(col_period[None, :] == np.array(kept)[:, None], mass[columns], 0.0)
    share /= share.sum(axis=1, keepdims=True)
    coef = share @ fit.coef
    vcov = share @ fit.vcov.matrix @ share.T
    vcov = (vcov + vcov.T) / 2.0
    index = pd.Index(kept, name="rel_time")
    est = inference_table(coef, np.sqrt(np.diag(vcov)), index, df=fit.vcov.df, alpha=design.alpha)
    base = regression_inference(fit, design.cluster_column)
    est, info, extra = analytic_only(design, est, base, estimator="sun_abraham", rows=sample.rows)
    leads = [i for i, p in enumerate(kept) if p < 0]
    by_cohort = pd.DataFrame(
        {
            "cohort": col_cohort,
            "rel_time": col_period,
            "estimate": fit.coef,
            "se": np.sqrt(np.diag(fit.vcov.matrix)),
            "weight": share.sum(axis=0),
            "n_obs": count[columns],
        }
    )
    meta = {
        "formula": (
            f"{design.outcome} ~ i(cohort x rel_time, ref={ref}) | {design.unit} + "
            f"{design.time}; IW aggregation by observation shares"
        ),
        **design_meta(design, "sun_abraham", sample.rows),
        "control_cohort": "never treated" if np.isinf(inter.control) else inter.control,
        "dropped_cohorts": inter.dropped,
        "empty_rel_times": empty,
        "share_weights": "fixed (observation shares; not part of the variance)",
        "cohort_effects": by_cohort,
        "cohort_vcov": pd.DataFrame(fit.vcov.matrix, index=sample.names, columns=sample.names),
        **sample_meta(sample, fit, design.cluster_column),
        "inference": info,
        **extra,
        "pretrend": pretrend_summary(
            coef,
            vcov,
            leads,
            info,
            p=unavailable_p(info),
            n_clusters=fit.vcov.n_clusters,
            n_treated_clusters=extra["n_treated_clusters"],
        ),
        "call": design.call,
    }
    return EventStudyResult(
        table=event_table(est, ref, n_by_period),
        method="event_study[sun_abraham]",
        meta=meta,
        vcov=pd.DataFrame(vcov, index=index, columns=index),
    )
