"""The command line itself: version and help."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_version_and_exit_codes_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    from evaluatie import __version__
    from evaluatie.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"evaluatie {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 ok; 1 a notebook failed" in text and "2 bad input" in text


def test_build_without_a_grant_table_says_so(
    small_raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from evaluatie.cli import main

    raw = tmp_path / "raw"
    shutil.copytree(small_raw, raw)
    out = tmp_path / "panel.parquet"
    assert main(["build", "--raw", str(raw), "--out", str(out)]) == 0
    assert "no grant table" not in capsys.readouterr().err
    (raw / "innovatiebudget-subsidies.csv").unlink()
    assert main(["build", "--raw", str(raw), "--out", str(out)]) == 0
    assert "warning: no grant table" in capsys.readouterr().err
