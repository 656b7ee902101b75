"""The data templates in docs/templates: each is read with the layout its README names,
and the VSV template by the loader the schooluitval report uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaluatie.sources.duo import read_duo
from evaluatie.sources.vsv import load_vsv_by_type

TEMPLATES = Path(__file__).resolve().parents[2] / "docs" / "templates"
LAYOUTS = {
    "innovatiebudget-subsidies.csv": "innovatiebudget-subsidies",
    "oab-budget.csv": "oab-budget",
    "vve-uitkomsten.csv": "vve-uitkomsten",
    "vsv-onderwijssoort.csv": "vsv-onderwijssoort",
    "doorstroom-povo.csv": "doorstroom-povo",
}


def test_every_template_is_listed() -> None:
    assert {p.name for p in TEMPLATES.glob("*.csv")} == set(LAYOUTS)
    readme = (TEMPLATES / "README.md").read_text(encoding="utf-8")
    assert all(
        f"`{name}`" in readme and f"`{layout}`" in readme for name, layout in LAYOUTS.items()
    )


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_template_reads_with_its_layout(name: str) -> None:
    frame = read_duo(TEMPLATES / name)
    assert frame.attrs["layout"] == LAYOUTS[name] and len(frame) >= 3


def test_vve_template_withholds_a_small_count() -> None:
    frame = read_duo(TEMPLATES / "vve-uitkomsten.csv")
    assert frame["leerlingen_groep3_suppressed"].tolist() == [False, False, True]


def test_vsv_template_through_its_loader(tmp_path: Path) -> None:
    shutil.copy(TEMPLATES / "vsv-onderwijssoort.csv", tmp_path)
    rates = load_vsv_by_type(tmp_path)
    mbo1 = rates.set_index("onderwijssoort").loc["MBO1"]
    assert mbo1["gemeente_code"] == "GM0546" and mbo1["vsv_percentage"] == pytest.approx(
        100 * 27 / 148
    )
