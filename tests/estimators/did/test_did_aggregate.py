"""Aggregations of ATT(g,t): R `did` reference, truth vs TWFE, cross-checks, bootstrap.

Documented convention differences (pinned by tests, not tolerances):

* diff-diff 3.13 averages the anticipation periods (``g - δ ≤ t < g``) into its simple and
  group aggregations; R `did`, moderndid and we use ``t ≥ g`` only.
* With sampling weights, our ``P(G = g)`` is the weighted cohort share (so integer weights
  equal duplicated units); moderndid 0.2 uses unweighted shares in its aggregations.
* R `did`/moderndid ignore ``max_e`` for the calendar aggregation; we apply ``min_e`` and
  ``max_e`` to the cells entering every aggregation.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_att_gt import COHORTS, PERIODS, moderndid_att_gt, simulate_staggered, true_effect

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.estimators.did import AttGtResult
from evaluatie.estimators.did import att_gt as _att_gt


def att_gt(data: pd.DataFrame, **kw: object) -> AttGtResult:
    """att_gt with analytic (or, with n_boot, bootstrap) inference: these tests check
    estimates and their SEs against references; the randomization p-values of the
    aggregations are tested in test_did_randomization.py."""
    kw.setdefault("inference", "auto" if kw.get("n_boot") else "analytic")
    return _att_gt(data, **kw)


REF = Path(__file__).resolve().parents[2] / "data" / "reference"
KINDS = ("simple", "group", "dynamic", "calendar")


@pytest.fixture(scope="module")
def mpdta_fit():
    data = pd.read_csv(REF / "mpdta.csv")
    return att_gt(data, outcome="lemp", unit="countyreal", time="year", cohort="first.treat")


def md_aggte(m, **kw: object):
    moderndid = pytest.importorskip("moderndid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moderndid notes how it builds its (unused) band
        return moderndid.aggte(m, **kw)


def level_column(kind: str) -> str:
    return {"group": "cohort", "dynamic": "rel_time", "calendar": "time"}[kind]


#: R `did` / moderndid keyword -> ours.
RENAMED = {"min_e": "min_rel_time", "max_e": "max_rel_time", "balance_e": "balance_rel_time"}


# --- 1. R `did` reference -------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_mpdta_aggregates_match_r_did(mpdta_fit, kind: str) -> None:
    ref = pd.read_csv(REF / "mpdta_aggregates.csv")
    ref = ref[ref["aggregation"] == kind]
    agg = mpdta_fit.aggregate(kind)
    assert agg.overall.estimate == pytest.approx(ref["overall_att"].iloc[0], abs=1e-6)
    assert agg.overall.se == pytest.approx(ref["overall_se"].iloc[0], abs=1e-6)
    if kind == "simple":
        assert agg.table["estimate"].iloc[0] == agg.overall.estimate
        return
    col = level_column(kind)
    ours = agg.table.reset_index()
    both = ours.merge(ref, left_on=col, right_on="e", how="outer", suffixes=("", "_r"))
    assert agg.table.index.name == col
    assert len(both) == len(ref) == len(agg.table)
    np.testing.assert_allclose(both["estimate"], both["att"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=0, atol=1e-6)


def test_estimated_weight_term_matters(mpdta_fit) -> None:
    """Without the influence of the estimated P(G=g) the simple-ATT SE is too small
    (R `did`: 0.012034); the reference match above therefore tests that term."""
    tab = mpdta_fit.table
    post = np.flatnonzero(tab["rel_time"].to_numpy() >= 0)
    w = tab["n_treated"].to_numpy()[post] / tab["n_treated"].to_numpy()[post].sum()
    psi = mpdta_fit.influence[:, post] @ w
    naive = np.sqrt(np.sum(psi**2)) / len(psi)
    assert mpdta_fit.aggregate("simple").overall.se - naive > 1e-4


# --- 2. truth recovery, and TWFE's bias on the same data ------------------------------


@pytest.fixture(scope="module")
def sim():
    data = simulate_staggered(n=1500, seed=1)
    return data, att_gt(data, outcome="y", unit="id", time="year", cohort="g")


def population_truth(kind: str) -> tuple[dict, float]:
    """Per-level and overall truth; P(G = g) is equal across the three cohorts."""
    cells = pd.DataFrame([(g, t) for g in COHORTS for t in PERIODS], columns=["g", "t"])
    cells["e"] = cells["t"] - cells["g"]
    cells = cells[(cells["e"] >= 0) | (cells["t"] > PERIODS[0])]  # varying base: no t = 2010
    cells["tau"] = true_effect(cells["g"].to_numpy(), cells["t"].to_numpy())
    post = cells[cells["e"] >= 0]
    if kind == "simple":
        return {}, post["tau"].mean()
    if kind == "group":
        lev = post.groupby("g")["tau"].mean()
        return lev.to_dict(), lev.mean()
    if kind == "calendar":
        lev = post.groupby("t")["tau"].mean()
        return lev.to_dict(), lev.mean()
    lev = cells.groupby("e")["tau"].mean()
    return lev.to_dict(), lev[lev.index >= 0].mean()


@pytest.mark.parametrize("kind", KINDS)
def test_aggregates_recover_truth(sim, kind: str) -> None:
    _, res = sim
    agg = res.aggregate(kind)
    levels, overall = population_truth(kind)
    assert abs(agg.overall.estimate - overall) < 4 * agg.overall.se
    if levels:
        tab = agg.table
        assert set(tab.index) == set(levels)
        z = (tab["estimate"] - pd.Series(levels)) / tab["se"]
        assert (z.abs() < 4).all(), z


def test_twfe_is_far_from_the_true_simple_att(sim) -> None:
    data, res = sim
    _, truth = population_truth("simple")
    # two-way within transformation of a balanced panel, then OLS of y on D
    d = ((data["g"] > 0) & (data["year"] >= data["g"])).astype(float)
    frame = pd.DataFrame({"y": data["y"], "d": d, "id": data["id"], "t": data["year"]})
    demeaned = {}
    for col in ("y", "d"):
        v = frame[col]
        demeaned[col] = (
            v
            - v.groupby(frame["id"]).transform("mean")
            - v.groupby(frame["t"]).transform("mean")
            + v.mean()
        ).to_numpy()
    beta = np.linalg.lstsq(demeaned["d"][:, None], demeaned["y"], rcond=None)[0][0]
    simple = res.aggregate("simple").overall
    assert abs(simple.estimate - truth) < 4 * simple.se
    assert abs(beta - truth) > 20 * simple.se and abs(beta - truth) > 0.25 * truth


# --- 3. cross-checks --------------------------------------------------------------------

AGG_CONFIGS = [
    ("base", {}, {}),
    ("not_yet_universal", {"control": "not_yet_treated", "base_period": "universal"}, {}),
    ("anticipation", {"anticipation": 1}, {}),
    ("cov_dr_nyt", {"covariates": ("x",), "control": "not_yet_treated"}, {"covariate": True}),
    ("gap", {}, {"gap": 2015, "cohorts": (2013, 2015, 2018)}),
]


@pytest.mark.parametrize(("name", "kw", "dgp"), AGG_CONFIGS, ids=[c[0] for c in AGG_CONFIGS])
def test_aggregates_match_moderndid(name: str, kw: dict, dgp: dict) -> None:
    data = simulate_staggered(n=400, seed=21, **dgp)
    res = att_gt(data, outcome="y", unit="id", time="year", cohort="g", **kw)
    m = moderndid_att_gt(data, **kw)
    for kind in KINDS:
        ours = res.aggregate(kind)
        theirs = md_aggte(m, type=kind)
        assert ours.overall.estimate == pytest.approx(theirs.overall_att, abs=1e-8)
        assert ours.overall.se == pytest.approx(theirs.overall_se, abs=1e-8)
        if kind != "simple":
            lev = ours.table.index.to_numpy(dtype=float)
            np.testing.assert_array_equal(lev, np.asarray(theirs.event_times, dtype=float))
            np.testing.assert_allclose(ours.table["estimate"], theirs.att_by_event, atol=1e-8)
            np.testing.assert_allclose(ours.table["se"], theirs.se_by_event, atol=1e-8)


@pytest.mark.parametrize(
    "kw", [{"balance_e": 2}, {"min_e": -2, "max_e": 3}, {"balance_e": 1, "min_e": -1}]
)
def test_dynamic_windows_match_moderndid(kw: dict) -> None:
    data = simulate_staggered(n=400, seed=22)
    ours = att_gt(data, outcome="y", unit="id", time="year", cohort="g").aggregate(
        "dynamic", **{RENAMED[k]: v for k, v in kw.items()}
    )
    theirs = md_aggte(moderndid_att_gt(data), type="dynamic", **kw)
    np.testing.assert_array_equal(ours.table.index, np.asarray(theirs.event_times, dtype=int))
    np.testing.assert_allclose(ours.table["estimate"], theirs.att_by_event, atol=1e-8)
    np.testing.assert_allclose(ours.table["se"], theirs.se_by_event, atol=1e-8)
    assert ours.overall.estimate == pytest.approx(theirs.overall_att, abs=1e-8)
    assert ours.overall.se == pytest.approx(theirs.overall_se, abs=1e-8)


def test_balance_e_fixes_composition() -> None:
    data = simulate_staggered(n=400, seed=22)
    agg = att_gt(data, outcome="y", unit="id", time="year", cohort="g").aggregate(
        "dynamic", balance_rel_time=3
    )
    assert agg.table.index.max() == 3  # cohort 2017 (last seen at e = 2) is left out
    assert agg.table.index.min() == 2011 - 2015  # earliest pre-period cell of cohort 2015


def diff_diff_fit(data: pd.DataFrame, **kw: object):
    diff_diff = pytest.importorskip("diff_diff")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return diff_diff.CallawaySantAnna(**kw).fit(
            data, outcome="y", unit="id", time="year", first_treat="g"
        )


@pytest.mark.parametrize("kw", [{}, {"control_group": "not_yet_treated"}])
def test_aggregates_match_diff_diff(kw: dict) -> None:
    data = simulate_staggered(n=400, seed=23)
    control = kw.get("control_group", "never_treated")
    res = att_gt(data, outcome="y", unit="id", time="year", cohort="g", control=control)
    dd = diff_diff_fit(data, **kw)
    simple = dd.aggregate("simple").to_dataframe()
    assert res.aggregate("simple").overall.estimate == pytest.approx(
        simple["att"].iloc[0], abs=1e-8
    )
    assert res.aggregate("simple").overall.se == pytest.approx(simple["se"].iloc[0], abs=1e-8)
    for ours, theirs in (
        (res.aggregate("group"), dd.aggregate("group").to_dataframe()),
        (res.aggregate("dynamic"), dd.aggregate("event_study").to_dataframe()),
    ):
        np.testing.assert_allclose(ours.table["estimate"], theirs["att"], atol=1e-8)
        np.testing.assert_allclose(ours.table["se"], theirs["se"], atol=1e-8)


def test_diff_diff_averages_anticipation_periods_into_simple() -> None:
    """Documented difference: with anticipation = 1, diff-diff's simple ATT also averages
    the cells t = g - 1; ours (R `did` convention) uses t >= g."""
    data = simulate_staggered(n=400, seed=23)
    res = att_gt(data, outcome="y", unit="id", time="year", cohort="g", anticipation=1)
    dd = diff_diff_fit(data, anticipation=1).aggregate("simple").to_dataframe()["att"].iloc[0]
    tab = res.table
    shares = res.unit_cohort
    keep = tab["rel_time"] >= -1
    p = np.array([np.mean(shares == g) for g in tab.loc[keep, "cohort"]])
    with_anticipation = np.sum(p * tab.loc[keep, "estimate"]) / p.sum()
    assert dd == pytest.approx(with_anticipation, abs=1e-8)
    assert abs(res.aggregate("simple").overall.estimate - dd) > 0.1


def test_weighted_aggregates_equal_duplicated_units() -> None:
    data = simulate_staggered(n=300, seed=24)
    data["w"] = np.where(data["id"] % 4 == 0, 3, 1)
    extra = [data[data["w"] == 3].assign(id=lambda d, k=k: d["id"] + k * 10_000) for k in (1, 2)]
    doubled = pd.concat([data, *extra], ignore_index=True)
    a = att_gt(data, outcome="y", unit="id", time="year", cohort="g", weights="w")
    b = att_gt(doubled, outcome="y", unit="id", time="year", cohort="g")
    for kind in KINDS:
        np.testing.assert_allclose(
            a.aggregate(kind).table["estimate"], b.aggregate(kind).table["estimate"], atol=1e-10
        )
        assert a.aggregate(kind).overall.estimate == pytest.approx(
            b.aggregate(kind).overall.estimate
        )


# --- 4. bootstrap and clustering --------------------------------------------------------


def test_bootstrap_aggregates(mpdta_fit) -> None:
    data = pd.read_csv(REF / "mpdta.csv")
    boot = att_gt(
        data,
        outcome="lemp",
        unit="countyreal",
        time="year",
        cohort="first.treat",
        n_boot=4999,
        seed=7,
    )
    again = att_gt(
        data,
        outcome="lemp",
        unit="countyreal",
        time="year",
        cohort="first.treat",
        n_boot=4999,
        seed=7,
    )
    for kind in KINDS:
        a, b = boot.aggregate(kind), mpdta_fit.aggregate(kind)
        pd.testing.assert_frame_equal(a.table, again.aggregate(kind).table)
        np.testing.assert_allclose(a.table["estimate"], b.table["estimate"])
        assert (a.table["se"] / b.table["se"]).between(0.9, 1.1).all()
        assert a.overall.se / b.overall.se == pytest.approx(1.0, abs=0.1)
        assert a.meta["inference"].procedure == "multiplier bootstrap"
    dyn = boot.aggregate("dynamic")
    crit = dyn.meta["crit_value"]
    assert 1.96 < crit < 4.0
    np.testing.assert_allclose(
        dyn.table["cband_high"] - dyn.table["estimate"], crit * dyn.table["se"]
    )


def test_clustered_aggregates(mpdta_fit) -> None:
    data = pd.read_csv(REF / "mpdta.csv").assign(unit=lambda d: d["countyreal"])
    data["state"] = data["countyreal"] // 1000
    by_unit = att_gt(
        data, outcome="lemp", unit="countyreal", time="year", cohort="first.treat", cluster="unit"
    )
    by_state = att_gt(
        data, outcome="lemp", unit="countyreal", time="year", cohort="first.treat", cluster="state"
    )
    for kind in KINDS:
        plain = mpdta_fit.aggregate(kind)
        np.testing.assert_allclose(by_unit.aggregate(kind).table["se"], plain.table["se"])
        assert by_state.aggregate(kind).overall.se != pytest.approx(plain.overall.se, rel=0.02)


# --- 5. parameter errors ----------------------------------------------------------------


def test_aggregate_parameter_errors(mpdta_fit) -> None:
    with pytest.raises(ParameterError, match="kind must be one of"):
        mpdta_fit.aggregate("event")
    with pytest.raises(ParameterError, match="balance_rel_time applies only"):
        mpdta_fit.aggregate("group", balance_rel_time=1)
    with pytest.raises(ParameterError, match="must not exceed"):
        mpdta_fit.aggregate("dynamic", min_rel_time=2, max_rel_time=1)
    with pytest.raises(DesignError, match="No ATT"):
        mpdta_fit.aggregate("simple", min_rel_time=10)


def test_summary_mentions_overall(mpdta_fit) -> None:
    text = mpdta_fit.aggregate("group").summary()
    assert "estimate=-0.0310183" in text and "aggregation: group" in text
