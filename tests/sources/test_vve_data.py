"""Reading the VVE study's user tables: the documented layouts and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluatie.core.errors import DataFormatError
from evaluatie.sources.vve import gemeente_outcomes, load_vve

HEADER = (
    '"SCHOOLJAAR";"INSTELLINGSCODE";"VESTIGINGSCODE";"GEMEENTECODE";"LEERLINGEN_GROEP2";'
    '"KLEUTERVERLENGING";"LEERLINGEN_GROEP3";"GROEP3_GEM"\n'
)
BUDGET = (
    '"GEMEENTECODE";"JAAR";"BUDGET_EUR";"DOELGROEPKINDEREN"\n'
    '"GM0546";"2020";2539000;410\n'
    '"GM0034";"2020";12127000;1630\n'
)


def _folder(tmp_path: Path, rows: str) -> Path:
    (tmp_path / "mijn-budget.csv").write_text(BUDGET, encoding="utf-8")
    (tmp_path / "vroege-uitkomsten.csv").write_text(HEADER + rows, encoding="utf-8")
    return tmp_path


def test_the_documented_example_reads(tmp_path: Path) -> None:
    # The row of FORMATS.md, plus a second school and a suppressed groep-3 mean.
    raw = _folder(
        tmp_path,
        '"2023-2024";"12AB";"00";"GM0546";"27";"3";"25";"51,24"\n'
        '"2023-2024";"12AC";"00";"546";"10";"1";"<5";NA\n',
    )
    data = load_vve(raw)
    s = data.schools.set_index("vestiging")
    assert s.loc["12AB00", "kleuterverlenging"] == pytest.approx(100 * 3 / 27)
    assert s.loc["12AB00", "groep3"] == pytest.approx(51.24)
    assert s.loc["12AC00", "gemeente_code"] == "GM0546" and s.loc["12AC00", "jaar"] == 2024
    assert data.budget["doelgroepkinderen"].tolist() == [1630, 410]
    g = gemeente_outcomes(data.schools, "kleuterverlenging").iloc[0]
    assert g["kleuterverlenging"] == pytest.approx(100 * 4 / 37) and g["n_schools"] == 2
    # The suppressed mean drops that school from the groep-3 mean only.
    assert gemeente_outcomes(data.schools, "groep3")["n_schools"].iloc[0] == 1


def test_errors_name_the_file(tmp_path: Path) -> None:
    raw = _folder(tmp_path, '"2023-2024";"12AB";"00";"GM0546";"2";"3";"25";"51,24"\n')
    with pytest.raises(DataFormatError, match=r"exceeds LEERLINGEN_GROEP2.*12AB00") as err:
        load_vve(raw)
    assert err.value.column == "KLEUTERVERLENGING"
    assert err.value.path == raw / "vroege-uitkomsten.csv"
    (raw / "vroege-uitkomsten.csv").unlink()
    with pytest.raises(DataFormatError, match="no table of early-years outcomes"):
        load_vve(raw)
    (raw / "tweede-budget.csv").write_text(BUDGET, encoding="utf-8")
    with pytest.raises(DataFormatError, match="more than one OAB/VVE budget table"):
        load_vve(raw)
