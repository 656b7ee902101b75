"""The notebooks as committed: paired with their percent scripts, without outputs.

Each ``notebooks/*.ipynb`` has a jupytext percent script beside it (``*.py``) so a diff is
readable and ruff can lint the code; the two must hold the same cells. Edit either in
JupyterLab (jupytext keeps them in step) or run ``jupytext --sync notebooks/*.py``.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def cells(nb: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    return [(c.cell_type, c.source.strip(), list(c.metadata.get("tags", []))) for c in nb.cells]


def test_there_are_notebooks() -> None:
    assert {p.stem for p in NOTEBOOKS} >= {"innovatiebudget", "vve_budget"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_paired_script_holds_the_same_cells(path: Path) -> None:
    script = path.with_suffix(".py")
    assert script.is_file(), (
        f"{script.name} is missing: run jupytext --set-formats ipynb,py:percent"
    )
    assert cells(jupytext.read(script)) == cells(nbformat.read(path, as_version=4))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_without_outputs_and_with_a_parameters_cell(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].source.rstrip().endswith("parameters = {}")
