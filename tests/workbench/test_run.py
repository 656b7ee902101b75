"""End to end: params file -> papermill -> HTML report, through the CLI."""

from __future__ import annotations

import csv as csv_module
import io
import json
import os
import re
from pathlib import Path

import pytest
from render_check import chromium, console_errors, report_problems
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
    start = html.index("<summary>Herkomst</summary>")
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
    assert "<table" in html and "95%-BI onder" in html  # the estimate tables, in Dutch
    assert '<html lang="nl">' in html and "<title>Notebook</title>" not in html
    assert "Parameters van deze run" in html and str(raw_dir) in html
    assert "95%-betrouwbaarheidsinterval" in html  # the generated interpretation
    assert 'class="ev-banner"' in html and "Gesimuleerde gegevens" in html
    assert "InnovatiebudgetParams" not in html  # code hidden by default
    assert report_problems(html) == []
    assert not re.search(r'<script[^>]+src="https?://', html)  # no network needed
    assert not list(reports.glob(".*.tmp*"))  # no temporary files left behind
    # byte-reproducible: a forced rerun differs only inside the provenance block (start
    # time, duration); cell ids and pandas' table ids are numbered, not random
    assert not re.search(r'id="T_[0-9a-f]{5}', html)
    assert 'id="cell-id=cell-0"' in html
    exports = _exports(reports / "innovatie_test")
    code = main(["run", str(params_file(tmp_path, raw_dir)), "--reports", str(reports), "--force"])
    again = (reports / "innovatie_test.html").read_text(encoding="utf-8")
    assert code == 0 and again != html
    assert _without_provenance(again) == _without_provenance(html)
    assert _exports(reports / "innovatie_test") == exports  # the same bytes, xlsx included


def _exports(stem: Path) -> dict[str, bytes]:
    """The run's .xlsx and CSV files by name (bytes)."""
    folder = stem.parent / f"{stem.name}_tabellen"
    files = [stem.with_suffix(".xlsx"), *sorted(folder.iterdir())]
    return {p.name: p.read_bytes() for p in files}


def test_exports_hold_every_table_of_the_report(
    tmp_path: Path, raw_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from openpyxl import load_workbook

    from evaluatie.workbench.exports import read_tables

    monkeypatch.chdir(REPO)
    reports = tmp_path / "reports"
    path = params_file(tmp_path, raw_dir, language="en", title="English run")
    assert main(["run", str(path), "--reports", str(reports)]) == 0
    html = (reports / "innovatie_test.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Simulated data" in html and "95% CI low" in html
    assert report_problems(html) == []
    shown = read_tables(nbformat.read(reports / "innovatie_test.ipynb", as_version=4))
    assert len(shown) >= 8  # every show_table of the notebook
    book = load_workbook(reports / "innovatie_test.xlsx")
    assert len(book.sheetnames) == len(shown)
    csvs = sorted((reports / "innovatie_test_tabellen").glob("*.csv"))
    assert len(csvs) == len(shown)
    for sheet, table, csv in zip(book.worksheets, shown, csvs, strict=True):
        assert sheet.title == table["name"][:31]
        header_row = 3 if table["title"] else 1
        header = [c.value for c in sheet[header_row]]
        assert header == table["columns"]
        values = [[c.value for c in row] for row in sheet.iter_rows(min_row=header_row + 1)]
        # full precision, not the rounded display (Excel keeps 15-17 significant digits)
        assert len(values) == len(table["rows"])
        for got, want in zip(values, table["rows"], strict=True):
            assert got == [pytest.approx(w, rel=1e-14) if isinstance(w, float) else w for w in want]
        # parsed as CSV: a label with a comma ("per €1,000 of grant") is quoted
        lines = list(csv_module.reader(io.StringIO(csv.read_text(encoding="utf-8-sig"))))
        assert lines[0][0] == table["columns"][0]
        assert len(lines) == len(table["rows"]) + 1
    record = json.loads((reports / "innovatie_test.json").read_text(encoding="utf-8"))
    assert record["exports"][0] == "innovatie_test.xlsx" and len(record["exports"]) == 1 + len(csvs)


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
    assert '<span class="ev-status-failed">mislukt</span>' in html and error in html
    assert html.index(error) < html.index("Scholen kregen in verschillende jaren een subsidie")
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


@pytest.fixture(scope="module")
def vve_reports(tmp_path_factory: pytest.TempPathFactory, raw_dir: Path) -> Path:
    """The VVE report for Leiden, run once for the tests below."""
    folder = tmp_path_factory.mktemp("vve")
    path = folder / "vve_test.yaml"
    path.write_text(
        f"notebook: vve_budget\nparameters:\n  raw_dir: {raw_dir}\n  gemeenten: [GM0546]\n",
        encoding="utf-8",
    )
    reports = folder / "reports"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        assert main(["run", str(path), "--reports", str(reports)]) == 0
    return reports


def test_reports_render_in_headless_chromium(vve_reports: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium / google-chrome on PATH: headless rendering not checked")
    for page in (vve_reports / "vve_test.html", vve_reports / "index.html"):
        assert console_errors(browser, page) == [], page.name


def test_vve_report_for_one_gemeente(vve_reports: Path) -> None:
    reports = vve_reports
    html = (reports / "vve_test.html").read_text(encoding="utf-8")
    # budget plot, two dose event studies, two dose-response plots
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) >= 5
    assert "eindtoets kan de verandering van 2019 nog niet laten zien" in html  # timing
    assert "In Leiden veranderde" in html and "placebo-interval" in html  # focus gemeente
    assert "Gesimuleerde gegevens:" in html and "gemiddeld effect (ATT)" in html
    assert report_problems(html) == []
    record = json.loads((reports / "vve_test.json").read_text(encoding="utf-8"))
    # a run about Leiden leads with Leiden's own estimate, in the outcome's unit
    assert record["status"] == "ok" and record["headline"]["label"].startswith("Leiden, ")
    assert record["headline"]["unit"] == "procentpunt"


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


def test_gemeente_report_on_the_real_exam_file(tmp_path: Path) -> None:
    """The committed params file on real DUO data in the repository: an illustration,
    with its plots, no simulated-data banner, and Almere's synthetic DiD as headline."""
    reports = tmp_path / "reports"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        args = ["run", "params/gemeente_almere_examens.yaml", "--reports", str(reports)]
        assert main(args) == 0
    html = (reports / "gemeente_almere_examens.html").read_text(encoding="utf-8")
    # synthetic DiD paths, synthetic control paths, placebo gaps, donor weights
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) == 4
    assert "Illustratie van de methode" in html and "Gesimuleerde gegevens:" not in html
    assert "synthetische controle" in html and "rangorde onder 40 placebo" in html
    assert report_problems(html) == []
    record = json.loads((reports / "gemeente_almere_examens.json").read_text(encoding="utf-8"))
    assert record["status"] == "ok" and record["headline"]["label"].startswith("Almere: ")
    assert record["headline"]["unit"] == "procentpunt"


def test_schooluitval_report_names_the_truth(tmp_path: Path, raw_dir: Path) -> None:
    """The schooluitval notebook on simulated data: the region against the other RMC
    regions with its plots, the table by school type, the gap and the member gemeente,
    each with the simulated truth named; Dutch, and nothing the render check flags."""
    path = tmp_path / "schooluitval_test.yaml"
    path.write_text(
        f"notebook: schooluitval\nparameters:\n  raw_dir: {raw_dir}\n", encoding="utf-8"
    )
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 0
    html = (reports / "schooluitval_test.html").read_text(encoding="utf-8")
    # trend panels, region vs synthetic region, Leiden vs synthetic Leiden
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) == 3
    assert "Zuid-Holland-Noord" in html and "Per onderwijssoort" in html
    assert html.count("Controle op gesimuleerde gegevens") >= 3  # region, gap, Leiden
    assert "waar effect" in html and "rangorde onder 38 placebo" in html
    assert report_problems(html) == []
    record = json.loads((reports / "schooluitval_test.json").read_text(encoding="utf-8"))
    assert record["status"] == "ok" and record["headline"]["unit"] == "procentpunt"


def test_doorstroom_report_on_the_real_exam_file(tmp_path: Path) -> None:
    """The committed params file on the real DUO exam file: the level plot, the gaps
    table, the comparison presented as an illustration, a Dutch summary of the gaps."""
    reports = tmp_path / "reports"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        assert main(["run", "params/doorstroom_almere.yaml", "--reports", str(reports)]) == 0
    html = (reports / "doorstroom_almere.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) == 1
    assert "Illustratie van de methode" in html and "Gesimuleerde gegevens:" not in html
    assert "Gelijke kansen" in html and "vmbo − havo/vwo" in html and "jongens − meisjes" in html
    assert "lag het slagingspercentage van vmbo" in html
    assert report_problems(html) == []
    record = json.loads((reports / "doorstroom_almere.json").read_text(encoding="utf-8"))
    assert record["status"] == "ok" and record["headline"]["label"].startswith("Almere: ")


def test_innovatiebudget_report_on_the_standardised_scale(tmp_path: Path, raw_dir: Path) -> None:
    """provider: standardised runs through 2023-24 and speaks of standard deviations."""
    path = params_file(tmp_path, raw_dir, provider="standardised", last_year=2024)
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 0
    html = (reports / "innovatie_test.html").read_text(encoding="utf-8")
    assert "standaardafwijking" in html and "2023-2024" in html
    assert report_problems(html) == []
