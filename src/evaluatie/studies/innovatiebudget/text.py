"""The innovatiebudget report's prose, in Dutch and English: one entry per section.

The notebook shows a section with :func:`section`; the sentences made from numbers
live beside the code that makes them (:mod:`evaluatie.reporting`), in the same two
languages.
"""

from __future__ import annotations

from evaluatie.core.language import Catalogue
from evaluatie.reporting.display import show_markdown

SECTIONS = Catalogue(
    {
        "intro": {
            "nl": "Scholen kregen in verschillende jaren een subsidie uit het "
            "onderwijs-innovatiebudget (gespreide invoering). Deze rapportage vergelijkt "
            "voor elke school de uitkomst vóór en na de eerste subsidie met de verandering "
            "op scholen zonder subsidie: een verschil-in-verschillenanalyse met vaste "
            "effecten voor school en jaar, en een event study rond het eerste "
            "subsidiejaar.",
            "en": "Schools received innovation-budget grants in different years (staggered "
            "adoption). This report compares each school's outcome before and after its "
            "first grant with the change at schools without a grant, using two-way fixed "
            "effects (school and year) and an event study around the first grant year.",
        },
        "data": {
            "nl": "## Gegevens\n\nEén rij per school (vestiging) en schooljaar; het jaar is "
            "het kalenderjaar waarin het schooljaar eindigt (2019-20 heet 2020). In 2020 "
            "is er geen eindtoets afgenomen (corona); voor die jaren ontbreken de "
            "eindtoetsscores.",
            "en": "## Data\n\nOne row per school (vestiging) and school year; the year is the "
            "calendar year in which the school year ends (2019-20 is 2020). No eindtoets "
            "was taken in 2020 (COVID); eindtoets scores are missing for that year.",
        },
        "trends": {
            "nl": "## Ontwikkeling per subsidiegolf\n\nGemiddelde uitkomst per jaar voor "
            "elke golf van subsidiescholen en voor scholen zonder subsidie. Vóór de "
            "subsidie zou elke golf gelijk op moeten lopen met de scholen zonder subsidie.",
            "en": "## Outcome trends by grant wave\n\nMean outcome per year for each wave of "
            "grant schools and for schools without a grant. Before its grant, each wave "
            "should move in parallel with the schools without one.",
        },
        "twfe": {
            "nl": "## Verschil-in-verschillen met vaste effecten\n\n"
            "*y*(*s*,*t*) = α(*s*) + λ(*t*) + β·*D*(*s*,*t*) + ε(*s*,*t*), met "
            "*D*(*s*,*t*) = 1 vanaf het eerste subsidiejaar van school *s*. De standaardfouten zijn geclusterd (CRV1, als in fixest) op het "
            "niveau uit de parameters. Bij gespreide invoering en effecten die in de tijd "
            "groeien is β een gewogen gemiddelde dat kan afwijken van het gemiddelde "
            "effect op de subsidiescholen; de robuuste schatters verderop vermijden dat.",
            "en": "## Two-way fixed effects\n\n"
            "*y*(*s*,*t*) = α(*s*) + λ(*t*) + β·*D*(*s*,*t*) + ε(*s*,*t*), with "
            "*D*(*s*,*t*) = 1 from school *s*'s first grant year on. Standard errors are clustered (CRV1, as fixest) at the level chosen in "
            "the parameters. With staggered grants and effects that grow over time, β is "
            "a weighted average that can differ from the average effect on the grant "
            "schools; the robust estimators further down avoid this.",
        },
        "inference": {
            "nl": "### Hangt de conclusie af van hoe de p-waarde is berekend?\n\n"
            "Dezelfde coëfficiënt met drie soorten inferentie: de analytische "
            "clusterrobuuste standaardfout, de wild cluster bootstrap en het opnieuw "
            "toewijzen van de subsidies aan scholen (randomisatie-inferentie). Met weinig "
            "behandelde clusters is de analytische p-waarde vaak veel te klein; de "
            'schatting hierboven gebruikt de inferentie die `inference="auto"` koos.',
            "en": "### Does the conclusion depend on how the p-value is computed?\n\n"
            "The same coefficient with three kinds of inference: the analytic "
            "cluster-robust standard error, the wild cluster bootstrap, and re-assigning "
            "the grants among the schools (randomization inference). With few treated "
            "clusters the analytic p-value can be far too small; the estimate above uses "
            'the one `inference="auto"` chose.',
        },
        "mde": {
            "nl": "### Wat had deze opzet kunnen vinden?\n\nHet kleinste aantoonbare effect "
            "(MDE): de subsidiekalender wordt aan willekeurige groepen scholen zonder "
            "subsidie gegeven, er wordt een effect bij opgeteld en de toets hierboven "
            "wordt op elke groep uitgevoerd; het MDE is het kleinste effect dat in 80% van "
            "de gevallen wordt gevonden (Burlig, Preonas & Woerman 2020). Ook voor minder "
            "en meer subsidiescholen.",
            "en": "### What could this design detect?\n\nThe minimum detectable effect: "
            "the grant calendar is given to random sets of schools without a grant, an "
            "effect is added, and the test above is run on each; the MDE is the smallest "
            "effect it finds in 80% of them (Burlig, Preonas & Woerman 2020). Also for "
            "fewer and more grant schools.",
        },
        "cost": {
            "nl": "### Wat leverde een euro op?\n\nHet effect en zijn interval gedeeld door "
            "de gemiddelde subsidie van de subsidiescholen (de bedragen zijn bekend, dus de "
            "betrouwbaarheid blijft gelijk). Dat leest als effect per €1.000 als het effect "
            "niet van het bedrag afhangt; of het dat doet, toetst deze opzet niet.",
            "en": "### What did a euro buy?\n\nThe effect and its interval divided by the "
            "grant schools' mean grant (the amounts are known, so the coverage stays the "
            "same). It reads as an effect per €1,000 if the effect does not depend on the "
            "amount; whether it does, this design does not test.",
        },
        "event_study": {
            "nl": "## Effect per jaar sinds de subsidie (event study)\n\nEffecten per jaar "
            "sinds de eerste subsidie, ten opzichte van het jaar ervoor (−1); de buitenste "
            "klassen bevatten alles buiten het venster. Effecten vóór de subsidie "
            "(negatieve jaren) dicht bij nul ondersteunen de aanname van parallelle "
            "trends.",
            "en": "## Event study\n\nEffects by years since the first grant, relative to "
            "the year before it (−1); the outermost bins collect everything beyond the "
            "window. Leads (negative years) near zero support the parallel-trends "
            "assumption.",
        },
        "interpretation": {
            "nl": "## Wat betekent dit?",
            "en": "## Interpretation",
        },
        "robust": {
            "nl": "## Schatters die robuust zijn voor verschillende effecten per golf\n\n"
            "Subsidies komen in golven en hun effect kan per golf verschillen en in de tijd "
            "groeien. De vaste-effectenschatter gebruikt dan ook al behandelde scholen als "
            "vergelijking, sommige met een negatief gewicht (Goodman-Bacon 2021). De "
            "schatters hieronder vermijden die vergelijkingen: Callaway & Sant'Anna (2021) "
            "met scholen zonder subsidie als vergelijking, de event study van Sun & "
            "Abraham (2021) en de imputatieschatter van Borusyak, Jaravel & Spiess (2024). "
            "Op gesimuleerde gegevens is de stippellijn het ware effect, ingedeeld zoals "
            "de schattingen (de laatste klasse middelt alle jaren vanaf die klasse).",
            "en": "## Heterogeneity-robust estimators\n\nGrants arrive in waves and their "
            "effect may differ by wave and grow over time. TWFE then also uses "
            "already-treated schools as controls, some with negative weight "
            "(Goodman-Bacon 2021). The estimators below avoid these comparisons: Callaway "
            "& Sant'Anna (2021) group-time ATTs with never-treated schools as controls, "
            "Sun & Abraham (2021) interaction-weighted event study, and the imputation "
            "estimator of Borusyak, Jaravel & Spiess (2024). On simulated data the dashed "
            "line is the true effect, binned exactly as the estimates are (the last bin "
            "averages every year at or beyond it).",
        },
        "overall": {
            "nl": "### Het effect over alle jaren\n\nDe ene coëfficiënt van de "
            "vaste-effectenschatter naast de gemiddelden van de robuuste schatters: het "
            "gemiddelde effect over alle behandelde schooljaren (Callaway–Sant'Anna, "
            "gewogen naar golfgrootte) en het gemiddelde over de jaren sinds de subsidie.",
            "en": "### Overall effect\n\nTWFE's single coefficient beside the overall "
            "averages of the robust estimators: the Callaway–Sant'Anna simple ATT (all "
            "treated school-years, weighted by wave size) and its event-time average.",
        },
        "pretrends": {
            "nl": "### Trends vóór de subsidie\n\nEen gezamenlijke toets of alle effecten "
            "vóór de subsidie nul zijn (parallelle trends vóór de subsidie), met dezelfde "
            "inferentie als de schattingen hierboven: waar subsidies aan weinig clusters "
            "zijn toegekend, verwerpt een χ²-Waldtoets veel te vaak en de "
            "randomisatietoets niet.",
            "en": "### Pre-trends\n\nA joint test that all pre-grant group-time ATTs are "
            "zero (parallel trends before the grant), with the same inference as the "
            "estimates above: where grants were assigned to few clusters a chi-square "
            "Wald test over-rejects by far, and the randomization test does not.",
        },
        "bacon": {
            "nl": "### Goodman-Bacon-decompositie\n\nDe coëfficiënt van de "
            "vaste-effectenschatter is een gewogen gemiddelde van alle 2×2-vergelijkingen "
            "tussen golven en met scholen zonder subsidie. Vergelijkingen met al behandelde "
            'scholen als controle ("later tegen eerder behandeld") zijn waar verschillende '
            "effecten de schatter vertekenen. De decompositie vraagt een gebalanceerd "
            "panel: scholen met een uitkomst in elk jaar.",
            "en": "### Goodman-Bacon decomposition\n\nThe TWFE coefficient is a weighted "
            "average of all 2×2 comparisons between waves and with never-treated schools. "
            'Comparisons that use already-treated schools as controls ("later vs earlier '
            'treated") are where heterogeneous effects bias TWFE. The decomposition needs '
            "a balanced panel: schools with an outcome in every year.",
        },
        "truth": {
            "nl": "*Gesimuleerde gegevens:* het ware gemiddelde effect over de behandelde "
            "schooljaren van deze run is {truth} {unit}.",
            "en": "*Simulated data:* the true average effect over this run's treated "
            "school-years is {truth} {unit}.",
        },
        "balanced": {
            "nl": "Gebalanceerd panel: {kept} scholen behouden, {dropped} weggelaten.",
            "en": "Balanced panel: {kept} schools kept, {dropped} dropped.",
        },
        "headline": {
            "nl": "Effect van de subsidie op {outcome}",
            "en": "Effect of the grant on the {outcome}",
        },
        "mde.impossible": {
            "nl": "Het kleinste aantoonbare effect kan voor dit panel niet gesimuleerd "
            "worden: {error}.",
            "en": "The minimum detectable effect cannot be simulated for this panel: {error}.",
        },
        "cs.simple": {
            "nl": "Callaway–Sant'Anna (alle behandelde schooljaren)",
            "en": "Callaway–Sant'Anna (simple)",
        },
        "cs.dynamic": {
            "nl": "Callaway–Sant'Anna (gemiddelde over jaren sinds subsidie)",
            "en": "Callaway–Sant'Anna (event-time average)",
        },
        "summary.who": {"nl": "Op de subsidiescholen", "en": "At the grant schools"},
        "rpe.policy": {
            "nl": "Het onderwijs-innovatiebudget geeft scholen subsidie om hun onderwijs te "
            "vernieuwen. Het doel dat deze rapportage toetst: betere leerresultaten, hier "
            "gemeten als {outcome}.",
            "en": "The onderwijs-innovatiebudget gives schools grants to renew their "
            "teaching. The goal this report tests: better learning outcomes, measured here "
            "as {outcome}.",
        },
        "rpe.design": {
            "nl": "Verschil-in-verschillen: de verandering op subsidiescholen van vóór naar "
            "na hun eerste subsidie, vergeleken met de verandering op scholen zonder "
            "subsidie in dezelfde jaren. Aanname: zonder subsidie hadden de subsidiescholen "
            "zich gemiddeld ontwikkeld als de andere scholen (parallelle trends), en zij "
            "liepen niet vooruit op de subsidie.",
            "en": "Difference-in-differences: the change at grant schools from before to "
            "after their first grant, compared with the change at schools without a grant "
            "in the same years. Assumption: without the grant, grant schools would on "
            "average have developed like the others (parallel trends), and did not "
            "anticipate the grant.",
        },
        "rpe.robustness": {
            "nl": "De p-waarde en het interval komen uit {inference}; de analytische "
            "standaardfout en de wild bootstrap staan ernaast. {agreement} {pretrend}",
            "en": "The p-value and interval come from {inference}; the analytic standard "
            "error and the wild bootstrap stand beside them. {agreement} {pretrend}",
        },
        "limit.selection": {
            "nl": "Scholen vroegen de subsidie zelf aan. Vaste verschillen tussen scholen "
            "vangt de opzet op, maar een school die al aan het verbeteren was en daarom "
            "aanvroeg, laat een effect zien dat er niet is.",
            "en": "Schools applied for the grant themselves. The design absorbs fixed "
            "differences between schools, but a school that was already improving and "
            "applied for that reason shows an effect that is not there.",
        },
        "limit.npo": {
            "nl": "Tegelijk kregen alle scholen geld uit het Nationaal Programma Onderwijs "
            "(2021–2023); gaven subsidiescholen dat anders uit, dan zit dat in het "
            "verschil.",
            "en": "At the same time all schools received Nationaal Programma Onderwijs funds "
            "(2021–2023); if grant schools spent them differently, that is in the "
            "difference.",
        },
        "limit.2020": {
            "nl": "In 2020 is geen eindtoets afgenomen (corona): dat jaar ontbreekt.",
            "en": "No eindtoets was taken in 2020 (COVID): that year is missing.",
        },
        "thanks_to": {"nl": "de subsidie", "en": "the grant"},
        "treated_term": {"nl": "subsidie (D)", "en": "grant (D)"},
        "treated_label": {"nl": "subsidiescholen", "en": "grant schools"},
        "event_label": {"nl": "Event study (vaste effecten)", "en": "TWFE event study"},
    }
)


def section(key: str, **values: object) -> None:
    """Show the report section ``key`` in the report's language."""
    show_markdown(SECTIONS(key, **values))
