"""Sentences of the VVE funding study, generated from its numbers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from evaluatie.core.results import RegressionResult, Result
from evaluatie.estimators.contdid import ContDidResult
from evaluatie.reporting.interpret import signed
from evaluatie.sources.exposure import exposure_timing
from evaluatie.sources.vve import VVE_OUTCOMES
from evaluatie.studies.vve.design import (
    SIDES,
    VveStudy,
    focus_estimates,
    known_curve,
    slope_per_policy_dose,
)

_Z95 = float(stats.norm.ppf(0.975))
#: First year of the new allocation at its full level (phase-in 2019-2022; docs/domain.md §1).
PHASED_IN = 2022


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


def dose_response_sentence(
    result: Result, *, side: str, comparison_band: float, outcome_label: str, unit_label: str
) -> str:
    """One side's overall ATT and ACRT (continuous DiD) in words."""
    t = result.table
    att, acrt = t.loc["ATT_o"], t.loc["ACRT_o"]
    n_t, n_c = result.meta["n_treated"], result.meta["n_comparison"]
    verb = SIDES[side]
    text = (
        f"Among the {n_t} gemeenten that {verb} more than EUR {comparison_band * 1000:,.0f} per target "
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


def twfe_sentence(twfe: RegressionResult, *, received: float, unit_label: str) -> str:
    """The TWFE slope on the measured cohorts' funding, also in policy-dose units.

    ``received`` is the mean share of the policy dose the measured cohorts received.
    """
    row = twfe.table.iloc[0]
    per_dose = slope_per_policy_dose(twfe, received)
    return (
        f"The TWFE regression on the measured cohorts' funding gives "
        f"{signed(row['estimate'], 3)} {unit_label} per EUR 1,000 of that funding (95% CI "
        f"{signed(row['ci_low'], 3)} to {signed(row['ci_high'], 3)}, CRV1 clustered by gemeente). "
        f"The cohorts measured after the change received {100 * received:.0f}% of the policy "
        f"dose on average, so per EUR 1,000 of policy dose that is "
        f"{signed(per_dose, 3)} -- one slope for gains and losses alike, "
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


def focus_gemeente(
    study: VveStudy, curves: Mapping[str, ContDidResult], code: str, name: str
) -> str:
    """A focus gemeente's own DiD and its side's predicted effect
    (:func:`evaluatie.studies.vve.design.focus_estimates`), in words."""
    if code not in set(study.gemeenten["gemeente_code"]):
        return f"**{name}** has no complete {study.outcome} series in the data."
    one, predicted = focus_estimates(study, curves, code)
    dose = float(study.doses.loc[code, "dose"])
    side = str(study.doses.loc[code, "group"])
    label, unit = VVE_OUTCOMES[study.outcome].label, VVE_OUTCOMES[study.outcome].unit
    return f"**{name}, {study.outcome}** (dose {dose:+.2f}, {side}): " + single_unit_sentence(
        one, name=name, outcome_label=label, unit_label=unit, predicted=predicted
    )


def truth_sentences(
    study: VveStudy, curves: Mapping[str, ContDidResult], raw_dir: str | Path
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


def interpretation(
    study: VveStudy,
    curves: Mapping[str, ContDidResult],
    fit: RegressionResult,
    *,
    received: float,
) -> str:
    """The interpretation paragraph of one outcome: each side's dose-response, the sides
    not estimated, and the TWFE slope in policy-dose units."""
    outcome = VVE_OUTCOMES[study.outcome]
    text = [
        dose_response_sentence(
            c,
            side=side,
            comparison_band=study.comparison_band,
            outcome_label=outcome.label,
            unit_label=outcome.unit,
        )
        for side, c in curves.items()
    ]
    text.append(missing_sides_sentence(study, curves))
    text.append(twfe_sentence(fit, received=received, unit_label=outcome.unit))
    return f"**{study.outcome}.** " + " ".join(t.strip() for t in text if t.strip())
