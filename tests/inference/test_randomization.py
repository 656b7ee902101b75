"""Randomization inference for the panel regressions: against re-fitting ``twfe`` for
every assignment, enumeration, the design kept, and the interval by inversion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluatie import twfe
from evaluatie.core.errors import ParameterError
from evaluatie.inference import Randomization
from evaluatie.inference.randomization import assignments, n_assignments
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
