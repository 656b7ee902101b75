"""DUO's real VO exam file: counts, spot checks and pass rates against the raw text.

Every expected number is computed here from the raw file with the csv module (or read
off the raw text by eye, where a literal is used), never taken from the reader's output.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DataFormatError, DataQualityWarning
from evaluatie.sources.duo import read_duo
from evaluatie.sources.tidy import read_duo_long, read_examens

EXAMS = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "duo"
    / "examenkandidaten-en-geslaagden-2019-2024.csv"
)


@pytest.fixture(scope="module")
def raw() -> tuple[list[str], list[list[str]]]:
    """Header and data rows of the raw file, split by the csv module."""
    with EXAMS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return rows[0], rows[1:]


def cells(header: list[str], row: list[str]) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(school year, sex) -> raw (candidates, passes, pass rate) of one raw row."""
    out = {}
    for i, name in enumerate(header):
        if name.startswith("EXAMENKANDIDATEN SCHOOLJAAR "):
            year, sex = name.removeprefix("EXAMENKANDIDATEN SCHOOLJAAR ").split(" - ")
            assert header[i + 1] == f"GESLAAGDEN SCHOOLJAAR {year} - {sex}"
            assert header[i + 2] == f"SLAAGPERC SCHOOLJAAR {year} - {sex}"
            out[(year, sex)] = (row[i], row[i + 1], row[i + 2])
    return out


@pytest.fixture(scope="module")
def exams() -> pd.DataFrame:
    return read_examens(EXAMS)


def test_row_counts_nothing_lost_or_invented(raw: tuple, exams: pd.DataFrame) -> None:
    header, rows = raw
    assert len(rows) == 12782  # README: 12,782 data rows
    assert EXAMS.read_bytes().count(b"\r\n") == len(rows) + 1
    frame = read_duo(EXAMS)
    assert frame.attrs["layout"] == "examenkandidaten-2019-2024" and len(frame) == len(rows)
    long = read_duo_long(EXAMS)
    measure_columns = sum(
        h.startswith(("EXAMENKANDIDATEN ", "GESLAAGDEN ", "SLAAGPERC ")) for h in header
    )
    assert measure_columns == 5 * 3 * 3
    assert len(long) == len(rows) * measure_columns
    # The exam-cell form drops only cells with no candidates ("0";"0";"0").
    per_row = [cells(header, r) for r in rows]
    kept = sum(c[0] != "0" for row in per_row for c in row.values())
    empty = sum(c == ("0", "0", "0") for row in per_row for c in row.values())
    assert kept + empty == len(rows) * 15  # a "0" candidate count always comes with 0, 0
    assert len(exams) == kept and exams.attrs["empty_cells"] == empty
    assert not exams.duplicated(
        ["vestiging", "onderwijstype", "opleiding", "schooljaar", "geslacht"]
    ).any()


def test_suppression_is_kept_not_zeroed(raw: tuple) -> None:
    _, rows = raw
    long = read_duo_long(EXAMS)
    raw_suppressed = sum(v == "<5" for r in rows for v in r)
    assert int(long["suppressed"].sum()) == raw_suppressed
    assert long.loc[long["suppressed"], "value"].isna().all()


def test_spot_checks_against_the_raw_text(raw: tuple, exams: pd.DataFrame) -> None:
    header, rows = raw
    # Read off the raw text: line 3 is 00AH00 HAVO - N&G, 2019-2020 TOTAAL "30";"30";"100",
    # 2022-2023 VROUW "20";"12";"60".
    rows_00ah = [r for r in rows if r[1] == "00AH00" and r[6] == "HAVO - N&G"]
    assert len(rows_00ah) == 1
    raw_cells = cells(header, rows_00ah[0])
    assert raw_cells[("2019-2020", "TOTAAL")] == ("30", "30", "100")
    assert raw_cells[("2022-2023", "VROUW")] == ("20", "12", "60")
    got = exams[(exams["vestiging"] == "00AH00") & (exams["opleiding"] == "HAVO - N&G")]
    got = got.set_index(["schooljaar", "geslacht"])
    assert got.loc[("2019-2020", "TOTAAL"), ["examenkandidaten", "geslaagden"]].tolist() == [30, 30]
    assert got.loc[("2022-2023", "VROUW"), "slaagpercentage"] == 60.0
    assert (got["gemeente_code"] == "GM0153").all()  # ENSCHEDE
    assert (got["instellingscode"] == "00AH").all() and (got["vestigingscode"] == "00").all()
    # Every cell of three more named vestigingen equals its raw text.
    for vestiging in ("00CB01", "20IB03", "31TK00"):
        mine = exams[exams["vestiging"] == vestiging].set_index(
            ["opleiding", "schooljaar", "geslacht"]
        )
        expected = 0
        for r in (r for r in rows if r[1] == vestiging):
            for (year, sex), (k, g, p) in cells(header, r).items():
                if k == "0":
                    continue
                expected += 1
                row = mine.loc[(r[6], year, sex)]
                assert row["examenkandidaten_suppressed"] == (k == "<5")
                assert row["geslaagden_suppressed"] == (g == "<5")
                if k != "<5":
                    assert row["examenkandidaten"] == int(k)
                if g != "<5":
                    assert row["geslaagden"] == int(g)
                assert row["slaagpercentage"] == float(p)
        assert len(mine) == expected > 0


def test_pass_rates_match_counts(exams: pd.DataFrame) -> None:
    known = ~exams["examenkandidaten_suppressed"] & ~exams["geslaagden_suppressed"]
    rows = exams[known]
    recomputed = 100 * rows["geslaagden"].astype(float) / rows["examenkandidaten"].astype(float)
    # Published with one decimal: at most 0.05 off (plus float slack).
    assert np.abs(recomputed - rows["slaagpercentage"]).max() <= 0.05 + 1e-9
    assert len(rows) > 50_000
    assert exams["slaagpercentage"].between(0, 100).all()


def test_gemeente_names_all_matched_and_unknown_names_reported(
    tmp_path: Path, exams: pd.DataFrame
) -> None:
    assert exams["gemeente_code"].notna().all()
    nuenen = exams.loc[exams["vestiging"] == "20IB03", "gemeente_code"].unique().tolist()
    assert nuenen == ["GM0820"]  # "NUENEN C.A." = Nuenen, Gerwen en Nederwetten
    text = EXAMS.read_bytes().decode("utf-8").split("\r\n")
    changed = [i for i, line in enumerate(text) if ';"ENSCHEDE";' in line]
    for i in changed:
        text[i] = text[i].replace(';"ENSCHEDE";', ';"ATLANTIS";')
    path = tmp_path / "renamed.csv"
    path.write_bytes("\r\n".join(text).encode("utf-8"))
    with pytest.warns(DataQualityWarning, match=rf"'ATLANTIS' \({len(changed)} rows\)"):
        frame = read_duo_long(path)
    assert frame["gemeente_code"].isna().sum() == len(changed) * 45  # kept, code left empty
    with pytest.raises(DataFormatError, match="ATLANTIS") as err:
        read_examens(path, unmatched="error")
    assert err.value.column == "GEMEENTENAAM"
    pairs = pd.DataFrame({"gemeente_code": ["GM0153"], "gemeente_naam": ["Atlantis"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fixed = read_examens(path, gemeenten=pairs)
    pd.testing.assert_series_equal(fixed["gemeente_code"], exams["gemeente_code"])


# --- bad variants of the real file ------------------------------------------------------


@pytest.fixture(scope="module")
def lines() -> list[str]:
    """The first 40 lines (header + 39 rows) of the real file, without line ends."""
    return EXAMS.read_bytes().decode("utf-8").split("\r\n")[:40]


def put(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_bad_variants_name_file_line_and_column(tmp_path: Path, lines: list[str]) -> None:
    header = next(csv.reader([lines[0]], delimiter=";"))
    cut = put(tmp_path / "cut.csv", [*lines[:-1], lines[-1][:150]])
    with pytest.raises(DataFormatError, match="truncated") as err:
        read_examens(cut)
    assert err.value.path == cut and err.value.line == 40
    assert err.value.column == header[lines[-1][:150].count(";") + 1]

    comma = put(tmp_path / "comma.csv", [x.replace('";"', '","') for x in lines])
    with pytest.raises(DataFormatError, match="separat") as err:
        read_examens(comma)
    assert err.value.line == 1

    dup = put(tmp_path / "dup.csv", [*lines, lines[7]])
    with pytest.raises(DataFormatError, match="first on line 8") as err:
        read_examens(dup)
    assert err.value.line == 41
    assert err.value.column == "VESTIGINGSCODE+ONDERWIJSTYPE VO+OPLEIDINGSNAAM"

    rate = list(lines)
    fields = rate[5].split(";")
    fields[9] = '"190"'  # SLAAGPERC 2019-2020 MAN
    rate[5] = ";".join(fields)
    with pytest.raises(DataFormatError, match=r"0\.\.100") as err:
        read_examens(put(tmp_path / "rate.csv", rate))
    assert (err.value.line, err.value.column) == (6, "SLAAGPERC SCHOOLJAAR 2019-2020 - MAN")

    more = list(lines)
    fields = more[3].split(";")
    fields[13:16] = ['"6"', '"7"', '"100"']  # more passes than candidates, 2019-2020 TOTAAL
    more[3] = ";".join(fields)
    with pytest.raises(DataFormatError, match="more passes than candidates"):
        read_examens(put(tmp_path / "more.csv", more))

    other = list(lines)
    other[2] = other[2].replace('"00AH";"00AH00"', '"00AH";"00AJ00"', 1)
    with pytest.raises(DataFormatError, match="INSTELLINGSCODE") as err:
        read_examens(put(tmp_path / "other.csv", other))
    assert (err.value.line, err.value.column) == (3, "VESTIGINGSCODE")


def test_encoding_errors_name_the_line(tmp_path: Path, lines: list[str]) -> None:
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-16"))
    with pytest.raises(DataFormatError, match="NUL bytes") as err:
        read_examens(utf16)
    assert err.value.path == utf16 and err.value.line == 1
    broken = bytearray(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    at = broken.index(b"Kottenpark")  # on line 2
    broken[at] = 0x81  # undefined in cp1252 and invalid in UTF-8
    bad = tmp_path / "bytes.csv"
    bad.write_bytes(bytes(broken))
    with pytest.raises(DataFormatError, match="0x81") as err:
        read_examens(bad)
    assert err.value.line == 2
    latin = put(
        tmp_path / "cp1252.csv", [x.replace("Kottenpark", "Köttenpark") for x in lines], "cp1252"
    )
    assert read_duo(latin).attrs["encoding"] == "cp1252"
    assert (read_duo(latin)["instellingsnaam_vestiging"] == "Het Stedelijk Köttenpark").any()


def test_exam_levels_from_programme_names() -> None:
    from evaluatie.sources.examens import exam_level

    exams = pd.DataFrame(
        {
            "onderwijstype": ["VMBO", "VMBO", "VMBO", "VMBO", "VMBO", "HAVO", "VWO", "VMBO"],
            "opleiding": [
                "VMBO B - economie", "VMBO LWT - zorg", "VMBO G - techniek",
                "VMBO T - talen", "VMBO K - economie", "HAVO", None, "VMBO onbekend",
            ],
        },
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )  # fmt: skip
    with pytest.warns(DataQualityWarning, match="no known leerweg get no level: VMBO onbekend"):
        level = exam_level(exams)
    assert list(level.index) == list(exams.index)
    expected = ["VMBO-B", "VMBO-B", "VMBO-GT", "VMBO-GT", "VMBO-K", "HAVO", "VWO"]
    assert level.iloc[:7].tolist() == expected
    assert pd.isna(level.iloc[7])


def test_per_distinct_is_the_transform_row_by_row() -> None:
    # computed on the distinct values and spread back: the same values, dtype and index
    from evaluatie.sources.examens import per_distinct

    rng = np.random.default_rng(4)
    years = pd.Series(
        rng.choice(["2019-2020", "2020-2021", "2022-2023", None], 500),
        index=rng.permutation(1000)[:500],
        dtype="str",
        name="schooljaar",
    )

    def parse(s: pd.Series) -> pd.Series:
        return s.str[5:].astype("float64") * 2

    pd.testing.assert_series_equal(per_distinct(years, parse), parse(years))
    text = years.str.replace("-", "/")
    pd.testing.assert_series_equal(per_distinct(years, lambda s: s.str.replace("-", "/")), text)
