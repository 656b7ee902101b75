"""The simulated OAB budgets, VVE outcomes and their known dose-response.

Published numbers are from docs/domain.md; everything else is recomputed from the
written files with the package's own reader and the exposure mapping.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import ParameterError
from evaluatie.sources.duo import read_duo
from evaluatie.sources.exposure import exposure, exposure_weights
from evaluatie.sources.gemeenten import load_gemeenten
from evaluatie.sources.vve import VVE_OUTCOMES
from evaluatie.synth import _dgp, _sim_vve
from evaluatie.synth.files import BUDGET_FILE, VESTIGINGEN_FILE, VVE_FILE, VVE_WAARHEID_FILE
from evaluatie.synth.simulate import simulate
from evaluatie.synth.truth import load_vve_truth, true_dose_response

SEED, N_SCHOOLS = 17, 600
NEW_FILES = {BUDGET_FILE, VVE_FILE, VVE_WAARHEID_FILE}
# docs/domain.md §1: 2018 and new (2020) OAB levels, EUR.
ANCHORS = {
    "GM0034": (4_390_000, 12_127_000),
    "GM0479": (4_343_000, 7_371_000),
    "GM1930": (663_000, 3_460_000),
    "GM0546": (3_200_000, 2_539_000),
    "GM0363": (56_412_000, 51_032_000),
    "GM0344": (18_489_000, 13_045_000),
}
PHASE = {2019: 0.25, 2020: 0.5, 2021: 0.75}


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vve_raw")
    simulate(out, seed=SEED, n_schools=N_SCHOOLS)
    return out


@pytest.fixture(scope="module")
def budget(raw: Path) -> pd.DataFrame:
    return read_duo(raw / BUDGET_FILE, "oab-budget")


@pytest.fixture(scope="module")
def wide(budget: pd.DataFrame) -> pd.DataFrame:
    """Budget per gemeente (rows) x year (columns)."""
    return budget.pivot(index="gemeente_code", columns="jaar", values="budget_eur")


@pytest.fixture(scope="module")
def kids(budget: pd.DataFrame) -> pd.Series:
    per = budget.groupby("gemeente_code")["doelgroepkinderen"]
    assert (per.nunique() == 1).all()  # one indicator measurement: constant over years
    return per.first().astype(float)


@pytest.fixture(scope="module")
def outcomes(raw: Path) -> pd.DataFrame:
    frame = read_duo(raw / VVE_FILE, "vve-uitkomsten")
    return frame.assign(jaar=frame["schooljaar"].str[5:].astype(int))


def policy_dose(wide: pd.DataFrame, kids: pd.Series) -> pd.Series:
    return (wide[2022] - wide[2018]) / kids / 1000.0


def test_budget_anchors_totals_and_phase_in(budget: pd.DataFrame, wide: pd.DataFrame) -> None:
    gemeenten = load_gemeenten()["gemeente_code"]
    assert len(gemeenten) == 344
    assert sorted(wide.index) == sorted(gemeenten)
    assert list(wide.columns) == list(range(2012, 2025))
    assert not wide.isna().any().any() and len(budget) == 344 * 13
    old, new = wide[2018], wide[2022]
    for code, (o, n) in ANCHORS.items():
        assert old[code] == o and new[code] == n
    # Old and new levels are whole euros; totals exact (docs/domain.md §1).
    assert (old == old.round()).all() and (new == new.round()).all()
    change = new - old
    assert change[change > 0].sum() == 135_000_000
    assert (change < 0).sum() == 38
    assert change[change < 0].sum() == -15_000_000
    assert (change != 0).all()
    assert new.min() >= 64_000
    assert new.sum() == 486_000_000
    # Phase-in: constant old level to 2018, linear steps, the new level from 2022.
    for jaar in wide.columns:
        s = 0.0 if jaar <= 2018 else PHASE.get(jaar, 1.0)
        assert (wide[jaar] == old + s * change).all(), jaar


def test_target_children(kids: pd.Series, wide: pd.DataFrame) -> None:
    assert kids.min() >= 1
    assert 36_000 <= kids.sum() <= 44_000  # about 40,000 (u)
    per_child_new = wide[2022] / kids
    big = kids >= 50  # rounding dominates for the smallest gemeenten
    # The new allocation follows the indicator: funding per child roughly equal.
    assert per_child_new[big].std() / per_child_new[big].mean() < 0.15
    per_child_old = wide[2018] / kids
    assert per_child_old[big].std() / per_child_old[big].mean() > 0.3


def test_realistic_changes(wide: pd.DataFrame, kids: pd.Series) -> None:
    old, new = wide[2018], wide[2022]
    relative = new / old - 1
    assert relative.median() > 0.1 and relative.max() > 2.0  # most gain; a long right tail
    near_zero = (policy_dose(wide, kids).abs() < 0.5).mean()
    assert 0.08 <= near_zero <= 0.15
    almere = wide.loc["GM0034"] / kids["GM0034"]
    assert 3_500 < almere[2018] < 5_500 and 10_000 < almere[2022] < 15_000
    assert 2.5 < almere[2022] / almere[2018] < 3.2
    leiden = wide.loc["GM0546"] / kids["GM0546"]
    assert 1_500 < leiden[2018] - leiden[2022] < 5_000


def test_outcome_magnitudes(outcomes: pd.DataFrame, raw: Path) -> None:
    schools = read_duo(raw / VESTIGINGEN_FILE).set_index("vestiging")
    assert set(outcomes["vestiging"]) <= set(schools.index[schools["soort_po"] == "Bo"])
    assert sorted(outcomes["jaar"].unique()) == list(range(2016, 2025))
    assert not outcomes.duplicated(["vestiging", "jaar"]).any()
    # A school open in 2019 and 2021 is open in 2020 (no eindtoets, but VVE outcomes).
    years = outcomes.groupby("vestiging")["jaar"].agg(set)
    around = years[[{2019, 2021} <= y for y in years]]
    assert len(around) > 0 and all(2020 in y for y in around)
    g2 = outcomes["leerlingen_groep2"].astype(float)
    share = outcomes["kleuterverlenging"].sum() / g2.sum()
    assert abs(share - 0.105) < 0.01  # CPB 2016 via docs/domain.md §7
    assert (outcomes["kleuterverlenging"] <= outcomes["leerlingen_groep2"]).all()
    size = schools.loc[outcomes["vestiging"], "aantal_leerlingen"].to_numpy(float)
    assert 0.10 < g2.sum() / size.sum() < 0.15  # ~ size / 8
    n3 = outcomes["leerlingen_groep3"].astype(float)
    seen = outcomes["groep3_gem"].notna()
    assert (seen == (n3 > 0)).all()
    assert abs(np.average(outcomes.loc[seen, "groep3_gem"], weights=n3[seen]) - 50) < 0.5
    # Means are whole-point totals over the pupils.
    total = outcomes.loc[seen, "groep3_gem"] * n3[seen]
    np.testing.assert_allclose(total, total.round(), atol=1e-8)


def test_files_match_the_streams(raw: Path, budget: pd.DataFrame, outcomes: pd.DataFrame) -> None:
    # Redraw from the documented streams: child 0 (schools) and child 3 (VVE).
    streams = np.random.SeedSequence(SEED).spawn(4)
    schools = _dgp.draw_schools(
        np.random.default_rng(streams[0]), N_SCHOOLS, _dgp.GrantDesign(), 0.02
    )
    b, o, t = _sim_vve.draw(
        np.random.default_rng(streams[3]),
        schools,
        _sim_vve.effects(None),
        _sim_vve.DEFAULT_SATURATION,
    )
    pd.testing.assert_frame_equal(
        budget.reset_index(drop=True),
        b.reset_index(drop=True),
        check_dtype=False,
        check_exact=True,
    )
    o = o.assign(vestiging=o["instellingscode"] + o["vestigingscode"])
    got = outcomes.drop(columns=["jaar", "leerlingen_groep3_suppressed"])
    assert not outcomes["leerlingen_groep3_suppressed"].any()  # nothing written as "<5"
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True),
        o[list(got.columns)].reset_index(drop=True),
        check_dtype=False,
        rtol=1e-13,
    )
    pd.testing.assert_frame_equal(load_vve_truth(raw), t, check_dtype=False, rtol=1e-12, atol=1e-12)
    # Rows: every bo school in each year it is open (the school table's years).
    bo = schools[schools["soort_po"] == "Bo"]
    expected = {
        (v, j)
        for v, first, last in zip(bo["vestiging"], bo["first_year"], bo["last_year"], strict=True)
        for j in range(2016, 2025)
        if first <= j <= last
    }
    assert set(zip(outcomes["vestiging"], outcomes["jaar"], strict=True)) == expected


def test_bytes_and_independent_stream(tmp_path: Path, raw: Path) -> None:
    simulate(tmp_path / "again", seed=SEED, n_schools=N_SCHOOLS)
    simulate(tmp_path / "off", seed=SEED, n_schools=N_SCHOOLS, vve=False)
    simulate(tmp_path / "weak", seed=SEED, n_schools=N_SCHOOLS, vve_effect={"groep3": 0.0})
    on, off = digest(raw), digest(tmp_path / "off")
    assert digest(tmp_path / "again") == on
    assert set(on) - set(off) == NEW_FILES
    # The VVE stream leaves every other file (all but the manifest) byte-identical.
    for name, sha in off.items():
        if name != "manifest.json":
            assert on[name] == sha, name
    manifest = json.loads((raw / "manifest.json").read_text(encoding="utf-8"))
    for name in NEW_FILES:
        assert manifest["files"][name]["sha256"] == on[name]
    assert manifest["params"]["vve_effect"] == {"kleuterverlenging": -0.25, "groep3": 0.12}
    assert manifest["params"]["vve_saturation"] == 6.0
    # Another effect changes the outcomes and the truth, not the budgets.
    weak = digest(tmp_path / "weak")
    assert weak[BUDGET_FILE] == on[BUDGET_FILE]
    assert weak[VVE_FILE] != on[VVE_FILE] and weak[VVE_WAARHEID_FILE] != on[VVE_WAARHEID_FILE]


def f(d: np.ndarray, slope: float, c: float = 6.0) -> np.ndarray:
    return slope * c * (1 - np.exp(-d / c))


def test_truth_recomputed_from_the_budget(raw: Path, budget: pd.DataFrame, outcomes) -> None:
    truth = load_vve_truth(raw)
    slopes = {"kleuterverlenging": -0.25, "groep3": 0.12}
    assert set(truth["gemeente_code"]) == set(outcomes["gemeente_code"])
    old = budget[budget["jaar"] == 2018].set_index("gemeente_code")["budget_eur"]
    frozen = budget.assign(budget_eur=budget["gemeente_code"].map(old))
    for outcome in VVE_OUTCOMES:
        rows = truth[truth["uitkomst"] == outcome]
        years = sorted(rows["jaar"].unique())
        # Only windows the budget covers: groep 3 in 2016 was of VVE age in 2011-2013.
        assert years == (
            list(range(2017, 2025)) if outcome == "groep3" else list(range(2016, 2025))
        )
        e = exposure(budget, outcome, years).set_index(["gemeente_code", "jaar"])
        e0 = exposure(frozen, outcome, years).set_index(["gemeente_code", "jaar"])
        key = pd.MultiIndex.from_arrays([rows["gemeente_code"], rows["jaar"].astype(int)])
        np.testing.assert_allclose(rows["blootstelling_eur"], e.loc[key, "funding_per_child"])
        np.testing.assert_allclose(
            rows["blootstelling_zonder_eur"], e0.loc[key, "funding_per_child"]
        )
        dose = (e.loc[key, "funding_per_child"] - e0.loc[key, "funding_per_child"]) / 1000
        np.testing.assert_allclose(rows["dosis"], dose, atol=1e-9)
        np.testing.assert_allclose(rows["tau"], f(rows["dosis"].to_numpy(), slopes[outcome]))
        pre = np.array([exposure_weights(outcome, int(j)).index.max() < 2019 for j in rows["jaar"]])
        assert (rows.loc[pre, "tau"] == 0).all() and (rows.loc[pre, "dosis"] == 0).all()
        assert (rows.loc[~pre, "tau"] != 0).all()
    # Groep 2 measured in 2021 is the first cohort with any VVE year from 2019 on.
    k = truth[truth["uitkomst"] == "kleuterverlenging"]
    assert (k.loc[k["jaar"] <= 2020, "tau"] == 0).all() and (
        k.loc[k["jaar"] == 2021, "tau"] != 0
    ).all()


def test_true_dose_response_matches_the_truth_file(raw: Path, wide, kids) -> None:
    truth = load_vve_truth(raw)
    dose = policy_dose(wide, kids)
    manifest = json.loads((raw / "manifest.json").read_text(encoding="utf-8"))
    for outcome in VVE_OUTCOMES:
        rows = truth[truth["uitkomst"] == outcome]
        years = sorted(int(j) for j in rows["jaar"].unique())
        mean_tau = rows.groupby("gemeente_code")["tau"].mean()
        d = dose[mean_tau.index].to_numpy()
        for source in (raw, manifest, manifest["params"]):
            got = true_dose_response(source, outcome, d, years)
            np.testing.assert_allclose(got, mean_tau.to_numpy(), rtol=1e-9, atol=1e-12)
        # Post years only, and a scalar dose.
        post = [j for j in years if j >= 2022]
        m = rows[rows["jaar"] >= 2022].groupby("gemeente_code")["tau"].mean()
        code = m.index[0]
        assert true_dose_response(raw, outcome, dose[code], post) == pytest.approx(m[code])
    # phi by hand: groep 3 in 2024 was of VVE age in 2019 (45/216), 2020 (135/216), 2021.
    phi = 45 / 216 * 0.25 + 135 / 216 * 0.5 + 36 / 216 * 0.75
    assert _sim_vve.phi("groep3", 2024) == pytest.approx(phi)
    assert true_dose_response(raw, "groep3", 3.0, [2024]) == pytest.approx(f(phi * 3.0, 0.12))
    with pytest.raises(ParameterError):
        true_dose_response(raw, "eindtoets", 1.0, [2024])


def test_parameters_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="vve_effect"):
        simulate(tmp_path, n_schools=50, vve_effect={"eindtoets": 1.0})
    with pytest.raises(ParameterError, match="vve_saturation"):
        simulate(tmp_path, n_schools=50, vve_saturation=0.0)
    simulate(tmp_path / "off", n_schools=50, vve=False)
    with pytest.raises(ParameterError, match="VVE"):
        true_dose_response(tmp_path / "off", "groep3", 1.0, [2024])


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and its classical standard error."""
    xc = x - x.mean()
    slope = float(xc @ (y - y.mean()) / (xc @ xc))
    resid = y - y.mean() - slope * xc
    se = float(np.sqrt(resid @ resid / (len(x) - 2) / (xc @ xc)))
    return slope, se


def test_did_on_groep3_recovers_the_dose_response(tmp_path: Path) -> None:
    # A large effect, so 600 schools can see it (the default is small on purpose).
    out = tmp_path / "strong"
    simulate(out, seed=3, n_schools=N_SCHOOLS, vve_effect={"groep3": 2.0})
    b = read_duo(out / BUDGET_FILE)
    w = b.pivot(index="gemeente_code", columns="jaar", values="budget_eur")
    dose = policy_dose(w, b.groupby("gemeente_code")["doelgroepkinderen"].first().astype(float))
    o = read_duo(out / VVE_FILE)
    o = o.assign(jaar=o["schooljaar"].str[5:].astype(int)).dropna(subset=["groep3_gem"])
    truth = load_vve_truth(out)
    tau = truth[truth["uitkomst"] == "groep3"].set_index(["gemeente_code", "jaar"])["tau"]

    def period(lo: int, hi: int) -> pd.Series:
        rows = o[o["jaar"].between(lo, hi)]
        return rows.groupby("vestiging")["groep3_gem"].mean()

    pre, post = period(2016, 2021), period(2022, 2024)
    both = pre.index.intersection(post.index)
    gem = o.drop_duplicates("vestiging").set_index("vestiging")["gemeente_code"][both]
    x = dose[gem].to_numpy()
    slope, se = _ols(x, (post[both] - pre[both]).to_numpy())
    true_post = tau[tau.index.get_level_values("jaar") >= 2022].groupby("gemeente_code").mean()
    true_slope, _ = _ols(x, true_post[gem].to_numpy())
    assert true_slope > 0.3  # about 2.0 * mean phi over 2022-2024 (0.26), a bit concave
    assert slope > 2 * se
    assert abs(slope - true_slope) < 4 * se
    # Placebo: no trend by dose before the redistribution (parallel trends).
    early, late = period(2016, 2017), period(2020, 2021)
    both = early.index.intersection(late.index)
    gem = o.drop_duplicates("vestiging").set_index("vestiging")["gemeente_code"][both]
    placebo, se0 = _ols(dose[gem].to_numpy(), (late[both] - early[both]).to_numpy())
    assert abs(placebo) < 4 * se0
