"""Size of the default p-values under placebo policies on a real panel (issue 12).

A random set of gemeenten gets a placebo 'policy' on DUO's real VO exam panel
(:mod:`placebo`; 9,552 exam programmes in 280 gemeenten, 2019-20 to 2023-24), so the
true effect is zero and a 5% test should reject in about 5% of the draws, whatever the
number of treated gemeenten. Before this work the defaults rejected 4%, 12.5%, 31% and
91% with 84, 12, 3 and 1 treated gemeenten (``twfe``). 200 draws per regime, as the
issue's acceptance asks: a rate's standard error is then 1.5 points, so even an exact
test lands outside the issue's band [3%, 7%] about one time in five. The assertion is
the band an exact 5% test stays in with probability 0.99 (5% ± 2.58 standard errors:
1.0% to 9.0%); the rates themselves are printed (``pytest -s``) and reported in the
README.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from evaluatie import att_gt, event_study, single_unit_did, twfe
from evaluatie.core.errors import DesignError
from placebo import placebo, vo_gemeenten, vo_panel

pytestmark = pytest.mark.slow
DRAWS = 200
#: 0.05 +- 2.58 binomial standard errors of a rate over DRAWS draws
BAND = (0.05 - 2.58 * (0.05 * 0.95 / DRAWS) ** 0.5, 0.05 + 2.58 * (0.05 * 0.95 / DRAWS) ** 0.5)
KEYS = {"outcome": "y", "unit": "unit", "time": "year"}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return vo_panel()


def _rates(panel: pd.DataFrame, n_treated: int, tests: dict) -> dict[str, float]:
    rng = np.random.default_rng(12_000 + n_treated)
    hits: dict[str, list[bool]] = {name: [] for name in tests}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # att_gt drops unbalanced programmes, and says so
        for _ in range(DRAWS):
            data = placebo(panel, n_treated, rng)
            for name, test in tests.items():
                hits[name].append(test(data) < 0.05)
    rates = {name: float(np.mean(h)) for name, h in hits.items()}
    print(f"{n_treated} treated gemeenten: {rates}")
    return rates


def _twfe(data: pd.DataFrame) -> float:
    return twfe(data, **KEYS, treatment="d").overall.p


def _att_gt_simple(data: pd.DataFrame) -> float:
    return att_gt(data, **KEYS, cohort="cohort").aggregate("simple").overall.p


@pytest.mark.parametrize("n_treated", [84, 12, 3, 1])
def test_default_p_values_hold_their_size(panel, n_treated):
    rates = _rates(panel, n_treated, {"twfe": _twfe, "att_gt simple": _att_gt_simple})
    for name, rate in rates.items():
        assert BAND[0] <= rate <= BAND[1], (name, n_treated, rate)


def test_default_pretrend_tests_hold_their_size_with_12_treated(panel):
    def cs(data: pd.DataFrame) -> float:
        return att_gt(data, **KEYS, cohort="cohort").pretrend_test().p

    def es(data: pd.DataFrame) -> float:
        return event_study(data, **KEYS, cohort="cohort", window=(-3, 2)).pretrend_test().p

    rates = _rates(panel, 12, {"att_gt": cs, "event_study": es})
    for name, rate in rates.items():
        assert BAND[0] <= rate <= BAND[1], (name, rate)


def _one_gemeente(data: pd.DataFrame, treated: str):
    """single_unit_did of gemeente ``treated`` (no effect) against all the others,
    rescaled by size with the estimated variance model."""
    return single_unit_did(
        data,
        outcome="y",
        unit="gemeente",
        time="year",
        treated=treated,
        comparison=[c for c in data["gemeente"].unique() if c != treated],
        pre=[2019, 2020],
        post=[2022, 2023],
        size="size",
    )


def test_single_unit_did_holds_its_size_in_each_third_of_gemeente_size():
    """Every gemeente in turn as the one 'treated' gemeente (no effect), the others as
    comparison, rescaled by size with the estimated variance model: the rejection rate
    at 5% in each third of gemeente size (about 92 gemeenten each: a rate's standard
    error is about 2.3 points). The variance assumed proportional to 1 / size gives
    1.1% in the smallest third and 10.9% in the largest on the same panel."""
    data = vo_gemeenten()
    gemeenten = data["gemeente"].unique()
    sizes = data.groupby("gemeente")["size"].first().reindex(gemeenten)
    thirds = pd.qcut(sizes, 3, labels=["small", "middle", "large"])
    rejected = pd.Series(
        [_one_gemeente(data, g).overall.p < 0.05 for g in gemeenten],
        index=gemeenten,
    )
    rates = rejected.groupby(thirds, observed=True).mean()
    print(f"single_unit_did by size third: {rates.round(3).to_dict()}")
    se = (0.05 * 0.95 / thirds.value_counts().min()) ** 0.5
    assert rates.between(0.05 - 2.58 * se, 0.05 + 2.58 * se).all(), rates.to_dict()


def test_event_study_uniform_band_where_it_is_offered(panel: pd.DataFrame) -> None:
    """The analytic uniform band of an event study, on placebo policies (true path
    zero): offered with 84 treated gemeenten (>= 50 treated and untreated), where it
    held the whole path in 91.5% of 200 draws; refused with 12, where it held 64%."""
    rng = np.random.default_rng(7_084)
    hits = []
    for _ in range(DRAWS):
        es = event_study(placebo(panel, 84, rng), **KEYS, cohort="cohort", window=(-3, 2),
                         inference="analytic")  # fmt: skip
        band = es.uniform_band()
        hits.append(bool(((band["band_low"] <= 0) & (band["band_high"] >= 0)).all()))
    print(f"84 treated gemeenten: uniform band covers the placebo path in {np.mean(hits):.3f}")
    # measured 91.5%: 2.3 standard errors short of 95% (the CRV1 covariance is still a
    # little small with 84 treated), said in uniform_band's docstring; the bound guards
    # against it getting worse
    assert np.mean(hits) >= 0.89
    few = event_study(placebo(panel, 12, rng), **KEYS, cohort="cohort", window=(-3, 2),
                      inference="analytic")  # fmt: skip
    with pytest.raises(DesignError, match="no uniform band with 12 treated"):
        few.uniform_band()


@pytest.mark.parametrize("n_treated", [84, 12, 3])
def test_cr2_analytic_p_values_hold_their_size(panel, n_treated):
    """The analytic option that needs no resampling: CR2 with Bell-McCaffrey df, clustered
    by gemeente (CRV1 rejected 7%, 16% and 35% here)."""

    def cr2(data: pd.DataFrame) -> float:
        return twfe(
            data, **KEYS, treatment="d", cluster="gemeente", vcov="CR2", inference="analytic"
        ).overall.p

    rates = _rates(panel, n_treated, {"CR2": cr2})
    assert BAND[0] <= rates["CR2"] <= BAND[1], (n_treated, rates)


def test_single_unit_did_p_value_and_interval_agree_on_the_real_panel():
    """Each gemeente in turn as the treated one: its p-value is below 5% exactly when
    its 95% placebo interval excludes zero (a report showed -3.81 to -0.02 beside
    p = 0.10 when p came from absolute draws and the interval from both tails)."""
    data = vo_gemeenten()
    gemeenten = data["gemeente"].unique()
    disagree = []
    for g in gemeenten:
        row = _one_gemeente(data, g).table.iloc[0]
        excludes_zero = row["ci_low"] > 0 or row["ci_high"] < 0
        if excludes_zero != (row["p"] < 0.05):
            disagree.append((g, row["ci_low"], row["ci_high"], row["p"]))
    print(f"single_unit_did: p and interval disagree for {len(disagree)} of {len(gemeenten)}")
    assert disagree == []


def test_callaway_santanna_event_study_p_holds_its_size_where_it_is_shown(panel):
    """The Callaway-Sant'Anna event study shows analytic p-values only where enough
    gemeenten are treated and untreated (84 of the panel's): their size there, at the
    first post-policy year."""

    def cs(data: pd.DataFrame) -> float:
        res = event_study(data, **KEYS, cohort="cohort", window=(-3, 2),
                          estimator="callaway_santanna")  # fmt: skip
        assert res.meta["inference"].procedure == "analytic"
        return float(res.table.loc[0, "p"])

    rate = _rates(panel, 84, {"callaway_santanna e=0": cs})["callaway_santanna e=0"]
    assert BAND[0] <= rate <= BAND[1], rate


def test_gemeente_report_designs_hold_their_size_in_each_third_of_gemeente_size():
    """The gemeente report's design (:mod:`evaluatie.studies.gemeente`): every gemeente in
    turn 'treated' from 2022-23 with no effect, against the 40 gemeenten nearest in exam
    candidates. Synthetic control's rank p-value (overall and per post year) and synthetic
    DiD's placebo p-value each reject about 5% overall and in each third of gemeente size;
    synthetic DiD's reported MDE, added to each gemeente's own post years, is found in
    about 80%. (With all 276 others as
    donors synthetic DiD's placebo rejected 9.7 / 3.3 / 0.0% by third: its placebo SE
    assumes the treated gemeente is as noisy as the average donor; hence like-sized
    donors.)"""
    from evaluatie.sources.examens import load_exam_rates
    from evaluatie.studies import gemeente as gm
    from placebo import EXAMS

    rates = load_exam_rates(EXAMS)
    sizes = rates.groupby("gemeente_code")["kandidaten_gemiddeld"].first()
    thirds = pd.qcut(sizes, 3, labels=["small", "middle", "large"])
    p: dict[str, dict[str, float]] = {"sc": {}, "sdid": {}, "sc 2023": {}, "sc 2024": {}}
    found = {}
    for code in sizes.index:
        case = gm.exam_case(rates, gemeente=code, first_year=2023)
        cmp = gm.compare(case, replications=100)
        p["sc"][code], p["sdid"][code] = cmp.sc.overall.p, cmp.sdid.overall.p
        for year in (2023, 2024):  # synthetic control's p-value per post-period too
            p[f"sc {year}"][code] = float(cmp.sc.table.loc[year, "p"])
        # the reported MDE added to the gemeente's own post years: found about 80% of the time
        shifted = replace(
            case, panel=case.panel.assign(y=case.panel["y"] + cmp.mde * case.panel["treated"])
        )
        again = gm.compare(shifted, replications=100).sdid.overall
        found[code] = again.p <= 0.05
    power = float(np.mean(list(found.values())))
    print(f"sdid with its MDE added: found in {power:.3f}")
    assert abs(power - 0.8) <= 2.58 * (0.8 * 0.2 / len(sizes)) ** 0.5, power
    se_all = (0.05 * 0.95 / len(sizes)) ** 0.5
    se_third = (0.05 * 0.95 / thirds.value_counts().min()) ** 0.5
    for name, values in p.items():
        rejected = pd.Series(values) <= 0.05
        by_third = rejected.groupby(thirds, observed=True).mean()
        print(f"{name}: {rejected.mean():.3f} overall, by size third {by_third.round(3).to_dict()}")
        assert abs(rejected.mean() - 0.05) <= 2.58 * se_all, (name, rejected.mean())
        assert by_third.between(0.05 - 2.58 * se_third, 0.05 + 2.58 * se_third).all(), name


def test_schooluitval_region_design_holds_its_size_on_the_real_exam_panel():
    """The schooluitval report's design (:mod:`evaluatie.studies.schooluitval`) on a real
    panel of the same shape: DUO's VO exam pass rates summed to the 39 RMC regions, each
    region in turn 'treated' from 2021-22 and from 2022-23 with no effect (78 placebo
    policies). Synthetic DiD's placebo p and synthetic control's rank p, with the other
    38 regions as donors, reject about 5%. Treating the region's gemeenten as separately
    treated units against all other gemeenten is printed beside it: one regional
    decision counted as many independent ones."""
    from evaluatie import synthetic_did
    from evaluatie.sources.examens import load_exam_rates
    from evaluatie.sources.rmc import load_rmc_regions
    from evaluatie.studies import gemeente as gm
    from placebo import EXAMS

    rates = load_exam_rates(EXAMS)
    regions = load_rmc_regions()[["gemeente_code", "rmc_code"]]
    merged = rates.merge(regions, on="gemeente_code", validate="many_to_one")
    sums = merged.groupby(["rmc_code", "jaar"], as_index=False)[
        ["examenkandidaten", "geslaagden"]
    ].sum()
    panel = pd.DataFrame(
        {
            "gemeente_code": sums["rmc_code"],
            "jaar": sums["jaar"],
            "y": 100 * sums["geslaagden"] / sums["examenkandidaten"],
            "size": sums.groupby("rmc_code")["examenkandidaten"].transform("mean"),
        }
    )
    codes = sorted(panel["gemeente_code"].unique())
    p: dict[str, list[float]] = {"sdid": [], "sc": [], "gemeenten apart": []}
    keys = {"outcome": "y", "unit": "gemeente_code", "time": "jaar"}
    for first_year in (2022, 2023):
        for code in codes:
            others = [c for c in codes if c != code]
            case = gm.design.case_from_panel(
                panel, focus=code, first_year=first_year, candidates=others,
                donors=len(others), outcome=gm.design.outcome_info("slaagpercentage"),
                source="examens",
            )  # fmt: skip
            cmp = gm.compare(case, replications=200, seed=first_year)
            p["sdid"].append(cmp.sdid.overall.p)
            p["sc"].append(cmp.sc.overall.p)
            members = set(merged.loc[merged["rmc_code"] == code, "gemeente_code"])
            naive = rates.assign(
                y=rates["slaagpercentage"],
                treated=(rates["gemeente_code"].isin(members) & (rates["jaar"] >= first_year)),
            ).astype({"treated": int})
            result = synthetic_did(
                naive, **keys, treatment="treated", replications=200, seed=first_year
            )
            p["gemeenten apart"].append(result.overall.p)
    rejected = {name: float(np.mean(np.array(v) <= 0.05)) for name, v in p.items()}
    print(f"schooluitval region design, {len(p['sdid'])} placebo policies: {rejected}")
    se = (0.05 * 0.95 / len(p["sdid"])) ** 0.5
    for name in ("sdid", "sc"):
        assert abs(rejected[name] - 0.05) <= 2.58 * se, (name, rejected[name])


def test_doorstroom_group_and_gap_designs_hold_their_size():
    """The doorstroom report's designs (:mod:`evaluatie.studies.doorstroom`) on the real
    exam file: every gemeente in turn 'treated' from 2022-23 with no effect, synthetic DiD
    against the 40 gemeenten nearest in candidates, on the pass rate of one group (VMBO,
    HAVO/VWO, boys) and on the gaps VMBO - HAVO/VWO and boys - girls. Each placebo
    p-value rejects about 5%."""
    from evaluatie import synthetic_did
    from evaluatie.studies import doorstroom as ds
    from evaluatie.studies import gemeente as gm
    from placebo import EXAMS

    data = ds.load(EXAMS)
    designs: dict[str, object] = {
        "VMBO": "VMBO",
        "HAVO/VWO": "HAVO/VWO",
        "MAN": "MAN",
        "gap VMBO - HAVO/VWO": ("VMBO", "HAVO/VWO"),
        "gap MAN - VROUW": ("MAN", "VROUW"),
    }
    rates = {}
    for name, design in designs.items():
        if isinstance(design, tuple):
            a, b = design
            table = ds.gap_rates(ds.group_rates(data, a), ds.group_rates(data, b))
        else:
            table = ds.group_rates(data, design)
        p = []
        for code in sorted(table["gemeente_code"].unique()):
            if isinstance(design, tuple):
                case = ds.gap_case(data, gemeente=code, first_year=2023, gap=design, donors=40)
            else:
                case = ds.group_case(data, gemeente=code, first_year=2023, group=design, donors=40)
            result = synthetic_did(case.panel, **gm.design.KEYS, replications=100, seed=5)
            p.append(result.overall.p)
        rates[name] = (float(np.mean(np.array(p) <= 0.05)), len(p))
    print(f"doorstroom designs, placebo rejection at 5%: {rates}")
    for name, (rejected, n) in rates.items():
        assert abs(rejected - 0.05) <= 2.58 * (0.05 * 0.95 / n) ** 0.5, (name, rejected)


@pytest.mark.parametrize("n_treated", [12, 40])
def test_difference_between_groups_holds_its_size(panel, n_treated):
    """The innovatiebudget report's test of the difference between schools with more and
    less achterstand (:func:`evaluatie.studies.innovatiebudget.gaps.difference`: school
    effects, year effects per group, WCR by gemeente) on the real exam panel: a placebo
    policy, the groups VMBO and HAVO/VWO programmes. A common year effect instead of one
    per group rejected 15.5% (12 treated) to 69% (84): the groups' own trends loaded onto
    the interaction."""
    from evaluatie.studies.innovatiebudget import gaps
    from placebo import _published

    cells = _published()
    label = cells["vestiging"] + "|" + cells["onderwijstype"] + "|" + cells["opleiding"]
    vmbo = pd.Series((cells["onderwijstype"] == "VMBO").to_numpy(), index=pd.factorize(label)[0])
    vmbo = vmbo[~vmbo.index.duplicated()]
    bands = pd.Series(np.where(vmbo, "meer", "minder"), index=vmbo.index)
    rng = np.random.default_rng(31_000 + n_treated)
    rejected = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(DRAWS):
            data = placebo(panel, n_treated, rng).rename(
                columns={
                    "unit": "vestiging",
                    "year": "jaar",
                    "d": "treated",
                    "gemeente": "gemeente_code",
                }
            )
            diff = gaps.difference(
                data, outcome="y", cluster="gemeente_code", bands=bands, draws=999, seed=i,
                min_treated=1,
            )  # fmt: skip
            rejected.append(diff.result.headline().p < 0.05)
    rate = float(np.mean(rejected))
    print(f"difference between groups, {n_treated} treated gemeenten: {rate:.3f}")
    # 12 (the report's default design): within the band of an exact test. 40: measured
    # 6.5% (other seeds) and 9.0% here, a little above 5%, which the report says; the
    # assertion guards that it stays near that.
    assert rate <= (BAND[1] if n_treated <= 12 else 0.10), rate


def test_difference_of_a_dose_slope_between_groups_holds_its_size(panel):
    """The VVE report's test of the difference between schools with more and less
    achterstand (:func:`evaluatie.twfe_difference` on a continuous exposure, CRV1 by
    gemeente): on the real exam panel every gemeente gets a placebo dose N(0, 1) from a
    common start year, the groups VMBO and HAVO/VWO programmes."""
    from evaluatie import twfe_difference
    from placebo import START_YEARS, _published

    cells = _published()
    label = cells["vestiging"] + "|" + cells["onderwijstype"] + "|" + cells["opleiding"]
    vmbo = pd.Series((cells["onderwijstype"] == "VMBO").to_numpy(), index=pd.factorize(label)[0])
    vmbo = vmbo[~vmbo.index.duplicated()]
    data = panel.assign(vmbo=panel["unit"].map(vmbo))
    gemeenten = np.unique(data["gemeente"])
    rng = np.random.default_rng(41_000)
    rejected = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(DRAWS):
            dose = pd.Series(rng.normal(size=len(gemeenten)), index=gemeenten)
            start = rng.choice(START_YEARS)
            exposure = data["gemeente"].map(dose) * (data["year"] >= start)
            result = twfe_difference(
                data.assign(exposure=exposure), outcome="y", treatment="exposure",
                unit="unit", time="year", group="vmbo", cluster="gemeente",
                inference="analytic",
            )  # fmt: skip
            rejected.append(result.headline().p < 0.05)
    rate = float(np.mean(rejected))
    print(f"difference of a dose slope between groups, CRV1 by gemeente: {rate:.3f}")
    assert BAND[0] <= rate <= BAND[1], rate
