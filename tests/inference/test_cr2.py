"""CR2 + Bell-McCaffrey: agreement with diff-diff's dense implementation (which matches
clubSandwich), coverage with few clusters, and the designs it refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from diff_diff.linalg import compute_robust_vcov

from evaluatie import event_study, twfe
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.synth.panels import clustered_panel

KEYS = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d"}
pytestmark = pytest.mark.filterwarnings("ignore:.*singleton fixed effect.*")


def _dense_cr2(data: pd.DataFrame, regressors: list[str], cluster: str) -> tuple:
    """The same model with every fixed effect as an explicit dummy, through diff-diff."""
    units = pd.get_dummies(data["unit"], drop_first=True, dtype=float)
    years = pd.get_dummies(data["year"], drop_first=True, dtype=float)
    x = np.column_stack([np.ones(len(data)), data[regressors], units, years])
    beta, *_ = np.linalg.lstsq(x, data["y"].to_numpy(), rcond=None)
    resid = data["y"].to_numpy() - x @ beta
    with pytest.warns(UserWarning):  # the dummies' own df are flagged unreliable
        vcov, dof = compute_robust_vcov(
            x, resid, cluster_ids=data[cluster].to_numpy(), vcov_type="hc2_bm", return_dof=True
        )
    k = len(regressors)
    return beta[1 : k + 1], vcov[1 : k + 1, 1 : k + 1], dof[1 : k + 1]


@pytest.fixture(scope="module")
def unbalanced() -> pd.DataFrame:
    """Few, uneven clusters; a tenth of the unit-years missing."""
    data = clustered_panel(n_units=60, n_groups=9, seed=5)
    keep = np.random.default_rng(5).random(len(data)) > 0.1
    return data[keep].reset_index(drop=True)


@pytest.mark.parametrize("cluster", ["group", "unit"])
def test_matches_diff_diff_with_explicit_dummies(unbalanced, cluster):
    ours = twfe(
        unbalanced, **KEYS, covariates=["x"], cluster=cluster, vcov="CR2", inference="analytic"
    )
    beta, vcov, dof = _dense_cr2(unbalanced, ["d", "x"], cluster)
    np.testing.assert_allclose(ours.coef[["d", "x"]], beta, rtol=1e-9)
    assert ours.vcov is not None
    np.testing.assert_allclose(ours.vcov.to_numpy(), vcov, rtol=1e-8)
    np.testing.assert_allclose(ours.meta["df_bell_mccaffrey"], dof, rtol=1e-8)
    # each slope is tested against its own t distribution
    t = ours.table["t"].to_numpy()
    from scipy import stats

    np.testing.assert_allclose(ours.table["p"], 2 * stats.t.sf(np.abs(t), dof), rtol=1e-10)
    assert "Bell-McCaffrey" in ours.meta["inference"].distribution


def test_event_study_coefficients_get_their_own_df(unbalanced):
    res = event_study(
        unbalanced,
        outcome="y",
        unit="unit",
        time="year",
        cohort="cohort",
        window=(-2, 2),
        cluster="group",
        vcov="CR2",
        inference="analytic",
    )
    df = np.asarray(res.meta["df_bell_mccaffrey"])
    assert df.size == int((~res.table["reference"]).sum())
    assert np.all((df > 1) & (df < res.meta["n_clusters"]))  # BM df stay below G here
    assert np.ptp(df) > 0.1  # and differ by coefficient


def test_coverage_with_few_treated_clusters():
    """12 clusters, 3 treated: CR2 + BM intervals cover the truth about 95% of the time,
    CRV1's with G - 1 df clearly less (Pustejovsky & Tipton 2018, Section 4)."""
    rng = np.random.default_rng(2024)
    unit = np.repeat(np.arange(48), 6)
    year = np.tile(np.arange(6), 48)
    group = unit // 4
    covered = {"CR2": 0, "CRV1": 0}
    reps = 300
    for _ in range(reps):
        treated = rng.choice(12, 3, replace=False)
        d = (np.isin(group, treated) & (year >= 3)).astype(float)
        shock = rng.normal(size=(12, 6))[group, year]  # cluster-by-year shocks
        y = 2.0 * d + rng.normal(size=48)[unit] + shock + rng.normal(size=unit.size)
        data = pd.DataFrame({"unit": unit, "year": year, "group": group, "d": d, "y": y})
        for vcov in covered:
            r = twfe(data, **KEYS, cluster="group", vcov=vcov, inference="analytic").overall
            covered[vcov] += r.ci_low <= 2.0 <= r.ci_high
    rates = {k: v / reps for k, v in covered.items()}
    print(rates)
    assert 0.92 <= rates["CR2"] <= 0.985, rates
    assert rates["CRV1"] < rates["CR2"] - 0.03, rates


def test_one_treated_cluster_has_no_cr2(unbalanced):
    """With one treated cluster the treatment is identified from that cluster alone
    (leverage one): CR2 would equal CRV1's far too small SE, so it is left empty."""
    first = unbalanced["group"] == unbalanced["group"].min()
    data = unbalanced.assign(d=(first & (unbalanced["year"] >= 2019)).astype(float))
    with pytest.warns(UserWarning, match="single cluster"):
        res = twfe(
            data, **KEYS, covariates=["x"], cluster="group", vcov="CR2", inference="analytic"
        )
    assert np.isnan(res.table.loc["d", ["se", "p", "ci_low", "ci_high"]].astype(float)).all()
    assert np.isfinite(res.table.loc["x", ["se", "p"]].astype(float)).all()  # x is not
    assert np.isfinite(res.coef["d"])


def test_refuses_designs_it_does_not_cover(unbalanced):
    with pytest.raises(ParameterError, match="unweighted"):
        twfe(unbalanced, **KEYS, weights="w", cluster="group", vcov="CR2")
    # clusters that cut across units: no fixed effect is nested in them
    mixed = unbalanced.assign(mixed=(3 * unbalanced["unit"] + unbalanced["year"]) % 7)
    with pytest.raises(DesignError, match="nested"):
        twfe(mixed, **KEYS, cluster="mixed", vcov="CR2", inference="analytic")
    with pytest.raises(ParameterError, match="sun_abraham"):
        event_study(
            unbalanced,
            outcome="y",
            unit="unit",
            time="year",
            cohort="cohort",
            estimator="sun_abraham",
            cluster="group",
            vcov="CR2",
        )
