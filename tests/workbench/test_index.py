"""reports/index.html: every run record in one table, written atomically."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from render_check import chromium

from evaluatie.cli import main
from evaluatie.workbench.index import key_parameters, load_records, write_index
from evaluatie.workbench.provenance import RECORD_KIND, write_sidecar


def record(name: str, **fields: Any) -> dict[str, Any]:
    """A run record as the runner writes it (only the fields the index reads)."""
    return {
        "kind": RECORD_KIND,
        "name": name,
        "notebook": "innovatiebudget",
        "parameters": {"title": "T", "outcome": "eindtoets", "raw_dir": "data/raw"},
        "status": "ok",
        "error": None,
        "headline": None,
        "duration_s": 7.25,
        "started": "2026-01-01T10:00:00+00:00",
        "report": f"{name}.html",
        "code": {"evaluatie": "0.1.0", "commit": "a" * 40, "dirty": False},
        **fields,
    }


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    headline = {
        "label": "TWFE effect",
        "estimate": 0.8912,
        "ci_low": -0.17,
        "ci_high": 1.62,
        "unit": "punten",
    }
    simulated = {"files": {"a.csv": "0" * 64, "b.csv": "1" * 64}, "simulated": ["a.csv"]}
    write_sidecar(folder, record("b_ok", headline=headline, data=simulated))
    write_sidecar(
        folder,
        record(
            "a_failed",
            status="failed",
            error="DesignError: <no> treatment variation",
            parameters={"title": "T", "gemeenten": ["GM0037"], "raw_dir": "data/raw"},
        ),
    )
    write_sidecar(folder, record("c_crashed", status="failed", error="worker died", report=None))
    (folder / "notes.json").write_text('{"not": "a run record"}', encoding="utf-8")
    (folder / "broken.json").write_text("{", encoding="utf-8")
    return folder


def test_index_lists_every_run_with_headline_status_and_error(reports: Path) -> None:
    path = write_index(reports)
    page = path.read_text(encoding="utf-8")
    assert [r["name"] for r in load_records(reports)] == ["a_failed", "b_ok", "c_crashed"]
    assert '<html lang="nl">' in page and "3 runs, waarvan 2 mislukt." in page
    assert '<a href="b_ok.html">T<br><small>b_ok</small></a>' in page
    assert '<a href="a_failed.html">' in page
    assert "<td>T<br><small>c_crashed</small></td>" in page  # no report: listed, not linked
    assert "TWFE effect: +0,891 punten (95%-BI \u22120,170 tot +1,62)" in page
    assert "DesignError: &lt;no&gt; treatment variation" in page  # escaped, shown
    assert "worker died" in page
    assert "<code>gemeenten</code>=Stadskanaal (GM0037)" in page  # named, non-default
    assert "7,2 s" in page and "commit aaaaaaaaaa" in page
    # one of three runs is on simulated data: a banner says so and the run is marked
    assert "1 van de 3 rapportages rekenen op gesimuleerde gegevens" in page
    assert page.count('<span class="tag">gesimuleerd</span>') == 1
    assert page.index("a_failed") < page.index("b_ok") < page.index("c_crashed")
    assert not list(reports.glob(".*tmp*"))


def test_index_in_english_and_without_a_banner_for_real_data(reports: Path) -> None:
    (reports / "b_ok.json").unlink()
    page = write_index(reports, language="en").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "2 runs, 2 failed." in page
    assert 'class="ev-banner"' not in page and "simulated" not in page


def test_key_parameters_are_the_non_defaults() -> None:
    shown = key_parameters(record("x", parameters={"title": "T", "outcome": "lezen_2f"}))
    assert shown == {"outcome": "lezen_2f"}
    unknown = record("y", notebook="gone", parameters={"title": "T", "a": 1})
    assert key_parameters(unknown) == {"a": 1}


def test_index_command(reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "--reports", str(reports)]) == 0
    assert (reports / "index.html").is_file()
    assert str(reports / "index.html") in capsys.readouterr().out


def test_index_renders_in_headless_chromium(reports: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium / google-chrome on PATH: headless rendering not checked")
    page = write_index(reports)
    dom = subprocess.run(
        [browser, "--headless", "--disable-gpu", "--no-sandbox", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "<table>" in dom and "b_ok" in dom and "TWFE effect" in dom


def test_a_record_with_an_unknown_status_is_listed_not_a_traceback(reports: Path) -> None:
    write_sidecar(reports, record("d_old", status="interrupted"))  # an older or edited record
    page = write_index(reports).read_text(encoding="utf-8")
    assert "<td>interrupted</td>" in page
