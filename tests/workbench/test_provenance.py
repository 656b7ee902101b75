"""Run records, the cache and `publish`: every report says how it was made.

One real notebook run (module fixture); the cache, --force and interrupt tests replace
papermill's execute call with a stand-in, which is what they are about (whether and
how the runner calls it), not the notebook.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from workbench_project import make_project, write_params

import evaluatie
from evaluatie.cli import main
from evaluatie.core.errors import ParameterError
from evaluatie.core.results import Overall, Result
from evaluatie.workbench import headline, provenance, run
from evaluatie.workbench.params import RunSpec, validate
from evaluatie.workbench.provenance import cache_hit, code_version, run_record, write_sidecar

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, small_raw: Path) -> dict[str, Any]:
    """One real run in a fresh project; what it wrote, read right after it finished."""
    project = make_project(tmp_path_factory.mktemp("project"))
    params = write_params(project / "params" / "prov.yaml", small_raw, {"outcome": "eindtoets"})
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        code = main(["run", str(params)])
    reports = project / "reports"
    return {
        "code": code,
        "project": project,
        "params": params,
        "record": json.loads((reports / "prov.json").read_text(encoding="utf-8")),
        "html": (reports / "prov.html").read_text(encoding="utf-8"),
        "index": (reports / "index.html").read_text(encoding="utf-8"),
    }


def test_record_holds_inputs_outputs_and_headline(
    first_run: dict[str, Any], small_raw: Path
) -> None:
    assert first_run["code"] == 0
    record = first_run["record"]
    project = first_run["project"]
    assert record["status"] == "ok" and record["error"] is None
    assert record["parameters"]["outcome"] == "eindtoets"
    assert record["parameters"]["raw_dir"] == str(small_raw)
    files = record["data"]["files"]
    assert files == {p.name: sha256(p) for p in small_raw.iterdir()}
    assert record["notebook_sha256"] == sha256(project / "notebooks" / "innovatiebudget.ipynb")
    code = record["code"]
    assert code["evaluatie"] == evaluatie.__version__
    if code["source"] == "git":
        assert re.fullmatch(r"[0-9a-f]{40}", code["commit"]) and isinstance(code["dirty"], bool)
    env = record["environment"]
    assert env["python"].count(".") == 2
    assert {"numpy", "pandas", "scipy", "linearmodels", "papermill"} <= set(env["packages"])
    assert datetime.fromisoformat(record["started"]).tzinfo is not None
    assert record["duration_s"] > 0
    headline = record["headline"]
    assert headline["label"] == "TWFE effect on eindtoets"
    assert headline["ci_low"] < headline["estimate"] < headline["ci_high"]
    # the same record heads the report and feeds the index
    html = first_run["html"]
    assert "Herkomst" in html and record["cache_key"] in html
    assert f"sha256 {record['notebook_sha256'][:16]}" in html
    assert "Kernresultaat</b>: TWFE effect on eindtoets: " in html
    assert html.index("Kernresultaat") < html.index("Parameters van deze run")
    assert 'href="prov.html"' in first_run["index"]
    assert "TWFE effect on eindtoets: " in first_run["index"]


def _stand_in(calls: list[str]) -> Any:
    """papermill's execute_notebook without a kernel: the output is the input notebook."""

    def execute(source: str, output: str, **kwargs: Any) -> None:
        calls.append(source)
        shutil.copy(source, output)

    return execute


def test_unchanged_rerun_is_skipped_and_force_reruns(
    first_run: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(first_run["project"])
    sidecar = first_run["project"] / "reports" / "prov.json"
    before = sidecar.read_bytes()
    calls: list[str] = []
    monkeypatch.setattr(run.pm, "execute_notebook", _stand_in(calls))
    assert main(["run", str(first_run["params"])]) == 0
    out = capsys.readouterr().out
    assert "cached  prov" in out and "0 done, 0 failed, 1 skipped (cached)" in out
    assert calls == [] and sidecar.read_bytes() == before

    assert main(["run", str(first_run["params"]), "--force"]) == 0
    assert "1 done, 0 failed, 0 skipped" in capsys.readouterr().out
    assert len(calls) == 1
    after = json.loads(sidecar.read_text(encoding="utf-8"))
    assert after["cache_key"] == first_run["record"]["cache_key"]
    assert after["started"] >= first_run["record"]["started"]
    assert after["headline"] is None  # the stand-in executed nothing, so nothing was published


@pytest.fixture
def project(tmp_path: Path, small_raw: Path) -> Path:
    """A project whose data folder is a private copy of the small data (safe to modify)."""
    root = make_project(tmp_path / "project")
    shutil.copytree(small_raw, root / "data" / "raw")
    return root


def _record(root: Path, show_code: bool = False, **values: Any) -> dict[str, Any]:
    spec = RunSpec("innovatiebudget", validate("innovatiebudget", values), run_name="k")
    return run_record(spec, root, root / "notebooks" / "innovatiebudget.ipynb", show_code=show_code)


def test_cache_key_follows_every_input(project: Path, tmp_path: Path) -> None:
    key = _record(project)["cache_key"]
    assert _record(project)["cache_key"] == key  # deterministic
    assert _record(project, show_code=True)["cache_key"] != key
    assert _record(project, outcome="lezen_2f")["cache_key"] != key
    # data by content: the same project moved elsewhere gives the same key
    moved = tmp_path / "elsewhere"
    shutil.copytree(project, moved)
    assert _record(moved)["cache_key"] == key
    with open(moved / "data" / "raw" / "vestigingen-bo.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert _record(moved)["cache_key"] != key
    notebook = project / "notebooks" / "innovatiebudget.ipynb"
    notebook.write_text(notebook.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _record(project)["cache_key"] != key


def test_failed_or_reportless_runs_are_not_reused(project: Path) -> None:
    reports = project / "reports"
    record = _record(project)
    write_sidecar(reports, {**record, "status": "failed", "report": "k.html"})
    (reports / "k.html").write_text("<html></html>", encoding="utf-8")
    assert cache_hit(reports, record) is None
    write_sidecar(reports, {**record, "status": "ok", "report": "k.html"})
    assert cache_hit(reports, record) is not None
    (reports / "k.html").unlink()
    assert cache_hit(reports, record) is None


def test_code_version_outside_git(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("x = 1\n", encoding="utf-8")
    version = code_version(package)
    assert version["source"] == "files" and version["commit"] is None
    assert version["dirty"] is None and len(version["files_sha256"]) == 64
    copy = tmp_path / "copy"
    shutil.copytree(package, copy)
    (copy / "__init__.py").write_text("x = 2\n", encoding="utf-8")
    assert code_version(copy)["files_sha256"] != version["files_sha256"]


def test_code_version_of_this_checkout() -> None:
    version = code_version()
    if version["source"] != "git":
        pytest.skip("evaluatie is not imported from a git checkout here")
    assert re.fullmatch(r"[0-9a-f]{40}", version["commit"])
    assert (version["changes_sha256"] is not None) == version["dirty"]


@pytest.mark.parametrize("stage", ["execute", "render", "record"])
def test_interrupt_leaves_no_partial_output(
    stage: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(project)
    raw = project / "data" / "raw"
    reports = project / "reports"
    old = write_params(project / "params" / "old.yaml", raw, {})
    new = write_params(project / "params" / "new.yaml", raw, {})
    monkeypatch.setattr(run.pm, "execute_notebook", _stand_in([]))
    assert main(["run", str(old)]) == 0  # a complete earlier run: report, notebook, record
    earlier = {p.name: p.read_bytes() for p in reports.iterdir()}

    def interrupt(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    if stage == "execute":
        monkeypatch.setattr(run.pm, "execute_notebook", interrupt)
    elif stage == "render":
        monkeypatch.setattr(run, "to_html", interrupt)
    else:

        def half_a_record(obj: Any, fh: Any, **kwargs: Any) -> None:
            fh.write('{"kind": "evaluatie-run", "name": ')
            raise KeyboardInterrupt

        monkeypatch.setattr(provenance.json, "dump", half_a_record)

    assert main(["run", str(old), "--force"]) == 130
    assert main(["run", str(new)]) == 130
    assert "interrupted" in capsys.readouterr().err
    left = {p.name for p in reports.iterdir()}
    assert not [n for n in left if ".tmp" in n], left  # no temporary files
    assert "new.json" not in left  # no cache entry for the interrupted run
    if stage != "record":
        assert left == set(earlier)  # nothing of the interrupted runs at all
        assert {p.name: p.read_bytes() for p in reports.iterdir()} == earlier
    else:  # report and notebook were complete; the record (the cache entry) was not
        assert (reports / "old.json").read_bytes() == earlier["old.json"]
        assert left == set(earlier) | {"new.html", "new.ipynb"}
    monkeypatch.undo()
    monkeypatch.chdir(project)
    monkeypatch.setattr(run.pm, "execute_notebook", _stand_in(calls := []))
    assert main(["run", str(new)]) == 0 and len(calls) == 1  # not mistaken for a cached run


def test_headline_from_a_result_or_numbers() -> None:
    table = pd.DataFrame(
        {"estimate": [0.5, 9.0], "ci_low": [0.1, 8.0], "ci_high": [0.9, 10.0]},
        index=pd.Index(["treated", "other"], name="term"),
    )
    result = Result(table=table, method="test")
    with pytest.raises(ParameterError, match="term="):  # two rows, no overall: ambiguous
        headline.headline_payload(result)
    assert headline.headline_payload(result, term="treated") == {
        "label": "treated",
        "estimate": 0.5,
        "ci_low": 0.1,
        "ci_high": 0.9,
    }
    assert headline.headline_payload(result, term="other", label="x")["estimate"] == 9.0
    summary = Overall(2.0, 0.5, 0.01, 1.0, 3.0, label="overall ATT")
    with_overall = Result(table=table, method="test", overall=summary)
    assert headline.headline_payload(with_overall) == {
        "label": "overall ATT",
        "estimate": 2.0,
        "ci_low": 1.0,
        "ci_high": 3.0,
    }
    payload = headline.headline_payload(math.nan, label="y")
    assert payload == {"label": "y", "estimate": None, "ci_low": None, "ci_high": None}
    assert headline.format_headline(payload) == ""
    payload = headline.headline_payload(1.234, ci=(-0.5, 2), label="ATT", unit="points")
    text = headline.format_headline(payload, language="en")
    assert text == "ATT: +1.23 points (95% CI \u22120.500 to +2.00)"
    one = headline.format_headline(headline.headline_payload(1.003, ci=(0.735, 12700.0)))
    assert one == "+1,00 (95%-BI +0,735 tot +12.700)"  # Dutch by default; zeros kept


def test_publish_displays_a_bundle_the_runner_reads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[dict[str, Any]] = []
    monkeypatch.setattr("IPython.display.display", lambda bundle, raw: shown.append(bundle))
    headline.publish(0.8, ci=(0.2, 1.4), label="first")
    headline.publish(0.9, ci=(0.3, 1.5), label="second")
    assert (
        shown[0]["text/plain"]
        == "Kernresultaat van deze rapportage: first: +0,800 (95%-BI +0,200 tot +1,40)"
    )
    nb = nbformat.v4.new_notebook()
    for bundle in shown:
        cell = nbformat.v4.new_code_cell("publish(...)")
        cell.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
        nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_markdown_cell("text"))
    nbformat.validate(nb)
    assert headline.read_published(nb)["label"] == "second"  # the last one counts
    assert headline.read_published(nbformat.v4.new_notebook()) is None


def test_simulated_files_are_those_the_manifest_lists(small_raw: Path, tmp_path: Path) -> None:
    from evaluatie.synth.files import MANIFEST_FILE
    from evaluatie.workbench.provenance import SIMULATION_MANIFEST, data_files, simulated_files

    assert SIMULATION_MANIFEST == MANIFEST_FILE  # named twice (import cost): kept equal
    files = data_files(small_raw)
    listed = simulated_files(small_raw, files)
    manifest = json.loads((small_raw / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert listed == sorted(manifest["files"]) and MANIFEST_FILE not in listed
    # a user's own file in the folder is not simulated; a folder without manifest has none
    assert simulated_files(small_raw, {**files, "eigen-gegevens.csv": "0" * 64}) == listed
    (tmp_path / "a.csv").write_text("x\n", encoding="utf-8")
    assert simulated_files(tmp_path, data_files(tmp_path)) == []
    (tmp_path / MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    assert simulated_files(tmp_path, data_files(tmp_path)) == []  # unreadable: not claimed
