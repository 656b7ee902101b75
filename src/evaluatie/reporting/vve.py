"""Tables and generated sentences for the VVE funding study."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from evaluatie.data.vve import VVE_OUTCOMES
from evaluatie.design.exposure import exposure_timing, exposure_weights
from evaluatie.design.vve import SIDES, VveStudy, focus_estimates, known_curve
from evaluatie.reporting.interpret import signed
from evaluatie.results import Result

_Z95 = float(stats.norm.ppf(0.975))
#: First year of the new allocation at its full level (phase-in 2019-2022; domain.md).
PHASED_IN = 2022
#: Outcomes shown in the timing table besides the study's own (context for readers).
CONTEXT_OUTCOMES = ("eindtoets",)


def timing_table(
    outcomes: Iterable[str], last_years: Mapping[str, int], start: int = 2019
) -> pd.DataFrame:
    """When each outcome's measured cohorts carry a change that started in ``start``.

    ``last_years`` maps outcome -> last year with data. Columns: ``groep``, the VVE
    years of the cohort measured in that last year, the first measured years with any /
    most / all VVE months from ``start`` on, and the status reached by the data.
    """
    rows = []
    for outcome in outcomes:
        timing = exposure_timing(outcome, start)
        last = last_years[outcome]
        window = exposure_weights(outcome, last).index
        rows.append(
            {
                "outcome": outcome,
                "groep": timing.groep,
                "last data year (study)": last,
                "VVE years of that cohort": f"{window.min()}-{window.max()}",
                "first year, any exposure": timing.first_any,
                "first year, mostly exposed": timing.first_majority,
                "first year, fully exposed": timing.first_all,
                "status in the data": timing.status(last),
            }
        )
    return pd.DataFrame(rows).set_index("outcome")


def timing_sentences(table: pd.DataFrame, start: int = 2019) -> list[str]:
    """One sentence per row of :func:`timing_table`, saying what the data can show."""
    out = []
    for outcome, r in table.iterrows():
        last = int(r["last data year (study)"])
        any_, most = int(r["first year, any exposure"]), int(r["first year, mostly exposed"])
        head = (
            f"{outcome} (groep {r['groep']}): cohorts measured from {any_} on were partly of "
            f"VVE age after {start - 1}, mostly from {most}."
        )
        if r["status in the data"] == "none":
            tail = (
                f" The data end in {last}, so {outcome} cannot reflect the {start} change yet; "
                f"it can start to from {any_}."
            )
        else:
            n = last - any_ + 1
            whole = exposure_timing(str(outcome), PHASED_IN).first_all
            tail = (
                f" The data run to {last}: {n} measured year{'s' if n > 1 else ''} can reflect "
                f"the change, but during the phase-in those cohorts received only part of it; "
                f"only cohorts measured from {whole} on were of VVE age wholly under the new "
                f"allocation ({PHASED_IN} on)."
            )
        out.append(head + tail)
    return out


def exposure_table(
    schools: pd.DataFrame, codes: Iterable[str], names: Mapping[str, str]
) -> pd.DataFrame:
    """Funding per target child received by the measured cohorts (EUR), gemeente x year."""
    codes = list(codes)
    s = schools[schools["gemeente_code"].isin(codes)].drop_duplicates(["gemeente_code", "jaar"])
    wide = s.pivot(index="gemeente_code", columns="jaar", values="exposure") * 1000.0
    wide.index = [f"{names.get(c, c)} ({c})" for c in wide.index]
    return wide.round(-1)


def dose_response_sentence(
    result: Result, *, side: str, band: float, outcome_label: str, unit_label: str
) -> str:
    """One side's overall ATT and ACRT (continuous DiD) in words."""
    t = result.table
    att, acrt = t.loc["ATT_o"], t.loc["ACRT_o"]
    n_t, n_c = result.meta["n_treated"], result.meta["n_comparison"]
    verb = SIDES[side]
    text = (
        f"Among the {n_t} gemeenten that {verb} more than EUR {band * 1000:,.0f} per target "
        f"child, {outcome_label} moved by {signed(att['estimate'])} {unit_label} on average "
        f"relative to the {n_c} comparison gemeenten (95% CI {signed(att['ci_low'])} to "
        f"{signed(att['ci_high'])}). The average slope of their dose-response is "
        f"{signed(acrt['estimate'], 3)} {unit_label} per EUR 1,000 more funding per target "
        f"child (95% CI {signed(acrt['ci_low'], 3)} to {signed(acrt['ci_high'], 3)})."
    )
    if att["ci_low"] <= 0 <= att["ci_high"]:
        text += (
            f" The interval of the average effect includes zero: on this side the data cannot "
            f"tell the change in funding from no effect; effects anywhere between "
            f"{signed(att['ci_low'])} and {signed(att['ci_high'])} {unit_label} fit the data."
        )
    return text


def twfe_sentence(twfe: Result, *, received: float, unit_label: str) -> str:
    """The TWFE slope on the measured cohorts' funding, also in policy-dose units.

    ``received`` is the mean share of the policy dose the measured cohorts received.
    """
    row = twfe.table.iloc[0]
    return (
        f"The TWFE regression on the measured cohorts' funding gives "
        f"{signed(row['estimate'], 3)} {unit_label} per EUR 1,000 of that funding (95% CI "
        f"{signed(row['ci_low'], 3)} to {signed(row['ci_high'], 3)}, CRV1 clustered by gemeente). "
        f"The cohorts measured after the change received {100 * received:.0f}% of the policy "
        f"dose on average, so per EUR 1,000 of policy dose that is "
        f"{signed(received * row['estimate'], 3)} -- one slope for gains and losses alike, "
        "assuming a linear response that is the same in every gemeente."
    )


def single_unit_sentence(result: Result, *, name: str, outcome_label: str, unit_label: str,
                         predicted: tuple[float, float] | None = None) -> str:  # fmt: skip
    """A focus gemeente's own DiD and, if given, the effect the dose-response predicts."""
    row = result.table.iloc[0]
    meta = result.meta
    text = (
        f"In {name}, {outcome_label} changed by {signed(meta['treated_change'])} {unit_label} "
        f"from the pre to the post years, against {signed(meta['comparison_change'])} in the "
        f"{meta['n_comparison']} comparison gemeenten: a difference of "
        f"{signed(row['estimate'])} {unit_label} (placebo interval {signed(row['ci_low'])} to "
        f"{signed(row['ci_high'])}, p = {row['p']:.2f})."
    )
    if row["ci_low"] <= 0 <= row["ci_high"]:
        text += (
            f" For one gemeente this interval is wide: the data cannot tell {name}'s change "
            "from the year-to-year noise of a gemeente of its size."
        )
    if meta.get("few_placebos"):
        text += " There are too few comparison gemeenten for a reliable 95% placebo interval."
    if predicted is not None:
        est, se = predicted
        text += (
            f" The dose-response estimated on all gemeenten of its side predicts {signed(est)} {unit_label} "
            f"at {name}'s dose (95% CI {signed(est - _Z95 * se)} to {signed(est + _Z95 * se)})."
        )
    return text


def redistribution_sentence(doses: pd.DataFrame) -> str:
    """Gainers, losers and the comparison group of :func:`policy_dose`, from the data."""
    change = doses["budget_after"] - doses["budget_before"]
    gain, loss = change[change > 0], change[change < 0]
    groups = doses["group"].value_counts() if "group" in doses else pd.Series(dtype=int)
    text = (
        f"{len(gain)} gemeenten gained EUR {gain.sum() / 1e6:,.1f}m in total, "
        f"{len(loss)} lost EUR {-loss.sum() / 1e6:,.1f}m; the smallest budget after the "
        f"change is EUR {doses['budget_after'].min() / 1e3:,.0f}k. Funding per target child "
        f"changed by between EUR {doses['dose'].min() * 1e3:,.0f} and "
        f"EUR {doses['dose'].max() * 1e3:,.0f} per year."
    )
    if len(groups):
        comp = doses.loc[doses["group"] == "comparison", "dose"] * 1000
        text += (
            f" Comparison group: {groups.get('comparison', 0)} gemeenten"
            + (
                f" (changes of EUR {comp.min():,.0f} to {comp.max():,.0f} per child)"
                if len(comp)
                else ""
            )
            + f"; {groups.get('gain', 0)} gained and {groups.get('loss', 0)} lost more than that."
        )
    return text


def dropped_sentence(study: VveStudy) -> str:
    """What the study left out (sparse years, incomplete series, no budget), or ``""``."""

    def listed(codes: list[str]) -> str:
        return ", ".join(codes[:8]) + (", ..." if len(codes) > 8 else "")

    years = study.dropped.get("years", [])
    gems = study.dropped.get("gemeenten", [])
    no_budget = study.dropped.get("no_budget", [])
    parts = []
    if years:
        parts.append(
            f"year(s) {', '.join(map(str, years))} (outcomes for under half the gemeenten)"
        )
    if gems:
        parts.append(f"{len(gems)} gemeente(n) without a complete series ({listed(gems)})")
    if no_budget:
        parts.append(
            f"{len(no_budget)} gemeente(n) with outcomes but no budget in both policy years "
            f"({listed(no_budget)})"
        )
    if not parts:
        return ""
    return f"{study.outcome}: left out of the analysis: " + "; ".join(parts) + "."


def missing_sides_sentence(
    study: VveStudy, curves: Mapping[str, Result], min_treated: int = 10
) -> str:
    """Which side of the redistribution has too few gemeenten for a dose-response."""
    missing = [SIDES[s] for s in SIDES if s not in curves]
    if not missing:
        return ""
    return (
        f" Fewer than {min_treated} gemeenten {' or '.join(missing)} more than the comparison "
        "band: no dose-response is estimated for them."
    )


def dose_table(doses: pd.DataFrame, codes: Iterable[str], names: Mapping[str, str]) -> pd.DataFrame:
    """Budget and funding per target child before and after for the named gemeenten."""
    rows = doses.reindex([c for c in codes if c in doses.index])
    out = pd.DataFrame(
        {
            "gemeente": [names.get(c, c) for c in rows.index],
            "budget 2018 (EUR m)": rows["budget_before"] / 1e6,
            "budget 2022 (EUR m)": rows["budget_after"] / 1e6,
            "change (%)": rows["budget_change_pct"],
            "per child before (EUR)": rows["per_child_before"],
            "per child after (EUR)": rows["per_child_after"],
            "dose (EUR 1,000)": rows["dose"],
            "group": rows.get("group"),
        },
        index=rows.index,
    )
    return out.round(
        {"budget 2018 (EUR m)": 3, "budget 2022 (EUR m)": 3, "change (%)": 1,
         "per child before (EUR)": 0, "per child after (EUR)": 0, "dose (EUR 1,000)": 2}
    )  # fmt: skip


def share_table(shares: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Received share of the policy dose by measured year (rows: outcomes)."""
    table = pd.DataFrame({o: s for o, s in shares.items()}).T.round(2)
    return table.rename_axis(index="share of the policy dose received")


def stack_tables(tables: Mapping[object, pd.DataFrame]) -> pd.DataFrame:
    """Tables one below the other, keyed by outcome (or by (outcome, side) pairs)."""
    first = next(iter(tables))
    names = ["outcome", "side"] if isinstance(first, tuple) else ["outcome"]
    return pd.concat(dict(tables), names=names)


def focus_gemeente(study: VveStudy, curves: Mapping[str, Result], code: str, name: str) -> str:
    """A focus gemeente's own DiD and its side's predicted effect
    (:func:`evaluatie.design.vve.focus_estimates`), in words."""
    if code not in set(study.gemeenten["gemeente_code"]):
        return f"**{name}** has no complete {study.outcome} series in the data."
    one, predicted = focus_estimates(study, dict(curves), code)
    dose = float(study.doses.loc[code, "dose"])
    side = str(study.doses.loc[code, "group"])
    label, unit, _ = VVE_OUTCOMES[study.outcome]
    return f"**{name}, {study.outcome}** (dose {dose:+.2f}, {side}): " + single_unit_sentence(
        one, name=name, outcome_label=label, unit_label=unit, predicted=predicted
    )


def truth_sentences(
    study: VveStudy, curves: Mapping[str, Result], raw_dir: str | Path
) -> list[str]:
    """Simulated data only: per side, the true ATT^o the estimator targets (the truth at
    each treated gemeente's dose relative to the comparison group, pupil-weighted as the
    estimator weights) beside the estimate; no sentences for a user's real data."""
    out = []
    for side, res in curves.items():
        units = study.units.query("group == @side")
        truth = known_curve(study, raw_dir, units["dose"].to_numpy())
        if truth is None:
            continue
        true_att = float(np.average(truth.to_numpy(), weights=units["pupils"].to_numpy()))
        row = res.table.loc["ATT_o"]
        inside = row["ci_low"] <= true_att <= row["ci_high"]
        out.append(
            f"**{study.outcome}, {side}.** *Simulated data:* the true average effect over these "
            f"gemeenten, relative to the comparison group, is {signed(true_att, 3)}; the "
            f"estimate is {signed(row['estimate'], 3)} "
            f"({'inside' if inside else 'outside'} its 95% CI)."
        )
    return out
