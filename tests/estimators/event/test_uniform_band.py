"""Uniform (sup-t) bands of event studies: coverage of the whole true path.

A panel with dynamic effects that depend on the time since adoption only (so the
TWFE event study is unbiased), 150 units of which 80 adopt in two waves, independent
errors: over 200 replications the 95% band must hold every coefficient at once in
about 95% of them, while the pointwise intervals hold the whole path far less often.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evaluatie as ev
from evaluatie.core.errors import DesignError

KEYS = {"outcome": "y", "unit": "unit", "time": "year", "cohort": "cohort"}
WINDOW = (-6, 3)  # every relative time of the panel: nothing is binned


def _panel(rng: np.random.Generator, n: int = 150, periods: int = 8) -> pd.DataFrame:
    g = np.repeat(np.arange(n), periods)
    t = np.tile(np.arange(2010, 2010 + periods), n)
    first = np.where(np.arange(n) < 40, 2014, np.where(np.arange(n) < 80, 2016, 0))[g]
    rel = t - first
    effect = np.where((first > 0) & (rel >= 0), 0.3 * (rel + 1), 0.0)
    y = rng.normal(size=n)[g] + rng.normal(size=periods)[t - 2010] + rng.normal(size=g.size)
    return pd.DataFrame({"unit": g, "year": t, "cohort": first, "y": y + effect})


def test_band_covers_the_whole_path() -> None:
    rng = np.random.default_rng(2026)
    band_hits, pointwise_hits = [], []
    for _ in range(200):
        es = ev.event_study(_panel(rng), **KEYS, window=WINDOW, inference="analytic")
        band = es.uniform_band()
        rel = band.index.to_numpy()
        truth = np.where(rel >= 0, 0.3 * (rel + 1), 0.0)
        band_hits.append(((band["band_low"] <= truth) & (truth <= band["band_high"])).all())
        t = es.table.loc[band.index]
        pointwise_hits.append(((t["ci_low"] <= truth) & (truth <= t["ci_high"])).all())
    print(f"band {np.mean(band_hits):.3f}, pointwise {np.mean(pointwise_hits):.3f}")
    # an exact 95% band stays in 95% +- 2.58 binomial standard errors w.p. 0.99
    assert 0.91 <= np.mean(band_hits) <= 0.99
    assert np.mean(pointwise_hits) < 0.85


def test_no_band_without_analytic_inference() -> None:
    data = _panel(np.random.default_rng(1))
    es = ev.event_study(data, **KEYS, window=WINDOW)  # auto: randomization
    assert es.inference.procedure == "randomization"
    with pytest.raises(DesignError, match=r"no uniform band .* randomization"):
        es.uniform_band()
    band = ev.event_study(data, **KEYS, window=WINDOW, inference="analytic").uniform_band()
    assert (band["critical"] > 1.96).all() and -1 not in band.index
    # analytic, but 10 treated clusters: the covariance is not to be trusted for a band
    few = data.assign(cohort=np.where(data["unit"] < 10, data["cohort"], 0))
    analytic = ev.event_study(few, **KEYS, window=WINDOW, inference="analytic")
    with pytest.raises(DesignError, match="no uniform band with 10 treated of 150 clusters"):
        analytic.uniform_band()


def test_plot_shades_the_band_only_where_there_is_one(english: None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    data = _panel(np.random.default_rng(3))
    analytic = ev.event_study(data, **KEYS, window=WINDOW, inference="analytic")
    honest = ev.event_study(data, **KEYS, window=WINDOW)
    ax = ev.plots.event_study_plot({"analytic": analytic, "randomization": honest})
    labels = ax.get_legend_handles_labels()[1]
    assert "analytic: 95% uniform band" in labels
    assert not any(label.startswith("randomization: 95% uniform") for label in labels)
