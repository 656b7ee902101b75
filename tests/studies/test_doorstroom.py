"""The doorstroom study on DUO's real exam file: the national pass rates OCW publishes
reproduced, rates per level and sex summed by hand, gaps as differences, a known effect
recovered exactly, and clear errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evaluatie as ev
from evaluatie.core.errors import ParameterError
from evaluatie.studies import doorstroom as ds
from evaluatie.studies import gemeente as gm
from evaluatie.studies.doorstroom import design


@pytest.fixture(scope="module")
def data(duo_dir: Path) -> ds.ExamData:
    return ds.load(duo_dir)


def test_national_pass_rates_reproduce_the_published_ones(data) -> None:
    """docs/domain.md §5 (OCW/DUO): 98.8, 95.0, 94.5, 89.8 and 91.7% in 2019-20 to
    2023-24, summed over the gemeenten with a published count in every year."""
    rates = ds.group_rates(data)
    sums = rates.groupby("jaar")[["geslaagden", "examenkandidaten"]].sum()
    national = 100 * sums["geslaagden"] / sums["examenkandidaten"]
    published = pd.Series({2020: 98.8, 2021: 95.0, 2022: 94.5, 2023: 89.8, 2024: 91.7})
    assert np.abs(national - published).max() < 0.06


def test_levels_come_from_the_programme_names(data) -> None:
    cells = data.cells
    vmbo = cells[cells["onderwijstype"] == "VMBO"]
    assert set(vmbo["niveau"]) == {"VMBO-B", "VMBO-K", "VMBO-GT"}
    kader = vmbo[vmbo["opleiding"].str.startswith("VMBO K ")]
    assert (kader["niveau"] == "VMBO-K").all()
    mixed = vmbo[vmbo["opleiding"].str.startswith(("VMBO G ", "VMBO T "))]
    assert (mixed["niveau"] == "VMBO-GT").all()
    lwt = vmbo[vmbo["opleiding"].str.startswith("VMBO LWT ")]  # leerwerktraject: basis
    assert len(lwt) > 0 and (lwt["niveau"] == "VMBO-B").all()
    other = cells[cells["onderwijstype"] != "VMBO"]
    assert (other["niveau"] == other["onderwijstype"]).all()


def test_group_rate_by_hand(data) -> None:
    """Almere's HAVO and VWO pass rate in 2022-23: the published cells of all pupils."""
    cells = data.cells
    mine = cells[
        (cells["gemeente_code"] == "GM0034")
        & (cells["schooljaar"] == "2022-2023")
        & (cells["geslacht"] == "TOTAAL")
        & cells["onderwijstype"].isin(["HAVO", "VWO"])
        & ~cells["examenkandidaten_suppressed"]
        & ~cells["geslaagden_suppressed"]
    ]
    row = (
        ds.group_rates(data, "HAVO/VWO").set_index(["gemeente_code", "jaar"]).loc[("GM0034", 2023)]
    )
    assert row["examenkandidaten"] == mine["examenkandidaten"].sum()
    assert row["slaagpercentage"] == pytest.approx(
        100 * mine["geslaagden"].sum() / mine["examenkandidaten"].sum()
    )
    boys = ds.group_rates(data, "MAN").set_index(["gemeente_code", "jaar"])
    girls = ds.group_rates(data, "VROUW").set_index(["gemeente_code", "jaar"])
    everyone = ds.group_rates(data).set_index(["gemeente_code", "jaar"])
    both = boys.index.intersection(girls.index).intersection(everyone.index)
    # DUO withholds more cells by sex: the sexes' candidates never exceed all pupils'
    sexes = boys.loc[both, "examenkandidaten"] + girls.loc[both, "examenkandidaten"]
    assert (sexes <= everyone.loc[both, "examenkandidaten"] + 1e-9).all()


def test_gap_is_the_difference_of_the_groups(data) -> None:
    a, b = ds.group_rates(data, "VMBO"), ds.group_rates(data, "HAVO/VWO")
    gap = ds.gap_rates(a, b).set_index(["gemeente_code", "jaar"])
    left = a.set_index(["gemeente_code", "jaar"]).loc[gap.index, "slaagpercentage"]
    right = b.set_index(["gemeente_code", "jaar"]).loc[gap.index, "slaagpercentage"]
    assert np.allclose(gap["slaagpercentage"], left - right)
    case = ds.gap_case(
        data, gemeente="GM0034", first_year=2023, gap=("VMBO", "HAVO/VWO"), donors=40
    )
    assert np.allclose(case.focus_series(), gap.loc["GM0034", "slaagpercentage"])


@pytest.mark.parametrize("design", ["VWO", ("MAN", "VROUW")])
def test_a_known_effect_is_recovered_exactly(data, design) -> None:
    """Synthetic DiD's weights do not depend on the treated unit's post periods: adding
    3 points to the focus gemeente's post years moves the estimate by exactly 3."""
    if isinstance(design, tuple):
        case = ds.gap_case(data, gemeente="GM0546", first_year=2023, gap=design, donors=40)
    else:
        case = ds.group_case(data, gemeente="GM0546", first_year=2023, group=design, donors=40)
    shifted = replace(
        case, panel=case.panel.assign(y=case.panel["y"] + 3.0 * case.panel["treated"])
    )
    before = ev.synthetic_did(case.panel, **gm.design.KEYS, replications=50, seed=1).overall
    after = ev.synthetic_did(shifted.panel, **gm.design.KEYS, replications=50, seed=1).overall
    assert after.estimate - before.estimate == pytest.approx(3.0, abs=1e-9)


def test_levels_table_has_gemeente_region_and_country(data) -> None:
    table = ds.levels(data, gemeente="GM0453", groups=["HAVO"])
    assert set(table["wie"]) == {"gemeente", "regio", "nederland"}
    assert sorted(table["jaar"].unique()) == [2020, 2021, 2022, 2023, 2024]


def test_problems_are_named(data) -> None:
    assert (
        ds.design_problems(
            data,
            gemeente="GM0034",
            first_year=2023,
            groups=["VWO"],
            gaps=[("MAN", "VROUW")],
            donors=40,
        )
        == []
    )
    rates = ds.group_rates(data, "VMBO-B")
    absent = sorted(set(ds.group_rates(data)["gemeente_code"]) - set(rates["gemeente_code"]))[0]
    problems = ds.design_problems(
        data, gemeente=absent, first_year=2023, groups=["VMBO-B"], gaps=[], donors=40
    )
    assert problems and f"gemeente {absent} has no published VMBO-B pass rate" in problems[0]
    with pytest.raises(ParameterError, match="group must be one of"):
        ds.group_rates(data, "MBO")


def test_group_rates_are_computed_once_per_data_set_and_handed_out_as_copies(data) -> None:
    fresh = ds.load(data.raw_dir)
    first = ds.group_rates(fresh, "VMBO")
    assert list(fresh.memo) == [("group_rates", "VMBO")]
    first["slaagpercentage"] = -1.0  # a caller changing its table
    again = ds.group_rates(fresh, "VMBO")
    pd.testing.assert_frame_equal(again, design._group_rates(fresh, "VMBO"))
    assert (again["slaagpercentage"] >= 0).all()
