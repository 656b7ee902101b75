"""Every public estimator keeps the one result contract (evaluatie.core.results).

One small panel, every estimator and every event-study estimator, att_gt and its four
aggregations: a tidy table with the contract's columns, meta["call"] that reruns to the
same table, meta["inference"] naming the procedure, sample sizes, summary() and an HTML
repr, and a headline that the workbench can publish (the overall estimate, or a named
row where there is none; asking without one is a clear error).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import evaluatie as ev
from evaluatie.core.errors import ParameterError
from evaluatie.core.results import REQUIRED_COLUMNS, Inference, Overall, Result
from evaluatie.synth.panels import staggered_panel
from evaluatie.workbench.headline import headline_payload


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data = staggered_panel(n_units=160, n_groups=32, seed=3)
    rng = np.random.default_rng(3)
    dose = pd.Series(rng.uniform(0.5, 2.0, data["group"].max() + 1))
    # a continuous dose for the 2019 cohort's gemeenten, 0 for the never treated
    return data.assign(dose=np.where(data["cohort"] == 2019, dose[data["group"]], 0.0))


@pytest.fixture(scope="module")
def gemeenten(panel: pd.DataFrame) -> pd.DataFrame:
    """Group x year means: the one-treated-unit design."""
    return panel.groupby(["group", "year"], as_index=False).agg(
        y=("y", "mean"), size=("unit", "size"), cohort=("cohort", "first")
    )


KEYS = {"outcome": "y", "unit": "unit", "time": "year"}


def policy_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """A policy in 4 of the 32 groups from 2019: a design ``mde`` can simulate."""
    return panel.assign(policy=(panel["group"] < 4) & (panel["year"] >= 2019))


SYNTHETIC = {"outcome": "y", "unit": "group", "time": "year", "treatment": "policy"}


def policy_from_cohort(gemeenten: pd.DataFrame) -> pd.DataFrame:
    """Group x year means with the 0/1 policy of each group's cohort (staggered)."""
    cohort = gemeenten["cohort"]
    return gemeenten.assign(policy=((cohort > 0) & (gemeenten["year"] >= cohort)).astype(int))


def one_treated(gemeenten: pd.DataFrame, treated: int) -> pd.DataFrame:
    """The never-treated groups and ``treated``: one treated unit."""
    data = policy_from_cohort(gemeenten)
    return data[(data["cohort"] == 0) | (data["group"] == treated)]


def halves(panel: pd.DataFrame) -> pd.DataFrame:
    """``panel`` with a fixed group per unit (even and odd units) for twfe_difference."""
    return panel.assign(half=panel["unit"] % 2 == 0)


def fits(panel: pd.DataFrame, gemeenten: pd.DataFrame) -> dict[str, Callable[[], Result]]:
    two = panel[panel["cohort"].isin([0, 2019])]
    treated = int(gemeenten.loc[gemeenten["cohort"] == 2019, "group"].iloc[0])
    never = sorted(gemeenten.loc[gemeenten["cohort"] == 0, "group"].unique())
    cells = ev.att_gt(panel, cohort="cohort", cluster="group", **KEYS)
    out: dict[str, Callable[[], Result]] = {
        "twfe": lambda: ev.twfe(panel, treatment="treated", cluster="group", **KEYS),
        "twfe_difference": lambda: ev.twfe_difference(
            halves(panel),
            treatment="treated",
            group="half",
            cluster="group",
            **KEYS,
        ),
        "bacon": lambda: ev.bacon(panel, cohort="cohort", **KEYS),
        "att_gt": lambda: cells,
        "cont_did": lambda: ev.cont_did(two, dose="dose", first_period=2019, **KEYS),
        "dose_event_study": lambda: ev.dose_event_study(
            two, dose="dose", reference=2018, group="group", cluster="group", **KEYS
        ),
        "mde": lambda: ev.mde(
            policy_panel(panel),
            treatment="policy",
            cluster="group",
            draws=40,
            reference=99,
            **KEYS,
        ),
        "synthetic_control": lambda: ev.synthetic_control(
            one_treated(gemeenten, treated), **SYNTHETIC
        ),
        "synthetic_did": lambda: ev.synthetic_did(
            policy_from_cohort(gemeenten), **SYNTHETIC, variance="jackknife"
        ),
        "single_unit_did": lambda: ev.single_unit_did(
            gemeenten,
            outcome="y",
            unit="group",
            time="year",
            treated=treated,
            comparison=never,
            pre=[2015, 2016, 2017, 2018],
            post=[2019, 2021],
            size="size",
        ),
    }
    for estimator in ("twfe", "sun_abraham", "imputation", "callaway_santanna"):
        out[f"event_study[{estimator}]"] = lambda e=estimator: ev.event_study(
            panel, cohort="cohort", window=(-3, 3), estimator=e, cluster="group", **KEYS
        )
    for kind in ("simple", "group", "dynamic", "calendar"):
        out[f"aggregate[{kind}]"] = lambda k=kind: cells.aggregate(k)
    out["honest_did"] = lambda: ev.honest_did(
        ev.event_study(
            panel, cohort="cohort", window=(-3, 3), cluster="group", inference="analytic", **KEYS
        )
    )
    return out


NAMES = [
    "twfe",
    "twfe_difference",
    "bacon",
    "att_gt",
    "cont_did",
    "dose_event_study",
    "mde",
    "single_unit_did",
    "synthetic_control",
    "synthetic_did",
    *(f"event_study[{e}]" for e in ("twfe", "sun_abraham", "imputation", "callaway_santanna")),
    *(f"aggregate[{k}]" for k in ("simple", "group", "dynamic", "calendar")),
    "honest_did",
]
#: Results without an overall estimate, and the row a report would publish instead.
TERMS = {
    "att_gt": 0,
    "dose_event_study": 2021,
    **{f"event_study[{e}]": 0 for e in ("twfe", "sun_abraham", "imputation", "callaway_santanna")},
}


@pytest.fixture(scope="module")
def results(panel: pd.DataFrame, gemeenten: pd.DataFrame) -> dict[str, Result]:
    return {name: fit() for name, fit in fits(panel, gemeenten).items()}


def test_every_public_estimator_is_covered(results: dict[str, Result]) -> None:
    assert sorted(results) == sorted(NAMES)
    called = {r.meta["call"]["function"].split(".")[0] for r in results.values()}
    assert called == {n for n in ev.estimators.__all__}


@pytest.mark.parametrize("name", NAMES)
def test_table_and_inference(results: dict[str, Result], name: str) -> None:
    result = results[name]
    assert isinstance(result, Result)
    inference = result.meta["inference"]
    assert isinstance(inference, Inference) and result.inference is inference
    assert inference.sentence().endswith(".")
    table = result.table
    if inference.procedure == "none":  # a decomposition: estimate and weight, said so
        assert {"estimate", "weight"} <= set(table.columns)
        assert not {"se", "p"} & set(table.columns)
    elif inference.procedure == "simulation":  # a design's MDE: no se or p, and said so
        assert set(REQUIRED_COLUMNS) <= set(table.columns)
        assert table[["se", "p"]].isna().all().all()
        assert (
            (table["ci_low"] <= table["estimate"]) & (table["estimate"] <= table["ci_high"])
        ).all()
        assert "not a confidence interval" in inference.note
    else:
        assert set(REQUIRED_COLUMNS) <= set(table.columns), table.columns
        # a rank test (synthetic control) has p-values and intervals but no standard error
        estimated = table["se"].notna() | table["p"].notna()
        assert estimated.any()
        rows = table[estimated]
        if inference.procedure == "unavailable":  # no honest p-value: empty, and said why
            assert rows[["p", "ci_low", "ci_high"]].isna().all().all()
            assert "honest test" in inference.note
        else:
            assert rows["p"].between(0, 1).all()
            if rows["ci_low"].isna().all():  # re-assigning a whole path: tests only
                assert inference.procedure == "randomization" and "No intervals" in inference.note
            else:
                inside = (rows["ci_low"] <= rows["estimate"]) & (
                    rows["estimate"] <= rows["ci_high"]
                )
                assert inside.all()
    assert table.index.is_unique
    assert "att" not in table.columns  # one vocabulary: the estimate is "estimate"
    assert any(isinstance(result.meta.get(k), int) for k in ("n_obs", "n_units"))


@pytest.mark.parametrize("name", NAMES)
def test_call_reruns_to_the_same_result(
    results: dict[str, Result], panel: pd.DataFrame, gemeenten: pd.DataFrame, name: str
) -> None:
    result = results[name]
    call = result.meta["call"]
    assert isinstance(call["function"], str) and isinstance(call["arguments"], dict)
    assert "data" not in call["arguments"]
    data = gemeenten if name == "single_unit_did" else panel
    if name == "synthetic_did":
        data = policy_from_cohort(gemeenten)
    if name == "synthetic_control":
        data = one_treated(gemeenten, result.meta["treated"])
    if name in ("cont_did", "dose_event_study"):
        data = panel[panel["cohort"].isin([0, 2019])]
    if name == "mde":
        data = policy_panel(panel)
    if name == "twfe_difference":
        data = halves(panel)
    again = result.rerun(data)
    assert type(again) is type(result)
    pd.testing.assert_frame_equal(again.table, result.table)


@pytest.mark.parametrize("name", NAMES)
def test_summary_html_and_publish(results: dict[str, Result], name: str) -> None:
    result = results[name]
    text = result.summary()
    assert result.method in text and result.inference.sentence() in text
    assert html.escape(result.method) in result._repr_html_()
    if name in TERMS:
        assert result.overall is None
        with pytest.raises(ParameterError, match=r"aggregat|term="):
            headline_payload(result)
        payload = headline_payload(result, term=TERMS[name])
        row = result.table.loc[TERMS[name]]
        assert payload["estimate"] == pytest.approx(float(row["estimate"]))
        # an empty or unbounded interval is published as none (JSON has no infinity);
        # a randomization interval is unbounded where no null value is rejected
        if not math.isfinite(row["ci_low"]):
            assert payload["ci_low"] is None
        else:
            assert payload["ci_low"] == pytest.approx(float(row["ci_low"]))
    else:
        assert isinstance(result.overall, Overall) and result.overall.label
        payload = headline_payload(result)
        assert payload["estimate"] == pytest.approx(result.overall.estimate)
        assert payload["label"] == result.overall.label
        if result.inference.procedure == "simulation":
            o = result.overall
            assert math.isnan(o.se) and math.isnan(o.p) and o.note
            assert o.ci_low <= o.estimate <= o.ci_high
        elif result.inference.procedure != "none":
            o = result.overall
            no_se = "no standard error" in result.inference.se
            assert math.isnan(o.se) if no_se else math.isfinite(o.se)
            assert math.isfinite(o.p)
            if o.note:  # a rank test with too few placebos: an unbounded interval, said so
                assert "unbounded" in o.note and (o.ci_low, o.ci_high) == (-math.inf, math.inf)
            else:
                assert all(math.isfinite(v) for v in (o.ci_low, o.ci_high))
                assert o.ci_low <= o.estimate <= o.ci_high
            assert f"{o.estimate:.6g}" in result.summary()


def test_overall_is_the_documented_quantity(results: dict[str, Result]) -> None:
    twfe = results["twfe"]
    assert twfe.overall.estimate == twfe.table.loc["treated", "estimate"]
    assert (
        results["cont_did"].overall.estimate == results["cont_did"].table.loc["ATT_o", "estimate"]
    )
    simple = results["aggregate[simple]"]
    assert simple.overall.estimate == simple.table["estimate"].iloc[0]
    bacon = results["bacon"]
    assert bacon.overall.estimate == pytest.approx(
        float((bacon.table["weight"] * bacon.table["estimate"]).sum()), abs=1e-10
    )
    assert math.isnan(bacon.overall.se) and bacon.overall.note
