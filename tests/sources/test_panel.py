"""The panel builder: shape, contents, the real DUO file, grants, and safe writing."""

from __future__ import annotations

import hashlib
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DataFormatError, ParameterError
from evaluatie.sources.duo import read_duo
from evaluatie.sources.panel import (
    PANEL_COLUMNS,
    DataQualityWarning,
    build_panel,
    load_panel,
    validate_panel,
)
from evaluatie.synth.files import eindscores_file, referentieniveaus_file


@pytest.fixture(scope="module")
def panel(small_raw: Path) -> pd.DataFrame:
    return load_panel(small_raw)


def folder_state(folder: Path) -> dict[str, tuple[str, int]]:
    """Name -> (sha256, mtime_ns) of every file, to show a folder was left alone."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


def test_panel_shape_and_keys(panel: pd.DataFrame, small_raw: Path) -> None:
    assert tuple(panel.columns) == PANEL_COLUMNS
    assert not panel.duplicated(["vestiging", "jaar"]).any()
    assert sorted(panel["jaar"].unique()) == [
        2014,
        2015,
        2016,
        2017,
        2018,
        2019,
        2021,
        2022,
        2023,
        2024,
    ]
    n_rows = sum(len(read_duo(p)) for p in small_raw.glob("05.-*.csv"))
    assert len(panel) == n_rows
    assert (panel["vestiging"] == panel["instellingscode"] + panel["vestigingscode"]).all()
    assert (panel["schooljaar"].str[5:].astype(int) == panel["jaar"]).all()
    assert panel["jaar"].dtype == "int64" and panel["cohort"].dtype == "int64"
    assert panel["treated"].dtype == bool and panel["eindtoets"].dtype == "float64"


def test_panel_values_match_the_files(panel: pd.DataFrame, small_raw: Path) -> None:
    raw = read_duo(small_raw / eindscores_file(2021)).set_index("vestiging")
    year = panel[panel["jaar"] == 2021].set_index("vestiging")
    pd.testing.assert_series_equal(year["eindtoets"], raw["cet_gem"], check_names=False)
    assert (year["eindtoets_suppressed"] == raw["cet_aantal_suppressed"]).all()
    assert year.loc[year["eindtoets_suppressed"], "eindtoets"].isna().all()
    assert (year["gemeente_code"] == raw["gemeente_code"]).all()
    # CET did not exist in 2023-24: missing, never zero.
    assert panel.loc[panel["jaar"] == 2024, "eindtoets"].isna().all()


def test_referentieniveau_shares_in_panel(panel: pd.DataFrame, small_raw: Path) -> None:
    ref = read_duo(small_raw / referentieniveaus_file(2019)).set_index("vestiging")
    row = ref[~ref.filter(like="_suppressed").any(axis=1) & (ref["lv_2f"] > 0)].iloc[0]
    total = row["lv_lager1f"] + row["lv_1f"] + row["lv_2f"]
    got = panel[(panel["vestiging"] == row.name) & (panel["jaar"] == 2019)].iloc[0]
    assert got["lezen_2f"] == pytest.approx(row["lv_2f"] / total)
    assert got["lezen_ge1f"] == pytest.approx((row["lv_1f"] + row["lv_2f"]) / total)
    shares = panel[["lezen_2f", "taalverzorging_2f", "rekenen_1s"]]
    assert shares.stack().dropna().between(0, 1).all()
    assert shares.notna().mean().min() > 0.9
    assert 0.7 < panel.loc[panel["jaar"] == 2019, "lezen_2f"].mean() < 0.85


def test_grants_school_file_and_treatment(panel: pd.DataFrame, small_raw: Path) -> None:
    grants = read_duo(small_raw / "innovatiebudget-subsidies.csv").set_index("vestiging")
    treated_schools = panel.loc[panel["cohort"] > 0, "vestiging"].unique()
    assert sorted(treated_schools) == sorted(grants.index)
    one = grants.index[0]
    rows = panel[panel["vestiging"] == one]
    assert (rows["cohort"] == int(grants.loc[one, "eerste_schooljaar"][5:])).all()
    assert (rows["subsidie_bedrag"] == grants.loc[one, "bedrag"]).all()
    assert (panel["treated"] == ((panel["cohort"] > 0) & (panel["jaar"] >= panel["cohort"]))).all()
    assert ((panel["subsidie_bedrag"] > 0) == (panel["cohort"] > 0)).all()
    assert panel["n_leerlingen"].notna().all() and panel["schoolweging"].between(20, 40).all()


def test_provider_choice(small_raw: Path) -> None:
    lib = load_panel(small_raw, provider="lib")
    assert lib.loc[lib["jaar"] < 2024, "eindtoets"].isna().all()
    scores = lib.loc[lib["jaar"] == 2024, "eindtoets"].dropna()
    assert len(scores) > 500 and abs(scores.mean() - 174) < 2
    with pytest.raises(ParameterError, match="unknown eindtoets provider"):
        load_panel(small_raw, provider="CITO")


def test_real_duo_file_in_the_same_shape(duo_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the VO exam file is recognised, not skipped
        real = load_panel(duo_dir)
    exams = "examenkandidaten-en-geslaagden-2019-2024.csv"
    assert real.attrs["not_in_panel"] == {exams: "examens"}
    assert tuple(real.columns) == PANEL_COLUMNS and len(real) == 4693
    row = real.set_index("vestiging").loc["00AR00"]
    assert row["eindtoets"] == pytest.approx(537.45) and row["eindtoets_n"] == 20
    assert row["gemeente_code"] == "GM1641" and row["jaar"] == 2023
    bw = real.set_index("vestiging").loc["00BW00"]
    assert bool(bw["eindtoets_suppressed"]) and np.isnan(bw["eindtoets"])
    names = real.drop_duplicates("gemeente_code").set_index("gemeente_code")["gemeente_naam"]
    assert names["GM1900"] == "Súdwest-Fryslân"  # publisher's mojibake fixed
    assert (real["cohort"] == 0).all() and real["schoolweging"].isna().all()
    single = load_panel(duo_dir / "eindscores-bo-sbo-2022-2023-first-4693-rows.csv")
    pd.testing.assert_frame_equal(single, real)


def test_build_panel_writes_parquet_and_leaves_raw_alone(small_raw: Path, tmp_path: Path) -> None:
    before = folder_state(small_raw)
    out = build_panel(small_raw, tmp_path / "processed" / "panel.parquet")
    assert folder_state(small_raw) == before
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(back, load_panel(small_raw), check_dtype=False)
    assert [p.name for p in out.parent.iterdir()] == ["panel.parquet"]
    with pytest.raises(ParameterError, match="inside raw_dir"):
        build_panel(small_raw, small_raw / "panel.parquet")
    assert folder_state(small_raw) == before


def test_failed_write_keeps_the_old_panel(
    small_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "panel.parquet"
    out.write_bytes(b"old panel")

    def broken(self: pd.DataFrame, path: Path, **kwargs: object) -> None:
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        build_panel(small_raw, out)
    assert out.read_bytes() == b"old panel"
    assert [p.name for p in tmp_path.iterdir()] == ["panel.parquet"]


@pytest.fixture
def raw_copy(small_raw: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(small_raw, tmp_path / "raw"))


def test_unmatched_grants_are_reported(raw_copy: Path) -> None:
    grants = raw_copy / "innovatiebudget-subsidies.csv"
    with grants.open("ab") as fh:
        fh.write(b'"99ZZ";"00";"2018-2019";10000\r\n')
    with pytest.warns(DataQualityWarning, match=r"99ZZ00 \(2018-2019\)"):
        panel = load_panel(raw_copy)
    assert "99ZZ00" not in set(panel["vestiging"])
    with pytest.raises(DataFormatError, match="99ZZ00") as err:
        load_panel(raw_copy, unmatched_grants="error")
    assert err.value.path == grants


def test_malformed_data_file_is_an_error_not_skipped(raw_copy: Path) -> None:
    path = raw_copy / eindscores_file(2017)
    lines = path.read_bytes().split(b"\r\n")
    lines[3] = lines[3].replace(b'"Bo"', b'"Bo";"extra"', 1).replace(b'"Sbo"', b'"Sbo";"extra"', 1)
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(DataFormatError, match="expected 24 fields, found 25") as err:
        load_panel(raw_copy)
    assert err.value.path == path and err.value.line == 4


def test_second_file_for_one_year(raw_copy: Path) -> None:
    shutil.copy(raw_copy / eindscores_file(2016), raw_copy / "copy-of-2015-2016.csv")
    with pytest.raises(DataFormatError, match="second eindscores file for 2015-2016"):
        load_panel(raw_copy)


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no eindscores file") as err:
        load_panel(tmp_path)
    assert err.value.path == tmp_path
    with pytest.raises(DataFormatError, match="does not exist"):
        load_panel(tmp_path / "nope")


def test_validate_panel_catches_duplicates_and_ranges(panel: pd.DataFrame) -> None:
    validate_panel(panel)
    doubled = pd.concat([panel, panel.iloc[[0]]], ignore_index=True)
    doubled.attrs = panel.attrs
    with pytest.raises(DataFormatError, match="not unique"):
        validate_panel(doubled)
    bad = panel.copy()
    bad.loc[bad["eindtoets"].first_valid_index(), "eindtoets"] = 600.0
    with pytest.raises(DataFormatError, match=r"outside 501\.\.550"):
        validate_panel(bad)


def test_eindscores_are_recognised_by_their_header(small_raw: Path, tmp_path: Path) -> None:
    """`evaluatie all` and bench/reports.py simulate only into a folder without data: one
    with an eindscores file, under any name the readers accept, is kept as it is."""
    from evaluatie.sources.panel import has_eindscores, load_panel

    assert has_eindscores(small_raw)
    renamed = tmp_path / "renamed"
    shutil.copytree(small_raw, renamed)
    for path in renamed.glob("05.-gemiddelde-eindscores-*.csv"):
        path.rename(renamed / f"eindtoets_{path.name[-13:]}")
    assert not any(renamed.glob("05.-*")) and len(load_panel(renamed)) > 0
    assert has_eindscores(renamed)  # the readers read it, so it is data
    others = tmp_path / "others"
    others.mkdir()
    for path in small_raw.iterdir():
        if not path.name.startswith("05.-gemiddelde-eindscores-"):
            shutil.copy(path, others / path.name)
    assert any(others.iterdir()) and not has_eindscores(others)
    (tmp_path / "empty").mkdir()
    assert not has_eindscores(tmp_path / "empty") and not has_eindscores(tmp_path / "absent")
