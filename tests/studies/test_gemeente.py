"""The gemeente study: exam pass rates from the real DUO file, donors like the gemeente,
the known VVE effect recovered on simulated data, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evaluatie as ev
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.sources.examens import exam_file, load_exam_rates
from evaluatie.studies import gemeente as gm
from evaluatie.synth.simulate import simulate


@pytest.fixture(scope="module")
def rates(duo_dir: Path) -> pd.DataFrame:
    return load_exam_rates(duo_dir)


def test_exam_rates_sum_the_published_cells_of_all_pupils(duo_dir: Path, rates) -> None:
    exams = ev.sources.read_examens(exam_file(duo_dir))
    cells = exams[
        (exams["gemeente_code"] == "GM0034")
        & (exams["schooljaar"] == "2022-2023")
        & (exams["geslacht"] == "TOTAAL")
    ]
    published = cells[cells["examenkandidaten"].notna() & cells["geslaagden"].notna()]
    row = rates.set_index(["gemeente_code", "jaar"]).loc[("GM0034", 2023)]
    assert row["examenkandidaten"] == published["examenkandidaten"].sum()
    assert row["slaagpercentage"] == pytest.approx(
        100 * published["geslaagden"].sum() / published["examenkandidaten"].sum()
    )
    assert rates.groupby("gemeente_code").size().eq(5).all()  # complete series only


def test_donors_are_the_gemeenten_nearest_in_size() -> None:
    sizes = pd.Series({"A": 100.0, "B": 210.0, "C": 50.0, "D": 400.0, "E": 95.0})
    # log distances from A: E 0.05, C 0.69, B 0.74, D 1.39
    assert gm.similar_donors(sizes, "A", 3) == ["B", "C", "E"]


def test_exam_case_marks_the_gemeente_from_its_first_year(rates) -> None:
    case = gm.exam_case(rates, gemeente="GM0034", first_year=2023, donors=25)
    assert len(case.donors) == 25 and "GM0034" not in case.donors
    treated = case.panel[case.panel["treated"] == 1]
    assert set(treated["gemeente_code"]) == {"GM0034"} and set(treated["jaar"]) == {2023, 2024}
    assert case.pre_years == [2020, 2021, 2022] and case.truth is None
    sizes = rates.groupby("gemeente_code")["kandidaten_gemiddeld"].first()
    far = (np.log(sizes) - np.log(sizes["GM0034"])).abs().drop(index="GM0034")
    assert far[case.donors].max() <= far.drop(index=case.donors).min()


def test_three_designs_side_by_side(rates) -> None:
    case = gm.exam_case(rates, gemeente="GM0546", first_year=2023)
    cmp = gm.compare(case, replications=50)
    table = gm.text.comparison_table(cmp)
    assert len(table) == 3
    assert table.iloc[0, 0] == pytest.approx(cmp.sdid.overall.estimate)
    assert cmp.mde == pytest.approx(2.8016 * cmp.sdid.overall.se, rel=1e-4)
    # the DiD of the same gemeente against the same donors, by hand: long differences
    wide = case.panel.pivot(index="gemeente_code", columns="jaar", values="y")
    change = wide[[2023, 2024]].mean(axis=1) - wide[[2020, 2021, 2022]].mean(axis=1)
    assert cmp.did.overall.estimate == pytest.approx(
        change["GM0546"] - change.drop(index="GM0546").mean()
    )


def test_clear_errors(rates) -> None:
    with pytest.raises(ParameterError, match="first_year=2021"):
        gm.exam_case(rates, gemeente="GM0034", first_year=2021)
    with pytest.raises(DesignError, match="GM9999"):
        gm.exam_case(rates, gemeente="GM9999", first_year=2023)
    problems = gm.case_problems(
        rates, data_kind="examens", gemeente="GM0034", outcome="slaagpercentage",
        first_year=2030, donors=40, comparison_band=0.5, raw_dir="unused",
    )  # fmt: skip
    assert len(problems) == 1 and "2022-2024" in problems[0]


@pytest.fixture(scope="module")
def strong_effect(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("gemeente_raw")
    simulate(raw, seed=5, scale=0.5, vve_effect={"kleuterverlenging": -1.0, "groep3": 0.8})
    return raw


def test_synthetic_did_recovers_each_gemeentes_known_vve_effect(strong_effect: Path) -> None:
    """The twelve gemeenten whose funding changed most, each against its own donors: the
    errors (estimate - truth) / se are centred on zero (their mean within 3 / sqrt(12)),
    and the effect is found: the mean estimate lies more than 3 standard errors of a mean
    from zero, on the truths' side."""
    data = ev.load_vve(strong_effect)
    study = ev.vve_study(data, outcome="kleuterverlenging")
    units = study.units[study.units["group"] != "comparison"]
    codes = units.loc[units["dose"].abs().sort_values(ascending=False).index[:12], "gemeente_code"]
    truth, estimate, se = [], [], []
    for code in codes:
        case = gm.vve_case(data, gemeente=code, outcome="kleuterverlenging", raw_dir=strong_effect)
        o = gm.compare(case, replications=50).sdid.overall
        truth.append(case.truth)
        estimate.append(o.estimate)
        se.append(o.se)
    truth, estimate, se = map(np.asarray, (truth, estimate, se))
    n = len(truth)
    assert abs(np.mean((estimate - truth) / se)) < 3 / np.sqrt(n)
    assert np.mean(estimate) * np.mean(truth) > 0
    assert abs(np.mean(estimate)) > 3 * np.sqrt(np.mean(se**2) / n)


def test_a_comparison_gemeente_has_no_policy_change(strong_effect: Path) -> None:
    data = ev.load_vve(strong_effect)
    study = ev.vve_study(data, outcome="groep3")
    code = study.units.loc[study.units["group"] == "comparison", "gemeente_code"].iloc[0]
    with pytest.raises(DesignError, match="comparison group"):
        gm.vve_case(data, gemeente=code, outcome="groep3", raw_dir=strong_effect)


def test_vsv_case_on_the_simulator_has_a_known_zero_effect(small_raw: Path) -> None:
    """A gemeente outside the simulated programme's region: the truth is 0, and it is
    found."""
    from evaluatie.sources import load_vsv_rates

    rates = load_vsv_rates(small_raw)
    assert rates.groupby("gemeente_code").size().nunique() == 1  # complete series only
    row = rates.iloc[0]
    assert row["vsv_percentage"] == pytest.approx(100 * row["vsv"] / row["leerlingen"], abs=0.006)
    case = gm.vsv_case(
        rates, gemeente=str(row["gemeente_code"]), first_year=2021, raw_dir=small_raw
    )
    assert case.truth == 0.0 and case.outcome.name == "vsv_percentage"
    o = gm.compare(case, replications=50).sdid.overall
    assert abs(o.estimate) < 3 * o.se


def test_summary_numbers_by_hand(rates) -> None:
    """The summary's level is the gemeente's own mean before the start, its spread the SD
    of the gemeenten's means before the start; estimate, interval and MDE synthetic DiD's."""
    case = gm.exam_case(rates, gemeente="GM0034", first_year=2023)
    cmp = gm.compare(case, replications=20)
    f = gm.text.summary_finding(cmp, case, "Almere")
    before = case.panel[case.panel["jaar"] <= 2022]
    assert f.baseline == pytest.approx(before.loc[before["gemeente_code"] == "GM0034", "y"].mean())
    assert f.sd == pytest.approx(before.groupby("gemeente_code")["y"].mean().std())
    assert (f.estimate, f.ci_low, f.ci_high, f.p) == (
        cmp.sdid.overall.estimate, cmp.sdid.overall.ci_low, cmp.sdid.overall.ci_high,
        cmp.sdid.overall.p,
    )  # fmt: skip
    assert f.mde == pytest.approx(2.8016 * cmp.sdid.overall.se, rel=1e-4)
