"""The fit from cell statistics equals the row path (engine.ols module docstring).

Each design is fitted twice through the public estimator: as it runs (the cell path
wherever it applies) and with the cell path switched off, and the slopes, standard
errors, degrees of freedom and residuals must agree to rounding (~1e-12). Designs where
a regressor varies within a cell, or a cluster cuts a cell, must take the row path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import evaluatie.engine.ols as ols
from evaluatie.core.results import RegressionResult
from evaluatie.engine.within import FixedEffects, factorize
from evaluatie.estimators.sample import build_sample, fit_panel
from evaluatie.estimators.twfe import twfe
from evaluatie.inference.vcov import FixedEffectCount, get_convention, sandwich_vcov

pytestmark = pytest.mark.filterwarnings("ignore:.*singleton fixed effect.*")

RTOL = 1e-12


def pupil_panel(seed: int, *, n_schools: int = 240, n_gemeenten: int = 30) -> pd.DataFrame:
    """Unbalanced pupil rows: about a quarter of the school-years missing, uneven school
    sizes, a gemeente-by-year treatment, string ids as pandas categoricals."""
    rng = np.random.default_rng(seed)
    years = np.arange(2014, 2024)
    gemeente_of_school = rng.integers(0, n_gemeenten, n_schools)
    cell_school = np.repeat(np.arange(n_schools), years.size)
    cell_year = np.tile(years, n_schools)
    keep = rng.random(cell_school.size) > 0.25
    cell_school, cell_year = cell_school[keep], cell_year[keep]
    size = rng.poisson(rng.lognormal(2.5, 0.8, n_schools)[cell_school]).clip(1)
    school = np.repeat(cell_school, size)
    year = np.repeat(cell_year, size)
    gemeente = gemeente_of_school[school]
    start = rng.choice([0, 2017, 2019, 2021], n_gemeenten)[gemeente]
    d = ((start > 0) & (year >= start)).astype(float)
    level = rng.normal(0.0, 30.0, n_schools)[school]  # a large mean: cancellation shows
    y = 500.0 + level + 0.1 * (year - 2014) + 0.3 * d + rng.normal(0.0, 1.0, school.size)
    cell_cov = rng.normal(size=(n_schools, years.size))[school, year - years[0]]
    return pd.DataFrame(
        {
            "school": pd.Categorical([f"BR{s:04d}" for s in school]),
            "year": year,
            "gemeente": pd.Categorical([f"GM{g:04d}" for g in gemeente]),
            "d": d,
            "y": y,
            "w": rng.uniform(0.2, 3.0, school.size),
            "cellcov": cell_cov,  # constant within school-years
            "pupilcov": rng.normal(size=school.size),  # varies within them
            # clusters holding whole school-years but not whole schools
            "period_block": pd.Categorical(
                [f"{g}-{y >= 2019}" for g, y in zip(gemeente, year, strict=True)]
            ),
            "random_cluster": rng.integers(0, 25, school.size),  # cuts school-years
        }
    )


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pupil_panel(5)


@pytest.fixture
def cell_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the fits that took the cell path."""
    calls: list[int] = []
    inner = ols._fit_cells

    def counted(*args: Any, **kwargs: Any) -> ols.AbsorbedFit:
        calls.append(1)
        return inner(*args, **kwargs)

    monkeypatch.setattr(ols, "_fit_cells", counted)
    yield calls


def row_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ols, "_cell_columns", lambda fe, x: None)


def fit_both(
    monkeypatch: pytest.MonkeyPatch, data: pd.DataFrame, **kwargs: Any
) -> tuple[RegressionResult, RegressionResult]:
    """The fit as it runs, and the same fit with the cell path switched off."""
    call: dict[str, Any] = {"outcome": "y", "treatment": "d", "unit": "school", "time": "year"}
    call |= {"inference": "analytic", **kwargs}
    ours = twfe(data, **call)
    with monkeypatch.context() as m:
        row_path(m)
        rows = twfe(data, **call)
    return ours, rows


def assert_same(a: RegressionResult, b: RegressionResult) -> None:
    np.testing.assert_allclose(a.coef, b.coef, rtol=RTOL, atol=RTOL * np.abs(b.coef).max())
    np.testing.assert_allclose(a.se, b.se, rtol=RTOL)
    for key in ("n_obs", "df", "k_df", "n_clusters", "dropped_singletons", "dropped_missing"):
        assert a.meta[key] == b.meta[key], key
    assert a.meta["vcov_factor"] == pytest.approx(b.meta["vcov_factor"], rel=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "cell_path"),
    [
        ({"cluster": "gemeente"}, True),
        ({"cluster": "gemeente", "weights": "w"}, True),
        ({"cluster": "gemeente", "covariates": ["cellcov"]}, True),
        ({"cluster": "gemeente", "covariates": ["cellcov"], "weights": "w"}, True),
        ({"cluster": "school"}, True),
        ({"cluster": None}, True),  # the default: detected from the data
        ({"cluster": "period_block", "covariates": ["cellcov"]}, True),  # cells nested, units not
        ({"cluster": "gemeente", "vcov": "linearmodels-absorbing"}, True),
        ({"cluster": "gemeente", "vcov": "linearmodels", "weights": "w"}, True),
        ({"cluster": "random_cluster"}, False),  # clusters cut the cells
        ({"cluster": "gemeente", "covariates": ["pupilcov"]}, False),  # a regressor varies in cells
        ({"cluster": "gemeente", "vcov": "CR2"}, False),
        ({"vcov": "HC1"}, False),
        ({"vcov": "iid", "weights": "w"}, False),
    ],
    ids=str,
)
def test_cell_path_where_the_design_allows_it_equals_the_row_path(
    panel: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    cell_calls: list[int],
    kwargs: dict[str, Any],
    cell_path: bool,
) -> None:
    """Regressors constant within school-years, cells inside clusters and a CRV1-type
    variance take the cell path (the first fit; the second is forced onto the rows);
    clusters that cut cells, pupil-level regressors, CR2, HC1 and iid take the row path.
    Either way the fit equals the row path's."""
    ours, rows = fit_both(monkeypatch, panel, **kwargs)
    assert len(cell_calls) == int(cell_path)
    assert_same(ours, rows)


def test_singletons_and_missing_values(
    panel: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, cell_calls: list[int]
) -> None:
    extra = panel.iloc[:6].copy()  # one-row schools, and a school whose only other row
    extra["school"] = ["S1", "S2", "S3", "S4", "S4", "S5"]  # is in a one-row year
    extra["year"] = [2014, 2015, 2016, 2016, 2030, 2030]
    data = pd.concat([panel.astype({"school": str}), extra], ignore_index=True)
    data["school"] = data["school"].astype("category")
    data.loc[[3, 50], "y"] = np.nan
    data.loc[[7], "gemeente"] = np.nan
    ours, rows = fit_both(monkeypatch, data, cluster="gemeente", weights="w")
    assert len(cell_calls) == 1
    assert ours.meta["dropped_singletons"] == 6
    assert ours.meta["dropped_missing"] == 3
    assert_same(ours, rows)
    # the sample's rows are the input positions kept, in 4 bytes each
    sample = build_sample(
        data,
        outcome="y",
        regressors={"d": data["d"].to_numpy()},
        unit="school",
        time="year",
        cluster="gemeente",
        weights="w",
    )
    assert sample.rows is not None and sample.rows.dtype == np.int32
    dropped = [3, 50, 7, *range(len(panel), len(data))]
    np.testing.assert_array_equal(sample.rows, np.delete(np.arange(len(data)), dropped))
    np.testing.assert_array_equal(sample.y, data["y"].to_numpy()[sample.rows])
    np.testing.assert_array_equal(sample.x[:, 0], data["d"].to_numpy()[sample.rows])


def test_one_row_per_cell(monkeypatch: pytest.MonkeyPatch, cell_calls: list[int]) -> None:
    """A school-level panel: every cell is one row, the cell path is the row path."""
    data = pupil_panel(9).groupby(["school", "year"], observed=True, as_index=False).first()
    ours, rows = fit_both(monkeypatch, data, cluster="gemeente", covariates=["cellcov"])
    assert len(cell_calls) == 1
    assert_same(ours, rows)


def test_residuals_of_the_cell_path(panel: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """``AbsorbedFit.resid`` is computed on demand and equals the row path's."""
    regressors = {"d": panel["d"].to_numpy(), "cellcov": panel["cellcov"].to_numpy()}
    sample = build_sample(
        panel,
        outcome="y",
        regressors=regressors,
        unit="school",
        time="year",
        cluster="gemeente",
        weights="w",
    )
    convention = get_convention("CRV1")
    cells = fit_panel(sample, convention, "numpy")
    with monkeypatch.context() as m:
        row_path(m)
        rows = fit_panel(sample, convention, "numpy")
    scale = np.abs(rows.resid).max()
    np.testing.assert_allclose(cells.resid, rows.resid, rtol=0, atol=1e-12 * scale)
    # the residuals are orthogonal to the within-transformed regressors
    fe = FixedEffects(
        [sample.unit, sample.time], [sample.n_units, sample.n_periods], sample.weights
    )
    x_tilde = fe.demean(sample.x).values
    assert np.abs(x_tilde.T @ (sample.weights * cells.resid)).max() < 1e-8 * scale


def test_cell_values() -> None:
    cell_of = np.array([0, 0, 1, 2, 2, 2, 1])
    fe = FixedEffects([cell_of, np.zeros(7, dtype=np.intp)], [3, 1])
    values = fe.cell_values(np.array([5.0, 5.0, -1.0, 2.0, 2.0, 2.0, -1.0]))
    assert values is not None
    np.testing.assert_array_equal(values[fe.cell_codes[0]], [5.0, -1.0, 2.0])
    assert fe.cell_values(np.array([5.0, 5.0, -1.0, 2.0, 2.0, 2.5, -1.0])) is None
    codes = fe.cell_values(np.array([3, 3, 0, 1, 1, 1, 0]))
    assert codes is not None and codes.dtype.kind == "i"


def test_cell_values_checks_every_chunk() -> None:
    """A row that differs far beyond the first chunk is found."""
    n = 200_000
    unit = np.arange(n) // 10
    fe = FixedEffects([unit, np.zeros(n, dtype=np.intp)], [n // 10, 1])
    column = (unit % 7).astype(float)
    assert fe.cell_values(column) is not None
    column[n - 3] += 1e-9
    assert fe.cell_values(column) is None


def test_cell_scores_refused_for_row_meats() -> None:
    x = np.ones((3, 1))
    fe_count = FixedEffectCount((2,), (False,))
    for name in ("HC1", "iid"):
        with pytest.raises(ValueError, match="one row per observation"):
            sandwich_vcov(x, np.ones(3), np.eye(1), get_convention(name), fe_count, n_obs=30)


def test_factorize_integer_dtypes() -> None:
    """Offsets are taken in intp: no wrap-around in narrow integer types."""
    for values in (
        np.array([-30000, 30000, -30000], dtype=np.int16),
        np.array([2**63, 2**63 + 5, 2**63], dtype=np.uint64),
        np.array([True, False, True]),
    ):
        codes, n = factorize(values)
        assert n == 2 and codes.dtype == np.intp
        assert codes[0] == codes[2] != codes[1]
