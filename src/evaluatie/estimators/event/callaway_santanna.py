"""Callaway & Sant'Anna as an event study: the adapter behind ``event_study(method="callaway_santanna")``."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.estimators.did.att_gt import att_gt
from evaluatie.estimators.event.design import (
    EventStudyResult,
    analytic_only,
    design_meta,
    event_table,
    nonempty_periods,
    pretrend_summary,
    unavailable_p,
)

if TYPE_CHECKING:
    from evaluatie.estimators.event.design import EventDesign


def fit_callaway_santanna(design: EventDesign) -> EventStudyResult:
    """Callaway & Sant'Anna (2021) ATT(g,t) aggregated by event time, as an event study.

    Runs :func:`evaluatie.estimators.did.att_gt` with never-treated comparison units,
    the doubly robust 2x2 estimator (without covariates: the difference in mean
    changes) and the *universal* base period ``b = g - 1`` (last observed period before
    adoption), then CS's dynamic aggregation (CS 2021, Section 3)
    ``theta_es(e) = sum_g P_g ATT(g, g+e) / sum_g P_g`` over the cohorts observed at
    ``e`` (``P_g`` the cohort's weighted share of units; its estimation enters the SEs).
    The cells' event times are binned before aggregating, so an endpoint pools all its
    cells with weights ``P_g``. With the universal base the row ``rel_time = -1`` is
    the fixed zero (cells binned onto it are not estimated) and pre-period rows are
    long differences ``Y_t - Y_{g-1}``, like the TWFE normalisation (a *varying* base
    would give short differences and an estimate at -1 too). Estimand:
    ``theta_es(e)`` under parallel trends with never-treated units and no anticipation
    (CS Section 2). Needs one row per unit-period; units not observed in every
    period are dropped with a warning (:mod:`.did._panel`).

    SEs: CS's analytic influence-function SEs summed within ``cluster`` (default the
    unit), no small-sample factor, normal inference (as R ``did``; :mod:`evaluatie.inference.influence`).
    """
    if design.reference != -1:
        raise ParameterError(
            "estimator='callaway_santanna' uses the universal base period g-1, so the "
            f"reference must be -1, got reference={design.reference}"
        )
    if design.convention.name != "CRV1":
        raise ParameterError(
            "estimator='callaway_santanna' has its own (influence-function, clustered) "
            f"standard errors; vcov={design.convention.name!r} does not apply, leave "
            "vcov='CRV1'"
        )
    if design.ever_treated.all():
        raise DesignError(
            "estimator='callaway_santanna' compares cohorts with never-treated units, but "
            f"every unit has a cohort in {design.cohort!r}; use estimator='imputation' "
            "(not-yet-treated comparisons) or att_gt(..., control='not_yet_treated')"
        )
    fit = att_gt(
        design.data,
        outcome=design.outcome,
        unit=design.unit,
        time=design.time,
        cohort=design.cohort,
        control="never_treated",
        est_method="dr",
        base_period="universal",
        cluster=design.cluster,
        weights=design.weights,
        alpha=design.alpha,
        # the adapter reads the analytic influence functions only (analytic_only below
        # decides what to show): a randomization fit would be computed and thrown away
        inference="analytic",
    )
    lower, upper = design.window
    cells = fit.table
    binned = cells["rel_time"].clip(lower, upper).to_numpy()
    is_ref = cells["reference"].to_numpy()
    keep = ~is_ref & (binned != -1)
    counted = keep | (is_ref & (binned == -1))
    n_by_period = cells["n_treated"][counted].groupby(binned[counted]).sum().to_dict()
    _, empty = nonempty_periods([p for p in range(lower, upper + 1) if p != -1], n_by_period)
    pooled = replace(
        fit,
        table=cells.loc[keep].assign(rel_time=binned[keep]).reset_index(drop=True),
        influence=fit.influence[:, keep],
        boot_draws=None,
    )
    agg = pooled.aggregate("dynamic")
    index = pd.Index(agg.table.index.astype(np.int64), name="rel_time")
    est = agg.table[["estimate", "se", "t", "p", "ci_low", "ci_high"]].set_axis(index)
    assert fit.if_inference is not None
    vcov = fit.if_inference.vcov(agg.influence[:, :-1])
    est, info, extra = analytic_only(
        design, est, fit.if_inference.describe(), estimator="callaway_santanna"
    )
    leads = [i for i, p in enumerate(index) if p < -1]
    meta = {
        **design_meta(design, "callaway_santanna"),
        "att_gt": "control='never_treated', est_method='dr', base_period='universal'",
        "inference": info,
        **extra,
        "pretrend": pretrend_summary(
            est["estimate"].to_numpy(),
            vcov,
            leads,
            info,
            p=unavailable_p(info),
            n_clusters=fit.meta["n_clusters"],
            n_treated_clusters=extra["n_treated_clusters"],
        ),
        "n_units": fit.meta["n_units"],
        "n_clusters": fit.meta["n_clusters"],
        "n_cells": int(keep.sum()),
        "empty_rel_times": empty,
        "att_gt_result": fit,
        "call": design.call,
    }
    return EventStudyResult(
        table=event_table(est, -1, n_by_period),
        method="event_study[callaway_santanna]",
        meta=meta,
        vcov=pd.DataFrame(vcov, index=index, columns=index),
    )
