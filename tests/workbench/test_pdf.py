"""`evaluatie run --pdf`: refused up front without a Chromium, a PDF with one."""

from __future__ import annotations

from pathlib import Path

import pytest
from render_check import chromium

from evaluatie.cli import main
from evaluatie.workbench.pdf import print_pdf

REPO = Path(__file__).resolve().parents[2]


def test_pdf_without_chromium_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("shutil.which", lambda name: None)
    reports = tmp_path / "reports"
    params = tmp_path / "x.yaml"
    params.write_text("notebook: innovatiebudget\nparameters: {}\n", encoding="utf-8")
    assert main(["run", str(params), "--reports", str(reports), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert "--pdf needs a headless Chromium on PATH" in err and "Traceback" not in err
    assert not list(reports.glob("*.html"))  # nothing ran


def test_a_report_prints_to_pdf(tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium / google-chrome on PATH: printing to PDF not checked")
    page = tmp_path / "r.html"
    page.write_text(
        '<!DOCTYPE html><html lang="nl"><body><h1>Rapport</h1><p>Tekst.</p></body></html>',
        encoding="utf-8",
    )
    pdf = print_pdf(page, browser)
    assert pdf == tmp_path / "r.pdf" and pdf.read_bytes().startswith(b"%PDF-")
    assert not list(tmp_path.glob(".*tmp*"))


def test_a_printer_that_hangs_or_fails_is_a_message_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from evaluatie.core.errors import EvaluatieError
    from evaluatie.workbench import pdf

    page = tmp_path / "r.html"
    page.write_text("<html></html>", encoding="utf-8")

    def hangs(*args: object) -> None:
        raise subprocess.TimeoutExpired("chromium", 300)

    monkeypatch.setattr(pdf, "_print", hangs)
    with pytest.raises(EvaluatieError, match=r"did not finish printing .* within 300 s"):
        print_pdf(page, "chromium")
    failed = subprocess.CompletedProcess([], 1, "", "crashed: no display")
    monkeypatch.setattr(pdf, "_print", lambda *args: failed)
    with pytest.raises(EvaluatieError, match=r"could not print .*crashed: no display"):
        print_pdf(page, "chromium")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # nothing half-written
