"""The wild cluster bootstrap: exact agreement with ``wildboottest`` under full
enumeration, on the two-way fixed-effects regression ``twfe`` fits, and test inversion."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from evaluatie import twfe
from evaluatie.inference import WildBootstrap
from evaluatie.inference.wild import draw_weights
from evaluatie.synth.panels import clustered_panel

KEYS = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d", "cluster": "group"}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    # 9 gemeente-like clusters: 2^9 = 512 sign patterns, all enumerated
    return clustered_panel(n_units=60, n_groups=9, seed=8, effect=0.0)


def _reference(panel: pd.DataFrame, restricted: bool) -> tuple[float, np.ndarray]:
    """wildboottest's t statistic and bootstrap t statistics on the same regression,
    with every fixed effect as a dummy column (all 2^9 sign patterns)."""
    pytest.importorskip("statsmodels")
    wbt = pytest.importorskip("wildboottest.wildboottest")
    x = pd.get_dummies(panel[["unit", "year"]].astype(str), drop_first=True, dtype=float)
    x.insert(0, "d", panel["d"].to_numpy())
    x.insert(0, "const", 1.0)
    r = np.zeros(x.shape[1])
    r[1] = 1.0
    boot = wbt.WildboottestCL(
        X=x.to_numpy(),
        Y=panel["y"].to_numpy(),
        cluster=panel["group"].to_numpy(),
        R=r,
        B=9999,
        seed=1,
    )
    boot.get_scores(bootstrap_type="11", impose_null=restricted, adj=True, cluster_adj=True)
    _, _, enumerated = boot.get_weights(weights_type="rademacher")
    assert enumerated
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    return float(np.squeeze(boot.t_stat)), np.ravel(boot.t_boot)


@pytest.mark.parametrize("restricted", [True, False])
def test_enumerated_bootstrap_equals_wildboottest_exactly(panel, restricted):
    ours = twfe(panel, **KEYS, inference=WildBootstrap(restricted=restricted))
    info = ours.meta["inference"]
    assert info.procedure == "wild cluster bootstrap" and info.draws == 2**9
    assert "All 512 sign patterns enumerated" in info.note
    t, t_boot = _reference(panel, restricted)
    # the t statistics differ only by the small-sample factor: wildboottest counts the
    # unit dummies, fixest's CRV1 (ours) not those nested in the clusters
    n, k, g = len(panel), 2 + panel["unit"].nunique() - 1 + panel["year"].nunique() - 1, 9
    theirs = g / (g - 1) * (n - 1) / (n - k)
    factor = np.sqrt(theirs / ours.meta["vcov_factor"])
    assert t == pytest.approx(ours.table.loc["d", "t"] / factor, rel=1e-9)
    # the same 512 bootstrap statistics, so the same exact p-value (ties counted: the
    # restricted bootstrap's all-ones and all-minus-ones patterns reproduce |t|)
    extreme = np.abs(t_boot) >= abs(t) * (1 - 1e-10)
    assert len(t_boot) == 512
    assert ours.overall.p == pytest.approx(extreme.mean(), abs=1e-12)
    if restricted:
        assert np.sort(np.abs(t_boot))[-1] >= abs(t) * (1 - 1e-10)  # the ties exist


def test_enumeration_lists_every_sign_pattern_once():
    v, enumerated = draw_weights(5, WildBootstrap(draws=99))
    assert enumerated and v.shape == (5, 32)
    patterns = {tuple(col) for col in np.asarray(v).T}
    assert patterns == set(itertools.product((-1.0, 1.0), repeat=5))


def test_interval_inverts_the_test(panel):
    ours = twfe(panel, **KEYS, inference=WildBootstrap(weights="webb", draws=1999))
    o = ours.overall
    assert o.ci_low < o.estimate < o.ci_high
    treated = panel["d"].to_numpy()
    for bound, inward in ((o.ci_low, 1.0), (o.ci_high, -1.0)):
        for step, inside in ((1e-4, True), (-1e-4, False)):
            r = bound + inward * step * max(1.0, abs(bound))
            shifted = panel.assign(y=panel["y"] - r * treated)
            p = twfe(shifted, **KEYS, inference=WildBootstrap(weights="webb", draws=1999)).overall.p
            assert (p > 0.05) == inside, (bound, step, p)


def test_wild_recovers_a_known_effect_and_holds_size_on_average():
    rejections, covered = [], []
    for seed in range(40):
        data = clustered_panel(n_units=80, n_groups=16, seed=100 + seed, effect=0.5)
        fit = twfe(data, **KEYS, inference=WildBootstrap(draws=399))
        o = fit.overall
        covered.append(o.ci_low <= 0.5 <= o.ci_high)
        null = data.assign(y=data["y"] - 0.5 * data["d"])
        rejections.append(twfe(null, **KEYS, inference=WildBootstrap(draws=399)).overall.p < 0.05)
    assert np.mean(covered) >= 0.85
    assert np.mean(rejections) <= 0.15


def _brute_force_p(
    panel: pd.DataFrame, restricted: bool, term: str = "d", covariates: tuple[str, ...] = ()
) -> tuple[float, int]:
    """The subcluster bootstrap the slow way: every sign pattern over the units, each
    bootstrap sample re-fitted with every fixed effect as a dummy and the CRV1 t
    statistic of ``term`` computed by gemeente-like cluster. (wildboottest 0.3.2 would be
    the independent reference, but its ``bootcluster`` path fails with an IndexError.)"""
    x = pd.get_dummies(panel[["unit", "year"]].astype(str), drop_first=True, dtype=float)
    for name in reversed(("d", *covariates)):
        x.insert(0, name, panel[name].to_numpy())
    x.insert(0, "const", 1.0)
    j = 1 + ("d", *covariates).index(term)
    xm, y = x.to_numpy(), panel["y"].to_numpy()
    cluster, unit = panel["group"].to_numpy(), pd.factorize(panel["unit"])[0]
    bread = np.linalg.inv(xm.T @ xm)

    def t_stat(values: np.ndarray, centre: float) -> float:
        b = bread @ xm.T @ values
        u = values - xm @ b
        s = np.array([xm[cluster == g].T @ u[cluster == g] for g in np.unique(cluster)])
        return (b[j] - centre) / np.sqrt((bread @ s.T @ s @ bread)[j, j])

    t = t_stat(y, 0.0)
    base = np.delete(xm, j, axis=1) if restricted else xm
    fitted = base @ np.linalg.lstsq(base, y, rcond=None)[0]
    centre = 0.0 if restricted else float((bread @ xm.T @ y)[j])
    stars = [
        t_stat(fitted + (y - fitted) * np.array(v)[unit], centre)
        for v in itertools.product([-1.0, 1.0], repeat=int(unit.max()) + 1)
    ]
    return float(np.mean(np.abs(stars) >= abs(t) * (1 - 1e-10))), len(stars)


@pytest.mark.parametrize("restricted", [True, False])
def test_subcluster_bootstrap_equals_brute_force_exactly(restricted):
    # 11 units in 4 clusters: all 2^11 unit-level sign patterns are enumerated
    panel = clustered_panel(n_units=11, n_groups=4, seed=3, effect=0.0)
    ours = twfe(panel, **KEYS, inference=WildBootstrap(restricted=restricted, bootcluster="unit"))
    p, draws = _brute_force_p(panel, restricted)
    assert ours.meta["inference"].draws == draws == 2**11
    assert "subcluster" in ours.meta["inference"].se
    assert ours.overall.p == pytest.approx(p, abs=1e-12)
    assert ours.meta["inference"].n_clusters == 4  # the variance stays clustered by group


def test_subcluster_pretrend_test_runs_on_unit_weights(panel):
    from evaluatie import event_study

    res = event_study(
        panel,
        outcome="y",
        unit="unit",
        time="year",
        cohort="cohort",
        window=(-3, 2),
        cluster="group",
        inference=WildBootstrap(bootcluster="unit", draws=999),
    )
    assert 0.0 < res.pretrend_test().p <= 1.0
    assert res.meta["inference"].draws == 999  # 2^60 patterns: drawn, not enumerated


@pytest.mark.parametrize("restricted", [True, False])
def test_several_coefficients_bootstrapped_together_each_equal_brute_force(restricted):
    """The paths of all coefficients come from one pass over the draws (stacked); each
    must still be its own coefficient's test: against the brute force, term by term."""
    panel = clustered_panel(n_units=10, n_groups=4, seed=5, effect=0.3)
    ours = twfe(
        panel,
        **KEYS,
        covariates=["x"],
        inference=WildBootstrap(restricted=restricted, bootcluster="unit"),
    )
    assert ours.meta["inference"].draws == 2**10
    for term in ("d", "x"):
        p, _ = _brute_force_p(panel, restricted, term=term, covariates=("x",))
        assert ours.table.loc[term, "p"] == pytest.approx(p, abs=1e-12), term
