"""Dose event study and TWFE with a continuous dose, against pyfixest and linearmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from linearmodels.panel import PanelOLS

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.estimators.dose_event import dose_event_study
from evaluatie.estimators.twfe import twfe

#: The columns every call here uses.
KEYS = {"outcome": "y", "time": "jaar", "unit": "school", "inference": "analytic"}


def _panel(seed: int = 1, trend: float = 0.0) -> pd.DataFrame:
    """60 gemeenten x 5 schools x 2015-2024; effect 0.5 * dose from 2021 on."""
    rng = np.random.default_rng(seed)
    years = np.arange(2015, 2025)
    n_gem, per = 60, 5
    dose = rng.normal(1.0, 2.0, n_gem)
    gem = np.repeat(np.arange(n_gem), per * len(years))
    school = np.repeat(np.arange(n_gem * per), len(years))
    jaar = np.tile(years, n_gem * per)
    d = dose[gem]
    y = (
        rng.normal(0, 1, n_gem * per)[school]
        + 0.1 * (jaar - 2015)
        + 0.5 * d * (jaar >= 2021)
        + trend * d * (jaar - 2020)
        + rng.normal(0, 1, len(jaar))
    )
    return pd.DataFrame(
        {"gem": gem, "school": school, "jaar": jaar, "dose": d, "y": y,
         "w": rng.integers(10, 30, len(jaar)).astype(float)}
    )  # fmt: skip


def test_matches_pyfixest_interaction_event_study() -> None:
    df = _panel()
    res = dose_event_study(df, **KEYS, dose="dose", reference=2020, group="gem", cluster="gem",
                           weights="w")  # fmt: skip
    ref = pf.feols(
        "y ~ i(jaar, dose, ref=2020) | school + jaar", data=df, vcov={"CRV1": "gem"}, weights="w"
    ).tidy()
    ours = res.table.drop(2020)
    np.testing.assert_allclose(ours["estimate"], ref["Estimate"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours["se"], ref["Std. Error"], rtol=1e-6)
    assert res.table.loc[2020, "estimate"] == 0.0 and res.table.loc[2020, "reference"]
    # The effect 0.5 per unit of dose shows after 2020, not before.
    post = ours.loc[2021:]
    assert ((post["ci_low"] < 0.5) & (post["ci_high"] > 0.5)).mean() >= 0.75
    assert res.pretrend_test().p > 0.01


def test_pretrend_test_detects_a_dose_trend() -> None:
    res = dose_event_study(_panel(trend=0.1), **KEYS, dose="dose", reference=2020,
                           group="gem", cluster="gem")  # fmt: skip
    test = res.pretrend_test()
    assert test.p < 1e-6 and test.table["df"].iloc[0] == 5


def test_twfe_with_a_continuous_dose_matches_linearmodels() -> None:
    df = _panel().assign(exposure=lambda d: d["dose"] * (d["jaar"] >= 2021))
    ours = twfe(
        df,
        outcome="y",
        treatment="exposure",
        unit="school",
        time="jaar",
        cluster="gem",
        vcov="linearmodels",
    )
    panel = df.set_index(["school", "jaar"])
    ref = PanelOLS(panel["y"], panel[["exposure"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", clusters=panel["gem"]
    )
    assert ours.table.loc["exposure", "estimate"] == pytest.approx(
        ref.params["exposure"], rel=1e-10
    )
    assert ours.table.loc["exposure", "se"] == pytest.approx(ref.std_errors["exposure"], rel=1e-8)


def test_errors_name_the_problem() -> None:
    df = _panel()
    with pytest.raises(ParameterError, match="reference=2030"):
        dose_event_study(df, **KEYS, dose="dose", reference=2030)
    varying = df.assign(dose=df["dose"] + (df["jaar"] == 2016))
    with pytest.raises(DesignError, match="'dose' must be constant"):
        dose_event_study(varying, **KEYS, dose="dose", reference=2020, group="gem")
    with pytest.raises(ParameterError, match="nope"):
        dose_event_study(df, **KEYS, dose="nope", reference=2020)
    no_pre = dose_event_study(df[df["jaar"] >= 2020], **KEYS, dose="dose", reference=2020)
    with pytest.raises(DesignError, match="no period before"):
        no_pre.pretrend_test()
