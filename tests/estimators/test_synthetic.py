"""Synthetic control and synthetic DiD: a published table, two independent implementations,
known truths on simulated factor-model panels, and clear errors.

Published: Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021), Table 1, California's
Proposition 99 (Abadie, Diamond & Hainmueller 2010's data, as distributed with the
synthdid R package: ``tests/data/reference/california_prop99.csv``): SDID -15.6.
Independent: diff-diff's ``SyntheticDiD`` (a port of R synthdid) and ``SyntheticControl``
(exact NNLS weights) -- test-only dependencies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evaluatie as ev
from evaluatie.core.errors import DataFormatError, DesignError, ParameterError

PROP99 = Path(__file__).parents[1] / "data" / "reference" / "california_prop99.csv"
KEYS = {"outcome": "PacksPerCapita", "unit": "State", "time": "Year", "treatment": "treated"}


@pytest.fixture(scope="module")
def prop99() -> pd.DataFrame:
    return pd.read_csv(PROP99, sep=";")


def factor_panel(
    *, n_units: int = 60, n_periods: int = 20, treated: dict[int, int], effect: float = 0.0,
    noise: float = 0.3, seed: int = 0,
) -> pd.DataFrame:  # fmt: skip
    """Y = unit level + two latent factors x loadings + noise, plus ``effect`` from each
    treated unit's first period (``treated``: unit -> first treated period index). Treated
    units' loadings are convex combinations of three donors', so a synthetic control
    exists; their levels differ (which SDID's intercept absorbs and SC must not need)."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n_periods, 2)).cumsum(axis=0)
    loadings = rng.normal(size=(n_units, 2))
    level = rng.normal(0, 1, n_units)
    for u in treated:
        donors = rng.choice([i for i in range(n_units) if i not in treated], 3, replace=False)
        w = rng.dirichlet(np.ones(3))
        loadings[u] = w @ loadings[donors]
        level[u] = w @ level[donors]
    y = level[:, None] + loadings @ factors.T + noise * rng.normal(size=(n_units, n_periods))
    d = np.zeros((n_units, n_periods))
    for u, first in treated.items():
        d[u, first:] = 1.0
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_units), n_periods),
            "year": np.tile(np.arange(2000, 2000 + n_periods), n_units),
            "y": (y + effect * d).ravel(),
            "d": d.ravel(),
        }
    )


SIM = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d"}


# --- a published number and independent implementations --------------------------------


def _diff_diff_sdid(data: pd.DataFrame, treated_units: list, post: list, method: str):
    from diff_diff import SyntheticDiD

    marked = data.assign(ever=data["State"].isin(treated_units).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SyntheticDiD(variance_method=method, seed=1).fit(
            marked, outcome=KEYS["outcome"], treatment="ever", unit="State", time="Year",
            post_periods=post,
        )  # fmt: skip


def test_sdid_reproduces_the_published_prop99_estimate_and_diff_diff(prop99) -> None:
    result = ev.synthetic_did(prop99, **KEYS)
    assert round(result.overall.estimate, 1) == -15.6  # AAHIW (2021) Table 1
    peer = _diff_diff_sdid(prop99, ["California"], list(range(1989, 2001)), "placebo")
    assert result.overall.estimate == pytest.approx(peer.att, abs=1e-9)
    theirs = peer.get_unit_weights_df().set_index("unit")["weight"]
    ours = result.weights.iloc[:, 0]
    assert np.abs(theirs.reindex(ours.index).fillna(0.0) - ours).max() < 1e-9
    times = peer.get_time_weights_df().set_index("period")["weight"]
    assert (
        np.abs(times.reindex(result.time_weights.index) - result.time_weights.iloc[:, 0]).max()
        < 1e-9
    )


def test_sdid_jackknife_matches_diff_diff_with_several_treated(prop99) -> None:
    """The fixed-weights jackknife is deterministic, so it can match to rounding."""
    treated = ["California", "Nevada", "Utah"]
    data = prop99.assign(
        treated=(prop99["State"].isin(treated) & (prop99["Year"] >= 1989)).astype(int)
    )
    result = ev.synthetic_did(data, **KEYS, variance="jackknife")
    peer = _diff_diff_sdid(data, treated, list(range(1989, 2001)), "jackknife")
    assert result.overall.estimate == pytest.approx(peer.att, abs=1e-9)
    assert result.overall.se == pytest.approx(peer.se, rel=1e-9)


@pytest.mark.slow
def test_sdid_placebo_se_agrees_with_diff_diff_within_monte_carlo_error(prop99) -> None:
    """Placebo draws differ between generators; with 1,000 each the two SEs' sampling
    error is about 2% each, so they must agree within 8%."""
    ours = ev.synthetic_did(prop99, **KEYS, replications=1000).overall.se
    from diff_diff import SyntheticDiD

    marked = prop99.assign(ever=(prop99["State"] == "California").astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SyntheticDiD(variance_method="placebo", n_bootstrap=1000, seed=7).fit(
            marked, outcome=KEYS["outcome"], treatment="ever", unit="State", time="Year",
            post_periods=list(range(1989, 2001)),
        ).se  # fmt: skip
    assert ours == pytest.approx(theirs, rel=0.08)


def test_synthetic_control_matches_diff_diff_exactly(prop99) -> None:
    """diff-diff's classic SC with every pre-period outcome a predictor of equal weight
    (custom V of ones, no standardisation) solves the same problem exactly."""
    from diff_diff import SyntheticControl

    result = ev.synthetic_control(prop99, **KEYS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = SyntheticControl(v_method="custom", custom_v=np.ones(19), standardize="none").fit(
            prop99, outcome=KEYS["outcome"], treatment="treated", unit="State", time="Year"
        )
        placebo = peer.in_space_placebo().set_index("unit")
    assert result.overall.estimate == pytest.approx(peer.att, abs=1e-9)
    theirs = pd.Series(peer.donor_weights).reindex(result.weights.index).fillna(0.0)
    assert np.abs(theirs - result.weights.iloc[:, 0]).max() < 1e-9
    assert result.meta["rmspe_ratio"] == pytest.approx(placebo.loc["California", "rmspe_ratio"])


def test_synthetic_control_placebos_are_diff_diffs_fits_without_the_treated_unit(prop99) -> None:
    """Each placebo is the donor refitted on the other donors, California left out (a unit
    with the policy is no control; diff-diff's own placebos keep it in the pool, so its
    fits are run here on the panel without California)."""
    from diff_diff import SyntheticControl

    result = ev.synthetic_control(prop99, **KEYS)
    donors = prop99[prop99["State"] != "California"]
    for state in ["Alabama", "Montana", "Nevada", "West Virginia", "Utah"]:
        placebo = donors.assign(
            treated=((donors["State"] == state) & (donors["Year"] >= 1989)).astype(int)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peer = SyntheticControl(
                v_method="custom", custom_v=np.ones(19), standardize="none"
            ).fit(placebo, outcome=KEYS["outcome"], treatment="treated", unit="State", time="Year")
        assert result.placebos[state].loc[1989:].mean() == pytest.approx(peer.att, abs=1e-8)
    ratios = np.sqrt(
        (result.placebos.loc[1989:] ** 2).mean() / (result.placebos.loc[:1988] ** 2).mean()
    )
    assert result.overall.p == pytest.approx(
        (1 + (ratios >= result.meta["rmspe_ratio"]).sum()) / 39
    )


def test_synthetic_control_interval_inverts_its_own_test(prop99) -> None:
    """At each end of the interval the constant-effect null is on the edge of rejection:
    just inside it is accepted (p > alpha), just outside rejected -- computed by hand
    from the stored placebo gaps."""
    result = ev.synthetic_control(prop99, **KEYS)
    gaps = result.table["estimate"]
    pre, post = gaps[~result.table["post"]], gaps[result.table["post"]]
    placebo_ratio = np.sqrt(
        (result.placebos.loc[1989:] ** 2).mean() / (result.placebos.loc[:1988] ** 2).mean()
    )

    def p(theta: float) -> float:
        ratio = np.sqrt(((post - theta) ** 2).mean() / (pre**2).mean())
        return (1 + (placebo_ratio >= ratio).sum()) / (len(placebo_ratio) + 1)

    o = result.overall
    for end, inward in ((o.ci_low, 1.0), (o.ci_high, -1.0)):
        assert p(end + inward * 1e-6) > 0.05
        assert p(end - inward * 1e-6) <= 0.05
    assert (p(o.estimate) > 0.05) and (o.p == pytest.approx(p(0.0)))


# --- known truths on simulated panels ---------------------------------------------------


@pytest.mark.parametrize("effect", [0.0, 2.0])
def test_synthetic_control_recovers_a_known_effect(effect: float) -> None:
    data = factor_panel(n_units=30, n_periods=25, treated={0: 18}, effect=effect, noise=0.1, seed=4)
    result = ev.synthetic_control(data, **SIM)
    assert result.overall.estimate == pytest.approx(effect, abs=0.25)
    assert (
        result.table.loc[result.table["post"], "estimate"].between(effect - 0.6, effect + 0.6).all()
    )
    assert result.weights.iloc[:, 0].sum() == pytest.approx(1.0)
    assert (result.weights.iloc[:, 0] >= 0).all()
    if effect:  # power; the test's size is measured where units are exchangeable (real panel)
        assert result.overall.p <= 0.05


@pytest.mark.parametrize("effect", [0.0, 1.0])
@pytest.mark.parametrize("treated", [{0: 14}, {0: 14, 1: 14, 2: 14}, {0: 10, 1: 10, 2: 15, 3: 15}])
def test_synthetic_did_recovers_a_known_effect(effect: float, treated: dict[int, int]) -> None:
    data = factor_panel(treated=treated, effect=effect, seed=len(treated))
    result = ev.synthetic_did(data, **SIM, replications=50)
    assert result.overall.estimate == pytest.approx(effect, abs=3 * result.overall.se + 0.05)
    assert result.overall.se < 0.5
    assert len(result.table) == len({*treated.values()})
    assert result.table["weight"].sum() == pytest.approx(1.0)
    assert np.allclose(result.weights.sum(), 1.0) and np.allclose(result.time_weights.sum(), 1.0)


def test_staggered_sdid_averages_its_cohorts_by_treated_unit_periods() -> None:
    data = factor_panel(treated={0: 10, 1: 10, 2: 15}, effect=1.0, seed=9)
    result = ev.synthetic_did(data, **SIM, replications=20)
    t = result.table
    assert t.loc[2010, "weight"] == pytest.approx(2 * 10 / (2 * 10 + 1 * 5))
    assert result.overall.estimate == pytest.approx((t["estimate"] * t["weight"]).sum())
    # each cohort alone, as its own single-cohort fit on the never treated
    alone = data[~data["unit"].isin([2])]
    assert t.loc[2010, "estimate"] == pytest.approx(
        ev.synthetic_did(alone, **SIM, replications=2).overall.estimate, abs=1e-12
    )


@pytest.mark.slow
def test_sdid_placebo_interval_covers_in_a_factor_model() -> None:
    """One treated unit, 40 donors, a true effect of 1: the 95% placebo interval covers it
    in about 95% of 200 panels (binomial band at 99%)."""
    covered = []
    for s in range(200):
        panel = factor_panel(n_units=41, treated={0: 15}, effect=1.0, seed=s)
        o = ev.synthetic_did(panel, **SIM, replications=100).overall
        covered.append(o.ci_low <= 1.0 <= o.ci_high)
    rate = float(np.mean(covered))
    print(f"SDID placebo coverage: {rate:.3f}")
    assert rate >= 0.95 - 2.58 * (0.05 * 0.95 / 200) ** 0.5


# --- errors, before any work -------------------------------------------------------------


def test_clear_errors(prop99) -> None:
    with pytest.raises(DesignError, match=r"not balanced.*Alabama"):
        ev.synthetic_did(prop99.iloc[1:], **KEYS)
    with pytest.raises(DataFormatError, match="missing"):
        ev.synthetic_control(
            prop99.assign(PacksPerCapita=prop99["PacksPerCapita"].where(prop99.index != 5)), **KEYS
        )
    off = prop99.assign(
        treated=np.where(
            (prop99["State"] == "California") & (prop99["Year"] == 2000), 0, prop99["treated"]
        )
    )
    with pytest.raises(DesignError, match="absorbing"):
        ev.synthetic_did(off, **KEYS)
    with pytest.raises(DesignError, match="first Year"):
        ev.synthetic_did(
            prop99.assign(treated=(prop99["State"] == "California").astype(int)), **KEYS
        )
    two = prop99.assign(
        treated=(prop99["State"].isin(["California", "Utah"]) & (prop99["Year"] >= 1989)).astype(
            int
        )
    )
    with pytest.raises(DesignError, match="synthetic_did"):
        ev.synthetic_control(two, **KEYS)
    with pytest.raises(DesignError, match="jackknife variance needs at least 2"):
        ev.synthetic_did(prop99, **KEYS, variance="jackknife")
    half = prop99[prop99["State"].isin(["California", "Utah", "Nevada", "Ohio"])]
    half = half.assign(
        treated=(half["State"].isin(["California", "Utah"]) & (half["Year"] >= 1989)).astype(int)
    )
    with pytest.raises(DesignError, match="more never-treated units than treated"):
        ev.synthetic_did(half, **KEYS)
    with pytest.raises(ParameterError, match="variance must be one of"):
        ev.synthetic_did(prop99, **KEYS, variance="bootstrap")
    with pytest.raises(ParameterError, match="not a column"):
        ev.synthetic_control(prop99, **{**KEYS, "treatment": "policy"})


def test_staggered_jackknife_reweighs_the_cohorts_it_leaves_a_unit_out_of() -> None:
    """Leaving out a treated unit changes its cohort's treated unit-periods, so the
    replication's average uses the new shares (N1_c - 1) T1_c, not the full sample's."""
    from evaluatie.estimators.synthetic import _panel, sdid

    data = factor_panel(treated={0: 10, 1: 10, 2: 15, 3: 15, 4: 15}, effect=1.0, seed=2)
    design = sdid._Design(_panel.outcome_matrix(data, **SIM))
    _, fits, _ = design.fit(design.donors, design.members)
    draws = sdid._jackknife(design, fits)
    n_donors = len(design.donors)
    # the first treated unit left out: cohort 2010 keeps 1 unit x 10 periods, 2015 keeps 3 x 5
    row = draws[n_donors]
    assert row[0] == pytest.approx((10 * row[1] + 15 * row[2]) / 25)
    assert row[0] != pytest.approx(design.shares @ row[1:])


def test_bad_seed_is_refused_before_any_work(prop99) -> None:
    with pytest.raises(ParameterError, match="seed must be"):
        ev.synthetic_did(prop99, **KEYS, seed="one")


_SOLVE_ONCE = """
import numpy as np
from evaluatie.estimators.synthetic._weights import frank_wolfe
y = np.random.default_rng(0).normal(size=(6, 9))
print(repr(frank_wolfe(y, zeta=0.1, min_decrease=1e-5, intercept=True).tolist()))
"""


def test_two_processes_without_a_cache_compile_the_solver_once(tmp_path: Path) -> None:
    """Two kernels that need the solver at once, before any cache exists (a new clone):
    one compiles it, the other waits and loads the machine code the first saved."""
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(tmp_path),  # a cache of their own, empty
        "NUMBA_DEBUG_CACHE": "1",  # numba says whether it saved or loaded the code
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _SOLVE_ONCE], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        outputs = [run.communicate(timeout=300)[0] for run in runs]
    finally:
        for run in runs:
            run.kill()  # a no-op for a finished process; a hung one goes with the test
    assert all(run.returncode == 0 for run in runs)
    saved = [out.count("[cache] data saved") for out in outputs]
    loaded = [out.count("[cache] data loaded") for out in outputs]
    assert sorted(saved) == [0, 1] and sorted(loaded) == [0, 1]
    weights = [out.strip().splitlines()[-1] for out in outputs]
    assert weights[0] == weights[1]  # the loaded code computes what the compiled one did


def test_the_solver_takes_float32_values_as_float64() -> None:
    from evaluatie.estimators.synthetic._weights import frank_wolfe

    y = np.random.default_rng(1).normal(size=(6, 9))
    expected = frank_wolfe(y, zeta=0.1, min_decrease=1e-5, intercept=True)
    # the one signature the solver is compiled for takes float64 (a TypeError before)
    got = frank_wolfe(y.astype(np.float32), zeta=0.1, min_decrease=1e-5, intercept=True)
    assert np.abs(got - expected).max() < 1e-4
