"""Every case of the bad-input catalogue (``catalogue.py``) through the real command line.

Each case must end before a kernel starts (a stand-in for papermill raises if one
would), with the documented exit status, one message naming the file, line, column or
parameter, no traceback, nothing written to the reports folder, and the raw folder
byte-identical to how the case left it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from catalogue import CASES, Case, argv_for, normalised, prepare

REPO = Path(__file__).resolve().parents[2]


class KernelStarted(BaseException):
    """Raised where papermill would start a kernel (a BaseException: nothing catches it)."""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from evaluatie.synth.simulate import simulate

    out = tmp_path_factory.mktemp("pristine")
    simulate(out_dir=out, seed=5, scale=0.1)
    return out


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative name -> SHA-256); folders as ``<dir>``."""
    out = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        out[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "<dir>"
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_stopped_before_any_kernel(
    case: Case,
    pristine: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from evaluatie.cli import main

    def no_kernel(*args: object, **kwargs: object) -> None:
        raise KernelStarted

    monkeypatch.setattr("evaluatie.workbench.run._execute_notebook", no_kernel)
    monkeypatch.chdir(REPO)
    raw, params, reports = prepare(case, pristine, tmp_path)
    before = digest(raw)
    argv = argv_for(case, params=params, reports=reports, raw=raw, tmp=tmp_path)
    try:
        status = main(argv)
        started = False
    except KernelStarted:
        status, started = 0, True
    err = capsys.readouterr().err
    text = normalised(err)

    assert "traceback" not in text, err
    assert started == case.accepted, f"kernel started: {started}\n{err}"
    assert status == case.exit, err
    told = [line for line in text.split("warning: ")[1:]] if case.accepted else [text]
    for fragment in case.expect:
        assert any(normalised(fragment) in t for t in told), f"{fragment!r} not in:\n{err}"
    if not case.accepted:
        assert text.count("error: ") == 1, f"one message, not several:\n{err}"
    assert digest(raw) == before, "the raw folder changed"
    if reports.is_dir() and os.access(reports, os.W_OK):
        left = [p.name for p in reports.iterdir() if not p.name.startswith(".")]
        assert not left or case.accepted, f"written to reports/: {left}"


def test_every_problem_of_every_file_in_one_message(
    pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three broken files and a bad parameter: one error, four problems, each once."""
    import catalogue as cat

    from evaluatie.core.errors import ParameterError
    from evaluatie.workbench.params import read_params_file

    raw = tmp_path / "raw"
    shutil.copytree(pristine, raw)
    cat.non_numeric_score(raw)
    cat.set_field(cat.eindscores(raw, "2014-2015"), 3, "CET_GEM", "1.534,5")
    cat.negative_bedrag(raw)
    params = tmp_path / "run.yaml"
    params.write_text(
        f"notebook: innovatiebudget\nparameters:\n  raw_dir: {raw}\n  window: [1, 2]\n",
        encoding="utf-8",
    )
    with pytest.raises(ParameterError) as info:
        read_params_file(params, root=REPO)
    message = str(info.value)
    assert "4 problem(s)" in message, message
    for fragment in ("2016-2017.csv, line 8", "2014-2015.csv, line 3", "BEDRAG", "window"):
        assert message.count(fragment) == 1, message


def test_a_failing_default_says_it_is_the_default(pristine: Path, tmp_path: Path) -> None:
    import catalogue as cat

    from evaluatie.core.errors import ParameterError
    from evaluatie.workbench.params import validate

    raw = tmp_path / "raw"
    shutil.copytree(pristine, raw)
    cat.all_missing_outcome(raw)
    with pytest.raises(ParameterError, match=r"outcome \(default eindtoets, not set in the file\)"):
        validate("innovatiebudget", {"raw_dir": str(raw)}, root=REPO)
    # the same data serve another outcome
    assert validate("innovatiebudget", {"raw_dir": str(raw), "outcome": "lezen_2f"}, root=REPO)
