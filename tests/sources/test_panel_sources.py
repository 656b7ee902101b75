"""load_panel with several sources: standardised scales, old and new layouts, user tables."""

from __future__ import annotations

import csv
import shutil
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DataFormatError, DataQualityWarning, ParameterError
from evaluatie.sources.duo import read_duo
from evaluatie.sources.panel import PANEL_COLUMNS, build_panel, load_panel
from evaluatie.synth.files import eindscores_file

PROVIDERS = ("CET", "IEP", "ROUTE8", "DIA", "AMN")


def raw_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def number(text: str) -> float:
    return float(text.replace(",", "."))


# --- standardised scale -------------------------------------------------------------------


@pytest.fixture(scope="module")
def z_sim(small_raw: Path) -> pd.DataFrame:
    return load_panel(small_raw, provider="standardised")


def test_standardised_spans_the_2024_provider_switch(small_raw: Path, z_sim: pd.DataFrame) -> None:
    assert z_sim.attrs["provider"] == "STANDARDISED" and tuple(z_sim.columns) == PANEL_COLUMNS
    cet = load_panel(small_raw)
    assert cet.loc[cet["jaar"] == 2024, "eindtoets"].isna().all()  # CET: a gap in 2024
    per_year = z_sim.groupby("jaar")["eindtoets"]
    assert (per_year.count() > 400).all() and 2024 in per_year.count().index
    for jaar, col in ((2023, "cet_gem"), (2024, "lib_gem")):
        raw = read_duo(small_raw / eindscores_file(jaar)).set_index("vestiging")[col]
        expected = (raw - raw.mean()) / raw.std(ddof=1)
        got = z_sim[z_sim["jaar"] == jaar].set_index("vestiging")["eindtoets"]
        np.testing.assert_allclose(got, expected.reindex(got.index), atol=1e-12)
    # Same schools, same ranking across the switch as between two CET years.
    wide = z_sim.pivot(index="vestiging", columns="jaar", values="eindtoets")
    assert abs(wide[2023].corr(wide[2024]) - wide[2022].corr(wide[2023])) < 0.1
    same = z_sim["jaar"] <= 2023
    assert (z_sim.loc[same, "eindtoets_suppressed"] == cet.loc[same, "eindtoets_suppressed"]).all()
    assert (
        z_sim["eindtoets"].notna().sum() == cet["eindtoets"].notna().sum() + per_year.count()[2024]
    )
    assert load_panel(small_raw, provider="z")["eindtoets"].equals(z_sim["eindtoets"])


def test_standardised_on_the_real_file(real_eindscores: Path) -> None:
    rows = raw_rows(real_eindscores)
    stats = {}
    for p in PROVIDERS:
        means = [number(r[f"{p}_GEM"]) for r in rows if r[f"{p}_AANTAL"] not in ("0", "<5")]
        stats[p] = (statistics.mean(means), statistics.stdev(means))

    def z(p: str, text: str) -> float:
        return (number(text) - stats[p][0]) / stats[p][1]

    panel = load_panel(real_eindscores, provider="standardised").set_index("vestiging")
    ar = next(r for r in rows if r["INSTELLINGSCODE"] == "00AR")  # CET only: "20";537,45
    assert (ar["CET_AANTAL"], ar["CET_GEM"]) == ("20", "537,45")
    assert panel.loc["00AR00", "eindtoets"] == pytest.approx(z("CET", "537,45"), abs=1e-12)
    # 00BW: CET "<5"/NA, IEP "15";78,6: the IEP z-score, not suppressed.
    assert panel.loc["00BW00", "eindtoets"] == pytest.approx(z("IEP", "78,6"), abs=1e-12)
    assert (
        panel.loc["00BW00", "eindtoets_n"] == 15 and not panel.loc["00BW00", "eindtoets_suppressed"]
    )
    # Two providers: the takers-weighted mean of the two z-scores.
    two = next(r for r in rows if sum(r[f"{p}_AANTAL"] not in ("0", "<5") for p in PROVIDERS) == 2)
    used = [p for p in PROVIDERS if two[f"{p}_AANTAL"] not in ("0", "<5")]
    n = [int(two[f"{p}_AANTAL"]) for p in used]
    combined = sum(k * z(p, two[f"{p}_GEM"]) for k, p in zip(n, used, strict=True)) / sum(n)
    key = two["INSTELLINGSCODE"] + two["VESTIGINGSCODE"]
    assert panel.loc[key, "eindtoets"] == pytest.approx(combined, abs=1e-12)
    assert panel.loc[key, "eindtoets_n"] == sum(n)
    # Only a suppressed provider: no score, flagged suppressed.
    hidden = [
        r["INSTELLINGSCODE"] + r["VESTIGINGSCODE"]
        for r in rows
        if all(r[f"{p}_AANTAL"] in ("0", "<5") for p in PROVIDERS)
        and any(r[f"{p}_AANTAL"] == "<5" for p in PROVIDERS)
    ]
    assert (
        panel.loc[hidden, "eindtoets_suppressed"].all()
        and panel.loc[hidden, "eindtoets"].isna().all()
    )
    assert (~panel["eindtoets_suppressed"]).sum() == panel["eindtoets"].notna().sum() + sum(
        all(r[f"{p}_AANTAL"] == "0" for p in PROVIDERS) for r in rows
    )


def test_small_provider_groups_are_reported(real_eindscores: Path, tmp_path: Path) -> None:
    head = real_eindscores.read_bytes().split(b"\r\n")[:121]
    path = tmp_path / "eindscores-2022-2023.csv"
    path.write_bytes(b"\r\n".join(head) + b"\r\n")
    rows = raw_rows(path)
    small = [
        p for p in PROVIDERS if 0 < sum(r[f"{p}_AANTAL"] not in ("0", "<5") for r in rows) < 20
    ]
    assert small  # the first 120 rows have few DIA/AMN schools
    with pytest.warns(DataQualityWarning, match="too few schools") as record:
        panel = load_panel(path, provider="standardised").set_index("vestiging")
    assert all(f"{p} 2022-2023" in str(record[0].message) for p in small)
    only_small = [
        r["INSTELLINGSCODE"] + r["VESTIGINGSCODE"]
        for r in rows
        if any(r[f"{p}_AANTAL"] not in ("0", "<5") for p in small)
        and all(r[f"{p}_AANTAL"] in ("0", "<5") for p in PROVIDERS if p not in small)
    ]
    assert panel.loc[only_small, "eindtoets"].isna().all()


def test_unknown_provider(small_raw: Path) -> None:
    with pytest.raises(ParameterError, match="standardised"):
        load_panel(small_raw, provider="cito")


# --- stacking old and new layouts -----------------------------------------------------------


def test_brin_and_new_layouts_stack_on_vestiging(real_eindscores: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    new = real_eindscores.read_bytes().split(b"\r\n")[:11]  # header + 10 schools, 2022-23
    (raw / "05.-gemiddelde-eindscores-bo-sbo-2022-2023.csv").write_bytes(
        b"\r\n".join(new) + b"\r\n"
    )
    (raw / "05.-gemiddelde-eindscores-bo-sbo-2017-2018.csv").write_text(
        "BRIN_NUMMER;VESTIGINGSNUMMER;LEERJAAR_8;ONTHEFFING_REDEN_ND;CET_AANTAL;CET_GEM;"
        "IEP_AANTAL;IEP_GEM;ROUTE8_AANTAL;ROUTE8_GEM;DIA_AANTAL;DIA_GEM;AMN_AANTAL;AMN_GEM\n"
        '"00AP";"0";"25";"0";"24";536,2;"0";0;"0";0;"0";0;"0";0\n'
        '"00AZ";"0";"20";"0";"19";533,4;"0";0;"0";0;"0";0;"0";0\n'
        '"99XY";"1";"12";"0";"12";530;"0";0;"0";0;"0";0;"0";0\n',
        encoding="utf-8",
    )
    # Same school year, with gemeenten: 00AZ was in Molenwaard (GM1927) before the 2019
    # merger into Molenlanden (GM1978).
    (raw / "10.-leerlingen-bo-referentieniveaus-2017-2018.csv").write_text(
        "PEILDATUM;BRIN_NUMMER;VESTIGINGSNUMMER;GEMEENTENUMMER;GEMEENTENAAM;REKENEN_LAGER1F;"
        "REKENEN_1F;REKENEN_1S;REKENEN_2F;LV_LAGER1F;LV_1F;LV_2F;TV_LAGER1F;TV_1F;TV_2F\n"
        '"20180417";"00AP";"0";"637";"Zoetermeer";"1";"4";"6";"0";"0";"2";"9";"0";"2";"9"\n'
        '"20180417";"00AZ";"0";"1927";"Molenwaard";"2";"8";"1";"8";"0";"5";"14";"0";"4";"15"\n',
        encoding="utf-8",
    )
    panel = load_panel(raw).set_index(["vestiging", "jaar"])
    assert panel.index.is_unique
    assert panel.loc[("00AP00", 2018), "eindtoets"] == 536.2
    assert panel.loc[("00AP00", 2023), "eindtoets"] == 533.5  # raw: "18";533,5
    # The gemeente of each year comes from that year's files.
    assert panel.loc[("00AZ00", 2018), "gemeente_code"] == "GM1927"
    assert panel.loc[("00AZ00", 2018), "gemeente_naam"] == "Molenwaard"
    assert panel.loc[("00AZ00", 2023), "gemeente_code"] == "GM1978"  # raw: "1978"
    assert pd.isna(panel.loc[("99XY01", 2018), "gemeente_code"])  # no source that year
    # Rekenen target level = 1S + 2F: (1 + 8) / (2 + 8 + 1 + 8).
    assert panel.loc[("00AZ00", 2018), "rekenen_1s"] == pytest.approx(9 / 19)
    assert panel.loc[("00AZ00", 2018), "rekenen_ge1f"] == pytest.approx(17 / 19)
    assert pd.isna(panel.loc[("00AZ00", 2023), "rekenen_1s"])


# --- user treatment data --------------------------------------------------------------------


@pytest.fixture
def raw_copy(small_raw: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(small_raw, tmp_path / "raw"))


def test_budget_table_is_merged_and_unmatched_rows_listed(raw_copy: Path) -> None:
    # The simulator's own budget table makes way for the user's (one budget table only).
    (raw_copy / "oab-budget-gemeenten.csv").unlink(missing_ok=True)
    budget = raw_copy / "mijn-oab-budget.csv"
    budget.write_text(
        '"GEMEENTECODE";"JAAR";"BUDGET_EUR";"DOELGROEPKINDEREN"\n'
        '"GM0546";"2019";3200000;400\n'
        '"GM0546";"2020";2539000;410\n'
        '"34";"2019";4390000;900\n'
        '"GM9999";"2019";100000;10\n',
        encoding="utf-8",
    )
    with pytest.warns(DataQualityWarning, match=r"GM9999") as record:
        panel = load_panel(raw_copy)
    assert "mijn-oab-budget.csv" in str(record[0].message)
    # Years are not checked: 2020 has no eindtoets at all, and that is no mismatch.
    assert "2020" not in str(record[0].message)
    leiden = panel[(panel["gemeente_code"] == "GM0546") & (panel["jaar"] == 2019)]
    assert len(leiden) > 0 and (leiden["oab_budget_eur"] == 3200000.0).all()
    assert (leiden["doelgroepkinderen"] == 400).all()
    almere = panel[(panel["gemeente_code"] == "GM0034") & (panel["jaar"] == 2019)]
    assert (almere["oab_budget_eur"] == 4390000.0).all()
    other = ~(panel["gemeente_code"].isin(["GM0546", "GM0034"]) & (panel["jaar"] == 2019))
    assert panel.loc[other, "oab_budget_eur"].isna().all()
    with pytest.raises(DataFormatError, match="GM9999") as err:
        load_panel(raw_copy, unmatched_budget="error")
    assert err.value.path == budget and err.value.column == "GEMEENTECODE"


def test_bad_user_table_is_an_error_not_skipped(raw_copy: Path) -> None:
    path = raw_copy / "subsidies-2024.csv"
    path.write_text(
        '"INSTELLINGSCODE";"VESTIGINGSCODE";"EERSTE_SCHOOLJAAR";"BEDRAG"\n'
        '"12AB";"00";"2017-2018";15000\n'
        '"12AB";"00";"2018-2019";-3\n',
        encoding="utf-8",
    )
    (raw_copy / "innovatiebudget-subsidies.csv").unlink()
    with pytest.raises(DataFormatError, match=r"0\.\.inf") as err:
        load_panel(raw_copy)
    assert (err.value.path, err.value.line, err.value.column) == (path, 3, "BEDRAG")


def test_build_panel_on_a_bad_folder_writes_nothing(raw_copy: Path, tmp_path: Path) -> None:
    path = raw_copy / eindscores_file(2019)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # truncated last line
    out = tmp_path / "processed" / "panel.parquet"
    with pytest.raises(DataFormatError, match="truncated") as err:
        build_panel(raw_copy, out)
    assert err.value.path == path and err.value.line == data.count(b"\r\n")
    assert not out.parent.exists()
    utf16 = raw_copy / "vestigingen-extra.csv"
    utf16.write_bytes('"INSTELLINGSCODE";"VESTIGINGSCODE"\r\n'.encode("utf-16"))
    path.write_bytes(data)
    with pytest.raises(DataFormatError, match="NUL bytes") as err:
        build_panel(raw_copy, out)
    assert err.value.path == utf16 and err.value.line == 1
    assert not out.parent.exists()
