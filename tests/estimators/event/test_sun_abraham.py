"""event_study(method="sun_abraham"): independent implementations, control cohort, errors.

Cross-checks (black boxes, conventions agree, so tight tolerances):

* pyfixest ``feols`` with one dummy per cohort x binned relative period (the saturated
  regression of Sun & Abraham 2021, eq. 26) and, in this file, our own aggregation by
  observation shares with the delta method ``w' V w`` on pyfixest's CRV1 covariance;
* pyfixest's own saturated event study (``event_study(estimator="saturated")`` and its
  ``aggregate()``, pyfixest's ``sunab``-style IW aggregation with fixed share weights);
* diff-diff's ``SunAbraham`` (3.13): same point estimates and, clustered, the same SEs
  (its "hc1" cluster-robust covariance equals fixest's CRV1 here); it does not bin, so
  it is compared on a window covering every relative period (as is pyfixest's).

Truth recovery and the TWFE bias are in ``test_event_study_methods.py``.
"""

from __future__ import annotations

import diff_diff as dd
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from evaluatie.core.errors import DesignError
from evaluatie.estimators.event import event_study
from evaluatie.synth.panels import staggered_panel

#: The columns every call here uses.
KEYS = {"cohort": "cohort", "outcome": "y", "time": "year", "unit": "unit", "inference": "analytic"}

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*inplace keyword.*", "ignore:.*singleton fixed effect.*"
)
FULL = (-10, 8)  # every relative period of the DGP: no binning


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return staggered_panel(n_units=160, n_groups=32, seed=11)


@pytest.fixture(scope="module")
def pupils() -> pd.DataFrame:
    return staggered_panel(n_units=80, n_groups=20, rows_per_cell=3, seed=12)


def pyfixest_iw(
    data: pd.DataFrame, window: tuple[int, int], ref: int, cluster: str, weights: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """SA's IW estimator from pyfixest's saturated regression plus an own aggregation."""
    rel = data["rel_time"].clip(*window)
    code = np.where((data["cohort"] > 0) & (rel != ref), data["cohort"] * 100 + rel + 50, 0)
    data = data.assign(code=code.astype(int), rel=rel)
    fit = pf.feols(
        "y ~ i(code, ref=0) | unit + year", data=data, vcov={"CRV1": cluster}, weights=weights
    )
    codes = np.array([int(name.split("::")[1]) for name in fit.coef().index])
    cohort, period = codes // 100, codes % 100 - 50
    w = data["w"] if weights else pd.Series(1.0, index=data.index)
    mass = w.groupby(data["code"]).sum()
    est, se = {}, {}
    for p in np.unique(period):
        share = np.where(period == p, mass.reindex(codes).to_numpy(), 0.0)
        share /= share.sum()
        est[p] = float(share @ fit.coef().to_numpy())
        se[p] = float(np.sqrt(share @ fit._vcov @ share))
    assert set(np.unique(cohort)) <= set(data["cohort"].unique())
    return pd.Series(est), pd.Series(se)


@pytest.mark.parametrize(
    ("data_name", "window", "reference", "cluster", "weights"),
    [
        ("panel", FULL, -1, None, None),
        ("panel", (-4, 4), -1, "group", "w"),
        ("panel", (-4, 2), -3, "group", None),
        ("pupils", (-4, 3), -1, "group", None),
        ("pupils", (-3, 3), -1, None, "w"),
    ],
)
def test_matches_pyfixest_saturated_regression(
    request: pytest.FixtureRequest,
    data_name: str,
    window: tuple[int, int],
    reference: int,
    cluster: str | None,
    weights: str | None,
) -> None:
    data = request.getfixturevalue(data_name)
    ours = event_study(
        data,
        **KEYS,
        window=window,
        reference=reference,
        cluster=cluster or "unit",
        weights=weights,
        estimator="sun_abraham",
    )
    coef, se = pyfixest_iw(data, window, reference, cluster or "unit", weights)
    est = ours.table.loc[~ours.table["reference"]]
    assert list(est.index) == sorted(coef.index)
    np.testing.assert_allclose(est["estimate"], coef[est.index], rtol=0, atol=1e-8)
    np.testing.assert_allclose(est["se"], se[est.index], rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.vcov)), est["se"], rtol=1e-12)


@pytest.mark.parametrize("cluster", [None, "group"])
def test_matches_diff_diff_sun_abraham(panel: pd.DataFrame, cluster: str | None) -> None:
    ours = event_study(
        panel, **KEYS, window=FULL, cluster=cluster or "unit", estimator="sun_abraham"
    )
    theirs = dd.SunAbraham(cluster=cluster or "unit").fit(
        panel, outcome="y", unit="unit", time="year", first_treat="cohort"
    )
    ref = pd.DataFrame(theirs.event_study_effects).T
    est = ours.table.loc[~ours.table["reference"]]
    assert sorted(ref.index) == list(est.index)
    np.testing.assert_allclose(
        est["estimate"], ref.loc[est.index, "effect"].astype(float), atol=1e-8
    )
    np.testing.assert_allclose(est["se"], ref.loc[est.index, "se"].astype(float), rtol=1e-6)
    # their share weights are the observation shares of our meta (fixed in the variance)
    cohort_effects = ours.meta["cohort_effects"]
    for period, weights in theirs.cohort_weights.items():
        mine = cohort_effects.loc[cohort_effects["rel_time"] == period].set_index("cohort")
        for g, share in weights.items():
            assert mine.loc[g, "weight"] == pytest.approx(share, abs=1e-12)


@pytest.mark.filterwarnings("ignore:.*currently in beta", r"ignore:\s*\d+ variables dropped")
@pytest.mark.parametrize("cluster", [None, "group"])
def test_matches_pyfixest_saturated_event_study(panel: pd.DataFrame, cluster: str | None) -> None:
    ours = event_study(
        panel, **KEYS, window=FULL, cluster=cluster or "unit", estimator="sun_abraham"
    )
    fit = pf.event_study(
        panel,
        yname="y",
        idname="unit",
        tname="year",
        gname="cohort",
        estimator="saturated",
        cluster=cluster or "unit",
    )
    theirs = fit.aggregate()[["Estimate", "Std. Error"]].astype(float)
    theirs.index = theirs.index.astype(float).astype(int)
    est = ours.table.loc[~ours.table["reference"]]
    assert sorted(theirs.index) == list(est.index)
    np.testing.assert_allclose(est["estimate"], theirs.loc[est.index, "Estimate"], atol=1e-8)
    np.testing.assert_allclose(est["se"], theirs.loc[est.index, "Std. Error"], rtol=1e-6)


def test_table_layout_and_counts(panel: pd.DataFrame) -> None:
    res = event_study(panel, **KEYS, window=(-4, 4), estimator="sun_abraham")
    table = res.table
    assert table.index.name == "rel_time" and list(table.index) == list(range(-4, 5))
    assert table.loc[-1, "reference"] and table.loc[-1, "estimate"] == 0.0
    rel = panel["rel_time"]
    assert table.loc[4, "n_obs"] == int((rel >= 4).sum())
    assert table.loc[-4, "n_obs"] == int((rel <= -4).sum())
    assert table.loc[2, "n_obs"] == int((rel == 2).sum())
    # the share weights of each relative period sum to one
    sums = res.meta["cohort_effects"].groupby("rel_time")["weight"].sum()
    np.testing.assert_allclose(sums, 1.0)
    assert res.meta["control_cohort"] == "never treated" and res.meta["estimator"] == "sun_abraham"


def test_last_treated_cohort_is_control_without_never_treated(panel: pd.DataFrame) -> None:
    treated_only = panel.loc[panel["cohort"] > 0]
    with pytest.warns(UserWarning, match=r"last-treated cohort 2022 is the control"):
        ours = event_study(
            treated_only, **KEYS, window=(-4, 4), estimator="sun_abraham", cluster="unit"
        )
    # independently: recode cohort 2022 as never treated, keep the years before 2022
    restricted = treated_only.loc[treated_only["year"] < 2022]
    restricted = restricted.assign(
        cohort=restricted["cohort"].replace(2022, 0),
        rel_time=restricted["rel_time"].where(restricted["cohort"] != 2022),
    )
    coef, se = pyfixest_iw(restricted, (-4, 4), -1, "unit")
    est = ours.table.loc[~ours.table["reference"]]
    np.testing.assert_allclose(est["estimate"], coef[est.index], atol=1e-8)
    np.testing.assert_allclose(est["se"], se[est.index], rtol=1e-6)
    assert ours.meta["control_cohort"] == 2022


def test_cohort_without_reference_period_is_dropped(panel: pd.DataFrame) -> None:
    # units treated from the first year (2012) have no rel_time = -1 observation
    early = panel.copy()
    first_units = early["unit"] < 10
    early.loc[first_units, "cohort"] = 2012
    early.loc[first_units, "rel_time"] = early.loc[first_units, "year"] - 2012
    with pytest.warns(UserWarning, match=r"cohorts \['2012'\] have no observation"):
        ours = event_study(early, **KEYS, window=(-4, 4), estimator="sun_abraham")
    assert ours.meta["dropped_cohorts"] == [2012.0]
    coef, _ = pyfixest_iw(early.loc[~first_units], (-4, 4), -1, "unit")
    est = ours.table.loc[~ours.table["reference"]]
    np.testing.assert_allclose(est["estimate"], coef[est.index], atol=1e-8)


def test_bad_input_gives_clear_errors(panel: pd.DataFrame) -> None:
    late = panel.loc[panel["cohort"].isin([0, 2022])]
    # rel_time -2 of cohort 2022 is 2020, a year that does not exist
    with pytest.raises(DesignError, match="no treated cohort has observations at the reference"):
        event_study(late, **KEYS, window=(-3, 1), reference=-2, estimator="sun_abraham")
    with pytest.raises(DesignError, match="no comparison group"):
        event_study(panel.assign(cohort=2019), **KEYS, estimator="sun_abraham")
