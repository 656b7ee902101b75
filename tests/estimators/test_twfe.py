"""twfe: recovery of a known effect, agreement with pyfixest and linearmodels, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from linearmodels import AbsorbingLS, PanelOLS

from evaluatie.core.errors import DataFormatError, DesignError, ParameterError
from evaluatie.estimators.twfe import twfe
from evaluatie.synth.panels import clustered_panel

#: The columns every call here uses.
KEYS = {"outcome": "y", "time": "year", "treatment": "d", "unit": "unit", "inference": "analytic"}

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*inplace keyword.*", "ignore:.*singleton fixed effect.*"
)

COEF_ATOL = 1e-8
SE_RTOL = 1e-6


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data = clustered_panel(n_units=150, n_groups=30, seed=11)
    # clusters that cut across units: neither fixed effect is nested in them
    return data.assign(mixed=(3 * data["unit"] + data["year"]) % 17)


@pytest.fixture(scope="module")
def pupils() -> pd.DataFrame:
    """Several rows per unit-year (pupils in a school-year)."""
    return clustered_panel(n_units=120, n_groups=25, rows_per_cell=6, seed=12)


def feols(fml: str, data: pd.DataFrame, **kwargs: object) -> pf.estimation.Feols:
    return pf.feols(fml, data=data, **kwargs)


def assert_matches_pyfixest(ours, theirs, terms: list[str]) -> None:
    np.testing.assert_allclose(ours.coef[terms], theirs.coef()[terms], rtol=0, atol=COEF_ATOL)
    np.testing.assert_allclose(ours.se[terms], theirs.se()[terms], rtol=SE_RTOL)
    # same t distribution (df) -> same p-values and intervals
    np.testing.assert_allclose(
        ours.table.loc[terms, "p"], theirs.pvalue()[terms], rtol=1e-5, atol=1e-10
    )
    ci = theirs.confint().loc[terms]
    np.testing.assert_allclose(ours.table.loc[terms, "ci_low"], ci.iloc[:, 0], rtol=1e-6)
    assert ours.meta["n_obs"] == theirs._N


def test_recovers_constant_effect() -> None:
    data = clustered_panel(n_units=400, n_groups=80, cohorts=(0, 2018), effect=0.5, seed=3)
    res = twfe(data, **KEYS, covariates=["x"])
    est, se = res.coef["d"], res.se["d"]
    assert 0 < se < 0.1
    assert abs(est - 0.5) < 3 * se
    assert abs(res.coef["x"] - 0.4) < 3 * res.se["x"]


@pytest.mark.parametrize(
    ("data_name", "cluster", "covariates", "weights"),
    [
        ("panel", None, [], None),  # cluster = unit (nested in the clusters)
        ("panel", "group", [], None),  # coarser clusters
        ("panel", "mixed", ["x"], None),  # clusters not nesting the fixed effects
        ("panel", "group", ["x"], "w"),
        ("pupils", None, [], None),
        ("pupils", "group", ["x"], None),
        ("pupils", "group", [], "w"),
    ],
)
def test_crv1_matches_pyfixest(
    request: pytest.FixtureRequest,
    data_name: str,
    cluster: str | None,
    covariates: list[str],
    weights: str | None,
) -> None:
    data = request.getfixturevalue(data_name)
    ours = twfe(data, **KEYS, covariates=covariates, cluster=cluster or "unit", weights=weights)
    rhs = " + ".join(["d", *covariates])
    theirs = feols(
        f"y ~ {rhs} | unit + year", data, vcov={"CRV1": cluster or "unit"}, weights=weights
    )
    assert_matches_pyfixest(ours, theirs, ["d", *covariates])
    assert ours.meta["df"] == ours.meta["n_clusters"] - 1


@pytest.mark.parametrize(("ours_name", "theirs_name"), [("HC1", "hetero"), ("iid", "iid")])
def test_hc1_and_iid_match_pyfixest(pupils: pd.DataFrame, ours_name: str, theirs_name: str) -> None:
    ours = twfe(pupils, **KEYS, covariates=["x"], weights="w", vcov=ours_name)
    theirs = feols("y ~ d + x | unit + year", pupils, vcov=theirs_name, weights="w")
    assert_matches_pyfixest(ours, theirs, ["d", "x"])
    assert ours.meta["n_clusters"] is None and ours.meta["cluster"] is None


def test_singletons_dropped_like_pyfixest(panel: pd.DataFrame) -> None:
    extra = pd.DataFrame(
        {"unit": [10_001, 10_002], "year": [2014, 2015], "group": [0, 1], "d": [1.0, 0.0]}
    ).assign(y=[3.0, -1.0], x=0.0, w=1.0)
    data = pd.concat([panel, extra], ignore_index=True)
    ours = twfe(data, **KEYS, cluster="group")
    theirs = feols("y ~ d | unit + year", data, vcov={"CRV1": "group"})
    assert ours.meta["dropped_singletons"] == 2
    assert_matches_pyfixest(ours, theirs, ["d"])
    kept = twfe(data, **KEYS, cluster="group", drop_singletons=False)
    assert kept.meta["n_obs"] == ours.meta["n_obs"] + 2
    # singletons are fitted exactly by their own effect: the slope does not move
    assert kept.coef["d"] == pytest.approx(ours.coef["d"], abs=1e-10)


def test_missing_rows_dropped_and_counted(panel: pd.DataFrame) -> None:
    data = panel.copy()
    data.loc[[3, 40], "y"] = np.nan
    data.loc[[40, 77], "x"] = np.nan
    data.loc[[90], "group"] = np.nan
    res = twfe(data, **KEYS, covariates=["x"], cluster="group")
    assert res.meta["dropped_missing"] == 4
    assert res.meta["missing_by_column"] == {"y": 2, "x": 2, "group": 1}
    complete = twfe(
        data.dropna(subset=["y", "x", "group"]), **KEYS, covariates=["x"], cluster="group"
    )
    pd.testing.assert_frame_equal(res.table, complete.table)


def test_identifier_and_treatment_types_do_not_matter(panel: pd.DataFrame) -> None:
    base = twfe(panel, **KEYS, cluster="group")
    recoded = panel.assign(
        unit="school-" + panel["unit"].astype(str),
        group=pd.Categorical(panel["group"]),
        d=panel["d"].astype(bool),
    )
    pd.testing.assert_frame_equal(twfe(recoded, **KEYS, cluster="group").table, base.table)
    nullable = panel.assign(unit=panel["unit"].astype("Int64"))
    nullable.loc[5, "unit"] = pd.NA
    res = twfe(nullable, **KEYS, cluster="group")
    assert res.meta["missing_by_column"] == {"unit": 1}
    assert res.meta["n_obs"] == len(panel) - 1


def test_linearmodels_convention_matches_panelols(panel: pd.DataFrame) -> None:
    ours = twfe(panel, **KEYS, covariates=["x"], cluster="group", weights="w", vcov="linearmodels")
    indexed = panel.set_index(["unit", "year"])
    theirs = PanelOLS(
        indexed["y"],
        indexed[["d", "x"]],
        entity_effects=True,
        time_effects=True,
        weights=indexed["w"],
    ).fit(cov_type="clustered", clusters=indexed["group"])
    np.testing.assert_allclose(ours.coef, theirs.params, rtol=0, atol=COEF_ATOL)
    np.testing.assert_allclose(ours.se, theirs.std_errors, rtol=SE_RTOL)
    np.testing.assert_allclose(ours.table["p"], theirs.pvalues, rtol=1e-5, atol=1e-10)
    assert ours.meta["df"] == theirs.df_resid


def test_linearmodels_absorbing_convention_matches_absorbingls(pupils: pd.DataFrame) -> None:
    ours = twfe(
        pupils,
        **KEYS,
        covariates=["x"],
        cluster="group",
        weights="w",
        vcov="linearmodels-absorbing",
    )
    absorb = pupils[["unit", "year"]].astype("category")
    theirs = AbsorbingLS(pupils["y"], pupils[["d", "x"]], absorb=absorb, weights=pupils["w"]).fit(
        cov_type="clustered",
        clusters=pupils["group"].to_numpy(),
        debiased=True,
        absorb_options={"atol": 1e-12, "btol": 1e-12},
    )
    np.testing.assert_allclose(ours.coef, theirs.params, rtol=0, atol=COEF_ATOL)
    np.testing.assert_allclose(ours.se, theirs.std_errors, rtol=SE_RTOL)
    np.testing.assert_allclose(ours.table["p"], theirs.pvalues, rtol=1e-5, atol=1e-10)
    assert ours.meta["df"] == theirs.df_resid


def test_linearmodels_backend_agrees_with_numpy(pupils: pd.DataFrame) -> None:
    fast = twfe(pupils, **KEYS, covariates=["x"], cluster="group", weights="w")
    slow = twfe(
        pupils, **KEYS, covariates=["x"], cluster="group", weights="w", backend="linearmodels"
    )
    assert slow.meta["backend"] == "linearmodels"
    np.testing.assert_allclose(slow.coef, fast.coef, atol=1e-8)
    np.testing.assert_allclose(slow.se, fast.se, rtol=1e-6)


def test_result_layout_and_meta(pupils: pd.DataFrame) -> None:
    res = twfe(pupils, **KEYS, covariates=["x"], cluster="group")
    assert list(res.table.index) == ["d", "x"] and res.table.index.name == "term"
    assert list(res.table.columns) == ["estimate", "se", "t", "p", "ci_low", "ci_high"]
    assert list(res.vcov.index) == ["d", "x"]
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov)), res.se)
    meta = res.meta
    assert meta["n_obs"] == len(pupils)
    assert meta["n_units"] == pupils["unit"].nunique()
    assert meta["n_periods"] == pupils["year"].nunique()
    assert meta["n_clusters"] == pupils["group"].nunique()
    assert meta["vcov_type"] == "CRV1" and meta["inference"].se.startswith("CRV1")
    assert meta["cluster"] == "group"
    assert meta["formula"] == "y ~ d + x | unit + year"
    args = meta["call"]["arguments"]
    assert meta["call"]["function"] == "twfe"
    assert args["covariates"] == ["x"] and args["cluster"] == "group"
    assert "d" in res.summary()


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"outcome": "score"}, ParameterError, "outcome='score' is not a column"),
        ({"covariates": ["x", "nope"]}, ParameterError, "covariates='nope'"),
        ({"cluster": "gemeente"}, ParameterError, "cluster='gemeente'"),
        ({"vcov": "robust"}, ParameterError, "vcov='robust'.*CRV1"),
        ({"vcov": "HC1", "cluster": "group"}, ParameterError, "not clustered"),
        ({"backend": "gpu"}, ParameterError, "backend='gpu'"),
        ({"alpha": 1.5}, ParameterError, "alpha"),
        ({"outcome": "label"}, DataFormatError, "column 'label'.*outcome must be numeric"),
        ({"weights": "neg_w"}, DataFormatError, "column 'neg_w'.*strictly positive"),
        ({"treatment": "const"}, DesignError, "'const' is constant"),
        ({"treatment": "unit_level"}, DesignError, "unit_level.*no variation left"),
        ({"covariates": ["x", "x2"]}, DesignError, "collinear"),
    ],
)
def test_bad_input_gives_clear_errors(
    panel: pd.DataFrame, kwargs: dict, error: type[Exception], pattern: str
) -> None:
    data = panel.assign(
        label="a",
        neg_w=lambda df: df["w"] - 1.0,
        const=1.0,
        unit_level=lambda df: (df["unit"] % 2).astype(float),
        x2=lambda df: 2.0 * df["x"],
    )
    args = {"outcome": "y", "treatment": "d", "unit": "unit", "time": "year"} | kwargs
    with pytest.raises(error, match=pattern):
        twfe(data, **args)


def test_data_must_be_a_frame() -> None:
    with pytest.raises(ParameterError, match="DataFrame"):
        twfe({"y": [1.0]}, **KEYS)  # type: ignore[arg-type]


def test_treated_clusters_count_only_units_whose_treatment_changes() -> None:
    """3 gemeenten adopt during the panel, 2 are treated throughout (absorbed by the unit
    effects), 5 never: 3 clusters identify the effect, and the meta says so."""
    rng = np.random.default_rng(5)
    rows = []
    for g in range(10):
        for school in range(4):
            for year in range(2015, 2023):
                treated = (g < 3 and year >= 2018 + g) or g in (3, 4)
                rows.append((g, 10 * g + school, year, float(treated), rng.normal()))
    data = pd.DataFrame(rows, columns=["gemeente", "school", "year", "d", "y"])
    fit = twfe(
        data, outcome="y", treatment="d", unit="school", time="year", cluster="gemeente",
        inference="analytic",
    )  # fmt: skip
    assert fit.meta["n_treated_clusters"] == 3
