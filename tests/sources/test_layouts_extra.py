"""Layout descriptions beyond eindscores: hand-made files in the publishers' layouts."""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DataFormatError, ParameterError
from evaluatie.sources.duo import match_layout, read_duo
from evaluatie.sources.layouts import LAYOUTS
from evaluatie.sources.tidy import read_duo_long, read_vsv
from evaluatie.sources.writer import write_duo
from evaluatie.synth.files import VSV_FILE


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


ADVIES_NEW = (
    "VSO;PRO;VMBO_B;VMBO_B_K;VMBO_K;VMBO_K_GT;VMBO_GT;VMBO_GT_HAVO;HAVO;HAVO_VWO;VWO;"
    "ADVIES_NIET_MOGELIJK"
)
ADVIES_OLD = ADVIES_NEW.replace(
    "VMBO_B;VMBO_B_K;VMBO_K;VMBO_K_GT", "VMBO_BL;VMBO_BL_KL;VMBO_KL;VMBO_KL_GT"
)
COUNTS = '"0";"<5";"3";"0";"7";"2";"10";"4";"12";"6";"9";"0"'


# --- identifiers: old BRIN layout ---------------------------------------------------------


def test_brin_number_and_one_digit_vestigingsnummer_become_the_new_codes(tmp_path: Path) -> None:
    """BRIN_NUMMER is the INSTELLINGSCODE; VESTIGINGSNUMMER 1 is VESTIGINGSCODE 01."""
    header = (
        "BRIN_NUMMER;VESTIGINGSNUMMER;LEERJAAR_8;ONTHEFFING_REDEN_ND;CET_AANTAL;CET_GEM;"
        "IEP_AANTAL;IEP_GEM;ROUTE8_AANTAL;ROUTE8_GEM;DIA_AANTAL;DIA_GEM;AMN_AANTAL;AMN_GEM"
    )
    rows = [
        '"00AP";"0";"25";"0";"24";536,2;"0";0;"0";0;"0";0;"0";0',
        '"00AP";"1";"12";"<5";"11";531,0;"0";0;"0";0;"0";0;"0";0',
        '"12AB";"2";"30";"0";"0";0;"29";79,5;"0";0;"0";0;"0";0',
        '"12AB";"12";"8";"0";"8";540;"0";0;"0";0;"0";0;"0";0',
    ]
    path = write(tmp_path / "05.-gemiddelde-eindscores-bo-sbo-2017-2018.csv", [header, *rows])
    back = read_duo(path)
    assert back.attrs["layout"] == "eindscores-brin-2016"
    assert back.attrs["schooljaar"] == "2017-2018"
    assert back["instellingscode"].tolist() == ["00AP", "00AP", "12AB", "12AB"]
    assert back["vestigingscode"].tolist() == ["00", "01", "02", "12"]
    assert back["vestiging"].tolist() == ["00AP00", "00AP01", "12AB02", "12AB12"]
    rows.append('"12AB";"123";"8";"0";"8";540;"0";0;"0";0;"0";0;"0";0')
    bad = write(tmp_path / "bad-2017-2018.csv", [header, *rows])
    with pytest.raises(DataFormatError, match="vestigingsnummer of 1-2 digits") as err:
        read_duo(bad)
    assert (err.value.line, err.value.column) == (6, "VESTIGINGSNUMMER")


# --- schooladviezen -----------------------------------------------------------------------


def test_schooladviezen_new_layout(tmp_path: Path) -> None:
    header = (
        "PEILDATUM_LEERLINGEN;PRIKDATUM_ADVIEZEN;INSTELLINGSCODE;VESTIGINGSCODE;"
        f"GEMEENTENUMMER;{ADVIES_NEW}"
    )
    path = write(tmp_path / "a.csv", [header, f'"20231001";"20240701";"00AP";"00";"637";{COUNTS}'])
    back = read_duo(path)
    assert back.attrs["layout"] == "schooladviezen" and back.attrs["schooljaar"] == "2023-2024"
    assert back["vmbo_gt_havo"].iloc[0] == 4 and back["gemeente_code"].iloc[0] == "GM0637"
    assert bool(back["pro_suppressed"].iloc[0]) and pd.isna(back["pro"].iloc[0])
    assert "totaal_advies" not in back  # optional column, absent here


def test_old_advice_spellings_map_to_one_vocabulary(tmp_path: Path) -> None:
    new = write(
        tmp_path / "new-2018-2019.csv",
        [f"INSTELLINGSCODE;VESTIGINGSCODE;{ADVIES_NEW}", f'"00AP";"00";{COUNTS}'],
    )
    old = write(
        tmp_path / "old-2018-2019.csv",
        [
            "PEILDATUM_LEERLINGEN;PEILDATUM_ADVIEZEN;BRIN_NUMMER;VESTIGINGSNUMMER;"
            f"{ADVIES_OLD};TOTAAL_ADVIES",
            f'"20181001";"20190601";"00AP";"0";{COUNTS};"53"',
        ],
    )
    a, b = read_duo(new), read_duo(old)
    assert b.attrs["layout"] == "schooladviezen-brin"
    cols = [c.lower() for c in ADVIES_NEW.split(";")]
    pd.testing.assert_frame_equal(a[["vestiging", *cols]], b[["vestiging", *cols]])
    assert b["totaal_advies"].iloc[0] == 53
    long = read_duo_long(old)
    assert long["measure"].tolist()[:5] == ["vso", "pro", "vmbo_b", "vmbo_b_k", "vmbo_k"]
    both = write(
        tmp_path / "both.csv",
        [f"INSTELLINGSCODE;VESTIGINGSCODE;{ADVIES_NEW};VMBO_BL", f'"00AP";"00";{COUNTS};"3"'],
    )
    with pytest.raises(DataFormatError, match=r"VMBO_BL \(another spelling of VMBO_B\)"):
        read_duo(both)


# --- referentieniveaus ---------------------------------------------------------------------

REF_COUNTS = (
    "REKENEN_LAGER1F;REKENEN_1F;REKENEN_1S;REKENEN_2F;LV_LAGER1F;LV_1F;LV_2F;TV_LAGER1F;TV_1F;TV_2F"
)


def test_referentieniveaus_real_layouts(tmp_path: Path) -> None:
    """The 2015-19 BRIN layout (April PEILDATUM) and the later one without dates."""
    old = write(
        tmp_path / "ref-old.csv",
        [
            "PEILDATUM;BRIN_NUMMER;VESTIGINGSNUMMER;INSTELLINGSNAAM_VESTIGING;GEMEENTENUMMER;"
            f"GEMEENTENAAM;SOORT_PO;{REF_COUNTS}",
            '"20190417";"00AP";"0";"Wereldwijs";"637";"Zoetermeer";"Bo";'
            '"1";"4";"6";"0";"0";"2";"9";"0";"2";"9"',
            '"20190417";"00AZ";"0";"De Stapsteen";"1927";"Molenwaard";"Bo";'
            '"2";"8";"1";"8";"0";"5";"14";"0";"4";"15"',
        ],
    )
    back = read_duo(old)
    assert back.attrs["layout"] == "referentieniveaus-brin"
    assert back.attrs["schooljaar"] == "2018-2019"  # an April test date: same school year
    assert back["rekenen_2f"].tolist() == [0, 8] and back["gemeente_code"].tolist()[1] == "GM1927"
    new = write(
        tmp_path / "10.-leerlingen-bo-referentieniveaus-2024-2025.csv",
        [
            f"INSTELLINGSCODE;VESTIGINGSCODE;PRIKDATUM;{REF_COUNTS}",
            '"00AP";"00";"20250601";"<5";"5";"9";"0";"0";"3";"12";"0";"4";"11"',
        ],
    )
    back = read_duo(new)
    assert back.attrs["layout"] == "referentieniveaus" and back.attrs["schooljaar"] == "2024-2025"
    assert back["prikdatum"].iloc[0] == pd.Timestamp("2025-06-01")


# --- CBS VSV --------------------------------------------------------------------------------

VSV_HEADER = (
    '"ID";"Geslacht";"Regiokenmerken";"Perioden";"Leerlingen_1";'
    '"VoortijdigSchoolverlaters_2";"VoortijdigSchoolverlatersPercentage_4"'
)


def test_cbs_vsv_table_with_padding_dots_and_period_formats(tmp_path: Path) -> None:
    path = write(
        tmp_path / "84780NED.csv",
        [
            VSV_HEADER,
            '0;"T001038 ";"NL01    ";"2019SJ00";  1303502;   22421;     1.72',
            '1;"T001038 ";"GM0546  ";"2019MJ00";     8012;     121;      1.5',
            '2;"T001038 ";"GM0546  ";"2020/\'21";     8100;       .;        .',
            '3;"3000    ";"GM0546  ";"2019/2020";     4010;      70;      1.7',
            '4;"T001038 ";"PV28    ";"2019-2020";   500000;    9000;      1.8',
        ],
    )
    frame = read_duo(path)
    assert frame.attrs["layout"] == "vsv-cbs-84780NED"
    assert frame["schooljaar"].tolist() == [
        "2019-2020",
        "2019-2020",
        "2020-2021",
        "2019-2020",
        "2019-2020",
    ]
    assert frame["regio"].tolist()[:2] == ["NL01", "GM0546"]
    vsv = read_vsv(path)
    assert vsv["gemeente_code"].tolist() == ["GM0546", "GM0546"]
    assert vsv["jaar"].tolist() == [2020, 2021]
    assert vsv["leerlingen"].tolist() == [8012, 8100] and pd.isna(vsv["vsv"].iloc[1])
    assert vsv["vsv_percentage"].iloc[0] == pytest.approx(1.5)
    assert vsv.attrs["other_regions"] == 1  # the province (NL01 is the national row)
    both = read_vsv(path, national=True)
    assert both.loc[both["regio"] == "NL01", "vsv"].tolist() == [22421]
    assert read_vsv(path, geslacht="3000")["vsv"].tolist() == [70]
    with pytest.raises(ParameterError, match="T001038"):
        read_vsv(path, geslacht="4000")


def test_cbs_vsv_bad_period_and_region(tmp_path: Path) -> None:
    lines = [
        VSV_HEADER,
        '0;"T001038";"GM0546";"2019SJ00";10;1;10',
        '1;"T001038";"GM0546";"2019KW01";10;1;10',
    ]
    with pytest.raises(DataFormatError, match="2019KW01") as err:
        read_duo(write(tmp_path / "p.csv", lines))
    assert (err.value.line, err.value.column) == (3, "Perioden")
    lines[2] = '1;"T001038";"Leiden";"2020SJ00";10;1;10'
    with pytest.raises(DataFormatError, match="region code") as err:
        read_duo(write(tmp_path / "r.csv", lines))
    assert (err.value.line, err.value.column) == (3, "Regiokenmerken")
    lines[2] = '1;"T001038";"GM0546";"2019/\'20";10;1;10'
    with pytest.raises(DataFormatError, match="duplicate") as err:
        read_duo(write(tmp_path / "d.csv", lines))
    assert err.value.line == 3 and "first on line 2" in str(err.value)


def test_simulated_vsv_is_realistic_and_round_trips(small_raw: Path, tmp_path: Path) -> None:
    path = small_raw / VSV_FILE
    national = read_vsv(path, national=True)
    nl = national[national["regio"] == "NL01"]
    rate = 100 * nl["vsv"].astype(float) / nl["leerlingen"].astype(float)
    assert rate.between(
        1.5, 2.4
    ).all()  # docs/domain.md §6: 1.72-2.1% (sampling noise at scale 0.1)
    gm = national[national["gemeente_code"].notna()]
    assert gm["vsv_percentage"].to_numpy() == pytest.approx(
        np.round(100 * gm["vsv"].astype(float) / gm["leerlingen"].astype(float), 2)
    )
    sums = gm.groupby("jaar")[["leerlingen", "vsv"]].sum()
    assert (sums["vsv"].to_numpy() == nl.set_index("jaar").loc[sums.index, "vsv"].to_numpy()).all()
    assert set(gm["jaar"]) == set(range(2014, 2025))
    frame = read_duo(path)
    copy = write_duo(frame, tmp_path / "copy.csv", "vsv-cbs-84780NED")
    assert copy.read_bytes() == path.read_bytes()


def test_simulated_vsv_national_rate_at_scale_one(full_raw: Path) -> None:
    nl = read_vsv(full_raw / VSV_FILE, national=True).query("regio == 'NL01'")
    rate = 100 * nl["vsv"].astype(float) / nl["leerlingen"].astype(float)
    assert rate.between(1.65, 2.15).all()


# --- user treatment tables ----------------------------------------------------------------


def test_budget_layout_and_its_errors(tmp_path: Path) -> None:
    header = '"GEMEENTECODE";"JAAR";"BUDGET_EUR";"DOELGROEPKINDEREN"'
    good = [header, '"GM0546";"2020";2539000;410', '"34";"2020";"12127000,50";1630']
    back = read_duo(write(tmp_path / "b.csv", good))
    assert back.attrs["layout"] == "oab-budget"
    assert back["gemeente_code"].tolist() == ["GM0546", "GM0034"]
    assert back["budget_eur"].tolist() == [2539000.0, 12127000.5]
    for bad, line, column, what in (
        ('"GM0546";"2021";-5;410', 4, "BUDGET_EUR", "0..inf"),
        ('"GM0546";"2020";5;410', 4, "GEMEENTECODE+JAAR", "duplicate"),
        ('"Leiden";"2021";5;410', 4, "GEMEENTECODE", "gemeentenummer"),
        ('"GM0546";"20";5;410', 4, "JAAR", "2000..2100"),
    ):
        with pytest.raises(DataFormatError, match=re.escape(what)) as err:
            read_duo(write(tmp_path / "bad.csv", [*good, bad]))
        assert (err.value.line, err.value.column) == (line, column)


def test_grant_table_errors_name_the_line(tmp_path: Path) -> None:
    header = '"INSTELLINGSCODE";"VESTIGINGSCODE";"EERSTE_SCHOOLJAAR";"BEDRAG"'
    good = [header, '"12AB";"00";"2017-2018";15000', '"12AB";"01";"2020-2021";7500']
    assert read_duo(write(tmp_path / "g.csv", good))["vestiging"].tolist() == ["12AB00", "12AB01"]
    for bad, column, what in (
        ('"12AB";"02";"2017-2018";-1', "BEDRAG", "0..inf"),
        ('"12AB";"00";"2019-2020";100', "INSTELLINGSCODE+VESTIGINGSCODE", "duplicate"),
        ('"12AB";"2";"2017-2018";100', "VESTIGINGSCODE", "vestigingscode"),
        ('"12AB";"03";"2017-2019";100', "EERSTE_SCHOOLJAAR", "school year"),
    ):
        with pytest.raises(DataFormatError, match=re.escape(what)) as err:
            read_duo(write(tmp_path / "bad.csv", [*good, bad]))
        assert (err.value.line, err.value.column) == (4, column)


# --- header matching ----------------------------------------------------------------------


def test_unknown_header_names_closest_layout_and_all_known(tmp_path: Path) -> None:
    header = f"INSTELLINGSCODE;VESTIGINGSCODE;{ADVIES_NEW.replace('HAVO_VWO', 'HAVO/VWO')}"
    with pytest.raises(DataFormatError) as err:
        read_duo(write(tmp_path / "x.csv", [header, f'"00AP";"00";{COUNTS}']))
    msg = str(err.value)
    assert "closest is 'schooladviezen'" in msg
    assert "misses HAVO_VWO" in msg and "does not expect HAVO/VWO" in msg
    assert all(name in msg for name in LAYOUTS) and err.value.line == 1


def test_every_layout_is_found_by_its_own_header() -> None:
    for layout in LAYOUTS.values():
        assert match_layout([c.name for c in layout.columns]) is layout
        assert match_layout([c.name.lower() for c in layout.required]) is layout
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len({frozenset(c.name for c in lay.required) for lay in LAYOUTS.values()}) == len(
            LAYOUTS
        )


# --- long form ------------------------------------------------------------------------------


def test_long_form_of_the_real_eindscores_file(real_eindscores: Path) -> None:
    with real_eindscores.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, data = rows[0], rows[1:]
    measures = [h for h in header if h.endswith(("_AANTAL", "_GEM")) or h.startswith("ONTHEFFING")]
    long = read_duo_long(real_eindscores)
    assert len(long) == len(data) * len(measures)
    assert list(long.columns) == [
        "instellingscode", "vestigingscode", "vestiging", "gemeente_code",
        "schooljaar", "measure", "value", "suppressed",
    ]  # fmt: skip
    assert (long["schooljaar"] == "2022-2023").all()
    assert long["gemeente_code"].str.fullmatch(r"GM\d{4}").all()
    bw = long[long["vestiging"] == "00BW00"].set_index("measure")
    raw_bw = dict(zip(header, next(r for r in data if r[2] == "00BW"), strict=True))
    assert (raw_bw["CET_AANTAL"], raw_bw["CET_GEM"]) == ("<5", "NA")
    assert bw.loc["cet_aantal", "suppressed"] and bw.loc["cet_gem", "suppressed"]
    assert np.isnan(bw.loc["cet_gem", "value"])
    assert bw.loc["iep_gem", "value"] == pytest.approx(float(raw_bw["IEP_GEM"].replace(",", ".")))
    assert bw["gemeente_code"].iloc[0] == f"GM{int(raw_bw['GEMEENTENUMMER']):04d}"
    raw_suppressed = sum(v == "<5" for r in data for v in r)
    gem_of_suppressed = sum(
        r[header.index(h)] == "<5"
        for r in data
        for h in header
        if h.endswith("_AANTAL") and h != "ONTHEFFING_REDEN_ND"
    )
    assert long["suppressed"].sum() == raw_suppressed + gem_of_suppressed


def test_long_form_needs_a_school_year(tmp_path: Path) -> None:
    header = (
        "BRIN_NUMMER;VESTIGINGSNUMMER;LEERJAAR_8;ONTHEFFING_REDEN_ND;CET_AANTAL;CET_GEM;"
        "IEP_AANTAL;IEP_GEM;ROUTE8_AANTAL;ROUTE8_GEM"
    )
    path = write(
        tmp_path / "eindscores-oud.csv", [header, '"00AP";"0";"25";"0";"24";536,2;"0";0;"0";0']
    )
    with pytest.raises(DataFormatError, match="cannot tell the school year") as err:
        read_duo_long(path)
    assert err.value.path == path
    renamed = path.rename(tmp_path / "eindscores-2015-2016.csv")
    assert set(read_duo_long(renamed)["schooljaar"]) == {"2015-2016"}
