"""The schooluitval report's sections, tables and sentences, in Dutch and English."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evaluatie.core.language import Catalogue, p_statement
from evaluatie.estimators.synthetic import SyntheticResult
from evaluatie.reporting.display import show_markdown
from evaluatie.reporting.interpret import signed
from evaluatie.reporting.summary import rpe_sections, summary_sentences
from evaluatie.studies.gemeente.design import Comparison, GemeenteCase
from evaluatie.studies.gemeente.text import agreement, summary_finding

SECTIONS = Catalogue(
    {
        "intro": {
            "nl": "De vraag van dit rapport: daalde het **voortijdig schoolverlaten** in "
            "RMC-regio **{region}** nadat de regio in {year_start}–{year_end} met een eigen "
            "aanpak begon, vergeleken met de andere RMC-regio's? Schooluitval wordt "
            "regionaal aangepakt: de contactgemeente coördineert melding, registratie en "
            "begeleiding voor alle gemeenten van de regio. Daarom is de regio de eenheid "
            "van de vergelijking, niet elke gemeente afzonderlijk.",
            "en": "This report's question: did **early school leaving** fall in RMC region "
            "**{region}** after the region started its own approach in {year_start}–"
            "{year_end}, compared with the other RMC regions? Early school leaving is tackled "
            "regionally: the contactgemeente coordinates reporting, registration and support "
            "for every gemeente of the region. So the region is the unit of comparison, not "
            "each gemeente on its own.",
        },
        "members": {
            "nl": "De regio bestaat uit {n} gemeenten: {names}. Het percentage van de regio "
            "is het aantal voortijdig schoolverlaters van al die gemeenten samen gedeeld door "
            "hun leerlingen, zoals DUO en CBS het voor RMC-regio's publiceren.",
            "en": "The region has {n} gemeenten: {names}. The region's rate is the early "
            "school leavers of all of them together over their pupils, as DUO and CBS "
            "publish it for RMC regions.",
        },
        "trend": {
            "nl": "## Het verloop\n\nHet percentage voortijdig schoolverlaters in {region} en "
            "in de rest van Nederland, per onderwijssoort. Uitval zit vooral in het mbo, "
            "het meest op niveau 1.",
            "en": "## The trend\n\nThe early school leaving rate in {region} and in the rest "
            "of the Netherlands, by school type. Dropout sits mostly in MBO, most at level 1.",
        },
        "effect": {
            "nl": "## Het effect op de regio\n\nSynthetisch verschil-in-verschillen weegt de "
            "{n} andere regio's en de jaren vóór de start zo dat de vergelijking hetzelfde "
            "verloop had als {region} (Arkhangelsky e.a. 2021); de onzekerheid komt uit "
            "{draws} placebo-toewijzingen aan andere regio's. Synthetische controle en een "
            "verschil-in-verschillen met placebo-interval staan ernaast.",
            "en": "## The effect on the region\n\nSynthetic difference-in-differences weights "
            "the {n} other regions and the years before the start so that the comparison "
            "moved as {region} did before (Arkhangelsky et al. 2021); the uncertainty comes "
            "from {draws} placebo assignments to other regions. Synthetic control and a DiD "
            "with a placebo interval stand beside it.",
        },
        "types": {
            "nl": "## Per onderwijssoort\n\nDezelfde vergelijking voor elke onderwijssoort "
            "apart: waar zit de verandering?",
            "en": "## By school type\n\nThe same comparison for each school type on its own: "
            "where does the change sit?",
        },
        "member": {
            "nl": "## {name} zelf\n\n{name} vergeleken met de {n} gemeenten buiten de regio "
            "die qua aantal leerlingen het dichtst bij {name} liggen (synthetisch "
            "verschil-in-verschillen). Eén gemeente schommelt meer dan een regio, dus "
            "verwacht een breder interval.",
            "en": "## {name} itself\n\n{name} against the {n} gemeenten outside the region "
            "closest to it in pupils (synthetic difference-in-differences). One gemeente "
            "varies more than a region, so expect a wider interval.",
        },
        "no_types": {
            "nl": "De gegevens bevatten geen tabel per onderwijssoort (layout "
            "`vsv-onderwijssoort`, zie FORMATS.md): de uitsplitsing ontbreekt.",
            "en": "The data hold no table by school type (layout `vsv-onderwijssoort`, see "
            "FORMATS.md): the breakdown is missing.",
        },
    }
)

TEXT = Catalogue(
    {
        "units.regions": {"nl": "regio's", "en": "regions"},
        "group.VO": {"nl": "vo", "en": "VO"},
        "group.MBO1": {"nl": "mbo niveau 1", "en": "MBO level 1"},
        "group.MBO2": {"nl": "mbo niveau 2", "en": "MBO level 2"},
        "group.MBO34": {"nl": "mbo niveau 3 en 4", "en": "MBO levels 3 and 4"},
        "group.MBO": {"nl": "mbo (alle niveaus)", "en": "MBO (all levels)"},
        "col.group": {"nl": "onderwijssoort", "en": "school type"},
        "col.truth": {"nl": "waar effect", "en": "true effect"},
        "col.level": {"nl": "niveau vóór de start (%)", "en": "level before the start (%)"},
        "gap": {
            "nl": "**Het verschil tussen {a} en {b}.** Vóór de start lag het "
            "uitvalpercentage in {a} gemiddeld {before} procentpunt {direction} dat in {b}. Het "
            "effect van de aanpak op dat verschil, geschat met dezelfde methode op het "
            "verschil zelf: {estimate} procentpunt (interval {low} tot {high}, {p}).",
            "en": "**The gap between {a} and {b}.** Before the start the dropout rate in {a} "
            "was on average {before} percentage points {direction} that in {b}. The approach's "
            "effect on that gap, estimated with the same method on the gap itself: "
            "{estimate} percentage points (interval {low} to {high}, {p}).",
        },
        "truth": {
            "nl": "**Controle op gesimuleerde gegevens.** Het ware effect op {what} is "
            "{truth} procentpunt; de schatting {estimate} (interval {low} tot {high}): het "
            "ware effect ligt {inside} het interval.",
            "en": "**Check on simulated data.** The true effect on {what} is {truth} "
            "percentage points; the estimate {estimate} (interval {low} to {high}): the "
            "truth lies {inside} the interval.",
        },
        "estimate": {
            "nl": "In {name}: {estimate} procentpunt (interval {low} tot {high}, {p}).",
            "en": "In {name}: {estimate} percentage points (interval {low} to {high}, {p}).",
        },
        "inside": {"nl": "binnen", "en": "inside"},
        "above": {"nl": "boven", "en": "above"},
        "below": {"nl": "onder", "en": "below"},
        "outside": {"nl": "buiten", "en": "outside"},
        "who": {"nl": "In regio {name}", "en": "In region {name}"},
        "rpe.policy": {
            "nl": "Een regionale aanpak van schooluitval in RMC-regio {name} vanaf schooljaar "
            "{start}; de vraag is of het percentage voortijdig schoolverlaters daarna anders "
            "verliep dan in de andere regio's.",
            "en": "A regional approach to early school leaving in RMC region {name} from "
            "school year {start}; the question is whether the early school leaving rate "
            "moved differently afterwards than in the other regions.",
        },
        "rpe.thanks": {"nl": "de regionale aanpak", "en": "the regional approach"},
        "rpe.design": {
            "nl": "{name} tegen de {n} andere RMC-regio's, gewogen zodat ze {name} vóór "
            "{year} volgen. Aanname: zonder de aanpak had {name} zich na {year} ontwikkeld "
            "als die gewogen vergelijking, en geen andere regio begon tegelijk iets "
            "vergelijkbaars.",
            "en": "{name} against the {n} other RMC regions, weighted to track {name} before "
            "{year}. Assumption: without the approach, {name} would have moved after {year} "
            "as that weighted comparison did, and no other region started something similar "
            "at the same time.",
        },
        "rpe.limit.one": {
            "nl": "Eén behandelde regio: de onzekerheid komt uit de vergelijking met {n} "
            "andere regio's; een p-waarde kleiner dan 1/{m} bestaat bij de synthetische "
            "controle niet.",
            "en": "One treated region: the uncertainty comes from the comparison with {n} "
            "other regions; synthetic control cannot give a p-value below 1/{m}.",
        },
        "rpe.limit.spill": {
            "nl": "Jongeren volgen mbo vaak buiten hun eigen regio; de cijfers tellen ze bij "
            "hun woongemeente, waar de aanpak hen bereikt.",
            "en": "Young people often attend MBO outside their own region; the figures count "
            "them in their gemeente of residence, where the approach reaches them.",
        },
    }
)


def section(key: str, **values: object) -> None:
    """Show the report section ``key`` in the report's language."""
    show_markdown(SECTIONS(key, **values))


def group_label(group: str) -> str:
    """A school type or group (:data:`~evaluatie.studies.schooluitval.design.GROUPS`) in
    the report's language."""
    return TEXT(f"group.{group}")


def truth_sentence(result: SyntheticResult, truth: float | None, what: str) -> str:
    """On simulated data: the known effect on ``what`` beside the estimate; else ""."""
    o = result.overall
    if truth is None or o is None:
        return ""
    inside = o.ci_low <= truth <= o.ci_high
    return TEXT(
        "truth", what=what, truth=signed(truth, 2), estimate=signed(o.estimate, 2),
        low=signed(o.ci_low, 2), high=signed(o.ci_high, 2),
        inside=TEXT("inside" if inside else "outside"),
    )  # fmt: skip


def estimate_sentence(result: SyntheticResult, name: str) -> str:
    """The estimate with its interval and p-value, in one sentence."""
    o = result.overall
    assert o is not None
    return TEXT(
        "estimate", name=name, estimate=signed(o.estimate, 2), low=signed(o.ci_low, 2),
        high=signed(o.ci_high, 2), p=p_statement(o.p),
    )  # fmt: skip


def type_table(results: Mapping[str, tuple[GemeenteCase, SyntheticResult]]) -> pd.DataFrame:
    """One row per school type: the region's level before the start, synthetic DiD's
    estimate, interval and p, and on simulated data the true effect."""
    rows = []
    for group, (case, result) in results.items():
        o = result.overall
        assert o is not None
        row = {
            TEXT("col.group"): group_label(group),
            TEXT("col.level"): float(case.focus_series().loc[case.pre_years].mean()),
            "estimate": o.estimate,
            "ci_low": o.ci_low,
            "ci_high": o.ci_high,
            "p": o.p,
        }
        if case.truth is not None:
            row[TEXT("col.truth")] = case.truth
        rows.append(row)
    return pd.DataFrame(rows).set_index(TEXT("col.group"))


def gap_sentence(gap: GemeenteCase, result: SyntheticResult, a: str, b: str) -> str:
    """The gap between groups ``a`` and ``b`` before the start and the effect on it."""
    o = result.overall
    assert o is not None
    before = float(gap.focus_series().loc[gap.pre_years].mean())
    text = TEXT(
        "gap", a=group_label(a), b=group_label(b), before=signed(abs(before), 2).lstrip("+"),
        direction=TEXT("above" if before >= 0 else "below"),
        estimate=signed(o.estimate, 2), low=signed(o.ci_low, 2), high=signed(o.ci_high, 2),
        p=p_statement(o.p),
    )  # fmt: skip
    truth = truth_sentence(result, gap.truth, f"{group_label(a)} − {group_label(b)}")
    return f"{text} {truth}".strip()


def summary(cmp: Comparison, case: GemeenteCase, name: str) -> list[str]:
    """The summary's sentences; on simulated data the check against the truth last."""
    sentences = summary_sentences(
        summary_finding(cmp, case, name, who=TEXT("who", name=name), inference="placebo_regions")
    )
    check = truth_sentence(cmp.sdid, case.truth, name)
    return [*sentences, check] if check else sentences


def rpe(
    cmp: Comparison, case: GemeenteCase, name: str, *, simulated: bool
) -> list[tuple[str, str]]:
    """The RPE questions, answered from the case and the three estimates."""
    finding = summary_finding(
        cmp, case, name, who=TEXT("who", name=name), inference="placebo_regions"
    )
    n = len(case.donors)
    return rpe_sections(
        policy=TEXT("rpe.policy", name=name, start=f"{case.first_year - 1}-{case.first_year}"),
        effect=" ".join(summary_sentences(finding)[:2]),
        thanks_to=TEXT("rpe.thanks"),
        design=TEXT("rpe.design", name=name, n=n, year=case.first_year),
        robustness=agreement(cmp, case),
        limitations=[TEXT("rpe.limit.one", n=n, m=n + 1), TEXT("rpe.limit.spill")],
        simulated=simulated,
    )
