"""Execute a parameterised notebook with papermill and publish its HTML report.

Parameters are validated (:mod:`evaluatie.workbench.params`) before a kernel starts.
A run writes ``<reports>/<name>.ipynb`` (the executed notebook), ``<name>.html`` (the
report, provenance at the top), the report's tables as ``<name>.xlsx`` and
``<name>_tabellen/*.csv`` (:mod:`evaluatie.workbench.exports`) and, last,
``<name>.json`` (the run record: see :mod:`evaluatie.workbench.provenance`), each
under a temporary name renamed into place
only when complete, so an interrupted run leaves nothing half-written. A failing
notebook still yields a report, with the error at the top. A run whose inputs equal
those of its last successful record is skipped unless ``force``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from papermill.exceptions import PapermillExecutionError

from evaluatie.core.atomic import atomic_open, atomic_path
from evaluatie.core.errors import ParameterError
from evaluatie.workbench import kernel
from evaluatie.workbench.exports import read_tables, write_exports
from evaluatie.workbench.headline import read_published
from evaluatie.workbench.kernel import (
    KERNEL,
    KERNEL_START_ATTEMPTS,
    is_start_failure,
    kernel_config,
    one_blas_thread,
)
from evaluatie.workbench.params import RunSpec
from evaluatie.workbench.provenance import cache_hit, run_record, write_sidecar
from evaluatie.workbench.report import (
    header_cell,
    lift_summary,
    record_language,
    record_title,
    to_html,
)

#: File names in reports/ that are not run names.
RESERVED_NAMES = frozenset({"index"})


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: status ("ok", "failed" or "cached"), paths, duration, error."""

    name: str
    status: str
    html: Path
    notebook: Path
    seconds: float
    error: str | None = None
    headline: dict[str, Any] | None = None


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding ``notebooks/`` and ``pyproject.toml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    raise ParameterError(
        f"no evaluatie project (a folder with notebooks/ and pyproject.toml) at or above {here}"
    )


def notebook_path(root: Path, notebook: str) -> Path:
    """``notebooks/<notebook>.ipynb`` under ``root``; an error if it does not exist."""
    source = root / "notebooks" / f"{notebook}.ipynb"
    if not source.is_file():
        raise ParameterError(f"notebook {source} does not exist")
    return source


def prepare(spec: RunSpec, root: Path, *, show_code: bool = False) -> dict[str, Any]:
    """The run record of ``spec`` before it runs (inputs and cache key)."""
    if spec.name in RESERVED_NAMES:
        raise ParameterError(f"a run cannot be called {spec.name!r}: reports/ uses that name")
    return run_record(spec, root, notebook_path(root, spec.notebook), show_code=show_code)


def cached_outcome(
    record: dict[str, Any], reports: Path, previous: dict[str, Any] | None = None
) -> RunOutcome | None:
    """The outcome of the previous identical successful run, if its report is still there
    (``previous``: its record, if already read)."""
    previous = cache_hit(reports, record, previous)
    if previous is None:
        return None
    name = record["name"]
    return RunOutcome(
        name,
        "cached",
        reports / f"{name}.html",
        reports / f"{name}.ipynb",
        float(previous.get("duration_s", 0.0)),
        headline=previous.get("headline"),
    )


def run_notebook(
    spec: RunSpec,
    *,
    root: Path | None = None,
    reports_dir: Path | None = None,
    show_code: bool = False,
    progress: bool = True,
    force: bool = False,
    record: dict[str, Any] | None = None,
) -> RunOutcome:
    """Run ``spec``'s notebook (unless cached) and write its report, notebook and record.

    ``record`` is the prepared run record (:func:`prepare`), computed here if not given.
    """
    root = project_root(root)
    reports = reports_dir or root / "reports"
    record = record or prepare(spec, root, show_code=show_code)
    if not force and (hit := cached_outcome(record, reports)) is not None:
        return hit
    return _execute(spec, record, root, reports, show_code=show_code, progress=progress)


def _execute(
    spec: RunSpec,
    record: dict[str, Any],
    root: Path,
    reports: Path,
    *,
    show_code: bool,
    progress: bool,
) -> RunOutcome:
    source = notebook_path(root, spec.notebook)
    reports.mkdir(parents=True, exist_ok=True)
    out_nb = reports / f"{spec.name}.ipynb"
    out_html = reports / f"{spec.name}.html"
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    error: str | None = None
    with atomic_path(out_nb) as tmp_nb:
        try:
            _execute_notebook(source, tmp_nb, record, root, progress)
        except PapermillExecutionError as exc:
            error = f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
        except Exception as exc:  # a dead kernel, a timeout: still a report, marked failed
            error = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - t0
        nb = _read_executed(tmp_nb, source)
        final = {
            **record,
            "started": started.isoformat(timespec="seconds"),
            "duration_s": round(seconds, 3),
            "status": "ok" if error is None else "failed",
            "error": error,
            "headline": read_published(nb),
            "report": out_html.name,
            "executed_notebook": out_nb.name,
        }
        exported = write_exports(
            reports, spec.name, read_tables(nb), language=record_language(final)
        )
        final["exports"] = [p.relative_to(reports).as_posix() for p in exported]
        lift_summary(nb, record_language(final))
        nb.cells.insert(0, header_cell(final))
        with atomic_open(out_html) as fh:
            fh.write(
                to_html(
                    nb,
                    show_code=show_code,
                    language=record_language(final),
                    title=record_title(final),
                )
            )
    write_sidecar(reports, final)  # last: the record is also the cache entry
    return RunOutcome(
        spec.name, final["status"], out_html, out_nb, seconds, error, final["headline"]
    )


def _execute_notebook(
    source: Path, target: Path, record: dict[str, Any], root: Path, progress: bool
) -> None:
    """Run the notebook on this process's warm kernel (a batch opened one) or a fresh one;
    a kernel that died before it ran anything is started again."""
    parameters = {"parameters": record["parameters"]}
    one_blas_thread()
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            warm = kernel.current()
            if warm is not None:
                warm.execute(source, target, parameters, progress)
                return
            with tempfile.TemporaryDirectory(prefix="evaluatie-kernel-") as sockets:
                pm.execute_notebook(
                    str(source),
                    str(target),
                    parameters=parameters,
                    kernel_name=KERNEL,
                    cwd=str(root),
                    progress_bar=progress,
                    config=kernel_config(sockets),
                )
            return
        except RuntimeError as exc:
            if not is_start_failure(exc) or attempt == KERNEL_START_ATTEMPTS:
                raise


def _read_executed(path: Path, source: Path) -> Any:
    """The executed notebook, or the source notebook if execution wrote nothing readable."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # empty or partial file after a crash before the first save
        return nbformat.read(source, as_version=4)


def record_crash(record: dict[str, Any], reports: Path, error: str, seconds: float) -> RunOutcome:
    """Record a run that ended without a report (its worker died): sidecar only."""
    final = {
        **record,
        "started": None,
        "duration_s": round(seconds, 3),
        "status": "failed",
        "error": error,
        "headline": None,
        "report": None,
        "executed_notebook": None,
    }
    write_sidecar(reports, final)
    name = record["name"]
    html, notebook = reports / f"{name}.html", reports / f"{name}.ipynb"
    return RunOutcome(name, "failed", html, notebook, seconds, error)
