"""Calibration of ``mde`` on the real VO exam panel (issue 12, slow).

For many designs -- a random set of 1, 3, 12 or 40 gemeenten with a random start year
(:mod:`placebo`) -- the MDE is computed from the panel, then that effect is added to
the design's treated rows and the report's own test (``twfe``, default inference) is
run. If the MDE is what it claims, about 80% of the designs reject. The MDE aims at
80% power in *both* directions and this adds it upwards, so a rate somewhat above 80%
is expected where the power curve is asymmetric. The pooled rate over all designs must
lie within 2.58 binomial standard errors of 80%; each regime's rate is printed
(``pytest -s``) and reported in the README.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluatie import mde, twfe
from evaluatie.core.errors import DesignError
from placebo import placebo, vo_panel

pytestmark = pytest.mark.slow
DESIGNS = 60
KEYS = {"outcome": "y", "unit": "unit", "time": "year"}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return vo_panel()


def test_adding_the_mde_gives_80_percent_rejections(panel: pd.DataFrame) -> None:
    hits: dict[int, list[bool]] = {}
    for n_treated in (1, 3, 12, 40):
        rng = np.random.default_rng(80_000 + n_treated)
        hits[n_treated] = []
        while len(hits[n_treated]) < DESIGNS:
            data = placebo(panel, n_treated, rng)
            try:
                result = mde(data, **KEYS, treatment="d", draws=100, seed=len(hits[n_treated]))
            except DesignError:  # e.g. a gemeente whose programmes have no year after the start
                continue
            effect = result.overall
            assert effect is not None and np.isfinite(effect.estimate)
            shifted = data.assign(y=data["y"] + effect.estimate * data["d"])
            p = twfe(shifted, **KEYS, treatment="d").overall.p
            hits[n_treated].append(p <= 0.05)
        print(f"{n_treated} treated gemeenten: {np.mean(hits[n_treated]):.3f} rejections")
    pooled = np.mean([h for values in hits.values() for h in values])
    n = DESIGNS * len(hits)
    half = 2.58 * (0.8 * 0.2 / n) ** 0.5
    print(f"pooled over {n} designs: {pooled:.3f}")
    assert 0.8 - half <= pooled <= 0.8 + half + 0.05
