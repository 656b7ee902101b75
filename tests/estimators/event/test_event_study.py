"""event_study: agreement with pyfixest's i(rel_time, ref=-1), layout, binning, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from evaluatie.core.errors import DataFormatError, DesignError, ParameterError
from evaluatie.estimators.event import event_study
from evaluatie.synth.panels import clustered_panel

#: The columns every call here uses.
KEYS = {"cohort": "cohort", "outcome": "y", "time": "year", "unit": "unit", "inference": "analytic"}

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*inplace keyword.*", "ignore:.*singleton fixed effect.*"
)

WINDOW = (-3, 2)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return clustered_panel(n_units=150, n_groups=30, effect=0.3, slope=0.1, seed=21)


@pytest.fixture(scope="module")
def pupils() -> pd.DataFrame:
    return clustered_panel(n_units=100, n_groups=20, rows_per_cell=5, seed=22)


def binned_for_pyfixest(data: pd.DataFrame, window: tuple[int, int], ref: int) -> pd.DataFrame:
    """The same binning, done independently; never-treated rows get the reference period."""
    rel = data["rel_time"].clip(*window).fillna(ref).astype(int)
    return data.assign(rel=rel)


def pyfixest_event_study(data, window, ref, cluster, weights=None):
    binned = binned_for_pyfixest(data, window, ref)
    fit = pf.feols(
        f"y ~ i(rel, ref={ref}) | unit + year", data=binned, vcov={"CRV1": cluster}, weights=weights
    )
    coef, se = fit.coef(), fit.se()
    periods = [int(name.split("::")[1]) for name in coef.index]
    return pd.Series(coef.to_numpy(), index=periods), pd.Series(se.to_numpy(), index=periods)


@pytest.mark.parametrize(
    ("data_name", "cluster", "weights", "window", "reference"),
    [
        ("panel", None, None, WINDOW, -1),
        ("panel", "group", "w", (-4, 4), -1),
        ("panel", "group", None, (-2, 3), -2),
        ("pupils", "group", None, WINDOW, -1),
        ("pupils", None, "w", WINDOW, -1),
    ],
)
def test_matches_pyfixest_event_study(
    request: pytest.FixtureRequest,
    data_name: str,
    cluster: str | None,
    weights: str | None,
    window: tuple[int, int],
    reference: int,
) -> None:
    data = request.getfixturevalue(data_name)
    ours = event_study(
        data, **KEYS, window=window, reference=reference, cluster=cluster or "unit", weights=weights
    )
    coef, se = pyfixest_event_study(data, window, reference, cluster or "unit", weights)
    est = ours.table.loc[~ours.table["reference"]]
    assert list(est.index) == sorted(coef.index)
    np.testing.assert_allclose(est["estimate"], coef[est.index], rtol=0, atol=1e-8)
    np.testing.assert_allclose(est["se"], se[est.index], rtol=1e-6)


def test_only_not_yet_treated_controls_match_pyfixest(panel: pd.DataFrame) -> None:
    treated_only = panel.loc[panel["cohort"] > 0]
    assert treated_only["cohort"].nunique() > 1
    ours = event_study(treated_only, **KEYS, window=WINDOW, cluster="unit")
    coef, se = pyfixest_event_study(treated_only, WINDOW, -1, "unit")
    est = ours.table.loc[~ours.table["reference"]]
    np.testing.assert_allclose(est["estimate"], coef[est.index], rtol=0, atol=1e-8)
    np.testing.assert_allclose(est["se"], se[est.index], rtol=1e-6)


def test_table_layout_reference_row_and_binning(panel: pd.DataFrame) -> None:
    res = event_study(panel, **KEYS, window=WINDOW, reference=-1)
    table = res.table
    assert table.index.name == "rel_time"
    assert list(table.index) == list(range(WINDOW[0], WINDOW[1] + 1))
    assert pd.api.types.is_integer_dtype(table.index)
    assert table["reference"].tolist() == [p == -1 for p in table.index]
    ref = table.loc[-1]
    assert ref["estimate"] == 0.0 and np.isnan(ref["se"]) and np.isnan(ref["p"])
    assert table.loc[table.index != -1, "se"].gt(0).all()
    # endpoints pool everything beyond the window (counted independently here)
    rel = panel["rel_time"]
    assert table.loc[WINDOW[0], "n_obs"] == int((rel <= WINDOW[0]).sum())
    assert table.loc[WINDOW[1], "n_obs"] == int((rel >= WINDOW[1]).sum())
    assert table.loc[0, "n_obs"] == int((rel == 0).sum())
    assert list(res.vcov.index) == [p for p in table.index if p != -1]
    assert res.meta["n_never_treated_units"] == panel.loc[panel["cohort"] == 0, "unit"].nunique()
    assert res.meta["window"] == WINDOW and res.meta["reference"] == -1


def test_recovers_dynamic_effects() -> None:
    data = clustered_panel(n_units=600, n_groups=120, effect=0.3, slope=0.1, seed=5)
    table = event_study(data, **KEYS, window=(-3, 1)).table
    truth = {-3: 0.0, -2: 0.0, 0: 0.3}
    for period, value in truth.items():
        row = table.loc[period]
        assert abs(row["estimate"] - value) < 3 * row["se"]


def test_never_treated_coded_nan_or_zero_agree(panel: pd.DataFrame) -> None:
    as_nan = panel.assign(cohort=panel["cohort"].replace(0, np.nan))
    a = event_study(panel, **KEYS, window=WINDOW)
    b = event_study(as_nan, **KEYS, window=WINDOW)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_empty_relative_period_is_left_out_with_warning(panel: pd.DataFrame) -> None:
    # cohort 2022 only: rel 0 and 1 exist after adoption, and rel -2 (= 2020) is a gap
    # in the calendar, which relative time does not close up
    late = panel.loc[panel["cohort"].isin([0, 2022])]
    with pytest.warns(UserWarning, match=r"relative periods \[-2, 2, 3\]"):
        res = event_study(late, **KEYS, window=(-3, 3))
    assert res.meta["empty_rel_times"] == [-2, 2, 3]
    assert list(res.table.index) == [-3, -1, 0, 1]
    with pytest.raises(DesignError, match="reference period -2 has no observations"):
        event_study(late, **KEYS, window=(-3, 3), reference=-2)


def test_unknown_method_names_the_available_ones(panel: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match=r"'did'.*callaway_santanna.*imputation.*sun_abraham"):
        event_study(panel, **KEYS, estimator="did")


def test_bad_input_gives_clear_errors(panel: pd.DataFrame) -> None:
    def run(data: pd.DataFrame = panel, **kwargs: object):
        args = {"outcome": "y", "unit": "unit", "time": "year", "cohort": "cohort"} | kwargs
        return event_study(data, **args)

    moving = panel.copy()
    moving.loc[moving["unit"] == 7, "cohort"] = [2017] * 4 + [2019] * 5
    with pytest.raises(DesignError, match="unit 7 has cohorts 2017, 2019"):
        run(moving)
    with pytest.raises(DesignError, match="no unit is ever treated"):
        run(panel.assign(cohort=0))
    with pytest.raises(DesignError, match="no comparison group"):
        run(panel.assign(cohort=2019))
    with pytest.raises(ParameterError, match="cohort='first_year' is not a column"):
        run(cohort="first_year")
    with pytest.raises(DataFormatError, match=r"column 'year'.*numeric"):
        run(panel.assign(year=panel["year"].astype(str)))
    with pytest.raises(ParameterError, match="reference=-5 must lie inside"):
        run(reference=-5)
    with pytest.raises(ParameterError, match="window"):
        run(window=(2, -2))
    with pytest.raises(ParameterError, match="estimator='did'"):
        run(estimator="did")
    with pytest.raises(ParameterError, match="vcov='cluster'"):
        run(vcov="cluster")
