"""RMC-regio's (Bijlage C, BWBR0031387) carried to the gemeenten of 2022-23 through the
herindelingen 2013-2023: coverage, known members, successor chains, splits and folding."""

from __future__ import annotations

import io
import re
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DataFormatError, ParameterError
from evaluatie.sources.gemeenten import load_gemeenten
from evaluatie.sources.rmc import (
    CROSSES_REGIONS,
    NOT_IN_GEMEENTEN,
    fold_mergers,
    load_herindelingen,
    load_rmc_regions,
    match_key,
    rmc_members,
    rmc_of,
    successor,
)


@pytest.fixture(scope="module")
def regions() -> pd.DataFrame:
    return load_rmc_regions()


@pytest.fixture(scope="module")
def herindelingen() -> pd.DataFrame:
    return load_herindelingen()


@pytest.fixture(scope="module")
def current_codes() -> set[str]:
    return set(load_gemeenten()["gemeente_code"])


# --- the regions ---------------------------------------------------------------------------


def test_there_are_39_regions_numbered_rmc01_to_rmc39(regions: pd.DataFrame) -> None:
    assert sorted(regions["rmc_code"].unique()) == [f"RMC{i:02d}" for i in range(1, 40)]
    assert regions.groupby("rmc_code")["rmc_naam"].nunique().eq(1).all()


def test_every_gemeente_of_2022_23_lies_in_exactly_one_region(
    regions: pd.DataFrame, current_codes: set[str]
) -> None:
    assert not regions["gemeente_code"].duplicated().any()
    assert set(regions["gemeente_code"]) == current_codes
    assert len(regions) == len(current_codes) == 344
    assert regions["rmc_code"].notna().all()


def test_zuid_holland_noord_has_the_eleven_holland_rijnland_gemeenten() -> None:
    # Matches a public BRP selection for Samenwerkingsverband Holland Rijnland/Leerlingzaken.
    expected = [
        "GM0534",  # Hillegom
        "GM0537",  # Katwijk
        "GM0546",  # Leiden
        "GM0547",  # Leiderdorp
        "GM0553",  # Lisse
        "GM0575",  # Noordwijk (with Noordwijkerhout since 2019)
        "GM0579",  # Oegstgeest
        "GM0626",  # Voorschoten
        "GM0638",  # Zoeterwoude
        "GM1525",  # Teylingen
        "GM1884",  # Kaag en Braassem
    ]
    assert rmc_of("GM0546") == ("RMC26", "Zuid-Holland-Noord")
    assert rmc_members("RMC26") == expected
    assert rmc_members("zuid-holland-noord") == expected
    assert rmc_members("26") == expected


@pytest.mark.parametrize(
    ("gemeente", "rmc"),
    [
        ("GM0453", "RMC25"),  # Velsen
        ("GM0034", "RMC18"),  # Almere
        ("Almere", "RMC18"),
        ("Noordoostpolder", "RMC18"),  # "Noord-Oostpolder" in Bijlage C
        ("GM0530", "RMC29"),  # Hellevoetsluis ("Hellevloetsluis" in the Staatscourant)
        ("GM0893", "RMC38"),  # Bergen (L.), listed as plain "Bergen"
        ("GM0373", "RMC24"),  # Bergen (NH.)
        ("GM0164", "RMC12"),  # Hengelo, "Hengelo(O)"
        ("GM0820", "RMC37"),  # Nuenen, Gerwen en Nederwetten, "Nuenen c.a."
        ("GM1702", "RMC36"),  # "St. Anthonis", dissolved into Land van Cuijk in 2022
        ("’s-Gravenhage", "RMC28"),
        ("'s-Hertogenbosch", "RMC36"),
        ("Noordwijkerhout", "RMC26"),
        ("GM1940", "RMC05"),  # De Fryske Marren, "De Friese Meren" in Bijlage C
        ("Doesburg", "RMC13"),  # not in gemeenten.csv, still in its region
    ],
)
def test_known_gemeenten_are_in_their_region(gemeente: str, rmc: str) -> None:
    assert rmc_of(gemeente)[0] == rmc


def test_a_gemeente_missing_from_gemeenten_csv_is_no_member(regions: pd.DataFrame) -> None:
    assert "GM0221" in NOT_IN_GEMEENTEN
    assert "GM0221" not in rmc_members("RMC13")
    assert "GM0221" not in set(regions["gemeente_code"])


def test_gemeenten_formed_across_regions_are_listed_and_placed(regions: pd.DataFrame) -> None:
    placed = regions.set_index("gemeente_code")["rmc_code"]
    for code, involved in CROSSES_REGIONS.items():
        assert len(involved) > 1
        assert placed[code] in involved
    # The predecessor carrying the gemeente's name decides ...
    assert placed["GM0080"] == "RMC04"  # Leeuwarden, not Littenseradiel's RMC05
    assert placed["GM0394"] == "RMC21"  # Haarlemmermeer, not Haarlemmerliede's RMC25
    # ... else the majority of the predecessors.
    assert placed["GM1961"] == "RMC30"  # Vijfheerenlanden: Leerdam, Zederik v. Vianen
    assert placed["GM1952"] == "RMC03"  # Midden-Groningen: two v. Menterwolde
    assert "GM1978" not in CROSSES_REGIONS  # Molenlanden: all its parts in RMC30


def test_a_divided_gemeente_in_two_regions_has_no_single_region() -> None:
    with pytest.raises(ParameterError, match=r"Littenseradiel.*RMC04, RMC05"):
        rmc_of("Littenseradiel")
    assert rmc_of("Haren") == rmc_of("GM0014")  # merged whole into Groningen


def test_unknown_region_lists_the_valid_codes() -> None:
    with pytest.raises(ParameterError, match=r"RMC40.*RMC01, RMC02.*RMC39"):
        rmc_members("RMC40")
    with pytest.raises(ParameterError, match="valid codes"):
        rmc_members("Atlantis")


def test_unknown_gemeente_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="Atlantis"):
        rmc_of("Atlantis")


def test_bijlage_c_names_are_kept_as_published() -> None:
    text = resources.files("evaluatie.sources").joinpath("rmc_regios.csv").read_text("utf-8")
    table = pd.read_csv(io.StringIO(text), comment="#")
    assert list(table.columns) == ["rmc_code", "rmc_naam", "gemeente_naam"]
    assert len(table) == 413
    assert not table["gemeente_naam"].duplicated().any()
    assert {"Hellevloetsluis", "’s-Gravenhage", "Edam/Volendam", "Hengelo(O)"} <= set(
        table["gemeente_naam"]
    )
    assert "BWBR0031387" in text and "Bijlage C" in text


def test_match_key_ignores_spelling_variants() -> None:
    assert match_key("’s-Gravenhage") == match_key("'S-GRAVENHAGE")
    assert match_key("Súdwest Fryslân") == match_key("Súdwest-Fryslân")
    assert match_key("St. Michielsgestel") == match_key("Sint-Michielsgestel")
    assert match_key("Millingen a.d. Rijn") == match_key("Millingen aan de Rijn")
    assert match_key("Nuenen c.a.") == "nuenen"
    assert match_key("Bergen (NH)") == match_key("Bergen (NH.)")
    assert match_key("Edam/Volendam") == match_key("Edam-Volendam")


# --- the herindelingen table ---------------------------------------------------------------


def test_herindelingen_columns_years_and_codes(herindelingen: pd.DataFrame) -> None:
    assert list(herindelingen.columns) == [
        "jaar",
        "oude_code",
        "oude_naam",
        "nieuwe_code",
        "nieuwe_naam",
        "bron",
    ]
    assert herindelingen["jaar"].between(2013, 2023).all()
    for column in ("oude_code", "nieuwe_code"):
        assert herindelingen[column].map(lambda c: bool(re.fullmatch(r"GM\d{4}", c))).all()
    assert not herindelingen.duplicated(["jaar", "oude_code", "nieuwe_code"]).any()
    assert (herindelingen["bron"].str.strip() != "").all()


def test_dissolved_codes_are_gone_and_successors_end_in_the_list(
    herindelingen: pd.DataFrame, current_codes: set[str]
) -> None:
    renamed_in_place = herindelingen["oude_code"] == herindelingen["nieuwe_code"]
    dissolved = set(herindelingen.loc[~renamed_in_place, "oude_code"])
    assert not dissolved & current_codes
    ends = successor(pd.Series(sorted(set(herindelingen["nieuwe_code"]))))
    assert set(ends) <= current_codes


def test_known_herindelingen_are_listed(herindelingen: pd.DataFrame) -> None:
    columns = ["jaar", "oude_code", "nieuwe_code"]
    rows = set(herindelingen[columns].itertuples(index=False, name=None))
    assert (2019, "GM0576", "GM0575") in rows  # Noordwijkerhout -> Noordwijk
    assert (2014, "GM0499", "GM0484") in rows  # Boskoop -> Alphen aan den Rijn
    assert (2014, "GM1672", "GM0484") in rows  # Rijnwoude -> Alphen aan den Rijn
    assert (2015, "GM1921", "GM1940") in rows  # De Friese Meren -> De Fryske Marren
    littenseradiel = herindelingen.loc[herindelingen["oude_code"] == "GM0140", "nieuwe_code"]
    assert sorted(littenseradiel) == ["GM0080", "GM1900", "GM1949"]
    haaren = herindelingen.loc[herindelingen["oude_code"] == "GM0788", "nieuwe_code"]
    assert sorted(haaren) == ["GM0757", "GM0824", "GM0855", "GM0865"]


def test_every_merger_into_a_current_gemeente_is_folded(herindelingen: pd.DataFrame) -> None:
    # Gemeenten of 2022-23 formed or enlarged by a herindeling 2013-2022.
    formed = {
        "GM1924", "GM1930", "GM1931", "GM1940", "GM1942", "GM1945", "GM1948", "GM1949",
        "GM1950", "GM1952", "GM1954", "GM1959", "GM1960", "GM1961", "GM1963", "GM1966",
        "GM1969", "GM1970", "GM1978", "GM1979", "GM1980", "GM1982", "GM1991",
    }  # fmt: skip
    enlarged = {
        "GM0014", "GM0074", "GM0080", "GM0299", "GM0361", "GM0385", "GM0394", "GM0439",
        "GM0441", "GM0484", "GM0575", "GM0757", "GM0796", "GM0824", "GM0828", "GM0855",
        "GM0865", "GM1900",
    }  # fmt: skip
    assert formed | enlarged == set(successor(herindelingen["nieuwe_code"]))


# --- successor -----------------------------------------------------------------------------


def test_successor_follows_chains_in_time() -> None:
    codes = pd.Series(["GM0265", "GM0693", "GM0499", "GM0546", "GM0576"], index=[5, 6, 7, 8, 9])
    out = successor(codes)
    # Millingen -> Groesbeek (2015) -> Berg en Dal (2016); Graafstroom -> Molenwaard (2013)
    # -> Molenlanden (2019); Boskoop -> Alphen (2014); Leiden never merged.
    assert out.tolist() == ["GM1945", "GM1978", "GM0484", "GM0546", "GM0575"]
    assert out.index.tolist() == [5, 6, 7, 8, 9]


def test_successor_stops_at_as_of() -> None:
    codes = pd.Series(["GM0265", "GM0693", "GM0576"])
    assert successor(codes, as_of=2015).tolist() == ["GM0241", "GM1927", "GM0576"]
    assert successor(codes, as_of=2012).tolist() == ["GM0265", "GM0693", "GM0576"]


def test_successor_keeps_missing_values_and_the_name() -> None:
    out = successor(pd.Series(["GM0576", None], name="gemeente_code"))
    assert out.iloc[0] == "GM0575"
    assert pd.isna(out.iloc[1])
    assert out.name == "gemeente_code"


def test_a_divided_gemeente_cannot_be_carried() -> None:
    with pytest.raises(DataFormatError, match=r"GM0788 -> GM0757, GM0824, GM0855, GM0865"):
        successor(pd.Series(["GM0546", "GM0788"]))
    with pytest.raises(DataFormatError, match=r"GM0140 -> GM0080, GM1900, GM1949"):
        successor(pd.Series(["GM0140"]))
    # Before its division Haaren is still itself.
    assert successor(pd.Series(["GM0788"]), as_of=2020).tolist() == ["GM0788"]


# --- fold_mergers --------------------------------------------------------------------------


def test_fold_mergers_sums_predecessors_into_their_successor() -> None:
    frame = pd.DataFrame(
        {
            "gemeente_code": ["GM0576", "GM0575", "GM0575", "GM0546", "GM0576", "GM0499"],
            "jaar": [2018, 2018, 2019, 2018, 2017, 2013],
            "leerlingen": [30, 45, 80, 200, 28, 12],
            "vsv": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "naam": ["a", "b", "c", "d", "e", "f"],
        }
    )
    out = fold_mergers(frame, counts=["leerlingen", "vsv"])
    expected = pd.DataFrame(
        {
            "gemeente_code": ["GM0484", "GM0546", "GM0575", "GM0575", "GM0575"],
            "jaar": [2013, 2018, 2017, 2018, 2019],
            "leerlingen": [12, 200, 28, 75, 80],
            "vsv": [6.0, 4.0, 5.0, 3.0, 3.0],
        }
    )
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
    assert frame["leerlingen"].sum() == out["leerlingen"].sum()


def test_fold_mergers_leaves_a_sum_with_a_missing_part_missing() -> None:
    frame = pd.DataFrame(
        {
            "gemeente_code": ["GM0576", "GM0575", "GM0546"],
            "jaar": [2018, 2018, 2018],
            "n": [np.nan, 45.0, np.nan],
        }
    )
    out = fold_mergers(frame, counts=["n"]).set_index("gemeente_code")["n"]
    assert np.isnan(out["GM0575"]) and np.isnan(out["GM0546"])


def test_fold_mergers_with_other_keys_and_a_divided_gemeente() -> None:
    frame = pd.DataFrame(
        {"code": ["GM0370", "GM0439"], "jaar": [2020, 2020], "sector": ["vo", "vo"], "n": [5, 7]}
    )
    out = fold_mergers(frame, code="code", by=["jaar", "sector"], counts=["n"])
    assert out.to_dict("records") == [{"code": "GM0439", "jaar": 2020, "sector": "vo", "n": 12}]
    with pytest.raises(DataFormatError, match="GM0788"):
        fold_mergers(frame.assign(code=["GM0788", "GM0439"]), code="code", counts=["n"])


def test_fold_mergers_refuses_unknown_columns() -> None:
    frame = pd.DataFrame({"gemeente_code": ["GM0546"], "jaar": [2020], "n": [1]})
    with pytest.raises(ParameterError, match="'leerlingen'"):
        fold_mergers(frame, counts=["leerlingen"])
    with pytest.raises(ParameterError, match="'schooljaar'"):
        fold_mergers(frame, by=["schooljaar"], counts=["n"])
