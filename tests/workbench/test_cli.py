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


def test_all_says_why_the_simulation_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`all` simulates in a child process (where it can fork) while it prepares the batch:
    the child's error is the command's one-line error, exit status 2, and no run starts."""
    import importlib
    import os

    from evaluatie.cli import main

    simulation = importlib.import_module("evaluatie.synth.simulate")  # the module

    params = tmp_path / "params"
    params.mkdir()
    (params / "run.yaml").write_text("notebook: vve_budget\n", encoding="utf-8")
    raw = tmp_path / "raw"
    where = tmp_path / "simulated-in"

    def full_disk(**_: object) -> None:
        where.write_text(str(os.getpid()), encoding="utf-8")
        raise OSError(28, "No space left on device", str(raw / "vve.csv"))

    monkeypatch.setattr(simulation, "simulate", full_disk)
    assert main(["all", "--raw", str(raw), "--params-dir", str(params)]) == 2
    err = capsys.readouterr().err
    assert f"error: No space left on device ({raw / 'vve.csv'})" in err
    assert "Traceback" not in err and "run" not in err.replace("run.yaml", "")
    assert where.read_text(encoding="utf-8") != str(os.getpid())  # in a child


def test_simulate_and_all_use_the_simulators_seed_unless_told() -> None:
    """The CLI's seed is the simulator's default (one number, in evaluatie.synth), and
    --seed overrides it, for `simulate` and `all` alike."""
    from evaluatie.cli import _seed, build_parser
    from evaluatie.synth.simulate import DEFAULT_SEED

    parser = build_parser()
    for command in (["simulate"], ["all"]):
        assert _seed(parser.parse_args(command)) == DEFAULT_SEED
        assert _seed(parser.parse_args([*command, "--seed", "7"])) == 7
