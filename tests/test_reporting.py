"""Generated report text follows the numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluatie.reporting import (
    Summary,
    describe_effect,
    disagreement_sentence,
    event_study_table,
    pretrend_sentence,
    warnings_as_notes,
)
from evaluatie.results import RegressionResult, inference_table


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
    twfe = ("TWFE", Summary(1.0, 0.1, 0.8, 1.2))
    close = {"CS": Summary(0.9, 0.1, 0.7, 1.1)}
    far = {"CS": Summary(0.2, 0.1, 0.0, 0.4)}
    assert "agrees" in disagreement_sentence(twfe, close)
    flagged = disagreement_sentence(twfe, far)
    assert flagged.startswith("**Warning:**") and "z = 5.7" in flagged


def test_pretrend_caveat_with_few_treated_clusters() -> None:
    assert "Caution" in pretrend_sentence(40.0, 18, 0.001, n_treated_clusters=12)
    assert "Caution" not in pretrend_sentence(40.0, 18, 0.001, n_treated_clusters=100)
    assert "does not reject" in pretrend_sentence(10.0, 18, 0.9, n_treated_clusters=None)


def test_event_study_table_one_column_per_method() -> None:
    idx = pd.Index([-2, -1, 0], name="rel_time")
    table = inference_table(np.array([0.1, 0.0, 1.0]), np.array([0.1, np.nan, 0.2]), idx)
    res = RegressionResult(table=table, method="twfe")
    out = event_study_table({"A": res, "B": res})
    assert list(out.columns) == ["A", "B"]
    assert out.loc[-1, "A"] == "0.00" and out.loc[0, "A"].startswith("1.00 [0.61, 1.39]")


def test_warnings_become_notes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    with warnings.catch_warnings():
        warnings_as_notes()
        for _ in range(2):
            warnings.warn("Dropped 3 rows", UserWarning, stacklevel=1)
    assert shown == ["> **Note:** Dropped 3 rows"]
