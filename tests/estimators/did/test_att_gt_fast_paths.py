"""The fast paths of att_gt against the general computations they replace.

* Cells that share their 2×2 design (treated and comparison groups, covariate values)
  are fitted by one estimator call: each equals its own 2×2 fit on its own units.
* The influence functions without covariates are kept factorised: their covariance, and
  the standard errors of the cells and aggregations from it, equal those of the dense
  influence functions, with and without clusters.
* Results hold their influence functions lazily: formed on demand they equal the
  dense products, and a result whose inputs are replaced does not reuse the original's.
* Integer unit and time labels are coded by offset: as ``pd.factorize(sort=True)``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_att_gt import simulate_staggered

from evaluatie.estimators.did import AggregateResult, AttGtResult, att_gt, dr_did, ipw_did, reg_did
from evaluatie.estimators.did._panel import sorted_codes
from evaluatie.estimators.did.aggregate import cohort_shares

TWO_BY_TWO = {"dr": dr_did, "ipw": ipw_did, "reg": reg_did}


def fit(data: pd.DataFrame, **kw: object):
    kw.setdefault("inference", "analytic")
    return att_gt(data, outcome="y", unit="id", time="year", cohort="g", **kw)


def with_time_varying_covariate(seed: int) -> pd.DataFrame:
    """``z`` changes in 2014 only: the periods before share one set of values, those
    after another."""
    data = simulate_staggered(n=500, seed=seed, covariate=True)
    u = np.random.default_rng(seed).normal(size=data["id"].max() + 1)[data["id"]]
    return data.assign(z=u + 0.5 * (data["year"] >= 2014) * (data["id"] % 3))


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("covariates", [("x",), ("x", "z")])
def test_shared_design_cells_equal_their_own_2x2_fits(method, control, covariates) -> None:
    data = with_time_varying_covariate(21)
    res = fit(data, covariates=covariates, est_method=method, control=control, weights=None)
    panel = res.panel
    layout = res.layout
    group = np.searchsorted(layout.cohorts, panel.cohort)  # never treated: len(cohorts)
    for k in np.flatnonzero(~layout.reference):
        treated = layout.treated[group, k]
        sub = treated | layout.control[group, k]
        t, b = layout.t_idx[k], layout.b_idx[k]
        x = np.column_stack([np.ones(sub.sum()), panel.x[sub, min(t, b), :]])
        dy = panel.y[sub, t] - panel.y[sub, b]
        own = TWO_BY_TWO[method](dy, treated[sub].astype(float), x, panel.weights[sub])
        assert res.table["estimate"].iloc[k] == pytest.approx(own.att, rel=1e-12, abs=1e-12)
        expected = np.zeros(panel.n)
        expected[sub] = own.inf * panel.n / sub.sum()
        np.testing.assert_allclose(res.influence[:, k], expected, rtol=1e-10, atol=1e-10)


def test_time_varying_covariate_is_read_per_period() -> None:
    """Cells whose covariates are read in periods with different values are not pooled:
    the estimates differ from those with the covariate frozen at its first value."""
    data = with_time_varying_covariate(22)
    frozen = data.assign(z=data.groupby("id")["z"].transform("first"))
    a = fit(data, covariates=("x", "z")).table["estimate"].to_numpy()
    b = fit(frozen, covariates=("x", "z")).table["estimate"].to_numpy()
    assert np.max(np.abs(a - b)) > 1e-6


@pytest.mark.parametrize("cluster", [None, "cl"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_factorised_influence_equals_dense(cluster, base_period) -> None:
    data = simulate_staggered(n=400, seed=23)
    res = fit(data, cluster=cluster, base_period=base_period, control="not_yet_treated")
    cells = res.cell_influence()
    assert cells._factors is not None  # the closed form's factorised path
    _, phi = cohort_shares(res.unit_cohort, res.unit_weights, res.panel.cohorts)
    dense = np.hstack([res.influence, phi])
    np.testing.assert_allclose(cells.dense(), dense, rtol=0, atol=1e-12 * np.abs(dense).max())
    direct = res.if_inference.vcov(dense)
    np.testing.assert_allclose(cells.vcov(), direct, rtol=1e-11, atol=1e-15)
    # the table's SEs are those of the dense influence functions
    se = res.if_inference.analytic_se(res.influence)
    np.testing.assert_allclose(res.table["se"], se, rtol=1e-11)
    for kind in ("simple", "group", "dynamic", "calendar"):
        agg = res.aggregate(kind)
        psi = agg.influence  # formed on demand
        assert psi.shape == (res.panel.n, len(agg.table) + 1)
        se = res.if_inference.analytic_se(psi)
        np.testing.assert_allclose(agg.table["se"], se[:-1], rtol=1e-11)
        assert agg.overall.se == pytest.approx(se[-1], rel=1e-11)


@pytest.mark.parametrize("covariates", [(), ("x",)])
def test_influence_functions_are_formed_only_on_demand(covariates) -> None:
    data = simulate_staggered(n=300, seed=25, covariate=True)
    res = fit(data, covariates=covariates)
    aggs = [res.aggregate(kind) for kind in ("simple", "group", "dynamic")]
    assert not any(AggregateResult.influence.formed(agg) for agg in aggs)
    assert not AttGtResult.influence.formed(res)
    for agg in aggs:
        psi = agg.influence
        assert AggregateResult.influence.formed(agg) and agg.influence is psi  # kept
        se = res.if_inference.analytic_se(psi)
        np.testing.assert_allclose(agg.table["se"], se[:-1], rtol=1e-11)
    vcov = aggs[-1].vcov  # dynamic: the levels' covariance
    assert vcov is not None
    np.testing.assert_allclose(
        vcov, res.if_inference.vcov(aggs[-1].influence[:, :-1]), rtol=1e-10, atol=1e-14
    )
    np.testing.assert_allclose(res.influence, res.cell_influence().cells(), rtol=0, atol=0)


def test_replaced_inputs_do_not_reuse_the_fit_influence() -> None:
    data = simulate_staggered(n=300, seed=24)
    res = fit(data)
    assert res.cell_influence() is res.cell_influence()  # the fit's own, kept
    shuffled = np.random.default_rng(1).permutation(res.unit_cohort)
    other = replace(res, unit_cohort=shuffled)
    assert other.cell_influence() is not res.cell_influence()
    np.testing.assert_array_equal(
        other.cell_influence().shares,
        cohort_shares(shuffled, res.unit_weights, res.panel.cohorts)[0],
    )
    assert other.aggregate("simple").overall.se != res.aggregate("simple").overall.se


@pytest.mark.parametrize(
    "values",
    [
        np.array([2012, 2015, 2013, 2015, 2019]),
        np.array([7, 3, 3, -2, 0], dtype=np.int32),
        np.arange(5),
        np.array([10**12, 5, 5]),  # too wide for offsets: hashed
        np.array([2.5, 1.0, 2.5]),
        np.array(["b", "a", "b"], dtype=object),
    ],
)
def test_sorted_codes_equal_sorted_factorize(values) -> None:
    codes, uniques = sorted_codes(pd.Series(values))
    ref_codes, ref_uniques = pd.factorize(pd.Series(values), sort=True)
    np.testing.assert_array_equal(codes, ref_codes)
    np.testing.assert_array_equal(uniques, np.asarray(ref_uniques))
    assert uniques.dtype == np.asarray(ref_uniques).dtype
