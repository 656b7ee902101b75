"""The minimum detectable effect (evaluatie.estimators.power.mde).

* the algebra: each draw's statistics at an injected effect equal those of TWFE refits
  on the outcome with the effect added (exact enumeration and random reference sets);
* a known truth: with independent normal errors and many clusters the MDE is
  (z_{1-alpha/2} + z_{power}) times the estimator's standard error (Bloom 1995);
* the public MDE is where the brute-force power crosses the target;
* clear errors for bad arguments and designs that cannot be simulated.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluatie import twfe
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.estimators.power import _inject, _setup, _spread, mde
from evaluatie.estimators.twfe import prepare_regression

KEYS = {"outcome": "y", "unit": "unit", "time": "year"}


def panel(
    n_clusters: int, units: int, periods: int, treated: dict[int, int], seed: int, rho: float = 0.5
) -> pd.DataFrame:
    """Clusters of units with AR(1) errors; ``treated`` maps a cluster to its first
    treated period (no true effect)."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_clusters):
        shock = rng.normal()
        for u in range(units):
            level, e = rng.normal(), 0.0
            for t in range(periods):
                e = rho * e + rng.normal()
                rows.append((g, g * units + u, 2010 + t, shock + level + e))
    data = pd.DataFrame(rows, columns=["g", "unit", "year", "y"])
    start = data["g"].map(treated)
    data["d"] = (start.notna() & (data["year"] >= 2010 + start.fillna(0))).astype(float)
    return data


def _brute_t(
    comparison_rows: pd.DataFrame, x_draw: np.ndarray, x_ref: np.ndarray, delta: float
) -> float:
    frame = comparison_rows.assign(y=comparison_rows["y"] + delta * x_draw, x=x_ref)
    return float(
        twfe(frame, **KEYS, treatment="x", cluster="g", inference="analytic").table.loc["x", "t"]
    )


@pytest.mark.parametrize(
    ("treated", "reference", "enumerated"),
    [({0: 3, 1: 4}, 99, True), ({0: 3, 1: 4, 2: 5}, 99, False)],
)
def test_injected_statistics_equal_refits(
    treated: dict[int, int], reference: int, enumerated: bool
) -> None:
    data = panel(12, 3, 7, treated, seed=4)
    prepared = prepare_regression(
        data,
        outcome="y",
        treatments=["d"],
        covariates=[],
        unit="unit",
        time="year",
        cluster=None,
        weights=None,
        vcov="CRV1",
        alpha=0.05,
    )
    setup = _setup(prepared, "unit")
    assert setup.level_name == "g" and setup.n_treated == len(treated)
    s = setup.comparison.sample
    design = setup.comparison.path_design(setup.assign, setup.n_assign)
    draws, plans = _inject(
        design,
        _spread(setup.calendar, len(treated)),
        setup.n_assign,
        draws=3,
        reference=reference,
        seed=1,
    )
    assert plans.enumerated is enumerated
    rows = pd.DataFrame({"y": s.y, "unit": s.unit, "year": s.time, "g": setup.assign})

    def x_of(plan: np.ndarray) -> np.ndarray:
        return plans.paths[plan[setup.assign], s.time, 0]

    delta = 0.7
    stat = draws.statistics(delta, "t")
    for d in range(3):
        x_d = x_of(plans.draws[d])
        columns = plans.reference if enumerated else np.vstack([plans.draws[d], plans.reference])
        assert np.array_equal(columns[draws.observed[d]], plans.draws[d])
        for k in [0, 1, 5, len(columns) - 1]:
            expected = _brute_t(rows, x_d, x_of(columns[k]), delta)
            assert stat[d, k] == pytest.approx(expected, rel=1e-8)
        # the draw's own estimate moves one for one with the injected effect
        own0, own1 = (
            draws.own(draws.statistics(0.0, "coefficient"))[d],
            draws.own(draws.statistics(1.0, "coefficient"))[d],
        )
        assert own1 - own0 == pytest.approx(1.0, rel=1e-9)


def test_recovers_the_textbook_mde() -> None:
    """Independent errors, one unit per cluster, common adoption: the estimator's
    standard error is sigma / sqrt(N T pi (1 - pi) phi (1 - phi)) and the MDE at 80%
    power (z_{0.975} + z_{0.8}) = 2.80 times it, as n grows."""
    n_units, n_treated, periods, first = 240, 40, 6, 3
    data = panel(n_units, 1, periods, {g: first for g in range(n_treated)}, seed=8, rho=0.0)
    # the unit and cluster shocks are absorbed; the error sd is 1
    result = mde(data, **KEYS, treatment="d", draws=400, reference=499)
    n_comparison = n_units - n_treated
    pi, phi = n_treated / n_comparison, (periods - first) / periods
    se = 1.0 / math.sqrt(n_comparison * periods * pi * (1 - pi) * phi * (1 - phi))
    truth = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se
    row = result.table.loc[n_treated]
    assert row["estimate"] == pytest.approx(truth, rel=0.08)
    assert row["analytic_mde"] == pytest.approx(truth, rel=0.08)
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert 0.02 <= row["size"] <= 0.09
    assert result.overall is not None and result.overall.estimate == row["estimate"]
    assert math.isnan(result.overall.se) and result.overall.note


def test_mde_is_where_brute_force_power_crosses() -> None:
    """One treated cluster of 16: every placebo assignment is a draw and the reference
    is all of them, so the power at an effect is a count of refits that reject."""
    data = panel(16, 2, 6, {0: 3}, seed=2)
    result = mde(data, **KEYS, treatment="d", draws=200, reference=99)
    row = result.table.iloc[0]
    assert row["draws"] == 15 and row["reference"] == 15
    comparison = data[data["g"] != 0]
    clusters = np.unique(comparison["g"])

    def power(delta: float) -> float:
        hits = 0
        for g in clusters:
            x_d = ((comparison["g"] == g) & (comparison["year"] >= 2013)).to_numpy(float)
            ts = [
                _brute_t(
                    comparison,
                    x_d,
                    ((comparison["g"] == k) & (comparison["year"] >= 2013)).to_numpy(float),
                    delta,
                )
                for k in clusters
            ]
            own = abs(ts[list(clusters).index(g)])
            hits += np.mean(np.abs(ts) >= own * (1 - 1e-12)) <= 0.05
        return hits / len(clusters)

    # with 15 assignments the smallest p-value is 1/15 > 0.05: no effect is detected
    assert math.isinf(row["estimate"])
    assert power(50.0) == 0.0
    assert row["size"] == 0.0


def test_power_curve_and_mde_crossing() -> None:
    data = panel(40, 2, 6, {0: 3, 1: 3, 2: 4}, seed=5)
    result = mde(data, **KEYS, treatment="d", draws=60, reference=199, n_treated=[1, 8])
    assert list(result.table.index) == [3, 1, 8]
    mdes = result.table["estimate"]
    # more treated clusters detect smaller effects
    assert mdes.loc[8] < mdes.loc[3]
    assert result.meta["n_treated"] == 3 and result.meta["assignment_level"] == "g"
    assert result.meta["call"]["function"] == "mde"
    again = result.rerun(data)
    pd.testing.assert_frame_equal(again.table, result.table)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"power": 1.2}, "power must be"),
        ({"draws": 5}, "draws must be"),
        ({"reference": 10}, "reference must be"),
        ({"n_treated": [0]}, "n_treated must"),
        ({"n_treated": 5}, r"n_treated must be a list"),
        ({"seed": "x"}, "seed must be an integer"),
    ],
)
def test_clear_errors(kwargs: dict, match: str) -> None:
    data = panel(30, 2, 5, {0: 2, 1: 3}, seed=1)
    with pytest.raises((ParameterError, DesignError), match=match):
        mde(data, **KEYS, treatment="d", **kwargs)


def test_a_design_without_enough_untreated_units_is_refused() -> None:
    data = panel(10, 2, 5, {g: 2 + g % 2 for g in range(6)}, seed=1)
    with pytest.raises(DesignError, match=r"6 of 10 g have a treatment .* only 4 are left"):
        mde(data, **KEYS, treatment="d")


def test_sizes_that_do_not_fit_are_left_out_and_said() -> None:
    data = panel(30, 2, 5, {0: 2, 1: 3}, seed=1)
    result = mde(data, **KEYS, treatment="d", draws=20, reference=99, n_treated=[4, 28])
    assert list(result.table.index) == [2, 4]
    assert result.meta["n_treated_left_out"] == [28]
    assert "Not simulated: 28 treated g" in result.inference.note
