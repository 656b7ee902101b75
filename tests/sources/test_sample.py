"""Analysis samples: year/gemeente selection with clear errors, balanced subsets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import ParameterError
from evaluatie.sources import balanced, select


@pytest.fixture
def panel() -> pd.DataFrame:
    rows = [
        (u, t, g, float(u + t))
        for u, g in [(1, "GM0546"), (2, "GM0546"), (3, "GM0034")]
        for t in (2018, 2019, 2021)
    ]
    frame = pd.DataFrame(rows, columns=["vestiging", "jaar", "gemeente_code", "y"])
    frame.loc[(frame.vestiging == 2) & (frame.jaar == 2019), "y"] = np.nan
    return frame


def test_select_years_and_gemeenten(panel: pd.DataFrame) -> None:
    out = select(panel, years=(2019, 2021), gemeenten=["GM0034"])
    assert out["vestiging"].unique().tolist() == [3]
    assert out["jaar"].tolist() == [2019, 2021]


def test_select_refuses_years_outside_the_data(panel: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match=r"2001-2005 lie outside the data .*2018-2021"):
        select(panel, years=(2001, 2005))


def test_select_refuses_unknown_gemeente(panel: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="GM0453"):
        select(panel, gemeenten=["GM0453", "GM0546"])


def test_balanced_drops_units_with_a_missing_outcome(panel: pd.DataFrame) -> None:
    out = balanced(panel, ["y"])
    assert sorted(out["vestiging"].unique()) == [1, 3]
    assert out.attrs["balanced"] == {"kept": 2, "dropped": 1}
    assert len(out) == 6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"years": 2015}, r"years must be \(first, last\)"),
        ({"years": (2021, 2018)}, "first <= last"),
        ({"years": (2018, 2019), "time": "schooljaar"}, "time='schooljaar' is not a column"),
        ({"gemeenten": ["GM0546"], "gemeente": "gm"}, "gemeente='gm' is not a column"),
    ],
)
def test_select_bad_arguments_name_the_problem(
    panel: pd.DataFrame, kwargs: dict, message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        select(panel, **kwargs)


def test_select_accepts_a_single_gemeente_code(panel: pd.DataFrame) -> None:
    assert select(panel, gemeenten="GM0034")["vestiging"].unique().tolist() == [3]
