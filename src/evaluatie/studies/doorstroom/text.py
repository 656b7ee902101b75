"""The doorstroom report's sections, tables and sentences, in Dutch and English."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from evaluatie.core.language import Catalogue, p_statement
from evaluatie.estimators.synthetic import SyntheticResult
from evaluatie.reporting.display import show_markdown
from evaluatie.reporting.interpret import signed
from evaluatie.studies.gemeente.design import GemeenteCase

SECTIONS = Catalogue(
    {
        "intro": {
            "nl": "Hoe slagen de leerlingen uit **{name}** voor hun eindexamen in het "
            "voortgezet onderwijs, per examenniveau en voor jongens en meisjes, vergeleken "
            "met de regio en heel Nederland? En hoe groot zijn de verschillen tussen die "
            "groepen: kleiner of groter geworden? Bron: DUO, *Examenkandidaten en "
            "geslaagden* {first}–{last}, per vestiging en opleiding; de gemeente is die van "
            "de school.",
            "en": "How do pupils in **{name}** pass their secondary school exams, per exam "
            "level and for boys and girls, compared with the region and the whole country? "
            "And how large are the gaps between those groups: narrower or wider? Source: "
            "DUO, *Examenkandidaten en geslaagden* {first}–{last}, per vestiging and "
            "programme; the gemeente is the school's.",
        },
        "covid": {
            "nl": "> In 2019-2020 was er geen centraal examen (corona): bijna iedereen slaagde. "
            "Ook 2020-2021 en 2021-2022 hadden extra herkansingen. Vergelijk daarom vooral de "
            "jaren daarna met elkaar.",
            "en": "> In 2019-2020 there were no central exams (COVID): nearly everyone passed. "
            "2020-2021 and 2021-2022 also had extra resits. Compare mainly the later years "
            "with each other.",
        },
        "levels": {
            "nl": "## Slagingspercentage per niveau\n\n{name} (blauw), de RMC-regio (oranje) en "
            "Nederland (grijs).",
            "en": "## Pass rate per level\n\n{name} (blue), the RMC region (orange) and the "
            "Netherlands (grey).",
        },
        "gaps": {
            "nl": "## Gelijke kansen: de verschillen tussen groepen\n\nHet verschil in "
            "slagingspercentage tussen twee groepen, per jaar, in {name} en in Nederland "
            "(in procentpunten; positief: de eerste groep slaagt vaker).",
            "en": "## Equal opportunities: the gaps between groups\n\nThe gap in pass rate "
            "between two groups, per year, in {name} and in the Netherlands (percentage "
            "points; positive: the first group passes more often).",
        },
        "compare": {
            "nl": "## Vergeleken met gemeenten die erop lijken\n\nVeranderde het "
            "slagingspercentage van {name} vanaf {year}, of het verschil tussen groepen, "
            "anders dan bij de {donors} gemeenten met het meest vergelijkbare aantal "
            "examenkandidaten? Synthetisch verschil-in-verschillen (Arkhangelsky e.a. 2021) "
            "per groep en op elk verschil zelf; de onzekerheid komt uit placebo-toewijzingen "
            "aan de vergelijkingsgemeenten. Op het echte examenbestand, met elke gemeente "
            "om de beurt als 'behandeld' zonder effect, vond deze toets bij 5% een effect in "
            "5 tot 8% van de gemeenten (het meest bij het verschil jongens − meisjes): lees "
            "een p-waarde net onder 0,05 met voorzichtigheid.",
            "en": "## Compared with gemeenten like it\n\nDid the pass rate of {name} from "
            "{year}, or the gap between groups, change differently than in the {donors} "
            "gemeenten with the most similar number of candidates? Synthetic "
            "difference-in-differences (Arkhangelsky et al. 2021) per group and on each gap "
            "itself; the uncertainty comes from placebo assignments to the comparison "
            "gemeenten. On the real exam file, with every gemeente in turn 'treated' without an "
            "effect, this test at 5% found an effect in 5 to 8% of gemeenten (most for the "
            "boys - girls gap): read a p-value just below 0.05 with care.",
        },
        "covid_pre": {
            "nl": "> **Let op:** de jaren vóór {year} zijn in dit bestand alleen coronajaren "
            "({years}); een vergelijking die daarop leunt, zegt weinig over gewone jaren.",
            "en": "> **Note:** the years before {year} in this file are COVID years only "
            "({years}); a comparison that rests on them says little about ordinary years.",
        },
        "policy": {
            "nl": "**Beleid vanaf {year}:** {policy}",
            "en": "**Policy from {year}:** {policy}",
        },
        "missing": {
            "nl": "## Wat dit bestand niet laat zien\n\nDe overgang van basisschool naar "
            "voortgezet onderwijs (waar staan leerlingen in leerjaar 3 tegenover hun "
            "schooladvies?) en van vmbo naar mbo volgen leerlingen over scholen heen; DUO "
            "publiceert die niet als open bestand per gemeente. Heeft de gemeente of het "
            "samenwerkingsverband de cijfers van po naar vo, dan vergelijkt het "
            "gemeenterapport ze (`data: povo`, sjabloon in `docs/templates/`). Voor vmbo naar "
            "mbo is er nog geen opzet.",
            "en": "## What this file does not show\n\nThe transitions from primary to "
            "secondary school (where do pupils stand in year 3 against their school advice?) "
            "and from VMBO to MBO follow pupils across schools; DUO does not publish them as "
            "an open file per gemeente. If the gemeente or the samenwerkingsverband has the "
            "primary-to-secondary figures, the gemeente report compares them (`data: povo`, "
            "template in `docs/templates/`). VMBO to MBO has no design yet.",
        },
    }
)

TEXT = Catalogue(
    {
        "who.gemeente": {"nl": "{name}", "en": "{name}"},
        "who.regio": {"nl": "RMC-regio", "en": "RMC region"},
        "who.nederland": {"nl": "Nederland", "en": "the Netherlands"},
        "group.None": {"nl": "alle leerlingen", "en": "all pupils"},
        "group.VMBO-B": {"nl": "vmbo basis", "en": "VMBO basic"},
        "group.VMBO-K": {"nl": "vmbo kader", "en": "VMBO kader"},
        "group.VMBO-GT": {"nl": "vmbo gemengd/theoretisch", "en": "VMBO mixed/theoretical"},
        "group.VMBO": {"nl": "vmbo", "en": "VMBO"},
        "group.HAVO": {"nl": "havo", "en": "HAVO"},
        "group.VWO": {"nl": "vwo", "en": "VWO"},
        "group.HAVO/VWO": {"nl": "havo/vwo", "en": "HAVO/VWO"},
        "group.MAN": {"nl": "jongens", "en": "boys"},
        "group.VROUW": {"nl": "meisjes", "en": "girls"},
        "col.group": {"nl": "groep of verschil", "en": "group or gap"},
        "col.before": {"nl": "vóór {year}", "en": "before {year}"},
        "gap": {"nl": "{a} − {b}", "en": "{a} − {b}"},
        "col.year": {"nl": "schooljaar", "en": "school year"},
        "col.where": {"nl": "{who}", "en": "{who}"},
        "summary.gap": {
            "nl": "In {name} lag het slagingspercentage van {a} in {last} {gap} procentpunt "
            "{direction} dan dat van {b} (Nederland: {national}).",
            "en": "In {name} the pass rate of {a} was {gap} percentage points {direction} "
            "than that of {b} in {last} (the Netherlands: {national}).",
        },
        "more": {"nl": "hoger", "en": "higher"},
        "less": {"nl": "lager", "en": "lower"},
        "illustration": {
            "nl": "Ter illustratie van de methode (geen beleid in de gegevens): ",
            "en": "As an illustration of the method (no policy in the data): ",
        },
        "summary.compare": {
            "nl": "Vergeleken met gemeenten die erop lijken veranderde het slagingspercentage "
            "van alle leerlingen vanaf {year} met {estimate} procentpunt (interval {low} tot "
            "{high}, {p}).",
            "en": "Compared with gemeenten like it, the pass rate of all pupils changed by "
            "{estimate} percentage points from {year} (interval {low} to {high}, {p}).",
        },
    }
)


def section(key: str, **values: object) -> None:
    """Show the report section ``key`` in the report's language."""
    show_markdown(SECTIONS(key, **values))


def group_label(group: str | None) -> str:
    return TEXT(f"group.{group}")


def gap_label(gap: Sequence[str]) -> str:
    return TEXT("gap", a=group_label(gap[0]), b=group_label(gap[1]))


def gap_table(levels: pd.DataFrame, gaps: Sequence[tuple[str, str]], name: str) -> pd.DataFrame:
    """Per school year: each gap in the gemeente and in the Netherlands."""
    wide = levels.pivot_table(index=["jaar", "wie"], columns="group", values="slaagpercentage")
    columns = {}
    for gap in gaps:
        difference = wide[gap[0]] - wide[gap[1]]
        for who, label in (("gemeente", name), ("nederland", TEXT("who.nederland"))):
            columns[f"{gap_label(gap)}: {label}"] = difference.xs(who, level="wie")
    table = pd.DataFrame(columns)
    table.index = [f"{y - 1}-{y}" for y in table.index]
    table.index.name = TEXT("col.year")
    return table


def comparison_table(results: Mapping[str, tuple[GemeenteCase, SyntheticResult]]) -> pd.DataFrame:
    """One row per group or gap: its mean before the start, the estimate, interval, p."""
    rows = []
    for label, (case, result) in results.items():
        o = result.overall
        assert o is not None
        rows.append(
            {
                TEXT("col.group"): label,
                TEXT("col.before", year=case.first_year): float(
                    case.focus_series().loc[case.pre_years].mean()
                ),
                "estimate": o.estimate,
                "ci_low": o.ci_low,
                "ci_high": o.ci_high,
                "p": o.p,
            }
        )
    return pd.DataFrame(rows).set_index(TEXT("col.group"))


def summary(
    levels: pd.DataFrame, gaps: Sequence[tuple[str, str]], overall: SyntheticResult, *,
    name: str, year: int, illustration: bool,
) -> list[str]:  # fmt: skip
    """The summary: each gap in the last year, here and nationally, then the comparison
    (said to be an illustration when no policy started in ``year``)."""
    wide = levels.pivot_table(index=["jaar", "wie"], columns="group", values="slaagpercentage")
    last = int(levels["jaar"].max())
    sentences = []
    for a, b in gaps:
        here = float(wide.loc[(last, "gemeente"), a] - wide.loc[(last, "gemeente"), b])
        national = float(wide.loc[(last, "nederland"), a] - wide.loc[(last, "nederland"), b])
        sentences.append(
            TEXT(
                "summary.gap",
                name=name,
                a=group_label(a),
                b=group_label(b),
                last=f"{last - 1}-{last}",
                gap=signed(abs(here), 1).lstrip("+"),
                direction=TEXT("more" if here >= 0 else "less"),
                national=signed(national, 1),
            )
        )
    o = overall.overall
    assert o is not None
    prefix = TEXT("illustration") if illustration else ""
    sentences.append(
        prefix
        + TEXT(
            "summary.compare",
            year=year,
            estimate=signed(o.estimate, 2),
            low=signed(o.ci_low, 2),
            high=signed(o.ci_high, 2),
            p=p_statement(o.p),
        )
    )
    return sentences


def covid_note(years: Sequence[int], *, year: int) -> str:
    """A warning when every year before ``year`` is a COVID exam year (2019-20 to
    2021-22: no central exams, then extra resits); else ""."""
    before = [y for y in years if y < year]
    if not before or max(before) > 2022:
        return ""
    return SECTIONS("covid_pre", year=year, years=", ".join(f"{y - 1}-{y}" for y in before))
