"""Randomization inference for the panel regressions: against re-fitting ``twfe`` and
the event study for every assignment, enumeration, the design kept, and the interval
by inversion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evaluatie.estimators.event as ev
from evaluatie import twfe
from evaluatie.core.errors import ParameterError
from evaluatie.inference import Randomization, randomization
from evaluatie.inference.randomization import (
    PathDesign,
    _Picker,
    assignments,
    n_assignments,
    permutations,
)
from evaluatie.synth.panels import clustered_panel

KEYS = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d", "cluster": "group"}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    # 8 clusters, two of them treated from 2019: C(8, 2) = 28 assignments
    data = clustered_panel(n_units=64, n_groups=8, cohorts=(0, 2019), seed=21, effect=0.3)
    treated = data.groupby("group")["cohort"].first()
    assert (treated > 0).sum() >= 1
    return data


def _brute_force(panel: pd.DataFrame, statistic: str) -> tuple[float, int]:
    """The p-value from re-fitting twfe (analytic) for every assignment of the groups'
    adoption years, and the number of assignments."""
    cohorts = panel.groupby("group")["cohort"].first()
    labels = cohorts.to_numpy()
    plans, enumerated = assignments(labels, Randomization(draws=99))
    assert enumerated
    stats = []
    for plan in plans:
        cohort = panel["group"].map(dict(zip(cohorts.index, plan, strict=True)))
        d = ((cohort > 0) & (panel["year"] >= cohort)).astype(float)
        fit = twfe(panel.assign(d=d), **KEYS, inference="analytic").table.loc["d"]
        stats.append(fit["t"] if statistic == "t" else fit["estimate"])
    stats = np.abs(np.array(stats))
    return float(np.mean(stats >= stats[0] * (1 - 1e-10))), len(plans)


@pytest.mark.parametrize("statistic", ["t", "coefficient"])
def test_p_value_equals_refitting_twfe_for_every_assignment(panel, statistic):
    ours = twfe(panel, **KEYS, inference=Randomization(statistic=statistic))
    expected, count = _brute_force(panel, statistic)
    info = ours.meta["inference"]
    assert info.procedure == "randomization" and info.draws == count
    assert f"All {count} distinct assignments enumerated" in info.note
    assert ours.overall.p == pytest.approx(expected, abs=1e-12)
    # the estimate and its SE stay the analytic fit's
    plain = twfe(panel, **KEYS, inference="analytic").overall
    assert ours.overall.estimate == pytest.approx(plain.estimate, rel=1e-12)
    assert ours.overall.se == pytest.approx(plain.se, rel=1e-12)


def test_assignments_keep_the_design():
    labels = np.array([0, 0, 0, 2019, 2021, 2021, 0, 2019])
    plans, enumerated = assignments(labels, Randomization(draws=99, seed=3))
    assert not enumerated and len(plans) == 100  # 8!/(4!2!2!) = 420 > 100
    assert n_assignments(labels) == 420
    np.testing.assert_array_equal(plans[0], labels)  # the observed one first
    for plan in plans:
        np.testing.assert_array_equal(np.sort(plan), np.sort(labels))
    # the draws are numpy's permutations in turn, so a seed gives the same assignments
    rng = np.random.default_rng(3)
    expected = [rng.permutation(labels) for _ in range(99)]
    np.testing.assert_array_equal(plans[1:], np.stack(expected))
    assert permutations(labels, 0, rng).shape == (0, labels.size)
    # other labels on as many units re-use the shuffled positions: still their own draws
    other = np.array([5, 0, 0, 1, 1, 0, 0, 2])
    rng = np.random.default_rng(3)
    expected = [rng.permutation(other) for _ in range(99)]
    np.testing.assert_array_equal(
        assignments(other, Randomization(draws=99, seed=3))[0][1:], expected
    )
    # whatever the labels' type: numpy's permutations in turn, the generator left as
    # they leave it (the positions are shuffled as intp, the labels taken in that order)
    for dtype in (np.uint8, np.uint16, np.int32, np.intp, np.float32, np.float64, np.bool_):
        many = (np.arange(700) * 0.37 % 251).astype(dtype)
        rng, reference = np.random.default_rng(11), np.random.default_rng(11)
        got = permutations(many, 30, rng, observed_first=True)
        assert permutations(many, 0, rng).shape == (0, many.size)
        assert got.dtype == many.dtype
        np.testing.assert_array_equal(got[0], many)
        np.testing.assert_array_equal(got[1:], [reference.permutation(many) for _ in range(30)])
        assert rng.bit_generator.state == reference.bit_generator.state
    small, enumerated = assignments(np.array([1, 0, 0, 0]), Randomization(draws=99))
    assert enumerated and sorted(map(tuple, small)) == sorted(
        {(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)}
    )


def test_settings_are_checked():
    with pytest.raises(ParameterError, match="draws"):
        Randomization(draws=10)
    with pytest.raises(ParameterError, match="statistic"):
        Randomization(statistic="z")  # type: ignore[arg-type]


def test_interval_covers_the_true_constant_effect():
    covered = []
    for seed in range(30):
        data = clustered_panel(n_units=60, n_groups=20, seed=300 + seed, effect=0.5)
        o = twfe(data, **KEYS, inference=Randomization(draws=199)).overall
        covered.append(o.ci_low <= 0.5 <= o.ci_high)
    assert np.mean(covered) >= 0.85


@pytest.mark.parametrize(
    ("cluster_of", "labels", "contiguous"),
    [
        (np.arange(6), [1, 2, 2, 1, 1, 2], True),  # every unit moved, its own cluster
        (np.arange(6), [0, 1, 2, 2, 1, 1], True),  # some never treated
        (np.array([3, 0, 5, 1, 4, 2]), [0, 1, 2, 2, 1, 1], False),  # clusters reordered
        (np.array([0, 0, 1, 1, 2, 2]), [0, 1, 2, 2, 1, 1], True),  # two units per cluster
    ],
)
def test_picker_sums_equal_a_loop_over_units(cluster_of, labels, contiguous):
    """Every way the picker sums the per-(unit, label) pieces gives the plain sums."""
    rng = np.random.default_rng(3)
    paths = np.stack([np.zeros((4, 2)), *rng.normal(size=(2, 4, 2))])  # label 0: no path
    plans = np.stack([rng.permutation(labels) for _ in range(5)])
    pieces = rng.normal(size=(6, 3, 2, 2))
    if not contiguous:
        pieces = np.asfortranarray(pieces)
    n_clusters = int(cluster_of.max()) + 1
    total, by_cluster = _Picker(plans, paths, cluster_of, n_clusters).sums(pieces)
    expected = np.zeros((5, n_clusters, 2, 2))
    for d, plan in enumerate(plans):
        for unit, label in enumerate(plan):
            if label:
                expected[d, cluster_of[unit]] += pieces[unit, label]
    np.testing.assert_allclose(by_cluster, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(total, expected.sum(axis=1), rtol=0, atol=1e-14)


EVENT_KEYS = {
    "outcome": "y",
    "unit": "unit",
    "time": "year",
    "cohort": "cohort",
    "window": (-3, 2),
    "cluster": "group",
}


@pytest.fixture(scope="module")
def staggered() -> pd.DataFrame:
    # 7 clusters: 4 never treated, 2 from 2017, 1 from 2020: 7!/(4!2!1!) = 105 assignments;
    # two rows per unit-year on average, so the per-cluster sums hold several rows
    return clustered_panel(
        n_units=42, n_groups=7, cohorts=(0, 2017, 2020), seed=0, effect=0.3, rows_per_cell=2
    )


@pytest.mark.parametrize("statistic", ["t", "coefficient"])
def test_event_study_p_values_equal_refitting_for_every_assignment(staggered, statistic):
    """Several regressors re-assigned together (the leads and lags of an event study):
    each coefficient's p-value and the joint pre-trend test's equal those of the analytic
    event study refitted with the cohorts of every assignment."""
    ours = ev.event_study(staggered, **EVENT_KEYS, inference=Randomization(statistic=statistic))
    assert "All 105 distinct assignments" in ours.meta["inference"].note
    cohorts = staggered.groupby("group")["cohort"].first()
    plans, enumerated = assignments(cohorts.to_numpy(), Randomization(draws=999))
    assert enumerated and len(plans) == 105
    rows = ours.table.index[~ours.table["reference"]]
    leads = [r for r in rows if r < -1]
    stats, walds = [], []
    for plan in plans:
        cohort = staggered["group"].map(dict(zip(cohorts.index, plan, strict=True)))
        fit = ev.event_study(staggered.assign(cohort=cohort), **EVENT_KEYS, inference="analytic")
        table = fit.table.loc[rows]
        stats.append(table["t"] if statistic == "t" else table["estimate"])
        b = fit.table.loc[leads, "estimate"].to_numpy()
        walds.append(b @ np.linalg.pinv(fit.vcov.loc[leads, leads].to_numpy()) @ b)
    stats = np.abs(np.array(stats))
    expected = np.mean(stats >= stats[0] * (1 - 1e-10), axis=0)
    np.testing.assert_allclose(ours.table.loc[rows, "p"], expected, rtol=0, atol=1e-12)
    walds = np.array(walds)
    wald_p = np.mean(walds >= walds[0] * (1 - 1e-10))
    assert ours.pretrend_test().table["p"].iloc[0] == pytest.approx(wald_p, abs=1e-12)


@pytest.mark.parametrize("regressors", [1, 3])
def test_scores_equal_with_and_without_the_quadratic_term_formed(monkeypatch, regressors):
    """Whether the per-cluster quadratic term is formed or multiplied out per outcome
    (``_quad_pays``) changes the order of the sums only, never the fit."""
    rng = np.random.default_rng(9)
    n_units, n_periods, n_clusters = 12, 5, 6
    unit = np.repeat(np.arange(n_units), n_periods)
    period = np.tile(np.arange(n_periods), n_units)
    fixed = rng.normal(size=(unit.size, 3))
    design = PathDesign.build(
        rng.normal(size=unit.size),
        fixed,
        unit=unit,
        period=period,
        n_periods=n_periods,
        assign=unit,
        n_assign=n_units,
        cluster=unit % n_clusters,
        n_clusters=n_clusters,
        weights=rng.uniform(0.5, 2.0, unit.size),
        factor=1.1,
    )
    paths = np.concatenate(
        [np.zeros((1, n_periods, regressors)), rng.normal(size=(2, n_periods, regressors))]
    )
    labels = np.array([0] * 6 + [1] * 3 + [2] * 3)
    plans = np.stack([rng.permutation(labels) for _ in range(7)])
    outcomes = [(design.q, design.e), design.outcome_of(paths[plans[0]], 0)]
    pays, fits = randomization._quad_pays, {}
    for formed in (True, False):
        monkeypatch.setattr(randomization, "_quad_pays", lambda **_: formed)  # noqa: B023
        fits[formed] = design.fit(plans, paths, outcomes)
    for a, b in zip(fits[True], fits[False], strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
    # the choice the reports' designs get: formed for one regressor, not for eight
    assert pays(k=1, f=8, outcomes=1)
    assert not pays(k=8, f=8, outcomes=1)
