"""A throw-away evaluatie project for workbench tests: the real notebook plus `publish`.

The project's own notebook is copied unchanged except for two added cells, right after
the TWFE fit: one publishes the headline estimate, so tests exercise the real analysis
and the publish mechanism together; the other fails when the report's title starts with
``FAIL`` -- every input the pre-flight can see is refused before a kernel starts, so a
notebook that fails *while running* has to be made to. Reports go to ``reports/``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
PUBLISH_CELL = (
    'from evaluatie.workbench import publish\npublish(fit, label=f"TWFE effect on {p.outcome}")'
)
FAIL_CELL = (
    'if p.title.startswith("FAIL"):\n'
    '    raise RuntimeError("failing on purpose after the fit (title starts with FAIL)")'
)


def make_project(base: Path) -> Path:
    """``base`` with pyproject.toml and notebooks/innovatiebudget.ipynb (publishing)."""
    nb = nbformat.read(REPO / "notebooks" / "innovatiebudget.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "fit = ev.twfe(" in c.source)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(PUBLISH_CELL))
    nb.cells.insert(at + 2, nbformat.v4.new_code_cell(FAIL_CELL))
    (base / "notebooks").mkdir(parents=True)
    nbformat.write(nb, base / "notebooks" / "innovatiebudget.ipynb")
    (base / "pyproject.toml").write_text('[project]\nname = "test-project"\n', encoding="utf-8")
    return base


def write_params(path: Path, raw: Path, parameters: dict[str, object], matrix: str = "") -> Path:
    """A params (or, with ``matrix``, sweep) file for the innovatiebudget notebook."""
    lines = ["notebook: innovatiebudget", "parameters:", f"  raw_dir: {raw}"]
    lines += [f"  {k}: {v}" for k, v in parameters.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + matrix, encoding="utf-8")
    return path
