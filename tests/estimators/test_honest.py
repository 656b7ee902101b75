"""evaluatie.honest_did: Rambachan & Roth (2023) sensitivity analysis.

Checks: the closed-form dual vertices against an LP solver; the C-LF test decisions and
intervals against moderndid (a port of R HonestDiD) and the FLCI against diff-diff on the
same betahat/sigma; the published HonestDiD README numbers (Medicaid expansion, ehec data
shipped with moderndid); FLCI coverage on simulated data; the project's own event studies
end to end; and the parameter errors.
"""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import null_space
from scipy.optimize import linprog

import evaluatie as ev
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.estimators.honest import _arp, _relative_magnitude, _smoothness
from evaluatie.synth.panels import staggered_panel

N_PRE, N_POST = 4, 3
BETA = np.array([0.02, -0.03, 0.01, -0.02, 0.3, 0.35, 0.4])
TARGETS = {"first": np.eye(N_POST)[0], "second": np.eye(N_POST)[1], "average": np.ones(N_POST) / 3}


def _sigma(seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = N_PRE + N_POST
    a = rng.normal(size=(n, n))
    return a @ a.T / n * 0.01 + np.eye(n) * 0.005


def _moderndid() -> types.ModuleType:
    """moderndid.didhonest without cvxpy (only its FLCI needs it, and that is not used)."""
    pytest.importorskip("moderndid")
    sys.modules.setdefault("cvxpy", types.ModuleType("cvxpy"))
    import moderndid.didhonest as md

    return md


@pytest.mark.parametrize("target", list(TARGETS))
def test_closed_form_vertices_give_the_lp_statistic(target: str) -> None:
    """η̂ = max over the closed-form dual points equals HiGHS's primal LP (ARP eq. 12)."""
    rng = np.random.default_rng(1)
    sigma, weights = _sigma(), TARGETS[target]
    for trial in range(6):
        beta = rng.normal(size=N_PRE + N_POST) * 0.1
        a = _relative_magnitude.moments(N_PRE, N_POST, 0.4 + trial * 0.3, trial % N_PRE, 1.0)
        sd = np.sqrt(np.einsum("ij,jk,ik->i", a, sigma, a))
        theta = rng.normal()
        y = a @ beta - theta * a[:, N_PRE:] @ weights / (weights @ weights)
        x = a[:, N_PRE:] @ null_space(weights[None, :])
        lp = linprog(
            np.r_[1.0, np.zeros(x.shape[1])],
            A_ub=-np.column_stack([sd, x]),
            b_ub=-y,
            bounds=[(None, None)] * (1 + x.shape[1]),
            method="highs",
        )
        g = _relative_magnitude.vertices(weights)
        g = g / (g @ sd)[:, None]
        np.testing.assert_allclose(g @ x, 0.0, atol=1e-12)  # dual feasible: X'γ = 0
        assert np.max(g @ y) == pytest.approx(lp.x[0], abs=1e-9)


def _noise(sigma: np.ndarray, draws: int = 200_000) -> np.ndarray:
    return (
        np.random.default_rng(0).standard_normal((draws, len(sigma))) @ np.linalg.cholesky(sigma).T
    )


@pytest.mark.parametrize(
    "m_bar",
    [pytest.param(0.5, marks=pytest.mark.slow), 1.0, pytest.param(2.0, marks=pytest.mark.slow)],
)
def test_clf_decisions_match_moderndid(m_bar: float) -> None:
    """Per piece and θ̄, the hybrid test rejects exactly when moderndid's does, given the
    same least-favourable critical value (theirs is simulated with 1,000 LPs)."""
    md = _moderndid()
    sigma, weights = _sigma(), TARGETS["first"]
    pieces = _relative_magnitude.build_pieces(BETA, sigma, N_PRE, weights, m_bar, _noise(sigma))
    c_lf = pieces.lf_critical(0.005)
    thetas = np.linspace(-0.6, 1.2, 25)
    ours = _arp.reject(pieces, thetas, 0.05, 0.005)
    agree = total = 0
    for idx in range(2 * N_PRE):
        s, sign = divmod(idx, 2)
        a = _relative_magnitude.moments(N_PRE, N_POST, m_bar, s, 1.0 if sign == 0 else -1.0)
        x = a[:, N_PRE:] @ null_space(weights[None, :])
        for j, theta in enumerate(thetas):
            y = a @ BETA - theta * a[:, N_PRE:] @ weights
            theirs = md.lp_conditional_test(
                y, x, a @ sigma @ a.T, 0.05, "LF", {"hybrid_kappa": 0.005, "lf_cv": c_lf[idx]}
            )["reject"]
            total += 1
            agree += theirs == ours[idx, j]
    assert agree == total


@pytest.mark.slow
def test_clf_intervals_close_to_moderndid() -> None:
    """Whole intervals against moderndid's grid of 1,000 points. moderndid leaves out the
    earliest pre-period change (R HonestDiD includes it), so it gets one extra leading
    pre-period with a zero change; its least-favourable value is simulated from 1,000
    draws (Monte Carlo sd ≈ 0.1 at the 99.5% quantile), which moves the ends by a few
    grid steps: tolerance 5 grid steps."""
    md = _moderndid()
    sigma, weights = _sigma(), TARGETS["first"]
    n = len(BETA)
    padded_beta = np.r_[BETA[0], BETA]
    padded_sigma = np.zeros((n + 1, n + 1))
    padded_sigma[1:, 1:], padded_sigma[0, 0] = sigma, sigma[0, 0]
    noise = _noise(sigma, _relative_magnitude.LF_DRAWS)
    for m_bar in (0.5, 1.0, 2.0):
        pieces = _relative_magnitude.build_pieces(BETA, sigma, N_PRE, weights, m_bar, noise)
        half = _relative_magnitude.search_half_width(BETA, sigma, N_PRE, weights, m_bar)
        lo, hi = _arp.interval(pieces, BETA[N_PRE], half, 0.05, 0.005, 1e-9)
        res = md.compute_conditional_cs_rm(
            padded_beta, padded_sigma, N_PRE + 1, N_POST, l_vec=weights, m_bar=m_bar, seed=0
        )
        grid = res["grid"][res["accept"] > 0]
        step = res["grid"][1] - res["grid"][0]
        assert lo == pytest.approx(grid.min(), abs=5 * step)
        assert hi == pytest.approx(grid.max(), abs=5 * step)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("m", [0.0, 0.01, 0.05, 0.2])
def test_flci_matches_diff_diff(target: str, m: float) -> None:
    """Both optimise the same half-length: ours by a convex quasi-Newton solve, diff-diff
    by a search over the estimator's standard deviation; agreement to 2e-5 (their
    optimiser's tolerance; the coefficients' standard errors are ~0.1)."""
    dd = pytest.importorskip("diff_diff.honest_did")
    sigma, weights = _sigma(), TARGETS[target]
    f = _smoothness.flci(BETA, sigma, N_PRE, weights, m, 0.05)
    lo, hi = dd._compute_optimal_flci(
        BETA[:N_PRE], BETA[N_PRE:], sigma, weights, N_PRE, N_POST, m, 0.05
    )
    assert f.estimate - f.half == pytest.approx(lo, abs=2e-5)
    assert f.estimate + f.half == pytest.approx(hi, abs=2e-5)


@pytest.fixture(scope="module")
def medicaid() -> ev.RegressionResult:
    """The HonestDiD README's non-staggered Medicaid event study (ehec data)."""
    data_mod = pytest.importorskip("moderndid.core.data")
    df = data_mod.load_ehec().to_pandas()
    df = df[(df["year"] < 2016) & (df["yexp2"].isna() | (df["yexp2"] != 2015))]
    df = df.assign(cohort=np.where(df["yexp2"] == 2014, 2014, 0), stfips=df["stfips"].astype(int))
    return ev.event_study(df, outcome="dins", unit="stfips", time="year", cohort="cohort",
                          window=(-6, 1), cluster="stfips", inference="analytic")  # fmt: skip


def test_published_medicaid_numbers(medicaid: ev.RegressionResult) -> None:
    """HonestDiD README (R, printed to 3 significant digits): relative magnitudes C-LF
    and smoothness FLCI for 2014. FLCI to 1e-4 (R searches a 100-point grid of the
    estimator's sd, so its intervals are at most slightly longer: ours is never outside
    the printed one by more than the rounding); C-LF to 5e-4, the step of R's 1,000-point
    grid of θ̄ (its ends are grid points) plus its simulated c_LF."""
    rm = ev.honest_did(medicaid, m=[0.5, 1, 1.5, 2])
    published_rm = [(0.0241, 0.0673), (0.0171, 0.0720), (0.00859, 0.0796), (-0.00107, 0.0883)]
    for (lo, hi), (_, row) in zip(published_rm, rm.table.iterrows(), strict=True):
        assert row["ci_low"] == pytest.approx(lo, abs=5e-4)
        assert row["ci_high"] == pytest.approx(hi, abs=5e-4)
    sd = ev.honest_did(medicaid, kind="smoothness", m=[0, 0.01, 0.02, 0.03])
    published_sd = [(0.0259, 0.0607), (0.0132, 0.0787), (0.00286, 0.0907), (-0.00714, 0.101)]
    for (lo, hi), (_, row) in zip(published_sd, sd.table.iterrows(), strict=True):
        assert row["ci_low"] == pytest.approx(lo, abs=1e-4)
        assert row["ci_high"] == pytest.approx(hi, abs=6e-4 if hi > 0.1 else 1e-4)
        assert row["ci_high"] - row["ci_low"] <= hi - lo + 1e-4  # never longer than R's


@pytest.mark.slow
def test_flci_covers_under_a_smooth_violation() -> None:
    """β̂ ~ N(τ + δ, Σ) with δ quadratic (second difference exactly M) plus a linear
    trend: the FLCI for τ_1 under Δ^SD(M) covers at least at the nominal rate (600 draws:
    binomial sd ≈ 0.009), while the conventional interval does not."""
    rng = np.random.default_rng(7)
    sigma, weights, m = _sigma() * 0.2, TARGETS["first"], 0.02
    positions = np.r_[np.arange(-N_PRE, 0), np.arange(1, N_POST + 1)]
    delta = 0.5 * m * positions**2 + 0.03 * positions  # second difference exactly m
    tau = np.r_[np.zeros(N_PRE), 0.2, 0.25, 0.3]
    chol = np.linalg.cholesky(sigma)
    cover = naive = 0
    for _ in range(600):
        beta = tau + delta + chol @ rng.standard_normal(len(tau))
        f = _smoothness.flci(beta, sigma, N_PRE, weights, m, 0.05)
        cover += abs(f.estimate - tau[N_PRE]) <= f.half
        naive += abs(beta[N_PRE] - tau[N_PRE]) <= 1.96 * math.sqrt(sigma[N_PRE, N_PRE])
    assert cover / 600 >= 0.95 - 0.02
    assert naive / 600 < 0.9


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return staggered_panel(n_units=160, n_groups=32, seed=3)


KEYS = {"outcome": "y", "unit": "unit", "time": "year", "cohort": "cohort"}


@pytest.fixture(scope="module")
def study(panel: pd.DataFrame) -> ev.RegressionResult:
    return ev.event_study(panel, window=(-3, 3), cluster="group", inference="analytic", **KEYS)


@pytest.mark.parametrize("kind", ["relative_magnitude", "smoothness"])
def test_event_study_end_to_end(study: ev.RegressionResult, panel: pd.DataFrame,
                                kind: str) -> None:  # fmt: skip
    res = ev.honest_did(study, kind=kind)
    assert list(res.table.columns[:5]) == ["estimate", "se", "p", "ci_low", "ci_high"]
    assert res.table.index.name == "m" and (res.table["kind"] == kind).all()
    assert res.meta["reference_period"] == -1 and res.meta["pre_periods"] == [-3, -2]
    assert res.meta["post_periods"] == [0, 1, 2, 3] and res.meta["n_pre"] == 2
    row = study.table.loc[0]
    assert res.original.estimate == row["estimate"] and res.original.se == row["se"]
    # the interval grows with m and holds the original estimate's own interval at m = 0
    width = res.table["ci_high"] - res.table["ci_low"]
    assert (np.diff(width.to_numpy()) > -1e-9).all()
    # breakdown: 0 is outside just below it, inside at it (bisection to the stated tol)
    b, tol = res.breakdown, res.meta["breakdown_tolerance"]
    assert 0 < b < math.inf
    inside = ev.honest_did(study, kind=kind, m=[b]).table.iloc[0]
    below = ev.honest_did(study, kind=kind, m=[max(b - 1.01 * tol, 0)]).table.iloc[0]
    assert inside["ci_low"] <= 0 <= inside["ci_high"]
    assert not below["ci_low"] <= 0 <= below["ci_high"]
    assert str(b)[:4] in res.summary() or "honest_did" in res.summary()
    pd.testing.assert_frame_equal(res.rerun(panel).table, res.table)


def test_att_gt_dynamic_path(panel: pd.DataFrame) -> None:
    cells = ev.att_gt(panel, cluster="group", base_period="universal", inference="analytic",
                      **{k: v for k, v in KEYS.items()})  # fmt: skip
    dynamic = cells.aggregate("dynamic")
    vcov = dynamic.vcov
    se = np.sqrt(np.diag(vcov.to_numpy()))
    ok = dynamic.table["se"].notna().to_numpy()
    np.testing.assert_allclose(se[ok], dynamic.table["se"].to_numpy()[ok], rtol=1e-12)
    res = ev.honest_did(dynamic, event_time="average", kind="smoothness")
    assert res.meta["reference_period"] == -1 and res.meta["target"].startswith("average")
    assert res.original.estimate == pytest.approx(dynamic.overall.estimate)
    pd.testing.assert_frame_equal(res.rerun(panel).table, res.table)
    varying = ev.att_gt(panel, cluster="group", inference="analytic", **KEYS).aggregate("dynamic")
    with pytest.raises(DesignError, match="base_period='universal'"):
        ev.honest_did(varying)


def test_plot_in_both_languages(study: ev.RegressionResult) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from evaluatie.core.language import use_language
    from evaluatie.plots import sensitivity_plot

    res = ev.honest_did(study)
    ax = sensitivity_plot(res)
    labels = ax.get_legend_handles_labels()[1]
    assert "origineel" in labels and any(text.startswith("omslagpunt") for text in labels)
    with use_language("en"):
        ax = sensitivity_plot(res)
    assert "original" in ax.get_legend_handles_labels()[1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "linear"}, "kind must be one of"),
        ({"m": [0.5, -1]}, "m must be"),
        ({"m": []}, "m must be"),
        ({"event_time": -2}, "event_time=-2 is not a post period"),
        ({"event_time": 9}, "event_time=9 is not a post period"),
        ({"event_time": "last"}, "event_time must be"),
        ({"alpha": 1.5}, "alpha must be"),
    ],
)
def test_bad_parameters(study: ev.RegressionResult, arguments: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        ev.honest_did(study, **arguments)


def test_designs_without_an_honest_covariance(panel: pd.DataFrame) -> None:
    short = ev.event_study(panel, window=(-2, 2), cluster="group", inference="analytic", **KEYS)
    with pytest.raises(ParameterError, match="at least 2 pre-periods"):
        ev.honest_did(short)
    assert ev.honest_did(short, kind="smoothness").meta["n_pre"] == 1
    few = ev.event_study(panel[panel["group"] < 10], window=(-3, 3), cluster="group", **KEYS)
    assert few.inference.procedure != "analytic"
    with pytest.raises(DesignError, match="inference does not trust"):
        ev.honest_did(few)
    with pytest.raises(ParameterError, match="needs an event study"):
        ev.honest_did(ev.twfe(panel.assign(d=panel["treated"]), outcome="y", unit="unit",
                              time="year", treatment="d", cluster="group"))  # fmt: skip
