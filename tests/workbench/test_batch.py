"""Sweeps: matrix expansion, all runs validated first, local workers and a Dask cluster.

The end-to-end tests run the real notebook (plus a `publish` cell) on the small
simulated data: a 6-run matrix on 2 local worker processes, in which the runs for two
gemeenten without any grant school fail, and 2 runs on a Dask LocalCluster.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from pathlib import Path

import pytest
from workbench_project import REPO, make_project, write_params

from evaluatie.cli import main
from evaluatie.core.errors import ParameterError
from evaluatie.core.memo import SHARED_ENV
from evaluatie.workbench.batch import RunTask, _result, _start_method, _worker_pool
from evaluatie.workbench.kernel import WORKER_NICENESS
from evaluatie.workbench.params import read_params_file
from evaluatie.workbench.run import prepare
from evaluatie.workbench.sweep import load_runs, read_sweep, run_name

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MATRIX = """matrix:
  outcome: [eindtoets, rekenen_1s, lezen_2f]
  title: [ok, FAIL]   # the test project's notebook fails after the fit for FAIL
"""


def test_committed_sweep_expands_in_order() -> None:
    path = REPO / "params" / "sweeps" / "innovatiebudget_gemeenten.yaml"
    specs = read_sweep(path)
    assert [s.name for s in specs] == [
        f"innovatiebudget_gemeenten--gemeenten={g}--outcome={o}"
        for g in ("GM0546", "GM0034", "GM0453")
        for o in ("eindtoets", "rekenen_1s")
    ]
    first = specs[0].params
    assert first.gemeenten == ["GM0546"] and first.cluster == "vestiging"
    assert (
        first.title
        == "Onderwijs-innovatiebudget per gemeente (gemeenten GM0546, outcome eindtoets)"
    )
    assert not list((REPO / "params").glob("*.yaml")) or all(
        "matrix" not in p.read_text(encoding="utf-8") for p in (REPO / "params").glob("*.yaml")
    ), "sweeps belong in params/sweeps/, where `evaluatie all` does not look"


def test_run_names_are_file_name_safe() -> None:
    combination = {"gemeenten": ["GM0546", "GM0034"], "window": [-3, 3], "title": "a/b c"}
    assert run_name("s", combination) == "s--gemeenten=GM0546+GM0034--window=-3+3--title=a_b_c"
    assert run_name("s", {"gemeenten": None}) == "s--gemeenten=all"


@pytest.mark.parametrize(
    ("matrix", "expected"),
    [
        ("matrix: {outcom: [eindtoets]}\n", "unknown parameter 'outcom' (did you mean 'outcome'?)"),
        ("matrix: {outcome: eindtoets}\n", "expected a non-empty list"),
        ("matrix: {raw_dir: [a, b]}\n", "set both in 'parameters' and in 'matrix'"),
        ("matrix: [outcome]\n", "'matrix' must map parameter names"),
    ],
)
def test_malformed_matrix(tmp_path: Path, matrix: str, expected: str) -> None:
    path = write_params(tmp_path / "s.yaml", tmp_path, {}, matrix)
    with pytest.raises(ParameterError, match=re.escape(expected)):
        read_sweep(path)


def test_every_problem_of_every_run_at_once(tmp_path: Path, small_raw: Path) -> None:
    sweep = write_params(
        tmp_path / "s.yaml",
        small_raw,
        {"cluster": "vestiging"},
        "matrix:\n  gemeenten: [[GM9999], [GM0546]]\n  first_year: [2014, 2001]\n",
    )
    plain = write_params(tmp_path / "p.yaml", small_raw, {"outcom": "eindtoets"})
    with pytest.raises(ParameterError) as info:
        load_runs([sweep, plain], root=tmp_path)
    message = str(info.value)
    assert "3 of 4 runs have problems" in message
    assert "s--gemeenten=GM9999--first_year=2014: 1 problem(s)" in message
    assert "s--gemeenten=GM9999--first_year=2001: 2 problem(s)" in message
    assert "s--gemeenten=GM0546--first_year=2001: 1 problem(s)" in message
    assert "unknown parameter 'outcom'" in message  # the second file's problem too


def test_run_refuses_a_sweep_and_names_collide(tmp_path: Path) -> None:
    sweep = write_params(tmp_path / "s.yaml", tmp_path, {}, "matrix: {outcome: [eindtoets]}\n")
    with pytest.raises(ParameterError, match="run it with `evaluatie batch`"):
        read_params_file(sweep)
    twin = write_params(tmp_path / "other" / "s.yaml", tmp_path, {})
    plain = write_params(tmp_path / "s2" / "s.yaml", tmp_path, {})
    with pytest.raises(ParameterError, match="both named 's'"):
        load_runs([twin, plain])


def test_a_worker_that_dies_is_a_failed_run(tmp_path: Path, small_raw: Path) -> None:
    project = make_project(tmp_path / "project")
    spec = read_params_file(write_params(tmp_path / "dies.yaml", small_raw, {}))
    reports = project / "reports"
    task = RunTask(spec, prepare(spec, project), project, reports, show_code=False)

    def died() -> None:
        raise RuntimeError("worker process exited")

    outcome = _result(died, task, started=0.0)
    assert outcome.status == "failed" and "RuntimeError: worker process exited" in outcome.error
    record = json.loads((reports / "dies.json").read_text(encoding="utf-8"))
    assert record["status"] == "failed" and record["report"] is None


def test_the_workers_of_a_batch_share_one_results_folder_while_it_runs(tmp_path: Path) -> None:
    """Their kernels share ``@reused`` results there (evaluatie.core.memo)."""
    with _worker_pool(tmp_path, 2) as pool:
        seen = {pool.submit(os.getenv, SHARED_ENV).result() for _ in range(4)}
        (folder,) = seen
        assert folder is not None and Path(folder).is_dir()
        if hasattr(os, "nice"):  # and they run below the command's priority
            assert pool.submit(os.nice, 0).result() == min(os.nice(0) + WORKER_NICENESS, 19)
    assert not Path(folder).exists() and SHARED_ENV not in os.environ


def test_matrix_of_six_on_two_workers(
    tmp_path: Path,
    small_raw: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = make_project(tmp_path / "project")
    sweep = write_params(project / "params" / "sweeps" / "six.yaml", small_raw, {}, MATRIX)
    monkeypatch.chdir(project)
    assert main(["batch", str(sweep), "-j", "2"]) == 1  # some runs failed
    out = capsys.readouterr().out
    assert re.search(r"6 runs in [\d.]+ s: 3 done, 3 failed, 0 skipped \(cached\)", out)
    failed = re.findall(r"^  FAILED (\S+): (.*)$", out, flags=re.M)
    assert sorted(name for name, _ in failed) == [
        f"six--outcome={o}--title=FAIL" for o in ("eindtoets", "lezen_2f", "rekenen_1s")
    ]
    assert all("failing on purpose" in error for _, error in failed)

    reports = project / "reports"
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "6 runs, waarvan 3 mislukt." in index
    for outcome in ("eindtoets", "rekenen_1s", "lezen_2f"):
        for title in ("ok", "FAIL"):
            name = f"six--outcome={outcome}--title={title}"
            record = json.loads((reports / f"{name}.json").read_text(encoding="utf-8"))
            assert (reports / f"{name}.html").is_file()
            assert f'href="{name}.html"' in index
            if title == "ok":
                assert record["status"] == "ok"
                assert record["headline"]["label"] == f"TWFE effect on {outcome}"
                assert f"TWFE effect on {outcome}: " in index
            else:
                assert record["status"] == "failed"
    assert index.count("failing on purpose") == 3


def test_batch_on_a_dask_cluster(
    tmp_path: Path,
    small_raw: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed: `--scheduler` cannot be tested"
    )
    project = make_project(tmp_path / "project")
    sweep = write_params(
        project / "two.yaml", small_raw, {}, "matrix:\n  outcome: [eindtoets, rekenen_1s]\n"
    )
    monkeypatch.chdir(project)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        code = main(["batch", str(sweep), "--scheduler", cluster.scheduler_address])
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"2 runs in [\d.]+ s: 2 done, 0 failed, 0 skipped", out)
    for outcome in ("eindtoets", "rekenen_1s"):
        record = json.loads(
            (project / "reports" / f"two--outcome={outcome}.json").read_text(encoding="utf-8")
        )
        assert record["status"] == "ok" and record["headline"]["estimate"] is not None


def test_unreachable_scheduler_is_a_clear_error(
    tmp_path: Path,
    small_raw: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("distributed", reason="dask.distributed is not installed")
    import dask

    project = make_project(tmp_path / "project")
    params = write_params(project / "p.yaml", small_raw, {})
    monkeypatch.chdir(project)
    # port 9 (discard) on loopback: nothing listens; give up after 1 s instead of 30 s
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main(["batch", str(params), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


def test_longest_runs_start_first(tmp_path: Path, small_raw: Path) -> None:
    """The notebook's expected time orders a first batch; a previous run's time wins."""
    from evaluatie.workbench.batch import longest_first
    from evaluatie.workbench.params import NOTEBOOK_PARAMS, RunSpec

    project = make_project(tmp_path / "project")
    reports = project / "reports"
    innovatie = read_params_file(write_params(tmp_path / "innovatie.yaml", small_raw, {}))
    gemeente = RunSpec("gemeente", NOTEBOOK_PARAMS["gemeente"](), run_name="gemeente")
    tasks = [
        RunTask(spec, {"name": spec.name}, project, reports, show_code=False)
        for spec in (gemeente, innovatie)
    ]
    assert [t.spec.name for t in longest_first(tasks, {})] == ["innovatie", "gemeente"]
    took = {"gemeente": 99.0}
    assert [t.spec.name for t in longest_first(tasks, took)] == ["gemeente", "innovatie"]


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_workers_are_forked_only_without_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        assert _start_method() == "spawn"  # a lock a thread holds would be inherited
    finally:
        done.set()
        other.join()
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # as in `evaluatie all`
    assert _start_method() == "fork"  # the workers inherit the imports
