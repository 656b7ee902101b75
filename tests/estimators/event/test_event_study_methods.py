"""event_study's heterogeneity-robust methods: truth, TWFE bias, common table, CS mapping.

The DGP (``staggered_dgp``) has effects that differ by cohort and grow with time since
adoption, parallel trends and no anticipation. Without noise every robust method must
return the true average effect exactly, while the dynamic TWFE regression mixes
relative periods; with noise the truth must lie within 4 standard errors.

``estimator="callaway_santanna"`` is cross-checked against moderndid 0.2 (``att_gt`` with
``base_period="universal"``, ``bstrap=False`` + ``aggte(type="dynamic")``; agreement
~1e-14) and, clustered, against diff-diff 3.13's ``CallawaySantAnna``: its analytic
clustered SE carries the CR1 factor ``sqrt(G/(G-1))`` and ours (like R ``did``) none,
so the comparison removes that factor explicitly. moderndid ignores ``clustervars``
for analytic SEs (as R ``did`` does without the bootstrap), so it is compared unclustered.
"""

from __future__ import annotations

import diff_diff as dd
import moderndid as md
import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import TABLE_COLUMNS
from evaluatie.estimators.did import att_gt
from evaluatie.estimators.event import ESTIMATORS, event_study
from evaluatie.synth.panels import PLATEAU, staggered_panel, true_event_effects

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
ROBUST = ("sun_abraham", "imputation", "callaway_santanna")
WINDOW = (-4, PLATEAU)  # effects are constant beyond the upper endpoint
FULL = (-10, 8)


@pytest.fixture(scope="module")
def exact() -> pd.DataFrame:
    return staggered_panel(n_units=150, n_groups=30, noise=0.0, seed=31)


@pytest.fixture(scope="module")
def noisy() -> pd.DataFrame:
    return staggered_panel(n_units=300, n_groups=60, noise=1.0, seed=32)


def fit(data: pd.DataFrame, method: str, **kwargs: object) -> pd.DataFrame:
    return event_study(
        data,
        outcome="y",
        unit="unit",
        time="year",
        cohort="cohort",
        estimator=method,
        # the pinned numbers cluster by unit (the default would detect "group")
        **({"inference": "analytic"} | ({} if "vcov" in kwargs else {"cluster": "unit"}) | kwargs),
    ).table


def truth(data: pd.DataFrame, window: tuple[int, int]) -> pd.Series:
    post = true_event_effects(data, window)
    return post.reindex(range(window[0], window[1] + 1), fill_value=0.0)


@pytest.mark.parametrize("method", ROBUST)
def test_recovers_heterogeneous_dynamic_effects_where_twfe_is_biased(
    exact: pd.DataFrame, noisy: pd.DataFrame, method: str
) -> None:
    target = truth(exact, WINDOW)
    est = fit(exact, method, window=WINDOW)["estimate"]
    np.testing.assert_allclose(est, target[est.index], atol=1e-8)
    twfe = fit(exact, "twfe", window=WINDOW)["estimate"]
    assert np.abs(twfe - target[twfe.index]).max() > 0.2  # TWFE mixes relative periods

    table = fit(noisy, method, window=WINDOW)
    rows = table.loc[~table["reference"]]
    z = (rows["estimate"] - truth(noisy, WINDOW)[rows.index]) / rows["se"]
    assert np.abs(z).max() < 4
    twfe = fit(noisy, "twfe", window=WINDOW)
    rows = twfe.loc[~twfe["reference"]]
    z_twfe = (rows["estimate"] - truth(noisy, WINDOW)[rows.index]) / rows["se"]
    assert np.abs(z_twfe).max() > 4


def test_every_method_returns_the_same_table_shape(noisy: pd.DataFrame) -> None:
    assert set(ESTIMATORS) == {"twfe", *ROBUST}
    tables = {m: fit(noisy, m, window=WINDOW) for m in ESTIMATORS}
    rel = noisy["rel_time"]
    counts = [int((rel <= WINDOW[0]).sum())]
    counts += [int((rel == p).sum()) for p in range(WINDOW[0] + 1, WINDOW[1])]
    counts += [int((rel >= WINDOW[1]).sum())]
    for method, table in tables.items():
        assert list(table.columns) == [*TABLE_COLUMNS, "reference", "n_obs"], method
        assert table.index.name == "rel_time" and pd.api.types.is_integer_dtype(table.index)
        assert list(table.index) == list(range(WINDOW[0], WINDOW[1] + 1)), method
        assert table["reference"].tolist() == [p == -1 for p in table.index]
        assert table.loc[-1, "estimate"] == 0.0 and np.isnan(table.loc[-1, "se"])
        assert table.loc[table.index != -1, "se"].gt(0).all(), method
        # a balanced panel: every method uses all treated-unit rows at each period
        assert table["n_obs"].tolist() == counts, method


def test_sun_abraham_equals_callaway_santanna_universal_base(noisy: pd.DataFrame) -> None:
    # balanced panel, never-treated controls, no binning, no covariates: algebraically equal
    sa = fit(noisy, "sun_abraham", window=FULL)
    cs = fit(noisy, "callaway_santanna", window=FULL)
    np.testing.assert_allclose(sa["estimate"], cs["estimate"], atol=1e-8)


def moderndid_dynamic(data: pd.DataFrame) -> pd.DataFrame:
    mp = md.att_gt(
        data,
        yname="y",
        tname="year",
        idname="unit",
        gname="cohort",
        boot=False,
        cband=False,
        base_period="universal",
        control_group="nevertreated",
        est_method="dr",
    )
    agg = md.aggte(mp, type="dynamic", boot=False, cband=False)
    return pd.DataFrame(
        {"att": np.asarray(agg.att_by_event), "se": np.asarray(agg.se_by_event)},
        index=np.asarray(agg.event_times).astype(int),
    )


def test_callaway_santanna_matches_moderndid(noisy: pd.DataFrame) -> None:
    ours = fit(noisy, "callaway_santanna", window=FULL)
    theirs = moderndid_dynamic(noisy)
    assert list(ours.index) == sorted(theirs.index)
    est = ours.loc[~ours["reference"]]
    np.testing.assert_allclose(est["estimate"], theirs.loc[est.index, "att"], atol=1e-8)
    np.testing.assert_allclose(est["se"], theirs.loc[est.index, "se"], rtol=1e-6)
    assert theirs.loc[-1, "att"] == 0.0


def test_callaway_santanna_clustered_matches_diff_diff(noisy: pd.DataFrame) -> None:
    ours = fit(noisy, "callaway_santanna", window=FULL, cluster="group")
    cs = dd.CallawaySantAnna(
        control_group="never_treated",
        base_period="universal",
        cluster="group",
        estimation_method="dr",
    )
    res = cs.fit(
        noisy, outcome="y", unit="unit", time="year", first_treat="cohort", aggregate="event_study"
    )
    theirs = pd.DataFrame(res.event_study_effects).T[["effect", "se"]].astype(float)
    n_groups = noisy["group"].nunique()
    est = ours.loc[~ours["reference"]]
    np.testing.assert_allclose(est["estimate"], theirs.loc[est.index, "effect"], atol=1e-8)
    cr1 = np.sqrt(n_groups / (n_groups - 1))
    np.testing.assert_allclose(est["se"] * cr1, theirs.loc[est.index, "se"], rtol=1e-6)


def test_callaway_santanna_endpoints_pool_cells_with_cohort_shares(noisy: pd.DataFrame) -> None:
    window = (-3, 2)
    ours = fit(noisy, "callaway_santanna", window=window)
    cells = att_gt(
        noisy,
        outcome="y",
        unit="unit",
        time="year",
        cohort="cohort",
        base_period="universal",
        cluster="unit",  # as fit()
        inference="analytic",
    )
    # upper bin: CS's "simple" aggregation of the cells with e >= upper (exact, with SEs)
    simple = cells.aggregate("simple", min_rel_time=window[1]).overall
    assert ours.loc[window[1], "estimate"] == pytest.approx(simple.estimate, abs=1e-12)
    assert ours.loc[window[1], "se"] == pytest.approx(simple.se, rel=1e-10)
    # lower bin: the cohort-size weighted mean of the pre-period cells with e <= lower
    tab = cells.table.loc[cells.table["rel_time"] <= window[0]]
    pooled = np.average(tab["estimate"], weights=tab["n_treated"])
    assert ours.loc[window[0], "estimate"] == pytest.approx(pooled, abs=1e-12)
    interior = cells.aggregate("dynamic").table
    np.testing.assert_allclose(
        ours.loc[-2:1, "estimate"], interior.loc[-2:1, "estimate"], atol=1e-12
    )
    np.testing.assert_allclose(
        ours.loc[[-2, 0, 1], "se"], interior.loc[[-2, 0, 1], "se"], rtol=1e-10
    )


def test_callaway_santanna_bad_input_gives_clear_errors(noisy: pd.DataFrame) -> None:
    treated_only = noisy.loc[noisy["cohort"] > 0]
    with pytest.raises(DesignError, match="never-treated units, but every unit has a cohort"):
        fit(treated_only, "callaway_santanna")
    with pytest.raises(ParameterError, match="reference must be -1"):
        fit(noisy, "callaway_santanna", reference=-2)
    with pytest.raises(ParameterError, match="vcov='HC1' does not apply"):
        fit(noisy, "callaway_santanna", vcov="HC1")
    pupils = staggered_panel(n_units=20, n_groups=5, rows_per_cell=3, seed=1)
    with pytest.raises(DesignError, match="one row per unit and period"):
        fit(pupils, "callaway_santanna")


def test_callaway_santanna_p_values_are_the_analytic_ones_it_names(noisy: pd.DataFrame) -> None:
    """The adapter's p-values and intervals are normal-theory ones from its influence-
    function standard errors, as its Inference says (and as R did). Its internal att_gt
    fit ran inference='auto', which chose randomization: the table held randomization
    p-values and infinite intervals under an 'analytic' label, and the fit cost a
    randomization run (30 s on the simulated panel) that was thrown away."""
    from scipy import stats

    keys = {"outcome": "y", "unit": "unit", "time": "year", "cohort": "cohort"}
    for inference in ("auto", "analytic"):
        res = event_study(noisy, **keys, estimator="callaway_santanna", cluster="unit",
                          window=WINDOW, inference=inference)  # fmt: skip
        assert res.meta["inference"].procedure == "analytic"
        t = res.table.dropna(subset=["se"])
        z = float(stats.norm.ppf(0.975))
        np.testing.assert_allclose(t["p"], 2 * stats.norm.sf(np.abs(t["estimate"] / t["se"])))
        np.testing.assert_allclose(t["ci_low"], t["estimate"] - z * t["se"])
        np.testing.assert_allclose(t["ci_high"], t["estimate"] + z * t["se"])
