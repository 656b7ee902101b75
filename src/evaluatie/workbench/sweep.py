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

import contextlib
import importlib.metadata
import itertools
import os
import re
import tempfile
import warnings
from collections.abc import Iterable
from concurrent.futures import BrokenExecutor, CancelledError, Executor
from pathlib import Path
from typing import Any

from evaluatie.core.errors import ParameterError
from evaluatie.core.memo import (
    Given,
    Signature,
    kept_result,
    portable,
    read_elsewhere,
    restored,
    stored_result,
    warn_again,
    watching,
)
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
    paths: Iterable[str | Path],
    *,
    root: Path | None = None,
    sweeps: bool = True,
    helpers: Executor | None = None,
) -> list[RunSpec]:
    """Every run of every file, all validated first; one error listing every problem.

    ``sweeps=False`` accepts plain params files only (``evaluatie run``). With ``root``
    (checked against the data) a check that passed is kept where the readers keep what
    they read (:func:`evaluatie.core.memo.stored_result`) and not repeated while the
    files, their spelling, the project folder, the code and the data it read are
    unchanged: it took 2-3 s of every rerun of the project's 18 params files, before
    any report could start. ``helpers``: processes that check some of the files beside
    this one (:func:`_check_shared`; a batch's workers, idle until its runs start).
    """
    files = [Path(p) for p in paths]
    key = None if root is None else _check_key(files, root, sweeps)

    def check() -> list[RunSpec]:
        return _load_runs(files, root=root, sweeps=sweeps, helpers=helpers)

    if root is None or key is None:  # the check itself says which file it cannot read
        return check()
    return stored_result(_CHECKED, key, check)


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


def _load_runs(
    paths: list[Path], *, root: Path | None, sweeps: bool, helpers: Executor | None = None
) -> list[RunSpec]:
    if helpers is not None and root is not None and len(paths) > 1:
        checked = _check_shared(paths, root=root, sweeps=sweeps, helpers=helpers)
    else:
        checked = _check_each(paths, root=root, sweeps=sweeps)
    specs, problems = [], []
    for runs_or_problem in checked:
        if isinstance(runs_or_problem, str):
            problems.append(runs_or_problem)
        else:
            specs.extend(runs_or_problem)
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


def _check_each(
    paths: list[Path], *, root: Path | None, sweeps: bool, checker: DataChecker | None = None
) -> list[list[RunSpec] | str]:
    """Each file's runs, or its problems (one message), in order; ``checker``: the data
    read so far, else each folder is read once here."""
    if checker is None and root is not None:
        checker = DataChecker(root)
    out: list[list[RunSpec] | str] = []
    for path in paths:
        try:
            if sweeps:
                out.append(read_sweep(path, root=root, checker=checker))
            else:
                out.append([read_params_file(path, root=root, checker=checker)])
        except ParameterError as exc:
            out.append(str(exc))
    return out


#: What one process checked of a shared check: each file it checked (by position), with
#: its runs or problem (as :func:`_check_each`) and its warnings; and the paths it read.
_Part = tuple[dict[int, tuple[list[RunSpec] | str, list[Given]]], dict[str, Signature]]


def _check_shared(
    paths: list[Path], *, root: Path, sweeps: bool, helpers: Executor
) -> list[list[RunSpec] | str]:
    """:func:`_check_each` of ``paths``, shared between this process and ``helpers``.

    The files of one notebook read the same data, so each notebook's files are checked
    in one process; the notebooks (most files first) go to whichever process is free,
    by claiming them in a folder in turn. On two cores the project's 18 params files
    took 3.7 s in one process while the batch's two kernels, started ahead, had nothing
    to do. The results are the same whoever checked what, and the warnings are given in
    the files' order, each once (two processes may both compute a table that one would
    have computed once); the paths the helpers read count as read here, so a kept check
    watches them (:func:`evaluatie.core.memo.read_elsewhere`).
    """
    groups = _by_notebook(paths)
    with tempfile.TemporaryDirectory(prefix="evaluatie-check-") as claims:
        futures = [
            helpers.submit(_check_claimed, paths, groups, claims, root, sweeps)
            for _ in groups[1:]  # one per other notebook: each worker can take one, or none
        ]
        parts = [_check_claimed(paths, groups, claims, root, sweeps)]
        for future in futures:
            # a worker that died: what it claimed is checked below, in this process
            with contextlib.suppress(BrokenExecutor, CancelledError):
                parts.append(future.result())
    checked: dict[int, tuple[list[RunSpec] | str, list[Given]]] = {}
    for by_file, read in parts:
        checked.update(by_file)
        read_elsewhere(read)
    left = [i for i in range(len(paths)) if i not in checked]
    if left:
        with tempfile.TemporaryDirectory(prefix="evaluatie-check-") as claims:
            checked.update(_check_claimed(paths, [left], claims, root, sweeps)[0])
    given: dict[tuple[str, type[Warning], str, int], warnings.WarningMessage] = {}
    for i in range(len(paths)):
        for w in restored(checked[i][1]):
            given.setdefault((str(w.message), w.category, w.filename, w.lineno), w)
    warn_again(list(given.values()))
    return [checked[i][0] for i in range(len(paths))]


def _by_notebook(paths: list[Path]) -> list[list[int]]:
    """The positions of ``paths`` grouped by the notebook each file names, the largest
    group first (a file that cannot be read is a group of its own: its check says why)."""
    groups: dict[str, list[int]] = {}
    for i, path in enumerate(paths):
        try:
            notebook = str(
                read_yaml_mapping(path, ("notebook", "parameters", "matrix"))["notebook"]
            )
        except ParameterError:
            notebook = f"unreadable file {i}"
        groups.setdefault(notebook, []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def _check_claimed(
    paths: list[Path], groups: list[list[int]], claims: str, root: Path, sweeps: bool
) -> _Part:
    """Check the files of each group of ``paths`` that no other process has claimed yet
    (in the folder ``claims``), recording each file's warnings and what was read."""
    checker = DataChecker(root)
    checked = {}
    with watching() as read:
        for number, group in enumerate(groups):
            if not _claim(claims, number):
                continue
            for i in group:
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    (result,) = _check_each([paths[i]], root=root, sweeps=sweeps, checker=checker)
                checked[i] = (result, portable(seen))
    return checked, dict(read)


def _claim(claims: str, number: int) -> bool:
    """Whether this process is the first to claim group ``number`` (False also once the
    check is over and its folder gone)."""
    try:
        os.close(os.open(os.path.join(claims, str(number)), os.O_CREAT | os.O_EXCL))
    except OSError:
        return False
    return True
