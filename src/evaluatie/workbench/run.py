"""Execute a parameterised notebook with papermill and publish its HTML report.

Parameters are validated (:mod:`evaluatie.workbench.params`) before a kernel starts.
The executed notebook and the HTML report are written under temporary names and
renamed into ``reports/`` only when complete, so an interrupted run leaves nothing
half-written. A failing cell still yields a report, with the error at the top.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import papermill as pm
from papermill.exceptions import PapermillExecutionError

from evaluatie._atomic import atomic_open, atomic_path
from evaluatie.errors import ParameterError
from evaluatie.workbench.params import RunSpec
from evaluatie.workbench.report import header_cell, to_html

KERNEL = "python3"


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: status, report paths, duration and the error (if any)."""

    name: str
    status: str  # "ok" or "failed"
    html: Path
    notebook: Path
    seconds: float
    error: str | None = None


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding ``notebooks/`` and ``pyproject.toml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    raise ParameterError(
        f"no evaluatie project (a folder with notebooks/ and pyproject.toml) at or above {here}"
    )


def run_notebook(
    spec: RunSpec,
    *,
    root: Path | None = None,
    reports_dir: Path | None = None,
    show_code: bool = False,
    progress: bool = True,
) -> RunOutcome:
    """Run ``spec``'s notebook and write ``<reports>/<name>.ipynb`` and ``<name>.html``."""
    root = project_root(root)
    source = root / "notebooks" / f"{spec.notebook}.ipynb"
    if not source.is_file():
        raise ParameterError(f"notebook {source} does not exist")
    reports = reports_dir or root / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    out_nb = reports / f"{spec.name}.ipynb"
    out_html = reports / f"{spec.name}.html"
    values = spec.params.model_dump(mode="json")

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    error: str | None = None
    with atomic_path(out_nb) as tmp_nb:
        try:
            pm.execute_notebook(
                str(source),
                str(tmp_nb),
                parameters={"parameters": values},
                kernel_name=KERNEL,
                cwd=str(root),
                progress_bar=progress,
            )
        except PapermillExecutionError as exc:
            error = f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
        seconds = time.perf_counter() - t0
        nb = nbformat.read(tmp_nb, as_version=4)
        status = "ok" if error is None else "failed"
        meta = {
            "notebook": f"notebooks/{source.name}",
            "params file": str(spec.source) if spec.source else "(defaults)",
            "started": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "duration": f"{seconds:.1f} s",
        }
        nb.cells.insert(0, header_cell(spec.params.title, values, status, meta))
        with atomic_open(out_html) as fh:
            fh.write(to_html(nb, show_code=show_code))
    return RunOutcome(spec.name, status, out_html, out_nb, seconds, error)
