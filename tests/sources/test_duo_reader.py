"""DUO text conventions: the reader on real and malformed files, and writer round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DataFormatError, ParameterError
from evaluatie.sources.duo import read_duo
from evaluatie.sources.gemeenten import derive_gemeenten, gemeente_code, load_gemeenten
from evaluatie.sources.layouts import LAYOUTS, Column, Layout
from evaluatie.sources.writer import write_duo


def raw_fields(path: Path, instellingscode: str) -> dict[str, str]:
    """The raw text fields of one vestiging, split naively (the names used have no ';')."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [h.strip('"') for h in lines[0].split(";")]
    for line in lines[1:]:
        if f';"{instellingscode}";' in line:
            return dict(zip(header, line.split(";"), strict=True))
    raise AssertionError(f"{instellingscode} not in {path}")


# --- the real 2022-23 file --------------------------------------------------------------


@pytest.fixture(scope="module")
def real(real_eindscores: Path) -> pd.DataFrame:
    return read_duo(real_eindscores)


def test_real_file_rows_layout_and_year(real: pd.DataFrame, real_eindscores: Path) -> None:
    data_lines = real_eindscores.read_bytes().count(b"\r\n") - 1
    assert len(real) == data_lines == 4693
    assert real.attrs["layout"] == "eindscores-2022"
    assert real.attrs["schooljaar"] == "2022-2023"
    assert real["vestiging"].is_unique


def test_real_file_spot_checks_against_raw_text(real: pd.DataFrame, real_eindscores: Path) -> None:
    ar = raw_fields(real_eindscores, "00AR")
    row = real.set_index("vestiging").loc["00AR00"]
    assert ar["CET_GEM"] == "537,45" and row["cet_gem"] == pytest.approx(537.45)
    assert ar["CET_AANTAL"] == '"20"' and row["cet_aantal"] == 20
    assert ar["INSTELLINGSNAAM_VESTIGING"] == '"BS ""De Maasparel"""'
    assert row["instellingsnaam_vestiging"] == 'BS "De Maasparel"'
    assert ar["IEP_AANTAL"] == '"0"' and ar["IEP_GEM"] == "0"
    assert row["iep_aantal"] == 0 and np.isnan(row["iep_gem"])  # unused provider: no score

    bw = raw_fields(real_eindscores, "00BW")
    row = real.set_index("vestiging").loc["00BW00"]
    assert (bw["CET_AANTAL"], bw["CET_GEM"]) == ('"<5"', "NA")
    assert pd.isna(row["cet_aantal"]) and np.isnan(row["cet_gem"])
    assert bool(row["cet_aantal_suppressed"]) is True
    assert row["iep_aantal"] == int(bw["IEP_AANTAL"].strip('"'))
    assert row["iep_gem"] == pytest.approx(float(bw["IEP_GEM"].replace(",", ".")))

    ap = raw_fields(real_eindscores, "00AP")
    row = real.set_index("vestiging").loc["00AP00"]
    assert ap["GEMEENTENUMMER"] == '"637"'
    assert row["gemeente_code"] == "GM0637" and row["gemeentenummer"] == 637


def test_real_file_suppression_never_becomes_zero(
    real: pd.DataFrame, real_eindscores: Path
) -> None:
    raw_suppressed = real_eindscores.read_text(encoding="utf-8").count('"<5"')
    flags = real.filter(like="_suppressed").to_numpy().sum()
    assert flags == raw_suppressed
    for provider in ("cet", "iep", "route8", "dia", "amn"):
        flagged = real[f"{provider}_aantal_suppressed"]
        assert real.loc[flagged, f"{provider}_aantal"].isna().all()
        assert real.loc[flagged, f"{provider}_gem"].isna().all()


def test_writer_reproduces_the_real_file_byte_for_byte(
    real: pd.DataFrame, real_eindscores: Path, tmp_path: Path
) -> None:
    out = write_duo(real, tmp_path / "copy.csv", "eindscores-2022")
    assert out.read_bytes() == real_eindscores.read_bytes()


# --- round trips --------------------------------------------------------------------------


def small_frame() -> pd.DataFrame:
    """Three vestigingen covering quoting, suppression and unused providers."""
    frame = pd.DataFrame(
        {
            "peildatum_leerlingen": pd.Timestamp("2017-10-01"),
            "prikdatum": pd.Timestamp("2018-06-01"),
            "instellingscode": ["00AP", "12AB", "12AB"],
            "vestigingscode": ["00", "00", "01"],
            "instellingsnaam_vestiging": ['BS "De Linde"', "Het Mozaïek", "OBS 't Kompas; Noord"],
            "postcode_vestiging": ["2716PH", "2311AB", "1011AA"],
            "plaatsnaam": ["ZOETERMEER", "LEIDEN", "ALMERE"],
            "gemeentenummer": [637, 546, 34],
            "gemeentenaam": ["Zoetermeer", "Leiden", "Almere"],
            "provincie": ["Zuid-Holland", "Zuid-Holland", "Flevoland"],
            "soort_po": ["Bo", "Bo", "Sbo"],
            "denominatie_vestiging": ["Openbaar", "Samenwerking PC, RK", "Openbaar"],
            "bevoegd_gezag_nummer": ["41646", "41797", "40001"],
            "ontheffing_reden_nd": [0, 3, 7],
        }
    )
    for p in ("cet", "iep", "route8", "dia", "amn"):
        frame[f"{p}_aantal"] = 0
        frame[f"{p}_gem"] = np.nan
    frame["cet_aantal"] = [18, 4, 0]
    frame["cet_gem"] = [533.5, 530.25, np.nan]
    frame["iep_aantal"] = [0, 0, 9]
    frame["iep_gem"] = [np.nan, np.nan, 79.0 + 1.0 / 3.0]
    return frame


def test_writer_follows_duo_conventions(tmp_path: Path) -> None:
    path = write_duo(small_frame(), tmp_path / "x.csv", "eindscores-2022")
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 4 and b"\n" not in raw.replace(b"\r\n", b"")
    assert not raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8").split("\r\n")
    assert lines[0].startswith('"PEILDATUM_LEERLINGEN";"PRIKDATUM_SCORES";"INSTELLINGSCODE"')
    assert lines[1].startswith('"20171001";"20180601";"00AP";"00";"BS ""De Linde""";')
    assert ';"637";"Zoetermeer";' in lines[1]
    assert ';"18";533,5;"0";0;' in lines[1]
    # Counts 1-4 are suppressed: 3 exempt pupils and 4 CET takers.
    assert ';"41797";"<5";"<5";NA;"0";0;' in lines[2]
    assert ';"34";"Almere";' in lines[3] and ';"9";79,3333333333333;' in lines[3]


def test_round_trip_writer_reader(tmp_path: Path) -> None:
    frame = small_frame()
    back = read_duo(write_duo(frame, tmp_path / "x.csv", "eindscores-2022"))
    assert back["vestiging"].tolist() == ["00AP00", "12AB00", "12AB01"]
    assert back["instellingsnaam_vestiging"].tolist() == frame["instellingsnaam_vestiging"].tolist()
    assert back["gemeente_code"].tolist() == ["GM0637", "GM0546", "GM0034"]
    assert back["cet_aantal_suppressed"].tolist() == [False, True, False]
    assert back["cet_aantal"].iloc[0] == 18 and pd.isna(back["cet_aantal"].iloc[1])
    np.testing.assert_allclose(back["cet_gem"], [533.5, np.nan, np.nan])
    assert back["iep_gem"].iloc[2] == pytest.approx(79.0 + 1.0 / 3.0, abs=1e-12)
    assert (back["peildatum_leerlingen"] == pd.Timestamp("2017-10-01")).all()


def test_round_trip_2023_layout_quotes_means(tmp_path: Path) -> None:
    frame = small_frame().drop(columns=["cet_aantal", "cet_gem"])
    frame["doe_aantal"], frame["doe_gem"] = 0, np.nan
    frame["lib_aantal"], frame["lib_gem"] = [20, 2, 0], [174.25, 170.0, np.nan]
    path = write_duo(frame, tmp_path / "y.csv", "eindscores-2023")
    text = path.read_text(encoding="utf-8")
    assert '"PRIKDATUM"' in text and "CET_" not in text
    assert ';"20";"174,25"' in text and ';"<5";NA' in text and ';"0";"0"' in text
    back = read_duo(path)
    assert back.attrs["layout"] == "eindscores-2023"
    np.testing.assert_allclose(back["lib_gem"], [174.25, np.nan, np.nan])


def test_writer_refuses_incomplete_frame(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="cet_gem"):
        write_duo(small_frame().drop(columns="cet_gem"), tmp_path / "z.csv", "eindscores-2022")


# --- variants the reader must accept -------------------------------------------------------


def test_bom_cp1252_zero_padding_quoting_and_order(real_eindscores: Path, tmp_path: Path) -> None:
    base = read_duo(real_eindscores).head(200)
    text = write_duo(base, tmp_path / "base.csv", "eindscores-2022").read_bytes().decode("utf-8")
    lines = text.split("\r\n")
    # Variant: leading-zero gemeentenummers, quoted averages, columns in another order.
    header = lines[0].split(";")
    order = list(range(len(header)))
    order[0], order[-1] = order[-1], order[0]

    def rewrite(line: str) -> str:
        fields = line.split(";")  # safe: the first 200 names contain no ';'
        return ";".join(fields[i] for i in order)

    variant = "\r\n".join(rewrite(x) for x in lines if x)
    variant = variant.replace(';"637";', ';"0637";').replace(";533,5;", ';"533,5";')
    assert ';"0637";' in variant and ';"533,5";' in variant and not variant.isascii()
    encoded = {
        "bom.csv": b"\xef\xbb\xbf" + variant.encode("utf-8"),
        "cp1252.csv": variant.encode("cp1252", errors="replace"),
    }
    for name, data in encoded.items():
        (tmp_path / name).write_bytes(data)
        back = read_duo(tmp_path / name)
        assert back.attrs["layout"] == "eindscores-2022"
        pd.testing.assert_series_equal(back["cet_gem"], base["cet_gem"])
        assert back["gemeente_code"].tolist() == base["gemeente_code"].tolist()
    assert read_duo(tmp_path / "cp1252.csv").attrs["encoding"] == "cp1252"
    names = read_duo(tmp_path / "bom.csv")["instellingsnaam_vestiging"]
    assert names.tolist() == base["instellingsnaam_vestiging"].tolist()


def test_new_layout_is_a_description_not_a_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advies = Layout(
        "schooladviezen-test",
        "eindscores",
        (
            Column("INSTELLINGSCODE", "id"),
            Column("VESTIGINGSCODE", "id"),
            Column("HAVO_AANTAL", "count"),
            Column("GEMIDDELD", "mean", count="HAVO_AANTAL"),
        ),
    )
    monkeypatch.setitem(LAYOUTS, advies.name, advies)
    path = tmp_path / "advies.csv"
    path.write_bytes(
        b'"INSTELLINGSCODE";"VESTIGINGSCODE";"HAVO_AANTAL";"GEMIDDELD"\r\n"00AP";"00";"<5";NA\r\n'
    )
    back = read_duo(path)
    assert back.attrs["layout"] == "schooladviezen-test"
    assert bool(back["havo_aantal_suppressed"].iloc[0]) and np.isnan(back["gemiddeld"].iloc[0])


def test_old_brin_layout_pads_vestigingsnummer(tmp_path: Path) -> None:
    header = "BRIN_NUMMER;VESTIGINGSNUMMER;LEERJAAR_8;ONTHEFFING_REDEN_ND;CET_AANTAL;CET_GEM;IEP_AANTAL;IEP_GEM;ROUTE8_AANTAL;ROUTE8_GEM"
    path = tmp_path / "eindscores-2014-2015.csv"
    path.write_text(header + '\n"00AP";"0";"25";"0";"24";536,2;"0";0;"0";0\n', encoding="utf-8")
    back = read_duo(path)
    assert (
        back.attrs["layout"] == "eindscores-brin-2014" and back.attrs["schooljaar"] == "2014-2015"
    )
    assert back["vestiging"].tolist() == ["00AP00"]


def test_gemeente_code_helper() -> None:
    assert gemeente_code(637) == gemeente_code("0637") == gemeente_code("GM0637") == "GM0637"
    with pytest.raises(ParameterError):
        gemeente_code("12345")


def test_shipped_gemeenten_match_the_real_file(real_eindscores: Path) -> None:
    shipped = load_gemeenten()
    assert len(shipped) == 344 and shipped["gemeente_code"].is_unique
    pd.testing.assert_frame_equal(shipped, derive_gemeenten(real_eindscores))
    names = shipped.set_index("gemeente_code")["gemeente_naam"]
    assert names["GM1900"] == "Súdwest-Fryslân" and names["GM1970"] == "Noardeast-Fryslân"
    assert {"GM0546", "GM0034", "GM0453"} <= set(names.index)
    assert shipped["n_vestigingen"].sum() == 4693


# --- malformed files: DataFormatError naming file, line and column ------------------------


@pytest.fixture
def good_lines(real_eindscores: Path) -> list[str]:
    """The first 30 lines of the real file (header + 29 rows), without line ends."""
    return real_eindscores.read_bytes().decode("utf-8").split("\r\n")[:30]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_unknown_header_lists_missing_unexpected_and_known(
    good_lines: list[str], tmp_path: Path
) -> None:
    good_lines[0] = good_lines[0].replace('"CET_GEM"', '"CET_GEMIDDELDE"')
    path = write_lines(tmp_path / "bad.csv", good_lines)
    with pytest.raises(DataFormatError) as err:
        read_duo(path)
    msg = str(err.value)
    assert err.value.path == path and err.value.line == 1
    assert "misses CET_GEM" in msg and "does not expect CET_GEMIDDELDE" in msg
    assert "eindscores-2022" in msg and "eindscores-2023" in msg


def test_wrong_separator(good_lines: list[str], tmp_path: Path) -> None:
    path = write_lines(tmp_path / "comma.csv", [x.replace(";", ",") for x in good_lines])
    with pytest.raises(DataFormatError, match="separat") as err:
        read_duo(path)
    assert err.value.path == path and err.value.line == 1


def test_truncated_last_line(good_lines: list[str], tmp_path: Path) -> None:
    good_lines[-1] = good_lines[-1][:60]
    path = write_lines(tmp_path / "cut.csv", good_lines)
    n_fields = good_lines[-1].count(";") + 1
    header = [h.strip('"') for h in good_lines[0].split(";")]
    with pytest.raises(DataFormatError, match="expected 24 fields") as err:
        read_duo(path)
    assert err.value.path == path and err.value.line == 30
    assert err.value.column == header[n_fields]
    assert "cut.csv, line 30" in str(err.value)


def test_extra_field(good_lines: list[str], tmp_path: Path) -> None:
    good_lines[5] += ';"x"'
    path = write_lines(tmp_path / "extra.csv", good_lines)
    with pytest.raises(DataFormatError, match="found 25") as err:
        read_duo(path)
    assert err.value.line == 6


def test_non_numeric_value_shows_value_line_and_column(
    good_lines: list[str], tmp_path: Path
) -> None:
    assert ";533,5;" in good_lines[1]
    good_lines[1] = good_lines[1].replace(";533,5;", ";53x,5;")
    path = write_lines(tmp_path / "text.csv", good_lines)
    with pytest.raises(DataFormatError, match="'53x,5'") as err:
        read_duo(path)
    assert (err.value.line, err.value.column) == (2, "CET_GEM")


def test_non_numeric_count(good_lines: list[str], tmp_path: Path) -> None:
    fields = good_lines[9].split(";")
    fields[-2] = '"vijf"'
    good_lines[9] = ";".join(fields)
    path = write_lines(tmp_path / "count.csv", good_lines)
    with pytest.raises(DataFormatError, match="'vijf'") as err:
        read_duo(path)
    assert (err.value.line, err.value.column) == (10, "AMN_AANTAL")


def test_duplicate_vestiging(good_lines: list[str], tmp_path: Path) -> None:
    path = write_lines(tmp_path / "dup.csv", [*good_lines, good_lines[3]])
    with pytest.raises(DataFormatError, match="first on line 4") as err:
        read_duo(path)
    assert err.value.line == 31 and "VESTIGINGSCODE" in (err.value.column or "")


def test_broken_quoting_is_located(good_lines: list[str], tmp_path: Path) -> None:
    good_lines[7] = good_lines[7].replace('"Bo"', '"B"o"', 1)
    path = write_lines(tmp_path / "quote.csv", good_lines)
    with pytest.raises(DataFormatError) as err:
        read_duo(path)
    assert err.value.line == 8 and err.value.path == path


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="cannot read"):
        read_duo(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataFormatError, match="empty"):
        read_duo(tmp_path / "empty.csv")


def test_wrong_layout_requested(real_eindscores: Path) -> None:
    with pytest.raises(DataFormatError, match="expected layout 'referentieniveaus'"):
        read_duo(real_eindscores, "referentieniveaus")


def test_shipped_gemeenten_file_is_rewritten_byte_for_byte(
    real_eindscores: Path, tmp_path: Path
) -> None:
    """gemeenten.csv is derived, not typed: regenerating it from DUO's file gives it back."""
    from evaluatie.sources import gemeenten

    out = gemeenten.write_gemeenten(derive_gemeenten(real_eindscores), tmp_path / "g.csv")
    shipped = Path(gemeenten.__file__).with_name("gemeenten.csv")
    assert out.read_bytes() == shipped.read_bytes()


def test_writer_keeps_values_that_compare_equal_apart(tmp_path: Path) -> None:
    """The writer formats each distinct value once; -0.0 == 0.0 and 1 == 1.0 == True
    must still each be written as themselves, as a value-by-value writer would."""
    frame = small_frame()
    frame["cet_aantal"] = [18, 9, 7]
    frame["cet_gem"] = [0.0, -0.0, 0.0]
    frame["plaatsnaam"] = pd.Series([1, 1.0, True], dtype=object)
    lines = write_duo(frame, tmp_path / "x.csv", "eindscores-2022").read_bytes().decode()
    rows = lines.split("\r\n")[1:4]
    assert [';"18";0;' in rows[0], ';"9";-0;' in rows[1], ';"7";0;' in rows[2]] == [True] * 3
    assert ['"1";' in rows[0], '"1.0";' in rows[1], '"True";' in rows[2]] == [True] * 3
