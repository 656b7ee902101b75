"""Sweep files: one notebook, shared parameters, and a matrix of values to run over.

::

    notebook: innovatiebudget
    parameters: {first_year: 2014, cluster: vestiging}
    matrix:
      gemeenten: [[GM0546], [GM0034], [GM0453]]
      outcome: [eindtoets, rekenen_1s]

expands to the product of the matrix values (here 3 x 2 = 6 runs), in the order the
keys and values are written. Each run is named ``<stem>--<key>=<value>--...`` (lists
joined with ``+``), which is also its report's file name; unless the matrix varies the
title, each run's title ends with its matrix values. Every run is validated,
against the schema and the data, before any of them starts; all problems of all runs
are reported together. Sweeps live in ``params/sweeps/`` so that ``evaluatie all``
(which runs ``params/*.yaml``) does not pick them up.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evaluatie.core.errors import ParameterError
from evaluatie.core.memo import kept_result, stored_result
from evaluatie.workbench.datacheck import DataChecker
from evaluatie.workbench.params import (
    RunSpec,
    closest_hint,
    params_model,
    read_params_file,
    read_yaml_mapping,
    validate,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._+,=-]")

#: The name a kept check is stored under (data/processed/cache/checked-params-*).
_CHECKED = "checked-params"


def value_label(value: Any) -> str:
    """A file-name-safe rendering of one matrix value: lists joined with ``+``."""
    if isinstance(value, list | tuple):
        text = "+".join(value_label(v) for v in value) or "none"
    elif value is None:
        text = "all"
    else:
        text = str(value)
    return _UNSAFE.sub("_", text)


def run_name(stem: str, combination: dict[str, Any]) -> str:
    """``<stem>--key=value--key=value`` for one combination of matrix values."""
    return "--".join([stem, *(f"{k}={value_label(v)}" for k, v in combination.items())])


def _matrix(path: Path, notebook: str, matrix: Any, fixed: dict[str, Any]) -> dict[str, list]:
    """The matrix, checked for shape and for names the notebook knows."""
    if not isinstance(matrix, dict) or not matrix:
        raise ParameterError(f"{path}: 'matrix' must map parameter names to lists of values")
    allowed = params_model(notebook).model_fields
    problems = []
    for key, values in matrix.items():
        if key not in allowed:
            problems.append(f"unknown parameter {key!r}{closest_hint(key, allowed)}")
        elif not isinstance(values, list) or not values:
            problems.append(f"{key}: expected a non-empty list of values, got {values!r}")
        elif key in fixed:
            problems.append(f"{key}: set both in 'parameters' and in 'matrix'")
    if problems:
        lines = "\n".join(f"  - matrix: {p}" for p in problems)
        raise ParameterError(f"{path}: {len(problems)} problem(s) with the matrix:\n{lines}")
    return matrix


def read_sweep(
    path: str | Path, *, root: Path | None = None, checker: DataChecker | None = None
) -> list[RunSpec]:
    """The runs of a sweep file (a plain params file is a sweep of one run).

    ``root``: also check every run against the data (``checker``: reading it through
    this one, shared with other files). All runs' problems are collected into one
    :class:`ParameterError`.
    """
    path = Path(path)
    doc = read_yaml_mapping(path, ("notebook", "parameters", "matrix"))
    if "matrix" not in doc:
        return [read_params_file(path, root=root, checker=checker)]
    notebook = str(doc["notebook"])
    fixed = doc.get("parameters") or {}
    if not isinstance(fixed, dict):
        raise ParameterError(f"{path}: 'parameters' must be a mapping, got {type(fixed).__name__}")
    matrix = _matrix(path, notebook, doc["matrix"], fixed)
    specs, problems = [], []
    for combo in itertools.product(*matrix.values()):
        combination = dict(zip(matrix, combo, strict=True))
        name = run_name(path.stem, combination)
        values = {**fixed, **combination}
        if "title" not in matrix:  # tell the runs' reports apart at a glance
            title = fixed.get("title") or params_model(notebook).model_fields["title"].default
            shown = ", ".join(f"{k} {value_label(v)}" for k, v in combination.items())
            values["title"] = f"{title} ({shown})"
        try:
            params = validate(notebook, values, source=name, root=root, checker=checker)
        except ParameterError as exc:
            problems.append(str(exc))
            continue
        specs.append(RunSpec(notebook=notebook, params=params, source=path, run_name=name))
    if problems:
        total = len(specs) + len(problems)
        body = "\n".join(problems)
        raise ParameterError(f"{path}: {len(problems)} of {total} runs have problems:\n{body}")
    return specs


def load_runs(
    paths: Iterable[str | Path], *, root: Path | None = None, sweeps: bool = True
) -> list[RunSpec]:
    """Every run of every file, all validated first; one error listing every problem.

    ``sweeps=False`` accepts plain params files only (``evaluatie run``). With ``root``
    (checked against the data) a check that passed is kept where the readers keep what
    they read (:func:`evaluatie.core.memo.stored_result`) and not repeated while the
    files, their spelling, the project folder, the code and the data it read are
    unchanged: it took 2-3 s of every rerun of the project's 18 params files, before
    any report could start.
    """
    files = [Path(p) for p in paths]
    key = None if root is None else _check_key(files, root, sweeps)
    if root is None or key is None:  # the check itself says which file it cannot read
        return _load_runs(files, root=root, sweeps=sweeps)
    return stored_result(_CHECKED, key, lambda: _load_runs(files, root=root, sweeps=sweeps))


def kept_runs(
    paths: Iterable[str | Path], *, root: Path, sweeps: bool = True
) -> list[RunSpec] | None:
    """The runs :func:`load_runs` would give from a kept check (its warnings given
    again), or None if the files must be checked: nothing is read or checked here but
    the files and what the kept check read."""
    key = _check_key([Path(p) for p in paths], root, sweeps)
    kept = None if key is None else kept_result(_CHECKED, key)
    return None if kept is None else list(kept[0])


def _check_key(files: list[Path], root: Path, sweeps: bool) -> tuple[Any, ...] | None:
    """What a kept check of ``files`` is keyed by (besides the code and the data it read):
    the files as spelled and resolved and their bytes, the project folder, the versions
    of the libraries that parse them. None if a file cannot be read."""
    try:
        contents = [(str(p), str(p.resolve()), p.read_bytes()) for p in files]
    except OSError:
        return None
    versions = tuple(importlib.metadata.version(name) for name in ("pydantic", "pyyaml"))
    return (str(root), str(root.resolve()), sweeps, contents, versions)


def _load_runs(paths: list[Path], *, root: Path | None, sweeps: bool) -> list[RunSpec]:
    specs, problems = [], []
    checker = DataChecker(root) if root is not None else None  # each folder read once
    for path in paths:
        try:
            if sweeps:
                specs.extend(read_sweep(path, root=root, checker=checker))
            else:
                specs.append(read_params_file(path, root=root, checker=checker))
        except ParameterError as exc:
            problems.append(str(exc))
    seen: dict[str, RunSpec] = {}
    for spec in specs:
        if spec.name in seen:
            problems.append(
                f"two runs are both named {spec.name!r} ({seen[spec.name].source} and "
                f"{spec.source}): their reports would overwrite each other"
            )
        seen[spec.name] = spec
    if problems:
        raise ParameterError("\n".join(problems))
    return specs
