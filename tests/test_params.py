"""Params files are validated before any kernel starts, with every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluatie.errors import ParameterError
from evaluatie.workbench.params import (
    InnovatiebudgetParams,
    describe,
    read_params_file,
    validate,
)

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_committed_params_files_are_valid() -> None:
    files = sorted((REPO / "params").glob("*.yaml"))
    assert files, "params/ holds no params files"
    for path in files:
        spec = read_params_file(path)
        assert spec.name == path.stem


def test_defaults_are_valid_and_documented() -> None:
    params = InnovatiebudgetParams()
    assert params.outcome == "eindtoets"
    rows = describe("innovatiebudget")
    assert {r["name"] for r in rows} == set(InnovatiebudgetParams.model_fields)
    assert all(r["help"] for r in rows), "every parameter needs a help text"


def test_five_mistakes_give_five_messages(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "notebook: innovatiebudget\n"
        "parameters:\n"
        "  outcom: eindtoets\n"  # unknown name
        "  first_year: twenty\n"  # wrong type
        "  cluster: school\n"  # not in the allowed set
        "  window: [1, 3]\n"  # out of range
        "  gemeenten: [Leiden]\n",  # not a gemeente code
    )
    with pytest.raises(ParameterError) as info:
        read_params_file(path)
    message = str(info.value)
    assert str(path) in message
    assert "5 problem(s)" in message
    assert "unknown parameter 'outcom'" in message and "did you mean 'outcome'" in message
    assert "first_year" in message and "'twenty'" in message
    assert "cluster" in message and "'gemeente'" in message
    assert "window" in message and "lead <= -2" in message
    assert "GM0546" in message and "Leiden" in message


def test_unknown_notebook_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "notebook: innovatiebudgt\nparameters: {}\n")
    with pytest.raises(ParameterError, match="did you mean 'innovatiebudget'"):
        read_params_file(path)


def test_cross_field_check() -> None:
    with pytest.raises(ParameterError, match=r"first_year \(2020\) must be before last_year"):
        validate("innovatiebudget", {"first_year": 2020, "last_year": 2016})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("notebook: innovatiebudget\nparameters: [1, 2]\n", "must be a mapping"),
        ("- just\n- a list\n", "expected a mapping"),
        ("notebook: innovatiebudget\nparamters: {}\n", "unknown top-level key"),
        ("parameters: {}\n", "missing key 'notebook'"),
        ("notebook: [unclosed\n", "not valid YAML"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ParameterError, match=expected):
        read_params_file(write(tmp_path, text))


def test_yaml_is_read_with_the_safe_loader(tmp_path: Path) -> None:
    path = write(tmp_path, "notebook: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        read_params_file(path)
