"""The dynamic TWFE regression on relative-time dummies (``event_study(estimator="twfe")``).

    y_it = sum_{l != reference} beta_l * 1[rel_time_it = l] + alpha_i + lambda_t + u_it

(e.g. Freyaldenhoven et al. 2021; the reference period normalises ``beta_reference = 0``).
Estimand and assumptions: ``beta_l`` is the average effect ``l`` periods after adoption
relative to the reference period under parallel trends and no anticipation, *if*
effects are homogeneous across cohorts; otherwise ``beta_l`` mixes effects of other
relative periods (Sun & Abraham 2021).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError
from evaluatie.core.results import inference_table
from evaluatie.estimators.event.design import (
    EventDesign,
    EventStudyResult,
    design_meta,
    event_table,
    nonempty_periods,
    pretrend_summary,
)
from evaluatie.estimators.resample import finish
from evaluatie.estimators.sample import build_sample, fit_panel, sample_meta


def fit_twfe(design: EventDesign) -> EventStudyResult:
    """Dynamic TWFE regression on relative-time dummies (see module docstring)."""
    lower, upper = design.window
    periods = [p for p in range(lower, upper + 1) if p != design.reference]
    regressors = {f"rel_time={p}": (design.rel_time == p).astype(np.float64) for p in periods}
    sample = build_sample(
        design.data,
        outcome=design.outcome,
        regressors=regressors,
        unit=design.unit,
        time=design.time,
        cluster=design.cluster,
        weights=design.weights,
    )
    rel = design.rel_time if sample.rows is None else design.rel_time[sample.rows]
    n_by_period = {p: int(np.count_nonzero(rel == p)) for p in range(lower, upper + 1)}
    if n_by_period[design.reference] == 0:
        raise DesignError(
            f"the reference period {design.reference} has no observations of treated "
            "units in the estimation sample; choose another reference"
        )
    kept, empty = nonempty_periods(periods, n_by_period)
    if not kept:
        raise DesignError("no relative period other than the reference has observations")
    if empty:
        present = np.array([p in kept for p in periods])
        sample.x = sample.x[:, present]
        sample.names = [n for n, ok in zip(sample.names, present, strict=True) if ok]
    fit = fit_panel(sample, design.convention, "numpy")
    index = pd.Index(kept, name="rel_time")
    se = np.sqrt(np.diag(fit.vcov.matrix))
    est = inference_table(fit.coef, se, index, df=fit.vcov.t_df, alpha=design.alpha)
    leads = [i for i, p in enumerate(kept) if p < 0]
    done = finish(
        est,
        sample,
        fit,
        inference=design.inference,
        terms=len(kept),
        rows=list(range(len(kept))),
        alpha=design.alpha,
        cluster_column=design.cluster_column,
        cluster_reason=design.cluster_reason,
        joint=leads,
    )
    pretrend = pretrend_summary(
        fit.coef,
        fit.vcov.matrix,
        leads,
        done.inference,
        p=done.pretrend_p,
        n_clusters=fit.vcov.n_clusters,
        n_treated_clusters=done.n_treated_clusters,
    )
    meta = {
        "formula": (
            f"{design.outcome} ~ i(rel_time, ref={design.reference}) | "
            f"{design.unit} + {design.time}"
        ),
        **design_meta(design, "twfe", sample.rows),
        "empty_rel_times": empty,
        **sample_meta(sample, fit, design.cluster_column),
        **done.meta(),
        "pretrend": pretrend,
        "call": design.call,
    }
    return EventStudyResult(
        table=event_table(done.table, design.reference, n_by_period),
        method="event_study[twfe]",
        meta=meta,
        vcov=pd.DataFrame(fit.vcov.matrix, index=index, columns=index),
    )
