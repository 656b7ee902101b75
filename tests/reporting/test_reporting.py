"""Generated report text follows the numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import ParameterError
from evaluatie.core.results import Overall, RegressionResult, Result, inference_table
from evaluatie.reporting import (
    describe_effect,
    disagreement_sentence,
    event_study_table,
    pretrend_sentence,
    warnings_as_notes,
)

pytestmark = pytest.mark.usefixtures("english")


def result(est: float, se: float) -> RegressionResult:
    table = inference_table(np.array([est]), np.array([se]), pd.Index(["treated"], name="term"))
    return RegressionResult(table=table, method="twfe", meta={"n_units": 120, "alpha": 0.05})


def test_describe_effect_states_whether_zero_is_ruled_out() -> None:
    assert "Zero lies outside the interval" in describe_effect(result(1.0, 0.1))
    text = describe_effect(result(0.1, 0.2))
    assert "includes zero" in text and "120 schools" in text
    lo, hi = 0.1 - 1.959964 * 0.2, 0.1 + 1.959964 * 0.2
    assert f"{max(abs(lo), abs(hi)):.2f}" in text


def test_disagreement_is_flagged_only_beyond_the_uncertainty() -> None:
    twfe = ("TWFE", Overall(1.0, 0.1, 0.0, 0.8, 1.2))
    close = {"CS": Overall(0.9, 0.1, 0.0, 0.7, 1.1)}
    far = {"CS": Overall(0.2, 0.1, 0.05, 0.0, 0.4)}
    assert "agrees" in disagreement_sentence(twfe, close)
    flagged = disagreement_sentence(twfe, far)
    assert flagged.startswith("**Warning:**") and "z = 5.7" in flagged


def wald(statistic: float, df: int, p: float, **meta: object) -> Result:
    table = pd.DataFrame({"statistic": [statistic], "df": [df], "p": [p]})
    return Result(table=table, method="wald", meta=meta)


def test_pretrend_caveat_with_few_treated_clusters() -> None:
    few = wald(40.0, 18, 0.001, clustered=True, n_treated_clusters=12)
    assert "Caution" in pretrend_sentence(few) and "only 12 clusters" in pretrend_sentence(few)
    many = wald(40.0, 18, 0.001, clustered=True, n_treated_clusters=100)
    assert "Caution" not in pretrend_sentence(many)
    assert "does not reject" in pretrend_sentence(wald(10.0, 18, 0.9, clustered=False))


def test_pretrend_sentence_of_a_randomization_test_names_it_without_caveat() -> None:
    from evaluatie import Inference

    info = Inference(procedure="randomization", se="t statistic", draws=5000)
    test = wald(21.4, 6, 0.59, clustered=True, n_treated_clusters=12, inference=info)
    text = pretrend_sentence(test)
    assert "randomization test" in text and "5000 assignments" in text
    assert "does not reject" in text and "Caution" not in text
    blank = Inference(procedure="unavailable", se="", note="Too few treated gemeenten.")
    none = pretrend_sentence(wald(21.4, 6, float("nan"), inference=blank))
    assert none.startswith("No honest pre-trend test") and "Too few" in none


def test_pretrend_test_counts_treated_clusters() -> None:
    from evaluatie.estimators.did import att_gt

    rng = np.random.default_rng(3)
    units = np.repeat(np.arange(40), 4)
    years = np.tile([2018, 2019, 2021, 2022], 40)
    cohort = np.where(units < 10, 2021, 0)
    group = units // 5  # treated units 0-9 lie in clusters 0 and 1
    data = pd.DataFrame(
        {"u": units, "t": years, "g": cohort, "c": group, "y": rng.normal(size=units.size)}
    )
    test = att_gt(data, outcome="y", unit="u", time="t", cohort="g", cluster="c").pretrend_test()
    assert test.meta["n_treated_clusters"] == 2 and test.meta["n_clusters"] == 8
    by_unit = att_gt(data, outcome="y", unit="u", time="t", cohort="g", cluster="u")
    assert by_unit.pretrend_test().meta["n_treated_clusters"] == 10
    # without cluster=, the cohorts were assigned by "c": found, and clustered on
    default = att_gt(data, outcome="y", unit="u", time="t", cohort="g")
    assert default.pretrend_test().meta["n_treated_clusters"] == 2
    assert "'c'" in default.meta["cluster_choice"]


def test_event_study_table_one_column_per_method() -> None:
    idx = pd.Index([-2, -1, 0], name="rel_time")
    table = inference_table(np.array([0.1, 0.0, 1.0]), np.array([0.1, np.nan, 0.2]), idx)
    res = RegressionResult(table=table, method="twfe")
    out = event_study_table({"A": res, "B": res})
    assert list(out.columns) == ["A", "B"]
    assert out.loc[-1, "A"] == "0.00" and out.loc[0, "A"].startswith("1.00 [0.61; 1.39]")


def test_warnings_become_notes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    with warnings.catch_warnings():
        warnings_as_notes()
        for _ in range(2):
            warnings.warn("Dropped 3 rows", UserWarning, stacklevel=1)
    assert shown == ["> **Note:** Dropped 3 rows"]


def _policy_panel(n_clusters: int, treated: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_clusters), 6)
    year = np.tile(np.arange(2015, 2021), n_clusters)
    y = rng.normal(size=g.size) + rng.normal(size=n_clusters)[g]
    d = ((g < treated) & (year >= 2018)).astype(float)
    return pd.DataFrame({"g": g, "unit": g, "year": year, "y": y + 0.5 * d, "d": d})


def test_mde_sentence_and_table_follow_the_result() -> None:
    from evaluatie import mde
    from evaluatie.reporting import mde_sentence, mde_table

    data = _policy_panel(40, 6, seed=1)
    result = mde(
        data, outcome="y", unit="unit", time="year", treatment="d", draws=40, n_treated=[12]
    )
    text = mde_sentence(result, outcome_label="the score")
    row = result.table.loc[6]
    assert "With 6 treated units (by unit)" in text and f"{row['estimate']:.2f} points" in text
    assert f"12: {result.table.loc[12, 'estimate']:.2f} points" in text
    table = mde_table(result)
    assert list(table.index) == [6, 12] and table.loc[6, "MDE"] == row["estimate"]
    # one treated unit among 5: too few re-assignments for any p-value below 5%
    tiny = mde(_policy_panel(6, 1, seed=2), outcome="y", unit="unit", time="year", treatment="d")
    assert "no effect on the score, however large" in mde_sentence(tiny, outcome_label="the score")
    with pytest.raises(ParameterError, match=r"needs a result of evaluatie\.mde"):
        mde_sentence(Result(pd.DataFrame(), "twfe"))


def test_inference_alternatives_rerun_the_headline() -> None:
    from evaluatie import twfe
    from evaluatie.reporting import inference_alternatives

    data = _policy_panel(30, 4, seed=3)
    fit = twfe(data, outcome="y", unit="unit", time="year", treatment="d")
    table = inference_alternatives(fit, data)
    methods = {"analytic": "analytic", "wild": "wild cluster bootstrap"}
    methods["randomization"] = "randomization"
    assert list(table.index) == list(methods.values())  # named for a reader
    for method, shown in methods.items():
        direct = twfe(data, outcome="y", unit="unit", time="year", treatment="d", inference=method)
        for column in ("p", "ci_low", "ci_high"):  # the fit's own "auto" included
            assert table.loc[shown, column] == getattr(direct.overall, column), (method, column)
        assert table.loc[shown, "estimate"] == pytest.approx(fit.overall.estimate)
    assert table.loc["wild cluster bootstrap", "how"].startswith("wild cluster bootstrap")
    # a convention without clusters has no bootstrap: the reason instead of numbers
    hc1 = twfe(data, outcome="y", unit="unit", time="year", treatment="d", vcov="HC1")
    refused = inference_alternatives(hc1, data)
    assert refused.loc["wild cluster bootstrap", "how"].startswith("not available: ")
    assert np.isnan(refused.loc["wild cluster bootstrap", "p"])


def test_inference_alternatives_are_fitted_once_for_equal_inputs(monkeypatch) -> None:
    # The VVE reports of five gemeenten show the same national fit's alternatives: the
    # second report (equal call, equal data) fits nothing again; other data do. The
    # fit's "auto" is its randomization inference: that row is the fit itself, unless
    # the other rows' estimates show other data (then it is fitted on those too).
    import evaluatie
    from evaluatie.reporting import inference_alternatives

    data = _policy_panel(30, 4, seed=5)
    fit = evaluatie.twfe(data, outcome="y", unit="unit", time="year", treatment="d")
    calls = []
    real = evaluatie.twfe

    def counted(*args, **kwargs):
        calls.append(kwargs.get("inference"))
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluatie, "twfe", counted)
    first = inference_alternatives(fit, data)
    assert sorted(calls) == ["analytic", "wild"]
    again = inference_alternatives(fit, data.copy())
    assert len(calls) == 2
    pd.testing.assert_frame_equal(again, first)
    changed = data.assign(y=data["y"] + np.random.default_rng(6).normal(size=len(data)))
    other = inference_alternatives(fit, changed)
    assert sorted(calls[2:]) == ["analytic", "randomization", "wild"]
    direct = evaluatie.twfe(changed, outcome="y", unit="unit", time="year", treatment="d")
    assert other.loc["randomization", "p"] == direct.overall.p
    assert other.loc["randomization", "estimate"] == direct.overall.estimate
    # a row the table does not have: said before anything is fitted
    fitted = len(calls)
    with pytest.raises(ParameterError, match="term='nope' is not a row"):
        inference_alternatives(fit, changed.assign(y=changed["y"] * 2), term="nope")
    assert len(calls) == fitted


def test_thin_cells_are_named_and_the_reference_year_is_not() -> None:
    from evaluatie.reporting import thin_cells_sentence

    table = pd.DataFrame(
        {"estimate": [0.1, 0.0, 0.3, 0.2], "n_obs": [3, 1, 40, 2],
         "reference": [False, True, False, False]},
        index=pd.Index([-2, -1, 0, 1], name="rel_time"),
    )  # fmt: skip
    text = thin_cells_sentence(Result(table=table, method="event study"))
    assert "the estimates for years \u22122, 1 rest on fewer than 5 observations" in text
    one = thin_cells_sentence(Result(table=table.iloc[1:], method="event study"))
    assert "the estimate for year 1 rests on fewer than 5" in one
    assert thin_cells_sentence(Result(table=table.iloc[2:3], method="es")) == ""
    assert thin_cells_sentence(Result(table=table.drop(columns="n_obs"), method="es")) == ""
