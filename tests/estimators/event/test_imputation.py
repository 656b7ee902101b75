"""event_study(method="imputation"): independent implementations, sample rules, errors.

Cross-checks:

* diff-diff's ``ImputationDiD`` (3.13, defaults: cohort x horizon auxiliary partition,
  no leave-out) -- point estimates, BJS Theorem 3 SEs (unit or group clusters), the
  ``pretrends=True`` leads (a TWFE on untreated rows with -1 omitted, CRV1) and its
  joint pre-trend F test: all agree to ~1e-11;
* a dense implementation in this file written from BJS's definitions (dummy matrices,
  ``v_0 = -W_0 Z_0 (Z_0' W_0 Z_0)^+ Z_1' w_1``): weights, several rows per unit-period,
  binned endpoint, clusters;
* pyfixest's ``did2s`` (Gardner's two-stage estimator has the same point estimates):
  pyfixest demeans its first stage to its default convergence tolerance, so it is only
  ~1e-7 from the exact solution (measured here: 4e-7); compared at 1e-5. Its GMM
  standard errors are a different convention and are not compared.

Truth recovery and the TWFE bias are in ``test_event_study_methods.py``.
"""

from __future__ import annotations

import diff_diff as dd
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from evaluatie.core.errors import ParameterError
from evaluatie.estimators.event import event_study
from evaluatie.synth.panels import staggered_panel

#: The columns every call here uses.
KEYS = {"cohort": "cohort", "outcome": "y", "time": "year", "unit": "unit", "inference": "analytic"}

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*inplace keyword.*", "ignore:.*singleton fixed effect.*"
)
FULL = (-10, 8)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return staggered_panel(n_units=160, n_groups=32, seed=21)


@pytest.fixture(scope="module")
def pupils() -> pd.DataFrame:
    return staggered_panel(n_units=60, n_groups=15, rows_per_cell=3, seed=22)


def imputation(data: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    res = event_study(data, **KEYS, estimator="imputation", **kwargs)
    return res.table


def dense_imputation(
    data: pd.DataFrame, upper: int, cluster: str = "unit", weights: str | None = None
) -> pd.DataFrame:
    """BJS's estimator and Theorem 3 variance with dense dummy matrices (no FE tricks)."""
    z = pd.get_dummies(data[["unit", "year"]].astype(str), dtype=float).to_numpy()
    y = data["y"].to_numpy()
    omega = data[weights].to_numpy() if weights else np.ones(len(data))
    d = data["treated"].to_numpy() == 1
    z0, w0 = z[~d], omega[~d]
    gram_pinv = np.linalg.pinv(z0.T @ (w0[:, None] * z0))
    theta = gram_pinv @ z0.T @ (w0 * y[~d])
    eps = y - z @ theta  # tau_hat on treated rows, residuals on untreated rows
    rel = data["rel_time"].clip(upper=upper).to_numpy()
    groups = data["cohort"].astype(str) + "_" + data["year"].astype(str)
    clusters = data[cluster].to_numpy()
    out = {}
    for h in range(0, upper + 1):
        w1 = np.where(d & (rel == h), omega, 0.0)
        if w1.sum() == 0:
            continue
        w1 /= w1.sum()
        v = w1.copy()
        v[~d] = -w0 * (z0 @ gram_pinv @ (z[d].T @ w1[d]))
        v2 = pd.Series(v**2)
        tilde = (v2 * eps).groupby(groups.to_numpy()).sum() / v2.groupby(groups.to_numpy()).sum()
        resid = np.where(d, eps - tilde.reindex(groups).fillna(0.0).to_numpy(), eps)
        sums = pd.Series(v * resid).groupby(clusters).sum()
        out[h] = (float(w1 @ eps), float(np.sqrt((sums**2).sum())))
    return pd.DataFrame(out, index=["estimate", "se"]).T


def diff_diff_event_study(data: pd.DataFrame, cluster: str) -> pd.DataFrame:
    fit = dd.ImputationDiD(cluster=cluster, pretrends=True).fit(
        data, outcome="y", unit="unit", time="year", first_treat="cohort"
    )
    return fit, fit.aggregate("event_study").to_dataframe().set_index("event_time")


@pytest.mark.parametrize("cluster", [None, "group"])
def test_matches_diff_diff_imputation(panel: pd.DataFrame, cluster: str | None) -> None:
    res = event_study(panel, **KEYS, window=FULL, cluster=cluster or "unit", estimator="imputation")
    fit, theirs = diff_diff_event_study(panel, cluster or "unit")
    ours = res.table
    assert list(ours.index) == sorted(theirs.index)
    est = ours.loc[~ours["reference"]]
    np.testing.assert_allclose(est["estimate"], theirs.loc[est.index, "att"], atol=1e-8)
    np.testing.assert_allclose(est["se"], theirs.loc[est.index, "se"], rtol=1e-6)
    assert theirs.loc[-1, "is_reference"] and ours.loc[-1, "reference"]
    test = fit.pretrend_test()
    assert res.meta["pretrend_test"]["F"] == pytest.approx(test["f_stat"], rel=1e-6)
    assert res.meta["pretrend_test"]["p"] == pytest.approx(test["p_value"], rel=1e-6)


@pytest.mark.parametrize(
    ("data_name", "upper", "cluster", "weights"),
    [("panel", 4, "group", "w"), ("pupils", 3, "unit", None), ("pupils", 5, "group", "w")],
)
def test_matches_dense_bjs_formulas(
    request: pytest.FixtureRequest, data_name: str, upper: int, cluster: str, weights: str | None
) -> None:
    data = request.getfixturevalue(data_name)
    ours = imputation(data, window=(-3, upper), cluster=cluster or "unit", weights=weights)
    dense = dense_imputation(data, upper, cluster, weights)
    post = ours.loc[ours.index >= 0]
    assert list(post.index) == list(dense.index)
    np.testing.assert_allclose(post["estimate"], dense["estimate"], atol=1e-8)
    np.testing.assert_allclose(post["se"], dense["se"], rtol=1e-6)
    rel = data.loc[data["treated"] == 1, "rel_time"]
    assert post.loc[upper, "n_obs"] == int((rel >= upper).sum())


def test_point_estimates_match_pyfixest_did2s(panel: pd.DataFrame) -> None:
    ours = imputation(panel, window=(-2, 5), weights="w")
    rel = panel["rel_time"].clip(upper=5)
    code = np.where(panel["treated"] == 1, rel, -1000).astype(int)
    fit = pf.did2s(
        panel.assign(code=code),
        yname="y",
        first_stage="~ 0 | unit + year",
        second_stage="~ i(code, ref=-1000)",
        treatment="treated",
        cluster="unit",
        weights="w",
    )
    coef = pd.Series(fit.coef().to_numpy(), index=[int(n.split("::")[1]) for n in fit.coef().index])
    post = ours.loc[ours.index >= 0, "estimate"]
    np.testing.assert_allclose(post, coef[post.index], atol=1e-5)


def test_leads_are_twfe_on_untreated_rows(panel: pd.DataFrame) -> None:
    res = event_study(
        panel, **KEYS, window=(-4, 2), reference=-4, estimator="imputation", cluster="unit"
    )
    # BJS Test 1: the binned tail rel <= -4 (and never treated) is the omitted group
    untreated = panel.loc[panel["treated"] == 0]
    lead = untreated["rel_time"].clip(lower=-4).fillna(-4).astype(int)
    fit = pf.feols(
        "y ~ i(lead, ref=-4) | unit + year", untreated.assign(lead=lead), vcov={"CRV1": "unit"}
    )
    leads = res.table.loc[[-3, -2, -1]]
    np.testing.assert_allclose(leads["estimate"], fit.coef().to_numpy(), atol=1e-8)
    np.testing.assert_allclose(leads["se"], fit.se().to_numpy(), rtol=1e-6)
    assert res.table.loc[-4, "reference"]
    assert res.table.loc[-4, "n_obs"] == int((untreated["rel_time"] <= -4).sum())
    assert np.isnan(res.vcov.loc[-1, 0]) and np.isfinite(res.vcov.loc[0, 1])


def test_without_never_treated_units_uses_not_yet_treated(panel: pd.DataFrame) -> None:
    treated_only = panel.loc[panel["cohort"] > 0]
    # from 2022 on every unit is treated: no untreated row identifies those years
    n_lost = int(((treated_only["year"] >= 2022) & (treated_only["treated"] == 1)).sum())
    with pytest.warns(UserWarning, match=f"{n_lost} treated observations"):
        res = event_study(
            treated_only, **KEYS, window=(-3, 4), estimator="imputation", cluster="unit"
        )
    assert res.meta["dropped_unimputable"] == n_lost
    dense = dense_imputation(treated_only.loc[treated_only["year"] < 2022], 4)
    post = res.table.loc[res.table.index >= 0]
    np.testing.assert_allclose(post["estimate"], dense["estimate"], atol=1e-8)
    np.testing.assert_allclose(post["se"], dense["se"], rtol=1e-6)


def test_always_treated_units_are_left_out(panel: pd.DataFrame) -> None:
    early = panel.copy()
    always = early["unit"] < 8
    early.loc[always, "cohort"] = 2012
    early.loc[always, "rel_time"] = early.loc[always, "year"] - 2012
    early.loc[always, "treated"] = 1
    with pytest.warns(UserWarning, match=f"{int(always.sum())} treated observations"):
        res = event_study(early, **KEYS, window=(-3, 4), estimator="imputation")
    dense = dense_imputation(early.loc[~always], 4)
    np.testing.assert_allclose(res.table.loc[dense.index, "estimate"], dense["estimate"], atol=1e-8)


def test_bad_input_gives_clear_errors(panel: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="reference must be negative"):
        imputation(panel, window=(-3, 3), reference=0)
    with pytest.raises(ParameterError, match="window must reach period 0"):
        imputation(panel, window=(-4, -1), reference=-2)
    with pytest.raises(ParameterError, match="clustered convention"):
        imputation(panel, vcov="HC1")
