"""The VVE design layer: policy dose, comparison group, study panels, one-gemeente DiD."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.estimators.single_unit import single_unit_did
from evaluatie.sources.vve import VveData, gemeente_outcomes
from evaluatie.studies.vve.design import (
    dose_grid,
    dose_groups,
    dose_response_by_side,
    focus_estimates,
    policy_dose,
    received_share,
    side_panel,
    vve_study,
)
from evaluatie.studies.vve.tables import timing_table
from evaluatie.studies.vve.text import (
    dose_response_sentence,
    dropped_sentence,
    missing_sides_sentence,
    timing_sentences,
)

PHASE = {2019: 0.25, 2020: 0.5, 2021: 0.75}

pytestmark = pytest.mark.usefixtures("english")


def _budget(per_child: dict[str, tuple[float, float]], kids: int = 100) -> pd.DataFrame:
    rows = []
    for code, (old, new) in per_child.items():
        for jaar in range(2012, 2025):
            s = 0.0 if jaar <= 2018 else PHASE.get(jaar, 1.0)
            rows.append((code, jaar, kids * (old + s * (new - old)), kids))
    return pd.DataFrame(rows, columns=["gemeente_code", "jaar", "budget_eur", "doelgroepkinderen"])


def test_policy_dose_by_hand() -> None:
    doses = policy_dose(_budget({"GM0546": (15000.0, 12000.0), "GM0034": (4400.0, 12100.0)}))
    assert doses.loc["GM0546", "dose"] == pytest.approx(-3.0)
    assert doses.loc["GM0034", "dose"] == pytest.approx(7.7)
    assert doses.loc["GM0546", "budget_change_pct"] == pytest.approx(-20.0)
    groups = dose_groups(pd.Series([-3.0, -0.5, 0.2, 0.51]), comparison_band=0.5)
    assert groups.tolist() == ["loss", "comparison", "comparison", "gain"]
    with pytest.raises(ParameterError, match="band"):
        dose_groups(pd.Series([1.0]), comparison_band=-1)
    with pytest.raises(DesignError, match="2022"):
        policy_dose(_budget({"GM0546": (1.0, 2.0)}).query("jaar != 2022"))


def _study_data(n_gem: int = 30, seed: int = 3, n_zero: int = 6) -> VveData:
    rng = np.random.default_rng(seed)
    codes = [f"GM{1000 + i}" for i in range(n_gem)]
    new = 12000.0
    old = {c: new - 1000 * d for c, d in zip(codes, rng.uniform(-3, 6, n_gem), strict=True)}
    for c in codes[:n_zero]:  # gemeenten without a change: the comparison group
        old[c] = new
    budget = _budget({c: (old[c], new) for c in codes})
    rows = []
    for i, c in enumerate(codes):
        for s in range(3):
            for jaar in range(2016, 2025):
                rows.append((f"{i:02d}AA{s:02d}", c, jaar, 20.0 + s, 50 + rng.normal()))
    schools = pd.DataFrame(
        rows, columns=["vestiging", "gemeente_code", "jaar", "n_groep3", "groep3"]
    )
    schools = schools.assign(schooljaar="x", n_groep2=20.0, kleuterverlenging=10.0)
    return VveData(schools=schools, budget=budget, files={})


def test_vve_study_panels_and_received_share() -> None:
    study = vve_study(_study_data(), outcome="groep3", comparison_band=0.25)
    # groep 3 measured in 2021 was of VVE age 2016-2018: the reference year.
    assert study.reference == 2021 and study.post_years == (2022, 2023, 2024)
    # budget 2012 on: groep 3 exposure is defined from 2017.
    assert study.years[0] == 2017
    gem = study.gemeenten
    assert set(gem.loc[gem["group"] == "comparison", "gemeente_code"]) >= {"GM1000", "GM1005"}
    assert (gem.loc[gem["group"] == "comparison", "dose_cdid"] == 0).all()
    assert gem.groupby("gemeente_code").size().eq(len(study.years)).all()
    # Received share = sum_Y w(t, Y) s_Y with the module's weights (45, 135, 36)/216.
    share = received_share(study)
    assert share[2021] == pytest.approx(0.0, abs=1e-12)
    assert share[2022] == pytest.approx(36 / 216 * 0.25)
    assert share[2024] == pytest.approx((45 * 0.25 + 135 * 0.5 + 36 * 0.75) / 216)
    # The gemeente mean is the pupil-weighted school mean.
    g = gemeente_outcomes(study.schools, "groep3").set_index(["gemeente_code", "jaar"])
    s = study.schools[
        (study.schools["gemeente_code"] == "GM1005") & (study.schools["jaar"] == 2020)
    ]
    assert g.loc[("GM1005", 2020), "groep3"] == pytest.approx(
        np.average(s["groep3"], weights=s["n_groep3"])
    )


def test_vve_study_errors() -> None:
    data = _study_data()
    with pytest.raises(ParameterError, match="not a VVE outcome"):
        vve_study(data, outcome="eindtoets")
    short = VveData(data.schools[data.schools["jaar"] <= 2021], data.budget, {})
    with pytest.raises(DesignError, match="cannot show yet"):
        vve_study(short, outcome="groep3")


def test_single_unit_did_by_hand() -> None:
    rows = []
    for u, pre, post, size in (("T", 1.0, 4.0, 100), ("A", 0.0, 1.0, 100), ("B", 0.0, 2.0, 400),
                               ("C", 0.0, 0.0, 25)):  # fmt: skip
        rows += [(u, 2019, pre, size), (u, 2020, pre, size), (u, 2021, post, size)]
    df = pd.DataFrame(rows, columns=["u", "t", "y", "n"])
    res = single_unit_did(
        df,
        outcome="y",
        unit="u",
        time="t",
        treated="T",
        comparison=["A", "B", "C"],
        pre=[2019, 2020],
        post=[2021],
    )
    # T changed by 3, the comparison units by 1 on average.
    assert res.table["estimate"].iloc[0] == pytest.approx(2.0)
    # Placebos: A: 1 - 1 = 0, B: 2 - 0.5 = 1.5, C: 0 - 1.5 = -1.5.
    scaled = single_unit_did(df, outcome="y", unit="u", time="t", treated="T", comparison=["A", "B", "C"], pre=[2019, 2020],
                             post=[2021], size="n", heteroskedasticity="proportional", alpha=0.5)  # fmt: skip
    fitted = single_unit_did(df, outcome="y", unit="u", time="t", treated="T", comparison=["A", "B", "C"], pre=[2019, 2020],
                             post=[2021], size="n", alpha=0.5)  # fmt: skip
    plain = single_unit_did(df, outcome="y", unit="u", time="t", treated="T", comparison=["A", "B", "C"], pre=[2019, 2020],
                            post=[2021], alpha=0.5)  # fmt: skip
    q = np.quantile([0.0, 1.5, -1.5], [0.25, 0.75])
    assert plain.table["ci_low"].iloc[0] == pytest.approx(2.0 - q[1])
    # Size rescaling: B's placebo * sqrt(400/100) = 3, C's * sqrt(25/100) = -0.75.
    q = np.quantile([0.0, 3.0, -0.75], [0.25, 0.75])
    assert scaled.table["ci_high"].iloc[0] == pytest.approx(2.0 - q[0])
    # equal-tailed: 2.0 lies beyond every draw, so p is the floor 2 / (3 + 1)
    assert plain.table["p"].iloc[0] == pytest.approx(2 / 4)
    # Estimated variance A + B/M: a straight line through (1/M, placebo^2) by polyfit
    b, a = np.polyfit([1 / 100, 1 / 400, 1 / 25], [0.0, 2.25, 2.25], 1)
    assert fitted.meta["variance_model"] == {"A": pytest.approx(a), "B": pytest.approx(b)}
    var = {m: a + b / m for m in (100, 400, 25)}
    assert min(var.values()) > 0.1  # the floor does not bind
    draws = [0.0, 1.5 * np.sqrt(var[100] / var[400]), -1.5 * np.sqrt(var[100] / var[25])]
    q = np.quantile(draws, [0.25, 0.75])
    assert fitted.table["ci_high"].iloc[0] == pytest.approx(2.0 - q[0])
    assert fitted.table["ci_low"].iloc[0] == pytest.approx(2.0 - q[1])
    assert res.meta["few_placebos"] and not plain.meta["few_placebos"]
    with pytest.raises(DesignError, match="'Z'"):
        single_unit_did(
            df,
            outcome="y",
            unit="u",
            time="t",
            treated="Z",
            comparison=["A", "B"],
            pre=[2019],
            post=[2021],
        )
    with pytest.raises(ParameterError, match="disjoint"):
        single_unit_did(
            df,
            outcome="y",
            unit="u",
            time="t",
            treated="T",
            comparison=["A", "B"],
            pre=[2019],
            post=[2019],
        )


def test_timing_sentences_follow_the_data_years() -> None:
    table = timing_table(
        ["kleuterverlenging", "eindtoets"], {"kleuterverlenging": 2024, "eindtoets": 2024}
    )
    text = timing_sentences(table)
    assert "4 measured years can reflect the change" in text[0]
    assert "cannot reflect the 2019 change yet" in text[1] and "from 2027" in text[1]
    assert table.loc["eindtoets", "first year, mostly exposed"] == 2028


def test_sides_are_estimated_apart() -> None:
    study = vve_study(_study_data(n_gem=60), outcome="groep3", comparison_band=0.25)
    units = study.units
    n_gain = int((units["group"] == "gain").sum())
    n_loss = int((units["group"] == "loss").sum())
    gain = side_panel(study, "gain")
    assert set(gain["group"]) == {"gain", "comparison"}
    grid = dose_grid(study, "loss")
    assert grid.min() == pytest.approx(units.loc[units["group"] == "loss", "dose"].min())
    fits = dose_response_by_side(study, min_treated=min(n_gain, n_loss))
    assert set(fits) == {"gain", "loss"}
    assert fits["loss"].meta["n_treated"] == n_loss
    only = dose_response_by_side(study, min_treated=max(n_gain, n_loss))
    assert set(only) == {"gain" if n_gain > n_loss else "loss"}
    with pytest.raises(DesignError, match="neither the gains nor the losses"):
        dose_response_by_side(study, min_treated=n_gain + n_loss)
    with pytest.raises(ParameterError, match="side must be"):
        side_panel(study, "both")


def test_received_share_is_not_shrunk_by_a_gap() -> None:
    data = _study_data()
    gap = data.schools[
        ~((data.schools["gemeente_code"] == "GM1015") & (data.schools["jaar"] == 2024))
    ]
    study = vve_study(VveData(gap, data.budget, {}), outcome="groep3", comparison_band=0.25)
    assert received_share(study)[2024] == pytest.approx((45 * 0.25 + 135 * 0.5 + 36 * 0.75) / 216)
    # The gemeente without 2024 leaves the balanced gemeente panel, and says so.
    assert study.dropped == {"years": [], "gemeenten": ["GM1015"], "no_budget": []}
    assert "GM1015" not in set(study.gemeenten["gemeente_code"])
    assert "1 gemeente(n) without a complete series (GM1015)" in dropped_sentence(study)


def test_a_stray_year_is_dropped_not_the_gemeenten() -> None:
    data = _study_data()
    stray = data.schools.iloc[:1].assign(jaar=2025)
    budget = pd.concat([data.budget, data.budget[data.budget["jaar"] == 2024].assign(jaar=2025)])
    study = vve_study(
        VveData(pd.concat([data.schools, stray]), budget, {}),
        outcome="groep3",
        comparison_band=0.25,
    )
    assert study.years[-1] == 2024 and study.dropped["years"] == [2025]
    assert study.gemeenten["gemeente_code"].nunique() == 30


def test_policy_dose_and_band_errors_name_the_problem() -> None:
    budget = _budget({"GM0546": (15000.0, 12000.0), "GM0034": (4400.0, 12100.0)})
    no_kids = budget.assign(
        doelgroepkinderen=budget["doelgroepkinderen"].where(budget["jaar"] > 2018)
    )
    with pytest.raises(
        DesignError, match="DOELGROEPKINDEREN has no value for any gemeente in 2018"
    ):
        policy_dose(no_kids)
    zero = budget.copy()
    zero.loc[(zero["gemeente_code"] == "GM0546") & (zero["jaar"] == 2018), "budget_eur"] = 0.0
    with pytest.raises(DesignError, match="BUDGET_EUR is 0 for GM0546 in 2018"):
        policy_dose(zero)
    with pytest.raises(DesignError, match=r"comparison_band = 0\.01"):
        vve_study(_study_data(n_zero=2), outcome="groep3", comparison_band=0.01)


def test_generated_sentences_follow_the_numbers() -> None:
    study = vve_study(_study_data(n_gem=60), outcome="groep3", comparison_band=0.25)
    fits = dose_response_by_side(study, min_treated=5)
    side = next(iter(fits))
    text = dose_response_sentence(
        fits[side], side=side, comparison_band=0.25, outcome_label="x", unit_label="pt"
    )
    row = fits[side].table.loc["ATT_o"]
    assert (
        f"{row['estimate']:+.2f}".replace("-", "\u2212") in text
        and f"{fits[side].meta['n_treated']} gemeenten" in text
    )
    assert ("fit the data" in text) == bool(row["ci_low"] <= 0 <= row["ci_high"])
    assert missing_sides_sentence(study, {side: fits[side]}).startswith(" Fewer than 10")
    assert missing_sides_sentence(study, fits) == ""


def test_gemeenten_without_a_budget_are_listed_not_silently_lost() -> None:
    data = _study_data()
    extra = data.schools[data.schools["gemeente_code"] == "GM1010"].assign(
        gemeente_code="GM9998", vestiging=lambda d: "X" + d["vestiging"]
    )
    study = vve_study(
        VveData(pd.concat([data.schools, extra]), data.budget, {}),
        outcome="groep3",
        comparison_band=0.25,
    )
    assert study.dropped["no_budget"] == ["GM9998"]
    assert "1 gemeente(n) with outcomes but no budget in both policy years (GM9998)" in (
        dropped_sentence(study)
    )


def test_the_focus_sentence_says_whether_own_estimate_and_prediction_agree() -> None:
    from evaluatie.core.results import Result
    from evaluatie.studies.vve.text import single_unit_sentence

    table = pd.DataFrame({"estimate": [-0.54], "ci_low": [-0.9], "ci_high": [-0.2], "p": [0.02]})
    meta = {"treated_change": -0.6, "comparison_change": -0.06, "n_comparison": 40}
    own = Result(table=table, method="single_unit_did", meta=meta)
    kwargs = {"name": "Leiden", "outcome_label": "the score", "unit_label": "points"}
    far = single_unit_sentence(own, predicted=(0.23, 0.1), **kwargs)  # CI 0.03 to 0.43
    assert "differ by more than their uncertainty allows" in far
    near = single_unit_sentence(own, predicted=(-0.3, 0.1), **kwargs)  # CI -0.50 to -0.10
    assert "agree within their uncertainty" in near
    assert "agree" not in single_unit_sentence(own, **kwargs)  # nothing predicted


def test_the_summary_finding_is_the_focus_gemeente_or_the_first_side_by_hand() -> None:
    from evaluatie.studies.vve.text import summary_finding

    study = vve_study(_study_data(n_gem=60), outcome="groep3", comparison_band=0.25)
    curves = dose_response_by_side(study, min_treated=5)
    before = study.gemeenten[study.gemeenten["jaar"].isin(study.pre_years)]
    spread = before.groupby("gemeente_code")["groep3"].mean().std(ddof=1)
    side, result = next(iter(curves.items()))
    national = summary_finding(study, curves)
    codes = study.units.loc[study.units["group"] == side, "gemeente_code"]
    assert national.baseline == pytest.approx(
        before.loc[before["gemeente_code"].isin(codes), "groep3"].mean(), rel=1e-12
    )
    assert national.sd == pytest.approx(spread, rel=1e-12)
    assert national.estimate == result.table.loc["ATT_o", "estimate"]
    code = str(codes.iloc[0])
    own = summary_finding(study, curves, focus=(code, "Ergens"))
    one, _ = focus_estimates(study, curves, code)
    assert own.estimate == one.table["estimate"].iloc[0] and own.who == "In Ergens"
    assert own.baseline == pytest.approx(
        before.loc[before["gemeente_code"] == code, "groep3"].mean(), rel=1e-12
    )
    # a focus gemeente without a complete series: the national finding instead
    assert summary_finding(study, curves, focus=("GM9999", "Nergens")) == national


def test_cost_sentence_by_hand() -> None:
    """A loss: making it up brings back the curve's effect with the sign turned, its
    interval mirrored; a gain: the effect and the same per EUR 100,000 a year."""
    from types import SimpleNamespace

    from evaluatie.studies.vve.text import cost_sentence

    doses = pd.DataFrame(
        {"budget_before": [3_200_000.0, 4_390_000.0], "budget_after": [2_539_000.0, 12_127_000.0]},
        index=["GM0546", "GM0034"],
    )
    study = SimpleNamespace(outcome="groep3", doses=doses)
    loss = cost_sentence(study, "GM0546", "Leiden", (-0.2, 0.1))  # CI -0.396 to -0.004
    assert "EUR 661,000 a year" in loss and "bring +0.20 points" in loss
    assert "(95% CI 0.00 to +0.40)" in loss  # -0.004 and +0.396, mirrored
    gain = cost_sentence(study, "GM0034", "Almere", (0.4, 0.1))  # 7,737,000 a year
    per = 0.4 * 100_000 / 7_737_000
    assert "rose by EUR 7,737,000 a year" in gain and f"+{per:.3f} points per EUR 100,000" in gain
    assert cost_sentence(study, "GM0034", "Almere", None) == ""
