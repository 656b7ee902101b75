"""A params check that passed is kept, and repeated as soon as anything it read changes.

`evaluatie run`, `batch` and `all` check every params file against the data before any
report starts; a rerun on unchanged inputs takes the kept check
(:func:`evaluatie.workbench.sweep.load_runs`, :func:`evaluatie.core.memo.stored_result`).
The key holds the params files and the code; the data are whatever the check read through
readers that take a folder's signature. The last test checks that nothing else is read.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from workbench_project import REPO, write_params

from evaluatie.core import memo
from evaluatie.core.errors import ParameterError
from evaluatie.workbench import datacheck, sweep
from evaluatie.workbench.sweep import kept_runs, load_runs


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """A cache folder of the test's own, and a count of the checks really done."""
    monkeypatch.setenv(memo.CACHE_ENV, str(tmp_path / "cache"))
    done: list[int] = []
    check = sweep._load_runs

    def counted(*args: Any, **kwargs: Any) -> Any:
        done.append(1)
        return check(*args, **kwargs)

    monkeypatch.setattr(sweep, "_load_runs", counted)
    return done


def _shown(specs: list[Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(s.name, str(s.source), s.params.model_dump()) for s in specs]


def test_a_passed_check_is_kept_until_its_inputs_change(
    tmp_path: Path, small_raw: Path, checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = Path(shutil.copytree(small_raw, tmp_path / "raw"))
    path = write_params(tmp_path / "p.yaml", raw, {"cluster": "vestiging", "first_year": 2014})
    first = load_runs([path], root=tmp_path)
    assert _shown(load_runs([path], root=tmp_path)) == _shown(first)
    assert len(checks) == 1

    path.write_text(path.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    load_runs([path], root=tmp_path)  # another file: checked again
    assert len(checks) == 2
    monkeypatch.chdir(tmp_path)
    load_runs([Path("p.yaml")], root=tmp_path)  # spelled otherwise: its runs' source differs
    assert len(checks) == 3

    exams = sorted(raw.glob("05.-gemiddelde-eindscores-*"))
    os.utime(exams[0], ns=(1, 1))  # the data changed (their time is enough)
    load_runs([path], root=tmp_path)
    load_runs([path], root=tmp_path)
    assert len(checks) == 4

    for exam in exams:  # the data the params need are gone: refused, not kept
        exam.unlink()
    with pytest.raises(ParameterError, match="problem"):
        load_runs([path], root=tmp_path)
    assert len(checks) == 5


def test_kept_runs_are_those_of_a_kept_check_only(
    tmp_path: Path, small_raw: Path, checks: list[int]
) -> None:
    """kept_runs checks nothing: the runs of a kept check, else None."""
    path = write_params(tmp_path / "p.yaml", small_raw, {"cluster": "vestiging"})
    assert kept_runs([path], root=tmp_path) is None  # never checked
    first = load_runs([path], root=tmp_path)
    kept = kept_runs([path], root=tmp_path)
    assert kept is not None and _shown(kept) == _shown(first)
    path.write_text(path.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    assert kept_runs([path], root=tmp_path) is None  # another file: not checked here
    assert kept_runs([tmp_path / "missing.yaml"], root=tmp_path) is None
    assert len(checks) == 1


def test_a_refused_check_is_not_kept(tmp_path: Path, small_raw: Path, checks: list[int]) -> None:
    path = write_params(tmp_path / "p.yaml", small_raw, {"gemeenten": "[GM9999]"})
    for _ in range(2):
        with pytest.raises(ParameterError, match="GM9999"):
            load_runs([path], root=tmp_path)
    assert len(checks) == 2
    assert not list((tmp_path / "cache").glob("checked-params-*"))


def test_without_the_data_check_or_the_cache_nothing_is_kept(
    tmp_path: Path, small_raw: Path, checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_params(tmp_path / "p.yaml", small_raw, {"cluster": "vestiging"})
    load_runs([path])
    load_runs([path])  # no root: the schema only, not kept
    monkeypatch.setenv(memo.CACHE_ENV, "")
    load_runs([path], root=tmp_path)
    load_runs([path], root=tmp_path)
    assert len(checks) == 4
    assert not list((tmp_path / "cache").glob("checked-params-*"))


_READ: list[list[str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    listed = event in ("open", "os.listdir", "os.scandir") and args
    if _READ and listed and isinstance(args[0], str | bytes | os.PathLike):
        _READ[-1].append(os.fsdecode(args[0]))


@contextlib.contextmanager
def files_read() -> Iterator[list[str]]:
    """Every file opened and folder listed inside the block (an audit hook cannot be
    removed, so it records only inside such a block)."""
    if not getattr(sys, "_evaluatie_audit", False):
        sys.addaudithook(_audit)
        sys._evaluatie_audit = True  # type: ignore[attr-defined]
    _READ.append([])
    try:
        yield _READ[-1]
    finally:
        _READ.pop()


def test_the_check_reads_nothing_its_key_does_not_hold(
    tmp_path: Path, full_raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the project's params files, on simulated data where they expect them.
    project = tmp_path / "project"
    shutil.copytree(REPO / "params", project / "params", ignore=shutil.ignore_patterns("sweeps"))
    (project / "data").mkdir()
    (project / "data" / "raw").symlink_to(full_raw)
    (project / "tests" / "data").mkdir(parents=True)
    (project / "tests" / "data" / "duo").symlink_to(REPO / "tests" / "data" / "duo")
    cache = tmp_path / "cache"  # empty: every reader really reads
    monkeypatch.setenv(memo.CACHE_ENV, str(cache))
    paths = sorted((project / "params").glob("*.yaml"))
    with memo.watching() as seen, files_read() as read:
        load_runs(paths, root=project)
    watched = [Path(p) for p in seen]
    keyed = {p.resolve() for p in paths}
    package = Path(memo.__file__).resolve().parents[1]  # in the key as the code digest
    outside = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix)]  # libraries

    def within(path: Path, folders: Any) -> bool:
        return any(path == folder or folder in path.parents for folder in folders)

    def accounted(name: str) -> bool:
        path = Path(name).resolve()  # relative: to the current folder, as it was opened
        return (
            path in keyed
            or within(path, watched)
            or within(path, (package, cache.resolve(), *outside))
            or not within(path, (tmp_path.resolve(), REPO, Path.cwd()))
        )

    assert len(read) > 50  # the data files, at least
    assert sorted({name for name in read if not accounted(name)}) == []
    assert {full_raw.resolve(), (REPO / "tests" / "data" / "duo").resolve()} <= set(watched)


def test_the_reports_find_what_the_check_read(
    tmp_path: Path, small_raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernels run in the project folder and read raw_dir as the params file spells it;
    # the readers keep what they read under that spelling (memo.stored_read), so a check
    # run there reads it so too, and a report parses nothing again.
    from evaluatie.sources.panel import load_panel

    project = tmp_path / "project"
    shutil.copytree(small_raw, project / "data" / "raw")
    params = project / "params" / "p.yaml"
    params.parent.mkdir()
    params.write_text(
        "notebook: innovatiebudget\nparameters:\n  raw_dir: data/raw\n  cluster: vestiging\n",
        encoding="utf-8",
    )
    cache = tmp_path / "cache"
    monkeypatch.setenv(memo.CACHE_ENV, str(cache))
    monkeypatch.chdir(project)
    (spec,) = load_runs([params], root=project)
    readings = sorted(cache.glob("evaluatie.sources.panel.load_panel-*"))
    assert len(readings) == 1
    with files_read() as read:
        panel = load_panel(spec.params.raw_dir, spec.params.provider)  # as the notebook does
    assert sorted(cache.glob("evaluatie.sources.panel.load_panel-*")) == readings
    assert not [name for name in read if name.endswith(".csv")]  # taken from the cache
    assert len(panel) > 0


# A batch's workers check some of the files beside the command (sweep._check_shared).


class _Elsewhere(Executor):
    """Runs each call at once, as another process would: outside this process's
    ``watching`` blocks. The first call claims every notebook's files."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        watchers = memo._WATCHERS[:]
        memo._WATCHERS.clear()
        try:
            future.set_result(fn(*args, **kwargs))
        finally:
            memo._WATCHERS[:] = watchers
        return future


def _three_notebooks(folder: Path, raw: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = [write_params(folder / "a.yaml", raw, {"cluster": "vestiging"})]
    for name, notebook in (("b", "vve_budget"), ("c", "schooluitval"), ("d", "schooluitval")):
        text = f"notebook: {notebook}\nparameters:\n  raw_dir: {raw}\n"
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
        paths.append(folder / f"{name}.yaml")
    return paths


def test_a_kept_check_watches_what_its_helpers_read(
    tmp_path: Path, small_raw: Path, checks: list[int]
) -> None:
    raw = Path(shutil.copytree(small_raw, tmp_path / "raw"))
    paths = _three_notebooks(tmp_path / "params", raw)
    first = load_runs(paths, root=tmp_path, helpers=_Elsewhere())
    assert _shown(load_runs(paths, root=tmp_path)) == _shown(first)
    assert len(checks) == 1
    os.utime(next(raw.glob("05.-gemiddelde-eindscores-*")), ns=(1, 1))  # read elsewhere only
    load_runs(paths, root=tmp_path)
    assert len(checks) == 2


def test_a_shared_check_gives_what_one_process_gives(
    tmp_path: Path, small_raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(memo.CACHE_ENV, "")  # nothing kept: each call checks
    paths = _three_notebooks(tmp_path / "params", small_raw)
    checked_in = tmp_path / "pids"
    check_each = sweep._check_each

    def noted(*args: Any, **kwargs: Any) -> Any:  # forked workers inherit it
        with checked_in.open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
        return check_each(*args, **kwargs)

    monkeypatch.setattr(sweep, "_check_each", noted)

    def checked(**kwargs: Any) -> tuple[Any, list[tuple[type[Warning], str]]]:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            runs = load_runs(paths, root=tmp_path, sweeps=False, **kwargs)
        given = list(dict.fromkeys((w.category, str(w.message)) for w in seen))
        return _shown(runs), given

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        for done in [pool.submit(os.getpid) for _ in range(2)]:
            done.result()  # the workers are up, as a batch's are when the check starts
        # each check as in a new command: what this process read and derived is dropped
        # (a second check in one process does not warn of a derived table again)
        monkeypatch.setattr(datacheck, "_CACHE", {})
        alone = checked()
        monkeypatch.setattr(datacheck, "_CACHE", {})
        checked_in.unlink()
        assert checked(helpers=pool) == alone
        assert alone[1]  # the warnings are compared, not two empty lists
        assert len(set(checked_in.read_text(encoding="utf-8").split())) >= 2  # shared

        (tmp_path / "params" / "c.yaml").write_text(
            f"notebook: schooluitval\nparameters:\n  raw_dir: {small_raw}\n  regio: Nergens\n",
            encoding="utf-8",
        )
        with pytest.raises(ParameterError) as one:
            load_runs(paths, root=tmp_path, sweeps=False)
        with pytest.raises(ParameterError) as shared:
            load_runs(paths, root=tmp_path, sweeps=False, helpers=pool)
    assert str(shared.value) == str(one.value)
    assert "c.yaml" in str(one.value)


class _DiesAfterClaiming(Executor):
    """A worker that claims the first notebook still unclaimed, then dies (killed, out
    of memory): its future raises BrokenProcessPool."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        from concurrent.futures.process import BrokenProcessPool

        _paths, groups, claims = args[:3]
        next(n for n in range(len(groups)) if sweep._claim(claims, n))
        future: Future[Any] = Future()
        future.set_exception(BrokenProcessPool("a worker died"))
        return future


def test_what_a_dead_helper_claimed_is_checked_here(
    tmp_path: Path, small_raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(memo.CACHE_ENV, "")
    paths = _three_notebooks(tmp_path / "params", small_raw)
    monkeypatch.setattr(datacheck, "_CACHE", {})
    alone = _shown(load_runs(paths, root=tmp_path, sweeps=False))
    monkeypatch.setattr(datacheck, "_CACHE", {})
    shared = load_runs(paths, root=tmp_path, sweeps=False, helpers=_DiesAfterClaiming())
    assert _shown(shared) == alone  # every file checked, no traceback
