"""att_gt(allow_unbalanced_panel=True): every cell as two repeated cross sections.

Checked against moderndid's ``allow_unbalanced_panel`` (a port of R ``did``): cells,
standard errors and per-unit influence functions agree to rounding. Its aggregated
standard errors pair the units' cohorts (sorted by cohort) with influence-function rows
(sorted by unit id), a misalignment in moderndid 0.2.0: the test shows that our
aggregate reproduces its number exactly when given that same pairing, and the right
one otherwise.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_att_gt import simulate_staggered, true_effect

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.estimators.did import att_gt
from evaluatie.testing import moderndid_polars_compat

KEYS = {"outcome": "y", "unit": "id", "time": "year", "cohort": "g"}


def _drop_at_random(data: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    keep = np.random.default_rng(seed).random(len(data)) > share
    return data[keep].reset_index(drop=True)


@pytest.fixture(scope="module")
def holes() -> pd.DataFrame:
    return _drop_at_random(simulate_staggered(n=400, seed=8), 0.15, seed=8)


def _fit(data: pd.DataFrame, **kw: object):
    kw.setdefault("inference", "analytic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return att_gt(data, **KEYS, allow_unbalanced_panel=True, **kw)


def _moderndid(data: pd.DataFrame, **kw: object):
    moderndid = pytest.importorskip("moderndid")
    with warnings.catch_warnings(), moderndid_polars_compat():
        warnings.simplefilter("ignore")
        return moderndid, moderndid.att_gt(
            data,
            yname="y",
            tname="year",
            idname="id",
            gname="g",
            panel=False,
            allow_unbalanced_panel=True,
            **kw,
        )


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_cells_match_moderndid(holes, control):
    ours = _fit(holes, control=control)
    _, theirs = _moderndid(holes, control_group=control.replace("_", ""))
    got = ours.table.set_index(["cohort", "time"])
    keys = list(zip(theirs.groups, theirs.times, strict=True))
    np.testing.assert_allclose(got.loc[keys, "estimate"], theirs.att_gt, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.loc[keys, "se"], theirs.se_gt, rtol=1e-10)
    # per-unit influence functions, ours ordered by cohort, theirs by unit id
    order = np.argsort(ours.panel.units)
    cols = [list(got.index).index(k) for k in keys]
    np.testing.assert_allclose(
        ours.influence[order][:, cols], np.asarray(theirs.influence_func), atol=1e-10
    )
    assert ours.meta["units_unbalanced_kept"] > 0.5 * ours.meta["n_units"]
    assert ours.meta["n_obs"] == len(holes)


@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
def test_aggregates_match_moderndid_up_to_its_cohort_pairing(holes, kind):
    moderndid, theirs = _moderndid(holes)
    ours = _fit(holes)
    with warnings.catch_warnings(), moderndid_polars_compat():
        warnings.simplefilter("ignore")
        agg = moderndid.aggte(theirs, type=kind, boot=False)
    mine = ours.aggregate(kind).overall
    assert mine.estimate == pytest.approx(agg.overall_att, abs=1e-12)
    # moderndid's cohorts (row i) paired with its influence row i (unit id order)
    order = np.argsort(ours.panel.units)
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    g = np.asarray(theirs.G, dtype=float)
    paired = np.where(g == 0, np.inf, g)[position]
    assert not np.array_equal(paired, ours.unit_cohort)  # the misalignment is real here
    as_moderndid = replace(ours, unit_cohort=paired, choice=None).aggregate(kind).overall
    assert as_moderndid.se == pytest.approx(agg.overall_se, rel=1e-10)


def test_recovers_truth_and_keeps_the_units():
    data = _drop_at_random(simulate_staggered(n=3000, seed=2), 0.3, seed=2)
    kept = _fit(data)
    table = kept.table
    truth = true_effect(table["cohort"].to_numpy(), table["time"].to_numpy())
    z = (table["estimate"] - truth) / table["se"]
    assert np.all(np.abs(z) < 4.5), float(z.abs().max())
    assert np.mean(np.abs(z) < 1.96) > 0.85
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dropped = att_gt(data, **KEYS, inference="analytic")
    assert dropped.meta["n_units"] < 0.1 * kept.meta["n_units"]  # 30% holes over 10 years
    assert dropped.meta["units_dropped_unbalanced"] == kept.meta["units_unbalanced_kept"]


def test_balanced_data_give_the_balanced_answer():
    data = simulate_staggered(n=300, seed=4)
    a = _fit(data).table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = att_gt(data, **KEYS, inference="analytic").table
    pd.testing.assert_frame_equal(a, b)


def test_bootstrap_and_auto_inference(holes):
    boot = _fit(
        holes.assign(c=holes["id"] % 40), cluster="c", n_boot=199, seed=1, inference="bootstrap"
    )
    assert boot.meta["inference"].procedure == "multiplier bootstrap"
    assert np.isfinite(boot.aggregate("simple").overall.p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = att_gt(holes, **KEYS, allow_unbalanced_panel=True)
    # no randomization inference on an unbalanced panel; 400 units are enough for analytic
    assert auto.meta["inference"].procedure == "analytic"
    with pytest.raises(DesignError, match="balanced panel"):
        _fit(holes, inference="randomization")


def test_refuses_covariates(holes):
    with pytest.raises(ParameterError, match="without covariates"):
        att_gt(holes.assign(x=1.0), **KEYS, covariates=["x"], allow_unbalanced_panel=True)


def test_drops_cells_a_group_is_not_observed_in(holes):
    # nobody of cohort 2015 observed in 2014: its cells using 2014 are dropped, said so
    gone = holes[~((holes["g"] == 2015) & (holes["year"] == 2014))]
    with pytest.warns(UserWarning, match="not observed in both periods"):
        fit = att_gt(gone, **KEYS, allow_unbalanced_panel=True, inference="analytic")
    table = fit.table
    assert not ((table["cohort"] == 2015) & (table["base"] == 2014)).any()
    assert not ((table["cohort"] == 2015) & (table["time"] == 2014)).any()
