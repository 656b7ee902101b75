"""twfe_difference: the difference of a TWFE effect between two groups recovered on a
panel where the groups trend apart, equal to the difference of separate TWFEs and to
pyfixest's fully interacted regression, and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evaluatie as ev
from evaluatie.core.errors import DesignError


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """200 units in 40 clusters over 8 years; half the units in group G, which trends
    0.3 a year faster; a staggered treatment with effect 1.0 outside G and 2.0 in G."""
    rng = np.random.default_rng(4)
    units, years = 200, np.arange(2015, 2023)
    unit = np.repeat(np.arange(units), len(years))
    year = np.tile(years, units)
    cluster = unit % 40
    g = unit % 2 == 0
    start = np.where(cluster < 15, 2019, np.where(cluster < 25, 2021, 9999))
    treated = (year >= start).astype(float)  # start is per row: its unit's cluster
    effect = np.where(g, 2.0, 1.0) * treated
    y = (
        rng.normal(0, 1, units)[unit] + 0.1 * (year - 2015) + 0.3 * (year - 2015) * g
        + effect + rng.normal(0, 0.5, len(unit))
    )  # fmt: skip
    return pd.DataFrame(
        {"unit": unit, "year": year, "cluster": cluster, "g": g, "treated": treated, "y": y}
    )


KEYS = {"outcome": "y", "treatment": "treated", "unit": "unit", "time": "year"}


def test_recovers_the_difference_where_the_groups_trend_apart(panel) -> None:
    result = ev.twfe_difference(panel, group="g", cluster="cluster", inference="analytic", **KEYS)
    o = result.headline()
    assert abs(o.estimate - 1.0) < 3 * o.se and o.se < 0.2
    # one common year effect: the group's own trend loads onto the interaction
    common = ev.twfe(
        panel.assign(tg=panel["treated"] * panel["g"]), outcome="y", treatment="tg",
        covariates=["treated"], unit="unit", time="year", cluster="cluster",
        inference="analytic",
    ).headline()  # fmt: skip
    assert abs(common.estimate - 1.0) > 5 * common.se
    # without covariates: the difference of the two groups' own TWFE slopes
    each = {
        flag: ev.twfe(rows, cluster="cluster", inference="analytic", **KEYS).headline().estimate
        for flag, rows in panel.groupby("g")
    }
    assert o.estimate == pytest.approx(each[True] - each[False], abs=1e-9)


def test_matches_pyfixest(panel) -> None:
    pf = pytest.importorskip("pyfixest")
    data = panel.assign(gi=panel["g"].astype(int), tg=panel["treated"] * panel["g"])
    fit = pf.feols(
        "y ~ treated + tg + i(year, gi) | unit + year", data=data, vcov={"CRV1": "cluster"}
    )
    ours = ev.twfe_difference(panel, group="g", cluster="cluster", inference="analytic", **KEYS)
    o = ours.headline()
    assert o.estimate == pytest.approx(float(fit.coef()["tg"]), abs=1e-9)
    assert o.se == pytest.approx(float(fit.se()["tg"]), rel=1e-6)
    assert ours.meta["call"]["function"] == "twfe_difference"


def test_group_must_be_fixed_per_unit_and_boolean(panel) -> None:
    with pytest.raises(DesignError, match="fixed per unit"):
        ev.twfe_difference(panel.assign(g=panel["year"] > 2018), group="g", **KEYS)
    with pytest.raises(DesignError, match="true/false"):
        ev.twfe_difference(panel.assign(g=panel["unit"] % 3), group="g", **KEYS)
