"""The VVE exposure mapping against cases worked out by hand (see the module docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import ParameterError
from evaluatie.sources.exposure import exposure, exposure_timing, exposure_weights, share_after


def test_weights_groep2_2025_by_hand() -> None:
    # Born Oct 2018 .. Sep 2019. Born October 2018: VVE April 2021 .. September 2022
    # (9 + 9 months); born September 2019: March 2022 .. August 2023 (10 + 8 months).
    # Over the twelve birth months: 2021 gets 9+8+...+1+0+0 = 45 of 12*18 = 216 months,
    # 2023 gets 1+2+...+8 = 36 and 2022 the other 135.
    w = exposure_weights("kleuterverlenging", 2025)
    assert list(w.index) == [2021, 2022, 2023]
    np.testing.assert_allclose(w.to_numpy(), [45 / 216, 135 / 216, 36 / 216])


def test_weights_shift_with_groep_and_year() -> None:
    # Groep 8 in 2024 was born Oct 2011 .. Sep 2012, five years before groep 3 in 2024.
    g8 = exposure_weights("eindtoets", 2024)
    g3 = exposure_weights("groep3", 2019)
    assert list(g8.index) == [2014, 2015, 2016]
    pd.testing.assert_series_equal(g8, g3.set_axis(g8.index))


def test_timing_of_the_2019_redistribution() -> None:
    k = exposure_timing("kleuterverlenging")
    # groep 2 in 2021: only the 36/216 of the window in 2019 is post-2019.
    assert (k.first_any, k.first_majority, k.first_all) == (2021, 2022, 2023)
    assert share_after("kleuterverlenging", 2021, 2019) == pytest.approx(36 / 216)
    e = exposure_timing("eindtoets")
    # The groep-8 eindtoets cannot reflect the change before 2027, mostly from 2028.
    assert (e.first_any, e.first_majority, e.first_all) == (2027, 2028, 2029)
    assert e.status(2024) == "none"
    assert exposure_timing("groep3").status(2024) == "full"
    assert k.status(2022) == "majority"


def _budget() -> pd.DataFrame:
    years = np.arange(2012, 2025)
    rows = []
    for code, kids, old, new in (("GM0546", 200, 3.0e6, 2.4e6), ("GM0034", 1000, 4.0e6, 12.0e6)):
        s = np.clip((years - 2018) / 4.0, 0.0, 1.0)
        rows.append(
            pd.DataFrame(
                {
                    "gemeente_code": code,
                    "jaar": years,
                    "budget_eur": old + s * (new - old),
                    "doelgroepkinderen": kids,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_exposure_hand_case() -> None:
    out = exposure(_budget(), "kleuterverlenging", [2020, 2022]).set_index(
        ["gemeente_code", "jaar"]
    )
    # 2020: window 2016-2018, all at the old level EUR 15,000 per child in Leiden.
    assert out.loc[("GM0546", 2020), "funding_per_child"] == pytest.approx(15000.0)
    # 2022: window 2018 (45/216), 2019 (135/216, s=0.25), 2020 (36/216, s=0.5) in Almere:
    # per child 4,000 + s * 8,000.
    expected = (45 * 4000 + 135 * 6000 + 36 * 8000) / 216
    assert out.loc[("GM0034", 2022), "funding_per_child"] == pytest.approx(expected)
    assert (out["coverage"] == 1.0).all()


def test_exposure_default_years_need_the_whole_window() -> None:
    out = exposure(_budget(), "groep3")
    # groep 3 measured in t needs t-5 .. t-3: 2012 .. 2024 covers 2017 .. 2027.
    assert out["jaar"].min() == 2017 and out["jaar"].max() == 2027
    partial = exposure(_budget(), "groep3", [2016])
    assert partial["funding_per_child"].isna().all()
    assert partial["coverage"].iloc[0] == pytest.approx(1 - 45 / 216)


def test_exposure_errors_name_the_problem() -> None:
    with pytest.raises(ParameterError, match="vsv"):
        exposure_weights("vsv", 2020)
    with pytest.raises(ParameterError, match="doelgroepkinderen"):
        exposure(_budget().drop(columns="doelgroepkinderen"), "groep3")
    zero = _budget().assign(doelgroepkinderen=0)
    with pytest.raises(ParameterError, match="positive"):
        exposure(zero, "groep3")
    dup = pd.concat([_budget(), _budget().iloc[:1]])
    with pytest.raises(ParameterError, match="more than one row for GM0546 in 2012"):
        exposure(dup, "groep3")
    with pytest.raises(ParameterError, match="covers no complete"):
        exposure(_budget()[_budget()["jaar"] == 2012], "groep3")
