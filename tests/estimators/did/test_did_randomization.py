"""Randomization inference for att_gt: the vectorized statistics against re-fitting
every assignment with the estimator itself, and the p-values and intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluatie import att_gt
from evaluatie.estimators.did._panel import PanelData
from evaluatie.estimators.did.aggregate import aggregate, table_plan
from evaluatie.estimators.did.att_gt import AttGtResult, CellSettings, fit_cells
from evaluatie.estimators.did.randomization import assignment_statistics, collapse
from evaluatie.inference import Randomization
from evaluatie.inference.randomization import assignments
from evaluatie.synth.panels import clustered_panel


def _panel(seed: int, **kwargs) -> pd.DataFrame:
    """A clustered panel with unit-level weights (time-invariant, as att_gt needs)."""
    data = clustered_panel(n_units=90, n_groups=18, seed=seed, **kwargs)
    return data.assign(w=data.groupby("unit")["w"].transform("first"))


KEYS = {"outcome": "y", "unit": "unit", "time": "year", "cohort": "cohort", "cluster": "group"}


def _refit(c, cohort: np.ndarray, y: np.ndarray, settings: CellSettings, kind: str | None):
    """Estimates and influence functions (over n) of one assignment, by the estimator."""
    order = np.argsort(cohort, kind="stable")
    w = c.weights[order]
    panel = PanelData(
        units=np.arange(c.n)[order],
        periods=c.periods,
        y=y[order],
        x=None,
        cohort=cohort[order],
        weights=w / w.mean(),
        cluster=None,
    )
    fitted = fit_cells(panel, settings)
    if kind is None:
        return fitted.table["estimate"].to_numpy(float), fitted.influence / panel.n
    pseudo = AttGtResult(
        table=fitted.table,
        method="",
        influence=fitted.influence,
        unit_cohort=panel.cohort,
        unit_weights=panel.weights,
        if_inference=fitted.if_inference,
    )
    agg = aggregate(pseudo, kind)
    estimates = np.append(agg.table["estimate"].to_numpy(float), agg.overall.estimate)
    return estimates, agg.influence / panel.n


def _full_plan(res: AttGtResult, kind: str):
    """The aggregation ``kind`` over all relative times, as ``aggregate`` plans it."""
    return table_plan(
        res.table,
        res.panel.cohorts,
        kind,
        min_rel_time=-np.inf,
        max_rel_time=np.inf,
        balance_rel_time=None,
    )


@pytest.mark.parametrize("kind", [None, "simple", "group", "dynamic", "calendar"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("weighted", [True, False])
def test_vectorized_statistics_equal_refitting_each_assignment(kind, control, weighted):
    """Weighted clusters take the general path; units without weights (all weights
    equal) the one that never builds (assignments x units x cells) arrays."""
    data = _panel(3)
    if weighted:
        res = att_gt(data, **KEYS, weights="w", control=control, inference="analytic")
        c = collapse(res.panel, "group")
        assert c.level == "group clusters"
    else:
        # no cluster column at all: the units are the assignment units, weights all 1
        keys = {k: v for k, v in KEYS.items() if k != "cluster"}
        data = data.drop(columns="group")
        res = att_gt(data, **keys, control=control, inference="analytic")
        c = collapse(res.panel, None)
        assert c.n == data["unit"].nunique()
    assert np.all(c.weights == c.weights[0]) != weighted
    settings = CellSettings(
        control=control, est_method="dr", anticipation=0, base_period="varying", alpha=0.05
    )
    plan = None if kind is None else _full_plan(res, kind)
    group = np.searchsorted(res.layout.cohorts, c.cohort)
    plans, _ = assignments(group, Randomization(draws=99, seed=1))
    stats = assignment_statistics(c, res.layout, plans[:4], plan)
    path = (c.periods[None, :] >= c.cohort[:, None]).astype(float)
    groups_cohort = np.append(res.layout.cohorts, np.inf)
    for d in range(4):
        cohort = groups_cohort[plans[d]]
        e0, i0 = _refit(c, cohort, c.y, settings, kind)
        e1, i1 = _refit(c, cohort, path, settings, kind)
        np.testing.assert_allclose(stats.n0[d], e0, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(stats.n1[d], e1, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(stats.d00[d], (i0**2).sum(axis=0), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(stats.d01[d], (i0 * i1).sum(axis=0), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(stats.d11[d], (i1**2).sum(axis=0), rtol=1e-9, atol=1e-14)
    # the observed assignment reproduces the fit's estimates
    if kind is None:
        np.testing.assert_allclose(stats.n0[0], res.table["estimate"], rtol=1e-10, atol=1e-12)


def test_collapsed_estimates_equal_unit_level_estimates():
    data = _panel(4)
    unit_level = att_gt(data, **KEYS, weights="w", inference="analytic").aggregate("dynamic")
    randomized = att_gt(data, **KEYS, weights="w", inference=Randomization(draws=199))
    agg = randomized.aggregate("dynamic")
    pd.testing.assert_series_equal(agg.table["estimate"], unit_level.table["estimate"])
    assert agg.meta["inference"].procedure == "randomization"
    assert agg.meta["inference"].draws == 200
    assert agg.table["p"].between(1 / 200, 1).all()


def test_interval_is_the_set_of_effects_the_test_does_not_reject():
    data = clustered_panel(n_units=120, n_groups=24, seed=5, effect=0.8)
    res = att_gt(data, **KEYS, inference=Randomization(draws=499)).aggregate("simple")
    o = res.overall
    assert o.ci_low < o.estimate < o.ci_high
    # shifting the treated outcomes by a bound puts that bound's null at p ~ alpha
    treated = (data["cohort"] > 0) & (data["year"] >= data["cohort"])
    for bound, inside in ((o.ci_low, 1), (o.ci_high, -1)):
        for step in (1e-6, -1e-6):
            shifted = data.assign(y=data["y"] - treated * (bound + inside * step * abs(bound)))
            p = (
                att_gt(shifted, **KEYS, inference=Randomization(draws=499))
                .aggregate("simple")
                .overall.p
            )
            assert (p > 0.05) == (step > 0), (bound, step, p)


def test_cell_variance_terms_keep_their_digits_under_large_period_shifts():
    """A shift common to all units in each period leaves every ATT(g,t) and influence
    function unchanged; the grouped variance terms must not lose digits to it."""
    from dataclasses import replace

    data = _panel(6)
    res = att_gt(data, **KEYS, weights="w", inference="analytic")
    c = collapse(res.panel, "group")
    shifted = replace(c, y=c.y + 1e7 * np.arange(c.y.shape[1])[None, :])
    group = np.searchsorted(res.layout.cohorts, c.cohort)
    plans, _ = assignments(group, Randomization(draws=99, seed=2))
    base = assignment_statistics(c, res.layout, plans[:50])
    moved = assignment_statistics(shifted, res.layout, plans[:50])
    np.testing.assert_allclose(moved.n0, base.n0, rtol=1e-7, atol=1e-6)
    scale = np.nanmax(base.d00)
    for name in ("d00", "d01"):
        np.testing.assert_allclose(
            getattr(moved, name), getattr(base, name), rtol=1e-6, atol=1e-7 * scale
        )


def test_pretrend_test_reuses_the_cells_assignments_with_the_same_result():
    from evaluatie.estimators.did.randomization import joint_test

    data = clustered_panel(n_units=120, n_groups=24, seed=8)
    res = att_gt(data, **KEYS, inference=Randomization(draws=299, seed=3))
    assert res.cell_randomization is not None and res.cell_randomization.statistics is not None
    test = res.pretrend_test()
    tab = res.table
    rows = np.flatnonzero(((tab["time"] < tab["cohort"]) & ~tab["reference"]).to_numpy())
    stat, p, found = joint_test(
        collapse(res.panel, "group"), res.layout, res.choice.method, rows
    )  # recomputed from scratch
    assert test.statistic == pytest.approx(stat, rel=1e-12) and test.p == p
    assert found.draws == 299 + 1 or found.enumerated


@pytest.mark.parametrize("kind", ["simple", "dynamic"])
def test_aggregations_reuse_the_cells_assignments_with_the_same_result(kind):
    from evaluatie.estimators.did.randomization import randomize

    data = clustered_panel(n_units=120, n_groups=24, seed=9)
    res = att_gt(data, **KEYS, inference=Randomization(draws=299, seed=4))
    assert res.cell_randomization is not None and res.cell_randomization.plans is not None
    agg = res.aggregate(kind)
    plan = _full_plan(res, kind)
    redrawn = randomize(
        collapse(res.panel, "group"), res.layout, res.choice.method, 0.05, plan
    )  # the assignments drawn again from the seed
    levels = len(agg.table)
    np.testing.assert_array_equal(agg.table["p"].to_numpy(), redrawn.p[:levels])
    np.testing.assert_allclose(agg.table["ci_low"].to_numpy(), redrawn.ci_low[:levels], rtol=1e-12)
    assert agg.overall.p == redrawn.p[levels]
    assert agg.meta["inference"].draws == redrawn.draws
