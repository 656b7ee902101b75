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


@pytest.mark.parametrize(
    ("argv", "told"),
    [
        (["--params-dir", "{tmp}/none"], "no params files"),
        (["--params-dir", "{params}", "--seed", "-1"], "--seed"),
        (["--params-dir", "{params}", "-j", "0"], "--jobs"),
    ],
)
def test_all_refuses_bad_options_before_it_simulates(
    argv: list[str], told: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The simulation runs while the kernels start, after every option is checked."""
    from evaluatie.cli import main

    params = tmp_path / "params"
    params.mkdir()
    (params / "run.yaml").write_text("notebook: vve_budget\n", encoding="utf-8")
    raw = tmp_path / "raw"
    subs = {"{tmp}": str(tmp_path), "{params}": str(params)}
    argv = [subs.get(a, a).replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["all", "--raw", str(raw), *argv]) == 2
    assert told in capsys.readouterr().err
    assert not raw.exists() or not any(raw.iterdir())  # nothing simulated
