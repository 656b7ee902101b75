"""Randomization inference for the panel regressions: against re-fitting ``twfe`` for
every assignment, enumeration, the design kept, and the interval by inversion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluatie import twfe
from evaluatie.core.errors import ParameterError
from evaluatie.inference import Randomization
from evaluatie.inference.randomization import _Picker, assignments, n_assignments, permutations
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
