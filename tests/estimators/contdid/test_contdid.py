"""Continuous-treatment DiD (Callaway, Goodman-Bacon & Sant'Anna 2024): ``cont_did``.

* the B-spline sieve against scipy;
* agreement with diff-diff ``ContinuousDiD`` and moderndid ``cont_did`` on the same data
  (curves, ATT^o, ACRT^o, event rows), analytic SEs where the conventions agree, and the
  documented differences pinned where they do not;
* recovery of a known non-linear dose response (positive and signed doses), CI coverage
  (slow Monte Carlo), the pre-period placebo, and every input error;
* sampling weights: equal weights change nothing, integer weights equal replicated units,
  diff-diff's ``survey_design`` point estimates (its SE convention pinned), moderndid's
  ignored ``weightsname`` pinned, and truth recovery with heteroskedastic units.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.interpolate import BSpline

from evaluatie.core.errors import DataFormatError, DesignError, ParameterError
from evaluatie.estimators.contdid import ContDidResult, DoseBasis, cont_did, default_grid
from evaluatie.testing import moderndid_polars_compat

RTOL = 1e-8


def effect(d: np.ndarray) -> np.ndarray:
    """The true dose response ATT(d|d) = 2 (1 - exp(-d/2)), the same in every post period."""
    return 2.0 * (1.0 - np.exp(-np.asarray(d) / 2.0))


def make_panel(
    n_treated: int = 301,
    n_comparison: int = 150,
    n_periods: int = 4,
    first: int = 3,
    seed: int = 0,
    doses: tuple[float, float] = (0.5, 4.0),
    signed: bool = False,
    trend_per_dose: float = 0.0,
    pupils: bool = False,
) -> pd.DataFrame:
    """Balanced panel: unit levels correlated with the dose (allowed: they difference out),
    common period shocks, the effect ``effect(D)`` from ``first`` on, and noise. With
    ``trend_per_dose`` the treated drift by ``trend_per_dose * D`` per period (violated PT).
    With ``pupils`` each unit gets a column ``w``, a number of pupils (10-500, independent
    of the dose), and its noise SD is ``sqrt(mean(w) / w)``: a mean over ``w`` pupils.
    """
    rng = np.random.default_rng(seed)
    d = rng.uniform(*doses, n_treated)
    if signed:
        d = d * rng.choice([-1.0, 1.0], n_treated)
    dose = np.concatenate([d, np.zeros(n_comparison)])
    n = dose.size
    alpha = rng.normal(0, 1, n) + 0.8 * dose
    lam = rng.normal(0, 0.5, n_periods)
    periods = np.arange(1, n_periods + 1)
    u, t = np.repeat(np.arange(n), n_periods), np.tile(periods, n)
    w = np.random.default_rng(seed + 10**6).integers(10, 501, n).astype(float)
    sd = np.sqrt(w.mean() / w) if pupils else np.ones(n)
    y = (
        alpha[u]
        + lam[t - 1]
        + np.where(t >= first, effect(dose[u]), 0.0)
        + trend_per_dose * dose[u] * t
        + sd[u] * rng.normal(0, 1, u.size)
    )
    out = pd.DataFrame(
        {
            "unit": u,
            "period": t,
            "y": y,
            "dose": dose[u],
            "first_treat": np.where(dose[u] != 0, first, 0),
        }
    )
    return out.assign(w=w[u]) if pupils else out


def fit(data: pd.DataFrame, first: int = 3, **kwargs) -> ContDidResult:
    return cont_did(
        data, outcome="y", unit="unit", time="period", dose="dose", first_period=first, **kwargs
    )


def unit_doses(res: ContDidResult, data: pd.DataFrame) -> np.ndarray:
    return data.groupby("unit")["dose"].first().loc[res.units].to_numpy()


# --- the sieve ------------------------------------------------------------------------


@pytest.mark.parametrize(("degree", "num_knots"), [(1, 0), (1, 2), (2, 1), (3, 0), (3, 4)])
def test_basis_matches_scipy(degree: int, num_knots: int) -> None:
    d = np.random.default_rng(1).lognormal(size=300)
    basis = DoseBasis.from_doses(d, degree, num_knots)
    assert basis.n_columns == degree + num_knots + 1
    np.testing.assert_allclose(
        basis.interior, np.quantile(d, np.arange(1, num_knots + 1) / (num_knots + 1))
    )
    x = np.concatenate([np.linspace(d.min(), d.max(), 101), d])
    ref = BSpline.design_matrix(x, basis.knots, degree).toarray()
    ref[:, 0] = 1.0
    eye = np.eye(basis.n_columns)
    dref = np.column_stack(
        [BSpline(basis.knots, eye[j], degree).derivative()(x) for j in range(basis.n_columns)]
    )
    dref[:, 0] = 0.0
    np.testing.assert_allclose(basis.design(x), ref, atol=1e-13)
    np.testing.assert_allclose(basis.derivative(x), dref, atol=1e-11)
    with pytest.raises(ValueError, match="within"):
        basis.design(np.array([d.max() + 1.0]))


# --- the peers ------------------------------------------------------------------------

# (n_periods, first, degree, num_knots): 2 periods; several post periods with a placebo
# period; linear splines with knots. n_treated = 301 puts every knot quantile on a dose
# (moderndid takes the quantiles over unit x post-period rows, diff-diff and we over units:
# the same numbers then).
PEER_CASES = [(2, 2, 3, 0), (5, 3, 3, 2), (4, 2, 1, 2), (4, 3, 1, 0)]


def run_moderndid(data: pd.DataFrame, degree: int, num_knots: int, dvals, **kwargs):
    moderndid = pytest.importorskip("moderndid")
    kwargs = {"target_parameter": "level", "aggregation": "dose", **kwargs}
    with moderndid_polars_compat(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return moderndid.cont_did(
            data,
            yname="y",
            tname="period",
            idname="unit",
            gname="first_treat",
            dname="dose",
            control_group="nevertreated",
            degree=degree,
            num_knots=num_knots,
            dvals=dvals,
            biters=1,  # its SEs are bootstrapped; we compare its influence functions
            random_state=0,
            **kwargs,
        )


def run_diff_diff(
    data: pd.DataFrame, degree: int, num_knots: int, dvals=None, weights=None, **kwargs
):
    diff_diff = pytest.importorskip("diff_diff")
    est = diff_diff.ContinuousDiD(
        degree=degree, num_knots=num_knots, control_group="never_treated", dvals=dvals, **kwargs
    )
    survey = None if weights is None else diff_diff.SurveyDesign(weights=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data, "y", "unit", "period", "first_treat", "dose", survey_design=survey)


@pytest.fixture(scope="module", params=PEER_CASES, ids=lambda c: "T{}-g{}-deg{}-k{}".format(*c))
def peer_case(request):
    n_periods, first, degree, num_knots = request.param
    data = make_panel(n_periods=n_periods, first=first, seed=sum(request.param))
    d1 = data.loc[data["dose"] > 0, "dose"]
    # moderndid builds the basis of its curve IFs on the grid's range: use its default grid
    dvals = np.linspace(d1.min(), d1.max(), 50)
    ours = fit(data, first, degree=degree, num_knots=num_knots, dvals=dvals)
    return {
        "data": data,
        "ours": ours,
        "dd": run_diff_diff(data, degree, num_knots, dvals),
        "md": run_moderndid(data, degree, num_knots, dvals),
    }


def close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=RTOL, atol=1e-10)


def test_matches_diff_diff(peer_case) -> None:
    ours, dd = peer_case["ours"], peer_case["dd"]
    c, tab = ours.curve, ours.table
    close(c["att"], dd.dose_response_att.effects)
    close(c["acrt"], dd.dose_response_acrt.effects)
    close(c["att_se"], dd.dose_response_att.se)
    close(c["acrt_se"], dd.dose_response_acrt.se)
    close(c["att_ci_low"], dd.dose_response_att.conf_int_lower)
    close(c["acrt_ci_high"], dd.dose_response_acrt.conf_int_upper)
    close(tab.loc["ATT_o", ["estimate", "se"]], [dd.overall_att, dd.overall_att_se])
    close(tab.loc["ATT_o", ["ci_low", "ci_high"]], dd.overall_att_conf_int)
    close(tab.loc["ACRT_o", "estimate"], dd.overall_acrt)


def test_acrt_o_se_differs_from_diff_diff_by_the_dose_averaging_term(peer_case) -> None:
    """diff-diff's ACRT^o influence function keeps only the sieve-coefficient part,
    ``mean(ψ')'Q⁻¹ψ_i e_i / n_1``; ours (and moderndid's) adds ``(ACRT(D_i) - ACRT^o)/n_1``
    for averaging over the sampled doses. Without that term ours equals diff-diff's."""
    ours, dd, data = peer_case["ours"], peer_case["dd"], peer_case["data"]
    dose = unit_doses(ours, data)
    treated = dose != 0
    slopes = ours.predict(dose[treated], target="acrt")[0]
    inf = ours.influence[:, 1].copy()
    inf[treated] -= (slopes - ours.table.loc["ACRT_o", "estimate"]) / treated.sum()
    close(np.sqrt(np.sum(inf**2)), dd.overall_acrt_se)
    if np.ptp(slopes) > 1e-6:  # a linear fit has one slope: then the term is zero
        assert ours.table.loc["ACRT_o", "se"] > dd.overall_acrt_se * (1 + 1e-6)


def test_matches_moderndid(peer_case) -> None:
    ours, md = peer_case["ours"], peer_case["md"]
    close(ours.curve["dose"], md.dose)
    close(ours.curve["att"], md.att_d)
    close(ours.curve["acrt"], md.acrt_d)
    close(ours.table["estimate"], [md.overall_att, md.overall_acrt])
    n = md.acrt_d_inf_func.shape[0]  # moderndid scales its IFs by n: se = sqrt(sum IF^2) / n
    close(ours.curve["acrt_se"], np.sqrt((md.acrt_d_inf_func**2).sum(axis=0)) / n)


def test_moderndid_influence_function_differences_are_pinned(peer_case) -> None:
    """moderndid 0.2's analytic influence functions differ from ours in three known ways:

    * its ATT(d) IF leaves out the comparison mean's sampling error (``comparison_var``);
    * its ACRT^o IF is ours times ``n_1`` instead of ``n`` (scaled by the 2x2 subset size
      rather than the treated count), so its SE is ours times ``n_1/n``;
    * its ATT^o IF is a copy of the ACRT^o IF.
    """
    ours, md = peer_case["ours"], peer_case["md"]
    n = md.acrt_d_inf_func.shape[0]
    n1 = ours.meta["n_treated"]
    att_se_md = np.sqrt((md.att_d_inf_func**2).sum(axis=0)) / n
    close(att_se_md, np.sqrt(ours.curve["att_se"] ** 2 - ours.comparison_var))
    close(md.overall_acrt_inf_func, n1 * ours.influence[:, 1])
    close(md.overall_att_inf_func, md.overall_acrt_inf_func)


def test_default_grid_is_diff_diffs() -> None:
    data = make_panel(seed=5)
    ours = fit(data)
    dd = run_diff_diff(data, 3, 0)
    close(ours.curve["dose"], dd.dose_response_att.dose_grid)
    close(ours.curve["att"], dd.dose_response_att.effects)
    assert len(ours.curve) == 90
    close(
        ours.curve["dose"],
        default_grid(data.loc[data["dose"] != 0].groupby("unit")["dose"].first()),
    )


def test_event_rows_match_diff_diff_event_study() -> None:
    """Per-period ATT^o against the universal base equal diff-diff's binarized event study
    (pre and post, with SEs); with ``base_period`` two periods back, diff-diff's
    ``anticipation=1`` uses the same base (it then reports event times from -1 on)."""
    data = make_panel(n_periods=6, first=4, seed=7)
    for base, anticipation in ((None, 0), (2, 1)):
        ours = fit(data, 4, base_period=base, num_knots=1)
        dd = run_diff_diff(data, 3, 1, base_period="universal", anticipation=anticipation)
        es = dd.aggregate("event_study").to_dataframe().set_index("event_time")
        ev = ours.event.set_index("rel_time")
        assert (ev["pre"] == (ev.index < 0)).all()
        ref = ev["reference"]
        assert ev.loc[ref].index.tolist() == [(base or 3) - 4]
        assert ev.loc[ref, "att"].eq(0).all() and ev.loc[ref, "att_se"].isna().all()
        both = ev.loc[~ref].join(es.add_suffix("_dd"), how="inner")
        assert len(both) == (5 if anticipation == 0 else 4)
        close(both["att"], both["att_dd"])
        close(both["att_se"], both["se_dd"])


def test_post_period_acrt_match_moderndid_event_study() -> None:
    data = make_panel(n_periods=5, first=3, seed=8)
    ours = fit(data, 3, num_knots=0)
    md = run_moderndid(data, 3, 0, None, target_parameter="slope", aggregation="eventstudy")
    es = md.event_study
    post = ours.event.loc[~ours.event["pre"]]
    mask = np.isin(es.event_times, post["rel_time"])
    close(post["acrt"], np.asarray(es.att_by_event)[mask])


# --- internal consistency --------------------------------------------------------------


def test_pooled_fit_is_the_average_of_single_period_fits() -> None:
    data = make_panel(n_periods=5, first=3, seed=11)
    pooled = fit(data, 3, num_knots=2)
    grid = pooled.curve["dose"].to_numpy()
    singles = [
        fit(
            data[data["period"].isin([2, t])],
            3 if t == 3 else t,
            base_period=2,
            num_knots=2,
            dvals=grid,
        )
        for t in (3, 4, 5)
    ]
    for col in ("att", "acrt"):
        close(pooled.curve[col], np.mean([s.curve[col] for s in singles], axis=0))
    close(pooled.table["estimate"], np.mean([s.table["estimate"] for s in singles], axis=0))
    post = pooled.event.loc[~pooled.event["pre"]]
    close(post["att"], [s.table.loc["ATT_o", "estimate"] for s in singles])
    close(post["acrt_se"], [s.table.loc["ACRT_o", "se"] for s in singles])


def test_predict_and_result_contents() -> None:
    data = make_panel(seed=12)
    res = fit(data, num_knots=1)
    grid = res.curve["dose"].to_numpy()
    est, se = res.predict(grid)
    close(est, res.curve["att"])
    close(se, res.curve["att_se"])
    slope, slope_se = res.predict(grid[10], target="acrt")
    close([slope[0], slope_se[0]], res.curve.loc[10, ["acrt", "acrt_se"]])
    close(res.influence.sum(axis=0), [0.0, 0.0])  # IFs are centred
    close(np.sqrt((res.influence**2).sum(axis=0)), res.table["se"])
    assert list(res.table.index) == ["ATT_o", "ACRT_o"]
    assert list(res.table.columns) == ["estimate", "se", "t", "p", "ci_low", "ci_high"]
    assert list(res.curve.columns) == [
        "dose", "att", "att_se", "att_ci_low", "att_ci_high",
        "acrt", "acrt_se", "acrt_ci_low", "acrt_ci_high",
        "att_band_low", "att_band_high", "acrt_band_low", "acrt_band_high",
    ]  # fmt: skip
    # the uniform band contains the pointwise interval (wider critical value, HC3 >= HC0
    # up to the leverage of single units)
    c = res.curve
    assert (c["att_band_low"] <= c["att_ci_low"]).all()
    assert (c["att_band_high"] >= c["att_ci_high"]).all()
    for col in ("time", "rel_time", "pre", "att", "att_se", "acrt", "acrt_se", "att_ci_low"):
        assert col in res.event.columns
    meta = res.meta
    assert meta["n_units"] == 451 and meta["n_treated"] == 301 and meta["n_comparison"] == 150
    assert meta["n_periods"] == 4 and meta["base_period"] == 2 and meta["post_periods"] == [3, 4]
    assert meta["degree"] == 3 and meta["num_knots"] == 1 and len(meta["knots"]) == 1
    assert "no small-sample" in meta["inference"].se and meta["inference"].distribution == "normal"
    text = res.summary()
    assert "ATT_o" in text and "dose-response" in text and "placebo" in text
    with pytest.raises(ParameterError, match="outside the treated dose support"):
        res.predict(100.0)
    with pytest.raises(ParameterError, match="target"):
        res.predict(1.0, target="level")


# --- truth recovery ------------------------------------------------------------------


def true_overall(lo: float, hi: float) -> tuple[float, float]:
    """E[f(D)] and E[f'(D)] for D ~ U(lo, hi), f = effect."""
    mean_exp = 2.0 * (np.exp(-lo / 2) - np.exp(-hi / 2)) / (hi - lo)
    return 2.0 - 2.0 * mean_exp, mean_exp


def test_recovers_nonlinear_dose_response() -> None:
    data = make_panel(n_treated=1200, n_comparison=600, seed=21)
    res = fit(data, num_knots=1)
    c = res.curve
    z = (c["att"] - effect(c["dose"])) / c["att_se"]
    assert (z.abs() < 1.96).mean() >= 0.8 and z.abs().max() < 3.5
    zs = (c["acrt"] - np.exp(-c["dose"] / 2)) / c["acrt_se"]
    assert (zs.abs() < 1.96).mean() >= 0.7 and zs.abs().max() < 4
    att_o, acrt_o = true_overall(0.5, 4.0)
    tab = res.table
    assert abs(tab.loc["ATT_o", "estimate"] - att_o) < 3 * tab.loc["ATT_o", "se"]
    assert abs(tab.loc["ACRT_o", "estimate"] - acrt_o) < 3 * tab.loc["ACRT_o", "se"]


def test_negative_doses() -> None:
    data = make_panel(n_treated=1200, n_comparison=600, seed=22, doses=(0.3, 3.0), signed=True)
    res = fit(data, num_knots=2)
    assert res.meta["n_negative_dose"] > 500 and res.meta["dose_support"][0] < -2.5
    c = res.curve
    assert c["dose"].min() < 0 < c["dose"].max()
    z = (c["att"] - effect(c["dose"])) / c["att_se"]
    assert (z.abs() < 1.96).mean() >= 0.8 and z.abs().max() < 3.5
    d = unit_doses(res, data)
    att_o = effect(d[d != 0]).mean()  # the sample analogue of E[f(D) | D != 0]
    assert abs(res.table.loc["ATT_o", "estimate"] - att_o) < 3 * res.table.loc["ATT_o", "se"]
    est, se = res.predict([-2.0, 2.0])
    assert np.all(np.abs(est - effect(np.array([-2.0, 2.0]))) < 3 * se)


def _coverage(draws: int, first_seed: int, **kwargs: object) -> np.ndarray:
    """Share of ``draws`` simulations whose 95% CIs of ATT^o, ACRT^o and ATT(2) cover
    the truth; ``kwargs`` go to ``make_panel`` (``pupils=True``: weighted fits)."""
    att_o, acrt_o = true_overall(0.5, 4.0)
    weights = "w" if kwargs.get("pupils") else None
    hits = []
    for seed in range(draws):
        data = make_panel(n_treated=300, n_comparison=150, seed=first_seed + seed, **kwargs)
        res = fit(data, num_knots=1, weights=weights)
        tab = res.table
        est, se = res.predict(2.0)
        hits.append(
            [
                tab.loc["ATT_o", "ci_low"] <= att_o <= tab.loc["ATT_o", "ci_high"],
                tab.loc["ACRT_o", "ci_low"] <= acrt_o <= tab.loc["ACRT_o", "ci_high"],
                abs(est[0] - effect(2.0)) <= stats.norm.ppf(0.975) * se[0],
            ]
        )
    return np.mean(hits, axis=0)


@pytest.mark.slow
def test_coverage_monte_carlo() -> None:
    """500 draws (about 3 s): 95% CIs of ATT^o, ACRT^o and ATT(2) cover the truth."""
    coverage = _coverage(500, 1000)
    assert np.all((coverage >= 0.91) & (coverage <= 0.98)), coverage


def test_pre_period_placebo() -> None:
    ok = fit(make_panel(n_periods=5, first=4, seed=31), 4)
    bad = fit(make_panel(n_periods=5, first=4, seed=31, trend_per_dose=0.5), 4)
    for res, violated in ((ok, False), (bad, True)):
        pre = res.event.loc[res.event["pre"] & ~res.event["reference"]]
        assert len(pre) == 2
        z = (pre["att"] / pre["att_se"]).abs()
        if violated:
            assert (z > 4).all()
            # a trend of 0.5 D per period: at t = base - k the placebo is -0.5 k E[D]
            assert (pre["att"] < 0).all()
            assert (pre["acrt"] / pre["acrt_se"] < -2).all()
        else:
            assert (z < 2.5).all()


# --- sampling weights ----------------------------------------------------------------


def assert_same_fit(a: ContDidResult, b: ContDidResult, rtol: float = 1e-12) -> None:
    """Every estimate, SE and influence function of two fits (event rows all numeric), to
    ``rtol`` of each array's largest entry (IF entries near 0 carry absolute rounding)."""

    def same(x, y) -> None:
        x, y = np.asarray(x, float), np.asarray(y, float)
        atol = rtol * np.nanmax(np.abs(y))
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)

    same(a.table, b.table)
    same(a.curve, b.curve)
    same(a.event, b.event)
    same(a.influence, b.influence)
    same(a.event_influence, b.event_influence)
    same(a.coef, b.coef)
    same(a.coef_vcov, b.coef_vcov)
    same([a.comparison_mean, a.comparison_var], [b.comparison_mean, b.comparison_var])


def test_equal_weights_reproduce_unweighted() -> None:
    """All weights 3.7 give the unweighted fit to 1e-12 (estimates, SEs, IFs); and since
    the weights are normalised to mean 1, rescaling non-equal weights changes nothing."""
    data = make_panel(n_periods=5, first=3, seed=51, pupils=True)
    plain_fit = fit(data, num_knots=2)
    equal = fit(data.assign(w=3.7), num_knots=2, weights="w")
    assert_same_fit(equal, plain_fit)
    np.testing.assert_allclose(equal.weights, 1.0, rtol=1e-15)
    assert np.all(plain_fit.weights == 1.0) and plain_fit.meta["weights"] is None
    assert equal.meta["weights"] == "w" and "weighted" in equal.meta["inference"].se
    assert "weighted" not in plain_fit.meta["inference"].se and "'w'" in equal.method

    weighted = fit(data, num_knots=2, weights="w")
    assert_same_fit(fit(data.assign(w=data["w"] / 7.3), num_knots=2, weights="w"), weighted)
    assert abs(weighted.weights.mean() - 1.0) < 1e-12
    assert weighted.weights.max() > 10 * weighted.weights.min()
    est_w, est_u = weighted.table["estimate"], plain_fit.table["estimate"]
    assert np.all(np.abs(est_w - est_u) > 1e-4)  # the weights do move the estimates
    # knots and the default grid are unweighted quantiles of the treated units' doses
    assert weighted.meta["knots"] == plain_fit.meta["knots"]
    close(weighted.curve["dose"], plain_fit.curve["dose"])


@pytest.mark.parametrize(("n_periods", "first", "degree"), [(4, 3, 3), (5, 4, 1)])
def test_integer_weights_equal_replicated_units(n_periods: int, first: int, degree: int) -> None:
    """Weight k_i = fitting the data with unit i repeated k_i times (as distinct units):
    the same curve, ATT^o, ACRT^o and event rows; and the weighted IF of unit i is the sum
    of its copies' IFs, so the weighted SEs are those of the repeated data with each
    unit's copies as one cluster.

    num_knots=0 and a given grid: the boundary knots (smallest, largest dose) do not move
    when units are repeated, but interior knots and the default grid are unweighted
    quantiles over units (as diff-diff's), which do. A weighted type-7 quantile cannot both
    equal the unweighted one for equal weights (3.7 above) and the repeated data's for
    integer weights: for doses {0, 1} the 0.25-quantile is 0.25, with each repeated twice 0.
    """
    data = make_panel(n_treated=120, n_comparison=60, n_periods=n_periods, first=first, seed=52)
    k = np.random.default_rng(53).integers(1, 5, 180)
    data["w"] = k[data["unit"]].astype(float)
    copies = np.repeat(np.arange(180), k)
    rep = data.set_index("unit").loc[copies].reset_index()
    rep["copy"] = rep.groupby(["unit", "period"]).cumcount()
    rep["unit"] = rep["unit"] * 10 + rep["copy"]
    grid = np.linspace(data.loc[data["dose"] > 0, "dose"].min(), data["dose"].max(), 25)
    kw = {"degree": degree, "num_knots": 0, "dvals": grid}
    weighted = fit(data, first, weights="w", **kw)
    replicated = fit(rep, first, **kw)
    assert replicated.meta["n_units"] == k.sum() > 180
    for col in ("att", "acrt"):
        close(weighted.curve[col], replicated.curve[col])
        close(weighted.event[col], replicated.event[col])
    close(weighted.table["estimate"], replicated.table["estimate"])
    owner = replicated.units // 10  # the original unit of each copy
    summed = np.zeros_like(weighted.influence)
    np.add.at(summed, owner, replicated.influence)
    close(summed, weighted.influence)
    summed_event = np.zeros_like(weighted.event_influence)
    np.add.at(summed_event, owner, replicated.event_influence)
    close(summed_event, weighted.event_influence)
    assert np.all(weighted.table["se"] > replicated.table["se"] * 1.05)  # copies not clusters


def curve_influence(res: ContDidResult, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The unit IFs of ATT(d) and ACRT(d) on the grid (``n × G``), rebuilt from the data:
    treated ``ψ(d)'(Ψ'WΨ)⁻¹ψ_i w_i e_i``, comparison ``-w_j (ΔY_j - m_0)/W_0`` (ATT only)."""
    wide = data.pivot(index="unit", columns="period", values="y").loc[res.units]
    dy = (wide[res.meta["post_periods"]].mean(axis=1) - wide[res.meta["base_period"]]).to_numpy()
    dose, w = unit_doses(res, data), res.weights
    t = dose != 0
    psi = res.basis.design(dose[t])
    grid = res.curve["dose"].to_numpy()
    pert = np.linalg.solve(
        psi.T @ (psi * w[t, None]), (psi * (w[t] * (dy[t] - psi @ res.coef))[:, None]).T
    )
    att, acrt = np.zeros((dose.size, grid.size)), np.zeros((dose.size, grid.size))
    att[t], acrt[t] = (res.basis.design(grid) @ pert).T, (res.basis.derivative(grid) @ pert).T
    att[~t] = -(w[~t] * (dy[~t] - res.comparison_mean))[:, None] / w[~t].sum()
    return att, acrt


@pytest.fixture(scope="module", params=[(4, 3, 3, 2), (5, 3, 1, 2)], ids=["deg3-k2", "deg1-k2"])
def weighted_case(request):
    n_periods, first, degree, num_knots = request.param
    data = make_panel(n_periods=n_periods, first=first, seed=54, pupils=True)
    d1 = data.loc[data["dose"] > 0, "dose"]
    dvals = np.linspace(d1.min(), d1.max(), 50)
    kw = {"degree": degree, "num_knots": num_knots, "dvals": dvals}
    return {
        "data": data,
        "ours": fit(data, first, weights="w", **kw),
        "dd": run_diff_diff(data, degree, num_knots, dvals, weights="w"),
    }


def test_weighted_matches_diff_diff_survey_design(weighted_case) -> None:
    """diff-diff ``fit(..., survey_design=SurveyDesign(weights=...))``: weighted control
    mean, WLS sieve on unweighted-quantile knots, weighted ATT^o and ACRT^o."""
    ours, dd = weighted_case["ours"], weighted_case["dd"]
    close(ours.curve["att"], dd.dose_response_att.effects)
    close(ours.curve["acrt"], dd.dose_response_acrt.effects)
    close(ours.table["estimate"], [dd.overall_att, dd.overall_acrt])
    unweighted = fit(weighted_case["data"], 3, **{k: ours.meta[k] for k in ("degree", "num_knots")})
    assert (
        abs(ours.table.loc["ATT_o", "estimate"] - unweighted.table.loc["ATT_o", "estimate"]) > 0.01
    )


def test_diff_diff_weighted_se_convention_is_pinned(weighted_case) -> None:
    """diff-diff 3.13's survey SEs put the weights in twice: its influence functions
    already carry w_i (they are ours), and its Taylor linearisation multiplies them by
    the (mean-1) weights again, centres them and applies n/(n-1):
    ``se_dd = sqrt(n/(n-1) Σ_i (w_i IF_i - mean(w IF))²)``. So the weights enter its variance
    to the fourth power instead of the second; with equal weights it is our SE times
    sqrt(n/(n-1)). (Its ACRT^o IF leaves out the dose-averaging term, as unweighted.)"""
    ours, dd, data = weighted_case["ours"], weighted_case["dd"], weighted_case["data"]
    w = ours.weights
    n = w.size

    def dd_se(inf: np.ndarray) -> np.ndarray:
        s = w.reshape((-1,) + (1,) * (inf.ndim - 1)) * inf
        return np.sqrt(n / (n - 1) * ((s - s.mean(axis=0)) ** 2).sum(axis=0))

    att_if, acrt_if = curve_influence(ours, data)
    close(np.sqrt((att_if**2).sum(axis=0)), ours.curve["att_se"])  # our IFs, rebuilt
    close(np.sqrt((acrt_if**2).sum(axis=0)), ours.curve["acrt_se"])
    close(dd_se(att_if), dd.dose_response_att.se)
    close(dd_se(acrt_if), dd.dose_response_acrt.se)
    close(dd_se(ours.influence[:, 0]), dd.overall_att_se)
    dose = unit_doses(ours, data)
    t = dose != 0
    slopes = ours.predict(dose[t], target="acrt")[0]
    inf = ours.influence[:, 1].copy()
    inf[t] -= w[t] * (slopes - ours.table.loc["ACRT_o", "estimate"]) / w[t].sum()
    close(dd_se(inf), dd.overall_acrt_se)
    assert np.all(dd.dose_response_att.se > 1.2 * ours.curve["att_se"])


def test_weighted_event_rows_match_diff_diff_event_study() -> None:
    data = make_panel(n_periods=6, first=4, seed=55, pupils=True)
    ours = fit(data, 4, num_knots=1, weights="w")
    dd = run_diff_diff(data, 3, 1, weights="w", base_period="universal")
    es = dd.aggregate("event_study").to_dataframe().set_index("event_time")
    ev = ours.event.set_index("rel_time")
    both = ev.loc[~ev["reference"]].join(es.add_suffix("_dd"), how="inner")
    assert len(both) == 5
    close(both["att"], both["att_dd"])


def test_moderndid_ignores_weightsname_in_the_dose_path() -> None:
    """moderndid 0.2 accepts ``weightsname`` (with a "not fully tested" warning), but its
    dose path (``cont_did_acrt``: plain OLS, plain control mean) never reads the weights:
    its weighted fit is its unweighted one, which is our unweighted fit. No weighted
    cross-check is possible there. (Its level event study, which does pass the weights on
    to DRDID, does not reproduce the binarized DiD of diff-diff and ours even unweighted,
    so it is no check either.)"""
    data = make_panel(n_periods=4, first=3, seed=56, pupils=True)
    d1 = data.loc[data["dose"] > 0, "dose"]
    dvals = np.linspace(d1.min(), d1.max(), 50)
    md = run_moderndid(data, 3, 0, dvals, weightsname="w")
    unweighted, weighted = (fit(data, dvals=dvals, weights=w) for w in (None, "w"))
    close(md.att_d, unweighted.curve["att"])
    close(md.acrt_d, unweighted.curve["acrt"])
    close([md.overall_att, md.overall_acrt], unweighted.table["estimate"])
    assert np.max(np.abs(md.att_d - weighted.curve["att"])) > 0.01


def test_weighted_recovers_truth_with_heteroskedastic_units() -> None:
    """A unit's noise SD is ∝ 1/sqrt(pupils) (a mean over its pupils), the pupils are
    independent of the dose: weighted and unweighted estimate the same ATT^o and ACRT^o,
    both cover them, and the weighted SEs are much smaller."""
    data = make_panel(n_treated=600, n_comparison=300, seed=57, pupils=True)
    unweighted, weighted = (fit(data, num_knots=1, weights=w) for w in (None, "w"))
    truth = dict(zip(["ATT_o", "ACRT_o"], true_overall(0.5, 4.0), strict=True))
    for res in (unweighted, weighted):
        tab = res.table
        for name, value in truth.items():
            assert tab.loc[name, "ci_low"] <= value <= tab.loc[name, "ci_high"], (name, tab)
    assert weighted.table.loc["ATT_o", "se"] < 0.7 * unweighted.table.loc["ATT_o", "se"]
    assert weighted.table.loc["ACRT_o", "se"] < 0.8 * unweighted.table.loc["ACRT_o", "se"]
    assert np.all(weighted.curve["att_se"] < unweighted.curve["att_se"])
    c = weighted.curve
    z = (c["att"] - effect(c["dose"])) / c["att_se"]
    assert (z.abs() < 1.96).mean() >= 0.8 and z.abs().max() < 3.5


@pytest.mark.slow
def test_weighted_coverage_monte_carlo() -> None:
    """400 draws with heteroskedastic units: weighted 95% CIs of ATT^o, ACRT^o and ATT(2)
    cover the truth (the weighted SEs are calibrated, not just smaller)."""
    coverage = _coverage(400, 3000, pupils=True)
    assert np.all((coverage >= 0.91) & (coverage <= 0.98)), coverage


# --- bad input -------------------------------------------------------------------------


@pytest.fixture
def small() -> pd.DataFrame:
    return make_panel(n_treated=40, n_comparison=20, seed=41)


def test_error_empty_and_not_a_frame(small) -> None:
    with pytest.raises(DesignError, match="no rows"):
        fit(small.iloc[:0])
    with pytest.raises(ParameterError, match="DataFrame"):
        cont_did(
            small.to_dict(), outcome="y", unit="unit", time="period", dose="dose", first_period=3
        )


@pytest.mark.parametrize("arg", ["outcome", "unit", "time", "dose"])
def test_error_missing_column(small, arg) -> None:
    names = {"outcome": "y", "unit": "unit", "time": "period", "dose": "dose"} | {arg: "nope"}
    with pytest.raises(ParameterError, match=f"{arg}='nope'"):
        cont_did(
            small,
            outcome=names["outcome"],
            unit=names["unit"],
            time=names["time"],
            dose=names["dose"],
            first_period=3,
        )


def test_error_non_numeric_and_infinite(small) -> None:
    with pytest.raises(DataFormatError, match=r"'y'.*numeric"):
        fit(small.assign(y=small["y"].astype(str)))
    with pytest.raises(DataFormatError, match=r"'dose'.*infinite"):
        fit(small.assign(dose=small["dose"].replace(0.0, np.inf)))
    with pytest.raises(DataFormatError, match=r"'period'.*numeric"):
        fit(small.assign(period="p" + small["period"].astype(str)))


def test_error_dose_varies_within_unit(small) -> None:
    bad = small.copy()
    bad.loc[(bad["unit"] == 7) & (bad["period"] == 4), "dose"] += 1.0
    with pytest.raises(DesignError, match=r"'dose'.*constant within each unit.*unit 7"):
        fit(bad)
    bad = small.copy()
    bad.loc[bad["unit"] == 5, "dose"] = np.nan
    with pytest.raises(DesignError, match=r"'dose'.*missing.*unit 5"):
        fit(bad)


def test_error_no_comparison_and_too_few_treated(small) -> None:
    with pytest.raises(DesignError, match=r"0 comparison unit\(s\).*'dose' == 0"):
        fit(small[small["dose"] != 0])
    one = small[small["unit"] != small.loc[small["dose"] == 0, "unit"].unique()[0]]
    one = one[(one["dose"] != 0) | (one["unit"] == one.loc[one["dose"] == 0, "unit"].iloc[0])]
    with pytest.raises(DesignError, match=r"1 comparison unit\(s\).*at least 2"):
        fit(one)
    few = small[small["unit"].isin([0, 1, 2, 3, 40, 41, 42])]
    with pytest.raises(DesignError, match=r"4 treated unit\(s\).*K = degree \+ num_knots \+ 1 = 4"):
        fit(few)
    fit(few, degree=1)  # K = 2 < 4 is fine
    ties = small.assign(dose=np.where(small["dose"] > 0, np.round(small["dose"]), 0.0))
    with pytest.raises(DesignError, match="rank"):
        fit(ties, degree=3, num_knots=2)


def test_error_periods(small) -> None:
    with pytest.raises(ParameterError, match=r"first_period=9 is not a period of column 'period'"):
        fit(small, 9)
    with pytest.raises(DesignError, match="no period before first_period=1"):
        fit(small, 1)
    with pytest.raises(ParameterError, match="base_period=3 must be before first_period=3"):
        fit(small, 3, base_period=3)
    with pytest.raises(ParameterError, match="base_period=0 is not a period"):
        fit(small, 3, base_period=0)


def test_error_unbalanced_and_duplicates(small) -> None:
    gap = small.drop(small.index[(small["unit"] == 11) & (small["period"] == 2)])
    with pytest.raises(DesignError, match=r"balanced.*1 unit\(s\).*unit 11 at period=2"):
        fit(gap)
    na = small.copy()
    na.loc[(na["unit"] == 12) & (na["period"] == 4), "y"] = np.nan
    with pytest.raises(DesignError, match=r"1 missing value\(s\).*unit 12 at period=4"):
        fit(na)
    with pytest.raises(DesignError, match="more than once"):
        fit(pd.concat([small, small.iloc[:1]]))
    with pytest.raises(DesignError, match=r"unit column 'unit' has 1 missing"):
        fit(small.assign(unit=small["unit"].astype(float).where(small.index != 3)))


def test_error_parameters(small) -> None:
    with pytest.raises(ParameterError, match="degree must be an integer >= 1"):
        fit(small, degree=0)
    with pytest.raises(ParameterError, match="num_knots must be an integer >= 0"):
        fit(small, num_knots=-1)
    with pytest.raises(ParameterError, match="alpha"):
        fit(small, alpha=1.5)
    with pytest.raises(ParameterError, match=r"dvals contains 1 dose\(s\) outside"):
        fit(small, dvals=np.array([1.0, 50.0]))
    with pytest.raises(ParameterError, match="dvals must be"):
        fit(small, dvals=np.array([]))


def test_alpha_sets_interval_width(small) -> None:
    a, b = fit(small), fit(small, alpha=0.10)
    wa = (a.curve["att_ci_high"] - a.curve["att"]) / a.curve["att_se"]
    wb = (b.curve["att_ci_high"] - b.curve["att"]) / b.curve["att_se"]
    close(wa, stats.norm.ppf(0.975))
    close(wb, stats.norm.ppf(0.95))


def test_error_weights(small) -> None:
    with pytest.raises(ParameterError, match="weights='nope' is not a column"):
        fit(small, weights="nope")
    with pytest.raises(DataFormatError, match=r"column 'w'.*weights must be numeric"):
        fit(small.assign(w="a"), weights="w")
    with pytest.raises(DataFormatError, match=r"column 'w'.*infinite"):
        fit(small.assign(w=np.where(small["unit"] == 3, np.inf, 1.0)), weights="w")
    for bad, what in ((0.0, "zero or negative"), (-2.0, "zero or negative"), (np.nan, "missing")):
        w = np.where(small["unit"] == 9, bad, 1.0)
        with pytest.raises(DataFormatError, match=rf"column 'w'.*1?\d* {what}.*unit 9"):
            fit(small.assign(w=w), weights="w")
    varying = small.assign(w=1.0 + (small["unit"] == 6) * small["period"])
    with pytest.raises(DesignError, match=r"'w'.*constant within each unit.*unit 6"):
        fit(varying, weights="w")


def test_uniform_band_uses_leave_one_out_residuals() -> None:
    """The band's variance is the sandwich with each treated unit's leave-one-out
    prediction error (HC3 = e_i / (1 - h_ii), exact for least squares) and the
    comparison mean's leave-one-out deviations; the band is that standard error times
    the reported sup-t critical value. Checked by refitting without each unit."""
    data = make_panel(n_treated=30, n_comparison=12, seed=21)
    res = fit(data, num_knots=1)
    wide = data.pivot(index="unit", columns="period", values="y").loc[res.units]
    dy = (wide[[3, 4]].mean(axis=1) - wide[2]).to_numpy()
    dose = unit_doses(res, data)
    treated = dose != 0
    psi = res.basis.design(dose[treated])
    yt = dy[treated]
    loo = np.empty(yt.size)
    for i in range(yt.size):
        keep = np.arange(yt.size) != i
        beta_i = np.linalg.lstsq(psi[keep], yt[keep], rcond=None)[0]
        loo[i] = yt[i] - psi[i] @ beta_i
    bread = np.linalg.inv(psi.T @ psi)
    score = psi * loo[:, None]
    v_beta = bread @ score.T @ score @ bread
    yc = dy[~treated]
    n0 = yc.size
    loo_c = (yc - yc.mean()) * n0 / (n0 - 1)  # y_j minus the mean of the others
    v_m = float(loo_c @ loo_c) / n0**2
    grid = res.curve["dose"].to_numpy()
    g = res.basis.design(grid)
    se = np.sqrt(np.einsum("gk,kl,gl->g", g, v_beta, g) + v_m)
    crit = res.meta["band_critical"]["att"]
    # the critical value in meta is rounded to 6 decimals
    np.testing.assert_allclose(res.curve["att_band_high"] - res.curve["att"], crit * se, rtol=1e-5)
    assert crit > stats.norm.ppf(0.975)
