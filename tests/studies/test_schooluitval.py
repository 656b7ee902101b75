"""The schooluitval study: the simulated regional programme recovered at region level,
per school type and on the gap; no effect found where there is none; a member gemeente
against gemeenten outside its region; clear errors for impossible designs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import evaluatie as ev
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.studies import gemeente as gm
from evaluatie.studies import schooluitval as su
from evaluatie.synth.truth import known_vsv_effect


@pytest.fixture(scope="module")
def data(full_raw: Path) -> su.VsvData:
    return su.load(full_raw)


def sdid(case: gm.GemeenteCase, replications: int = 100) -> ev.core.results.Overall:
    result = ev.synthetic_did(case.panel, **gm.design.KEYS, replications=replications, seed=3)
    assert result.overall is not None
    return result.overall


def test_region_case_has_the_regions_as_units(data) -> None:
    case = su.region_case(data, rmc="Zuid-Holland-Noord", first_year=2022)
    assert case.focus == "RMC26" and len(case.donors) == 38
    assert all(d.startswith("RMC") for d in case.donors)
    treated = case.panel[case.panel["treated"] == 1]
    assert set(treated["gemeente_code"]) == {"RMC26"} and set(treated["jaar"]) == {2022, 2023, 2024}
    # the region's rate is its members' dropouts over their pupils, from the gemeente rows
    rows = data.gemeenten[data.gemeenten["gemeente_code"].isin(su.members("RMC26"))]
    sums = rows[rows["jaar"] == 2018][["vsv", "leerlingen"]].sum()
    y = case.panel.set_index(["gemeente_code", "jaar"]).loc[("RMC26", 2018), "y"]
    assert y == pytest.approx(100 * sums["vsv"] / sums["leerlingen"])


def test_programme_effect_recovered_at_region_level(data) -> None:
    """Truth: the pupil-weighted expected effect on the region's rate, about -0.2 pp."""
    case = su.region_case(data, rmc="RMC26", first_year=2022)
    assert case.truth is not None and -0.35 < case.truth < -0.15
    o = sdid(case)
    # one draw: within 3 standard errors (coverage is measured in test_programme_coverage)
    assert abs(o.estimate - case.truth) < 3 * o.se and o.ci_high < 0
    null = su.region_case(data, rmc="RMC25", first_year=2022)
    assert null.truth == 0.0
    o = sdid(null)
    assert abs(o.estimate) < 3 * o.se


def test_effect_by_school_type_and_on_the_gap(data) -> None:
    """VO has no effect, MBO1 the largest; the gap case's truth is the difference of the
    truths and its panel the difference of the rates."""
    cases = {g: su.region_case(data, rmc="RMC26", first_year=2022, group=g) for g in su.GROUPS}
    assert cases["VO"].truth == 0.0
    assert cases["MBO1"].truth < cases["MBO2"].truth < cases["MBO34"].truth < 0
    for group in ("VO", "MBO1", "MBO"):
        o = sdid(cases[group])
        assert abs(o.estimate - cases[group].truth) < 3 * o.se, group
    gap = su.gap_case(cases["MBO"], cases["VO"])
    assert gap.truth == pytest.approx(cases["MBO"].truth - cases["VO"].truth)
    y = gap.panel.set_index(["gemeente_code", "jaar"])["y"]
    a = cases["MBO"].panel.set_index(["gemeente_code", "jaar"])["y"]
    b = cases["VO"].panel.set_index(["gemeente_code", "jaar"])["y"]
    assert np.allclose(y, (a - b).loc[y.index])
    o = sdid(gap)
    assert abs(o.estimate - gap.truth) < 3 * o.se


def test_a_gap_needs_two_cases_on_the_same_units(data) -> None:
    a = su.region_case(data, rmc="RMC26", first_year=2022, group="MBO")
    b = su.region_case(data, rmc="RMC26", first_year=2021, group="VO")
    with pytest.raises(DesignError, match="same units, years and start"):
        su.gap_case(a, b)


def test_member_gemeente_against_gemeenten_outside_its_region(data, full_raw: Path) -> None:
    case = su.member_case(data, gemeente="GM0546", first_year=2022, donors=40)
    assert not set(case.donors) & set(su.members("RMC26"))
    assert len(case.donors) == 40
    assert case.truth == pytest.approx(
        known_vsv_effect(full_raw, gemeenten=["GM0546"], years=[2022, 2023, 2024])
    )
    assert case.truth < 0
    o = sdid(case)
    assert abs(o.estimate - case.truth) < 3 * o.se


def test_design_problems_are_named(data, small_raw: Path) -> None:
    assert (
        su.design_problems(
            data, rmc="RMC26", first_year=2022, gemeente="GM0546", donors=40, groups=["VO"]
        )
        == []
    )
    (problem,) = su.design_problems(
        data, rmc="RMC26", first_year=2022, gemeente="GM0453", donors=40, groups=[]
    )
    assert "GM0453 is not a member of RMC region RMC26" in problem
    (problem,) = su.design_problems(
        data, rmc="RMC26", first_year=2014, gemeente=None, donors=40, groups=[]
    )
    assert "first_year=2014" in problem
    with pytest.raises(ParameterError, match="RMC"):
        su.region("Atlantis")
    # only the public CBS table: the report runs and says the breakdown is missing
    without_types = su.VsvData(data.gemeenten, data.by_type.iloc[0:0], data.raw_dir)
    assert not su.design_problems(
        without_types, rmc="RMC26", first_year=2022, gemeente=None, donors=40, groups=["VO"]
    )
    with pytest.raises(DesignError, match="no VSV table by school type"):
        su.region_case(without_types, rmc="RMC26", first_year=2022, group="VO")


def test_on_real_data_there_is_no_truth(data, tmp_path: Path) -> None:
    """A folder without the simulator's truth file: the study reports no truth."""
    copy = su.VsvData(data.gemeenten, data.by_type, tmp_path)
    assert su.region_case(copy, rmc="RMC26", first_year=2022).truth is None


@pytest.mark.slow
def test_programme_coverage_over_many_vsv_draws(tmp_path: Path) -> None:
    """200 draws of the VSV tables (the schools fixed, the VSV stream new each time):
    synthetic DiD's 95% interval covers the true effect on the region's rate, per school
    type and on the gap in about 95% of draws, and a region without the programme is
    found to have one in about 5%."""
    from evaluatie.sources.layouts_extra import VSV_CBS, VSV_ONDERWIJSSOORT, VSV_WAARHEID
    from evaluatie.sources.writer import write_duo
    from evaluatie.synth import _dgp, _sim_vsv
    from evaluatie.synth.files import VSV_FILE, VSV_SOORT_FILE, VSV_WAARHEID_FILE

    schools = _dgp.draw_schools(np.random.default_rng(1), 6000, _dgp.GrantDesign(), 0.02)
    draws = 200
    hits: dict[str, list[bool]] = {k: [] for k in ("total", "VO", "MBO1", "MBO", "gap")}
    null_rejects = []
    for i in range(draws):
        raw = tmp_path / f"d{i}"
        raw.mkdir()
        cbs, soort, truth = _sim_vsv.draw(np.random.default_rng(1000 + i), schools)
        write_duo(cbs, raw / VSV_FILE, VSV_CBS)
        write_duo(soort, raw / VSV_SOORT_FILE, VSV_ONDERWIJSSOORT)
        write_duo(truth, raw / VSV_WAARHEID_FILE, VSV_WAARHEID)
        data = su.load(raw)
        cases = {
            g: su.region_case(data, rmc="RMC26", first_year=2022, group=g)
            for g in ("VO", "MBO1", "MBO")
        }
        cases["total"] = su.region_case(data, rmc="RMC26", first_year=2022)
        cases["gap"] = su.gap_case(cases["MBO"], cases["VO"])
        for key, case in cases.items():
            o = sdid(case, replications=200)
            hits[key].append(o.ci_low <= case.truth <= o.ci_high)
        null_rejects.append(sdid(su.region_case(data, rmc="RMC25", first_year=2022)).p < 0.05)
    coverage = {k: float(np.mean(v)) for k, v in hits.items()}
    print("coverage", coverage, "null rejection", np.mean(null_rejects))
    # 200 draws: a 95% rate is measured to +-3.1 points (2 SE)
    for key, rate in coverage.items():
        assert 0.90 <= rate <= 0.99, (key, rate)
    assert np.mean(null_rejects) <= 0.10
