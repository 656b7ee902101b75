"""Sentences of the VVE funding study, generated from its numbers, in Dutch and English."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from evaluatie.core.language import Catalogue, number, p_statement, percent
from evaluatie.core.results import RegressionResult, Result
from evaluatie.estimators.contdid import ContDidResult
from evaluatie.reporting.display import show_markdown
from evaluatie.reporting.interpret import signed
from evaluatie.reporting.summary import (
    Finding,
    inference_words,
    rpe_sections,
    summary_sentences,
)
from evaluatie.sources.exposure import exposure_timing
from evaluatie.sources.vve import VVE_OUTCOMES
from evaluatie.studies.vve.design import (
    SIDES,
    VveStudy,
    focus_estimates,
    has_series,
    known_curve,
    slope_per_policy_dose,
)

_Z95 = float(special.ndtri(0.975))
#: First year of the new allocation at its full level (phase-in 2019-2022; docs/domain.md §1).
PHASED_IN = 2022

TEXT = Catalogue(
    {
        "timing.head": {
            "nl": "{outcome} (groep {groep}): de cohorten gemeten vanaf {any} waren deels "
            "na {before} in de VVE-leeftijd, grotendeels vanaf {most}.",
            "en": "{outcome} (groep {groep}): cohorts measured from {any} on were partly of "
            "VVE age after {before}, mostly from {most}.",
        },
        "timing.none": {
            "nl": " De gegevens lopen tot {last}, dus {outcome} kan de verandering van "
            "{start} nog niet laten zien; dat kan vanaf {any}.",
            "en": " The data end in {last}, so {outcome} cannot reflect the {start} change "
            "yet; it can start to from {any}.",
        },
        "timing.some": {
            "nl": " De gegevens lopen tot {last}: {n} gemeten {years} kunnen de verandering "
            "laten zien, maar tijdens de invoering kregen die cohorten er maar een deel "
            "van; pas de cohorten gemeten vanaf {whole} zaten hun hele VVE-leeftijd onder "
            "de volledig ingevoerde verdeling (vanaf {phased}; de tabel telt vanaf de "
            "start van de invoering in 2019).",
            "en": " The data run to {last}: {n} measured {years} can reflect the change, "
            "but during the phase-in those cohorts received only part of it; only cohorts "
            "measured from {whole} on were of VVE age wholly under the fully phased-in "
            "allocation ({phased} on; the table counts from the start of the phase-in in "
            "2019).",
        },
        "year": {"nl": "jaar", "en": "year"},
        "years": {"nl": "jaren", "en": "years"},
        "side.gain": {"nl": "erop vooruitgingen", "en": "gained"},
        "side.loss": {"nl": "erop achteruitgingen", "en": "lost"},
        "side.gain.short": {"nl": "winst", "en": "gain"},
        "side.loss.short": {"nl": "verlies", "en": "loss"},
        "side.comparison.short": {"nl": "vergelijking", "en": "comparison"},
        "dose_response": {
            "nl": "Bij de {n_t} gemeenten die meer dan € {band} per doelgroepkind "
            "{verb}, veranderde {outcome} gemiddeld met {att} {unit} ten opzichte van de "
            "{n_c} vergelijkingsgemeenten (95%-BI {att_low} tot {att_high}). De gemiddelde "
            "helling van hun dosis-responscurve is {acrt} {unit} per € 1.000 meer "
            "financiering per doelgroepkind (95%-BI {acrt_low} tot {acrt_high}).",
            "en": "Among the {n_t} gemeenten that {verb} more than EUR {band} per target "
            "child, {outcome} moved by {att} {unit} on average relative to the {n_c} "
            "comparison gemeenten (95% CI {att_low} to {att_high}). The average slope of "
            "their dose-response is {acrt} {unit} per EUR 1,000 more funding per target "
            "child (95% CI {acrt_low} to {acrt_high}).",
        },
        "dose_response.zero": {
            "nl": " Het interval van het gemiddelde effect bevat nul: aan deze kant kunnen "
            "de gegevens de verandering in financiering niet onderscheiden van geen effect; "
            "effecten tussen {low} en {high} {unit} passen bij de gegevens.",
            "en": " The interval of the average effect includes zero: on this side the data "
            "cannot tell the change in funding from no effect; effects anywhere between "
            "{low} and {high} {unit} fit the data.",
        },
        "twfe": {
            "nl": "De regressie met vaste effecten op de financiering van de gemeten "
            "cohorten geeft {estimate} {unit} per € 1.000 van die financiering (95%-BI "
            "{low} tot {high}, CRV1 geclusterd per gemeente). De cohorten gemeten na de "
            "verandering kregen gemiddeld {received} van de beleidsdosis, dus per € 1.000 "
            "beleidsdosis is dat {per_dose}: één helling voor winst en verlies samen, in de "
            "veronderstelling dat het effect lineair is en in elke gemeente gelijk.",
            "en": "The TWFE regression on the measured cohorts' funding gives {estimate} "
            "{unit} per EUR 1,000 of that funding (95% CI {low} to {high}, CRV1 clustered by "
            "gemeente). The cohorts measured after the change received {received} of the "
            "policy dose on average, so per EUR 1,000 of policy dose that is {per_dose}: "
            "one slope for gains and losses alike, assuming a linear response that is the "
            "same in every gemeente.",
        },
        "single": {
            "nl": "In {name} veranderde {outcome} met {treated} {unit} van de jaren "
            "vóór naar de jaren na de verandering, tegen {comparison} in de {n_c} "
            "vergelijkingsgemeenten: een verschil van {estimate} {unit} (placebo-interval "
            "{low} tot {high}, {p}).",
            "en": "In {name}, {outcome} changed by {treated} {unit} from the pre to the post "
            "years, against {comparison} in the {n_c} comparison gemeenten: a difference of "
            "{estimate} {unit} (placebo interval {low} to {high}, {p}).",
        },
        "single.wide": {
            "nl": " Voor één gemeente is dit interval breed: de gegevens kunnen de "
            "verandering in {name} niet onderscheiden van de jaarlijkse ruis van een "
            "gemeente van deze omvang.",
            "en": " For one gemeente this interval is wide: the data cannot tell {name}'s "
            "change from the year-to-year noise of a gemeente of its size.",
        },
        "single.few": {
            "nl": " Er zijn te weinig vergelijkingsgemeenten voor een betrouwbaar "
            "95%-placebo-interval.",
            "en": " There are too few comparison gemeenten for a reliable 95% placebo interval.",
        },
        "single.predicted": {
            "nl": " De dosis-responscurve, geschat op alle gemeenten aan dezelfde kant, "
            "voorspelt {estimate} {unit} bij de dosis van {name} (95%-BI {low} tot {high}).",
            "en": " The dose-response estimated on all gemeenten of its side predicts "
            "{estimate} {unit} at {name}'s dose (95% CI {low} to {high}).",
        },
        "single.agree": {
            "nl": " De eigen schatting en de voorspelling passen binnen hun onzekerheid bij "
            "elkaar.",
            "en": " The own estimate and the prediction agree within their uncertainty.",
        },
        "single.differ": {
            "nl": " De eigen schatting en de voorspelling verschillen meer dan hun "
            "onzekerheid toelaat: {name} reageerde anders dan gemeenten met een "
            "vergelijkbare dosis gemiddeld deden, of de aanname van één curve voor "
            "iedereen klopt hier niet.",
            "en": " The own estimate and the prediction differ by more than their "
            "uncertainty allows: {name} responded differently from the average gemeente "
            "with a similar dose, or one curve for all does not hold here.",
        },
        "redistribution": {
            "nl": "{n_gain} gemeenten kregen samen € {gain} mln. meer, {n_loss} kregen € "
            "{loss} mln. minder; het kleinste budget na de verandering is € {smallest} "
            "duizend. De financiering per doelgroepkind veranderde met € {dose_min} tot "
            "€ {dose_max} per jaar.",
            "en": "{n_gain} gemeenten gained EUR {gain}m in total, {n_loss} lost EUR "
            "{loss}m; the smallest budget after the change is EUR {smallest}k. Funding per "
            "target child changed by between EUR {dose_min} and EUR {dose_max} per year.",
        },
        "redistribution.groups": {
            "nl": " Vergelijkingsgroep: {n_comp} gemeenten{range}; {n_gain} gingen er meer "
            "op vooruit en {n_loss} meer op achteruit.",
            "en": " Comparison group: {n_comp} gemeenten{range}; {n_gain} gained and "
            "{n_loss} lost more than that.",
        },
        "redistribution.range": {
            "nl": " (veranderingen van € {low} tot € {high} per kind)",
            "en": " (changes of EUR {low} to {high} per child)",
        },
        "dropped": {
            "nl": "{outcome}: niet in de analyse: {parts}.",
            "en": "{outcome}: left out of the analysis: {parts}.",
        },
        "dropped.years": {
            "nl": "jaar/jaren {years} (uitkomsten voor minder dan de helft van de gemeenten)",
            "en": "year(s) {years} (outcomes for under half the gemeenten)",
        },
        "dropped.gemeenten": {
            "nl": "{n} gemeente(n) zonder volledige reeks ({codes})",
            "en": "{n} gemeente(n) without a complete series ({codes})",
        },
        "dropped.no_budget": {
            "nl": "{n} gemeente(n) met uitkomsten maar zonder budget in beide beleidsjaren "
            "({codes})",
            "en": "{n} gemeente(n) with outcomes but no budget in both policy years ({codes})",
        },
        "missing_sides": {
            "nl": " Minder dan {n} gemeenten {sides} meer dan de vergelijkingsband: voor "
            "hen is geen dosis-responscurve geschat.",
            "en": " Fewer than {n} gemeenten {sides} more than the comparison band: no "
            "dose-response is estimated for them.",
        },
        "or": {"nl": " of ", "en": " or "},
        "focus.none": {
            "nl": "**{name}** heeft geen volledige reeks voor {outcome} in de gegevens.",
            "en": "**{name}** has no complete {outcome} series in the data.",
        },
        "cost.loss": {
            "nl": " **Wat kost compenseren?** Het budget van {name} daalde met € {amount} per "
            "jaar. Volgens de curve hoort bij die daling {estimate} {unit}; het verlies "
            "aanvullen (€ {amount} per jaar) zou dus naar verwachting {back} {unit} "
            "opleveren (95%-BI {low} tot {high}).",
            "en": " **What would compensation cost?** {name}'s budget fell by EUR {amount} a "
            "year. The curve puts {estimate} {unit} on that fall; making up the loss (EUR "
            "{amount} a year) would therefore be expected to bring {back} {unit} (95% CI "
            "{low} to {high}).",
        },
        "cost.gain": {
            "nl": " **Wat leverde het geld op?** Het budget van {name} steeg met € {amount} per "
            "jaar; volgens de curve leverde dat {estimate} {unit} op (95%-BI {low} tot "
            "{high}): {per} {unit} per € 100.000 per jaar ({per_low} tot {per_high}).",
            "en": " **What did the money buy?** {name}'s budget rose by EUR {amount} a year; "
            "the curve puts {estimate} {unit} on that (95% CI {low} to {high}): {per} {unit} "
            "per EUR 100,000 a year ({per_low} to {per_high}).",
        },
        "focus.head": {
            "nl": "**{name}, {outcome}** (dosis {dose}, {side}): ",
            "en": "**{name}, {outcome}** (dose {dose}, {side}): ",
        },
        "truth": {
            "nl": "**{outcome}, {side}.** *Gesimuleerde gegevens:* het ware gemiddelde "
            "effect over deze gemeenten, ten opzichte van de vergelijkingsgroep, is {truth}; "
            "de schatting is {estimate} ({inside} het 95%-BI).",
            "en": "**{outcome}, {side}.** *Simulated data:* the true average effect over "
            "these gemeenten, relative to the comparison group, is {truth}; the estimate "
            "is {estimate} ({inside} its 95% CI).",
        },
        "summary.focus": {"nl": "In {name}", "en": "In {name}"},
        "summary.gain": {
            "nl": "Bij de gemeenten die er meer dan de vergelijkingsband op vooruitgingen",
            "en": "Where funding rose by more than the comparison band",
        },
        "summary.loss": {
            "nl": "Bij de gemeenten die er meer dan de vergelijkingsband op achteruitgingen",
            "en": "Where funding fell by more than the comparison band",
        },
        "rpe.policy": {
            "nl": "Sinds 2019 verdeelt het Rijk het onderwijsachterstandenbudget (OAB), "
            "waaruit gemeenten VVE betalen, met een nieuwe indicator (ingevoerd tot en met "
            "2022). Het doel van VVE: kleinere achterstanden bij de start van de "
            "basisschool. Deze rapportage toetst of meer (of minder) geld per "
            "doelgroepkind {outcome} veranderde.",
            "en": "Since 2019 the national onderwijsachterstandenbudget (OAB), from which "
            "gemeenten pay for VVE, is divided with a new indicator (phased in until "
            "2022). The goal of VVE: smaller disadvantages at the start of primary school. "
            "This report tests whether more (or less) money per target child changed "
            "{outcome}.",
        },
        "rpe.design": {
            "nl": "Verschil-in-verschillen met een dosis: de verandering in de uitkomst "
            "van gemeenten waarvan de financiering per doelgroepkind veranderde, "
            "vergeleken met die van gemeenten waarvan zij nauwelijks veranderde, gemeten "
            "bij de cohorten die na de verandering de VVE-leeftijd hadden. Aanname: zonder "
            "herverdeling hadden gemeenten met verschillende doses zich gelijk ontwikkeld.",
            "en": "Difference-in-differences with a dose: the change in the outcome of "
            "gemeenten whose funding per target child changed, compared with that of "
            "gemeenten where it hardly changed, measured on the cohorts of VVE age after "
            "the change. Assumption: without the redistribution, gemeenten with different "
            "doses would have developed alike.",
        },
        "rpe.robustness": {
            "nl": "Drie schatters (vaste effecten met de dosis, een event study in de dosis "
            "en de continue verschil-in-verschillen per kant) en drie soorten inferentie "
            "staan hieronder naast elkaar. {twfe} {pretrend}",
            "en": "Three estimators (fixed effects with the dose, an event study in the "
            "dose and the continuous difference-in-differences per side) and three kinds "
            "of inference stand side by side below. {twfe} {pretrend}",
        },
        "limit.hours": {
            "nl": "Vanaf augustus 2020 moesten gemeenten doelgroepkinderen 16 uur VVE per "
            "week aanbieden (was 10): een landelijke verandering in dezelfde jaren, die "
            "gemeenten met weinig geld per kind harder raakte.",
            "en": "From August 2020 gemeenten had to offer target children 16 hours of VVE "
            "a week (was 10): a national change in the same years that weighed more on "
            "gemeenten with little money per child.",
        },
        "limit.npo": {
            "nl": "Scholen kregen in 2021–2023 geld uit het Nationaal Programma Onderwijs, "
            "ook voor kleuters.",
            "en": "Schools received Nationaal Programma Onderwijs funds in 2021–2023, also "
            "for kleuters.",
        },
        "limit.dose": {
            "nl": "De dosis is het budget per doelgroepkind, niet het bereik of de kwaliteit "
            "van de VVE: hoe een gemeente het geld besteedde, staat niet in open gegevens.",
            "en": "The dose is the budget per target child, not the reach or quality of "
            "VVE: how a gemeente spent the money is not in open data.",
        },
        "limit.phase": {
            "nl": "De gemeten cohorten kregen tijdens de invoering maar een deel van de "
            "verandering; de volle werking is pas jaren later te meten.",
            "en": "During the phase-in the measured cohorts received only part of the "
            "change; its full effect can be measured only years later.",
        },
        "limit.one": {
            "nl": "Over één gemeente zegt een placebo-interval weinig als de jaarlijkse "
            "schommelingen groot zijn; de dosis-responscurve over alle gemeenten is een "
            "tweede, indirecte schatting.",
            "en": "For one gemeente a placebo interval says little when the year-to-year "
            "swings are large; the dose-response over all gemeenten is a second, indirect "
            "estimate.",
        },
        "thanks_to": {
            "nl": "de verandering in financiering",
            "en": "the change in funding",
        },
        "inside": {"nl": "binnen", "en": "inside"},
        "outside": {"nl": "buiten", "en": "outside"},
    }
)


def side_name(side: str) -> str:
    """ "winst", "verlies" or "vergelijking" (in English "gain", "loss", "comparison")."""
    key = f"side.{side}.short"
    return TEXT(key) if key in TEXT else side


def timing_sentences(table: pd.DataFrame, start: int = 2019) -> list[str]:
    """One sentence per row of :func:`timing_table`, saying what the data can show."""
    out = []
    for outcome, r in table.iterrows():
        last = int(r["last data year (study)"])
        any_, most = int(r["first year, any exposure"]), int(r["first year, mostly exposed"])
        head = TEXT(
            "timing.head", outcome=outcome, groep=r["groep"], any=any_, before=start - 1, most=most
        )
        if r["status in the data"] == "none":
            tail = TEXT("timing.none", last=last, outcome=outcome, start=start, any=any_)
        else:
            n = last - any_ + 1
            tail = TEXT(
                "timing.some",
                last=last,
                n=n,
                years=TEXT("years" if n > 1 else "year"),
                whole=exposure_timing(str(outcome), PHASED_IN).first_all,
                phased=PHASED_IN,
            )
        out.append(head + tail)
    return out


def dose_response_sentence(
    result: Result, *, side: str, comparison_band: float, outcome_label: str, unit_label: str
) -> str:
    """One side's overall ATT and ACRT (continuous DiD) in words."""
    t = result.table
    att, acrt = t.loc["ATT_o"], t.loc["ACRT_o"]
    text = TEXT(
        "dose_response",
        n_t=result.meta["n_treated"],
        n_c=result.meta["n_comparison"],
        band=number(comparison_band * 1000, 0),
        verb=TEXT(f"side.{side}"),
        outcome=outcome_label,
        unit=unit_label,
        att=signed(att["estimate"]),
        att_low=signed(att["ci_low"]),
        att_high=signed(att["ci_high"]),
        acrt=signed(acrt["estimate"], 3),
        acrt_low=signed(acrt["ci_low"], 3),
        acrt_high=signed(acrt["ci_high"], 3),
    )
    if att["ci_low"] <= 0 <= att["ci_high"]:
        text += TEXT(
            "dose_response.zero",
            low=signed(att["ci_low"]),
            high=signed(att["ci_high"]),
            unit=unit_label,
        )
    return text


def twfe_sentence(twfe: RegressionResult, *, received: float, unit_label: str) -> str:
    """The TWFE slope on the measured cohorts' funding, also in policy-dose units.

    ``received`` is the mean share of the policy dose the measured cohorts received.
    """
    row = twfe.table.iloc[0]
    return TEXT(
        "twfe",
        estimate=signed(row["estimate"], 3),
        unit=unit_label,
        low=signed(row["ci_low"], 3),
        high=signed(row["ci_high"], 3),
        received=percent(received),
        per_dose=signed(slope_per_policy_dose(twfe, received), 3),
    )


def single_unit_sentence(result: Result, *, name: str, outcome_label: str, unit_label: str,
                         predicted: tuple[float, float] | None = None) -> str:  # fmt: skip
    """A focus gemeente's own DiD and, if given, the effect the dose-response predicts."""
    row = result.table.iloc[0]
    meta = result.meta
    text = TEXT(
        "single",
        name=name,
        outcome=outcome_label,
        unit=unit_label,
        treated=signed(meta["treated_change"]),
        comparison=signed(meta["comparison_change"]),
        n_c=meta["n_comparison"],
        estimate=signed(row["estimate"]),
        low=signed(row["ci_low"]),
        high=signed(row["ci_high"]),
        p=p_statement(row["p"]),
    )
    if row["ci_low"] <= 0 <= row["ci_high"]:
        text += TEXT("single.wide", name=name)
    if meta.get("few_placebos"):
        text += TEXT("single.few")
    if predicted is not None:
        est, se = predicted
        low, high = est - _Z95 * se, est + _Z95 * se
        text += TEXT(
            "single.predicted",
            estimate=signed(est),
            unit=unit_label,
            name=name,
            low=signed(low),
            high=signed(high),
        )
        # the two intervals overlapping is the reader's question: do they contradict?
        if max(low, row["ci_low"]) <= min(high, row["ci_high"]):
            text += TEXT("single.agree")
        else:
            text += TEXT("single.differ", name=name)
    return text


def redistribution_sentence(doses: pd.DataFrame) -> str:
    """Gainers, losers and the comparison group of :func:`policy_dose`, from the data."""
    change = doses["budget_after"] - doses["budget_before"]
    gain, loss = change[change > 0], change[change < 0]
    groups = doses["group"].value_counts() if "group" in doses else pd.Series(dtype=int)
    text = TEXT(
        "redistribution",
        n_gain=len(gain),
        gain=number(gain.sum() / 1e6, 1),
        n_loss=len(loss),
        loss=number(-loss.sum() / 1e6, 1),
        smallest=number(doses["budget_after"].min() / 1e3, 0),
        dose_min=number(doses["dose"].min() * 1e3, 0),
        dose_max=number(doses["dose"].max() * 1e3, 0),
    )
    if len(groups):
        comp = doses.loc[doses["group"] == "comparison", "dose"] * 1000
        shown = (
            TEXT("redistribution.range", low=number(comp.min(), 0), high=number(comp.max(), 0))
            if len(comp)
            else ""
        )
        text += TEXT(
            "redistribution.groups",
            n_comp=groups.get("comparison", 0),
            range=shown,
            n_gain=groups.get("gain", 0),
            n_loss=groups.get("loss", 0),
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
        parts.append(TEXT("dropped.years", years=", ".join(map(str, years))))
    if gems:
        parts.append(TEXT("dropped.gemeenten", n=len(gems), codes=listed(gems)))
    if no_budget:
        parts.append(TEXT("dropped.no_budget", n=len(no_budget), codes=listed(no_budget)))
    if not parts:
        return ""
    return TEXT("dropped", outcome=study.outcome, parts="; ".join(parts))


def missing_sides_sentence(
    study: VveStudy, curves: Mapping[str, Result], min_treated: int = 10
) -> str:
    """Which side of the redistribution has too few gemeenten for a dose-response."""
    missing = [TEXT(f"side.{s}") for s in SIDES if s not in curves]
    if not missing:
        return ""
    return TEXT("missing_sides", n=min_treated, sides=TEXT("or").join(missing))


def focus_gemeente(
    study: VveStudy, curves: Mapping[str, ContDidResult], code: str, name: str
) -> str:
    """A focus gemeente's own DiD and its side's predicted effect
    (:func:`evaluatie.studies.vve.design.focus_estimates`), in words."""
    outcome = VVE_OUTCOMES[study.outcome]
    if not has_series(study, code):
        return TEXT("focus.none", name=name, outcome=outcome.label)
    one, predicted = focus_estimates(study, curves, code)
    dose = float(study.doses.loc[code, "dose"])
    side = side_name(str(study.doses.loc[code, "group"]))
    head = TEXT("focus.head", name=name, outcome=outcome.label, dose=signed(dose), side=side)
    return (
        head
        + single_unit_sentence(
            one,
            name=name,
            outcome_label=outcome.subject,
            unit_label=outcome.unit,
            predicted=predicted,
        )
        + cost_sentence(study, code, name, predicted)
    )


def cost_sentence(
    study: VveStudy, code: str, name: str, predicted: tuple[float, float] | None
) -> str:
    """What the change in euros bought, by the dose-response at the gemeente's dose: for a
    gain the predicted effect and the same per EUR 100,000 a year; for a loss what making
    it up would be expected to bring back (the curve's effect with the sign turned: back
    to dose 0 along the same curve). Empty without a curve for the gemeente's side."""
    if predicted is None:
        return ""
    outcome = VVE_OUTCOMES[study.outcome]
    row = study.doses.loc[code]
    amount = float(row["budget_after"] - row["budget_before"])
    estimate, se = predicted
    low, high = estimate - _Z95 * se, estimate + _Z95 * se
    common = {"name": name, "unit": outcome.unit, "amount": number(abs(amount), 0)}
    if amount < 0:
        return TEXT(
            "cost.loss", **common, estimate=signed(estimate), back=signed(-estimate),
            low=signed(-high), high=signed(-low),
        )  # fmt: skip
    return TEXT(
        "cost.gain", **common, estimate=signed(estimate), low=signed(low), high=signed(high),
        per=signed(estimate * 100_000 / amount, 3), per_low=signed(low * 100_000 / amount, 3),
        per_high=signed(high * 100_000 / amount, 3),
    )  # fmt: skip


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
            TEXT(
                "truth",
                outcome=VVE_OUTCOMES[study.outcome].label,
                side=side_name(side),
                truth=signed(true_att, 3),
                estimate=signed(row["estimate"], 3),
                inside=TEXT("inside" if inside else "outside"),
            )
        )
    return out


def summary(
    study: VveStudy,
    curves: Mapping[str, ContDidResult],
    *,
    focus: tuple[str, str] | None = None,
) -> list[str]:
    """The bestuurlijke samenvatting of :func:`summary_finding`, in sentences."""
    return summary_sentences(summary_finding(study, curves, focus=focus))


def summary_finding(
    study: VveStudy,
    curves: Mapping[str, ContDidResult],
    *,
    focus: tuple[str, str] | None = None,
) -> Finding:
    """What the summary of one outcome says: the focus gemeente's own difference from
    the comparison group (``focus``: code and name) when the run is about one gemeente,
    else the average effect on the first side with a dose-response. Its level is the
    mean of the outcome in the years before the change (the gemeente's own, or over the
    side's gemeente-years); its spread the SD across gemeenten of their mean then."""
    outcome = VVE_OUTCOMES[study.outcome]
    panel = study.gemeenten
    before = panel[panel["jaar"].isin(study.pre_years)]
    if focus is not None and has_series(study, focus[0]):
        code, name = focus
        one, _ = focus_estimates(study, curves, code)
        row = one.table.iloc[0]
        own = before.loc[before["gemeente_code"] == code, study.outcome]
        who, baseline = TEXT("summary.focus", name=name), float(own.mean())
        estimate, low, high, p = row["estimate"], row["ci_low"], row["ci_high"], row["p"]
        procedure = getattr(one.inference, "procedure", None)
    else:
        side, result = next(iter(curves.items()))
        row = result.table.loc["ATT_o"]
        codes = set(study.units.loc[study.units["group"] == side, "gemeente_code"])
        own = before.loc[before["gemeente_code"].isin(codes), study.outcome]
        who, baseline = TEXT(f"summary.{side}"), float(own.mean())
        estimate, low, high, p = row["estimate"], row["ci_low"], row["ci_high"], row["p"]
        procedure = getattr(result.inference, "procedure", None)
    spread = before.groupby("gemeente_code")[study.outcome].mean()
    return Finding(
        who=who,
        subject=outcome.subject,
        unit=outcome.unit,
        estimate=float(estimate),
        ci_low=float(low),
        ci_high=float(high),
        p=float(p),
        inference=inference_words(procedure),
        baseline=baseline,
        sd=float(spread.std()) if len(spread) > 1 else None,
        level_unit=outcome.level_unit,
    )


def rpe(
    study: VveStudy,
    curves: Mapping[str, ContDidResult],
    fit: RegressionResult,
    *,
    received: float,
    pretrend: str,
    focus: tuple[str, str] | None,
    simulated: bool,
) -> list[tuple[str, str]]:
    """The RPE questions answered for one outcome (:func:`evaluatie.reporting.
    rpe_sections`): the effect is the focus gemeente's own when the run is about one
    gemeente, else the dose-response per side; ``pretrend`` is the report's sentence on
    the dose event study's pre-trend test."""
    outcome = VVE_OUTCOMES[study.outcome]
    if focus is not None:
        effect = focus_gemeente(study, curves, *focus)
    else:  # the TWFE slope belongs to robustness below, not said twice
        effect = interpretation(study, curves, fit, received=received, with_twfe=False)
    limits = [TEXT("limit.hours"), TEXT("limit.npo"), TEXT("limit.dose"), TEXT("limit.phase")]
    if focus is not None:
        limits.append(TEXT("limit.one"))
    return rpe_sections(
        policy=TEXT("rpe.policy", outcome=outcome.subject),
        effect=effect,
        thanks_to=TEXT("thanks_to"),
        design=TEXT("rpe.design"),
        robustness=TEXT(
            "rpe.robustness",
            twfe=twfe_sentence(fit, received=received, unit_label=outcome.unit),
            pretrend=pretrend,
        ),
        limitations=limits,
        simulated=simulated,
    )


def interpretation(
    study: VveStudy,
    curves: Mapping[str, ContDidResult],
    fit: RegressionResult,
    *,
    received: float,
    with_twfe: bool = True,
) -> str:
    """The interpretation paragraph of one outcome: each side's dose-response, the sides
    not estimated, and (``with_twfe``) the TWFE slope in policy-dose units."""
    outcome = VVE_OUTCOMES[study.outcome]
    text = [
        dose_response_sentence(
            c,
            side=side,
            comparison_band=study.comparison_band,
            outcome_label=outcome.subject,
            unit_label=outcome.unit,
        )
        for side, c in curves.items()
    ]
    text.append(missing_sides_sentence(study, curves))
    if with_twfe:
        text.append(twfe_sentence(fit, received=received, unit_label=outcome.unit))
    return f"**{outcome.label}.** " + " ".join(t.strip() for t in text if t.strip())


SECTIONS = Catalogue(
    {
        "intro": {
            "nl": "Vanaf 2019 is het landelijke onderwijsachterstandenbudget (OAB), waaruit "
            "gemeenten VVE betalen, opnieuw verdeeld met de nieuwe "
            "onderwijsachterstandenindicator van het CBS, ingevoerd in stappen tot en met "
            "2022: de meeste gemeenten gingen erop vooruit, een kleiner aantal erop "
            "achteruit. Deze rapportage vraagt of de verandering in **VVE-financiering per "
            "doelgroepkind** de uitkomsten veranderde van de kinderen die zij bereikte. De "
            "verandering van elke gemeente is haar *dosis*; omdat VVE kinderen van 2,5 tot "
            "4 jaar bereikt, kan een verandering pas jaren later zichtbaar worden, bij de "
            "cohorten die na de verandering de VVE-leeftijd hadden.",
            "en": "From 2019 the national onderwijsachterstandenbudget (OAB), which pays for "
            "VVE, was shared out among gemeenten with the new CBS "
            "onderwijsachterstandenindicator, phased in until 2022: most gemeenten gained, "
            "fewer lost. This report asks whether the change in **VVE funding per target "
            "child** moved the outcomes of the children it reached. Each gemeente's change "
            "is its *dose*; because VVE reaches children aged 2.5-4, a change can only show "
            "in outcomes measured years later, on the cohorts that were of VVE age after it.",
        },
        "redistribution": {
            "nl": "## De herverdeling\n\nHet OAB-budget van elke gemeente in 2018 (oude "
            "verdeling) en 2022 (nieuwe verdeling volledig ingevoerd), en de "
            "**beleidsdosis**: de verandering in financiering per doelgroepkind (budget / "
            "doelgroepkinderen), in duizenden euro's per kind per jaar. Gemeenten waarvan "
            "de financiering per kind hoogstens de vergelijkingsband veranderde, vormen de "
            "vergelijkingsgroep.",
            "en": "## The redistribution\n\nEach gemeente's OAB budget in 2018 (old "
            "allocation) and 2022 (new allocation fully in force), and the **policy "
            "dose**: the change in funding per target child (budget / doelgroepkinderen), "
            "in EUR 1,000 per child per year. Gemeenten whose funding per child moved by "
            "at most the comparison band form the comparison group.",
        },
        "timing": {
            "nl": "## Wanneer kan een uitkomst de verandering laten zien?\n\nEen leerling "
            "in groep *k* in het schooljaar dat eindigt in *t* is geboren tussen oktober "
            "*t − k − 5* en september *t − k − 4*, en had dus de VVE-leeftijd (2,5 tot 4) in "
            "de kalenderjaren *t − k − 2* tot en met *t − k*. De tabel berekent per uitkomst "
            "vanaf welk gemeten jaar de cohorten deels, grotendeels en geheel na 2018 de "
            "VVE-leeftijd hadden, en wat het laatste jaar in de gegevens toelaat.",
            "en": "## When can an outcome reflect the change?\n\nA pupil in groep *k* in the "
            "school year ending in *t* was born between October *t − k − 5* and September "
            "*t − k − 4*, so was of VVE age (2.5 to 4) in the calendar years *t − k − 2* to "
            "*t − k*. The table computes, for each outcome, from which measured year the "
            "cohorts were partly, mostly and wholly of VVE age after 2018, and what the "
            "data's last year allows.",
        },
        "exposure": {
            "nl": "## Blootstelling van de gemeten cohorten\n\nDe financiering per "
            "doelgroepkind (euro per jaar) die elk gemeten cohort op VVE-leeftijd kreeg "
            "(gewogen over zijn VVE-jaren), voor de genoemde gemeenten, en het aandeel van "
            "de volledige beleidsdosis dat de cohorten van elk meetjaar kregen (uit de "
            "budgetgegevens: het toont de invoering in stappen).",
            "en": "## Exposure of the measured cohorts\n\nFunding per target child (EUR per "
            "year) that each measured cohort received at VVE age (weighted over its VVE "
            "years), for the named gemeenten, and the share of the full policy dose that "
            "the cohorts measured in each year received (read from the budget data: it "
            "shows the phase-in).",
        },
        "exposure.outcome": {
            "nl": "**{label}** (groep {groep}; referentiejaar {reference})",
            "en": "**{label}** (groep {groep}; reference year {reference})",
        },
        "twfe": {
            "nl": "## Vaste effecten met de dosis\n\n*y*(*s*,*t*) = α(*s*) + λ(*t*) + "
            "β·*E*(*g*(*s*),*t*) + ε(*s*,*t*), met *E* de financiering per doelgroepkind "
            "(× € 1.000) die het cohort gemeten op school *s* in jaar *t* op VVE-leeftijd "
            "kreeg; schooljaren gewogen naar hun leerlingen, standaardfouten geclusterd per "
            "gemeente (CRV1, G − 1 vrijheidsgraden). β is één helling per € 1.000 van de "
            "financiering van het gemeten cohort: zij veronderstelt een lineair effect dat "
            "overal gelijk is.",
            "en": "## Two-way fixed effects with the dose\n\n*y*(*s*,*t*) = α(*s*) + "
            "λ(*t*) + β·*E*(*g*(*s*),*t*) + ε(*s*,*t*), with *E* the funding per target "
            "child (EUR 1,000) the cohort measured at school *s* in year *t* received at "
            "VVE age; school-years weighted by their pupils, standard errors clustered by "
            "gemeente (CRV1, G − 1 df). β is a single slope per EUR 1,000 of the measured "
            "cohort's funding: it assumes the response is linear and the same everywhere.",
        },
        "inference": {
            "nl": "Dezelfde helling met drie soorten inferentie: de analytische "
            "clusterrobuuste standaardfout, de wild cluster bootstrap en het opnieuw "
            "toewijzen van de financieringspaden aan gemeenten (randomisatie-inferentie, "
            "die hierboven gebruikt is). Waar ze overeenstemmen, hangt de conclusie niet "
            "aan de keuze. Een kleinste aantoonbaar effect wordt niet gegeven: dat plaatst "
            "de opzet op gemeenten waarvan de financiering niet veranderde, en bij deze "
            "herverdeling veranderde die van elke gemeente.",
            "en": "The same slope with three kinds of inference: the analytic cluster-robust "
            "standard error, the wild cluster bootstrap, and re-assigning the gemeenten's "
            "funding paths among them (randomization inference, the one used above). Where "
            "they agree the conclusion does not hang on the choice. A minimum detectable "
            "effect is not given: it places the design on gemeenten whose funding did not "
            "change, and in this redistribution every gemeente's did.",
        },
        "event": {
            "nl": "## Event study in de dosis\n\n*y*(*s*,*t*) = α(*s*) + λ(*t*) + "
            "Σ β(*j*)·*D*(*g*(*s*))·1[*t* = *j*] + ε(*s*,*t*), opgeteld over de jaren "
            "*j* ≠ *r*: de verandering "
            "van de uitkomst ten opzichte van referentiejaar *r* (het laatste cohort dat "
            "geheel vóór de verandering gemeten is) per € 1.000 beleidsdosis. Vóór *r* zijn "
            "de coëfficiënten placebotoetsen op parallelle trends; daarna zouden ze moeten "
            "groeien met het aandeel van de dosis dat de gemeten cohorten kregen (groene "
            "lijn).",
            "en": "## Event study in the dose\n\n*y*(*s*,*t*) = α(*s*) + λ(*t*) + "
            "Σ β(*j*)·*D*(*g*(*s*))·1[*t* = *j*] + ε(*s*,*t*), summed over the years "
            "*j* ≠ *r*: the outcome's "
            "change from the reference year *r* (the last cohort measured wholly before "
            "the change) per EUR 1,000 of policy dose. Before *r* the coefficients are "
            "placebo tests of parallel trends; after it they should grow with the share "
            "of the dose the measured cohorts received (green line).",
        },
        "dose_response": {
            "nl": "## Dosis-respons: continue verschil-in-verschillen\n\nCallaway, "
            "Goodman-Bacon & Sant'Anna (2024): voor elke gemeente de verandering van haar "
            "uitkomst van het referentiejaar naar elk later jaar, geregresseerd op een "
            "B-spline van haar dosis, min de verandering in de vergelijkingsgroep; "
            "gemeenten gewogen naar hun leerlingen, standaardfouten uit de "
            "invloedsfuncties (gemeenten als clusters). Winst en verlies worden apart "
            "geschat, elk tegen de vergelijkingsgroep. ATT(*d*) is het gemiddelde effect "
            "van een dosis *d* op gemeenten met die dosis, gemiddeld over de jaren erna; "
            "het vraagt parallelle trends, en ATT(*d*) vergelijken tussen doses (de "
            "helling, ACRT) vraagt de sterkere aanname dat gemeenten met verschillende "
            "doses gelijk zouden reageren. Op gesimuleerde gegevens is de stippellijn de "
            "waarheid die de schatter zoekt. De donkere band is het 95%-interval per "
            "dosis; de lichtere is een band die voor de hele curve tegelijk geldt: lees de "
            "vorm van de curve tegen die band, niet tegen de intervallen per dosis.",
            "en": "## Dose-response: continuous difference-in-differences\n\nCallaway, "
            "Goodman-Bacon & Sant'Anna (2024): for each gemeente the change in its outcome "
            "from the reference year to each later year, regressed on a B-spline of its "
            "dose, minus the comparison group's change; gemeenten weighted by their pupils, "
            "standard errors from the influence functions (gemeenten as clusters). Gains "
            "and losses are estimated apart, each against the comparison group. ATT(*d*) "
            "is the average effect of a dose *d* on gemeenten with that dose, averaged "
            "over the post years; it needs parallel trends, and comparing ATT(*d*) across "
            "doses (its slope, ACRT) needs the stronger assumption that gemeenten with "
            "different doses would respond alike. On simulated data the dashed line is the "
            "truth the estimator targets. The darker shade is the 95% interval at each "
            "dose; the lighter one is a uniform band for the whole curve at once: read the "
            "curve's shape against the band, not against the pointwise intervals.",
        },
        "placebo": {
            "nl": "### Trends vooraf in de continue DiD\n\nDezelfde schatter op de jaren "
            "vóór het referentiejaar (placebojaren): de gemiddelde effecten daar zouden "
            "dicht bij nul moeten liggen.",
            "en": "### Pre-trends in the continuous DiD\n\nThe same estimator on the years "
            "before the reference year (placebo periods): average effects there should be "
            "near zero.",
        },
        "focus": {"nl": "## De gemeenten in beeld", "en": "## Focus gemeenten"},
        "interpretation": {"nl": "## Wat betekent dit?", "en": "## Interpretation"},
        "data_note": {"nl": "*Over de gegevens:* {note}", "en": "*Data note:* {note}"},
    }
)


def section(key: str, **values: object) -> None:
    """Show the report section ``key`` in the report's language."""
    show_markdown(SECTIONS(key, **values))
