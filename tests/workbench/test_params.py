"""Params files are validated before any kernel starts, with every problem named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaluatie.core.errors import ParameterError
from evaluatie.workbench.params import (
    InnovatiebudgetParams,
    VveBudgetParams,
    describe,
    read_params_file,
    validate,
)

REPO = Path(__file__).resolve().parents[2]


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
    assert "first_year" in message and "(got twenty)" in message
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


# --- checks against the data (no kernel; the data are read once per folder) ----------


@pytest.fixture(scope="module")
def raw_without_levels(tmp_path_factory: pytest.TempPathFactory, small_raw: Path) -> Path:
    """The small simulated data without the referentieniveaus files."""
    out = tmp_path_factory.mktemp("raw_without_levels")
    for path in small_raw.iterdir():
        if not path.name.startswith("10.-"):
            shutil.copy(path, out / path.name)
    return out


def test_data_and_schema_mistakes_are_reported_together(
    tmp_path: Path, raw_without_levels: Path
) -> None:
    path = write(
        tmp_path,
        "notebook: innovatiebudget\n"
        "parameters:\n"
        f"  raw_dir: {raw_without_levels}\n"
        "  outcome: rekenen_1s\n"  # no referentieniveaus files: no values
        "  first_year: 2005\n"  # before the data
        "  last_year: 2031\n"  # after the data
        "  gemeenten: [GM0546, GM9999]\n"  # GM9999 does not exist
        "  cluster: school\n",  # schema mistake, reported in the same message
    )
    with pytest.raises(ParameterError) as info:
        read_params_file(path, root=tmp_path)
    message = str(info.value)
    assert "5 problem(s)" in message
    assert "'rekenen_1s' has no values" in message and "referentieniveaus" in message
    assert "2005 lies outside the years with data" in message and "(2014-2024)" in message
    assert "2031 lies outside" in message
    gemeenten = next(line for line in message.splitlines() if "- gemeenten:" in line)
    missing = gemeenten.split("not in the data in")[1].split(";")[0]
    assert "GM9999" in missing and "GM0546" not in missing
    assert "cluster" in message and "'gemeente'" in message
    # without a root (e.g. listing parameters) the same file passes the data checks
    with pytest.raises(ParameterError, match="1 problem"):
        read_params_file(path)


def test_years_are_checked_against_the_outcome(tmp_path: Path, small_raw: Path) -> None:
    values = {"raw_dir": str(small_raw), "last_year": 2024}
    # 2024 has referentieniveaus but no CET eindtoets (DUO's doorstroomtoets year)
    with pytest.raises(ParameterError, match=r"2024 lies outside the years with eindtoets data"):
        validate("innovatiebudget", values, root=tmp_path)
    params = validate("innovatiebudget", {**values, "outcome": "rekenen_1s"}, root=tmp_path)
    assert params.last_year == 2024


def test_relative_raw_dir_is_read_from_the_project_root(tmp_path: Path, small_raw: Path) -> None:
    shutil.copytree(small_raw, tmp_path / "data" / "raw")
    assert validate("innovatiebudget", {}, root=tmp_path).raw_dir == "data/raw"
    with pytest.raises(ParameterError, match=r"raw_dir: no such file or folder: .*elders"):
        validate("innovatiebudget", {"raw_dir": "elders", "gemeenten": ["GM9999"]}, root=tmp_path)


def test_unreadable_data_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError) as info:
        validate("innovatiebudget", {"raw_dir": "empty", "outcome": "lezen_2f"}, root=tmp_path)
    message = str(info.value)
    assert "1 problem(s)" in message  # the outcome is not checked against unreadable data
    assert "no eindscores file" in message and "evaluatie simulate" in message


def test_one_gemeente_cannot_be_the_cluster() -> None:
    with pytest.raises(ParameterError, match="cluster 'gemeente' needs at least 2 gemeenten"):
        validate("innovatiebudget", {"gemeenten": ["GM0546"]})
    assert validate("innovatiebudget", {"gemeenten": ["GM0546"], "cluster": "vestiging"})


def test_cli_refuses_data_mistakes_before_any_kernel(
    tmp_path: Path,
    small_raw: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from evaluatie.cli import main

    monkeypatch.chdir(REPO)
    path = write(
        tmp_path,
        f"notebook: innovatiebudget\nparameters:\n  raw_dir: {small_raw}\n"
        "  gemeenten: [GM9999, GM0034]\n",
    )
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    assert "not in the data" in capsys.readouterr().err
    assert not reports.exists() or not any(reports.iterdir())  # checked writable, kept empty


def test_cluster_column_maps_the_level_to_the_panel_column() -> None:
    assert InnovatiebudgetParams(cluster="gemeente").cluster_column == "gemeente_code"
    assert InnovatiebudgetParams(cluster="vestiging").cluster_column == "vestiging"


def test_vve_defaults_are_documented_and_checked_against_the_data(
    tmp_path: Path, small_raw: Path
) -> None:
    rows = describe("vve_budget")
    assert {r["name"] for r in rows} == set(VveBudgetParams.model_fields)
    assert all(r["help"] for r in rows)
    ok = validate("vve_budget", {"raw_dir": str(small_raw), "gemeenten": ["GM0546"]}, root=tmp_path)
    assert ok.outcomes == ["kleuterverlenging", "groep3"] and ok.gemeenten == ["GM0546"]
    # Without the VVE tables the *default* outcomes are refused before any kernel starts.
    only_eindtoets = tmp_path / "raw"
    only_eindtoets.mkdir()
    for path in small_raw.glob("05.-*.csv"):
        shutil.copy(path, only_eindtoets / path.name)
    with pytest.raises(ParameterError) as info:
        validate("vve_budget", {"raw_dir": str(only_eindtoets), "gemeenten": ["GM9999"]},
                 root=tmp_path)  # fmt: skip
    message = str(info.value)
    # the VVE report reads the VVE tables only: it names those, never the eindscores
    assert "no OAB/VVE budget table" in message and "vve-uitkomsten" in message
    assert "eindscores" not in message
    with pytest.raises(ParameterError, match="listed twice"):
        validate("vve_budget", {"outcomes": ["groep3", "groep3"]})
    with pytest.raises(ParameterError, match="GM0546, not"):
        validate("vve_budget", {"marked": ["Leiden"]})


def test_gemeente_params_check_data_outcome_and_start() -> None:
    with pytest.raises(ParameterError, match="comes with data: examens"):
        validate("gemeente", {"outcome": "slaagpercentage"})
    with pytest.raises(ParameterError, match="needs first_year"):
        validate("gemeente", {"data": "examens", "outcome": "slaagpercentage"})
    with pytest.raises(ParameterError, match="leave first_year out"):
        validate("gemeente", {"first_year": 2021})
    with pytest.raises(ParameterError, match="GM0546"):
        validate("gemeente", {"gemeente": "Leiden"})


def test_gemeente_design_refused_before_any_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real exam file, a start year the data cannot show: exit 2, nothing written."""
    from evaluatie.cli import main

    monkeypatch.chdir(REPO)
    path = write(
        tmp_path,
        "notebook: gemeente\nparameters:\n  data: examens\n  raw_dir: tests/data/duo\n"
        "  outcome: slaagpercentage\n  gemeente: GM0034\n  first_year: 2021\n",
    )
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    assert "first_year=2021" in capsys.readouterr().err
    assert not reports.exists() or not any(reports.iterdir())


def test_schooluitval_params_and_their_design_checks(small_raw: Path) -> None:
    """The schooluitval parameters: a gap of one group twice, a malformed code, a
    gemeente outside the region and a start the data cannot show are refused before any
    kernel starts, each named."""
    with pytest.raises(ParameterError, match="two different groups"):
        validate("schooluitval", {"gap": ["VO", "VO"]})
    with pytest.raises(ParameterError, match="GM0546, not"):
        validate("schooluitval", {"gemeente": "Leiden"})
    root = small_raw.parent
    raw = small_raw.name
    ok = validate("schooluitval", {"raw_dir": raw}, root=root)
    assert ok.rmc == "RMC26" and ok.gemeente == "GM0546" and ok.gap == ("MBO", "VO")
    with pytest.raises(ParameterError) as err:
        validate("schooluitval", {"raw_dir": raw, "gemeente": "GM0453"}, root=root)
    assert "GM0453 is not a member of RMC region RMC26" in str(err.value)
    with pytest.raises(ParameterError, match="first_year=2014"):
        validate("schooluitval", {"raw_dir": raw, "first_year": 2014}, root=root)
    with pytest.raises(ParameterError, match="unknown RMC"):
        validate("schooluitval", {"raw_dir": raw, "rmc": "Atlantis"}, root=root)


def test_doorstroom_params_on_the_real_exam_file() -> None:
    """Defaults read the real exam file in the repository; a gap of one group twice, an
    unknown group and a gemeente without a level's pass rate are refused, each named."""
    ok = validate("doorstroom", {}, root=REPO)
    assert ok.raw_dir == "tests/data/duo" and ok.gemeente == "GM0034" and ok.policy is None
    with pytest.raises(ParameterError, match="two different groups"):
        validate("doorstroom", {"gaps": [["MAN", "MAN"]]})
    with pytest.raises(ParameterError, match="groups"):
        validate("doorstroom", {"groups": ["MBO"]})
    with pytest.raises(ParameterError, match="GM9999") as err:
        validate("doorstroom", {"gemeente": "GM9999"}, root=REPO)
    assert "kernel" not in str(err.value)


def test_gemeente_params_for_the_povo_table() -> None:
    with pytest.raises(ParameterError, match="comes with data: povo"):
        validate("gemeente", {"data": "vsv", "outcome": "afstroom_percentage", "first_year": 2019})
    with pytest.raises(ParameterError, match="needs first_year"):
        validate("gemeente", {"data": "povo", "outcome": "afstroom_percentage"})


def test_innovatiebudget_provider_is_checked_against_the_data(small_raw: Path) -> None:
    """A standardised run may end in 2023-24 (the doorstroomtoets year), a CET run may
    not; a provider with no school means in the data is refused before any kernel starts."""
    root, raw = small_raw.parent, small_raw.name
    ok = validate(
        "innovatiebudget", {"raw_dir": raw, "provider": "standardised", "last_year": 2024},
        root=root,
    )  # fmt: skip
    assert ok.provider == "standardised"
    with pytest.raises(ParameterError, match="2024"):
        validate("innovatiebudget", {"raw_dir": raw, "last_year": 2024}, root=root)
    with pytest.raises(ParameterError, match="no eindtoets values in 2014-2023"):
        validate("innovatiebudget", {"raw_dir": raw, "provider": "IEP"}, root=root)
    with pytest.raises(ParameterError, match="provider"):
        validate("innovatiebudget", {"provider": "Cito"})
