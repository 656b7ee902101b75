"""VSV tables in today's gemeenten: the simulated herindeling folded, regions summed as
CBS publishes them, the table by school type consistent with the CBS totals, and clear
errors for a bad table by school type."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DataFormatError, DataQualityWarning
from evaluatie.sources.duo import read_duo
from evaluatie.sources.rmc import fold_mergers, rmc_members
from evaluatie.sources.tidy import read_vsv
from evaluatie.sources.vsv import load_vsv_by_type, load_vsv_rates, region_rates
from evaluatie.synth.files import VSV_FILE

HEADER = '"GEMEENTECODE";"SCHOOLJAAR";"ONDERWIJSSOORT";"DEELNEMERS";"VSV"'


def test_merged_gemeente_is_folded_into_its_successor(small_raw: Path) -> None:
    """Noordwijkerhout (GM0576) is published up to 2018-2019, as in the real tables; the
    loader adds it to Noordwijk (GM0575), whose series then runs unbroken."""
    published = read_vsv(small_raw / VSV_FILE)
    old = published[published["gemeente_code"] == "GM0576"]
    assert sorted(old["jaar"]) == list(range(2014, 2020))
    rates = load_vsv_rates(small_raw)
    assert "GM0576" not in set(rates["gemeente_code"])
    noordwijk = rates[rates["gemeente_code"] == "GM0575"].set_index("jaar")
    assert list(noordwijk.index) == list(range(2014, 2025))
    both = published[published["gemeente_code"].isin(["GM0575", "GM0576"])]
    sums = both.groupby("jaar")[["leerlingen", "vsv"]].sum()
    assert (noordwijk["vsv"] == sums["vsv"]).all()
    assert (noordwijk["leerlingen"] == sums["leerlingen"]).all()
    assert noordwijk["vsv_percentage"].to_numpy() == pytest.approx(
        100 * sums["vsv"].to_numpy() / sums["leerlingen"].to_numpy()
    )


def test_region_rates_equal_the_published_region_rows(small_raw: Path) -> None:
    """The CBS table's RMC rows (``RM26``) are the members' sums; region_rates, from the
    folded gemeente rows, gives the same counts."""
    table = read_duo(small_raw / VSV_FILE)
    published = table[table["regio"].str.startswith("RM")].assign(
        jaar=lambda f: f["schooljaar"].str[5:].astype(int),
        rmc=lambda f: "RMC" + f["regio"].str[2:],
    )
    ours = region_rates(load_vsv_rates(small_raw, complete=False))
    merged = ours.merge(
        published, left_on=["gemeente_code", "jaar"], right_on=["rmc", "jaar"], validate="1:1"
    )
    assert len(merged) == len(ours) and set(ours["gemeente_code"]) >= {"RMC26", "RMC18"}
    assert (merged["vsv_x"] == merged["vsv_y"]).all()
    assert (merged["leerlingen_x"] == merged["leerlingen_y"]).all()
    leiden_region = ours[ours["gemeente_code"] == "RMC26"]
    assert set(leiden_region["rmc_naam"]) == {"Zuid-Holland-Noord"}


def test_table_by_type_adds_up_to_the_cbs_totals(small_raw: Path) -> None:
    """Every gemeente-year with pupils: the types sum to the CBS table's totals; complete
    series only: every gemeente has every year."""
    complete = load_vsv_by_type(small_raw)
    assert complete.groupby(["gemeente_code", "onderwijssoort"]).size().eq(11).all()
    by_type = load_vsv_by_type(small_raw, complete=False)
    assert set(by_type["onderwijssoort"]) == {"VO", "MBO1", "MBO2", "MBO34"}
    totals = by_type.groupby(["gemeente_code", "jaar"])[["leerlingen", "vsv"]].sum()
    rates = load_vsv_rates(small_raw, complete=False).set_index(["gemeente_code", "jaar"])
    joined = rates.join(totals.add_suffix("_types"), how="inner")
    assert len(joined) == len(rates)
    assert (joined["vsv"] == joined["vsv_types"]).all()
    assert (joined["leerlingen"] == joined["leerlingen_types"]).all()
    # realistic ordering of the risks (docs/domain.md: MBO far above VO)
    risk = by_type.groupby("onderwijssoort")[["vsv", "leerlingen"]].sum()
    rate = risk["vsv"] / risk["leerlingen"]
    assert rate["MBO1"] > rate["MBO2"] > rate["MBO34"] > rate["VO"]
    mbo = risk.drop(index="VO").sum()
    assert 0.045 < mbo["vsv"] / mbo["leerlingen"] < 0.075  # docs/domain.md §6: MBO about 6%


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_table_by_type_refuses_unknown_types_and_impossible_counts(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    write(folder / "t.csv", ['"GM0546";"2021-2022";"HBO";"10";"1"'])
    with pytest.raises(DataFormatError, match="'HBO' is not one of VO, MBO1") as err:
        load_vsv_by_type(folder)
    assert "t.csv" in str(err.value)
    assert err.value.column == "ONDERWIJSSOORT"
    write(folder / "t.csv", ['"GM0546";"2021-2022";"MBO1";"10";"11"'])
    with pytest.raises(DataFormatError, match="VSV exceeds DEELNEMERS for GM0546 2021-2022"):
        load_vsv_by_type(folder)


def test_a_divided_gemeente_is_left_out_with_a_warning() -> None:
    """Haaren (GM0788) was divided over four gemeenten in 2021: its counts cannot be
    folded, so they are left out and said, not silently given to one successor."""
    frame = pd.DataFrame(
        {
            "gemeente_code": ["GM0788", "GM0855", "GM0855"],
            "jaar": [2020, 2020, 2021],
            "leerlingen": [100, 1000, 1050],
            "vsv": [2, 20, 21],
        }
    )
    with pytest.raises(DataFormatError, match="GM0788"):
        fold_mergers(frame, counts=["leerlingen", "vsv"])
    with pytest.warns(DataQualityWarning, match="GM0788 -> "):
        out = fold_mergers(frame, counts=["leerlingen", "vsv"], divided="drop")
    assert out["gemeente_code"].tolist() == ["GM0855", "GM0855"]
    assert out["vsv"].tolist() == [20, 21]


def test_simulated_programme_lowers_mbo_dropout_in_its_region_only(full_raw: Path) -> None:
    """At scale 1 the programme region's MBO1 rate falls against the rest from 2022
    (truth: -25% of the risk); VO, without an effect, does not move apart."""
    by_type = load_vsv_by_type(full_raw)
    members = set(rmc_members("RMC26"))

    def gap(kind: str) -> pd.Series:
        rows = by_type[by_type["onderwijssoort"] == kind]
        inside = rows["gemeente_code"].isin(members)
        rate = rows.groupby([inside, "jaar"])[["vsv", "leerlingen"]].sum()
        share = rate["vsv"] / rate["leerlingen"]
        return share.loc[True] / share.loc[False]

    mbo1, vo = gap("MBO1"), gap("VO")
    pre, post = [y for y in mbo1.index if y < 2022], [y for y in mbo1.index if y >= 2022]
    assert np.mean(mbo1[post]) / np.mean(mbo1[pre]) < 0.85  # truth 0.75
    assert abs(np.mean(vo[post]) / np.mean(vo[pre]) - 1) < 0.15
    assert (by_type["vsv"] <= by_type["leerlingen"]).all()


def test_cbs_layout_fixture(tmp_path: Path) -> None:
    """tests/data/cbs: the 84780NED layout with padded codes, a merger, an RMC region row
    and a missing count (README there). Only complete series stay in the balanced
    table; with complete=False Noordwijkerhout's 2017-18 counts (``2017SJ00``) are
    Noordwijk's."""
    import shutil

    shutil.copy(Path(__file__).parents[1] / "data" / "cbs" / "84780NED-layout.csv", tmp_path)
    rows = read_vsv(tmp_path / "84780NED-layout.csv")
    assert set(rows["gemeente_code"]) == {"GM0546", "GM0575", "GM0576"}
    assert rows.attrs["other_regions"] == 2  # the two RM26 rows
    every = load_vsv_rates(tmp_path, complete=False).set_index(["gemeente_code", "jaar"])
    assert every.loc[("GM0575", 2018), "leerlingen"] == 2104 + 1398
    assert every.loc[("GM0575", 2018), "vsv"] == 27 + 15
    assert ("GM0546", 2021) not in every.index  # the missing count
    balanced = load_vsv_rates(tmp_path)
    assert sorted(balanced["gemeente_code"].unique()) == ["GM0546", "GM0575"]


def test_region_rates_warn_in_the_reports_language(small_raw: Path) -> None:
    """A member missing a year and a code outside the crosswalk are each said, and the
    report shows both notes in Dutch."""
    from evaluatie.core.language import set_language
    from evaluatie.reporting.notes import in_report_language

    rates = load_vsv_rates(small_raw, complete=False)
    leiden = rates[rates["gemeente_code"] == "GM0546"]
    gappy = rates.drop(index=leiden.index[:1])
    extra = leiden.iloc[:1].assign(gemeente_code="GM1992")  # Voorne aan Zee, formed 2023
    with pytest.warns(DataQualityWarning) as seen:
        region_rates(pd.concat([gappy, extra], ignore_index=True))
    messages = [str(w.message) for w in seen]
    assert any("GM1992" in m for m in messages) and any("GM0546" in m for m in messages)
    set_language("nl")
    dutch = [in_report_language(m) for m in messages]
    assert any(d.startswith("niet meegeteld in de RMC-regio's") for d in dutch)
    assert any(d.startswith("gemeenten zonder cijfers in elk jaar") for d in dutch)
