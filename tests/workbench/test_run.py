"""End to end: params file -> papermill -> HTML report, through the CLI."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from workbench_project import make_project

from evaluatie.cli import main

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from evaluatie.synth.simulate import simulate

    out = tmp_path_factory.mktemp("raw")
    simulate(out_dir=out, seed=7, scale=0.1)
    return out


def params_file(tmp_path: Path, raw: Path, **extra: object) -> Path:
    lines = ["notebook: innovatiebudget", "parameters:", f"  raw_dir: {raw}"]
    lines += [f"  {k}: {v}" for k, v in extra.items()]
    path = tmp_path / "innovatie_test.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _without_provenance(html: str) -> str:
    start = html.index("<summary>Provenance</summary>")
    return html[:start] + html[html.index("</details>", html.index("</table>", start)) :]


def test_run_writes_a_self_contained_reproducible_report(
    tmp_path: Path, raw_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    reports = tmp_path / "reports"
    code = main(["run", str(params_file(tmp_path, raw_dir)), "--reports", str(reports)])
    assert code == 0
    html = (reports / "innovatie_test.html").read_text(encoding="utf-8")
    assert (reports / "innovatie_test.ipynb").is_file()
    # figures embedded as data URIs, at least the trends and the event-study plot
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) >= 2
    assert "<table" in html and "ci_low" in html  # the estimate tables
    assert "Parameters of this run" in html and str(raw_dir) in html
    assert "95% CI" in html  # the generated interpretation
    assert "InnovatiebudgetParams" not in html  # code hidden by default
    assert not re.search(r'<script[^>]+src="https?://', html)  # no network needed
    assert not list(reports.glob(".*.tmp*"))  # no temporary files left behind
    # byte-reproducible: a forced rerun differs only inside the provenance block (start
    # time, duration); cell ids and pandas' table ids are numbered, not random
    assert re.search(r'id="T_t0001', html) and not re.search(r'id="T_[0-9a-f]{5}', html)
    assert 'id="cell-id=cell-0"' in html
    code = main(["run", str(params_file(tmp_path, raw_dir)), "--reports", str(reports), "--force"])
    again = (reports / "innovatie_test.html").read_text(encoding="utf-8")
    assert code == 0 and again != html
    assert _without_provenance(again) == _without_provenance(html)


def test_show_code_flag(
    tmp_path: Path,
    raw_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(REPO)
    reports = tmp_path / "reports"
    path = params_file(tmp_path, raw_dir)
    assert main(["run", str(path), "--reports", str(reports), "--show-code"]) == 0
    html = (reports / "innovatie_test.html").read_text(encoding="utf-8")
    assert "InnovatiebudgetParams" in html  # a name from the setup cell's code
    # the kernel's own stderr: over Unix sockets it has no plain-TCP warning to print
    if os.name == "posix":
        assert "without encryption" not in capfd.readouterr().err


def test_failing_notebook_still_writes_the_report(
    tmp_path: Path,
    raw_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Every input the pre-flight can see is refused before a kernel starts, so the test
    # project's notebook is made to fail after its fit (see workbench_project.FAIL_CELL).
    project = make_project(tmp_path / "project")
    monkeypatch.chdir(project)
    reports = project / "reports"
    path = params_file(tmp_path, raw_dir, title="FAIL on purpose")
    code = main(["run", str(path), "--reports", str(reports)])
    assert code == 1
    html = (reports / "innovatie_test.html").read_text(encoding="utf-8")
    error = "RuntimeError: failing on purpose after the fit"
    # the error is in the header, above the notebook's own first heading
    assert "<b>failed</b>" in html and error in html
    assert html.index(error) < html.index("did outcomes improve at grant schools")
    record = json.loads((reports / "innovatie_test.json").read_text(encoding="utf-8"))
    assert record["status"] == "failed" and "failing on purpose" in record["error"]
    assert "failing on purpose" in (reports / "index.html").read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert "FAILED  innovatie_test" in out and "0 done, 1 failed" in out


def test_bad_params_refused_before_the_kernel_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    reports = tmp_path / "reports"
    path = params_file(tmp_path, tmp_path, outcom="eindtoets")
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'outcom'" in err and "did you mean 'outcome'" in err
    assert not reports.exists() or not any(reports.iterdir())


def test_vve_report_for_one_gemeente(
    tmp_path: Path, raw_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    path = tmp_path / "vve_test.yaml"
    path.write_text(
        f"notebook: vve_budget\nparameters:\n  raw_dir: {raw_dir}\n  gemeenten: [GM0546]\n",
        encoding="utf-8",
    )
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 0
    html = (reports / "vve_test.html").read_text(encoding="utf-8")
    # budget plot, two dose event studies, two dose-response plots
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) >= 5
    assert "eindtoets cannot reflect the 2019 change yet" in html  # the computed timing
    assert "In Leiden," in html and "placebo interval" in html  # the focus gemeente
    assert "Simulated data:" in html and "ATT_o" in html
    record = json.loads((reports / "vve_test.json").read_text(encoding="utf-8"))
    assert record["status"] == "ok" and "average slope" in record["headline"]["label"]


def test_a_second_concurrent_run_of_the_same_report_stops_before_the_kernel(
    tmp_path: Path, raw_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from evaluatie.workbench.lock import report_locks

    monkeypatch.chdir(REPO)
    reports = tmp_path / "reports"
    path = params_file(tmp_path, raw_dir)
    # the lock another process would hold while writing this report (a separate open
    # file, so the OS lock conflicts exactly as between two processes)
    with report_locks(reports, ["innovatie_test"]):
        assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "report 'innovatie_test' is being written by another evaluatie run" in err
    assert "--reports" in err and "Traceback" not in err
    assert not (reports / "innovatie_test.html").exists()  # nothing ran, nothing written
    # released: the lock does not outlive its holder, and leaves no file behind
    with report_locks(reports, ["innovatie_test"]):
        pass
    assert not list(reports.glob(".*.lock"))


@pytest.mark.parametrize(
    ("failures", "message", "starts", "fails"),
    [
        (2, "Kernel died before replying to kernel_info", 3, False),  # third start works
        (9, "Kernel died before replying to kernel_info", 3, True),  # gives up after three
        (9, "something else", 1, True),  # other errors are not retried
    ],
)
def test_a_kernel_that_dies_on_start_is_started_again(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failures: int,
    message: str,
    starts: int,
    fails: bool,
) -> None:
    """Two kernels started at once may pick the same port and one dies before it runs
    anything: that start is retried (seen on a 2-worker Dask batch in CI)."""
    from evaluatie.workbench import run

    calls: list[str] = []

    def flaky(*args: object, **kwargs: object) -> None:
        calls.append("start")
        if len(calls) <= failures:
            raise RuntimeError(message)

    monkeypatch.setattr(run.pm, "execute_notebook", flaky)
    target = (tmp_path / "a.ipynb", tmp_path / "b.ipynb", {"parameters": {}}, tmp_path, False)
    if fails:
        with pytest.raises(RuntimeError, match=message):
            run._execute_notebook(*target)
    else:
        run._execute_notebook(*target)
    assert len(calls) == starts
