"""Callaway & Sant'Anna ATT(g,t): R `did` reference, truth recovery, cross-checks, inference.

Reference: tests/data/reference (R `did` 2.5 on mpdta, see its README). Cross-checks run
moderndid 0.2 and diff-diff 3.13 as black boxes on the same data. Known convention
differences, each pinned by a test below rather than hidden in a tolerance:

* diff-diff's doubly robust estimator *with covariates* differs from R `did`/moderndid
  (up to ~1e-3 in ATT here); its IPW and regression estimators, and every estimator
  without covariates, agree with ours to 1e-10.
* diff-diff's clustered analytic SE carries the CR1 factor sqrt(G/(G-1)); ours (like R
  `did`) has none, so clustering on the unit reproduces the unclustered SE.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DataFormatError, DesignError, ParameterError
from evaluatie.estimators.did import att_gt, dr_did, ipw_did, reg_did
from evaluatie.estimators.did.aggregate import cohort_shares
from evaluatie.estimators.did.drdid import did_means

REF = Path(__file__).resolve().parents[2] / "data" / "reference"
COHORTS = (2013, 2015, 2017)
PERIODS = tuple(range(2010, 2020))
BETA = {2013: 1.0, 2015: 0.6, 2017: 0.3}  # effect = BETA[g] * (e + 1) for e >= 0


def true_effect(cohort: np.ndarray, time: np.ndarray) -> np.ndarray:
    """The DGP's ATT(g,t): heterogeneous by cohort, growing with event time, 0 before g."""
    beta = np.array([BETA.get(int(g), 0.0) for g in cohort])
    e = np.asarray(time) - np.asarray(cohort)
    return np.where(e >= 0, beta * (e + 1), 0.0)


def simulate_staggered(
    n: int = 900,
    seed: int = 0,
    covariate: bool = False,
    gap: int | None = None,
    cohorts: tuple[int, ...] = COHORTS,
    pretrend: float = 0.0,
) -> pd.DataFrame:
    """Balanced staggered panel: 3 cohorts + never treated, parallel trends hold.

    ``y = α_i + λ_t + τ(g, t) + ε``. With ``covariate``, ``x`` shifts both the chance of
    never being treated and the trend (parallel trends hold only conditional on ``x``).
    ``pretrend`` adds a linear trend to the last cohort only (violating parallel trends).
    """
    rng = np.random.default_rng(seed)
    periods = np.array([p for p in PERIODS if p != gap])
    x = rng.normal(size=n)
    prob = np.ones((n, len(cohorts) + 1))
    if covariate:
        prob[:, 0] = np.exp(0.8 * x)
    prob /= prob.sum(axis=1, keepdims=True)
    pick = (rng.random(n)[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
    g = np.array((0, *cohorts))[pick]
    unit = np.repeat(np.arange(n), len(periods))
    t = np.tile(periods, n)
    gi = g[unit]
    y = (
        rng.normal(size=n)[unit]
        + 0.5 * (gi > 0)
        + 0.1 * (t - periods[0])
        + rng.normal(scale=0.2, size=len(periods))[np.searchsorted(periods, t)]
        + (0.3 * x[unit] * (t - periods[0]) if covariate else 0.0)
        + pretrend * (gi == cohorts[-1]) * (t - periods[0])
        + true_effect(np.where(gi > 0, gi, 10**6), t)
        + rng.normal(size=len(t))
    )
    return pd.DataFrame(
        {"id": unit + 100, "year": t, "g": gi, "y": y, "x": x[unit], "cl": unit % 37}
    )


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(REF / "mpdta.csv")


def fit_mpdta(data: pd.DataFrame, **kw: object):
    return att_gt(data, outcome="lemp", unit="countyreal", time="year", cohort="first.treat", **kw)


# --- 1. R `did` reference -------------------------------------------------------------


def test_mpdta_att_gt_matches_r_did(mpdta: pd.DataFrame) -> None:
    ref = pd.read_csv(REF / "mpdta_att_gt.csv")
    res = fit_mpdta(mpdta)
    got = res.table.merge(ref, on=["cohort", "time"], how="outer", suffixes=("", "_r"))
    assert len(got) == len(ref) == len(res.table) == 12
    np.testing.assert_allclose(got["estimate"], got["att"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(got["se"], got["se_r"], rtol=0, atol=1e-6)
    assert res.meta["n_units"] == 500
    # varying base: pre-periods compare with the previous period, post with g - 1
    row = res.table.set_index(["cohort", "time"])
    assert row.loc[(2007, 2005), "base"] == 2004
    assert row.loc[(2006, 2007), "base"] == 2005


def test_mpdta_pretrend_wald_matches_moderndid(mpdta: pd.DataFrame) -> None:
    moderndid = pytest.importorskip("moderndid")
    m = moderndid.att_gt(
        mpdta, yname="lemp", tname="year", idname="countyreal", gname="first.treat"
    )
    w = fit_mpdta(mpdta, inference="analytic").pretrend_test()
    assert w.df == 5
    assert w.statistic == pytest.approx(m.wald_stat, rel=1e-10)
    assert w.p == pytest.approx(m.wald_pvalue, abs=1e-5)  # moderndid rounds p to 5 digits


# --- 2. truth recovery ----------------------------------------------------------------


def test_att_gt_recovers_truth() -> None:
    data = simulate_staggered(n=1500, seed=1)
    tab = att_gt(data, outcome="y", unit="id", time="year", cohort="g").table
    truth = true_effect(tab["cohort"].to_numpy(), tab["time"].to_numpy())
    z = (tab["estimate"] - truth) / tab["se"]
    assert np.all(np.abs(z) < 4), z.abs().max()
    assert np.mean(np.abs(z) < 1.96) > 0.85
    post = tab["rel_time"] >= 0
    assert (tab.loc[post, "ci_low"] > 0).all()  # effects are large relative to noise


def test_pretrend_test_detects_violation_only_when_present() -> None:
    ok = att_gt(
        simulate_staggered(n=1500, seed=2), outcome="y", unit="id", time="year", cohort="g"
    ).pretrend_test()
    bad = att_gt(
        simulate_staggered(n=1500, seed=2, pretrend=0.3),
        outcome="y",
        unit="id",
        time="year",
        cohort="g",
    ).pretrend_test()
    assert ok.p > 0.01
    # the default randomization test: no re-assignment of 5,000 comes near the observed one
    assert bad.meta["inference"].procedure == "randomization"
    assert bad.p <= 1 / bad.meta["inference"].draws
    assert ok.df == bad.df == 2 + 4 + 6  # (g - first period - 1) pre cells per cohort


# --- 3. cross-checks against moderndid and diff-diff ----------------------------------

CONFIGS = [
    ("base", {}, {}),
    ("not_yet", {"control": "not_yet_treated"}, {}),
    ("anticipation", {"anticipation": 1}, {}),
    ("universal", {"base_period": "universal"}, {}),
    (
        "universal_nyt_antic",
        {"base_period": "universal", "control": "not_yet_treated", "anticipation": 1},
        {},
    ),
    ("cov_dr", {"covariates": ("x",)}, {"covariate": True}),
    ("cov_dr_nyt", {"covariates": ("x",), "control": "not_yet_treated"}, {"covariate": True}),
    ("cov_ipw", {"covariates": ("x",), "est_method": "ipw"}, {"covariate": True}),
    (
        "cov_reg_nyt",
        {"covariates": ("x",), "est_method": "reg", "control": "not_yet_treated"},
        {"covariate": True},
    ),
    ("gap", {}, {"gap": 2015, "cohorts": (2013, 2016, 2017)}),
    ("gap_cohort", {"control": "not_yet_treated"}, {"gap": 2015, "cohorts": (2013, 2015, 2018)}),
    ("gap_universal", {"base_period": "universal"}, {"gap": 2015}),
]


def moderndid_att_gt(data: pd.DataFrame, **kw: object):
    moderndid = pytest.importorskip("moderndid")
    cov = kw.get("covariates", ())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moderndid notes its anticipation convention
        return moderndid.att_gt(
            data,
            yname="y",
            tname="year",
            idname="id",
            gname="g",
            xformla="~" + "+".join(cov) if cov else None,
            est_method=kw.get("est_method", "dr"),
            control_group=str(kw.get("control", "never_treated")).replace("_", ""),
            anticipation=kw.get("anticipation", 0),
            base_period=kw.get("base_period", "varying"),
            weightsname=kw.get("weights"),
        )


def diff_diff_att_gt(data: pd.DataFrame, cluster: str | None = None, **kw: object):
    diff_diff = pytest.importorskip("diff_diff")
    est = diff_diff.CallawaySantAnna(
        estimation_method=kw.get("est_method", "dr"),
        control_group=kw.get("control", "never_treated"),
        anticipation=kw.get("anticipation", 0),
        base_period=kw.get("base_period", "varying"),
        cluster=cluster,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(
            data,
            outcome="y",
            unit="id",
            time="year",
            first_treat="g",
            covariates=list(kw.get("covariates", ())) or None,
        )


def aligned(ours: pd.DataFrame, theirs: pd.DataFrame) -> pd.DataFrame:
    """Outer-join on (cohort, time); the cell sets must coincide."""
    both = ours.merge(theirs, on=["cohort", "time"], how="outer", suffixes=("", "_x"))
    assert len(both) == len(ours) == len(theirs)
    return both


@pytest.mark.parametrize(("name", "kw", "dgp"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_att_gt_matches_moderndid(name: str, kw: dict, dgp: dict) -> None:
    data = simulate_staggered(n=400, seed=11, **dgp)
    ours = att_gt(data, outcome="y", unit="id", time="year", cohort="g", **kw).table
    m = moderndid_att_gt(data, **kw)
    theirs = pd.DataFrame({"cohort": m.groups, "time": m.times, "att": m.att_gt, "se": m.se_gt})
    both = aligned(ours, theirs)
    np.testing.assert_allclose(both["estimate"], both["att"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(both["se"], both["se_x"], rtol=0, atol=1e-8, equal_nan=True)


# diff-diff's DR with covariates follows another convention: test_diff_diff_dr_covariates
CONFIGS_DD = [c for c in CONFIGS if not c[0].startswith("cov_dr")]


@pytest.mark.parametrize(("name", "kw", "dgp"), CONFIGS_DD, ids=[c[0] for c in CONFIGS_DD])
def test_att_gt_matches_diff_diff(name: str, kw: dict, dgp: dict) -> None:
    data = simulate_staggered(n=400, seed=11, **dgp)
    ours = att_gt(data, outcome="y", unit="id", time="year", cohort="g", **kw).table
    theirs = diff_diff_att_gt(data, **kw).to_dataframe().rename(columns={"group": "cohort"})
    both = aligned(ours, theirs)
    np.testing.assert_allclose(both["estimate"], both["effect"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(both["se"], both["se_x"], rtol=0, atol=1e-8, equal_nan=True)


def test_diff_diff_dr_covariates() -> None:
    """Documented difference: diff-diff 3.13's DR with covariates is not R `did`'s DR
    (moderndid, a port of R `did`, agrees with us to 1e-8 on the same data)."""
    data = simulate_staggered(n=400, seed=11, covariate=True)
    ours = att_gt(data, outcome="y", unit="id", time="year", cohort="g", covariates=("x",)).table
    dd = diff_diff_att_gt(data, covariates=("x",)).to_dataframe()
    m = moderndid_att_gt(data, covariates=("x",))
    gap_dd = np.abs(ours["estimate"].to_numpy() - dd["effect"].to_numpy()).max()
    gap_md = np.abs(ours["estimate"].to_numpy() - m.att_gt).max()
    assert gap_md < 1e-8
    assert 1e-7 < gap_dd < 1e-2


def test_weights_match_moderndid() -> None:
    data = simulate_staggered(n=400, seed=12, covariate=True)
    data["w"] = np.random.default_rng(0).uniform(0.5, 2.0, 400)[data["id"] - 100]
    for kw in ({}, {"covariates": ("x",)}):
        ours = att_gt(
            data, outcome="y", unit="id", time="year", cohort="g", weights="w", **kw
        ).table
        m = moderndid_att_gt(data, weights="w", **kw)
        np.testing.assert_allclose(ours["estimate"], m.att_gt, rtol=0, atol=1e-8)
        np.testing.assert_allclose(ours["se"], m.se_gt, rtol=0, atol=1e-8)


def test_integer_weights_equal_duplicated_units() -> None:
    data = simulate_staggered(n=300, seed=13, covariate=True)
    data["w"] = np.where(data["id"] % 3 == 0, 2, 1)
    dup = data[data["w"] == 2].assign(id=lambda d: d["id"] + 10_000)
    doubled = pd.concat([data, dup], ignore_index=True)
    for kw in ({}, {"covariates": ("x",)}, {"covariates": ("x",), "est_method": "ipw"}):
        a = att_gt(data, outcome="y", unit="id", time="year", cohort="g", weights="w", **kw).table[
            "estimate"
        ]
        b = att_gt(doubled, outcome="y", unit="id", time="year", cohort="g", **kw).table["estimate"]
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


# --- 2×2 estimators -------------------------------------------------------------------


def two_by_two(seed: int = 3, m: int = 400) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=m)
    d = (rng.random(m) < 1 / (1 + np.exp(-0.5 * x))).astype(float)
    dy = 1.0 + 0.5 * x + 2.0 * d + rng.normal(size=m)
    w = rng.uniform(0.5, 2.0, m)
    return dy, d, x, w


@pytest.mark.parametrize("estimator", [dr_did, ipw_did, reg_did])
def test_intercept_only_2x2_equals_closed_form(estimator) -> None:
    dy, d, _, w = two_by_two()
    fit = estimator(dy, d, np.ones((len(d), 1)), w)
    y = np.column_stack([np.zeros_like(dy), dy])
    order = np.argsort(-d, kind="stable")  # treated first, as contiguous groups
    bounds = np.array([0, int(d.sum()), len(d)])
    means = did_means(
        y[order], np.array([1]), np.array([0]), bounds, np.array([[True], [False]]),
        np.array([[False], [True]]), w[order],
    )  # fmt: skip
    assert fit.att == pytest.approx(means.att[0], abs=1e-12)
    np.testing.assert_allclose(fit.inf[order], means.inf[:, 0], rtol=0, atol=1e-10)


def test_2x2_estimators_with_covariate() -> None:
    dy, d, x, w = two_by_two(m=4000)
    xm = np.column_stack([np.ones_like(x), x])
    fits = {f.__name__: f(dy, d, xm, w) for f in (dr_did, ipw_did, reg_did)}
    for fit in fits.values():
        se = np.sqrt(np.sum(fit.inf**2)) / len(d)
        assert abs(fit.att - 2.0) < 4 * se  # truth 2 (all three models correct here)
        assert abs(fit.inf.mean()) < 1e-10  # influence functions are centred
    # unadjusted difference in means is biased (x drives both d and the trend)
    naive = np.average(dy[d == 1], weights=w[d == 1]) - np.average(dy[d == 0], weights=w[d == 0])
    assert abs(naive - 2.0) > 0.1


# --- 4. inference: clustering and the multiplier bootstrap ----------------------------


def test_cluster_on_unit_equals_unclustered_and_state_clusters_differ(
    mpdta: pd.DataFrame,
) -> None:
    data = mpdta.assign(state=mpdta["countyreal"] // 1000, unit_copy=mpdta["countyreal"])
    plain = fit_mpdta(mpdta).table["se"].to_numpy()  # no column above the unit: unclustered
    by_unit = fit_mpdta(data, cluster="unit_copy")
    by_state = fit_mpdta(data, cluster="state")
    np.testing.assert_allclose(by_unit.table["se"], plain, rtol=1e-12)
    assert by_unit.meta["n_clusters"] == 500
    assert by_state.meta["n_clusters"] == 29
    assert np.max(np.abs(by_state.table["se"].to_numpy() / plain - 1)) > 0.05
    np.testing.assert_allclose(by_state.table["estimate"], by_unit.table["estimate"])


def test_clustered_se_equals_diff_diff_without_cr1_factor() -> None:
    data = simulate_staggered(n=400, seed=14)
    ours = att_gt(data, outcome="y", unit="id", time="year", cohort="g", cluster="cl").table
    theirs = diff_diff_att_gt(data, cluster="cl").to_dataframe()
    n_cl = data["cl"].nunique()
    np.testing.assert_allclose(ours["se"] * np.sqrt(n_cl / (n_cl - 1)), theirs["se"], rtol=1e-10)


def test_bootstrap_reproducible_and_close_to_analytic(mpdta: pd.DataFrame) -> None:
    analytic = fit_mpdta(mpdta).table
    a = fit_mpdta(mpdta, n_boot=4999, seed=42)
    b = fit_mpdta(mpdta, n_boot=4999, seed=42)
    c = fit_mpdta(mpdta, n_boot=4999, seed=43)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.allclose(a.table["se"], c.table["se"])
    assert a.meta["inference"].procedure == "multiplier bootstrap" and a.meta["seed"] == 42
    np.testing.assert_allclose(a.table["estimate"], analytic["estimate"])
    ratio = a.table["se"] / analytic["se"]
    assert ratio.between(0.9, 1.1).all(), ratio
    crit = a.meta["crit_value"]
    assert 1.96 < crit < 4.0  # sup over 12 cells exceeds the pointwise critical value
    np.testing.assert_allclose(a.table["cband_high"] - a.table["estimate"], crit * a.table["se"])
    assert (a.table["cband_low"] < a.table["ci_low"]).all()
    assert analytic["cband_low"].isna().all()  # no bands without the bootstrap


def test_bootstrap_rademacher_and_clustered(mpdta: pd.DataFrame) -> None:
    data = mpdta.assign(state=mpdta["countyreal"] // 1000)
    analytic = fit_mpdta(data, cluster="state").table["se"]
    boot = fit_mpdta(data, cluster="state", n_boot=4999, seed=1, boot_weights="rademacher")
    assert boot.meta["boot_weights"] == "rademacher" and boot.meta["n_clusters"] == 29
    ratio = boot.table["se"] / analytic
    assert ratio.between(0.85, 1.15).all(), ratio


def test_bootstrap_fast_path_equals_generic_draws() -> None:
    """The factorised (no covariates, unclustered) bootstrap reproduces the generic
    multiplier bootstrap with the same weights (up to float32 rounding)."""
    data = simulate_staggered(n=300, seed=15)
    for kw in ({}, {"base_period": "universal", "control": "not_yet_treated"}):
        res = att_gt(
            data, outcome="y", unit="id", time="year", cohort="g", n_boot=199, seed=5, **kw
        )
        cohorts = np.unique(res.unit_cohort[np.isfinite(res.unit_cohort)])
        _, phi = cohort_shares(res.unit_cohort, res.unit_weights, cohorts)
        generic = res.if_inference.draws(np.hstack([res.influence, phi]))
        scale = np.abs(generic).max()
        np.testing.assert_allclose(res.boot_draws, generic, rtol=0, atol=1e-5 * scale)


def test_universal_base_reference_cells() -> None:
    data = simulate_staggered(n=300, seed=16)
    tab = att_gt(
        data,
        outcome="y",
        unit="id",
        time="year",
        cohort="g",
        base_period="universal",
        n_boot=99,
        seed=1,
    ).table
    ref = tab[tab["reference"]]
    assert sorted(ref["cohort"]) == list(COHORTS)
    assert (ref["time"] == ref["cohort"] - 1).all() and (ref["estimate"] == 0).all()
    assert ref["se"].isna().all() and ref["cband_low"].isna().all()
    assert (tab["base"] == tab["cohort"] - 1).all()


def test_time_gap_uses_previous_observed_period() -> None:
    data = simulate_staggered(n=300, seed=17, gap=2015, cohorts=(2013, 2015, 2018))
    tab = att_gt(data, outcome="y", unit="id", time="year", cohort="g").table.set_index(
        ["cohort", "time"]
    )
    assert 2015 not in tab.index.get_level_values("time")
    assert tab.loc[(2018, 2016), "base"] == 2014  # pre-period: previous observed period
    assert tab.loc[(2015, 2016), "base"] == 2014  # cohort 2015 (a missing year): base 2014
    assert tab.loc[(2015, 2016), "rel_time"] == 1  # event time in calendar years


# --- 5. design and parameter errors ---------------------------------------------------


def small() -> pd.DataFrame:
    return simulate_staggered(n=120, seed=20)


def test_missing_columns() -> None:
    with pytest.raises(ParameterError, match="cohort='nope' is not a column of data"):
        att_gt(small(), outcome="y", unit="id", time="year", cohort="nope")
    with pytest.raises(ParameterError, match="covariates='zz' is not a column"):
        att_gt(small(), outcome="y", unit="id", time="year", cohort="g", covariates=("zz",))


def test_infinite_outcome_and_empty_data() -> None:
    data = small()
    with pytest.raises(DataFormatError, match="'y': outcome contains infinite values"):
        att_gt(
            data.assign(y=np.where(data.index == 3, np.inf, data["y"])),
            outcome="y",
            unit="id",
            time="year",
            cohort="g",
        )
    with pytest.raises(DesignError, match="data has no rows"):
        att_gt(data.iloc[:0], outcome="y", unit="id", time="year", cohort="g")


def test_duplicate_unit_period() -> None:
    data = small()
    with pytest.raises(DesignError, match="more than once"):
        att_gt(pd.concat([data, data.iloc[[5]]]), outcome="y", unit="id", time="year", cohort="g")


def test_cohort_changing_within_unit() -> None:
    data = small()
    row = (data["id"] == 100) & (data["year"] == 2019)
    data.loc[row, "g"] = data.loc[row, "g"] + 1
    with pytest.raises(DesignError, match=r"changes over time for 1 unit\(s\), e.g. unit 100"):
        att_gt(data, outcome="y", unit="id", time="year", cohort="g")


def test_no_never_treated_units() -> None:
    data = small()
    data = data[data["g"] > 0]
    with pytest.raises(DesignError, match="no unit is never treated"):
        att_gt(data, outcome="y", unit="id", time="year", cohort="g")
    # with not-yet-treated controls it runs; the last cohort's post cells have no controls
    with pytest.warns(UserWarning, match="without comparison units"):
        res = att_gt(
            data, outcome="y", unit="id", time="year", cohort="g", control="not_yet_treated"
        )
    last = res.table[res.table["cohort"] == 2017]
    assert (last["time"] < 2017).all()


def test_first_period_cohort_is_dropped_with_warning() -> None:
    data = small()
    first_units = data["id"].isin([100, 101, 102])
    data.loc[first_units, "g"] = 2010
    with pytest.warns(UserWarning, match=r"Dropped 3 unit\(s\) in cohort\(s\) \[2010.0\]"):
        res = att_gt(data, outcome="y", unit="id", time="year", cohort="g")
    assert 2010 not in set(res.table["cohort"])
    assert res.meta["n_units"] == 117 and res.meta["units_dropped_treated_first_period"] == 3
    expected = att_gt(data[~first_units], outcome="y", unit="id", time="year", cohort="g").table
    pd.testing.assert_frame_equal(res.table, expected)


def test_cohort_after_last_period_is_never_treated() -> None:
    data = small()
    data.loc[data["id"].isin([100, 101]), "g"] = 2030
    with pytest.warns(UserWarning, match="after the last period"):
        res = att_gt(data, outcome="y", unit="id", time="year", cohort="g")
    expected = att_gt(
        data.assign(g=data["g"].where(data["g"] != 2030, 0)),
        outcome="y",
        unit="id",
        time="year",
        cohort="g",
    )
    pd.testing.assert_frame_equal(res.table, expected.table)


def test_unbalanced_panel_drops_incomplete_units_with_warning() -> None:
    data = small()
    holes = data.index[[3, 25, 26, 400]]  # units 100, 102 (twice) and 140
    with pytest.warns(UserWarning, match=r"dropped 3 of 120 unit\(s\)"):
        res = att_gt(data.drop(index=holes), outcome="y", unit="id", time="year", cohort="g")
    assert res.meta["units_dropped_unbalanced"] == 3
    complete = data[~data["id"].isin(data.loc[holes, "id"])]
    pd.testing.assert_frame_equal(
        res.table, att_gt(complete, outcome="y", unit="id", time="year", cohort="g").table
    )
    data.loc[holes[0], "y"] = np.nan  # a missing outcome also makes a unit incomplete
    with pytest.warns(UserWarning) as record:
        att_gt(data, outcome="y", unit="id", time="year", cohort="g")
    messages = " | ".join(str(r.message) for r in record)
    assert "Dropped 1 row(s) with a missing value" in messages
    assert "dropped 1 of 120 unit(s)" in messages


def test_nan_cohort_is_never_treated() -> None:
    data = small()
    a = att_gt(data, outcome="y", unit="id", time="year", cohort="g").table
    b = att_gt(
        data.assign(g=data["g"].replace(0, np.nan)), outcome="y", unit="id", time="year", cohort="g"
    ).table
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"est_method": "ols"}, "est_method must be one of"),
        ({"control": "never"}, "control must be one of"),
        ({"base_period": "fixed"}, "base_period must be one of"),
        ({"anticipation": -1}, "anticipation"),
        ({"anticipation": 1.5}, "anticipation"),
        ({"n_boot": -5}, "n_boot"),
        ({"alpha": 1.5}, "alpha"),
        ({"boot_weights": "webb"}, "boot_weights"),
    ],
)
def test_parameter_errors(kw: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        att_gt(small(), outcome="y", unit="id", time="year", cohort="g", **kw)


def test_weights_and_cluster_must_be_unit_level() -> None:
    data = small().assign(w=1.0)
    data.loc[data.index[0], "w"] = 2.0
    with pytest.raises(DesignError, match="Weights column 'w'"):
        att_gt(data, outcome="y", unit="id", time="year", cohort="g", weights="w")
    with pytest.raises(ParameterError, match="positive"):
        att_gt(data.assign(w=0.0), outcome="y", unit="id", time="year", cohort="g", weights="w")
    with pytest.raises(DesignError, match="Cluster column 'year'"):
        att_gt(data, outcome="y", unit="id", time="year", cohort="g", cluster="year")


def test_non_numeric_time_and_no_treated() -> None:
    data = small()
    with pytest.raises(DataFormatError, match="'year': time must be numeric"):
        att_gt(
            data.assign(year=data["year"].astype(str)),
            outcome="y",
            unit="id",
            time="year",
            cohort="g",
        )
    with pytest.raises(DesignError, match="every unit is never treated"):
        att_gt(data.assign(g=0), outcome="y", unit="id", time="year", cohort="g")


# --- 6. Monte Carlo --------------------------------------------------------------------


@pytest.mark.slow
def test_monte_carlo_coverage_of_simple_att() -> None:
    """The simple ATT weights post-treatment cells by P(G = g); in the DGP the three
    cohorts and never treated are equally likely, so the population estimand is the plain
    mean of the post-treatment effects (its SE includes estimating the P(G = g))."""
    periods = np.array(PERIODS)
    cells = [(g, t) for g in COHORTS for t in periods if t >= g]
    truth = float(np.mean(true_effect(*map(np.array, zip(*cells, strict=True)))))
    hits = []
    for rep in range(250):
        data = simulate_staggered(n=400, seed=1000 + rep)
        o = (
            att_gt(data, outcome="y", unit="id", time="year", cohort="g", inference="analytic")
            .aggregate("simple")
            .overall
        )
        hits.append(o.ci_low <= truth <= o.ci_high)
    assert 0.92 <= np.mean(hits) <= 0.98, np.mean(hits)
