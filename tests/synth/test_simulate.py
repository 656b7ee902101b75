"""The simulator: files, determinism, realistic magnitudes and the known truth."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import ParameterError
from evaluatie.sources.duo import read_duo
from evaluatie.synth import _dgp
from evaluatie.synth.files import eindscores_file, referentieniveaus_file
from evaluatie.synth.simulate import simulate, simulate_pupils
from evaluatie.synth.truth import load_truth, true_att

MEASURED = [2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022, 2023, 2024]
# Published national Centrale Eindtoets means (docs/domain.md §4).
PUBLISHED_MEANS = {
    2015: 535.3,
    2016: 534.9,
    2017: 535.6,
    2018: 535.6,
    2019: 536.1,
    2021: 535.0,
    2023: 535.3,
}


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_files_written(small_raw: Path) -> None:
    names = {p.name for p in small_raw.iterdir()}
    expected = {eindscores_file(j) for j in MEASURED} | {
        referentieniveaus_file(j) for j in MEASURED
    }
    expected |= {
        "vestigingen-bo.csv",
        "innovatiebudget-subsidies.csv",
        "innovatiebudget-waarheid.csv",
        "vsv-gemeenten.csv",
        "vsv-onderwijssoort.csv",
        "vsv-waarheid.csv",
        "doorstroom-povo.csv",
        "doorstroom-povo-waarheid.csv",
        "oab-budget-gemeenten.csv",
        "vve-uitkomsten-bo.csv",
        "vve-waarheid.csv",
        "manifest.json",
    }
    assert names == expected  # also: no temporary files left behind
    assert "05.-gemiddelde-eindscores-bo-sbo-2019-2020.csv" not in names
    assert "05.-gemiddelde-eindscores-bo-sbo-2013-2014.csv" in names


def test_manifest_describes_the_files(small_raw: Path) -> None:
    manifest = json.loads((small_raw / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 11 and manifest["params"]["n_schools"] == 600
    hashes = digest(small_raw)
    for name, info in manifest["files"].items():
        assert hashes[name] == info["sha256"]
        assert len(read_duo(small_raw / name)) == info["rows"]
    assert set(manifest["files"]) == set(hashes) - {"manifest.json"}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", seed=5, scale=0.04)
    b = simulate(tmp_path / "b", seed=5, scale=0.04)
    c = simulate(tmp_path / "c", seed=6, scale=0.04)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert a.to_dict() == b.to_dict()
    other = digest(tmp_path / "c")
    differs = [n for n, h in digest(tmp_path / "a").items() if other[n] != h]
    assert eindscores_file(2023) in differs and "vestigingen-bo.csv" in differs
    assert c.att_cet != a.att_cet


def test_layouts_per_year(small_raw: Path) -> None:
    for jaar in MEASURED:
        frame = read_duo(small_raw / eindscores_file(jaar))
        assert frame.attrs["schooljaar"] == f"{jaar - 1}-{jaar}"
        if jaar <= 2023:
            assert frame.attrs["layout"] == "eindscores-2022"
            assert (
                (frame[["iep_aantal", "route8_aantal", "dia_aantal", "amn_aantal"]] == 0)
                .all()
                .all()
            )
        else:
            assert frame.attrs["layout"] == "eindscores-2023" and "cet_gem" not in frame
            assert abs(frame["lib_gem"].mean() - 174) < 2  # LIB's own scale, not CET's
    text = (small_raw / eindscores_file(2024)).read_bytes().decode("utf-8")
    assert text.count("\r\n") == text.count("\n")


@pytest.fixture(scope="module")
def full(full_raw: Path) -> dict[str, pd.DataFrame]:
    frames = {str(j): read_duo(full_raw / eindscores_file(j)) for j in MEASURED}
    frames["schools"] = read_duo(full_raw / "vestigingen-bo.csv")
    frames["ref2019"] = read_duo(full_raw / referentieniveaus_file(2019))
    frames["ref2023"] = read_duo(full_raw / referentieniveaus_file(2023))
    return frames


def test_schools_realistic(full: dict[str, pd.DataFrame]) -> None:
    schools = full["schools"]
    assert len(schools) == 6000 and schools["vestiging"].is_unique
    assert {"GM0546", "GM0034", "GM0453"} <= set(schools["gemeente_code"])
    assert schools["gemeente_code"].nunique() == 344
    size = schools["aantal_leerlingen"].astype(float)
    # Domain bands 2022/23: <=100: 17.5%, >500: 4.2%, mean about 226.
    assert 0.14 < (size <= 100).mean() < 0.21
    assert 0.025 < (size > 500).mean() < 0.06
    assert 210 < size.mean() < 240
    assert schools["instellingscode"].str.fullmatch(r"\d{2}[A-Z]{2}").all()
    assert (schools["vestigingscode"] == "00").mean() > 0.95
    weging = schools.groupby("gemeente_code")["schoolweging"].mean()
    assert weging["GM0034"] > weging.median()  # Almere: more achterstand


def test_eindtoets_magnitudes(full: dict[str, pd.DataFrame]) -> None:
    for jaar, published in PUBLISHED_MEANS.items():
        f = full[str(jaar)]
        used = f["cet_aantal"].fillna(0) > 0
        national = np.average(f.loc[used, "cet_gem"], weights=f.loc[used, "cet_aantal"])
        assert abs(national - published) < 0.3, jaar
    f = full["2023"]
    bo = f[(f["soort_po"] == "Bo") & (f["cet_aantal"].fillna(0) >= 20)]
    assert 3.2 < bo["cet_gem"].std() < 3.8  # 3.49 in DUO's 2022-23 file
    takers = f["cet_aantal"].astype(float).fillna(2.5)
    assert 18 <= takers.median() <= 25
    suppressed = f["cet_aantal_suppressed"].mean()
    assert 0.02 < suppressed < 0.12
    assert f["cet_gem"].between(501, 550).sum() == f["cet_gem"].notna().sum()
    # Means are whole-point totals over the takers, as published means are.
    totals = f["cet_gem"] * f["cet_aantal"].astype(float)
    assert np.allclose(totals.dropna(), totals.dropna().round(), atol=1e-6)


def test_referentieniveau_shares(full: dict[str, pd.DataFrame]) -> None:
    def share(frame: pd.DataFrame, cols: list[str], dom: str) -> float:
        # Suppressed counts are 1-4: count them as 2.5 rather than dropping them.
        levels = [c for c in frame if c.startswith(f"{dom}_") and not c.endswith("_suppressed")]
        counts = pd.DataFrame({c: frame[c].astype(float).fillna(2.5) for c in levels})
        return float(counts[cols].sum().sum() / counts.sum().sum())

    ref = full["ref2019"]
    assert abs(share(ref, ["lv_2f"], "lv") - 0.779) < 0.02
    assert abs(share(ref, ["lv_1f", "lv_2f"], "lv") - 0.984) < 0.01
    assert abs(share(ref, ["tv_2f"], "tv") - 0.602) < 0.02
    assert abs(share(ref, ["rekenen_1s"], "rekenen") - 0.471) < 0.02
    assert abs(share(full["ref2023"], ["rekenen_1s"], "rekenen") - 0.33) < 0.02
    assert ref.filter(like="_suppressed").to_numpy().any()  # small counts are suppressed


def test_truth_file_and_att(small_raw: Path) -> None:
    truth = load_truth(small_raw)
    manifest = json.loads((small_raw / "manifest.json").read_text(encoding="utf-8"))
    assert true_att(truth) == pytest.approx(manifest["att_cet"], abs=1e-9)
    assert (truth.loc[truth["event_tijd"] < 0, "tau"] == 0).all()
    post = truth[(truth["event_tijd"] >= 0) & (truth["aanbieder"] == "CET")]
    assert post["tau"].between(0.1, 2.0).all()
    # Effects grow with time since the grant within every cohort.
    assert (post.sort_values("jaar").groupby("cohort")["tau"].diff().dropna() > 0).all()
    assert set(truth["cohort"]) == {2018, 2019, 2021, 2022}
    grants = read_duo(small_raw / "innovatiebudget-subsidies.csv")
    counted = truth[truth["jaar"] == 2023].set_index("cohort")["n_vestigingen"]
    by_wave = grants["eerste_schooljaar"].str[5:].astype(int).value_counts()
    assert counted.sort_index().tolist() == by_wave.sort_index().tolist()
    schools = read_duo(small_raw / "vestigingen-bo.csv").set_index("vestiging")
    granted_in = schools.loc[grants["vestiging"], "gemeente_code"]
    assert "GM0546" in set(granted_in)  # Leiden funds schools
    assert granted_in.nunique() <= 12 and len(grants) < 0.2 * len(schools)  # a treated minority


def test_constant_effect_design_is_recovered(tmp_path: Path) -> None:
    """One wave and a constant 3-point effect: a plain DiD on the files finds about 3."""
    manifest = simulate(
        tmp_path,
        seed=3,
        scale=0.3,
        waves=[2018],
        effect_base=3.0,
        effect_slope=0.0,
        grant_share=0.9,
        turnover=0.0,
    )
    truth = load_truth(tmp_path)
    assert true_att(truth) == pytest.approx(3.0) and manifest.att_cet == pytest.approx(3.0)
    grants = read_duo(tmp_path / "innovatiebudget-subsidies.csv")
    rows = []
    for jaar in MEASURED[:-1]:
        f = read_duo(tmp_path / eindscores_file(jaar))
        rows.append(f.assign(jaar=jaar, treated_school=f["vestiging"].isin(grants["vestiging"])))
    panel = pd.concat(rows)
    panel = panel[panel["cet_gem"].notna()]
    means = panel.groupby(["treated_school", panel["jaar"] >= 2018])["cet_gem"].mean()
    did = (means[True, True] - means[True, False]) - (means[False, True] - means[False, False])
    assert abs(did - 3.0) < 0.8
    assert 30 <= len(grants) <= 200


def test_bad_parameters() -> None:
    with pytest.raises(ParameterError, match="waves"):
        simulate("unused", waves=[2014])
    with pytest.raises(ParameterError, match="at least 20"):
        simulate("unused", n_schools=5)
    with pytest.raises(ParameterError, match="effect_base"):
        simulate("unused", waves=[2018, 2019], effect_base={2018: 1.0})
    assert not Path("unused").exists()


def test_allocation_is_proportional() -> None:
    weights = pd.Series({"GM0001": 10, "GM0002": 30, "GM0003": 60})
    assert _dgp.allocate(100, weights, ()).tolist() == [10, 30, 60]
    small = _dgp.allocate(2, weights, ("GM0001",))
    assert small.sum() == 2 and small["GM0001"] >= 1
    floor = _dgp.allocate(10, pd.Series({"GM0001": 1, "GM0002": 99}), ())
    assert floor.tolist() == [1, 9]


def test_simulate_pupils_shape_and_effect() -> None:
    pupils = simulate_pupils(n_schools=400, n_years=6, pupils_per_school=20, seed=1, effect=2.0)
    assert len(pupils) == 400 * 6 * 20
    assert list(pupils.columns) == [
        "school",
        "gemeente_code",
        "jaar",
        "cohort",
        "treated",
        "outcome",
    ]
    treated = pupils["treated"].to_numpy()
    assert (
        (pupils["cohort"] > 0) & (pupils["jaar"] >= pupils["cohort"])
    ).to_numpy().tolist() == treated.tolist()
    # Two-way demeaning on a balanced panel gives the TWFE estimate of the constant effect.
    y = pupils.groupby(["school", "jaar"])["outcome"].mean().unstack()
    d = pupils.groupby(["school", "jaar"])["treated"].mean().unstack()

    def demean(x: pd.DataFrame) -> np.ndarray:
        v = x.to_numpy(dtype=float)
        return v - v.mean(1, keepdims=True) - v.mean(0, keepdims=True) + v.mean()

    yd, dd = demean(y), demean(d)
    assert abs((yd * dd).sum() / (dd * dd).sum() - 2.0) < 0.5


def test_cli_writes_pupil_rows(tmp_path: Path) -> None:
    from evaluatie.cli import main

    assert main(["simulate", "--out", str(tmp_path), "--scale", "0.01", "--pupils", "10"]) == 0
    pupils = pd.read_parquet(tmp_path / "leerlingen-synthetisch.parquet")
    schools = pupils["school"].nunique()
    assert schools == 60
    assert 5 < len(pupils) / (schools * pupils["jaar"].nunique()) < 15


def test_known_effect_only_for_simulated_eindtoets(tmp_path: Path) -> None:
    from evaluatie.synth import known_effect

    simulate(out_dir=tmp_path, seed=5, scale=0.05)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert known_effect(tmp_path, "eindtoets") == pytest.approx(manifest["att_cet"], abs=1e-9)
    assert known_effect(tmp_path, "rekenen_1s") is None
    assert known_effect(tmp_path / "elsewhere", "eindtoets") is None


def test_the_truth_of_a_run_is_that_of_its_own_school_years(small_raw: Path) -> None:
    """The known effect over a sample's treated school-years: the whole panel gives the
    national truth; one gemeente's schools give their own mix of waves and years."""
    from evaluatie import load_panel
    from evaluatie.synth import known_effect
    from evaluatie.synth.truth import load_truth

    panel = load_panel(small_raw)
    whole = known_effect(small_raw, "eindtoets", sample=panel)
    assert whole == pytest.approx(known_effect(small_raw, "eindtoets"), abs=1e-12)
    treated = panel[(panel["cohort"] > 0) & (panel["jaar"] >= panel["cohort"])]
    gemeente = treated.dropna(subset=["eindtoets"])["gemeente_code"].value_counts().index[0]
    own = panel[panel["gemeente_code"] == gemeente]
    # by hand: the truth of each of the gemeente's treated school-years, averaged
    truth = load_truth(small_raw).query("aanbieder == 'CET'").set_index(["cohort", "jaar"])["tau"]
    rows = own[(own["cohort"] > 0) & (own["jaar"] >= own["cohort"])].dropna(subset=["eindtoets"])
    by_hand = float(
        np.mean([truth[(c, j)] for c, j in zip(rows["cohort"], rows["jaar"], strict=True)])
    )
    assert known_effect(small_raw, "eindtoets", sample=own) == pytest.approx(by_hand, abs=1e-12)
