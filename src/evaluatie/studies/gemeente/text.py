"""The gemeente report's sections, table and sentences, in Dutch and English."""

from __future__ import annotations

import math

import pandas as pd

from evaluatie.core.language import Catalogue, number
from evaluatie.reporting.display import show_markdown
from evaluatie.reporting.interpret import signed
from evaluatie.reporting.summary import Finding, inference_words, rpe_sections, summary_sentences
from evaluatie.studies.gemeente.design import Comparison, GemeenteCase

SECTIONS = Catalogue(
    {
        "intro": {
            "nl": "De vraag van dit rapport: veranderde **{outcome}** in **{name}** na {year}, "
            "vergeleken met gemeenten die op {name} lijken? Drie methoden geven elk een "
            "antwoord; ze verschillen in hoe ze de vergelijking samenstellen.",
            "en": "This report's question: did the **{outcome}** of **{name}** change after "
            "{year}, compared with gemeenten like {name}? Three methods each give an answer; "
            "they differ in how they build the comparison.",
        },
        "illustration": {
            "nl": "> **Illustratie van de methode, geen oordeel over beleid.** Dit zijn echte "
            "DUO-gegevens, maar {year} is hier alleen een gekozen startjaar: het rapport laat "
            "zien hoe de vergelijking werkt en hoe groot de onzekerheid is, niet wat een "
            "programma van {name} heeft gedaan. Bovendien vielen de examens van 2020 en 2021 "
            "anders uit door corona (in 2020 geen centraal examen).",
            "en": "> **An illustration of the method, not a verdict on a policy.** These are "
            "real DUO data, but {year} is only a chosen start year: the report shows how the "
            "comparison works and how large the uncertainty is, not what a programme of {name} "
            "did. The 2020 and 2021 exams were also unusual because of COVID (no central "
            "exams in 2020).",
        },
        "donors": {
            "nl": "## Gemeenten die op {name} lijken\n\nDe vergelijkingsgroep bestaat uit de "
            "{n} gemeenten die qua omvang ({size}) het dichtst bij {name} liggen{extra}. "
            "Gemeenten van vergelijkbare omvang zijn ook nodig voor eerlijke onzekerheid: "
            "kleine gemeenten schommelen meer van jaar tot jaar.",
            "en": "## Gemeenten like {name}\n\nThe comparison group holds the {n} gemeenten "
            "closest to {name} in size ({size}){extra}. Like-sized gemeenten are also needed "
            "for honest uncertainty: small gemeenten vary more from year to year.",
        },
        "donors.vve": {
            "nl": " onder de gemeenten waarvan het VVE-budget per doelgroepkind nauwelijks "
            "veranderde",
            "en": " among the gemeenten whose VVE funding per target child hardly changed",
        },
        "sc": {
            "nl": "## Synthetische controle\n\nEen gewogen combinatie van vergelijkingsgemeenten "
            "die {name} in de jaren vóór {year} zo goed mogelijk volgt (Abadie, Diamond & "
            "Hainmueller 2010). Het verschil daarna is de schatting. De p-waarde komt uit "
            "dezelfde berekening voor elke vergelijkingsgemeente alsof die het beleid had "
            "(kleinste mogelijke p-waarde: {resolution}).",
            "en": "## Synthetic control\n\nA weighted combination of comparison gemeenten that "
            "tracks {name} as closely as possible before {year} (Abadie, Diamond & Hainmueller "
            "2010). The gap afterwards is the estimate. The p-value repeats the calculation for "
            "every comparison gemeente as if it had the policy (smallest possible p-value: "
            "{resolution}).",
        },
        "sdid": {
            "nl": "## Synthetisch verschil-in-verschillen\n\nWeegt zowel de gemeenten als de "
            "jaren vóór de start, zodat de vergelijking dezelfde trend volgt; een vast "
            "niveauverschil mag blijven (Arkhangelsky e.a. 2021). De onzekerheid komt uit "
            "{draws} placebo-toewijzingen aan vergelijkingsgemeenten. Dit is de hoofduitkomst "
            "van het rapport.",
            "en": "## Synthetic difference-in-differences\n\nWeights both the gemeenten and the "
            "years before the start so that the comparison follows the same trend; a constant "
            "level difference may remain (Arkhangelsky et al. 2021). The uncertainty comes from "
            "{draws} placebo assignments to comparison gemeenten. This is the report's main "
            "result.",
        },
        "weights": {
            "nl": "Waaruit bestaat de synthetische vergelijking?",
            "en": "What is the synthetic comparison made of?",
        },
        "comparison": {
            "nl": "## De drie methoden naast elkaar",
            "en": "## The three methods side by side",
        },
    }
)

TEXT = Catalogue(
    {
        "method.sc": {"nl": "synthetische controle", "en": "synthetic control"},
        "method.sdid": {"nl": "synthetisch verschil-in-verschillen", "en": "synthetic DiD"},
        "method.did": {
            "nl": "verschil-in-verschillen (placebo-interval)",
            "en": "DiD (placebo interval)",
        },
        "col.inference": {"nl": "onzekerheid uit", "en": "uncertainty from"},
        "units.gemeenten": {"nl": "gemeenten", "en": "gemeenten"},
        "inf.sc": {
            "nl": "rangorde onder {n} placebo's",
            "en": "rank among {n} placebos",
        },
        "inf.sdid": {
            "nl": "placebo-standaardfout ({n} trekkingen)",
            "en": "placebo standard error ({n} draws)",
        },
        "inf.did": {
            "nl": "placebo-verdeling, naar omvang geschaald ({n} {units})",
            "en": "placebo distribution, rescaled by size ({n} {units})",
        },
        "agree": {
            "nl": "De drie schattingen liggen tussen {low} en {high} {unit}.",
            "en": "The three estimates lie between {low} and {high} {unit}.",
        },
        "sc.exact_fits": {
            "nl": "De synthetische controle geeft geen begrensd interval: bij {k} van de {n} "
            "vergelijkingsgemeenten volgen de andere gemeenten de jaren vóór de start precies, "
            "zodat hun placebo's niets zeggen. Dat komt door de korte voorperiode; "
            "synthetisch verschil-in-verschillen heeft dit probleem niet.",
            "en": "Synthetic control gives no bounded interval: for {k} of the {n} comparison "
            "gemeenten the other gemeenten reproduce the years before the start exactly, so "
            "their placebos say nothing. The short pre-period causes this; synthetic DiD does "
            "not have the problem.",
        },
        "sc.few_donors": {
            "nl": "De synthetische controle geeft geen begrensd interval: met {n} "
            "vergelijkingsgemeenten is de kleinste mogelijke p-waarde 1/{m}.",
            "en": "Synthetic control gives no bounded interval: with {n} comparison gemeenten "
            "the smallest possible p-value is 1/{m}.",
        },
        "sc.empty": {
            "nl": "Geen constant effect past bij de verschillen na de start van de synthetische "
            "controle: het effect verschilt van jaar tot jaar.",
            "en": "No constant effect fits synthetic control's gaps after the start: the effect "
            "differs from year to year.",
        },
        "truth": {
            "nl": "**Controle op gesimuleerde gegevens.** Het ware effect in {name} is "
            "{truth} {unit}; synthetisch verschil-in-verschillen schat {estimate} "
            "(interval {low} tot {high}): het ware effect ligt {inside} het interval.",
            "en": "**Check on simulated data.** The true effect in {name} is {truth} {unit}; "
            "synthetic DiD estimates {estimate} (interval {low} to {high}): the truth lies "
            "{inside} the interval.",
        },
        "inside": {"nl": "binnen", "en": "inside"},
        "outside": {"nl": "buiten", "en": "outside"},
        "who": {"nl": "In {name}", "en": "In {name}"},
        "rpe.policy.examens": {
            "nl": "Geen: dit rapport illustreert de methode op echte examencijfers met {year} "
            "als gekozen startjaar.",
            "en": "None: this report illustrates the method on real exam data with {year} as a "
            "chosen start year.",
        },
        "rpe.policy.vve": {
            "nl": "De herverdeling van het OAB-budget vanaf 2019 veranderde het VVE-budget per "
            "doelgroepkind van {name}; de vraag is of {outcome} daarna anders verliep.",
            "en": "The OAB redistribution from 2019 changed {name}'s VVE funding per target "
            "child; the question is whether the {outcome} moved differently afterwards.",
        },
        "rpe.policy.vsv": {
            "nl": "Een aanpak van schooluitval in {name} vanaf {year}; de "
            "vraag is of het percentage voortijdig schoolverlaters daarna anders verliep dan "
            "in vergelijkbare gemeenten.",
            "en": "An approach to early school leaving in {name} from {year} (a chosen start "
            "year); the question is whether the early school leaving rate moved differently "
            "afterwards than in similar gemeenten.",
        },
        "rpe.policy.povo": {
            "nl": "Een aanpak voor de overgang van basisschool naar voortgezet onderwijs in "
            "{name} vanaf de groep-8-leerlingen van {year}; de vraag is of het {outcome} daarna "
            "anders verliep dan in vergelijkbare gemeenten.",
            "en": "An approach to the transition from primary to secondary school in {name} "
            "from the groep-8 pupils of {year}; the question is whether the {outcome} moved "
            "differently afterwards than in similar gemeenten.",
        },
        "rpe.thanks.povo": {"nl": "de aanpak", "en": "the approach"},
        "rpe.thanks.examens": {"nl": "het gekozen startjaar", "en": "the chosen start year"},
        "rpe.thanks.vsv": {"nl": "de aanpak", "en": "the approach"},
        "rpe.thanks.vve": {"nl": "de budgetverandering", "en": "the change in funding"},
        "rpe.design": {
            "nl": "{name} tegen {n} gemeenten van vergelijkbare omvang, gewogen zodat ze "
            "{name} vóór {year} volgen. Aanname: zonder beleid had {name} zich na {year} "
            "ontwikkeld als die gewogen vergelijking.",
            "en": "{name} against {n} gemeenten of similar size, weighted to track {name} "
            "before {year}. Assumption: without the policy, {name} would have moved after "
            "{year} as that weighted comparison did.",
        },
        "rpe.limit.years": {
            "nl": "Slechts {pre} jaar vóór de start: een korte voorperiode maakt elke "
            "vergelijking onzekerder.",
            "en": "Only {pre} years before the start: a short pre-period makes every "
            "comparison less certain.",
        },
        "rpe.limit.one": {
            "nl": "Eén gemeente: toeval in één jaar weegt zwaar; de intervallen houden daar "
            "rekening mee.",
            "en": "One gemeente: chance in one year weighs heavily; the intervals allow for it.",
        },
    }
)


def section(key: str, **values: object) -> None:
    """Show the report section ``key`` in the report's language."""
    show_markdown(SECTIONS(key, **values))


def sc_section(cmp: Comparison, *, name: str, year: int) -> None:
    """The synthetic control section, with the rank test's resolution."""
    section("sc", name=name, year=year, resolution=number(cmp.sc.meta["p_resolution"], 3))


def comparison_table(cmp: Comparison, *, units: str | None = None) -> pd.DataFrame:
    """One row per method: estimate, interval, p and where the uncertainty comes from
    (``units``: what the comparison units are called, default gemeenten)."""
    units = units or TEXT("units.gemeenten")
    rows = []
    for key, result, draws in (
        ("sdid", cmp.sdid, cmp.sdid.meta["inference"].draws),
        ("sc", cmp.sc, cmp.sc.meta["n_donors"]),
        ("did", cmp.did, cmp.did.meta["n_comparison"]),
    ):
        o = result.overall
        assert o is not None
        rows.append(
            {
                "method": TEXT(f"method.{key}"),
                "estimate": o.estimate,
                "ci_low": o.ci_low,
                "ci_high": o.ci_high,
                "p": o.p,
                TEXT("col.inference"): TEXT(f"inf.{key}", n=draws, units=units),
            }
        )
    # the contract's column names: show_table writes them in the reader's language
    return pd.DataFrame(rows).set_index("method")


def agreement(cmp: Comparison, case: GemeenteCase) -> str:
    """How far the three estimates lie apart, and synthetic control's caveat if any."""
    estimates = [r.overall.estimate for r in (cmp.sdid, cmp.sc, cmp.did) if r.overall]
    text = TEXT(
        "agree",
        low=signed(min(estimates), 2),
        high=signed(max(estimates), 2),
        unit=case.outcome.unit,
    )
    meta = cmp.sc.meta
    reason = meta["interval"]  # synthetic_control says why its interval is what it is
    if reason != "bounded":
        k, n = meta["exact_pre_fits"], meta["n_donors"]
        text += " " + TEXT(f"sc.{reason}", k=k, n=n, m=n + 1)
    return text


def truth_sentence(cmp: Comparison, case: GemeenteCase, name: str) -> str:
    """On simulated data: the known effect beside synthetic DiD's estimate; else ""."""
    o = cmp.sdid.overall
    if case.truth is None or o is None:
        return ""
    inside = o.ci_low <= case.truth <= o.ci_high
    return TEXT(
        "truth", name=name, truth=signed(case.truth, 2), unit=case.outcome.unit,
        estimate=signed(o.estimate, 2), low=signed(o.ci_low, 2), high=signed(o.ci_high, 2),
        inside=TEXT("inside" if inside else "outside"),
    )  # fmt: skip


def summary_finding(
    cmp: Comparison, case: GemeenteCase, name: str, *, who: str | None = None,
    inference: str = "placebo",
) -> Finding:  # fmt: skip
    """Synthetic DiD's estimate with the focus unit's level and the donors' spread
    before the start, and its MDE; ``who`` opens the sentence (default "In {name}")."""
    o = cmp.sdid.overall
    assert o is not None
    pre = case.panel[case.panel["jaar"] < case.first_year]
    baseline = float(case.focus_series().loc[case.pre_years].mean())
    spread = float(pre.groupby("gemeente_code")["y"].mean().std(ddof=1))
    return Finding(
        who=who or TEXT("who", name=name),
        subject=case.outcome.subject,
        unit=case.outcome.unit,
        estimate=o.estimate,
        ci_low=o.ci_low,
        ci_high=o.ci_high,
        p=o.p,
        inference=inference_words(inference),
        baseline=baseline,
        sd=spread,
        mde=cmp.mde if math.isfinite(cmp.mde) else None,
        level_unit=case.outcome.level_unit,
    )


def summary(cmp: Comparison, case: GemeenteCase, name: str) -> list[str]:
    """The summary's sentences; on simulated data the check against the truth last."""
    sentences = summary_sentences(summary_finding(cmp, case, name))
    return [*sentences, truth_sentence(cmp, case, name)] if case.truth is not None else sentences


def rpe(
    cmp: Comparison, case: GemeenteCase, name: str, *, simulated: bool
) -> list[tuple[str, str]]:
    """The RPE questions, answered from the case and the three estimates."""
    effect = " ".join(summary_sentences(summary_finding(cmp, case, name))[:2])
    return rpe_sections(
        policy=TEXT(
            f"rpe.policy.{case.source}", name=name, year=case.first_year, outcome=case.outcome.label
        ),
        effect=effect,
        thanks_to=TEXT(f"rpe.thanks.{case.source}"),
        design=TEXT("rpe.design", name=name, n=len(case.donors), year=case.first_year),
        robustness=agreement(cmp, case),
        limitations=[
            TEXT("rpe.limit.years", pre=len(case.pre_years)),
            TEXT("rpe.limit.one"),
        ],
        simulated=simulated,
    )


def size_words(case: GemeenteCase) -> str:
    """The donors' size range, in the case's own size measure."""
    sizes = case.panel.groupby("gemeente_code")["size"].first()
    return f"{number(sizes.min(), 0)}–{number(sizes.max(), 0)}"
